// Every configuration of loom's CUDA convolution kernels against the CPU twin
// (each tile, the few-channel kernels, FP32 and TF32, split-K counts with
// atomics and deterministic, the 1x1 gemm), on shapes that end inside tiles; and the "auto"
// backend: the autotuner's choice (forced with a fake timer), its cache key
// and deterministic mode. On the emulator in CI, on a GPU where there is one.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <map>

#include "autograd/ops/conv.h"
#include "core/autotune.h"
#include "core/cuda.h"
#include "core/random.h"
#include "kernels/conv.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

#ifdef LOOM_WITH_CUDA
namespace {

namespace kc = kernels::cuda;
using kc::ConvConfig;
using kc::ConvPass;
using kernels::ConvParams;

const Device kGPU("cuda:0");

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.cpu().eq(b.cpu()).sum().item<double>() == double(a.numel());
}

// Index of a conv2d problem key's pass in {fwd, bwd_data, bwd_weight}.
size_t pass_index(const std::string& problem) {
  return problem.rfind("fwd", 0) == 0 ? 0 : problem.rfind("bwd_data", 0) == 0 ? 1 : 2;
}

// The autotuner picks, for each pass, the candidate named in `prefer` (a fake
// timer: the preferred one takes 1 ms, every other 2 ms).
struct PreferTimer : autotune::Timer {
  std::vector<std::string> prefer;
  std::map<std::string, int> timed;
  double time_ms(const std::string& problem, const autotune::Candidate& c) override {
    ++timed[c.name];
    c.run();
    return !prefer.empty() && prefer[pass_index(problem)] == c.name ? 1.0 : 2.0;
  }
};

struct TimerScope {
  explicit TimerScope(std::shared_ptr<autotune::Timer> t) {
    conv_cache_clear();
    autotune::set_timer_override(std::move(t));
  }
  ~TimerScope() {
    autotune::set_timer_override(nullptr);
    conv_cache_clear();
  }
};

struct Problem {
  Shape x, w;
  int64_t stride, pad, groups;
  ConvParams params() const {
    ConvParams p{};
    p.N = x[0], p.C = x[1], p.H = x[2], p.W = x[3], p.K = w[0], p.R = w[2], p.S = w[3];
    p.stride_h = p.stride_w = stride, p.pad_h = p.pad_w = pad, p.dil_h = p.dil_w = 1, p.groups = groups;
    p.OH = kernels::conv_out_size(p.H, p.R, stride, pad, 1);
    p.OW = kernels::conv_out_size(p.W, p.S, stride, pad, 1);
    return p;
  }
};

// conv2d forward + backward on the GPU (whatever the autotuner picks) against the CPU.
void check_against_cpu(const Problem& pr, double tol) {
  Tensor x = randn(pr.x).requires_grad_(true), w = (randn(pr.w) * 0.3).detach().requires_grad_(true);
  Tensor b = randn({pr.w[0]}).requires_grad_(true);
  Tensor xg = x.detach().to(kGPU).requires_grad_(true), wg = w.detach().to(kGPU).requires_grad_(true);
  Tensor bg = b.detach().to(kGPU).requires_grad_(true);
  Tensor yc = conv2d(x, w, b, {pr.stride}, {pr.pad}, {1}, pr.groups);
  Tensor yg = conv2d(xg, wg, bg, {pr.stride}, {pr.pad}, {1}, pr.groups);
  test::check_close(yg.cpu(), yc, tol, tol);
  Tensor seed = randn(yc.sizes());
  yc.backward(seed);
  yg.backward(seed.to(kGPU));
  test::check_close(xg.grad().cpu(), x.grad(), tol, tol);
  test::check_close(wg.grad().cpu(), w.grad(), tol * 4, tol);
  test::check_close(bg.grad().cpu(), b.grad(), tol * 4, tol);
}

// Fails the test if the autotuner times anything.
struct NoTuning : autotune::Timer {
  double time_ms(const std::string& problem, const autotune::Candidate&) override {
    FAIL("the autotuner timed " << problem << " although its choice was pinned");
    return 0;
  }
};

// Runs every configuration of every pass once (config i of each pass, the
// last one where a pass has fewer), pinned in the autotuner's cache.
void sweep_configs(const Problem& pr, bool tf32, double tol) {
  set_allow_tf32(tf32);
  const ConvParams p = pr.params();
  const char* names[] = {"fwd", "bwd_data", "bwd_weight"};
  std::vector<std::vector<ConvConfig>> per_pass;
  size_t most = 0;
  for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeight}) {
    per_pass.push_back(kc::conv2d_configs(pass, DType::Float32, p, tf32));
    REQUIRE_FALSE(per_pass.back().empty());
    most = std::max(most, per_pass.back().size());
  }
  TimerScope scope(std::make_shared<NoTuning>());
  for (size_t i = 0; i < most; ++i) {
    conv_cache_clear();
    std::string chosen[3];
    for (int k = 0; k < 3; ++k) {
      chosen[k] = per_pass[k][std::min(i, per_pass[k].size() - 1)].name();
      autotune::put({"conv2d", conv_tuning_key(names[k], DType::Float32, p, tf32, false, 0), chosen[k], {}, 0.0});
    }
    INFO("x " << pr.x[0] << "x" << pr.x[1] << "x" << pr.x[2] << "x" << pr.x[3] << " K " << pr.w[0] << " R " << pr.w[2]
              << " stride " << pr.stride << " groups " << pr.groups << " tf32 " << tf32 << " configs " << chosen[0]
              << ", " << chosen[1] << ", " << chosen[2]);
    check_against_cpu(pr, tol);
    REQUIRE(autotune::entries("conv2d").size() == 3);  // nothing else was tuned
  }
  set_allow_tf32(false);
}

const Problem kProblems[] = {
    {{2, 5, 9, 7}, {70, 5, 3, 3}, 1, 1, 1},     // M = 126, N = 70: rows and columns end inside 128-tiles
    {{3, 3, 11, 13}, {9, 3, 3, 3}, 2, 1, 1},    // few channels (C = 3), stride 2
    {{2, 8, 8, 9}, {12, 4, 1, 1}, 1, 0, 2},     // 1x1, two groups
    {{1, 6, 40, 35}, {16, 6, 3, 3}, 1, 1, 1},   // M = 1400: the 256x64 tile
    {{2, 67, 5, 6}, {130, 67, 3, 3}, 1, 1, 1},  // N = 130 > 128, C*R*S = 603 (many k-tiles, ragged)
    {{1, 6, 5, 7}, {4, 6, 1, 1}, 1, 0, 1},      // 1x1 on one image: gemm without per-image partials
    {{2, 4, 48, 50}, {37, 4, 3, 3}, 1, 1, 1},   // few-channel weight gradient: 2 slices, 3 tap chunks, 2 channel blocks
    {{2, 6, 9, 8}, {12, 1, 3, 3}, 2, 1, 6},     // depthwise, channel multiplier 2, stride 2
};

}  // namespace

TEST_CASE("conv2d CUDA: every kernel configuration matches the CPU (FP32)", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(3);
  for (const auto& pr : kProblems) sweep_configs(pr, false, 2e-4);
}

TEST_CASE("conv2d CUDA: every kernel configuration matches the CPU (TF32)", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(4);
  // Every tile once (the TF32 kernels differ from FP32 only in the inner product and epilogue).
  sweep_configs(kProblems[0], true, 3e-2);
  sweep_configs(kProblems[3], true, 3e-2);
}

TEST_CASE("conv2d CUDA: weight gradient for each split count, atomic and deterministic", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(5);
  const Problem pr{{3, 7, 21, 19}, {10, 7, 3, 3}, 1, 1, 1};  // k = N*OH*OW = 1197: ragged splits
  const ConvParams p = pr.params();
  Tensor x = randn(pr.x), go = randn({p.N, p.K, p.OH, p.OW});
  Tensor gw_ref = empty(pr.w), gb_ref = empty({p.K});
  kernels::cpu::conv2d_backward_weight(DType::Float32, gw_ref.data_ptr(), gb_ref.data_ptr(), go.data_ptr(),
                                       x.data_ptr(), p);
  Tensor xg = x.to(kGPU), gog = go.to(kGPU);
  const auto stream = static_cast<cudaStream_t>(cuda::current_stream(0));
  for (int splits : {1, 2, 3, 7, 18, 150}) {
    for (bool det : {false, true}) {
      INFO("splits " << splits << " deterministic " << det);
      const ConvConfig cfg{ConvConfig::Kind::Igemm, 64, 64, splits};
      const size_t bytes = kc::conv2d_workspace_bytes(ConvPass::BackwardWeight, DType::Float32, p, cfg, det, true);
      const size_t bias_bytes = kc::conv2d_workspace_bytes(ConvPass::BackwardWeight, DType::Float32, p,
                                                           ConvConfig{ConvConfig::Kind::Igemm, 64, 64, 1}, false, true);
      if (!det || splits == 1) CHECK(bytes == bias_bytes);
      else CHECK(bytes >= size_t(2 * p.K * p.crs() * 4) + bias_bytes);  // one partial gradient per split
      Tensor ws = empty({int64_t(bytes / 4) + 1}, TensorOptions(kGPU));
      Tensor gw = full(pr.w, 7.0, TensorOptions(kGPU)), gb = full({p.K}, 7.0, TensorOptions(kGPU));
      kc::conv2d_backward_weight(DType::Float32, gw.data_ptr(), gb.data_ptr(), gog.data_ptr(), xg.data_ptr(), p, false,
                                 cfg, det, ws.data_ptr(), stream);
      test::check_close(gw.cpu(), gw_ref, 1e-3, 1e-4);
      test::check_close(gb.cpu(), gb_ref, 1e-3, 1e-4);
      if (det) {
        Tensor again = empty(pr.w, TensorOptions(kGPU));
        kc::conv2d_backward_weight(DType::Float32, again.data_ptr(), nullptr, gog.data_ptr(), xg.data_ptr(), p, false,
                                   cfg, det, ws.data_ptr(), stream);
        CHECK(bit_equal(again, gw));  // bit-equal
      }
    }
  }
  // A configuration that does not fit, and deterministic split-K without a workspace.
  CHECK_THROWS_WITH(
      kc::conv2d_backward_weight(DType::Float32, gb_ref.data_ptr(), nullptr, gog.data_ptr(), xg.data_ptr(), p, false,
                                 ConvConfig{ConvConfig::Kind::Igemm, 32, 32, 1}, false, nullptr, stream),
      ContainsSubstring("igemm32x32"));
  CHECK_THROWS_WITH(
      kc::conv2d_backward_weight(DType::Float32, gb_ref.data_ptr(), nullptr, gog.data_ptr(), xg.data_ptr(), p, false,
                                 ConvConfig{ConvConfig::Kind::Igemm, 64, 64, 4}, true, nullptr, stream),
      ContainsSubstring("workspace"));
}

TEST_CASE("conv2d CUDA auto backend: tunes once per problem, keys on flags, deterministic mode", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(6);
  conv_cache_clear();
  auto timer = std::make_shared<PreferTimer>();
  TimerScope scope(timer);
  const Problem pr{{2, 6, 10, 10}, {8, 6, 3, 3}, 1, 1, 1};
  check_against_cpu(pr, 2e-4);
  auto entries = autotune::entries("conv2d");
  REQUIRE(entries.size() == 3);  // fwd, bwd_data, bwd_weight
  int timed = 0;
  for (const auto& kv : timer->timed) timed += kv.second;
  check_against_cpu(pr, 2e-4);  // cached: nothing timed again
  int timed_again = 0;
  for (const auto& kv : timer->timed) timed_again += kv.second;
  CHECK(timed_again == timed);
  CHECK_THAT(entries[0].problem, ContainsSubstring("N2 C6 H10 W10 K8 R3 S3"));
  for (const char* pass : {"fwd", "bwd_data", "bwd_weight"})
    CHECK(autotune::lookup("conv2d", conv_tuning_key(pass, DType::Float32, pr.params(), false, false, 0)));
  CHECK_THROWS_WITH(conv_tuning_key("forward", DType::Float32, pr.params(), false, false, 0),
                    ContainsSubstring("expected pass"));
  CHECK_THAT(entries[0].problem, ContainsSubstring(cuda::device_name(0)));

  // Deterministic mode is another problem; its weight gradients are bit-equal run to run.
  use_deterministic_algorithms(true);
  Tensor x = randn({4, 6, 30, 30}, TensorOptions(kGPU)), w = randn({8, 6, 3, 3}, TensorOptions(kGPU));
  w.requires_grad_(true);
  Tensor seed = randn({4, 8, 30, 30}, TensorOptions(kGPU));
  conv2d(x, w, Tensor(), {1}, {1}).backward(seed);
  Tensor first = w.grad().clone();
  w.grad().zero_();
  conv2d(x, w, Tensor(), {1}, {1}).backward(seed);
  CHECK(bit_equal(first, w.grad()));
  bool det_key = false;
  for (const auto& e : autotune::entries("conv2d")) det_key |= e.problem.find("deterministic") != std::string::npos;
  CHECK(det_key);
  use_deterministic_algorithms(false);

  // Hand ignores the cache; a saved cache reloads the choices.
  const std::string path = "/tmp/loom_conv_cache_test.json";
  autotune::save(path, "conv2d");
  const size_t n = autotune::entries("conv2d").size();
  conv_cache_clear();
  CHECK(autotune::entries("conv2d").empty());
  CHECK(autotune::load(path) == n);
  std::remove(path.c_str());
}

#endif  // LOOM_WITH_CUDA
