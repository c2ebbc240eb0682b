// Pooling kernels (CUDA): the same meaning as kernels/cpu/pool.h, enqueued on
// `stream`. float32 / float64.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"
#include "kernels/cpu/pool.h"

namespace loom::kernels::cuda {

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p,
                        cudaStream_t stream);
void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p,
                         cudaStream_t stream);
void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad,
                        cudaStream_t stream);
void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad,
                         cudaStream_t stream);
void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, cudaStream_t stream);
void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p,
                                  cudaStream_t stream);

}  // namespace loom::kernels::cuda
