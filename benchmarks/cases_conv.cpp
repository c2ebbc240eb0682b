// conv2d cases of shared/bench/SPEC.md: GPU conv2d/{fp32,tf32}/{fwd,fwdbwd}
// on three shapes, each with loom's kernels (impl "loom") and cuDNN (impl
// "loom_cudnn", through set_conv_backend), and the CPU cases
// cpu/conv2d/fp32/{fwd,fwdbwd}/N8_C64_K64_H56_W56_k3.
// 3x3, stride 1, padding 1, bias. fwd runs with grad mode on and inputs that
// require grad (the graph is recorded), as the PyTorch reference does;
// fwdbwd = forward, then backward of a fixed output gradient into input,
// weight and bias. FLOPs: fwd 2*N*K*H*W*C*9, fwdbwd 3x.
#include <cmath>
#include <functional>
#include <string>

#include "autograd/ops/conv.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

struct Shape5 {
  int64_t N, C, K, H, W;
  std::string tag() const {
    return "N" + std::to_string(N) + "_C" + std::to_string(C) + "_K" + std::to_string(K) + "_H" + std::to_string(H) +
           "_W" + std::to_string(W) + "_k3";
  }
  double flops() const { return 2.0 * N * K * H * W * C * 9; }
};

// Inputs of one case on `device`, all leaves requiring grad.
struct ConvCase {
  Tensor x, w, b, go;
  ConvCase(const Shape5& s, loom::Device device) {
    const auto opts = loom::TensorOptions(device).with_requires_grad(true);
    x = loom::randn({s.N, s.C, s.H, s.W}, opts);
    w = (loom::randn({s.K, s.C, 3, 3}, loom::TensorOptions(device)) * (1.0 / std::sqrt(9.0 * s.C)))
            .detach()
            .requires_grad_(true);
    b = loom::zeros({s.K}, opts);
    go = loom::randn({s.N, s.K, s.H, s.W}, loom::TensorOptions(device));
  }
  Tensor forward() const { return loom::conv2d(x, w, b, {1}, {1}); }
  void fwdbwd() const { forward().backward(go); }
};

void gpu_cases(const Context& ctx) {
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const Shape5 shapes[] = {{64, 64, 64, 56, 56}, {256, 3, 32, 64, 64}, {256, 128, 256, 8, 8}};
  for (const char* prec : {"fp32", "tf32"})
    for (const auto& s : shapes)
      for (const char* pass : {"fwd", "fwdbwd"}) {
        const std::string name = std::string("conv2d/") + prec + "/" + pass + "/" + s.tag();
        if (!ctx.want(name)) continue;
        for (const char* impl : {"loom", "loom_cudnn"}) {
          const bool cudnn = std::string(impl) == "loom_cudnn";
          if (cudnn && !loom::cudnn_available()) {
            ctx.skip(name, "loom_cudnn: loom was built without cuDNN");
            continue;
          }
          ctx.run(name, [&] {
            loom::set_allow_tf32(std::string(prec) == "tf32");
            loom::set_conv_backend(cudnn ? loom::ConvBackend::Cudnn : loom::ConvBackend::Hand);
            ConvCase c(s, dev);
            std::function<void()> fn;
            if (std::string(pass) == "fwd") fn = [&] { Tensor y = c.forward(); };
            else fn = [&] { c.fwdbwd(); };
            const double ms = time_gpu(fn, ctx.iters_or(50), 10);
            Row extra;
            extra.fixed("peak_mib", gpu_peak_mib(fn), 1);
            const double flops = s.flops() * (std::string(pass) == "fwd" ? 1.0 : 3.0);
            ctx.report(name, ms, flops, 0, extra, impl);
          });
          loom::set_conv_backend(loom::ConvBackend::Hand);
          loom::set_allow_tf32(false);
        }
        loom::cuda::empty_cache();
      }
}

void cpu_cases(const Context& ctx) {
  const Shape5 s{8, 64, 64, 56, 56};
  const std::string fwd = "cpu/conv2d/fp32/fwd/" + s.tag(), fwdbwd = "cpu/conv2d/fp32/fwdbwd/" + s.tag();
  if (!ctx.want(fwd) && !ctx.want(fwdbwd)) return;
  const ConvCase c(s, loom::Device());
  const Row extra = Row().integer("threads", loom::get_num_threads());
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
  if (gpu) gpu_cases(ctx);
  else cpu_cases(ctx);
}

}  // namespace bench
