// Optimizer base class (torch.optim.Optimizer's model): parameter groups with
// per-group hyper-parameters, per-parameter state, step(), zero_grad() and a
// flat state_dict that safetensors can store.
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
  double opt(const ParamGroup& g, const char* key) const;
  // The step count stored in a parameter's state ("step", 0 when absent).
  static double get_step(const ParamState& s);
  static void set_step(ParamState& s, double step);

  Options defaults_;
  std::vector<ParamGroup> groups_;
  std::unordered_map<TensorImpl*, ParamState> state_;
  std::string name_;
};

}  // namespace loom::optim
