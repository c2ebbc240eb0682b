// Fused loss kernels: the contract of kernels/cpu/loss.cpp and
// kernels/cuda/loss.cu (cross-entropy, NLL, BCE with logits), kernels/cpu/ctc.cpp and
// kernels/cuda/ctc.cu (CTC), see kernels/contract.h. On CUDA a target outside
// [0, C) (and not ignore_index; for CTC, or the blank) sets *error_flag = 1
// (raised at the next sync point) and its row or sample gets zeros.
#pragma once
#include <cstdint>
#include "kernels/contract.h"
#include "kernels/loops.h"

namespace loom::kernels {

// Connectionist temporal classification (F.ctc_loss). log_probs [T, N, C]
// contiguous; sample n reads lens[n] time steps (its input length, <= T) and
// the lens[N + n] labels at targets[lens[2N + n] ...] (its target length and
// offset: lens is int64 [3, N]). Its extended labels are l' = (blank, l_0,
// blank, l_1, ..., blank), Sp = 2 L + 1 of them; log_alpha and log_beta are
// [N, T, W] with W = 2 S + 1 (S the longest target), row t of sample n valid
// for t < T_n and s < Sp:
//   alpha[0, s] = lp[0, l'_s] for s < 2, -inf beyond;
//   alpha[t, s] = lp[t, l'_s] + logsumexp(alpha[t-1, s], alpha[t-1, s-1],
//                 alpha[t-1, s-2] if l'_s != blank and l'_s != l'_{s-2});
//   nll = -logsumexp(alpha[T_n-1, Sp-1], alpha[T_n-1, Sp-2]): +inf when no
//   alignment fits, 0 when T_n = 0 and L = 0.
// beta is the mirror image (from the end, lp[t] included), and the gradient
// with respect to the log-probabilities themselves (not to logits under a
// log_softmax) is
//   dlp[t, n, c] = -g[n] exp(logsumexp_{s: l'_s = c}(alpha + beta)[t, s] + nll - lp[t, n, c])
// for t < T_n, 0 beyond; with zero_infinity a sample whose nll is +inf gets 0.
struct CtcParams {
  int64_t T = 0, N = 0, C = 0, S = 0, blank = 0;
  bool zero_infinity = false;
  int64_t width() const { return 2 * S + 1; }
};

}  // namespace loom::kernels

namespace loom::kernels::cpu {

// nll [N], log_alpha [N, T, W] (saved for backward). Returns -1, or the first
// sample with a label outside [0, C) or equal to the blank (its nll is 0).
int64_t ctc_loss_forward(DType dt, void* nll, void* log_alpha, const void* log_probs, const int64_t* targets,
                         const int64_t* lens, const CtcParams& p);
// dlog_probs [T, N, C] from grad [N] (contiguous), nll and log_alpha of the
// forward; log_beta [N, T, W] is workspace.
void ctc_loss_backward(DType dt, void* dlog_probs, void* log_beta, const void* grad, const void* log_probs,
                       const int64_t* targets, const int64_t* lens, const void* nll, const void* log_alpha,
                       const CtcParams& p);

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

// Negative log-likelihood of log-probabilities x [N, C, K] (contiguous; K the
// product of the dims after the class dim, 1 for [N, C]) at int64 targets
// [N, K], optional class weight [C] (null: all 1), row m = n K + k:
//   loss[m] = -w[t] x[n, t, k],  roww[m] = w[t]  (t = target[m])
// Rows with t == ignore_index get 0 for both. Returns -1, or a row whose target
// is outside [0, C) (its loss and weight are 0).
int64_t nll_loss_forward(DType dt, void* loss, void* roww, const void* x, const int64_t* target, const void* weight,
                         int64_t N, int64_t C, int64_t K, int64_t ignore_index);
// dx [N, C, K] (every element written): -g[m] w[t] at c == t = target[m], 0
// elsewhere and in ignored or out-of-range rows; g[m] = grad[m * grad_stride].
void nll_loss_backward(DType dt, void* dx, const int64_t* target, const void* weight, const void* grad,
                       int64_t grad_stride, int64_t N, int64_t C, int64_t K, int64_t ignore_index);

// Binary cross-entropy with logits, elementwise over a loop (operands 0 out, 1 x, 2 t; backward 3 g):
//   forward   out = (1 - t) x + softplus(-x),  softplus(-x) = max(-x, 0) + log1p(exp(-|x|))
//   backward  out = g (sigmoid(x) - t)  (the gradient with respect to x)
void bce_logits_forward(DType dt, void* out, const void* x, const void* t, const ElementwiseLoop& loop);
void bce_logits_backward(DType dt, void* dx, const void* x, const void* t, const void* g, const ElementwiseLoop& loop);

}  // namespace loom::kernels::cpu

namespace loom::kernels::cuda {

void cross_entropy_forward(DType dt, void* loss, void* lse, void* roww, const void* logits, const int64_t* target,
                           const void* weight, int64_t M, int64_t C, int64_t ignore_index, double smoothing,
                           int* error_flag, cudaStream_t stream);
void cross_entropy_backward(DType dt, void* dlogits, const void* logits, const int64_t* target, const void* weight,
                            const void* lse, const void* grad, int64_t grad_stride, int64_t M, int64_t C,
                            int64_t ignore_index, double smoothing, cudaStream_t stream);

void nll_loss_forward(DType dt, void* loss, void* roww, const void* x, const int64_t* target, const void* weight,
                      int64_t N, int64_t C, int64_t K, int64_t ignore_index, int* error_flag, cudaStream_t stream);
void nll_loss_backward(DType dt, void* dx, const int64_t* target, const void* weight, const void* grad,
                       int64_t grad_stride, int64_t N, int64_t C, int64_t K, int64_t ignore_index, cudaStream_t stream);

void bce_logits_forward(DType dt, void* out, const void* x, const void* t, const ElementwiseLoop& loop,
                        cudaStream_t stream);
void bce_logits_backward(DType dt, void* dx, const void* x, const void* t, const void* g, const ElementwiseLoop& loop,
                         cudaStream_t stream);

void ctc_loss_forward(DType dt, void* nll, void* log_alpha, const void* log_probs, const int64_t* targets,
                      const int64_t* lens, const CtcParams& p, int* error_flag, cudaStream_t stream);
void ctc_loss_backward(DType dt, void* dlog_probs, void* log_beta, const void* grad, const void* log_probs,
                       const int64_t* targets, const int64_t* lens, const void* nll, const void* log_alpha,
                       const CtcParams& p, cudaStream_t stream);

}  // namespace loom::kernels::cuda
