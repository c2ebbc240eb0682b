#include "nn/optim/adam.h"

#include <array>

#include "autograd/node.h"
#include "autograd/ops/optim.h"
#include "core/error.h"

namespace loom::optim {

Options AdamOptions::to_map() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"amsgrad", amsgrad ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

AdamOptions AdamOptions::from_map(const Options& o) {
  auto get = [&](const char* k) { return group_option(o, k, "Adam"); };
  return {get("lr"),           get("beta1"),          get("beta2"),          get("eps"),
          get("weight_decay"), get("amsgrad") != 0.0, get("maximize") != 0.0};
}

void adam_step(const AdamOptions& o, bool decoupled, const TensorList& params, const TensorList& grads,
               const StateAccess& state) {
  const char* op = decoupled ? "adamw_step" : "adam_step";
  LOOM_CHECK_VALUE(grads.size() == params.size(), op, ": expected ", params.size(), " grads (one per parameter), got ",
                   grads.size());
  autograd::NoGradGuard ng;
  // Parameters normally share their step count; group by it (one fused call each).
  std::map<int64_t, std::array<TensorList, 5>> by_step;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor gr = grads[i];
    if (!gr.defined()) continue;
    if (o.maximize) gr = gr.neg();
    const Tensor& p = params[i];
    ParamState& s = state(i);
    auto m = s.find("exp_avg"), v = s.find("exp_avg_sq");
    if (m == s.end() || !m->second.defined() || v == s.end() || !v->second.defined()) {
      s["exp_avg"] = zeros_like(p);
      s["exp_avg_sq"] = zeros_like(p);
    }
    if (o.amsgrad) {
      auto vm = s.find("max_exp_avg_sq");
      if (vm == s.end() || !vm->second.defined()) s["max_exp_avg_sq"] = zeros_like(p);
    }
    int64_t step = static_cast<int64_t>(state_step(s)) + 1;
    set_state_step(s, static_cast<double>(step));
    auto& lists = by_step[step];
    lists[0].push_back(p), lists[1].push_back(gr.contiguous());
    lists[2].push_back(s["exp_avg"]), lists[3].push_back(s["exp_avg_sq"]);
    if (o.amsgrad) lists[4].push_back(s["max_exp_avg_sq"]);
  }
  for (auto& kv : by_step)
    adam_step_(kv.second[0], kv.second[1], kv.second[2], kv.second[3], kv.first, o.lr, o.beta1, o.beta2, o.eps,
               o.weight_decay, decoupled, o.amsgrad, kv.second[4]);
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
  for (auto& g : groups_)
    adam_step(AdamOptions::from_map(g.options), decoupled_, g.params, grads_of(g), state_access(g));
}

}  // namespace loom::optim
