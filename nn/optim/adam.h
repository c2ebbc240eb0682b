// torch.optim.Adam and AdamW through the fused multi-tensor loom::adam_step_
// (one call per group and step count).
#pragma once
#include "nn/optim/optimizer.h"

namespace loom::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // AdamW's default is 1e-2 (see AdamW below)
  bool amsgrad = false;       // keep the maximum of exp_avg_sq (state max_exp_avg_sq) for the denominator
  bool maximize = false;
  Options to_map() const;
  static AdamOptions from_map(const Options& o);  // every key above must be present
};

// One Adam (decoupled = false: L2 term g += wd * p) or AdamW (decoupled =
// true: p *= 1 - lr * wd) step over a parameter group: params[i] is skipped
// where grads[i] is undefined; maximize steps along +grad. The state of a
// parameter is step (its count, 1 after the first update), exp_avg and
// exp_avg_sq (and max_exp_avg_sq with amsgrad), created on its first step; the bias corrections use each
// parameter's own count (parameters with equal counts share one fused call).
// The one implementation of Adam's and AdamW's step: loom.optim.Adam and
// AdamW (Python) call it too.
void adam_step(const AdamOptions& o, bool decoupled, const TensorList& params, const TensorList& grads,
               const StateAccess& state);

// Group options: lr, beta1, beta2, eps, weight_decay, amsgrad, maximize (0/1).
// State per parameter: step, exp_avg, exp_avg_sq (+ max_exp_avg_sq with amsgrad).
class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, AdamOptions defaults = {});
  Adam(TensorList params, AdamOptions defaults = {})
      : Adam(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}
  void step() override;

 protected:
  Adam(std::vector<ParamGroup> groups, AdamOptions defaults, bool decoupled, const char* name);
  bool decoupled_ = false;
};

// Decoupled weight decay: p *= 1 - lr * weight_decay before the Adam update.
class AdamW : public Adam {
 public:
  static AdamOptions default_options() {
    AdamOptions o;
    o.weight_decay = 1e-2;
    return o;
  }
  AdamW(std::vector<ParamGroup> groups, AdamOptions defaults = default_options())
      : Adam(std::move(groups), defaults, true, "AdamW") {}
  AdamW(TensorList params, AdamOptions defaults = default_options())
      : AdamW(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}
};

}  // namespace loom::optim
