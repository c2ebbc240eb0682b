// torch.optim.RMSprop (alpha, eps, weight_decay, momentum, centered,
// maximize), built from in-place tensor ops under no-grad.
#pragma once
#include "nn/optim/optimizer.h"

namespace loom::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool maximize = false;
  Options to_map() const;
  static RMSpropOptions from_map(const Options& o);  // every key above must be present
};

// One RMSprop step over a parameter group: params[i] is skipped where
// grads[i] is undefined; maximize steps along +grad. The state of a parameter
// is step, square_avg, momentum_buffer (momentum > 0) and grad_avg
// (centered), created when first needed. The one implementation of
// RMSprop's step: loom.optim.RMSprop (Python) calls it too.
void rmsprop_step(const RMSpropOptions& o, const TensorList& params, const TensorList& grads, const StateAccess& state);

// Group options: lr, alpha, eps, weight_decay, momentum, centered, maximize (0/1).
// State per parameter: step, square_avg, momentum_buffer (momentum > 0),
// grad_avg (centered).
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults = {});
  RMSprop(TensorList params, RMSpropOptions defaults = {})
      : RMSprop(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}
  void step() override;
};

}  // namespace loom::optim
