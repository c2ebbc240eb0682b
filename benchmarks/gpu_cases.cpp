// GPU cases of shared/bench/SPEC.md, compared with
// shared/bench/torch_reference.py: the same shapes, the same warm-up and
// iteration counts (50 after 10; copy and gemm 20 after 5), CUDA-event timing
// on the current stream, median. Leaves keep accumulating into .grad across
// iterations, as in the reference. Forward-only cases run with grad mode on
// and inputs that require grad, like the reference, so they record the graph.
//
// Uses only loom's C++ API; the CUDA-specific timing lives in main.cpp, so
// this file compiles in builds with and without CUDA (it only runs when
// loom::cuda::is_available()).
#include <cmath>
#include <initializer_list>
#include <string>

#include "autograd/node.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

constexpr int kWarmup = 10;
constexpr int kIters = 50;

loom::Device gpu() { return loom::Device(loom::DeviceType::CUDA, loom::cuda::current_device()); }
loom::TensorOptions on_gpu(bool requires_grad = false) {
  return loom::TensorOptions(gpu()).with_requires_grad(requires_grad);
}

bool any_wanted(const Context& ctx, std::initializer_list<std::string> names) {
  for (const auto& n : names)
    if (ctx.want(n)) return true;
  return false;
}

// Times fn and reports it with the peak device memory of one more call.
// The composed forms (chains of generic ops) stay as a variant beside the
// fused kernels, which report impl "loom".
const char* const kComposed = "loom_composed";

void timed(const Context& ctx, const std::string& name, const std::function<void()>& fn, double flops, double bytes,
           int iters = kIters, int warmup = kWarmup, Row extra = Row(), const std::string& impl = "loom") {
  const double ms = time_gpu(fn, ctx.iters_or(iters), warmup);
  extra.fixed("peak_mib", gpu_peak_mib(fn), 1);
  ctx.report(name, ms, flops, bytes, extra, impl);
}

void ceilings(const Context& ctx) {
  ctx.run("ceiling/copy/1GiB", [&] {
    Tensor x = loom::randn({256LL * 1024 * 1024}, on_gpu());
    Tensor y = loom::empty_like(x);
    const double ms = time_gpu([&] { y.copy_(x); }, ctx.iters_or(20), 5);
    ctx.report("ceiling/copy/1GiB", ms, 0, 2.0 * x.nbytes());
  });
  loom::cuda::empty_cache();
  for (const char* prec : {"fp32", "tf32"}) {
    const std::string name = std::string("gemm/") + prec + "/M4096_N4096_K4096";
    ctx.run(name, [&] {
      loom::set_allow_tf32(std::string(prec) == "tf32");
      const int64_t n = 4096;
      Tensor a = loom::randn({n, n}, on_gpu()), b = loom::randn({n, n}, on_gpu());
      const double ms = time_gpu([&] { Tensor c = a.matmul(b); }, ctx.iters_or(20), 5);
      ctx.report(name, ms, 2.0 * n * n * n, 0);
    });
  }
  loom::set_allow_tf32(false);
}

void lstm(const Context& ctx) {
  const int64_t B = 128, T = 64, I = 256, H = 512;
  const std::string tag = "B128_T64_I256_H512";
  if (!any_wanted(ctx, {"lstm/fp32/fwd/" + tag, "lstm/fp32/fwdbwd/" + tag})) return;
  composed::LSTM m(I, H, gpu());
  Tensor x = loom::randn({B, T, I}, on_gpu(true));
  const double fl = 2.0 * B * T * (I + H) * 4 * H;
  ctx.run("lstm/fp32/fwd/" + tag, [&] {
    timed(
        ctx, "lstm/fp32/fwd/" + tag, [&] { Tensor y = m.forward(x); }, fl, 0, kIters, kWarmup, Row(), kComposed);
  });
  ctx.run("lstm/fp32/fwdbwd/" + tag, [&] {
    timed(
        ctx, "lstm/fp32/fwdbwd/" + tag, [&] { m.forward(x).sum().backward(); }, 3 * fl, 0, kIters, kWarmup, Row(),
        kComposed);
  });
}

void attention(const Context& ctx) {
  const int64_t B = 32, H = 8, L = 256, D = 64;
  const std::string tag = "B32_H8_L256_D64";
  if (!any_wanted(ctx,
                  {"attention/fp32/fwd/" + tag, "attention/fp32/fwdbwd/" + tag, "attention/fp32/fwd_padmask/" + tag}))
    return;
  Tensor q = loom::randn({B, H, L, D}, on_gpu(true)), k = loom::randn({B, H, L, D}, on_gpu(true)),
         v = loom::randn({B, H, L, D}, on_gpu(true));
  Tensor go = loom::randn({B, H, L, D}, on_gpu());
  const double fl = 4.0 * B * H * L * L * D;
  ctx.run("attention/fp32/fwd/" + tag, [&] {
    timed(
        ctx, "attention/fp32/fwd/" + tag, [&] { Tensor o = composed::attention(q, k, v); }, fl, 0, kIters, kWarmup,
        Row(), kComposed);
  });
  ctx.run("attention/fp32/fwdbwd/" + tag, [&] {
    timed(
        ctx, "attention/fp32/fwdbwd/" + tag, [&] { composed::attention(q, k, v).backward(go); }, 3.5 * fl, 0, kIters,
        kWarmup, Row(), kComposed);
  });
  ctx.run("attention/fp32/fwd_padmask/" + tag, [&] {
    // Key-padding mask [B, 1, 1, L]: the last quarter of every key sequence is padding.
    Tensor pad = loom::arange(L, loom::TensorOptions(loom::DType::Int64, gpu()))
                     .ge(3 * L / 4)
                     .view({1, 1, 1, L})
                     .expand({B, 1, 1, L})
                     .contiguous();
    timed(
        ctx, "attention/fp32/fwd_padmask/" + tag, [&] { Tensor o = composed::attention(q, k, v, pad); }, fl, 0, kIters,
        kWarmup, Row(), kComposed);
  });
}

void memory_bound(const Context& ctx) {
  const int64_t N = 8192, D = 1024;
  const std::string tag = "N8192_D1024";
  if (any_wanted(ctx, {"layernorm/fp32/fwd/" + tag, "layernorm/fp32/fwdbwd/" + tag})) {
    Tensor x = loom::randn({N, D}, on_gpu(true));
    Tensor w = loom::ones({D}, on_gpu(true)), b = loom::zeros({D}, on_gpu(true));
    Tensor g = loom::randn({N, D}, on_gpu());
    ctx.run("layernorm/fp32/fwd/" + tag, [&] {
      timed(
          ctx, "layernorm/fp32/fwd/" + tag, [&] { Tensor y = composed::layer_norm(x, w, b); }, 0, 2.0 * N * D * 4,
          kIters, kWarmup, Row(), kComposed);
    });
    ctx.run("layernorm/fp32/fwdbwd/" + tag, [&] {
      timed(
          ctx, "layernorm/fp32/fwdbwd/" + tag, [&] { composed::layer_norm(x, w, b).backward(g); }, 0, 5.0 * N * D * 4,
          kIters, kWarmup, Row(), kComposed);
    });
  }
  const std::string xent = "softmax_xent/fp32/fwdbwd/N8192_V4096";
  ctx.run(xent, [&] {
    const int64_t V = 4096;
    Tensor logits = loom::randn({N, V}, on_gpu(true));
    Tensor labels = loom::randint(0, V, {N}, loom::TensorOptions(loom::DType::Int64, gpu()));
    timed(
        ctx, xent, [&] { composed::cross_entropy(logits, labels).backward(); }, 0, 2.0 * N * V * 4, kIters, kWarmup,
        Row(), kComposed);
  });
}

void fusion(const Context& ctx) {
  const int64_t B = 8192, D = 512;
  if (!any_wanted(ctx, {"fusion/fp32/gated_fwd/B8192_D512", "fusion/fp32/gated_fwdbwd/B8192_D512",
                        "fusion/fp32/film_fwdbwd/B8192_D512"}))
    return;
  Tensor a = loom::randn({B, D}, on_gpu(true)), b = loom::randn({B, D}, on_gpu(true));
  const double fl = 2.0 * B * 2 * D * D;
  Tensor Wg = composed::uniform_param({D, 2 * D}, 2 * D, gpu()), cg = composed::uniform_param({D}, 2 * D, gpu());
  ctx.run("fusion/fp32/gated_fwd/B8192_D512", [&] {
    timed(
        ctx, "fusion/fp32/gated_fwd/B8192_D512", [&] { Tensor o = composed::gated(a, b, Wg, cg); }, fl, 0, kIters,
        kWarmup, Row(), kComposed);
  });
  ctx.run("fusion/fp32/gated_fwdbwd/B8192_D512", [&] {
    timed(
        ctx, "fusion/fp32/gated_fwdbwd/B8192_D512", [&] { composed::gated(a, b, Wg, cg).sum().backward(); }, 3 * fl, 0,
        kIters, kWarmup, Row(), kComposed);
  });
  Tensor Wf = composed::uniform_param({2 * D, D}, D, gpu()), cf = composed::uniform_param({2 * D}, D, gpu());
  ctx.run("fusion/fp32/film_fwdbwd/B8192_D512", [&] {
    timed(
        ctx, "fusion/fp32/film_fwdbwd/B8192_D512", [&] { composed::film(a, b, Wf, cf).sum().backward(); }, 3 * fl, 0,
        kIters, kWarmup, Row(), kComposed);
  });
}

// Not a SPEC case: 1000 one-element adds per iteration, timed with events, so
// ms is microseconds per op: the eager dispatch cost (PyTorch: ~9.4 µs).
void dispatch(const Context& ctx) {
  const std::string name = "dispatch/fp32/add_1elem_x1000";
  ctx.run(name, [&] {
    Tensor a = loom::ones({1}, on_gpu()), b = loom::ones({1}, on_gpu());
    const double ms = time_gpu(
        [&] {
          for (int i = 0; i < 1000; ++i) Tensor c = a.add(b);
        },
        ctx.iters_or(20), 5);
    ctx.report(name, ms, 0, 0, Row().num("us_per_op", ms));
  });
}

}  // namespace

void run_gpu_cases(const Context& ctx) {
  loom::manual_seed(0);
  loom::set_allow_tf32(false);
  ceilings(ctx);
  lstm(ctx);
  attention(ctx);
  memory_bound(ctx);
  fusion(ctx);
  run_e2e_cases(ctx, true);
  dispatch(ctx);
  loom::cuda::empty_cache();
}

}  // namespace bench
