// LayerNorm (weight ones, bias zeros over normalized_shape).
#pragma once
#include "nn/module.h"

namespace loom::nn {

class LayerNorm : public Module {
 public:
  LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true,
            const TensorOptions& opts = {});
  Tensor forward(const Tensor& input) const;
  void reset_parameters();
  std::string extra_repr() const override;
  const Shape normalized_shape;
  const double eps;
  const bool elementwise_affine;
};

}  // namespace loom::nn
