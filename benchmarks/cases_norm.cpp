// SPEC.md cases of the norm family:
//   GPU  layernorm/fp32/{fwd,fwdbwd}/N8192_D1024   bytes 2·N·D·4 / 5·N·D·4
//   CPU  cpu/layernorm/fp32/fwdbwd/N4096_D1024     (2 threads; gbps from 5·N·D·4,
//        the reference prints no FLOPs for this case)
// each twice: impl "loom_composed" (composed::layer_norm from mean, var and
// pointwise ops; the GPU ones with peak_mib), then impl "loom" (the fused
// loom::layer_norm); and
//   GPU  batchnorm/fp32/fwdbwd/N256_C64_H32_W32     bytes 8·N·C·H·W·4: the
//        traffic of the two-pass algorithm every BatchNorm shares (statistics
//        read x; y reads x, writes y; the backward sums read dy, x; dx reads
//        dy, x, writes dx); training mode, affine, running statistics
//        updated as nn.BatchNorm2d does (momentum 0.1); the gradients of x,
//        w, b through autograd::grad, so no .grad accumulation adds traffic.
//   [cpu/]groupnorm/fp32/fwdbwd/N32_C256_H32_W32_G32 (below).
// Same warm-up / iteration counts as the other case files; leaves keep
// accumulating into .grad across iterations, as in the PyTorch reference.
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/norm.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

const Row kFused = Row().str("impl_note", "fused");

void gpu_composed(const Context& ctx) {
  const int64_t N = 8192, D = 1024;
  const std::string tag = "N8192_D1024";
  if (!any_wanted(ctx, {"layernorm/fp32/fwd/" + tag, "layernorm/fp32/fwdbwd/" + tag})) return;
  Tensor x = loom::randn({N, D}, on_gpu(true));
  Tensor w = loom::ones({D}, on_gpu(true)), b = loom::zeros({D}, on_gpu(true));
  Tensor g = loom::randn({N, D}, on_gpu());
  ctx.run("layernorm/fp32/fwd/" + tag, [&] {
    timed(
        ctx, "layernorm/fp32/fwd/" + tag, [&] { Tensor y = composed::layer_norm(x, w, b); }, 0, 2.0 * N * D * 4,
        kGpuIters, kGpuWarmup, Row(), kComposed);
  });
  ctx.run("layernorm/fp32/fwdbwd/" + tag, [&] {
    timed(
        ctx, "layernorm/fp32/fwdbwd/" + tag, [&] { composed::layer_norm(x, w, b).backward(g); }, 0, 5.0 * N * D * 4,
        kGpuIters, kGpuWarmup, Row(), kComposed);
  });
}

void gpu_cases(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const auto leaf = loom::TensorOptions(dev).with_requires_grad(true);
  const int64_t N = 8192, D = 1024;
  const std::string fwd = "layernorm/fp32/fwd/N8192_D1024", fwdbwd = "layernorm/fp32/fwdbwd/N8192_D1024";
  if (ctx.want(fwd) || ctx.want(fwdbwd)) {
    Tensor x = loom::randn({N, D}, leaf);
    Tensor w = loom::ones({D}, leaf), b = loom::zeros({D}, leaf);
    Tensor g = loom::randn({N, D}, loom::TensorOptions(dev));
    ctx.run(fwd, [&] {
      double ms = time_gpu([&] { Tensor y = loom::layer_norm(x, {D}, w, b); }, ctx.iters_or(kIters), kWarmup);
      ctx.report(fwd, ms, 0, 2.0 * N * D * 4, kFused);
    });
    ctx.run(fwdbwd, [&] {
      double ms = time_gpu([&] { loom::layer_norm(x, {D}, w, b).backward(g); }, ctx.iters_or(kIters), kWarmup);
      ctx.report(fwdbwd, ms, 0, 5.0 * N * D * 4, kFused);
    });
  }
}

void batchnorm(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const std::string bn = "batchnorm/fp32/fwdbwd/N256_C64_H32_W32";
  ctx.run(bn, [&] {
    const int64_t N = 256, C = 64, H = 32, W = 32;
    const auto leaf = loom::TensorOptions(dev).with_requires_grad(true);
    Tensor x = loom::randn({N, C, H, W}, leaf);
    Tensor w = loom::ones({C}, leaf), b = loom::zeros({C}, leaf);
    Tensor rm = loom::zeros({C}, loom::TensorOptions(dev)), rv = loom::ones({C}, loom::TensorOptions(dev));
    Tensor g = loom::randn({N, C, H, W}, loom::TensorOptions(dev));
    double ms = time_gpu(
        [&] {
          loom::autograd::grad({loom::batch_norm(x, rm, rv, w, b, true, 0.1, 1e-5)}, {x, w, b}, {g});
        },
        ctx.iters_or(kIters), kWarmup);
    ctx.report(bn, ms, 0, 8.0 * N * C * H * W * 4, kFused);
  });
}

void cpu_composed(const Context& ctx) {
  const std::string name = "cpu/layernorm/fp32/fwdbwd/N4096_D1024";
  ctx.run(name, [&] {
    const int64_t N = 4096, D = 1024;
    Tensor x = loom::randn({N, D}).requires_grad_(true);
    Tensor w = loom::ones({D}).requires_grad_(true), b = loom::zeros({D}).requires_grad_(true);
    Tensor g = loom::randn({N, D});
    double ms = time_cpu([&] { composed::layer_norm(x, w, b).backward(g); }, ctx.iters_or(kCpuIters), kCpuWarmup);
    // The reference prints no FLOPs for this case; gbps uses the GPU case's 5·N·D·4 bytes.
    ctx.report(name, ms, 0, 5.0 * N * D * 4, cpu_extra(), kComposed);
  });
}

void cpu_cases(const Context& ctx) {
  constexpr int kWarmup = 2, kIters = 10;
  const std::string name = "cpu/layernorm/fp32/fwdbwd/N4096_D1024";
  ctx.run(name, [&] {
    const int64_t N = 4096, D = 1024;
    const auto leaf = loom::TensorOptions().with_requires_grad(true);
    Tensor x = loom::randn({N, D}, leaf);
    Tensor w = loom::ones({D}, leaf), b = loom::zeros({D}, leaf);
    Tensor g = loom::randn({N, D});
    double ms = time_cpu([&] { loom::layer_norm(x, {D}, w, b).backward(g); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(name, ms, 0, 5.0 * N * D * 4, Row().merge(kFused).integer("threads", loom::get_num_threads()));
  });
}

// GroupNorm forward + backward (x, w, b through autograd::grad), 32 groups of
// [32, 256, 32, 32]: bytes 5·N·C·S·4 (forward reads x, writes y; backward
// reads dy and x twice over, writes dx), as layernorm's fwdbwd.
void groupnorm(const Context& ctx, bool gpu) {
  const std::string name = std::string(gpu ? "" : "cpu/") + "groupnorm/fp32/fwdbwd/N32_C256_H32_W32_G32";
  ctx.run(name, [&] {
    const int64_t N = 32, C = 256, S = 32 * 32;
    const loom::TensorOptions opts(gpu ? loom::Device("cuda:0") : loom::Device());
    Tensor x = loom::randn({N, C, 32, 32}, opts).requires_grad_(true);
    Tensor w = loom::ones({C}, opts).requires_grad_(true), b = loom::zeros({C}, opts).requires_grad_(true);
    Tensor g = loom::randn({N, C, 32, 32}, opts);
    timed_on(
        ctx, gpu, name,
        [&] {
          loom::autograd::grad({loom::group_norm(x, 32, w, b)}, {x, w, b}, {g});
        },
        0, 5.0 * N * C * S * 4);
  });
}

}  // namespace

void run_norm_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "norm");  // the registry's cases of the family (registry.cpp)
  groupnorm(ctx, gpu);
  if (gpu) {
    gpu_composed(ctx);
    gpu_cases(ctx);
    batchnorm(ctx);
  } else {
    cpu_composed(ctx);
    cpu_cases(ctx);
  }
}

}  // namespace bench
