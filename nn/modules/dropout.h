// Dropout: zeroes with probability p and scales by 1/(1-p) in training; identity in eval.
#pragma once
#include "nn/module.h"

namespace loom::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) const;
  std::string extra_repr() const override;
  const double p;
};

}  // namespace loom::nn
