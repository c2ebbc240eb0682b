// 2-D pooling with PyTorch's names, argument order and defaults. Input
// [N, C, H, W] or unbatched [C, H, W]. kernel_size / stride / padding /
// dilation / output_size take one value (both dims) or two; an empty stride
// means stride = kernel_size. Kernels: kernels/{cpu,cuda}/pool.*.
#pragma once
#include <optional>
#include <utility>
#include "core/tensor.h"

namespace loom {

Tensor max_pool2d(const Tensor& input, const Dims& kernel_size, const Dims& stride = {}, const Dims& padding = {0},
                  const Dims& dilation = {1}, bool ceil_mode = false);
// (values, indices): indices are int64 flat positions ih * W + iw inside each plane.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, const Dims& kernel_size, const Dims& stride = {},
                                                  const Dims& padding = {0}, const Dims& dilation = {1},
                                                  bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& input, const Dims& kernel_size, const Dims& stride = {}, const Dims& padding = {0},
                  bool ceil_mode = false, bool count_include_pad = true);
Tensor adaptive_avg_pool2d(const Tensor& input, const Dims& output_size);
// The maximum over the windows of adaptive_avg_pool2d; (values, indices) as
// max_pool2d_with_indices (flat ih * W + iw inside each plane).
Tensor adaptive_max_pool2d(const Tensor& input, const Dims& output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& input, const Dims& output_size);

// [N, C, D, H, W] or [C, D, H, W]; int-or-triple arguments as 1 or 3 values.
// The indices are flat (d*H + h)*W + w inside each volume. divisor_override:
// every window's sum divided by it (not zero) instead of the window's size.
std::pair<Tensor, Tensor> max_pool3d_with_indices(const Tensor& input, const Dims& kernel_size, const Dims& stride = {},
                                                  const Dims& padding = {0}, const Dims& dilation = {1},
                                                  bool ceil_mode = false);
Tensor max_pool3d(const Tensor& input, const Dims& kernel_size, const Dims& stride = {}, const Dims& padding = {0},
                  const Dims& dilation = {1}, bool ceil_mode = false);
Tensor avg_pool3d(const Tensor& input, const Dims& kernel_size, const Dims& stride = {}, const Dims& padding = {0},
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);

}  // namespace loom
