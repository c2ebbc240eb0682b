#include "nn/optim/rmsprop.h"

#include "autograd/node.h"
#include "core/error.h"

namespace loom::optim {

Options RMSpropOptions::to_map() const {
  return {{"lr", lr},           {"alpha", alpha},       {"eps", eps},
          {"weight_decay", weight_decay}, {"momentum", momentum}, {"centered", centered ? 1.0 : 0.0}};
}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions d)
    : Optimizer(std::move(groups), d.to_map(), "RMSprop") {
  LOOM_CHECK_VALUE(d.lr >= 0, "RMSprop: invalid learning rate ", d.lr);
  LOOM_CHECK_VALUE(d.eps >= 0, "RMSprop: invalid epsilon value ", d.eps);
  LOOM_CHECK_VALUE(d.momentum >= 0, "RMSprop: invalid momentum value ", d.momentum);
  LOOM_CHECK_VALUE(d.weight_decay >= 0, "RMSprop: invalid weight_decay value ", d.weight_decay);
  LOOM_CHECK_VALUE(d.alpha >= 0, "RMSprop: invalid alpha value ", d.alpha);
}

void RMSprop::step() {
  autograd::NoGradGuard ng;
  for (auto& g : groups_) {
    double lr = opt(g, "lr"), alpha = opt(g, "alpha"), eps = opt(g, "eps"), wd = opt(g, "weight_decay");
    double momentum = opt(g, "momentum");
    bool centered = opt(g, "centered") != 0.0;
    for (auto& p : g.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      ParamState& s = state(p);
      if (!s.count("square_avg")) {
        s["square_avg"] = zeros_like(p);
        if (momentum > 0) s["momentum_buffer"] = zeros_like(p);
        if (centered) s["grad_avg"] = zeros_like(p);
      }
      set_step(s, get_step(s) + 1);
      if (wd != 0) grad = grad + p * wd;
      Tensor& sq = s["square_avg"];
      sq.mul_(alpha).add_(grad * grad, 1.0 - alpha);
      Tensor avg;
      if (centered) {
        Tensor& ga = s["grad_avg"];
        ga.mul_(alpha).add_(grad, 1.0 - alpha);
        avg = (sq - ga * ga).sqrt() + eps;
      } else {
        avg = sq.sqrt() + eps;
      }
      if (momentum > 0) {
        Tensor& buf = s["momentum_buffer"];
        buf.mul_(momentum).add_(grad / avg);
        p.add_(buf, -lr);
      } else {
        p.add_(grad / avg, -lr);
      }
    }
  }
}

}  // namespace loom::optim
