#include "nn/optim/sgd.h"

#include "autograd/node.h"
#include "autograd/ops/optim.h"
#include "core/error.h"

namespace loom::optim {

Options SGDOptions::to_map() const {
  return {{"lr", lr}, {"momentum", momentum}, {"dampening", dampening}, {"weight_decay", weight_decay},
          {"nesterov", nesterov ? 1.0 : 0.0}};
}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions d) : Optimizer(std::move(groups), d.to_map(), "SGD") {
  LOOM_CHECK_VALUE(d.lr >= 0, "SGD: invalid learning rate ", d.lr);
  LOOM_CHECK_VALUE(d.momentum >= 0, "SGD: invalid momentum value ", d.momentum);
  LOOM_CHECK_VALUE(d.weight_decay >= 0, "SGD: invalid weight_decay value ", d.weight_decay);
  LOOM_CHECK_VALUE(!d.nesterov || (d.momentum > 0 && d.dampening == 0),
                   "SGD: Nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  autograd::NoGradGuard ng;
  for (auto& g : groups_) {
    double lr = opt(g, "lr"), momentum = opt(g, "momentum"), dampening = opt(g, "dampening");
    double wd = opt(g, "weight_decay");
    bool nesterov = opt(g, "nesterov") != 0.0;
    // Parameters whose momentum buffer exists already, and those taking their first step.
    TensorList p_old, g_old, b_old, p_new, g_new, b_new;
    for (auto& p : g.params) {
      Tensor gr = p.grad();
      if (!gr.defined()) continue;
      gr = gr.contiguous();
      if (momentum == 0.0) {
        p_old.push_back(p);
        g_old.push_back(gr);
        continue;
      }
      ParamState& s = state(p);
      auto it = s.find("momentum_buffer");
      if (it != s.end()) {
        p_old.push_back(p), g_old.push_back(gr), b_old.push_back(it->second);
      } else {
        Tensor buf = zeros_like(p);
        s["momentum_buffer"] = buf;
        p_new.push_back(p), g_new.push_back(gr), b_new.push_back(buf);
      }
    }
    if (!p_old.empty()) sgd_step_(p_old, g_old, b_old, lr, momentum, dampening, nesterov, wd, false);
    if (!p_new.empty()) sgd_step_(p_new, g_new, b_new, lr, momentum, dampening, nesterov, wd, true);
  }
}

}  // namespace loom::optim
