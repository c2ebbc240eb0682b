// swish_scaled(x, alpha) = alpha * x * sigmoid(x), an op defined outside loom:
// a loom::autograd::Function (so it is differentiable like loom's own ops)
// whose forward and backward run a CPU loop or, when this project was built
// with CUDA, a CUDA kernel on loom's current stream. float32 and float64, any
// layout (non-contiguous inputs are copied first).
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace ext {

loom::Tensor swish_scaled(const loom::Tensor& x, double alpha);

// Why the CUDA path cannot run in this process ("" when it can): loom or this
// project built without CUDA, or no usable GPU (the CUDA runtime's error).
std::string cuda_unavailable_reason();

#ifdef SWISH_WITH_CUDA
// The launchers in swish_scaled.cu: n contiguous elements of `dtype` (float32
// or float64) in device memory, enqueued on `stream` (a cudaStream_t).
//   forward:  y = alpha x s,                  s = sigmoid(x)
//   backward: dx = dy alpha s (1 + x (1 - s))
void swish_scaled_forward_cuda(loom::DType dtype, void* y, const void* x, double alpha, int64_t n, void* stream);
void swish_scaled_backward_cuda(loom::DType dtype, void* dx, const void* dy, const void* x, double alpha, int64_t n,
                                void* stream);
#endif

}  // namespace ext
