// Loss functions (torch.nn.functional names and argument order), implemented
// in autograd/ops/loss.cpp.
#pragma once
#include <string>
#include "core/tensor.h"

namespace loom {

// Fused cross-entropy of logits input [N, C] (or [C], or [N, C, d1, ...]) with
// int64 class targets [N] ([], [N, d1, ...]); optional class weight [C];
// targets equal to ignore_index contribute nothing; label_smoothing mixes the
// one-hot target with the uniform distribution. reduction: "mean" (weighted
// mean over non-ignored targets, as PyTorch), "sum" or "none".
// One kernel computes the loss and the per-row log-sum-exp (saved), one
// kernel computes dlogits in backward. No gradient flows to weight or target.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                     const std::string& reduction = "mean", double label_smoothing = 0.0);

// Negative log-likelihood of log-probabilities input [N, C] ([C], or [N, C, d1, ...]) at int64 class targets
// [N] ([], [N, d1, ...]); optional class weight [C]; targets equal to ignore_index contribute nothing;
// reduction "mean" divides by the summed weights of the other targets. One kernel gathers the loss and the
// row weights, one writes the input gradient (kernels/loss.h). No gradient flows to weight or target.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                const std::string& reduction = "mean");

// -w [p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] of logits x = input and targets t of the same shape,
// as (1 - t) x + (1 + (p - 1) t) softplus(-x); weight w broadcasts to input, pos_weight p over the trailing
// (class) dim. Without pos_weight one kernel computes the elementwise loss and one its gradient
// g (sigmoid(x) - t) (kernels/loss.h); with it, a composition. reduction "mean", "sum" or "none".
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        const std::string& reduction = "mean", const Tensor& pos_weight = {});

// Connectionist temporal classification of log_probs [T, N, C] ([T, C]
// unbatched) against int64 / int32 targets, padded [N, S] or concatenated
// 1-D, with one input length (<= T) and one target length per sample; blank
// separates repeated labels. reduction "mean" divides each loss by its target
// length (at least 1), then averages; zero_infinity turns the +inf loss of a
// target that no alignment fits (and its gradient) into 0. One kernel runs
// the alpha recursion (kept for backward), backward the beta recursion and
// the gradient with respect to log_probs (kernels/loss.h). Not differentiable
// twice. The Tensor-lengths form reads the lengths to the host.
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Dims& input_lengths, const Dims& target_lengths,
                int64_t blank = 0, const std::string& reduction = "mean", bool zero_infinity = false);
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, int64_t blank = 0, const std::string& reduction = "mean",
                bool zero_infinity = false);

// Huber loss of input and target (broadcast, floating): 0.5 d^2 where |d| = |input - target| < delta,
// else delta (|d| - 0.5 delta); delta > 0. reduction "mean", "sum" or "none". One kernel for the elementwise
// loss and one for its gradient (kernels/activation.h, ActivationOp::Huber) after the difference.
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean", double delta = 1.0);
// Smooth L1 loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta >= 0 (0: the L1 loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                      double beta = 1.0);

}  // namespace loom
