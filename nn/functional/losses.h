// Loss functions with torch.nn.functional's names, argument order, defaults
// and reduction semantics, composed from the differentiable ops of autograd/
// (so every loss differentiates, to first and higher order, on CPU and CUDA).
// cross_entropy, nll_loss and binary_cross_entropy_with_logits are the fused ops of
// autograd/ops/loss.h, re-exported here.
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

#include "autograd/ops/loss.h"
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

// ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
// zero_infinity): the fused loom::ctc_loss of autograd/ops/loss.h.
using ::loom::ctc_loss;

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

// ||x1 - x2 + eps||_p over the last dim of the broadcast inputs ([N, D] -> [N],
// [D] -> []; keepdim keeps it as size 1); p >= 0.
Tensor pairwise_distance(const Tensor& x1, const Tensor& x2, double p = 2.0, double eps = 1e-6, bool keepdim = false);

// max(0, -target (input1 - input2) + margin): input1 should rank higher where
// target is 1, lower where it is -1. All three have the same number of dims
// and broadcast.
Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin = 0.0,
                           const std::string& reduction = "mean");

// max(0, margin + d(anchor, positive) - d(anchor, negative)) with d =
// pairwise_distance(., ., p, eps); swap also takes d(positive, negative) when
// it is smaller (the distance swap of Balntas et al.). [N, D] inputs (or [D]),
// all with the same number of dims; margin > 0.
Tensor triplet_margin_loss(const Tensor& anchor, const Tensor& positive, const Tensor& negative, double margin = 1.0,
                           double p = 2.0, double eps = 1e-6, bool swap = false, const std::string& reduction = "mean");

// input where target == 1, max(0, margin - input) where target == -1 (as
// PyTorch: a target other than +-1 takes both terms).
Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, double margin = 1.0,
                            const std::string& reduction = "mean");

// log(1 + exp(-target input)), computed without overflow.
Tensor soft_margin_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");

// Per sample, the mean over the C classes (last dim) of
// -w [y log(sigmoid(x)) + (1 - y) log(sigmoid(-x))]; input [N, C] or [C].
Tensor multilabel_soft_margin_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                   const std::string& reduction = "mean");

// Per sample, sum over the classes i != y of w[y] max(0, margin - x[y] +
// x[i])^p, divided by C; p is 1 or 2; input [N, C] with int64 target [N], or
// [C] with [].
Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int64_t p = 1, double margin = 1.0,
                         const Tensor& weight = {}, const std::string& reduction = "mean");

// exp(input) - target input (log_input), else input - target log(input + eps);
// full adds Stirling's approximation of log(target!) where target > 1.
Tensor poisson_nll_loss(const Tensor& input, const Tensor& target, bool log_input = true, bool full = false,
                        double eps = 1e-8, const std::string& reduction = "mean");

// 0.5 (log(v) + (input - target)^2 / v) (+ 0.5 log(2 pi) when full), v = var
// clamped to >= eps (the gradient passes the clamp, as PyTorch's no-grad
// clamp). var has input's shape, or input's without the last dim, or input's
// with one dim of size 1; an entry < 0 raises ValueError.
Tensor gaussian_nll_loss(const Tensor& input, const Tensor& target, const Tensor& var, bool full = false,
                         double eps = 1e-6, const std::string& reduction = "mean");

// x / max(||x||_p over dim, eps).
Tensor normalize(const Tensor& input, double p = 2.0, int64_t dim = 1, double eps = 1e-12);

// sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) over dim (inputs broadcast).
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);

}  // namespace loom::nn::functional
