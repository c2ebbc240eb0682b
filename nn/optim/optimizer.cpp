#include "nn/optim/optimizer.h"

#include <unordered_set>

#include "autograd/node.h"
#include "core/error.h"

namespace loom::optim {

Optimizer::Optimizer(std::vector<ParamGroup> groups, Options defaults, std::string name)
    : defaults_(std::move(defaults)), name_(std::move(name)) {
  LOOM_CHECK_VALUE(!groups.empty(), name_, ": optimizer got an empty parameter list");
  for (auto& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup group) {
  LOOM_CHECK_VALUE(!group.params.empty(), name_, ": parameter group ", groups_.size(), " has no parameters");
  std::unordered_set<TensorImpl*> seen;
  for (auto& g : groups_)
    for (auto& p : g.params) seen.insert(p.impl());
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    LOOM_CHECK_VALUE(p.defined(), name_, ": parameter ", i, " of group ", groups_.size(), " is undefined");
    LOOM_CHECK_VALUE(p.is_leaf(), name_, ": can't optimize a non-leaf Tensor (parameter ", i, " of group ",
                     groups_.size(), ", shape ", p.sizes(), ")");
    LOOM_CHECK_VALUE(seen.insert(p.impl()).second, name_,
                     ": some parameters appear in more than one parameter group (parameter ", i, " of group ",
                     groups_.size(), ")");
  }
  for (auto& kv : group.options)
    LOOM_CHECK_VALUE(defaults_.count(kv.first), name_, ": unknown option '", kv.first, "' in parameter group ",
                     groups_.size());
  for (auto& kv : defaults_) group.options.emplace(kv.first, kv.second);  // keeps explicit values
  groups_.push_back(std::move(group));
}

void Optimizer::zero_grad(bool set_to_none) {
  autograd::NoGradGuard ng;
  for (auto& g : groups_)
    for (auto& p : g.params) {
      Tensor gr = p.grad();
      if (!gr.defined()) continue;
      if (set_to_none) p.set_grad(Tensor());
      else gr.zero_();
    }
}

double group_option(const Options& o, const char* key, const char* optimizer) {
  auto it = o.find(key);
  LOOM_CHECK(it != o.end(), optimizer, ": parameter group has no option '", key, "'");
  return it->second;
}

double state_step(const ParamState& s) {
  auto it = s.find("step");
  return it == s.end() || !it->second.defined() ? 0.0 : it->second.item<double>();  // CPU 0-d: no device sync
}

void set_state_step(ParamState& s, double step) {
  auto it = s.find("step");
  if (it == s.end() || !it->second.defined()) s["step"] = scalar_tensor(step, TensorOptions(DType::Float64));
  else it->second.fill_(step);
}

TensorList Optimizer::grads_of(const ParamGroup& g) {
  TensorList grads;
  grads.reserve(g.params.size());
  for (auto& p : g.params) grads.push_back(p.grad());
  return grads;
}

StateAccess Optimizer::state_access(const ParamGroup& g) {
  return [this, &g](size_t i) -> ParamState& { return state(g.params.at(i)); };
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> sd;
  int64_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const ParamGroup& grp = groups_[g];
    std::string gp = "param_groups." + std::to_string(g) + ".";
    for (auto& kv : grp.options) sd[gp + kv.first] = scalar_tensor(kv.second, TensorOptions(DType::Float64));
    Tensor ids = empty({static_cast<int64_t>(grp.params.size())}, TensorOptions(DType::Int64));
    int64_t* d = ids.data_ptr<int64_t>();
    for (size_t i = 0; i < grp.params.size(); ++i, ++index) {
      d[i] = index;
      auto it = state_.find(grp.params[i].impl());
      if (it == state_.end()) continue;
      for (auto& kv : it->second) sd["state." + std::to_string(index) + "." + kv.first] = kv.second.detach().clone();
    }
    sd[gp + "params"] = ids;
  }
  return sd;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& sd) {
  // Group structure check first: nothing is modified when it does not match.
  std::vector<const Tensor*> flat;
  for (size_t g = 0; g < groups_.size(); ++g) {
    auto it = sd.find("param_groups." + std::to_string(g) + ".params");
    LOOM_CHECK_VALUE(it != sd.end(), name_, ".load_state_dict: missing 'param_groups.", g,
                     ".params' (the optimizer has ", groups_.size(), " parameter groups)");
    LOOM_CHECK_VALUE(it->second.numel() == static_cast<int64_t>(groups_[g].params.size()), name_,
                     ".load_state_dict: group ", g, " has ", groups_[g].params.size(),
                     " parameters but the state dict's group has ", it->second.numel());
    for (auto& p : groups_[g].params) flat.push_back(&p);
  }
  LOOM_CHECK_VALUE(!sd.count("param_groups." + std::to_string(groups_.size()) + ".params"), name_,
                   ".load_state_dict: the state dict has more parameter groups than the optimizer (", groups_.size(),
                   ")");
  for (auto& kv : sd) {
    const std::string& key = kv.first;
    if (key.rfind("param_groups.", 0) == 0) {
      size_t dot = key.find('.', 13);
      LOOM_CHECK_VALUE(dot != std::string::npos, name_, ".load_state_dict: malformed key '", key, "'");
      size_t g = std::stoul(key.substr(13, dot - 13));
      std::string opt_name = key.substr(dot + 1);
      if (opt_name == "params") continue;
      LOOM_CHECK_VALUE(kv.second.numel() == 1, name_, ".load_state_dict: '", key, "' must hold one value");
      groups_.at(g).options[opt_name] = kv.second.item<double>();
    } else if (key.rfind("state.", 0) == 0) {
      size_t dot = key.find('.', 6);
      LOOM_CHECK_VALUE(dot != std::string::npos, name_, ".load_state_dict: malformed key '", key, "'");
      size_t i = std::stoul(key.substr(6, dot - 6));
      LOOM_CHECK_VALUE(i < flat.size(), name_, ".load_state_dict: '", key, "' names parameter ", i, " but there are ",
                       flat.size());
      std::string buf = key.substr(dot + 1);
      const Tensor& p = *flat[i];
      if (buf == "step") {
        state_[p.impl()]["step"] = scalar_tensor(kv.second.item<double>(), TensorOptions(DType::Float64));
      } else {
        LOOM_CHECK_VALUE(kv.second.sizes() == p.sizes(), name_, ".load_state_dict: '", key, "' has shape ",
                         kv.second.sizes(), " but parameter ", i, " has shape ", p.sizes());
        state_[p.impl()][buf] = kv.second.detach().to(p.device(), p.dtype()).contiguous().clone();
      }
    } else {
      LOOM_CHECK_VALUE(false, name_, ".load_state_dict: unexpected key '", key, "'");
    }
  }
}

}  // namespace loom::optim
