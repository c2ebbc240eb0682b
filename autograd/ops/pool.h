// 2-D pooling with PyTorch's names, argument order and defaults. Input
// [N, C, H, W] or unbatched [C, H, W]. kernel_size / stride / padding /
// dilation / output_size take one value (both dims) or two; an empty stride
// means stride = kernel_size. Kernels: kernels/{cpu,cuda}/pool.*.
#pragma once
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

}  // namespace loom
