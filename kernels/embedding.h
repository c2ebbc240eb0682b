// Embedding kernels: the contract of kernels/cpu/embedding.cpp and
// kernels/cuda/embedding.cu (see kernels/contract.h). The forward lookup is
// index_select (kernels/index.h); these are the weight gradient.
//
// dweight [num_weights, D] (zeroed by the caller) += grad rows [n, D] at
// index[i]; rows equal to padding_idx (-1: none) get nothing.
//
// embedding_bag (F.embedding_bag): bag b holds the entries i in
// [offsets[b], end_b), end_b = offsets[b + 1], or n for the last bag; entry i
// is the weight row index[i], skipped when it equals padding_idx. Per bag:
//   sum   out[b] = sum_i s_i w[index[i]]  (s_i = per_sample_weights[i], or 1)
//   mean  out[b] = sum_i w[index[i]] / count[b]  (count: the entries kept;
//         an empty bag gives 0)
//   max   out[b, d] = max_i w[index[i], d], argmax[b, d] its row (-1 and 0
//         for an empty bag; the first of equal values)
// Backward: dweight[index[i]] += s_i g[b] (sum), g[b] / count[b] (mean), and
// dweight[argmax[b, d], d] += g[b, d] (max); dpsw[i] = g[b] . w[index[i]]
// (0 for padding).
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

enum class BagMode : int8_t { Sum, Mean, Max };

struct EmbeddingBagParams {
  int64_t n = 0, B = 0, V = 0, D = 0, padding_idx = -1;
  BagMode mode = BagMode::Mean;
};

namespace cpu {
// Deterministic: each thread owns a range of weight rows and scans the
// indices in order. Returns -1 or the position of the first index outside
// [0, num_weights).
int64_t embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n,
                           int64_t num_weights, int64_t D, int64_t padding_idx);

// out [B, D]; argmax [B, D] (max only, else null); count [B] (mean only, else
// null), in the weight's dtype; psw [n] or null. The offsets must be valid
// (the front end checks them). Returns -1 or the first entry whose index is
// outside [0, V) (every entry is checked, even with no bags or columns).
int64_t embedding_bag_forward(DType dt, void* out, int64_t* argmax, void* count, const void* weight,
                              const int64_t* index, const int64_t* offsets, const void* psw,
                              const EmbeddingBagParams& p);
// dweight [V, D] zeroed by the caller; grad [B, D] contiguous. Deterministic:
// each thread owns a range of weight rows.
void embedding_bag_backward(DType dt, void* dweight, const void* grad, const int64_t* index, const int64_t* offsets,
                            const int64_t* argmax, const void* count, const void* psw, const EmbeddingBagParams& p);
// dpsw [n] (sum mode).
void embedding_bag_psw_backward(DType dt, void* dpsw, const void* grad, const void* weight, const int64_t* index,
                                const int64_t* offsets, const EmbeddingBagParams& p);
}  // namespace cpu

namespace cuda {
// Atomic adds: the summation order is not fixed. Indices outside
// [0, num_weights) are skipped (the forward lookup already reported them).
void embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n, int64_t num_weights,
                        int64_t D, int64_t padding_idx, cudaStream_t stream);

// As the CPU twins. An index outside [0, V) or offsets that are not
// non-decreasing from 0 to at most n set *error_flag (raised at the next
// sync point); the entry is skipped, the bag's range clipped. The weight
// gradient uses atomic adds (the summation order is not fixed).
void embedding_bag_forward(DType dt, void* out, int64_t* argmax, void* count, const void* weight, const int64_t* index,
                           const int64_t* offsets, const void* psw, const EmbeddingBagParams& p, int* error_flag,
                           cudaStream_t stream);
void embedding_bag_backward(DType dt, void* dweight, const void* grad, const int64_t* index, const int64_t* offsets,
                            const int64_t* argmax, const void* count, const void* psw, const EmbeddingBagParams& p,
                            cudaStream_t stream);
void embedding_bag_psw_backward(DType dt, void* dpsw, const void* grad, const void* weight, const int64_t* index,
                                const int64_t* offsets, const EmbeddingBagParams& p, cudaStream_t stream);
}  // namespace cuda

}  // namespace loom::kernels
