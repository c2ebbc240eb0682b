// Fused scaled-dot-product attention: the contract of
// kernels/cpu/attention.cpp and kernels/cuda/attention.cu (see
// kernels/contract.h).
//
// out[b,h,i,:] = sum_j P[i,j] * Z[i,j] * v[b,h,j,:], P = softmax_j(S), with
// S[i,j] = scale * q[b,h,i,:].k[b,h,j,:] (+ float mask) and -inf where the
// causal mask (j > i) or a boolean mask (false) removes key j. Z is the
// dropout factor: 1/(1-p) for kept weights, 0 for dropped ones.
// Layouts: q [B,H,Lq,D], k [B,H,Lk,D], v [B,H,Lk,Dv], out [B,H,Lq,Dv],
// contiguous; lse [B,H,Lq] = log sum_j exp(S[i,j]) (before dropout), saved for
// backward. A row with every key masked gets out = 0 and lse = -inf (PyTorch
// gives NaN there). Both devices read masks and draw dropout exactly the same
// way (AttentionParams, attention_dropout_u). CUDA: D and Dv <= 128.
#pragma once
#include <cstdint>
#include "kernels/contract.h"
#include "core/philox.h"

namespace loom::kernels {

struct AttentionParams {
  int64_t B = 0, H = 0, Lq = 0, Lk = 0, D = 0, Dv = 0;
  double scale = 1.0;
  bool causal = false;  // top-left aligned: key j is visible to query i iff j <= i
  // Optional mask read through element strides (0 on broadcast dims), so a
  // [B,1,1,Lk] key-padding mask is never expanded. Bool: true = attend.
  // Float masks have the dtype of q and are added to the scores.
  const void* mask = nullptr;
  bool mask_is_bool = false;
  int64_t mask_stride[4] = {0, 0, 0, 0};  // b, h, i, j
  // Dropout on the attention weights; the keep mask of element
  // e = ((b*H + h)*Lq + i)*Lk + j is a pure function of (seed, offset, e).
  double dropout_p = 0.0;
  uint64_t seed = 0, offset = 0;
};

// Uniform in [0,1) for score element e; the weight is dropped when it is < p.
// The same 24-bit float draw on both devices and for every dtype.
LOOM_HD float attention_dropout_uniform(uint64_t seed, uint64_t offset, uint64_t e) {
  return philox::to_unit_float(philox::lane(philox::block(seed, offset + e / 4), static_cast<int>(e % 4)));
}

namespace cpu {

// out [B,H,Lq,Dv], lse [B,H,Lq]; dt is Float32 or Float64 (lse has dtype dt).
// probs: null, or [B,H,Lq,Lk] that receives P (the softmax before dropout; 0
// for masked keys and fully masked rows) for the backward to reuse.
void attention_forward(DType dt, void* out, void* lse, const void* q, const void* k, const void* v,
                       const AttentionParams& p, void* probs = nullptr);

// Gradients of the inputs given grad_out; dq, dk, dv are overwritten. out and
// lse are the forward's; P is read from probs (the forward's) when it is not
// null, else recomputed from q, k and lse; the dropout mask is regenerated
// from (seed, offset).
void attention_backward(DType dt, void* dq, void* dk, void* dv, const void* grad_out, const void* q, const void* k,
                        const void* v, const void* out, const void* lse, const AttentionParams& p,
                        const void* probs = nullptr);

}  // namespace cpu
}  // namespace loom::kernels

namespace loom::kernels::cuda {

// out [B,H,Lq,Dv], lse [B,H,Lq]; dt is Float32 or Float64.
void attention_forward(DType dt, void* out, void* lse, const void* q, const void* k, const void* v,
                       const AttentionParams& p, cudaStream_t stream);

// dq, dk, dv are overwritten. workspace: B*H*Lq elements of dt (holds
// Delta = rowsum(grad_out * out)).
void attention_backward(DType dt, void* dq, void* dk, void* dv, const void* grad_out, const void* q, const void* k,
                        const void* v, const void* out, const void* lse, void* workspace, const AttentionParams& p,
                        cudaStream_t stream);

}  // namespace loom::kernels::cuda
