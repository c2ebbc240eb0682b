// Resizing images [N, C, H, W] (or unbatched [C, H, W]) to output_size
// {OH, OW}, PyTorch's upsample_nearest2d, _upsample_nearest_exact2d and
// upsample_bilinear2d, upsample_bicubic2d (F.interpolate in Python). `scales` holds the
// scale_factor of each dim when the caller has one (the source step is then
// 1 / scale_factor, as PyTorch), else it is empty. Kernels:
// kernels/{cpu,cuda}/upsample.*.
#pragma once
#include <vector>

#include "autograd/ops/pad.h"  // the family's other op: pad
#include "core/tensor.h"

namespace loom {

// Every dtype forward; gradients for float32 / float64.
Tensor upsample_nearest2d(const Tensor& input, const Dims& output_size, const std::vector<double>& scales = {},
                          bool exact = false);
// float32 / float64.
Tensor upsample_bilinear2d(const Tensor& input, const Dims& output_size, bool align_corners,
                           const std::vector<double>& scales = {});
// Bicubic (cubic convolution, A = -0.75, the border replicated), PyTorch's
// upsample_bicubic2d (F.interpolate's 'bicubic'); float32 / float64.
Tensor upsample_bicubic2d(const Tensor& input, const Dims& output_size, bool align_corners,
                          const std::vector<double>& scales = {});

}  // namespace loom
