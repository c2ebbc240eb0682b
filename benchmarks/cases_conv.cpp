// conv2d cases of shared/bench/SPEC.md:
//   GPU conv2d/{fp32,tf32}/{fwd,fwdbwd}/N.._C.._K.._H.._W.._k3 on three shapes (3x3, stride 1, padding 1), and
//       convsweep/{fp32,tf32}/{fwd,fwdbwd}/N{N}_C{C}_K{K}_H{H}_k{k}_s{s}_p{p}_g{g} on eleven more
//       (square input, bias), each reported three times: impl "loom" (the default "auto" backend: the
//       autotuner's choice among loom's kernel configurations and cuDNN, tuned in the warm-up; its
//       tuning seconds in tune_s and the choices per pass in choice), "loom_hand" (loom's kernels, the
//       heuristic's configuration) and "loom_cudnn" (cuDNN with its heuristics);
//   CPU cpu/conv2d/fp32/{fwd,fwdbwd}/N8_C64_K64_H56_W56_k3, and 3-D:
//       cpu/conv3d/fp32/{fwd,fwdbwd}/N4_C64_K64_D8_H28_W28_k3 (a deep layer of a video block) and
//       .../N4_C3_K32_D16_H64_W64_k3 (a first layer).
// fwd runs with grad mode on and inputs that require grad (the graph is
// recorded), as the PyTorch reference does; fwdbwd = forward, then backward
// of a fixed output gradient into input, weight and bias.
// FLOPs: fwd 2*N*K*OH*OW*(C/g)*k*k, fwdbwd 3x.
#include <cmath>
#include <functional>
#include <string>

#include "autograd/ops/conv.h"
#include "bench.h"
#include "core/autotune.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

// One convolution problem: input [N, C, H, W], weight [K, C/g, k, k].
struct ConvShape {
  int64_t N, C, K, H, W, k, stride, pad, groups;
  int64_t out_h() const { return (H + 2 * pad - k) / stride + 1; }
  int64_t out_w() const { return (W + 2 * pad - k) / stride + 1; }
  double flops() const { return 2.0 * N * K * out_h() * out_w() * (C / groups) * k * k; }
  std::string conv2d_tag() const {
    return "N" + std::to_string(N) + "_C" + std::to_string(C) + "_K" + std::to_string(K) + "_H" + std::to_string(H) +
           "_W" + std::to_string(W) + "_k" + std::to_string(k);
  }
  std::string sweep_tag() const {
    return "N" + std::to_string(N) + "_C" + std::to_string(C) + "_K" + std::to_string(K) + "_H" + std::to_string(H) +
           "_k" + std::to_string(k) + "_s" + std::to_string(stride) + "_p" + std::to_string(pad) + "_g" +
           std::to_string(groups);
  }
};

// Inputs of one case on `device`, all leaves requiring grad.
struct ConvCase {
  ConvShape s;
  Tensor x, w, b, go;
  ConvCase(const ConvShape& shape, loom::Device device) : s(shape) {
    const auto opts = loom::TensorOptions(device).with_requires_grad(true);
    x = loom::randn({s.N, s.C, s.H, s.W}, opts);
    w = (loom::randn({s.K, s.C / s.groups, s.k, s.k}, loom::TensorOptions(device)) *
         (1.0 / std::sqrt(double(s.k * s.k * s.C / s.groups))))
            .detach()
            .requires_grad_(true);
    b = loom::zeros({s.K}, opts);
    go = loom::randn({s.N, s.K, s.out_h(), s.out_w()}, loom::TensorOptions(device));
  }
  Tensor forward() const { return loom::conv2d(x, w, b, {s.stride}, {s.pad}, {1}, s.groups); }
  void fwdbwd() const { forward().backward(go); }
};

// The autotuner's choices for a shape, "fwd=...;bwd_data=...;bwd_weight=..." (loom's entries).
std::string choices_of(const ConvShape& s) {
  const std::string dims = " N" + std::to_string(s.N) + " C" + std::to_string(s.C) + " H" + std::to_string(s.H) + " W" +
                           std::to_string(s.W) + " K" + std::to_string(s.K) + " R" + std::to_string(s.k) + " S" +
                           std::to_string(s.k) + " stride" + std::to_string(s.stride) + "," + std::to_string(s.stride) +
                           " pad" + std::to_string(s.pad) + "," + std::to_string(s.pad);
  std::string out;
  for (const auto& e : loom::autotune::entries("conv2d")) {
    if (e.problem.find(dims) == std::string::npos) continue;
    const bool tf32 = e.problem.find(" tf32") != std::string::npos;
    if (tf32 != loom::allow_tf32()) continue;
    out += (out.empty() ? "" : ";") + e.problem.substr(0, e.problem.find(' ')) + "=" + e.choice;
  }
  return out;
}

void run_case(const Context& ctx, const std::string& name, const ConvShape& s, bool tf32, bool fwd_only,
              const loom::Device& dev) {
  const std::pair<const char*, loom::ConvBackend> impls[] = {{"loom", loom::ConvBackend::Auto},
                                                             {"loom_hand", loom::ConvBackend::Hand},
                                                             {"loom_cudnn", loom::ConvBackend::Cudnn}};
  for (const auto& ib : impls) {
    const char* impl = ib.first;
    const loom::ConvBackend backend = ib.second;
    if (backend == loom::ConvBackend::Cudnn && !loom::cudnn_available()) {
      ctx.skip(name, "loom_cudnn: loom was built without cuDNN");
      continue;
    }
    ctx.run(name, [&] {
      loom::set_allow_tf32(tf32);
      loom::set_conv_backend(backend);
      ConvCase c(s, dev);
      std::function<void()> fn;
      if (fwd_only) fn = [&] { Tensor y = c.forward(); };
      else fn = [&] { c.fwdbwd(); };
      const double tuned_before = loom::autotune::tuning_seconds();
      const double ms = time_gpu(fn, ctx.iters_or(50), 10);
      Row extra;
      extra.fixed("peak_mib", gpu_peak_mib(fn), 1);
      if (backend == loom::ConvBackend::Auto)
        extra.fixed("tune_s", loom::autotune::tuning_seconds() - tuned_before, 3).str("choice", choices_of(s));
      ctx.report(name, ms, s.flops() * (fwd_only ? 1.0 : 3.0), 0, extra, impl);
    });
    loom::set_conv_backend(loom::ConvBackend::Auto);
    loom::set_allow_tf32(false);
  }
  loom::cuda::empty_cache();
}

// SPEC.md's CONV_SWEEP: (N, C, K, H, k, stride, padding, groups).
constexpr int64_t kSweep[][8] = {
    {256, 32, 64, 32, 3, 1, 1, 1},    {256, 64, 128, 16, 3, 1, 1, 1}, {64, 128, 128, 28, 3, 1, 1, 1},
    {64, 256, 256, 14, 3, 1, 1, 1},   {32, 128, 256, 28, 3, 2, 1, 1}, {64, 256, 64, 56, 1, 1, 0, 1},
    {64, 512, 128, 28, 1, 1, 0, 1},   {32, 32, 64, 32, 5, 1, 2, 1},   {32, 3, 64, 224, 7, 2, 3, 1},
    {64, 128, 128, 28, 3, 1, 1, 128}, {32, 80, 160, 20, 3, 1, 1, 1},
};

void gpu_cases(const Context& ctx) {
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const ConvShape shapes[] = {
      {64, 64, 64, 56, 56, 3, 1, 1, 1}, {256, 3, 32, 64, 64, 3, 1, 1, 1}, {256, 128, 256, 8, 8, 3, 1, 1, 1}};
  for (const char* prec : {"fp32", "tf32"})
    for (const auto& s : shapes)
      for (const char* pass : {"fwd", "fwdbwd"}) {
        const std::string name = std::string("conv2d/") + prec + "/" + pass + "/" + s.conv2d_tag();
        if (ctx.want(name)) run_case(ctx, name, s, std::string(prec) == "tf32", std::string(pass) == "fwd", dev);
      }
  for (const char* prec : {"fp32", "tf32"})
    for (const auto& v : kSweep) {
      const ConvShape s{v[0], v[1], v[2], v[3], v[3], v[4], v[5], v[6], v[7]};
      for (const char* pass : {"fwd", "fwdbwd"}) {
        const std::string name = std::string("convsweep/") + prec + "/" + pass + "/" + s.sweep_tag();
        if (ctx.want(name)) run_case(ctx, name, s, std::string(prec) == "tf32", std::string(pass) == "fwd", dev);
      }
    }
}

// 3-D convolution of a video block [N, C, D, H, W], 3x3x3, stride 1, padding 1, bias: a deep layer and
// a first (3-channel) layer.
struct Conv3dShape {
  int64_t N, C, K, D, H, W;
  double flops() const { return 2.0 * N * K * D * H * W * C * 27; }
  std::string tag() const {
    return "N" + std::to_string(N) + "_C" + std::to_string(C) + "_K" + std::to_string(K) + "_D" + std::to_string(D) +
           "_H" + std::to_string(H) + "_W" + std::to_string(W) + "_k3";
  }
};

void cpu_conv3d_cases(const Context& ctx, const Row& extra) {
  for (const Conv3dShape& s : {Conv3dShape{4, 64, 64, 8, 28, 28}, Conv3dShape{4, 3, 32, 16, 64, 64}}) {
    const std::string fwd = "cpu/conv3d/fp32/fwd/" + s.tag(), fwdbwd = "cpu/conv3d/fp32/fwdbwd/" + s.tag();
    if (!ctx.want(fwd) && !ctx.want(fwdbwd)) continue;
    const auto opts = loom::TensorOptions().with_requires_grad(true);
    const Tensor x = loom::randn({s.N, s.C, s.D, s.H, s.W}, opts);
    const Tensor w = (loom::randn({s.K, s.C, 3, 3, 3}) * (1.0 / std::sqrt(27.0 * s.C))).detach().requires_grad_(true);
    const Tensor b = loom::zeros({s.K}, opts), go = loom::randn({s.N, s.K, s.D, s.H, s.W});
    const auto forward = [&] { return loom::conv3d(x, w, b, {1}, {1}); };
    ctx.run(fwd, [&] {
      const double ms = time_cpu([&] { Tensor y = forward(); }, ctx.iters_or(10), 2);
      ctx.report(fwd, ms, s.flops(), 0, extra);
    });
    ctx.run(fwdbwd, [&] {
      const double ms = time_cpu([&] { forward().backward(go); }, ctx.iters_or(10), 2);
      ctx.report(fwdbwd, ms, 3 * s.flops(), 0, extra);
    });
  }
}

void cpu_cases(const Context& ctx) {
  const Row extra = Row().integer("threads", loom::get_num_threads());
  cpu_conv3d_cases(ctx, extra);
  const ConvShape s{8, 64, 64, 56, 56, 3, 1, 1, 1};
  const std::string fwd = "cpu/conv2d/fp32/fwd/" + s.conv2d_tag(), fwdbwd = "cpu/conv2d/fp32/fwdbwd/" + s.conv2d_tag();
  if (!ctx.want(fwd) && !ctx.want(fwdbwd)) return;
  const ConvCase c(s, loom::Device());
  ctx.run(fwd, [&] {
    const double ms = time_cpu([&] { Tensor y = c.forward(); }, ctx.iters_or(10), 2);
    ctx.report(fwd, ms, s.flops(), 0, extra);
  });
  ctx.run(fwdbwd, [&] {
    const double ms = time_cpu([&] { c.fwdbwd(); }, ctx.iters_or(10), 2);
    ctx.report(fwdbwd, ms, 3 * s.flops(), 0, extra);
  });
}

}  // namespace

void run_conv_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "conv");  // the registry's cases of the family (registry.cpp)
  if (gpu) gpu_cases(ctx);
  else cpu_cases(ctx);
}

}  // namespace bench
