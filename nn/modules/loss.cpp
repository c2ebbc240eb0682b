#include "nn/modules/loss.h"

#include <utility>

#include "autograd/ops/loss.h"
#include "nn/functional/losses.h"

namespace loom::nn {
namespace F = loom::nn::functional;

CrossEntropyLoss::CrossEntropyLoss(const Tensor& weight, int64_t ignore_index, std::string reduction,
                                   double label_smoothing)
    : Module("CrossEntropyLoss"),
      ignore_index(ignore_index),
      reduction(std::move(reduction)),
      label_smoothing(label_smoothing),
      weight_(&register_buffer("weight", weight)) {}

Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) const {
  return F::cross_entropy(input, target, *weight_, ignore_index, reduction, label_smoothing);
}

NLLLoss::NLLLoss(const Tensor& weight, int64_t ignore_index, std::string reduction)
    : Module("NLLLoss"),
      ignore_index(ignore_index),
      reduction(std::move(reduction)),
      weight_(&register_buffer("weight", weight)) {}

Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) const {
  return F::nll_loss(input, target, *weight_, ignore_index, reduction);
}

CTCLoss::CTCLoss(int64_t blank, std::string reduction, bool zero_infinity)
    : Module("CTCLoss"), blank(blank), reduction(std::move(reduction)), zero_infinity(zero_infinity) {}

Tensor CTCLoss::forward(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                        const Tensor& target_lengths) const {
  return loom::ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity);
}

Tensor CTCLoss::forward(const Tensor& log_probs, const Tensor& targets, const Dims& input_lengths,
                        const Dims& target_lengths) const {
  return loom::ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity);
}

MSELoss::MSELoss(std::string reduction) : Module("MSELoss"), reduction(std::move(reduction)) {}
Tensor MSELoss::forward(const Tensor& input, const Tensor& target) const {
  return F::mse_loss(input, target, reduction);
}

L1Loss::L1Loss(std::string reduction) : Module("L1Loss"), reduction(std::move(reduction)) {}
Tensor L1Loss::forward(const Tensor& input, const Tensor& target) const { return F::l1_loss(input, target, reduction); }

SmoothL1Loss::SmoothL1Loss(std::string reduction, double beta)
    : Module("SmoothL1Loss"), reduction(std::move(reduction)), beta(beta) {}
Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) const {
  return F::smooth_l1_loss(input, target, reduction, beta);
}

HuberLoss::HuberLoss(std::string reduction, double delta)
    : Module("HuberLoss"), reduction(std::move(reduction)), delta(delta) {}
Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) const {
  return F::huber_loss(input, target, reduction, delta);
}

BCELoss::BCELoss(const Tensor& weight, std::string reduction)
    : Module("BCELoss"), reduction(std::move(reduction)), weight_(&register_buffer("weight", weight)) {}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) const {
  return F::binary_cross_entropy(input, target, *weight_, reduction);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(const Tensor& weight, std::string reduction, const Tensor& pos_weight)
    : Module("BCEWithLogitsLoss"),
      reduction(std::move(reduction)),
      weight_(&register_buffer("weight", weight)),
      pos_weight_(&register_buffer("pos_weight", pos_weight)) {}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) const {
  return F::binary_cross_entropy_with_logits(input, target, *weight_, reduction, *pos_weight_);
}

CosineEmbeddingLoss::CosineEmbeddingLoss(double margin, std::string reduction)
    : Module("CosineEmbeddingLoss"), margin(margin), reduction(std::move(reduction)) {}
Tensor CosineEmbeddingLoss::forward(const Tensor& input1, const Tensor& input2, const Tensor& target) const {
  return F::cosine_embedding_loss(input1, input2, target, margin, reduction);
}

KLDivLoss::KLDivLoss(std::string reduction, bool log_target)
    : Module("KLDivLoss"), reduction(std::move(reduction)), log_target(log_target) {}
Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) const {
  return F::kl_div(input, target, reduction, log_target);
}

}  // namespace loom::nn
