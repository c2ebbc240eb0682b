// Reduction kernels: the contract of kernels/cpu/reduce.cpp and
// kernels/cuda/reduce.cu, reduce_channel.cu (see kernels/contract.h).
// A ReduceLoop (kernels/loops.h) lists the kept dims (the output) and the
// reduced dims. channel_sum is the per-channel sum of a contiguous [N, C, S]
// (a convolution's bias gradient; batch norm's statistics and backward reuse
// its CUDA pattern, kernels/cuda/reduce_channel.cuh).
#pragma once
#include "kernels/contract.h"
#include "kernels/loops.h"

namespace loom::kernels {

namespace cpu {

// out and in have dtype dt. Mean divides by red_numel; Norm uses `p`
// (p = inf is max |x|, p = 0 counts non-zeros). Empty reductions give the
// identity (0 for sum, 1 for prod); front ends reject empty max/min.
void reduce(ReduceOp op, DType dt, void* out, const void* in, const ReduceLoop& loop, double p = 0);
// Max or Min with the index (int64, position within the flattened reduced
// dims, first occurrence; NaN wins). values may be null.
void arg_reduce(ReduceOp op, DType dt, void* values, int64_t* indices, const void* in, const ReduceLoop& loop);
// Variance (divided by red_numel - correction) and mean, Welford; mean may be null.
void var_mean(DType dt, void* var, void* mean, const void* in, const ReduceLoop& loop, int64_t correction);
// out[c] = sum over n < N, s < S of x[(n*C + c)*S + s] (float32 / float64, a
// contiguous [N, C, S]; each plane a simd sum, planes added in double): the
// conv bias gradient.
void channel_sum(DType dt, void* out, const void* x, int64_t N, int64_t C, int64_t S);

}  // namespace cpu

namespace cuda {

// Bytes of device workspace that lets reduce / arg_reduce / var_mean split
// each output's range over several blocks (few outputs, long ranges); 0 when
// no split is planned. Without the workspace (null) a kernel runs unsplit:
// the same result, fewer blocks.
size_t reduce_workspace_bytes(const ReduceLoop& loop);
void reduce(ReduceOp op, DType dt, void* out, const void* in, const ReduceLoop& loop, double p, cudaStream_t stream,
            void* workspace = nullptr);
void arg_reduce(ReduceOp op, DType dt, void* values, int64_t* indices, const void* in, const ReduceLoop& loop,
                cudaStream_t stream, void* workspace = nullptr);
void var_mean(DType dt, void* var, void* mean, const void* in, const ReduceLoop& loop, int64_t correction,
              cudaStream_t stream, void* workspace = nullptr);

// Bytes of device scratch memory channel_sum needs for these sizes (0 when
// the channels alone fill the GPU, or there is little work per channel).
size_t channel_sum_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S);
// float32 is summed in float. Any alignment; out [C] (zeros when N*S == 0).
// Deterministic: a fixed reduction order, no atomics, the same bits every run
// for the same inputs and GPU. workspace: channel_sum_workspace_bytes(dt, N,
// C, S) bytes (may be null when that is 0).
void channel_sum(DType dt, void* out, const void* x, int64_t N, int64_t C, int64_t S, void* workspace,
                 cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
