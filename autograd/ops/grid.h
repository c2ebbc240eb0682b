// Sampling images at given points (torch.nn.functional.grid_sample) and the
// grids of affine transforms (affine_grid): spatial transformers, warps and
// crops. input [N, C, H, W], grid [N, OH, OW, 2] with (x, y) in [-1, 1];
// kernels/{cpu,cuda}/grid.* (kernels/grid.h has the coordinate rules).
#pragma once
#include <string>

#include "core/tensor.h"

namespace loom {

// mode "bilinear" or "nearest"; padding_mode "zeros", "border" or
// "reflection"; float32 / float64. Gradients for input and grid (nearest:
// zero for the grid); not differentiable twice.
Tensor grid_sample(const Tensor& input, const Tensor& grid, const std::string& mode = "bilinear",
                   const std::string& padding_mode = "zeros", bool align_corners = false);
// theta [N, 2, 3], size {N, C, H, W} -> grid [N, H, W, 2]: the points of an
// H x W image (pixel centers, or corners with align_corners) moved by theta.
// A composition (a batched product), differentiable any number of times.
Tensor affine_grid(const Tensor& theta, const Dims& size, bool align_corners = false);

}  // namespace loom
