// Loss modules (torch.nn.CrossEntropyLoss & co.): constructor arguments with
// PyTorch's names, order and defaults; forward(input, target) calls the
// functional form of nn/functional/losses.h. Class weights (and
// BCEWithLogitsLoss's pos_weight) are buffers named "weight" / "pos_weight",
// so they follow to(device) and appear in state_dict only when given, as in
// PyTorch. Like PyTorch, the reduction string is checked when forward runs.
#pragma once
#include <string>

#include "nn/module.h"

namespace loom::nn {

class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(const Tensor& weight = {}, int64_t ignore_index = -100, std::string reduction = "mean",
                            double label_smoothing = 0.0);
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const int64_t ignore_index;
  const std::string reduction;
  const double label_smoothing;

 private:
  const Tensor* weight_;
};

class NLLLoss : public Module {
 public:
  explicit NLLLoss(const Tensor& weight = {}, int64_t ignore_index = -100, std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const int64_t ignore_index;
  const std::string reduction;

 private:
  const Tensor* weight_;
};

class MSELoss : public Module {
 public:
  explicit MSELoss(std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;
};

class L1Loss : public Module {
 public:
  explicit L1Loss(std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;
};

class SmoothL1Loss : public Module {
 public:
  explicit SmoothL1Loss(std::string reduction = "mean", double beta = 1.0);
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;
  const double beta;
};

class HuberLoss : public Module {
 public:
  explicit HuberLoss(std::string reduction = "mean", double delta = 1.0);
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;
  const double delta;
};

class BCELoss : public Module {
 public:
  explicit BCELoss(const Tensor& weight = {}, std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;

 private:
  const Tensor* weight_;
};

class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(const Tensor& weight = {}, std::string reduction = "mean", const Tensor& pos_weight = {});
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;

 private:
  const Tensor* weight_;
  const Tensor* pos_weight_;
};

class CosineEmbeddingLoss : public Module {
 public:
  explicit CosineEmbeddingLoss(double margin = 0.0, std::string reduction = "mean");
  Tensor forward(const Tensor& input1, const Tensor& input2, const Tensor& target) const;
  const double margin;
  const std::string reduction;
};

// forward(log_probs [T, N, C], targets, input_lengths, target_lengths): the
// fused loom::ctc_loss (autograd/ops/loss.h); lengths as int64 tensors or Dims.
class CTCLoss : public Module {
 public:
  explicit CTCLoss(int64_t blank = 0, std::string reduction = "mean", bool zero_infinity = false);
  Tensor forward(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                 const Tensor& target_lengths) const;
  Tensor forward(const Tensor& log_probs, const Tensor& targets, const Dims& input_lengths,
                 const Dims& target_lengths) const;
  const int64_t blank;
  const std::string reduction;
  const bool zero_infinity;
};

class KLDivLoss : public Module {
 public:
  explicit KLDivLoss(std::string reduction = "mean", bool log_target = false);
  Tensor forward(const Tensor& input, const Tensor& target) const;
  const std::string reduction;
  const bool log_target;
};

}  // namespace loom::nn
