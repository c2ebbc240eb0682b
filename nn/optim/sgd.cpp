#include "nn/optim/sgd.h"

#include "autograd/node.h"
#include "autograd/ops/optim.h"
#include "core/error.h"

namespace loom::optim {

Options SGDOptions::to_map() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

SGDOptions SGDOptions::from_map(const Options& o) {
  auto get = [&](const char* k) { return group_option(o, k, "SGD"); };
  return {get("lr"),           get("momentum"),        get("dampening"),
          get("weight_decay"), get("nesterov") != 0.0, get("maximize") != 0.0};
}

void sgd_step(const SGDOptions& o, const TensorList& params, const TensorList& grads, const StateAccess& state) {
  LOOM_CHECK_VALUE(grads.size() == params.size(), "sgd_step: expected ", params.size(),
                   " grads (one per parameter), got ", grads.size());
  autograd::NoGradGuard ng;
  // Parameters whose momentum buffer exists already, and those taking their first step.
  TensorList p_old, g_old, b_old, p_new, g_new, b_new;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor gr = grads[i];
    if (!gr.defined()) continue;
    if (o.maximize) gr = gr.neg();
    gr = gr.contiguous();
    const Tensor& p = params[i];
    if (o.momentum == 0.0) {
      p_old.push_back(p), g_old.push_back(gr);
      continue;
    }
    ParamState& s = state(i);
    auto it = s.find("momentum_buffer");
    if (it != s.end() && it->second.defined()) {
      p_old.push_back(p), g_old.push_back(gr), b_old.push_back(it->second);
    } else {
      Tensor buf = zeros_like(p);
      s["momentum_buffer"] = buf;
      p_new.push_back(p), g_new.push_back(gr), b_new.push_back(buf);
    }
  }
  if (!p_old.empty()) sgd_step_(p_old, g_old, b_old, o.lr, o.momentum, o.dampening, o.nesterov, o.weight_decay, false);
  if (!p_new.empty()) sgd_step_(p_new, g_new, b_new, o.lr, o.momentum, o.dampening, o.nesterov, o.weight_decay, true);
}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions d) : Optimizer(std::move(groups), d.to_map(), "SGD") {
  LOOM_CHECK_VALUE(d.lr >= 0, "SGD: invalid learning rate ", d.lr);
  LOOM_CHECK_VALUE(d.momentum >= 0, "SGD: invalid momentum value ", d.momentum);
  LOOM_CHECK_VALUE(d.weight_decay >= 0, "SGD: invalid weight_decay value ", d.weight_decay);
  LOOM_CHECK_VALUE(!d.nesterov || (d.momentum > 0 && d.dampening == 0),
                   "SGD: Nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  for (auto& g : groups_) sgd_step(SGDOptions::from_map(g.options), g.params, grads_of(g), state_access(g));
}

}  // namespace loom::optim
