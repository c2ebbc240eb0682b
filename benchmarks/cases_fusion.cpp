// SPEC.md cases of the fusion family:
//   GPU  fusion/fp32/gated_fwd/B8192_D512      flops 2·B·2D·D
//        fusion/fp32/gated_fwdbwd/B8192_D512   3x (backward of sum(out))
//        fusion/fp32/film_fwdbwd/B8192_D512    3·2·B·2D·D (backward of sum(out))
// each twice: impl "loom_composed" (composed::gated / composed::film from
// cat, matmul and pointwise ops, with peak_mib), then impl "loom" (the fused
// loom::gated_fusion / loom::film). No CPU cases are specified for this family. Leaves keep accumulating into
// .grad across iterations, as in the PyTorch reference.
#include <string>

#include "autograd/ops/fusion.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

const Row kFused = Row().str("impl_note", "fused");

void gpu_composed(const Context& ctx) {
  const int64_t B = 8192, D = 512;
  if (!any_wanted(ctx, {"fusion/fp32/gated_fwd/B8192_D512", "fusion/fp32/gated_fwdbwd/B8192_D512",
                        "fusion/fp32/film_fwdbwd/B8192_D512"}))
    return;
  Tensor a = loom::randn({B, D}, on_gpu(true)), b = loom::randn({B, D}, on_gpu(true));
  const double fl = 2.0 * B * 2 * D * D;
  Tensor Wg = composed::uniform_param({D, 2 * D}, 2 * D, current_gpu()),
         cg = composed::uniform_param({D}, 2 * D, current_gpu());
  ctx.run("fusion/fp32/gated_fwd/B8192_D512", [&] {
    timed(
        ctx, "fusion/fp32/gated_fwd/B8192_D512", [&] { Tensor o = composed::gated(a, b, Wg, cg); }, fl, 0, kGpuIters,
        kGpuWarmup, Row(), kComposed);
  });
  ctx.run("fusion/fp32/gated_fwdbwd/B8192_D512", [&] {
    timed(
        ctx, "fusion/fp32/gated_fwdbwd/B8192_D512", [&] { composed::gated(a, b, Wg, cg).sum().backward(); }, 3 * fl, 0,
        kGpuIters, kGpuWarmup, Row(), kComposed);
  });
  Tensor Wf = composed::uniform_param({2 * D, D}, D, current_gpu()),
         cf = composed::uniform_param({2 * D}, D, current_gpu());
  ctx.run("fusion/fp32/film_fwdbwd/B8192_D512", [&] {
    timed(
        ctx, "fusion/fp32/film_fwdbwd/B8192_D512", [&] { composed::film(a, b, Wf, cf).sum().backward(); }, 3 * fl, 0,
        kGpuIters, kGpuWarmup, Row(), kComposed);
  });
}

void gpu_cases(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const std::string fwd = "fusion/fp32/gated_fwd/B8192_D512", fwdbwd = "fusion/fp32/gated_fwdbwd/B8192_D512",
                    film = "fusion/fp32/film_fwdbwd/B8192_D512";
  if (!ctx.want(fwd) && !ctx.want(fwdbwd) && !ctx.want(film)) return;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const int64_t B = 8192, D = 512;
  const double fl = 2.0 * B * 2 * D * D;
  Tensor a = loom::randn({B, D}, loom::TensorOptions(dev).with_requires_grad(true));
  Tensor b = loom::randn({B, D}, loom::TensorOptions(dev).with_requires_grad(true));
  Tensor Wg = composed::uniform_param({D, 2 * D}, 2 * D, dev), cg = composed::uniform_param({D}, 2 * D, dev);
  ctx.run(fwd, [&] {
    double ms = time_gpu([&] { Tensor o = loom::gated_fusion(a, b, Wg, cg); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(fwd, ms, fl, 0, kFused);
  });
  ctx.run(fwdbwd, [&] {
    double ms = time_gpu([&] { loom::gated_fusion(a, b, Wg, cg).sum().backward(); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(fwdbwd, ms, 3 * fl, 0, kFused);
  });
  Tensor Wf = composed::uniform_param({2 * D, D}, D, dev), cf = composed::uniform_param({2 * D}, D, dev);
  ctx.run(film, [&] {
    double ms = time_gpu([&] { loom::film(a, b, Wf, cf).sum().backward(); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(film, ms, 3 * fl, 0, kFused);
  });
}

}  // namespace

void run_fusion_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "fusion");  // the registry's cases of the family (registry.cpp)
  if (gpu) {
    gpu_composed(ctx);
    gpu_cases(ctx);
  }
}

}  // namespace bench
