// torch.optim.RMSprop (alpha, eps, weight_decay, momentum, centered), built
// from in-place tensor ops under no-grad.
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
  Options to_map() const;
};

// Group options: lr, alpha, eps, weight_decay, momentum, centered (0/1).
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
