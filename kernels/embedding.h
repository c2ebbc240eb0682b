// Embedding kernels: the contract of kernels/cpu/embedding.cpp and
// kernels/cuda/embedding.cu (see kernels/contract.h). The forward lookup is
// index_select (kernels/index.h); these are the weight gradient.
//
// dweight [num_weights, D] (zeroed by the caller) += grad rows [n, D] at
// index[i]; rows equal to padding_idx (-1: none) get nothing.
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

namespace cpu {
// Deterministic: each thread owns a range of weight rows and scans the
// indices in order. Returns -1 or the position of the first index outside
// [0, num_weights).
int64_t embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n,
                           int64_t num_weights, int64_t D, int64_t padding_idx);
}  // namespace cpu

namespace cuda {
// Atomic adds: the summation order is not fixed. Indices outside
// [0, num_weights) are skipped (the forward lookup already reported them).
void embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n, int64_t num_weights,
                        int64_t D, int64_t padding_idx, cudaStream_t stream);
}  // namespace cuda

}  // namespace loom::kernels
