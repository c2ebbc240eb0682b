#include "nn/optim/lr_scheduler.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"

namespace loom::optim {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

LRScheduler::LRScheduler(Optimizer& optimizer, int64_t last_epoch) : optimizer_(optimizer), last_epoch_(last_epoch) {
  for (size_t i = 0; i < optimizer_.param_groups().size(); ++i) {
    auto& o = optimizer_.param_groups()[i].options;
    if (last_epoch == -1) {
      o.emplace("initial_lr", o.at("lr"));  // setdefault: a chained scheduler keeps the first one's
    } else {
      LOOM_CHECK_KIND(o.count("initial_lr"), ErrorKind::Runtime, "LRScheduler: param 'initial_lr' is not specified in ",
                      "param_groups[", i, "] when resuming an optimizer (last_epoch=", last_epoch, ")");
    }
    base_lrs_.push_back(o.at("initial_lr"));
  }
}

void LRScheduler::step() {
  ++last_epoch_;
  std::vector<double> lrs = get_lr();
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size() && i < lrs.size(); ++i) groups[i].options["lr"] = lrs[i];
  last_lr_ = lrs;
}

std::map<std::string, Tensor> LRScheduler::state_dict() const {
  std::map<std::string, Tensor> sd;
  sd["last_epoch"] = scalar_tensor(last_epoch_, TensorOptions(DType::Int64));
  Tensor b = empty({static_cast<int64_t>(base_lrs_.size())}, TensorOptions(DType::Float64));
  Tensor l = empty({static_cast<int64_t>(last_lr_.size())}, TensorOptions(DType::Float64));
  std::copy(base_lrs_.begin(), base_lrs_.end(), b.data_ptr<double>());
  std::copy(last_lr_.begin(), last_lr_.end(), l.data_ptr<double>());
  sd["base_lrs"] = b;
  sd["_last_lr"] = l;
  return sd;
}

void LRScheduler::load_state_dict(const std::map<std::string, Tensor>& sd) {
  auto get = [&](const char* k) -> const Tensor& {
    auto it = sd.find(k);
    LOOM_CHECK_VALUE(it != sd.end(), "LRScheduler.load_state_dict: missing '", k, "'");
    return it->second;
  };
  last_epoch_ = get("last_epoch").item<int64_t>();
  std::vector<double> b = get("base_lrs").to(DType::Float64).to_vector();
  LOOM_CHECK_VALUE(b.size() == base_lrs_.size(), "LRScheduler.load_state_dict: ", b.size(),
                   " base lrs for an optimizer with ", base_lrs_.size(), " groups");
  base_lrs_ = b;
  last_lr_ = get("_last_lr").to(DType::Float64).to_vector();
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), step_size_(step_size), gamma_(gamma) {
  LOOM_CHECK_VALUE(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}
std::vector<double> StepLR::get_lr() const {
  std::vector<double> r;
  for (double b : base_lrs_) r.push_back(b * std::pow(gamma_, static_cast<double>(last_epoch_ / step_size_)));
  return r;
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}
std::vector<double> MultiStepLR::get_lr() const {
  auto n = std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
  std::vector<double> r;
  for (double b : base_lrs_) r.push_back(b * std::pow(gamma_, static_cast<double>(n)));
  return r;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), T_max_(T_max), eta_min_(eta_min) {
  LOOM_CHECK_VALUE(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  initial_step();
}
std::vector<double> CosineAnnealingLR::get_lr() const {
  std::vector<double> r;
  for (double b : base_lrs_)
    r.push_back(eta_min_ + (b - eta_min_) * (1 + std::cos(kPi * last_epoch_ / T_max_)) / 2);
  return r;
}

LambdaLR::LambdaLR(Optimizer& opt, Lambda lr_lambda, int64_t last_epoch)
    : LambdaLR(opt, std::vector<Lambda>(opt.param_groups().size(), lr_lambda), last_epoch) {}
LambdaLR::LambdaLR(Optimizer& opt, std::vector<Lambda> lr_lambdas, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), lambdas_(std::move(lr_lambdas)) {
  LOOM_CHECK_VALUE(lambdas_.size() == opt.param_groups().size(), "LambdaLR: expected ", opt.param_groups().size(),
                   " lr_lambdas, but got ", lambdas_.size());
  initial_step();
}
std::vector<double> LambdaLR::get_lr() const {
  std::vector<double> r;
  for (size_t i = 0; i < base_lrs_.size(); ++i) r.push_back(base_lrs_[i] * lambdas_[i](last_epoch_));
  return r;
}

LinearLR::LinearLR(Optimizer& opt, double start_factor, double end_factor, int64_t total_iters, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), start_factor_(start_factor), end_factor_(end_factor), total_iters_(total_iters) {
  LOOM_CHECK_VALUE(start_factor > 0 && start_factor <= 1, "LinearLR: starting multiplicative factor expected to be ",
                   "greater than 0 and less or equal to 1, got ", start_factor);
  LOOM_CHECK_VALUE(end_factor >= 0 && end_factor <= 1, "LinearLR: ending multiplicative factor expected to be ",
                   "between 0 and 1, got ", end_factor);
  LOOM_CHECK_VALUE(total_iters > 0, "LinearLR: total_iters must be positive, got ", total_iters);
  initial_step();
}
std::vector<double> LinearLR::get_lr() const {
  double f = start_factor_ + (end_factor_ - start_factor_) *
                                 static_cast<double>(std::min(total_iters_, last_epoch_)) / total_iters_;
  std::vector<double> r;
  for (double b : base_lrs_) r.push_back(b * f);
  return r;
}

OneCycleLR::OneCycleLR(Optimizer& opt, std::vector<double> max_lrs, int64_t total_steps, OneCycleOptions o,
                       int64_t last_epoch)
    : LRScheduler(opt, last_epoch), total_steps_(total_steps), o_(o) {
  LOOM_CHECK_VALUE(total_steps > 0, "OneCycleLR: expected a positive total_steps, got ", total_steps);
  LOOM_CHECK_VALUE(o.pct_start >= 0 && o.pct_start <= 1, "OneCycleLR: expected pct_start in [0, 1], got ",
                   o.pct_start);
  auto& groups = opt.param_groups();
  LOOM_CHECK_VALUE(max_lrs.size() == groups.size(), "OneCycleLR: expected ", groups.size(), " max_lr values, got ",
                   max_lrs.size());
  double ts = static_cast<double>(total_steps);
  if (o.three_phase)
    phases_ = {{o.pct_start * ts - 1, 0, 1}, {2 * o.pct_start * ts - 2, 1, 0}, {ts - 1, 0, 2}};
  else
    phases_ = {{o.pct_start * ts - 1, 0, 1}, {ts - 1, 1, 2}};
  if (o.cycle_momentum) {
    const Options& d = opt.defaults();
    momentum_key_ = d.count("beta1") ? "beta1" : d.count("momentum") ? "momentum" : nullptr;
    LOOM_CHECK_VALUE(momentum_key_, "OneCycleLR: optimizer must support momentum or beta1 with cycle_momentum");
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    double initial = max_lrs[i] / o.div_factor;
    lrs_.push_back({initial, max_lrs[i], initial / o.final_div_factor});
    if (last_epoch == -1) {
      groups[i].options["initial_lr"] = initial;
      if (momentum_key_) groups[i].options[momentum_key_] = o.max_momentum;
    }
  }
  initial_step();
}

std::vector<double> OneCycleLR::get_lr() const {
  const int64_t step_num = last_epoch_;
  LOOM_CHECK_VALUE(step_num <= total_steps_, "OneCycleLR: tried to step ", step_num,
                   " times; the specified number of total steps is ", total_steps_);
  auto anneal = [&](double start, double end, double pct) {
    return o_.anneal_cos ? end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1) : (end - start) * pct + start;
  };
  std::vector<double> r;
  auto& groups = optimizer_.param_groups();
  for (size_t g = 0; g < lrs_.size(); ++g) {
    double start_step = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& ph = phases_[i];
      if (step_num <= ph.end_step || i + 1 == phases_.size()) {
        double pct = (step_num - start_step) / (ph.end_step - start_step);
        r.push_back(anneal(lrs_[g][ph.start], lrs_[g][ph.end], pct));
        if (momentum_key_) {
          // Momentum runs opposite to the lr: max_momentum at the initial/min lr, base at max lr.
          auto mom = [&](int which) { return which == 1 ? o_.base_momentum : o_.max_momentum; };
          groups[g].options[momentum_key_] = anneal(mom(ph.start), mom(ph.end), pct);
        }
        break;
      }
      start_step = ph.end_step;
    }
  }
  return r;
}

}  // namespace loom::optim
