// Fused cross-entropy kernels: the contract of kernels/cpu/loss.cpp and
// kernels/cuda/loss.cu (see kernels/contract.h). On CUDA a target outside
// [0, C) (and not ignore_index) sets *error_flag = 1 (raised at the next sync
// point) and its row gets zeros.
#pragma once
#include <cstdint>
#include "kernels/contract.h"

namespace loom::kernels::cpu {

// Fused cross-entropy over M rows of C contiguous logits [M, C], int64 target [M],
// optional class weight [C] (null: all 1), label smoothing eps:
//   lse[m]  = log sum_c exp(x[m, c])                       (saved for backward)
//   loss[m] = (1-eps) w[t] (lse - x[t]) + eps/C sum_c w[c] (lse - x[c])
//   roww[m] = w[t]  (the denominator of the "mean" reduction)
// Rows with t == ignore_index get loss 0 and roww 0. Returns -1, or the first
// row whose target is outside [0, C) (nothing meaningful written then).
int64_t cross_entropy_forward(DType dt, void* loss, void* lse, void* roww, const void* logits, const int64_t* target,
                              const void* weight, int64_t M, int64_t C, int64_t ignore_index, double smoothing);
// dx[m, c] = g[m] * ((1-eps) w[t] (p_c - [c == t]) + eps/C (W p_c - w[c])),
// p = softmax(x[m]) = exp(x - lse[m]), W = sum_c w[c]; g[m] = grad[m * grad_stride]
// (stride 0 broadcasts one scalar). Ignored rows get 0.
void cross_entropy_backward(DType dt, void* dlogits, const void* logits, const int64_t* target, const void* weight,
                            const void* lse, const void* grad, int64_t grad_stride, int64_t M, int64_t C,
                            int64_t ignore_index, double smoothing);

}  // namespace loom::kernels::cpu

namespace loom::kernels::cuda {

void cross_entropy_forward(DType dt, void* loss, void* lse, void* roww, const void* logits, const int64_t* target,
                           const void* weight, int64_t M, int64_t C, int64_t ignore_index, double smoothing,
                           int* error_flag, cudaStream_t stream);
void cross_entropy_backward(DType dt, void* dlogits, const void* logits, const int64_t* target, const void* weight,
                            const void* lse, const void* grad, int64_t grad_stride, int64_t M, int64_t C,
                            int64_t ignore_index, double smoothing, cudaStream_t stream);

}  // namespace loom::kernels::cuda
