// Optimizers against the update formulas computed element by element in
// doubles, schedulers against PyTorch's closed forms, state-dict round trips
// and gradient clipping.
#include <catch2/catch_test_macros.hpp>
#include <cmath>

#include "core/error.h"
#include "nn/optim/adam.h"
#include "nn/optim/clip_grad.h"
#include "nn/optim/lr_scheduler.h"
#include "nn/optim/rmsprop.h"
#include "nn/optim/sgd.h"
#include "test_util.h"

using namespace loom;
using namespace loom::optim;
using loom::test::check_close;

namespace {

Tensor param(std::vector<double> v) {
  return from_blob(v.data(), {static_cast<int64_t>(v.size())}, DType::Float64).requires_grad_(true);
}
Tensor vec(std::vector<double> v) { return from_blob(v.data(), {static_cast<int64_t>(v.size())}, DType::Float64); }

// The gradient of sum(c * p^2) for fixed c: 2 c p (changes with p, so momentum
// and state matter).
void set_quadratic_grad(const Tensor& p, const std::vector<double>& c) {
  auto pv = p.to_vector();
  std::vector<double> g(pv.size());
  for (size_t i = 0; i < g.size(); ++i) g[i] = 2 * c[i] * pv[i];
  p.set_grad(vec(g));
}

}  // namespace

TEST_CASE("SGD: plain step, hand-computed", "[optim]") {
  Tensor p = param({1.0, 2.0});
  SGDOptions o;
  o.lr = 0.1;
  SGD opt({p}, o);
  p.set_grad(vec({0.5, -1.0}));
  opt.step();
  check_close(p, {0.95, 2.1}, 1e-12, 0);
}

TEST_CASE("SGD: momentum, dampening, weight decay, hand-computed", "[optim]") {
  Tensor p = param({1.0, 2.0});
  SGDOptions o;
  o.lr = 0.1, o.momentum = 0.9, o.dampening = 0.1, o.weight_decay = 0.01;
  SGD opt({p}, o);
  p.set_grad(vec({0.5, -1.0}));
  opt.step();
  // d = g + wd p = [0.51, -0.98]; buf = d; p -= 0.1 buf
  check_close(p, {0.949, 2.098}, 1e-12, 0);
  p.set_grad(vec({0.5, -1.0}));
  opt.step();
  // d = [0.50949, -0.97902]; buf = 0.9 [0.51, -0.98] + 0.9 d
  check_close(p, {0.949 - 0.1 * (0.459 + 0.9 * 0.50949), 2.098 - 0.1 * (-0.882 + 0.9 * -0.97902)}, 1e-12, 0);
  CHECK(opt.state(p).count("momentum_buffer"));
}

TEST_CASE("SGD: Nesterov against the formula", "[optim]") {
  std::vector<double> c = {0.5, 1.5, -0.25};
  Tensor p = param({1.0, -2.0, 0.5});
  SGDOptions o;
  o.lr = 0.05, o.momentum = 0.8, o.nesterov = true, o.weight_decay = 0.1;
  SGD opt({p}, o);
  std::vector<double> ref = {1.0, -2.0, 0.5}, buf(3);
  for (int t = 0; t < 4; ++t) {
    set_quadratic_grad(p, c);
    opt.step();
    for (size_t i = 0; i < 3; ++i) {
      double d = 2 * c[i] * ref[i] + 0.1 * ref[i];
      buf[i] = t == 0 ? d : 0.8 * buf[i] + d;
      ref[i] -= 0.05 * (d + 0.8 * buf[i]);
    }
  }
  check_close(p, ref, 1e-12, 1e-12);
  o.dampening = 0.5;
  CHECK_THROWS_AS(SGD({param({1.0})}, o), Error);
}

namespace {
std::vector<double> adam_ref(std::vector<double> p, const std::vector<double>& c, int steps, double lr, double b1,
                             double b2, double eps, double wd, bool decoupled) {
  std::vector<double> m(p.size()), v(p.size());
  for (int t = 1; t <= steps; ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      double g = 2 * c[i] * p[i];
      if (decoupled) p[i] *= 1 - lr * wd;
      else g += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * mh / (std::sqrt(vh) + eps);
    }
  return p;
}
}  // namespace

TEST_CASE("Adam and AdamW against the formula", "[optim]") {
  std::vector<double> c = {0.5, 1.5, -0.25, 2.0}, init = {1.0, -2.0, 0.5, 0.1};
  for (bool decoupled : {false, true}) {
    Tensor p = param(init);
    AdamOptions o;
    o.lr = 0.01, o.beta1 = 0.8, o.beta2 = 0.95, o.eps = 1e-6, o.weight_decay = 0.1;
    std::unique_ptr<Optimizer> opt;
    if (decoupled) opt = std::make_unique<AdamW>(TensorList{p}, o);
    else opt = std::make_unique<Adam>(TensorList{p}, o);
    for (int t = 0; t < 5; ++t) {
      set_quadratic_grad(p, c);
      opt->step();
    }
    check_close(p, adam_ref(init, c, 5, 0.01, 0.8, 0.95, 1e-6, 0.1, decoupled), 1e-10, 1e-9);
    CHECK(opt->state(p).at("step").item<double>() == 5);
  }
  CHECK(AdamW::default_options().weight_decay == 0.01);
}

TEST_CASE("RMSprop against the formula (centered, momentum)", "[optim]") {
  std::vector<double> c = {0.5, 1.5}, ref = {1.0, -2.0}, sq(2), ga(2), buf(2);
  Tensor p = param(ref);
  RMSpropOptions o;
  o.lr = 0.01, o.alpha = 0.9, o.eps = 1e-8, o.weight_decay = 0.05, o.momentum = 0.5, o.centered = true;
  RMSprop opt({p}, o);
  for (int t = 0; t < 3; ++t) {
    set_quadratic_grad(p, c);
    opt.step();
    for (size_t i = 0; i < 2; ++i) {
      double g = 2 * c[i] * ref[i] + 0.05 * ref[i];
      sq[i] = 0.9 * sq[i] + 0.1 * g * g;
      ga[i] = 0.9 * ga[i] + 0.1 * g;
      double avg = std::sqrt(sq[i] - ga[i] * ga[i]) + 1e-8;
      buf[i] = 0.5 * buf[i] + g / avg;
      ref[i] -= 0.01 * buf[i];
    }
  }
  check_close(p, ref, 1e-10, 1e-9);
}

TEST_CASE("Parameter groups with different lr; lr changes take effect", "[optim]") {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({ParamGroup({a}), ParamGroup({b}, {{"lr", 0.5}})}, SGDOptions{0.1});
  CHECK(opt.param_groups()[0].options.at("lr") == 0.1);
  CHECK(opt.param_groups()[1].options.at("momentum") == 0.0);
  a.set_grad(vec({1.0}));
  b.set_grad(vec({1.0}));
  opt.step();
  check_close(a, {0.9}, 1e-12, 0);
  check_close(b, {0.5}, 1e-12, 0);
  opt.param_groups()[0].options["lr"] = 0.2;
  opt.step();
  check_close(a, {0.7}, 1e-12, 0);
  // zero_grad: set_to_none by default, or zeroes in place.
  opt.zero_grad(false);
  check_close(a.grad(), {0.0});
  opt.zero_grad();
  CHECK(!a.grad().defined());
  // A parameter without a gradient is skipped.
  opt.step();
  check_close(a, {0.7}, 1e-12, 0);
  CHECK_THROWS_AS(SGD({ParamGroup({a}), ParamGroup({a})}), Error);
  CHECK_THROWS_AS(SGD({ParamGroup({b}, {{"bogus", 1.0}})}), Error);
}

TEST_CASE("state_dict round trip continues identically", "[optim]") {
  std::vector<double> c = {0.5, 1.5}, init = {1.0, -2.0};
  auto run = [&](bool reload) {
    Tensor p = param(init), q = param({0.3});
    AdamOptions o;
    o.lr = 0.05;
    auto opt = std::make_unique<Adam>(std::vector<ParamGroup>{ParamGroup({p}), ParamGroup({q}, {{"lr", 0.01}})}, o);
    for (int t = 0; t < 3; ++t) {
      set_quadratic_grad(p, c);
      set_quadratic_grad(q, {1.0});
      opt->step();
    }
    if (reload) {
      auto sd = opt->state_dict();
      CHECK(sd.count("state.0.exp_avg"));
      CHECK(sd.count("state.1.exp_avg_sq"));
      CHECK(sd.at("state.0.step").item<double>() == 3);
      CHECK(sd.at("param_groups.1.lr").item<double>() == 0.01);
      CHECK(sd.at("param_groups.1.lr").dtype() == DType::Float64);
      CHECK(sd.at("param_groups.1.params").to_vector() == std::vector<double>{1});
      auto fresh = std::make_unique<Adam>(std::vector<ParamGroup>{ParamGroup({p}), ParamGroup({q})}, AdamOptions{});
      fresh->load_state_dict(sd);
      CHECK(fresh->param_groups()[0].options.at("lr") == 0.05);
      opt = std::move(fresh);
    }
    for (int t = 0; t < 3; ++t) {
      set_quadratic_grad(p, c);
      set_quadratic_grad(q, {1.0});
      opt->step();
    }
    auto r = p.to_vector();
    r.push_back(q.item<double>());
    return r;
  };
  auto a = run(false), b = run(true);
  CHECK(a == b);
  // Mismatched structure is rejected.
  Tensor p = param({1.0});
  SGD one({p});
  Tensor x = param({1.0}), y = param({2.0});
  SGD two({ParamGroup({x}), ParamGroup({y})});
  CHECK_THROWS_AS(one.load_state_dict(two.state_dict()), Error);
}

namespace {
SGD make_sgd(Tensor& p, double lr) {
  p = param({1.0});
  return SGD({p}, SGDOptions{lr});
}
std::vector<double> lrs_of(LRScheduler& s, Optimizer& o, int n) {
  std::vector<double> r;
  for (int i = 0; i < n; ++i) {
    r.push_back(o.param_groups()[0].options.at("lr"));
    CHECK(s.get_last_lr()[0] == r.back());
    o.step();
    s.step();
  }
  return r;
}
void check_curve(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("epoch " << i);
    CHECK(std::fabs(got[i] - want[i]) < 1e-12);
  }
}
}  // namespace

TEST_CASE("Scheduler curves match the closed forms", "[optim]") {
  Tensor p;
  {
    SGD o = make_sgd(p, 0.1);
    StepLR s(o, 3, 0.5);
    check_curve(lrs_of(s, o, 8), {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025});
  }
  {
    SGD o = make_sgd(p, 1.0);
    MultiStepLR s(o, {2, 5}, 0.1);
    check_curve(lrs_of(s, o, 7), {1, 1, 0.1, 0.1, 0.1, 0.01, 0.01});
  }
  {
    SGD o = make_sgd(p, 0.1);
    CosineAnnealingLR s(o, 10, 0.001);
    std::vector<double> want;
    for (int e = 0; e < 11; ++e) want.push_back(0.001 + (0.1 - 0.001) * (1 + std::cos(M_PI * e / 10)) / 2);
    check_curve(lrs_of(s, o, 11), want);
  }
  {
    SGD o = make_sgd(p, 0.1);
    LambdaLR s(o, [](int64_t e) { return 1.0 / (e + 1); });
    check_curve(lrs_of(s, o, 4), {0.1, 0.05, 0.1 / 3, 0.025});
  }
  {
    SGD o = make_sgd(p, 0.1);
    LinearLR s(o, 0.25, 1.0, 3);
    check_curve(lrs_of(s, o, 6), {0.025, 0.05, 0.075, 0.1, 0.1, 0.1});
  }
}

TEST_CASE("OneCycleLR curve and momentum cycling", "[optim]") {
  Tensor p = param({1.0});
  SGD o({p}, SGDOptions{0.1, 0.9});
  OneCycleLR s(o, 1.0, 10);
  // pct_start 0.3: warm-up ends at step 2, anneal to min_lr at step 9 (cos).
  double init = 1.0 / 25, minlr = init / 1e4;
  auto cosan = [](double a, double b, double pct) { return b + (a - b) / 2 * (std::cos(M_PI * pct) + 1); };
  std::vector<double> want, mom;
  for (int e = 0; e < 10; ++e) {
    if (e <= 2) want.push_back(cosan(init, 1.0, e / 2.0)), mom.push_back(cosan(0.95, 0.85, e / 2.0));
    else want.push_back(cosan(1.0, minlr, (e - 2) / 7.0)), mom.push_back(cosan(0.85, 0.95, (e - 2) / 7.0));
  }
  std::vector<double> got, gotm;
  for (int e = 0; e < 10; ++e) {
    got.push_back(o.param_groups()[0].options.at("lr"));
    gotm.push_back(o.param_groups()[0].options.at("momentum"));
    if (e < 9) s.step();
  }
  check_curve(got, want);
  check_curve(gotm, mom);
  s.step();  // step 10 == total_steps is allowed (PyTorch's check is step_num > total_steps)
  CHECK_THROWS_AS(s.step(), Error);
  // Adam cycles beta1.
  Tensor q = param({1.0});
  Adam a({q});
  OneCycleLR sa(a, 0.01, 100);
  CHECK(a.param_groups()[0].options.at("beta1") == 0.95);
}

TEST_CASE("Scheduler state_dict resumes", "[optim]") {
  Tensor p;
  SGD o = make_sgd(p, 0.1);
  StepLR s(o, 2, 0.5);
  for (int i = 0; i < 3; ++i) s.step();
  auto sd = s.state_dict();
  auto osd = o.state_dict();
  Tensor p2;
  SGD o2 = make_sgd(p2, 0.1);
  o2.load_state_dict(osd);
  StepLR s2(o2, 2, 0.5, 0);  // resuming needs initial_lr in the groups, restored by the optimizer state
  s2.load_state_dict(sd);
  s.step(), s2.step();
  CHECK(s.get_last_lr() == s2.get_last_lr());
  CHECK(o2.param_groups()[0].options.at("lr") == o.param_groups()[0].options.at("lr"));
}

TEST_CASE("clip_grad_norm_ and clip_grad_value_", "[optim]") {
  Tensor a = param({3.0, 0.0}), b = param({0.0, 4.0}), c = param({1.0});
  a.set_grad(vec({3.0, 0.0}));
  b.set_grad(vec({0.0, 4.0}));
  Tensor total = nn::utils::clip_grad_norm_({a, b, c}, 1.0);
  CHECK(total.dim() == 0);
  CHECK(std::fabs(total.item<double>() - 5.0) < 1e-12);
  check_close(a.grad(), {3.0 / (5 + 1e-6), 0.0}, 1e-12, 0);
  check_close(b.grad(), {0.0, 4.0 / (5 + 1e-6)}, 1e-12, 0);
  // Below the limit: unchanged.
  a.set_grad(vec({0.3, 0.0}));
  nn::utils::clip_grad_norm_({a}, 1.0);
  check_close(a.grad(), {0.3, 0.0}, 1e-12, 0);
  // inf norm and 1-norm.
  a.set_grad(vec({-3.0, 1.0}));
  b.set_grad(vec({2.0, 0.0}));
  CHECK(nn::utils::clip_grad_norm_({a, b}, 1.5, INFINITY).item<double>() == 3.0);
  check_close(a.grad(), {-1.5, 0.5}, 1e-6, 0);
  a.set_grad(vec({-3.0, 1.0}));
  b.set_grad(vec({2.0, 0.0}));
  CHECK(std::fabs(nn::utils::clip_grad_norm_({a, b}, 100.0, 1.0).item<double>() - 6.0) < 1e-12);
  a.set_grad(vec({NAN, 1.0}));
  CHECK_THROWS_AS(nn::utils::clip_grad_norm_({a}, 1.0, 2.0, true), Error);
  a.set_grad(vec({-3.0, 0.2}));
  nn::utils::clip_grad_value_({a, c}, 0.5);
  check_close(a.grad(), {-0.5, 0.2}, 1e-12, 0);
}

TEST_CASE("maximize steps along the gradient; the step functions skip parameters without one", "[optim]") {
  Tensor a = param({1.0, -2.0}), b = param({1.0, -2.0}), c = param({3.0});
  AdamOptions up;
  up.lr = 0.1, up.maximize = true;
  Adam opt_up({a, c}, up);
  Adam opt_down({b}, AdamOptions{0.1});
  for (int t = 0; t < 3; ++t) {
    a.set_grad(vec({0.5, -1.5}));
    b.set_grad(vec({-0.5, 1.5}));
    opt_up.step();
    opt_down.step();
  }
  CHECK(a.to_vector() == b.to_vector());
  CHECK(c.item<double>() == 3.0);
  CHECK(opt_up.state().count(c.impl()) == 0);  // no gradient, no state
  // SGD without momentum keeps no state; the functional form takes explicit grads.
  SGD sgd({a});
  sgd.step();
  CHECK(sgd.state().empty());
  ParamState s;
  sgd_step(SGDOptions{0.1, 0.9}, {b}, {vec({1.0, 1.0})}, [&](size_t) -> ParamState& { return s; });
  CHECK(s.count("momentum_buffer"));
}

TEST_CASE("Chained schedulers compose; step(epoch) uses the closed form", "[optim]") {
  Tensor p;
  SGD o = make_sgd(p, 0.1);
  LinearLR warm(o, 0.5, 1.0, 2);
  CosineAnnealingLR cos(o, 4);
  std::vector<double> got;
  for (int e = 0; e < 4; ++e) {
    got.push_back(o.param_groups()[0].options.at("lr"));
    warm.step();
    cos.step();
  }
  std::vector<double> want;
  for (int e = 0; e < 4; ++e)
    want.push_back(0.1 * (0.5 + 0.5 * std::min(e, 2) / 2.0) * (1 + std::cos(M_PI * e / 4)) / 2);
  for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(got[i] - want[i]) < 1e-12 * want[0]);
  SGD o2 = make_sgd(p, 0.1);
  StepLR s(o2, 3, 0.5);
  s.step(7);
  CHECK(s.last_epoch() == 7);
  CHECK(o2.param_groups()[0].options.at("lr") == step_lr_closed_form(0.1, 7, 3, 0.5));
  CHECK(step_lr_closed_form(0.1, 7, 3, 0.5) == 0.1 * 0.25);
  auto sd = s.state_dict();
  CHECK(sd.at("_step_count").item<int64_t>() == 2);
}
