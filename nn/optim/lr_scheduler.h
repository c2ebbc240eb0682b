// Learning-rate schedulers (torch.optim.lr_scheduler) and their formulas.
//
// The formulas are free functions, one per scheduler: the classes below and
// loom.optim.lr_scheduler (Python, through loom._C._functional._optim) compute
// every learning rate with them. As in PyTorch, each scheduler has a chainable
// form, get_lr(), used by step(): the lr at `epoch` from the group's current
// lr (its lr at epoch - 1) by a multiplicative update, so that several
// schedulers stepping one optimizer compose. The *_closed_form functions are
// PyTorch's _get_closed_form_lr(), used by step(epoch): the lr at `epoch`
// from the group's initial lr. LambdaLR and OneCycleLR have closed forms only.
// Construction performs the first step (epoch 0); step() advances by one.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "nn/optim/optimizer.h"

namespace loom::optim {

// StepLR: the lr decays by gamma every step_size epochs
// (closed form: base_lr * gamma ^ floor(epoch / step_size)).
double step_lr(double lr, int64_t epoch, int64_t step_size, double gamma);
double step_lr_closed_form(double base_lr, int64_t epoch, int64_t step_size, double gamma);

// MultiStepLR: the lr decays by gamma at each milestone; a milestone listed k
// times decays by gamma^k (closed form: base_lr * gamma ^ #{milestones <= epoch}).
double multistep_lr(double lr, int64_t epoch, const std::vector<int64_t>& milestones, double gamma);
double multistep_lr_closed_form(double base_lr, int64_t epoch, const std::vector<int64_t>& milestones, double gamma);

// LinearLR: the factor goes linearly from start_factor to end_factor over
// total_iters epochs (closed form: base_lr * (start_factor + (end_factor -
// start_factor) * min(epoch, total_iters) / total_iters)).
double linear_lr(double lr, int64_t epoch, double start_factor, double end_factor, int64_t total_iters);
double linear_lr_closed_form(double base_lr, int64_t epoch, double start_factor, double end_factor,
                             int64_t total_iters);

// CosineAnnealingLR (closed form: eta_min + (base_lr - eta_min) * (1 + cos(pi
// * epoch / T_max)) / 2). step_count is the number of step() calls made so
// far, this one included (PyTorch's _step_count): the first step of a resumed
// scheduler (epoch > 0) takes the closed form.
double cosine_annealing_lr(double lr, double base_lr, int64_t epoch, int64_t step_count, double T_max, double eta_min);
double cosine_annealing_lr_closed_form(double base_lr, int64_t epoch, double T_max, double eta_min);

// LambdaLR: base_lr * factor, where factor = lr_lambda(epoch).
double lambda_lr(double base_lr, double factor);

// OneCycleLR: the 1cycle policy at step `step` of total_steps (two phases:
// initial_lr -> max_lr over pct_start of the steps, then max_lr -> min_lr; or
// three with three_phase: up, back down to initial_lr, then to min_lr),
// annealed by cosine or linearly. The momentum runs opposite, between
// max_momentum (at the initial/min lr) and base_momentum (at max_lr).
// ValueError once step > total_steps.
struct OneCycleValue {
  double lr;
  double momentum;
};
OneCycleValue one_cycle(int64_t step, int64_t total_steps, double pct_start, bool three_phase, bool anneal_cos,
                        double initial_lr, double max_lr, double min_lr, double max_momentum, double base_momentum);

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer, int64_t last_epoch = -1);
  virtual ~LRScheduler() = default;
  // Advances one epoch with the chainable form; step(epoch) sets the epoch
  // and uses the closed form (PyTorch's deprecated step(epoch)).
  void step(std::optional<int64_t> epoch = std::nullopt);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // state: last_epoch, the step count and the base lrs (the optimizer's own
  // state holds the lrs).
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& sd);

 protected:
  // The learning rate of every group at epoch last_epoch_: the chainable form
  // (from the groups' current lrs), and the closed form.
  virtual std::vector<double> get_lr() const = 0;
  virtual std::vector<double> get_closed_form_lr() const { return get_lr(); }
  std::vector<double> group_lrs() const;  // the groups' current "lr"
  void initial_step() {                   // called by the concrete constructors
    step_count_ = 0;
    step();
  }
  Optimizer& optimizer_;
  int64_t last_epoch_;
  int64_t step_count_ = 0;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
};

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<double> get_closed_form_lr() const override;
  int64_t step_size_;
  double gamma_;
};

class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<double> get_closed_form_lr() const override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min = 0.0, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<double> get_closed_form_lr() const override;
  int64_t T_max_;
  double eta_min_;
};

// One lambda for all groups or one per group.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(Optimizer& opt, Lambda lr_lambda, int64_t last_epoch = -1);
  LambdaLR(Optimizer& opt, std::vector<Lambda> lr_lambdas, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<Lambda> lambdas_;
};

// Linear warm-up (or decay) of the lr factor.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5,
           int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() const override;
  std::vector<double> get_closed_form_lr() const override;
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

// The 1cycle policy. It ignores the groups' initial lr: as PyTorch, it
// writes initial_lr = max_lr / div_factor, max_lr and min_lr = initial_lr /
// final_div_factor into each group's options (kept from the optimizer's state
// when resuming). With cycle_momentum it also cycles the groups' "momentum"
// (SGD, RMSprop) or "beta1" (Adam, AdamW) between max_momentum and
// base_momentum (both written into the groups too).
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
  int64_t total_steps_;
  OneCycleOptions o_;
  const char* momentum_key_ = nullptr;
};

}  // namespace loom::optim
