#include "nn/modules/linear.h"

#include <cmath>

#include "autograd/ops/fusion.h"
#include "nn/init.h"

namespace loom::nn {

Linear::Linear(int64_t in, int64_t out, bool bias, const TensorOptions& opts)
    : Module("Linear"), in_features(in), out_features(out) {
  LOOM_CHECK_VALUE(in >= 0 && out >= 0, "Linear: in_features and out_features must be >= 0, got ", in, ", ", out);
  auto o = opts.with_requires_grad(false);
  register_parameter("weight", empty({out, in}, o));
  if (bias) register_parameter("bias", empty({out}, o));
  reset_parameters();
}

void Linear::reset_parameters() {
  init::kaiming_uniform_(param("weight"), std::sqrt(5.0));
  if (has_parameter("bias")) {
    double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    init::uniform_(param("bias"), -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& input) const {
  LOOM_CHECK_VALUE(input.dim() >= 1 && input.size(-1) == in_features, "Linear.forward: expected input [..., ",
                   in_features, "], got ", input.sizes());
  return loom::linear(input, param("weight"), param_or_undefined("bias"));
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=" + (has_parameter("bias") ? "True" : "False");
}

Bilinear::Bilinear(int64_t in1, int64_t in2, int64_t out, bool bias, const TensorOptions& opts)
    : Module("Bilinear"), in1_features(in1), in2_features(in2), out_features(out) {
  auto o = opts.with_requires_grad(false);
  register_parameter("weight", empty({out, in1, in2}, o));
  if (bias) register_parameter("bias", empty({out}, o));
  reset_parameters();
}

void Bilinear::reset_parameters() {
  double bound = 1.0 / std::sqrt(static_cast<double>(in1_features));
  init::uniform_(param("weight"), -bound, bound);
  if (has_parameter("bias")) init::uniform_(param("bias"), -bound, bound);
}

Tensor Bilinear::forward(const Tensor& x1, const Tensor& x2) const {
  LOOM_CHECK_VALUE(x1.dim() >= 1 && x1.size(-1) == in1_features && x2.dim() == x1.dim() && x2.size(-1) == in2_features,
                   "Bilinear.forward: expected inputs [..., ", in1_features, "] and [..., ", in2_features, "], got ",
                   x1.sizes(), " and ", x2.sizes());
  Shape lead(x1.sizes().begin(), x1.sizes().end() - 1);
  Tensor a = x1.reshape({-1, in1_features});
  Tensor b = x2.reshape({-1, in2_features});
  const Tensor& w = param("weight");  // [O, I1, I2]
  // t[n, o, j] = sum_i a[n, i] w[o, i, j]
  Tensor t = a.matmul(w.permute({1, 0, 2}).reshape({in1_features, out_features * in2_features}))
                 .view({-1, out_features, in2_features});
  Tensor y = (t * b.unsqueeze(1)).sum({-1});
  Tensor bias = param_or_undefined("bias");
  if (bias.defined()) y = y + bias;
  lead.push_back(out_features);
  return y.reshape(lead);
}

std::string Bilinear::extra_repr() const {
  return "in1_features=" + std::to_string(in1_features) + ", in2_features=" + std::to_string(in2_features) +
         ", out_features=" + std::to_string(out_features) + ", bias=" + (has_parameter("bias") ? "True" : "False");
}

}  // namespace loom::nn
