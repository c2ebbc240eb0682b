#include "nn/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace loom::optim {

namespace {
constexpr double kPi = 3.14159265358979323846;

// Python's // and % on ints (floor division), which PyTorch's formulas use.
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
}  // namespace

// ---- the formulas ----

double step_lr(double lr, int64_t epoch, int64_t step_size, double gamma) {
  LOOM_CHECK_VALUE(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  if (epoch == 0 || floor_mod(epoch, step_size) != 0) return lr;
  return lr * gamma;
}

double step_lr_closed_form(double base_lr, int64_t epoch, int64_t step_size, double gamma) {
  LOOM_CHECK_VALUE(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  return base_lr * std::pow(gamma, static_cast<double>(floor_div(epoch, step_size)));
}

double multistep_lr(double lr, int64_t epoch, const std::vector<int64_t>& milestones, double gamma) {
  auto n = std::count(milestones.begin(), milestones.end(), epoch);
  if (n == 0) return lr;
  return lr * std::pow(gamma, static_cast<double>(n));
}

double multistep_lr_closed_form(double base_lr, int64_t epoch, const std::vector<int64_t>& milestones, double gamma) {
  auto n = std::count_if(milestones.begin(), milestones.end(), [&](int64_t m) { return m <= epoch; });
  return base_lr * std::pow(gamma, static_cast<double>(n));
}

double linear_lr(double lr, int64_t epoch, double start_factor, double end_factor, int64_t total_iters) {
  if (epoch == 0) return lr * start_factor;
  if (epoch > total_iters) return lr;
  const double d = end_factor - start_factor;
  return lr * (1.0 + d / (static_cast<double>(total_iters) * start_factor + static_cast<double>(epoch - 1) * d));
}

double linear_lr_closed_form(double base_lr, int64_t epoch, double start_factor, double end_factor,
                             int64_t total_iters) {
  LOOM_CHECK_VALUE(total_iters > 0, "LinearLR: total_iters must be positive, got ", total_iters);
  return base_lr * (start_factor + (end_factor - start_factor) * static_cast<double>(std::min(total_iters, epoch)) /
                                       static_cast<double>(total_iters));
}

double cosine_annealing_lr(double lr, double base_lr, int64_t epoch, int64_t step_count, double T_max, double eta_min) {
  const double e = static_cast<double>(epoch);
  if (epoch == 0) return lr;
  LOOM_CHECK_VALUE(T_max != 0, "CosineAnnealingLR: T_max must not be 0");
  if (step_count == 1 && epoch > 0) return eta_min + (base_lr - eta_min) * (1 + std::cos(e * kPi / T_max)) / 2;
  if (std::fmod(e - 1 - T_max, 2 * T_max) == 0) return lr + (base_lr - eta_min) * (1 - std::cos(kPi / T_max)) / 2;
  return (1 + std::cos(kPi * e / T_max)) / (1 + std::cos(kPi * (e - 1) / T_max)) * (lr - eta_min) + eta_min;
}

double cosine_annealing_lr_closed_form(double base_lr, int64_t epoch, double T_max, double eta_min) {
  LOOM_CHECK_VALUE(T_max != 0, "CosineAnnealingLR: T_max must not be 0");
  return eta_min + (base_lr - eta_min) * (1 + std::cos(kPi * static_cast<double>(epoch) / T_max)) / 2;
}

double lambda_lr(double base_lr, double factor) { return base_lr * factor; }

OneCycleValue one_cycle(int64_t step, int64_t total_steps, double pct_start, bool three_phase, bool anneal_cos,
                        double initial_lr, double max_lr, double min_lr, double max_momentum, double base_momentum) {
  LOOM_CHECK_VALUE(step <= total_steps, "OneCycleLR: tried to step ", step,
                   " times; the specified number of total steps is ", total_steps);
  struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
  };
  const double ts = static_cast<double>(total_steps);
  Phase two[] = {{pct_start * ts - 1, initial_lr, max_lr, max_momentum, base_momentum},
                 {ts - 1, max_lr, min_lr, base_momentum, max_momentum}};
  Phase three[] = {{pct_start * ts - 1, initial_lr, max_lr, max_momentum, base_momentum},
                   {2 * pct_start * ts - 2, max_lr, initial_lr, base_momentum, max_momentum},
                   {ts - 1, initial_lr, min_lr, max_momentum, max_momentum}};
  const Phase* phases = three_phase ? three : two;
  const size_t n = three_phase ? 3 : 2;
  auto anneal = [&](double start, double end, double pct) {
    return anneal_cos ? end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1) : (end - start) * pct + start;
  };
  const double s = static_cast<double>(step);
  double start_step = 0;
  for (size_t i = 0;; ++i) {
    const Phase& ph = phases[i];
    if (s <= ph.end_step || i + 1 == n) {
      const double pct = (s - start_step) / (ph.end_step - start_step);
      return {anneal(ph.start_lr, ph.end_lr, pct), anneal(ph.start_momentum, ph.end_momentum, pct)};
    }
    start_step = ph.end_step;
  }
}

// ---- the classes ----

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

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> r;
  for (auto& g : optimizer_.param_groups()) r.push_back(group_option(g.options, "lr", "LRScheduler"));
  return r;
}

void LRScheduler::step(std::optional<int64_t> epoch) {
  ++step_count_;
  std::vector<double> lrs;
  if (epoch) {
    last_epoch_ = *epoch;
    lrs = get_closed_form_lr();
  } else {
    ++last_epoch_;
    lrs = get_lr();
  }
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size() && i < lrs.size(); ++i) groups[i].options["lr"] = lrs[i];
  last_lr_ = group_lrs();
}

std::map<std::string, Tensor> LRScheduler::state_dict() const {
  std::map<std::string, Tensor> sd;
  sd["last_epoch"] = scalar_tensor(last_epoch_, TensorOptions(DType::Int64));
  sd["_step_count"] = scalar_tensor(step_count_, TensorOptions(DType::Int64));
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
  auto sc = sd.find("_step_count");  // absent from older checkpoints
  if (sc != sd.end()) step_count_ = sc->second.item<int64_t>();
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), step_size_(step_size), gamma_(gamma) {
  LOOM_CHECK_VALUE(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}
std::vector<double> StepLR::get_lr() const {
  std::vector<double> r;
  for (double lr : group_lrs()) r.push_back(step_lr(lr, last_epoch_, step_size_, gamma_));
  return r;
}
std::vector<double> StepLR::get_closed_form_lr() const {
  std::vector<double> r;
  for (double b : base_lrs_) r.push_back(step_lr_closed_form(b, last_epoch_, step_size_, gamma_));
  return r;
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}
std::vector<double> MultiStepLR::get_lr() const {
  std::vector<double> r;
  for (double lr : group_lrs()) r.push_back(multistep_lr(lr, last_epoch_, milestones_, gamma_));
  return r;
}
std::vector<double> MultiStepLR::get_closed_form_lr() const {
  std::vector<double> r;
  for (double b : base_lrs_) r.push_back(multistep_lr_closed_form(b, last_epoch_, milestones_, gamma_));
  return r;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min, int64_t last_epoch)
    : LRScheduler(opt, last_epoch), T_max_(T_max), eta_min_(eta_min) {
  LOOM_CHECK_VALUE(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  initial_step();
}
std::vector<double> CosineAnnealingLR::get_lr() const {
  std::vector<double> lrs = group_lrs(), r;
  for (size_t i = 0; i < lrs.size(); ++i)
    r.push_back(
        cosine_annealing_lr(lrs[i], base_lrs_.at(i), last_epoch_, step_count_, static_cast<double>(T_max_), eta_min_));
  return r;
}
std::vector<double> CosineAnnealingLR::get_closed_form_lr() const {
  std::vector<double> r;
  for (double b : base_lrs_)
    r.push_back(cosine_annealing_lr_closed_form(b, last_epoch_, static_cast<double>(T_max_), eta_min_));
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
  for (size_t i = 0; i < base_lrs_.size(); ++i) r.push_back(lambda_lr(base_lrs_[i], lambdas_[i](last_epoch_)));
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
  std::vector<double> r;
  for (double lr : group_lrs()) r.push_back(linear_lr(lr, last_epoch_, start_factor_, end_factor_, total_iters_));
  return r;
}
std::vector<double> LinearLR::get_closed_form_lr() const {
  std::vector<double> r;
  for (double b : base_lrs_)
    r.push_back(linear_lr_closed_form(b, last_epoch_, start_factor_, end_factor_, total_iters_));
  return r;
}

OneCycleLR::OneCycleLR(Optimizer& opt, std::vector<double> max_lrs, int64_t total_steps, OneCycleOptions o,
                       int64_t last_epoch)
    : LRScheduler(opt, last_epoch), total_steps_(total_steps), o_(o) {
  LOOM_CHECK_VALUE(total_steps > 0, "OneCycleLR: expected a positive total_steps, got ", total_steps);
  LOOM_CHECK_VALUE(o.pct_start >= 0 && o.pct_start <= 1, "OneCycleLR: expected pct_start in [0, 1], got ", o.pct_start);
  auto& groups = opt.param_groups();
  LOOM_CHECK_VALUE(max_lrs.size() == groups.size(), "OneCycleLR: expected ", groups.size(), " max_lr values, got ",
                   max_lrs.size());
  if (o.cycle_momentum) {
    const Options& d = opt.defaults();
    momentum_key_ = d.count("beta1") ? "beta1" : d.count("momentum") ? "momentum" : nullptr;
    LOOM_CHECK_VALUE(momentum_key_, "OneCycleLR: optimizer must support momentum or beta1 with cycle_momentum");
  }
  const bool fresh = last_epoch == -1;
  for (size_t i = 0; i < groups.size(); ++i) {
    Options& g = groups[i].options;
    // Fresh: PyTorch's values; resuming: the optimizer's (restored) values, or these when missing.
    auto set = [&](const char* key, double value) {
      if (fresh) g[key] = value;
      else g.emplace(key, value);
    };
    const double initial = max_lrs[i] / o.div_factor;
    set("initial_lr", initial);
    set("max_lr", max_lrs[i]);
    set("min_lr", initial / o.final_div_factor);
    if (momentum_key_) {
      if (fresh) g[momentum_key_] = o.max_momentum;
      set("max_momentum", o.max_momentum);
      set("base_momentum", o.base_momentum);
    }
    base_lrs_[i] = g.at("initial_lr");
  }
  initial_step();
}

std::vector<double> OneCycleLR::get_lr() const {
  std::vector<double> r;
  for (auto& grp : optimizer_.param_groups()) {
    Options& g = grp.options;  // the momentum cycles with the lr
    auto get = [&](const char* k) { return group_option(g, k, "OneCycleLR"); };
    const OneCycleValue v = one_cycle(
        last_epoch_, total_steps_, o_.pct_start, o_.three_phase, o_.anneal_cos, get("initial_lr"), get("max_lr"),
        get("min_lr"), momentum_key_ ? get("max_momentum") : 0.0, momentum_key_ ? get("base_momentum") : 0.0);
    r.push_back(v.lr);
    if (momentum_key_) g[momentum_key_] = v.momentum;
  }
  return r;
}

}  // namespace loom::optim
