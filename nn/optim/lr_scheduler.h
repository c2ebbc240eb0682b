// Learning-rate schedulers (torch.optim.lr_scheduler). Each computes the
// closed form PyTorch documents from the epoch count and the groups' initial
// learning rates, and writes it into the groups' "lr" option. As in PyTorch,
// construction performs the first step (epoch 0) and step() advances by one.
#pragma once
#include <array>
#include <functional>
#include <vector>

#include "nn/optim/optimizer.h"

namespace loom::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer, int64_t last_epoch = -1);
  virtual ~LRScheduler() = default;
  void step();
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // state: last_epoch and the base lrs (the optimizer's own state holds the lrs).
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& sd);

 protected:
  // The learning rate of every group at epoch last_epoch_.
  virtual std::vector<double> get_lr() const = 0;
  void initial_step() { step(); }  // called by the concrete constructors
  Optimizer& optimizer_;
  int64_t last_epoch_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
};

// lr = base_lr * gamma ^ (epoch // step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1, int64_t last_epoch = -1);
 protected:
  std::vector<double> get_lr() const override;
  int64_t step_size_;
  double gamma_;
};

// lr = base_lr * gamma ^ (number of milestones <= epoch)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1, int64_t last_epoch = -1);
 protected:
  std::vector<double> get_lr() const override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min = 0.0, int64_t last_epoch = -1);
 protected:
  std::vector<double> get_lr() const override;
  int64_t T_max_;
  double eta_min_;
};

// lr = base_lr * lambda(epoch); one lambda for all groups or one per group.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(Optimizer& opt, Lambda lr_lambda, int64_t last_epoch = -1);
  LambdaLR(Optimizer& opt, std::vector<Lambda> lr_lambdas, int64_t last_epoch = -1);
 protected:
  std::vector<double> get_lr() const override;
  std::vector<Lambda> lambdas_;
};

// Linear warm-up: lr = base_lr * (start_factor + (end_factor - start_factor)
// * min(epoch, total_iters) / total_iters)
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5,
           int64_t last_epoch = -1);
 protected:
  std::vector<double> get_lr() const override;
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

// The 1cycle policy (two phases, or three with three_phase). It ignores the
// groups' initial lr: it starts from max_lr / div_factor and ends at
// initial_lr / final_div_factor. With cycle_momentum it also cycles the
// groups' "momentum" (SGD, RMSprop) or "beta1" (Adam, AdamW) between
// max_momentum and base_momentum.
struct OneCycleOptions {
  double pct_start = 0.3;
  bool anneal_cos = true;  // false: 'linear'
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool three_phase = false;
};
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& opt, std::vector<double> max_lrs, int64_t total_steps, OneCycleOptions o = {},
             int64_t last_epoch = -1);
  OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, OneCycleOptions o = {}, int64_t last_epoch = -1)
      : OneCycleLR(opt, std::vector<double>(opt.param_groups().size(), max_lr), total_steps, o, last_epoch) {}
 protected:
  std::vector<double> get_lr() const override;
  struct Phase {
    double end_step;
    int start;  // 0 initial, 1 max, 2 min (lr); momentum uses the mirrored ends
    int end;
  };
  int64_t total_steps_;
  OneCycleOptions o_;
  std::vector<Phase> phases_;
  std::vector<std::array<double, 3>> lrs_;  // per group: initial, max, min
  const char* momentum_key_ = nullptr;
};

}  // namespace loom::optim
