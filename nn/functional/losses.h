// Loss functions with torch.nn.functional's names, argument order, defaults
// and reduction semantics, composed from the differentiable ops of autograd/
// (so every loss differentiates, to first and higher order, on CPU and CUDA).
// cross_entropy is the fused op of autograd/ops/loss.h, re-exported here.
//
// reduction: "mean" (average over all elements; nll_loss and cross_entropy
// divide by the summed class weights of the non-ignored targets, as PyTorch),
// "sum", or "none" (the unreduced per-element / per-sample loss). kl_div also
// accepts "batchmean" (sum divided by the batch size input.size(0)).
// Errors are loom::Error naming the loss and the offending shapes: ValueError
// for a bad reduction string or (BCE forms) a target size different from the
// input size, RuntimeError for other shape mismatches, TypeError for dtypes.
#pragma once
#include <string>

#include "core/tensor.h"

namespace loom::nn::functional {

// Applies reduction ("mean", "sum", "none") to an unreduced loss; op names
// the loss in the error for an invalid string.
Tensor apply_loss_reduction(const Tensor& loss, const std::string& reduction, const char* op);

// Negative log-likelihood of log-probabilities input [N, C] ([C], or
// [N, C, d1, ...]) at int64 class targets [N] ([], [N, d1, ...]); optional
// class weight [C]; targets equal to ignore_index contribute nothing.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                const std::string& reduction = "mean");

// cross_entropy of loom::cross_entropy (fused log_softmax + nll_loss).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                     const std::string& reduction = "mean", double label_smoothing = 0.0);

// (input - target)^2; input and target broadcast (PyTorch warns, loom does not).
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");

// |input - target|.
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");

// 0.5 d^2 / beta where d = |input - target| < beta, else d - 0.5 beta
// (l1_loss when beta == 0); beta must be >= 0.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                      double beta = 1.0);

// 0.5 d^2 where d < delta, else delta (d - 0.5 delta); delta must be > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean", double delta = 1.0);

// -w [y log(x) + (1 - y) log(1 - x)] of probabilities input in [0, 1], with
// each log clamped to >= -100 as PyTorch; target must have input's size;
// weight broadcasts to it.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            const std::string& reduction = "mean");

// -w [p y log(sigmoid(x)) + (1 - y) log(1 - sigmoid(x))] of logits input,
// computed stably as (1 - y) x + (1 + (p - 1) y) softplus(-x) with
// softplus(-x) = m + log(exp(-m) + exp(-x - m)), m = max(-x, 0) (exact
// gradient sigmoid(x) - y everywhere, also at x = 0). pos_weight p broadcasts
// over the trailing (class) dim, weight to input.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        const std::string& reduction = "mean", const Tensor& pos_weight = {});

// 1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where
// target == -1 (0 otherwise); x1, x2 [N, D] with target [N], or [D] with [].
Tensor cosine_embedding_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin = 0.0,
                             const std::string& reduction = "mean");

// Pointwise KL divergence of log-probabilities input against target
// (probabilities, or log-probabilities when log_target):
// target (log target - input), 0 where target == 0. reduction also
// "batchmean" (PyTorch's recommended mode for the true KL divergence).
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
              bool log_target = false);

// x / max(||x||_p over dim, eps).
Tensor normalize(const Tensor& input, double p = 2.0, int64_t dim = 1, double eps = 1e-12);

// sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) over dim (inputs broadcast).
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);

}  // namespace loom::nn::functional
