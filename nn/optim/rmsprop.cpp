#include "nn/optim/rmsprop.h"

#include "autograd/node.h"
#include "core/error.h"

namespace loom::optim {

Options RMSpropOptions::to_map() const {
  return {{"lr", lr},
          {"alpha", alpha},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"momentum", momentum},
          {"centered", centered ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

RMSpropOptions RMSpropOptions::from_map(const Options& o) {
  auto get = [&](const char* k) { return group_option(o, k, "RMSprop"); };
  return {get("lr"),
          get("alpha"),
          get("eps"),
          get("weight_decay"),
          get("momentum"),
          get("centered") != 0.0,
          get("maximize") != 0.0};
}

namespace {
// The buffer `name` of a state, zeros like p when absent (or None from Python).
Tensor& buffer(ParamState& s, const char* name, const Tensor& p) {
  Tensor& t = s[name];
  if (!t.defined()) t = zeros_like(p);
  return t;
}
}  // namespace

void rmsprop_step(const RMSpropOptions& o, const TensorList& params, const TensorList& grads,
                  const StateAccess& state) {
  LOOM_CHECK_VALUE(grads.size() == params.size(), "rmsprop_step: expected ", params.size(),
                   " grads (one per parameter), got ", grads.size());
  autograd::NoGradGuard ng;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor grad = grads[i];
    if (!grad.defined()) continue;
    if (o.maximize) grad = grad.neg();
    Tensor p = params[i];
    ParamState& s = state(i);
    Tensor& sq = buffer(s, "square_avg", p);
    set_state_step(s, state_step(s) + 1);
    if (o.weight_decay != 0) grad = grad + p * o.weight_decay;
    sq.mul_(o.alpha).add_(grad * grad, 1.0 - o.alpha);
    Tensor avg;
    if (o.centered) {
      Tensor& ga = buffer(s, "grad_avg", p);
      ga.mul_(o.alpha).add_(grad, 1.0 - o.alpha);
      avg = (sq - ga * ga).sqrt() + o.eps;
    } else {
      avg = sq.sqrt() + o.eps;
    }
    if (o.momentum > 0) {
      Tensor& buf = buffer(s, "momentum_buffer", p);
      buf.mul_(o.momentum).add_(grad / avg);
      p.add_(buf, -o.lr);
    } else {
      p.add_(grad / avg, -o.lr);
    }
  }
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
  for (auto& g : groups_) rmsprop_step(RMSpropOptions::from_map(g.options), g.params, grads_of(g), state_access(g));
}

}  // namespace loom::optim
