// Padding the last len(pad) / 2 dims of a tensor, PyTorch's torch.nn.functional.pad: pad = {left of the last
// dim, right of it, left of the one before, ...}; mode "constant" (value outside, negative pads crop),
// "reflect" (mirrored without repeating the edge, pads < the dim's size), "replicate" (the edge repeated)
// or "circular" (wrapped around, pads <= the size). One kernel forward, one per padded dim backward
// (kernels/{cpu/pad.cpp, cuda/upsample.cu}); differentiable any number of times.
#pragma once
#include <string>

#include "core/tensor.h"

namespace loom {

// Every dtype forward; gradients for float32 / float64.
Tensor pad(const Tensor& input, const Dims& pad, const std::string& mode = "constant", double value = 0.0);

}  // namespace loom
