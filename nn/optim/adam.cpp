#include "nn/optim/adam.h"

#include <array>

#include "autograd/node.h"
#include "autograd/ops/optim.h"
#include "core/error.h"

namespace loom::optim {

Options AdamOptions::to_map() const {
  return {{"lr", lr},       {"beta1", beta1},         {"beta2", beta2},
          {"eps", eps},     {"weight_decay", weight_decay}, {"amsgrad", amsgrad ? 1.0 : 0.0}};
}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions d) : Adam(std::move(groups), d, false, "Adam") {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions d, bool decoupled, const char* name)
    : Optimizer(std::move(groups), d.to_map(), name), decoupled_(decoupled) {
  LOOM_CHECK_VALUE(d.lr >= 0, name_, ": invalid learning rate ", d.lr);
  LOOM_CHECK_VALUE(d.eps >= 0, name_, ": invalid epsilon value ", d.eps);
  LOOM_CHECK_VALUE(d.beta1 >= 0 && d.beta1 < 1, name_, ": invalid beta parameter at index 0: ", d.beta1);
  LOOM_CHECK_VALUE(d.beta2 >= 0 && d.beta2 < 1, name_, ": invalid beta parameter at index 1: ", d.beta2);
  LOOM_CHECK_VALUE(d.weight_decay >= 0, name_, ": invalid weight_decay value ", d.weight_decay);
}

void Adam::step() {
  autograd::NoGradGuard ng;
  for (auto& g : groups_) {
    // Parameters normally share their step count; group by it (one fused call each).
    std::map<int64_t, std::array<TensorList, 4>> by_step;
    for (auto& p : g.params) {
      Tensor gr = p.grad();
      if (!gr.defined()) continue;
      ParamState& s = state(p);
      if (!s.count("exp_avg")) {
        s["exp_avg"] = zeros_like(p);
        s["exp_avg_sq"] = zeros_like(p);
      }
      int64_t step = static_cast<int64_t>(get_step(s)) + 1;
      set_step(s, static_cast<double>(step));
      auto& lists = by_step[step];
      lists[0].push_back(p), lists[1].push_back(gr.contiguous());
      lists[2].push_back(s["exp_avg"]), lists[3].push_back(s["exp_avg_sq"]);
    }
    for (auto& kv : by_step)
      adam_step_(kv.second[0], kv.second[1], kv.second[2], kv.second[3], kv.first, opt(g, "lr"), opt(g, "beta1"),
                 opt(g, "beta2"), opt(g, "eps"), opt(g, "weight_decay"), decoupled_, opt(g, "amsgrad") != 0.0);
  }
}

}  // namespace loom::optim
