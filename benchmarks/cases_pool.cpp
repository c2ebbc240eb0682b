// Pooling cases, reported in GB/s against the copy ceiling; bytes
// are what the kernels must read plus write, with in = N·C·H·W and
// out = N·C·OH·OW elements (fp32, int64 argmax indices):
//   pool/fp32/maxpool2x2_fwd/N256_C32_H64_W64       4·in + (4 + 8)·out
//   pool/fp32/maxpool2x2_fwdbwd/N256_C32_H64_W64    fwd + (4 + 8)·out + 4·in
//   pool/fp32/maxpool3x3s2_fwd/N64_C64_H112_W112    4·in + (4 + 8)·out   (pad 1)
//   pool/fp32/avgpool2x2_fwdbwd/N256_C32_H64_W64    (4·in + 4·out) · 2
//   pool/fp32/global_avgpool_fwdbwd/N256_C256_H8_W8 (4·in + 4·out) · 2   (adaptive to 1x1)
//   pool/fp32/adaptive_maxpool_fwdbwd/N32_C256_H14_W14_O4x4   fwd 4·in + (4 + 8)·out,
//                                                    bwd (4 + 8)·out + 4·in
//   pool/fp32/maxovertime_fwdbwd/N32_C256_L64        the same, adaptive max to 1 over [N, C, 1, L]
//                                                    (a text CNN's maximum over time)
// CPU (2 threads, kCpuIters after kCpuWarmup), the CLIP image encoder's first
// pooling at batch 32, the same byte counts:
//   cpu/pool/fp32/maxpool2x2_fwd/N32_C32_H64_W64
//   cpu/pool/fp32/maxpool2x2_fwdbwd/N32_C32_H64_W64
//   cpu/pool/fp32/relu_maxpool2x2_fwdbwd/N32_C32_H64_W64   max_pool2d(relu(x)): + 20·in (relu
//                                                           forward, then its backward)
//   cpu/pool/fp32/adaptive_maxpool_fwdbwd/N32_C256_H14_W14_O4x4, cpu/pool/fp32/maxovertime_fwdbwd/N32_C256_L64
// 3-D pooling of a video block [N, C, D, H, W] (2x2x2, stride 2), on both devices
// (GPU at N32, CPU at N4), the same byte counts as 2-D:
//   pool/fp32/maxpool3d_2x2x2_fwdbwd/N32_C64_D8_H56_W56, pool/fp32/avgpool3d_2x2x2_fwdbwd/N32_C64_D8_H56_W56
//   cpu/pool/fp32/maxpool3d_2x2x2_fwdbwd/N4_C64_D8_H56_W56, cpu/pool/fp32/avgpool3d_2x2x2_fwdbwd/N4_C64_D8_H56_W56
// 2x2 is the CLIP image encoder's downsampling (shared/bench/SPEC.md),
// 3x3/s2/pad 1 the ResNet stem's. fwd runs with the input requiring grad
// (the graph is recorded, as in training); fwdbwd = forward, then the input
// gradient of a fixed output gradient through autograd::grad, so no .grad
// accumulation is timed.
#include <functional>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/pool.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

struct PoolCase {
  std::string name;
  loom::Shape shape;
  std::function<Tensor(const Tensor&)> op;
  bool backward;
  double bytes_per_in, bytes_per_out;  // per element of the input and of the output
};

void gpu_cases(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const auto max2 = [](const Tensor& x) { return loom::max_pool2d(x, {2}); };
  const auto avg2 = [](const Tensor& x) { return loom::avg_pool2d(x, {2}); };
  const auto max3 = [](const Tensor& x) { return loom::max_pool3d(x, {2}); };
  const auto avg3 = [](const Tensor& x) { return loom::avg_pool3d(x, {2}); };
  const PoolCase cases[] = {
      {"pool/fp32/maxpool2x2_fwd/N256_C32_H64_W64", {256, 32, 64, 64}, max2, false, 4, 12},
      {"pool/fp32/maxpool2x2_fwdbwd/N256_C32_H64_W64", {256, 32, 64, 64}, max2, true, 8, 24},
      {"pool/fp32/maxpool3x3s2_fwd/N64_C64_H112_W112",
       {64, 64, 112, 112},
       [](const Tensor& x) { return loom::max_pool2d(x, {3}, {2}, {1}); },
       false,
       4,
       12},
      {"pool/fp32/avgpool2x2_fwdbwd/N256_C32_H64_W64", {256, 32, 64, 64}, avg2, true, 8, 8},
      {"pool/fp32/global_avgpool_fwdbwd/N256_C256_H8_W8",
       {256, 256, 8, 8},
       [](const Tensor& x) { return loom::adaptive_avg_pool2d(x, {1}); },
       true,
       8,
       8},
      {"pool/fp32/adaptive_maxpool_fwdbwd/N32_C256_H14_W14_O4x4",
       {32, 256, 14, 14},
       [](const Tensor& x) { return loom::adaptive_max_pool2d(x, {4}); },
       true,
       8,
       24},
      {"pool/fp32/maxovertime_fwdbwd/N32_C256_L64",
       {32, 256, 1, 64},
       [](const Tensor& x) { return loom::adaptive_max_pool2d(x, {1}); },
       true,
       8,
       24},
      {"pool/fp32/maxpool3d_2x2x2_fwdbwd/N32_C64_D8_H56_W56", {32, 64, 8, 56, 56}, max3, true, 8, 24},
      {"pool/fp32/avgpool3d_2x2x2_fwdbwd/N32_C64_D8_H56_W56", {32, 64, 8, 56, 56}, avg3, true, 8, 8},
  };
  for (const PoolCase& c : cases) {
    ctx.run(c.name, [&] {
      Tensor x = loom::randn(c.shape, loom::TensorOptions(dev).with_requires_grad(true));
      Tensor y = c.op(x);
      Tensor g = loom::randn(y.sizes(), loom::TensorOptions(dev));
      const double bytes = c.bytes_per_in * x.numel() + c.bytes_per_out * y.numel();
      double ms;
      if (c.backward) ms = time_gpu([&] { loom::autograd::grad({c.op(x)}, {x}, {g}); }, ctx.iters_or(kIters), kWarmup);
      else ms = time_gpu([&] { Tensor out = c.op(x); }, ctx.iters_or(kIters), kWarmup);
      ctx.report(c.name, ms, 0, bytes);
    });
  }
  loom::cuda::empty_cache();
}

void cpu_cases(const Context& ctx) {
  const auto max2 = [](const Tensor& x) { return loom::max_pool2d(x, {2}); };
  const auto relu_max2 = [](const Tensor& x) { return loom::max_pool2d(x.relu(), {2}); };
  const auto max3 = [](const Tensor& x) { return loom::max_pool3d(x, {2}); };
  const auto avg3 = [](const Tensor& x) { return loom::avg_pool3d(x, {2}); };
  const PoolCase cases[] = {
      {"cpu/pool/fp32/maxpool2x2_fwd/N32_C32_H64_W64", {32, 32, 64, 64}, max2, false, 4, 12},
      {"cpu/pool/fp32/maxpool2x2_fwdbwd/N32_C32_H64_W64", {32, 32, 64, 64}, max2, true, 8, 24},
      {"cpu/pool/fp32/relu_maxpool2x2_fwdbwd/N32_C32_H64_W64", {32, 32, 64, 64}, relu_max2, true, 28, 24},
      {"cpu/pool/fp32/adaptive_maxpool_fwdbwd/N32_C256_H14_W14_O4x4",
       {32, 256, 14, 14},
       [](const Tensor& x) { return loom::adaptive_max_pool2d(x, {4}); },
       true,
       8,
       24},
      {"cpu/pool/fp32/maxovertime_fwdbwd/N32_C256_L64",
       {32, 256, 1, 64},
       [](const Tensor& x) { return loom::adaptive_max_pool2d(x, {1}); },
       true,
       8,
       24},
      {"cpu/pool/fp32/maxpool3d_2x2x2_fwdbwd/N4_C64_D8_H56_W56", {4, 64, 8, 56, 56}, max3, true, 8, 24},
      {"cpu/pool/fp32/avgpool3d_2x2x2_fwdbwd/N4_C64_D8_H56_W56", {4, 64, 8, 56, 56}, avg3, true, 8, 8},
  };
  for (const PoolCase& c : cases) {
    ctx.run(c.name, [&] {
      Tensor x = loom::randn(c.shape, loom::TensorOptions().with_requires_grad(true));
      Tensor y = c.op(x);
      Tensor g = loom::randn(y.sizes());
      const double bytes = c.bytes_per_in * x.numel() + c.bytes_per_out * y.numel();
      timed_on(
          ctx, false, c.name,
          [&] {
            if (c.backward) loom::autograd::grad({c.op(x)}, {x}, {g});
            else Tensor out = c.op(x);
          },
          0, bytes);
    });
  }
}

}  // namespace

void run_pool_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "pool");  // the registry's cases of the family (registry.cpp)
  if (gpu) gpu_cases(ctx);
  else cpu_cases(ctx);
}

}  // namespace bench
