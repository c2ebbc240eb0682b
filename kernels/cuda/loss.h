// CUDA fused cross-entropy (kernels/cuda/loss.cu), the twin of
// kernels/cpu/loss.h. A target outside [0, C) (and not ignore_index) sets
// *error_flag = 1 (raised at the next sync point) and its row gets zeros.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"

namespace loom::kernels::cuda {

void cross_entropy_forward(DType dt, void* loss, void* lse, void* roww, const void* logits, const int64_t* target,
                           const void* weight, int64_t M, int64_t C, int64_t ignore_index, double smoothing,
                           int* error_flag, cudaStream_t stream);
void cross_entropy_backward(DType dt, void* dlogits, const void* logits, const int64_t* target, const void* weight,
                            const void* lse, const void* grad, int64_t grad_stride, int64_t M, int64_t C,
                            int64_t ignore_index, double smoothing, cudaStream_t stream);

}  // namespace loom::kernels::cuda
