// Pooling kernels (CUDA): the same meaning as kernels/cpu/pool.h, enqueued on
// `stream`. float32 / float64.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"
#include "kernels/cpu/pool.h"

namespace loom::kernels::cuda {

// The index width of a launch. Auto takes 32-bit index math whenever
// pool_fits_int32 holds (every element count <= 2^30, every window parameter
// <= 2^28) and 64-bit otherwise; Int64 forces the 64-bit kernels, which lets
// tests run them on small shapes.
enum class PoolIndex { Auto, Int64 };
bool pool_fits_int32(const PoolParams& p);

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p, cudaStream_t stream,
                        PoolIndex index = PoolIndex::Auto);
// grad_in is overwritten (every element written once; deterministic, no atomics).
void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p,
                         cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad,
                        cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad,
                         cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, cudaStream_t stream,
                                 PoolIndex index = PoolIndex::Auto);
void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p,
                                  cudaStream_t stream, PoolIndex index = PoolIndex::Auto);

}  // namespace loom::kernels::cuda
