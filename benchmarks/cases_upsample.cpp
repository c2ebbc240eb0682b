// Cases of the upsample family (kernels/upsample.h), a CPU case and its GPU
// twin each, fp32: the registry's cases (registry.cpp: nearest and bilinear
// [16, 64, 64, 64] -> 128 x 128, forward) and, with the backward,
//   [cpu/]upsample/fp32/{nearest,bilinear}_fwdbwd/N16_C64_H64_W64_x2
//       forward with the graph recorded, then the input gradient of a fixed
//       output gradient through autograd::grad
// Reported in GB/s of the minimum traffic: the input read and the output
// written (forward); the output gradient read and the input gradient
// written (backward).
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/upsample.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

void run_upsample_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "upsample");  // the registry's cases of the family (registry.cpp)
  const std::string prefix = gpu ? "upsample/fp32/" : "cpu/upsample/fp32/";
  const loom::TensorOptions opts(gpu ? loom::Device("cuda:0") : loom::Device());
  for (bool bilinear : {false, true}) {
    const std::string name = prefix + (bilinear ? "bilinear" : "nearest") + "_fwdbwd/N16_C64_H64_W64_x2";
    ctx.run(name, [&] {
      Tensor x = loom::rand({16, 64, 64, 64}, opts).requires_grad_(true);
      auto forward = [&] {
        return bilinear ? loom::upsample_bilinear2d(x, {128, 128}, false) : loom::upsample_nearest2d(x, {128, 128});
      };
      Tensor g = loom::randn({16, 64, 128, 128}, opts);
      const double in_bytes = 4.0 * x.numel(), out_bytes = 4.0 * g.numel();
      timed_on(
          ctx, gpu, name, [&] { loom::autograd::grad({forward()}, {x}, {g}); }, 0, 2 * (in_bytes + out_bytes));
    });
  }
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
