// Per-channel sums of x [N, C, S] on the GPU (kernels/cuda/channel_reduce.cu):
// the bias gradient of a convolution (S = H*W), and the pattern batch norm's
// statistics and backward reuse (kernels/cuda/channel_reduce.cuh).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"

namespace loom::kernels::cuda {

// Bytes of device scratch memory channel_sum needs for these sizes (0 when
// the channels alone fill the GPU, or there is little work per channel).
size_t channel_sum_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S);

// out[c] = sum over n < N, s < S of x[(n*C + c)*S + s], for float32 (summed
// in float) and float64. x contiguous [N, C, S], any alignment; out [C]
// (zeros when N*S == 0). Deterministic: a fixed reduction order, no atomics,
// the same bits every run for the same inputs and GPU. workspace:
// channel_sum_workspace_bytes(dt, N, C, S) bytes on the device, lent by the
// caller (may be null when that is 0).
void channel_sum(DType dt, void* out, const void* x, int64_t N, int64_t C, int64_t S, void* workspace,
                 cudaStream_t stream);

}  // namespace loom::kernels::cuda
