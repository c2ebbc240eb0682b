// torch.optim.SGD: momentum, dampening, Nesterov, L2 weight decay, maximize,
// through the fused loom::sgd_step_ (one call per group and first/later step).
#pragma once
#include "nn/optim/optimizer.h"

namespace loom::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool maximize = false;
  Options to_map() const;
  static SGDOptions from_map(const Options& o);  // every key above must be present
};

// One SGD step over a parameter group: params[i] is skipped where grads[i] is
// undefined. maximize steps along +grad. With momentum != 0 the state of a
// parameter is momentum_buffer, created on its first step (buf = d then, as
// PyTorch's None buffer); without momentum no state is made. The one
// implementation of SGD's step: loom.optim.SGD (Python) calls it too.
void sgd_step(const SGDOptions& o, const TensorList& params, const TensorList& grads, const StateAccess& state);

// Group options: lr, momentum, dampening, weight_decay, nesterov, maximize (0/1).
// State per parameter: momentum_buffer (when momentum != 0).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SGDOptions defaults = {});
  SGD(TensorList params, SGDOptions defaults = {})
      : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}
  void step() override;
};

}  // namespace loom::optim
