#include "nn/optim/clip_grad.h"

#include <cmath>

#include "autograd/node.h"
#include "core/error.h"

namespace loom::nn::utils {

Tensor clip_grad_norm_(const TensorList& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  autograd::NoGradGuard ng;
  TensorList grads;
  for (auto& p : params) {
    Tensor g = p.grad();
    if (g.defined()) grads.push_back(g);
  }
  if (grads.empty()) return scalar_tensor(0.0, TensorOptions(default_dtype()));
  DType dt = grads[0].dtype();
  for (auto& g : grads)
    if (g.dtype() != dt) dt = DType::Float32;
  bool inf = std::isinf(norm_type);
  TensorList norms;
  for (auto& g : grads) {
    Tensor n = inf ? g.abs().max() : g.norm(norm_type);
    norms.push_back(n.to(grads[0].device(), dt));
  }
  Tensor all = stack(norms);
  Tensor total = inf ? all.max() : all.norm(norm_type);
  if (error_if_nonfinite) {
    double t = total.item<double>();
    LOOM_CHECK(std::isfinite(t), "clip_grad_norm_: the total norm of order ", norm_type,
               " for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and ",
               "scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`");
  }
  Tensor coef = (max_norm / (total + 1e-6)).clamp(std::nullopt, Scalar(1.0));
  for (auto& g : grads) g.mul_(coef.to(g.device(), g.dtype()));
  return total;
}

void clip_grad_value_(const TensorList& params, double clip_value) {
  autograd::NoGradGuard ng;
  for (auto& p : params) {
    Tensor g = p.grad();
    if (g.defined()) g.clamp_(Scalar(-clip_value), Scalar(clip_value));
  }
}

}  // namespace loom::nn::utils
