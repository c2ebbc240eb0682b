// torch.optim.SGD: momentum, dampening, Nesterov, L2 weight decay, through
// the fused loom::sgd_step_ (one call per group).
#pragma once
#include "nn/optim/optimizer.h"

namespace loom::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  Options to_map() const;
};

// Group options: lr, momentum, dampening, weight_decay, nesterov (0/1).
// State per parameter: momentum_buffer (when momentum != 0).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SGDOptions defaults = {});
  SGD(TensorList params, SGDOptions defaults = {}) : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}
  void step() override;
};

}  // namespace loom::optim
