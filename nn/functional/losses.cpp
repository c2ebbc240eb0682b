// Loss functions composed from the differentiable ops (see losses.h).
#include "nn/functional/losses.h"

#include <cmath>

#include "autograd/ops/loss.h"
#include "core/error.h"

namespace loom::nn::functional {
namespace {

void check_reduction(const std::string& reduction, const char* op, bool allow_batchmean = false) {
  LOOM_CHECK_VALUE(
      reduction == "mean" || reduction == "sum" || reduction == "none" || (allow_batchmean && reduction == "batchmean"),
      op, ": ", reduction, " is not a valid value for reduction (expected 'mean', 'sum' or 'none'",
      allow_batchmean ? " or 'batchmean')" : ")");
}

void check_floating(const Tensor& t, const char* op, const char* arg) {
  LOOM_CHECK(t.defined(), op, ": ", arg, " is undefined");
  LOOM_CHECK_TYPE(is_floating(t.dtype()), op, ": expected a floating point ", arg, ", got ", dtype_name(t.dtype()));
}

// The broadcast shape of a and b, or a RuntimeError naming the op and both shapes.
Shape broadcast_or_throw(const Tensor& a, const Tensor& b, const char* op, const char* na, const char* nb) {
  try {
    return broadcast_shapes(a.sizes(), b.sizes());
  } catch (const Error&) {
    LOOM_THROW(ErrorKind::Runtime, op, ": ", na, " of shape ", a.sizes(), " and ", nb, " of shape ", b.sizes(),
               " are not broadcastable");
  }
}

// Input and target of the regression losses: floating, broadcastable.
void check_pair(const Tensor& input, const Tensor& target, const char* op) {
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  (void)broadcast_or_throw(input, target, op, "input", "target");
}

}  // namespace

Tensor apply_loss_reduction(const Tensor& loss, const std::string& reduction, const char* op) {
  check_reduction(reduction, op);
  if (reduction == "none") return loss;
  return reduction == "sum" ? loss.sum() : loss.mean();
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                const std::string& reduction) {
  return loom::nll_loss(input, target, weight, ignore_index, reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     const std::string& reduction, double label_smoothing) {
  return loom::cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  const char* op = "mse_loss";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  return apply_loss_reduction((input - target).square(), reduction, op);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  const char* op = "l1_loss";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  return apply_loss_reduction((input - target).abs(), reduction, op);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
  return loom::smooth_l1_loss(input, target, reduction, beta);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double delta) {
  return loom::huber_loss(input, target, reduction, delta);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            const std::string& reduction) {
  const char* op = "binary_cross_entropy";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  LOOM_CHECK_VALUE(target.sizes() == input.sizes(), op, ": using a target size (", target.sizes(),
                   ") that is different to the input size (", input.sizes(),
                   ") is not supported; ensure they have the same size");
  if (input.numel() > 0 && !input.is_cuda()) {
    const double lo = input.min().item<double>(), hi = input.max().item<double>();
    LOOM_CHECK(lo >= 0.0 && hi <= 1.0, op, ": all elements of input should be between 0 and 1, got [", lo, ", ", hi,
               "]");
  }
  Tensor log_x = input.log().clamp(Scalar(-100.0));
  Tensor log_1mx = (1.0 - input).log().clamp(Scalar(-100.0));
  Tensor loss = -(target * log_x + (1.0 - target) * log_1mx);
  if (weight.defined()) {
    check_floating(weight, op, "weight");
    LOOM_CHECK(broadcast_shapes(weight.sizes(), input.sizes()) == input.sizes(), op, ": weight of shape ",
               weight.sizes(), " does not broadcast to input of shape ", input.sizes());
    loss = loss * weight;
  }
  return apply_loss_reduction(loss, reduction, op);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const std::string& reduction, const Tensor& pos_weight) {
  return loom::binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight);
}

Tensor cosine_embedding_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin,
                             const std::string& reduction) {
  const char* op = "cosine_embedding_loss";
  check_reduction(reduction, op);
  check_floating(input1, op, "input1");
  check_floating(input2, op, "input2");
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  LOOM_CHECK(input1.sizes() == input2.sizes(), op, ": input1 of shape ", input1.sizes(), " and input2 of shape ",
             input2.sizes(), " must have the same shape");
  LOOM_CHECK(input1.dim() == 1 || input1.dim() == 2, op, ": expected 1-D or 2-D inputs, got ", input1.sizes());
  Shape expected = input1.sizes();
  expected.pop_back();
  LOOM_CHECK(target.sizes() == expected, op, ": expected target of shape ", expected, " for inputs of shape ",
             input1.sizes(), ", got ", target.sizes());
  const int64_t d = input1.dim() - 1;
  const double EPSILON = 1e-12;  // as PyTorch
  Tensor prod_sum = (input1 * input2).sum({d});
  Tensor mag1 = input1.square().sum({d}) + EPSILON;
  Tensor mag2 = input2.square().sum({d}) + EPSILON;
  Tensor cos = prod_sum / (mag1 * mag2).sqrt();
  Tensor zeros = zeros_like(cos);
  Tensor pos = 1.0 - cos;
  Tensor neg = (cos - margin).clamp(Scalar(0.0));
  Tensor loss = where(target.eq(Scalar(int64_t(1))), pos, zeros) + where(target.eq(Scalar(int64_t(-1))), neg, zeros);
  return apply_loss_reduction(loss, reduction, op);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
  const char* op = "kl_div";
  check_reduction(reduction, op, /*allow_batchmean=*/true);
  check_pair(input, target, op);
  Tensor loss;
  if (log_target) {
    loss = target.exp() * (target - input);
  } else {
    // xlogy(t, t) - t x, with 0 log 0 = 0 (log of 1 where t <= 0: no NaN in
    // the value or the gradient).
    Tensor safe = where(target.gt(Scalar(0.0)), target, Scalar(1.0));
    loss = target * safe.log() - target * input;
  }
  if (reduction == "batchmean") {
    const double n = input.dim() > 0 ? static_cast<double>(input.size(0)) : 1.0;
    return loss.sum() / n;
  }
  return apply_loss_reduction(loss, reduction, op);
}

namespace {

// log(1 + exp(z)) = m + log(exp(-m) + exp(z - m)) with m = max(z, 0): no
// overflow, and the value does not depend on m, so the gradient through m
// cancels and sigmoid(z) is exact everywhere (also at z = 0).
Tensor softplus_stable(const Tensor& z) {
  Tensor m = z.clamp(Scalar(0.0));
  return m + (m.neg().exp() + (z - m).exp()).log();
}

}  // namespace

Tensor pairwise_distance(const Tensor& x1, const Tensor& x2, double p, double eps, bool keepdim) {
  const char* op = "pairwise_distance";
  check_floating(x1, op, "x1");
  check_floating(x2, op, "x2");
  const Shape shape = broadcast_or_throw(x1, x2, op, "x1", "x2");
  LOOM_CHECK(!shape.empty(), op, ": expected inputs with at least 1 dimension, got ", x1.sizes(), " and ", x2.sizes());
  LOOM_CHECK_VALUE(p >= 0, op, ": p must be non-negative, got ", p);
  return (x1 - x2 + eps).norm(p, {int64_t(shape.size()) - 1}, keepdim);
}

Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target, double margin,
                           const std::string& reduction) {
  const char* op = "margin_ranking_loss";
  check_reduction(reduction, op);
  check_floating(input1, op, "input1");
  check_floating(input2, op, "input2");
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  LOOM_CHECK(input1.dim() == input2.dim() && input1.dim() == target.dim(), op,
             ": all input tensors should have the same number of dimensions, got input1 ", input1.sizes(), ", input2 ",
             input2.sizes(), ", target ", target.sizes());
  (void)broadcast_or_throw(input1, input2, op, "input1", "input2");
  (void)broadcast_or_throw(input1.expand(broadcast_shapes(input1.sizes(), input2.sizes())), target, op, "input1",
                           "target");
  Tensor loss = (target.to(input1.dtype()).neg() * (input1 - input2) + margin).clamp(Scalar(0.0));
  return apply_loss_reduction(loss, reduction, op);
}

Tensor triplet_margin_loss(const Tensor& anchor, const Tensor& positive, const Tensor& negative, double margin,
                           double p, double eps, bool swap, const std::string& reduction) {
  const char* op = "triplet_margin_loss";
  check_reduction(reduction, op);
  LOOM_CHECK_VALUE(margin > 0, op, ": margin must be greater than 0, got ", margin);
  check_floating(anchor, op, "anchor");
  check_floating(positive, op, "positive");
  check_floating(negative, op, "negative");
  LOOM_CHECK(anchor.dim() == positive.dim() && positive.dim() == negative.dim(), op,
             ": the anchor, positive and negative tensors are expected to have the same number of dimensions, got "
             "anchor ",
             anchor.sizes(), ", positive ", positive.sizes(), " and negative ", negative.sizes());
  Tensor d_pos = pairwise_distance(anchor, positive, p, eps);
  Tensor d_neg = pairwise_distance(anchor, negative, p, eps);
  if (swap) d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps));
  return apply_loss_reduction((d_pos - d_neg + margin).clamp(Scalar(0.0)), reduction, op);
}

Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, double margin, const std::string& reduction) {
  const char* op = "hinge_embedding_loss";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  (void)broadcast_or_throw(input, target, op, "input", "target");
  Tensor t = target.to(input.dtype());
  Tensor zeros = zeros_like(input);
  Tensor loss =
      where(t.ne(Scalar(1.0)), (margin - input).clamp(Scalar(0.0)), zeros) + where(t.ne(Scalar(-1.0)), input, zeros);
  return apply_loss_reduction(loss, reduction, op);
}

Tensor soft_margin_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  const char* op = "soft_margin_loss";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  return apply_loss_reduction(softplus_stable(input.neg() * target), reduction, op);
}

Tensor multilabel_soft_margin_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                                   const std::string& reduction) {
  const char* op = "multilabel_soft_margin_loss";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  LOOM_CHECK(input.dim() >= 1, op, ": expected input with at least 1 dimension (classes last), got ", input.sizes());
  // -[y log sigmoid(x) + (1 - y) log sigmoid(-x)] = y softplus(-x) + (1 - y) softplus(x)
  Tensor loss = target * softplus_stable(input.neg()) + (1.0 - target) * softplus_stable(input);
  if (weight.defined()) {
    check_floating(weight, op, "weight");
    loss = loss * weight;
  }
  const int64_t c = input.dim() - 1;
  loss = loss.sum({c}) / double(input.size(c));
  return apply_loss_reduction(loss, reduction, op);
}

Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int64_t p, double margin, const Tensor& weight,
                         const std::string& reduction) {
  const char* op = "multi_margin_loss";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  LOOM_CHECK_VALUE(p == 1 || p == 2, op, ": only p == 1 and p == 2 are supported, got ", p);
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  LOOM_CHECK_TYPE(target.dtype() == DType::Int64, op, ": expected an int64 (class index) target, got ",
                  dtype_name(target.dtype()));
  LOOM_CHECK((input.dim() == 2 && target.dim() == 1 && target.size(0) == input.size(0)) ||
                 (input.dim() == 1 && target.dim() == 0),
             op, ": expected input [N, C] with target [N], or [C] with [], got input ", input.sizes(), " and target ",
             target.sizes());
  if (input.dim() == 1) {
    Tensor out = multi_margin_loss(input.unsqueeze(0), target.unsqueeze(0), p, margin, weight, reduction);
    return reduction == "none" ? out.squeeze(0) : out;
  }
  const int64_t C = input.size(1);
  LOOM_CHECK(C > 0, op, ": expected at least one class, got input ", input.sizes());
  if (target.numel() > 0 && !target.is_cuda()) {
    const int64_t lo = target.min().item<int64_t>(), hi = target.max().item<int64_t>();
    LOOM_CHECK_INDEX(lo >= 0 && hi < C, op, ": target ", lo < 0 ? lo : hi, " is out of bounds for ", C,
                     " classes (input ", input.sizes(), ")");
  }
  Tensor idx = target.unsqueeze(1);
  Tensor z = (input - input.gather(1, idx) + margin).clamp(Scalar(0.0));
  if (p == 2) z = z.square();
  z = z.masked_fill(one_hot(target, C).to(DType::Bool), Scalar(0.0));  // the target class itself takes no part
  if (weight.defined()) {
    check_floating(weight, op, "weight");
    LOOM_CHECK(weight.dim() == 1 && weight.size(0) == C, op, ": expected weight of shape [", C,
               "] (one per class of input ", input.sizes(), "), got ", weight.sizes());
    z = z * weight.to(input.dtype()).index_select(0, target).unsqueeze(1);
  }
  return apply_loss_reduction(z.sum({1}) / double(C), reduction, op);
}

Tensor poisson_nll_loss(const Tensor& input, const Tensor& target, bool log_input, bool full, double eps,
                        const std::string& reduction) {
  const char* op = "poisson_nll_loss";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  Tensor loss = log_input ? input.exp() - target * input : input - target * (input + eps).log();
  if (full) {
    // Stirling: t log t - t + 0.5 log(2 pi t) where t > 1 (the log of 1 elsewhere: no NaN, value or gradient).
    Tensor big = target.gt(Scalar(1.0));
    Tensor t = where(big, target, Scalar(1.0));
    Tensor stirling = t * t.log() - t + (t * (2.0 * M_PI)).log() * 0.5;
    loss = loss + where(big, stirling, Scalar(0.0));
  }
  return apply_loss_reduction(loss, reduction, op);
}

Tensor gaussian_nll_loss(const Tensor& input, const Tensor& target, const Tensor& var, bool full, double eps,
                         const std::string& reduction) {
  const char* op = "gaussian_nll_loss";
  check_pair(input, target, op);
  check_floating(var, op, "var");
  LOOM_CHECK_VALUE(var.numel() == 0 || var.lt(Scalar(0.0)).sum().item<int64_t>() == 0, op,
                   ": var has negative entries");
  Tensor v = var;
  if (var.sizes() != input.sizes()) {
    Shape head = input.sizes();
    if (!head.empty()) head.pop_back();
    int64_t odd = 0;
    bool one_short = !input.sizes().empty() && var.sizes() == head;
    if (!one_short && var.dim() == input.dim())
      for (int64_t d = 0; d < input.dim(); ++d)
        if (var.size(d) != input.size(d)) odd += var.size(d);
    LOOM_CHECK_VALUE(one_short || (var.dim() == input.dim() && odd == 1), op, ": var of shape ", var.sizes(),
                     " is of incorrect size for input of shape ", input.sizes(),
                     " (expected input's shape, input's without the last dim, or input's with one dim of size 1)");
    if (one_short) v = var.unsqueeze(-1);
  }
  check_reduction(reduction, op);
  // The clamped value, with the gradient of var itself (PyTorch clamps a clone under no_grad).
  v = v + (v.clamp(Scalar(eps)) - v).detach();
  Tensor loss = (v.log() + (input - target).square() / v) * 0.5;
  if (full) loss = loss + 0.5 * std::log(2.0 * M_PI);
  return apply_loss_reduction(loss, reduction, op);
}

Tensor normalize(const Tensor& input, double p, int64_t dim, double eps) {
  check_floating(input, "normalize", "input");
  const int64_t d = wrap_dim(dim, input.dim(), "normalize");
  Tensor n = input.norm(p, {d}, /*keepdim=*/true).clamp(Scalar(eps));
  return input / n;
}

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  check_floating(x1, op, "x1");
  check_floating(x2, op, "x2");
  const Shape shape = broadcast_or_throw(x1, x2, op, "x1", "x2");
  const int64_t d = wrap_dim(dim, static_cast<int64_t>(shape.size()), op);
  Tensor a = x1.expand(shape), b = x2.expand(shape);
  Tensor na = a.norm(2.0, {d}, true).clamp(Scalar(eps));
  Tensor nb = b.norm(2.0, {d}, true).clamp(Scalar(eps));
  return ((a / na) * (b / nb)).sum({d});
}

}  // namespace loom::nn::functional
