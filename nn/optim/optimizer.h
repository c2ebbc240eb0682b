// Optimizer base class (torch.optim.Optimizer's model): parameter groups with
// per-group hyper-parameters, per-parameter state, step(), zero_grad() and a
// flat state_dict that safetensors can store.
//
// Each optimizer's update (state creation, step count, maximize, weight decay,
// momentum, bias correction ...) is one free function, sgd_step / adam_step /
// rmsprop_step, beside its class. The classes call it per group; loom.optim's
// Python classes (PyTorch's param_groups and state dicts) call the same
// function through loom._C._functional._optim (docs/architecture.md).
//
// state_dict() layout (all values are tensors; parameters are numbered 0..N-1
// across the groups in order, as PyTorch numbers them):
//   "state.<i>.<name>"        the state buffers of parameter i (exp_avg,
//                             exp_avg_sq, momentum_buffer, square_avg, ...)
//   "state.<i>.step"          the step count of parameter i, 0-d float64
//   "param_groups.<g>.<opt>"  every hyper-parameter of group g, 0-d float64
//                             (booleans as 0/1, Adam's betas as beta1/beta2)
//   "param_groups.<g>.params" 1-d int64: the indices of group g's parameters
// load_state_dict() requires the same group structure (group count and sizes)
// and copies the buffers to each parameter's device and dtype.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace loom::optim {

using Options = std::map<std::string, double>;

struct ParamGroup {
  TensorList params;
  Options options;  // missing entries are filled from the optimizer's defaults
  ParamGroup() = default;
  ParamGroup(TensorList p, Options o = {}) : params(std::move(p)), options(std::move(o)) {}
};

using ParamState = std::map<std::string, Tensor>;

// The state of parameter `index` of a step function's list, created empty by
// the caller on first use. A step function asks only for the states it reads
// or writes, so no state is made for a parameter that needs none (SGD without
// momentum, a parameter without a gradient).
using StateAccess = std::function<ParamState&(size_t index)>;

// The step count kept in a state ("step": 0 when absent). Counts are 0-d
// float64 CPU tensors, updated in place; a loaded count of another dtype or
// device is read and updated where it is.
double state_step(const ParamState& s);
void set_state_step(ParamState& s, double step);

// A group option by name (a loom::Error naming the optimizer when missing).
double group_option(const Options& o, const char* key, const char* optimizer);

class Optimizer {
 public:
  Optimizer(std::vector<ParamGroup> groups, Options defaults, std::string name);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  // Drops the gradients (set_to_none) or zeroes them in place.
  void zero_grad(bool set_to_none = true);
  void add_param_group(ParamGroup group);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  const Options& defaults() const { return defaults_; }
  // State of one parameter (created empty on first access).
  ParamState& state(const Tensor& param) { return state_[param.impl()]; }
  const std::unordered_map<TensorImpl*, ParamState>& state() const { return state_; }

  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& sd);

  const std::string& name() const { return name_; }

 protected:
  // The gradients of a group's parameters (undefined where a parameter has none).
  static TensorList grads_of(const ParamGroup& g);
  // The state of g.params[i] (the StateAccess of the step functions).
  StateAccess state_access(const ParamGroup& g);

  Options defaults_;
  std::vector<ParamGroup> groups_;
  std::unordered_map<TensorImpl*, ParamState> state_;
  std::string name_;
};

}  // namespace loom::optim
