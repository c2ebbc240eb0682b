// CPU cross-entropy and embedding-backward kernels (kernels/cpu/loss.cpp);
// CUDA twins in kernels/cuda/loss.h and kernels/cuda/embedding_dropout.h.
#pragma once
#include <cstdint>
#include "core/dtype.h"

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

// dweight [num_weights, D] (zeroed by the caller) += grad rows [n, D] at
// index[i]; rows equal to padding_idx (-1: none) get nothing. Deterministic:
// each thread owns a range of weight rows and scans the indices in order.
// Returns -1 or the position of the first index outside [0, num_weights).
int64_t embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n,
                           int64_t num_weights, int64_t D, int64_t padding_idx);

}  // namespace loom::kernels::cpu
