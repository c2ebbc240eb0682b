// Multimodal-fusion kernels: the contract of kernels/cpu/fusion.cpp and
// kernels/cuda/fusion.cu (see kernels/contract.h). The fused epilogues and
// backward pointwise passes of gated fusion, FiLM, low-rank bilinear pooling,
// the CLIP loss and the linear layer's bias + activation. Raw pointers to
// contiguous row-major data of dtype float32 or float64. The GEMMs around
// them go through kernels/matmul.h. CUDA also has the cuBLASLt linear with a
// fused bias / activation epilogue.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/contract.h"

namespace loom::kernels::cpu {

// Gated fusion epilogue over [B, D]: gate = sigmoid(z + bias[j]) (gate may
// alias z; bias [D] may be null), out = gate * a + (1 - gate) * b. gate is
// saved for backward.
void gated_fusion_forward(DType dt, void* out, void* gate, const void* z, const void* bias, const void* a,
                          const void* b, int64_t B, int64_t D);
// dz = dout * (a - b) * gate * (1 - gate), da = dout * gate, db = dout * (1 - gate)
// (the pointwise parts; the caller adds dz W_a, dz W_b with GEMMs). da, db may be null.
void gated_fusion_backward(DType dt, void* dz, void* da, void* db, const void* dout, const void* a, const void* b,
                           const void* gate, int64_t n);

// FiLM epilogue: gb [B, 2D] holds [gamma | beta] per row; a, out [B, D]:
// out = gamma * a + beta (the halves are read in place, never split).
void film_forward(DType dt, void* out, const void* gb, const void* a, int64_t B, int64_t D);
// dgb [B, 2D] = [dout * a | dout]; da [B, D] = dout * gamma (may be null).
void film_backward(DType dt, void* dgb, void* da, const void* dout, const void* gb, const void* a, int64_t B,
                   int64_t D);

// Low-rank bilinear product: h = pa * pb over n elements.
void bilinear_product(DType dt, void* h, const void* pa, const void* pb, int64_t n);
// dpa = dh * pb, dpb = dh * pa in one pass; either output may be null.
void bilinear_product_backward(DType dt, void* dpa, void* dpb, const void* dh, const void* pa, const void* pb,
                               int64_t n);

// CLIP / InfoNCE loss on sim [N, N] = img txt^T (unscaled) with s = exp(*logit_scale):
// logits L = s * sim; row_lse[i] = logsumexp_j L[i, j], col_lse[j] = logsumexp_i L[i, j]
// (both saved); *loss = sum_i (row_lse[i] + col_lse[i] - 2 L[i, i]) / (2N).
// logit_scale and loss are single values of dtype dt.
void clip_loss_forward(DType dt, void* loss, void* row_lse, void* col_lse, const void* sim, const void* logit_scale,
                       int64_t N);
// dsim = s * dloss * (exp(L - row_lse[i]) + exp(L - col_lse[j]) - 2 [i == j]) / (2N) (= d loss / d sim), and
// scale_partial[i] = sum_j dsim[i, j] * sim[i, j], whose sum is d loss / d logit_scale.
void clip_loss_backward(DType dt, void* dsim, void* scale_partial, const void* dloss, const void* sim,
                        const void* row_lse, const void* col_lse, const void* logit_scale, int64_t N);

// Linear epilogue. Activation: 0 none, 1 relu, 2 gelu (tanh approximation, as
// cuBLASLt's GELU epilogue). y [M, O] is updated in place: y = act(y + bias);
// when pre is non-null it receives y + bias before the activation (saved for
// the GELU backward; ReLU's backward reads the output). bias may be null.
enum class Activation : int { None = 0, Relu = 1, Gelu = 2 };
void bias_activation(DType dt, void* y, void* pre, const void* bias, int64_t M, int64_t O, Activation act);
// dz = dy * act'(saved) over n elements: saved is the output for ReLU, the
// pre-activation for GELU (dz may alias dy).
void activation_backward(DType dt, void* dz, const void* dy, const void* saved, int64_t n, Activation act);

}  // namespace loom::kernels::cpu

namespace loom::kernels::cuda {

void gated_fusion_forward(DType dt, void* out, void* gate, const void* z, const void* bias, const void* a,
                          const void* b, int64_t B, int64_t D, cudaStream_t stream);
void gated_fusion_backward(DType dt, void* dz, void* da, void* db, const void* dout, const void* a, const void* b,
                           const void* gate, int64_t n, cudaStream_t stream);

void film_forward(DType dt, void* out, const void* gb, const void* a, int64_t B, int64_t D, cudaStream_t stream);
void film_backward(DType dt, void* dgb, void* da, const void* dout, const void* gb, const void* a, int64_t B, int64_t D,
                   cudaStream_t stream);

void bilinear_product(DType dt, void* h, const void* pa, const void* pb, int64_t n, cudaStream_t stream);
void bilinear_product_backward(DType dt, void* dpa, void* dpb, const void* dh, const void* pa, const void* pb,
                               int64_t n, cudaStream_t stream);

// logit_scale, loss, dloss are device pointers (no host synchronisation).
void clip_loss_forward(DType dt, void* loss, void* row_lse, void* col_lse, const void* sim, const void* logit_scale,
                       int64_t N, cudaStream_t stream);
void clip_loss_backward(DType dt, void* dsim, void* scale_partial, const void* dloss, const void* sim,
                        const void* row_lse, const void* col_lse, const void* logit_scale, int64_t N,
                        cudaStream_t stream);

// act: 0 none, 1 relu, 2 gelu (tanh approximation), as kernels::cpu::Activation.
void bias_activation(DType dt, void* y, void* pre, const void* bias, int64_t M, int64_t O, int act,
                     cudaStream_t stream);
void activation_backward(DType dt, void* dz, const void* dy, const void* saved, int64_t n, int act,
                         cudaStream_t stream);

// Bytes of device workspace linear_forward may use (the caller allocates it
// from loom's caching allocator).
size_t linear_workspace_bytes();
// y [M, O] = act(x [M, K] w[O, K]^T + bias[O]); pre (may be null) receives
// x w^T + bias before the activation. float32: one cublasLtMatmul with the
// BIAS / RELU_BIAS / GELU_BIAS epilogue (TF32 only when allow_tf32); when pre
// is wanted with GELU, the BIAS epilogue writes pre and a pointwise kernel
// the output. float64: cuBLAS GEMM + the bias_activation kernel.
void linear_forward(DType dt, void* y, void* pre, const void* x, const void* w, const void* bias, int64_t M, int64_t O,
                    int64_t K, int act, bool allow_tf32, void* workspace, size_t workspace_bytes, cudaStream_t stream);

}  // namespace loom::kernels::cuda
