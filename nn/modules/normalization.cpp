#include "nn/modules/normalization.h"

#include <sstream>

#include "autograd/ops/norm.h"
#include "nn/init.h"

namespace loom::nn {

LayerNorm::LayerNorm(Shape shape, double eps, bool affine, bool bias, const TensorOptions& opts)
    : Module("LayerNorm"), normalized_shape(std::move(shape)), eps(eps), elementwise_affine(affine) {
  auto o = opts.with_requires_grad(false);
  if (affine) {
    register_parameter("weight", empty(normalized_shape, o));
    if (bias) register_parameter("bias", empty(normalized_shape, o));
  }
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (has_parameter("weight")) init::ones_(param("weight"));
  if (has_parameter("bias")) init::zeros_(param("bias"));
}

Tensor LayerNorm::forward(const Tensor& input) const {
  return loom::layer_norm(input, normalized_shape, param_or_undefined("weight"), param_or_undefined("bias"), eps);
}

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < normalized_shape.size(); ++i) os << (i ? ", " : "") << normalized_shape[i];
  os << (normalized_shape.size() == 1 ? ",)" : ")") << ", eps=" << eps
     << ", elementwise_affine=" << (elementwise_affine ? "True" : "False");
  return os.str();
}

}  // namespace loom::nn
