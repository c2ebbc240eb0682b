// Softmax and log_softmax kernels: the contract of kernels/cpu/softmax.cpp
// and kernels/cuda/softmax.cu (see kernels/contract.h).
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

namespace cpu {

// Contiguous [outer, dim, inner]; log selects log_softmax.
void softmax(DType dt, void* out, const void* in, int64_t outer, int64_t dim, int64_t inner, bool log);
// grad_in = y * (g - sum(g*y)) for softmax, g - exp(y) * sum(g) for log_softmax.
void softmax_backward(DType dt, void* grad_in, const void* grad_out, const void* out, int64_t outer, int64_t dim,
                      int64_t inner, bool log);

}  // namespace cpu

namespace cuda {

void softmax(DType dt, void* out, const void* in, int64_t outer, int64_t dim, int64_t inner, bool log,
             cudaStream_t stream);
void softmax_backward(DType dt, void* grad_in, const void* grad_out, const void* out, int64_t outer, int64_t dim,
                      int64_t inner, bool log, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
