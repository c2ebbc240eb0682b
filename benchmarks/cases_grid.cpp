// Cases of the grid family (kernels/grid.h), a CPU case and its GPU twin
// each, fp32: the registry's cases (registry.cpp: grid_sample of
// [16, 64, 64, 64] at a 64 x 64 grid, affine_grid for 224 x 224) and, with
// the backward,
//   [cpu/]grid/fp32/grid_sample_fwdbwd/N16_C64_H64_W64_G64
//       a spatial transformer's sampling: bilinear, zeros padding, the
//       forward with the graph recorded, then the gradients of the input and
//       the grid through autograd::grad
// Reported in GB/s of the minimum traffic: input, grid and output once each
// way.
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/grid.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

void run_grid_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "grid");
  const std::string name = std::string(gpu ? "" : "cpu/") + "grid/fp32/grid_sample_fwdbwd/N16_C64_H64_W64_G64";
  ctx.run(name, [&] {
    const loom::TensorOptions opts(gpu ? loom::Device("cuda:0") : loom::Device());
    Tensor x = loom::rand({16, 64, 64, 64}, opts).requires_grad_(true);
    Tensor grid = (loom::rand({16, 64, 64, 2}, opts) * 2.2 - 1.1).detach().requires_grad_(true);
    Tensor g = loom::randn({16, 64, 64, 64}, opts);
    const double bytes = 4.0 * (2 * x.numel() + 2 * grid.numel() + 2 * g.numel());
    timed_on(
        ctx, gpu, name,
        [&] {
          loom::autograd::grad({loom::grid_sample(x, grid)}, {x, grid}, {g});
        },
        0, bytes);
  });
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
