// Fused optimizer updates against hand-written PyTorch formulas over three
// steps (SGD with/without momentum, dampening, Nesterov, weight decay; Adam
// and AdamW), errors, and [cuda] comparisons with the CPU on several tensors.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>

#include "autograd/ops/optim.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::check_close;

namespace {

const Device kGPU("cuda:0");

struct SgdCfg {
  double lr, momentum, dampening, wd;
  bool nesterov;
};

// One element at a time, in double: torch.optim.SGD's single-tensor update.
void sgd_ref(std::vector<double>& p, const std::vector<double>& g, std::vector<double>& buf, const SgdCfg& c,
             bool first) {
  for (size_t i = 0; i < p.size(); ++i) {
    double d = g[i] + c.wd * p[i];
    if (c.momentum != 0) {
      buf[i] = first ? d : c.momentum * buf[i] + (1 - c.dampening) * d;
      d = c.nesterov ? d + c.momentum * buf[i] : buf[i];
    }
    p[i] -= c.lr * d;
  }
}

void adam_ref(std::vector<double>& p, const std::vector<double>& g, std::vector<double>& m, std::vector<double>& v,
              int step, double lr, double b1, double b2, double eps, double wd, bool decoupled) {
  for (size_t i = 0; i < p.size(); ++i) {
    double gi = g[i];
    if (decoupled) p[i] *= 1 - lr * wd;
    else gi += wd * p[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    p[i] -= lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps);
  }
}

}  // namespace

TEST_CASE("sgd_step_ matches PyTorch's update over three steps", "[optim]") {
  manual_seed(30);
  for (SgdCfg c : {SgdCfg{0.1, 0, 0, 0, false}, SgdCfg{0.05, 0.9, 0, 0.01, false}, SgdCfg{0.05, 0.9, 0.3, 0, false},
                   SgdCfg{0.02, 0.8, 0, 0.1, true}}) {
    for (DType dt : {DType::Float32, DType::Float64}) {
      TensorList ps{randn({4, 5}, TensorOptions(dt)), randn({7}, TensorOptions(dt))};
      TensorList bufs;
      if (c.momentum != 0) bufs = {zeros({4, 5}, TensorOptions(dt)), zeros({7}, TensorOptions(dt))};
      std::vector<std::vector<double>> rp{ps[0].to_vector(), ps[1].to_vector()}, rb{rp[0], rp[1]};
      for (int step = 0; step < 3; ++step) {
        TensorList gs{randn({4, 5}, TensorOptions(dt)), randn({7}, TensorOptions(dt))};
        sgd_step_(ps, gs, bufs, c.lr, c.momentum, c.dampening, c.nesterov, c.wd, step == 0);
        for (int k = 0; k < 2; ++k) sgd_ref(rp[k], gs[k].to_vector(), rb[k], c, step == 0);
      }
      for (int k = 0; k < 2; ++k) check_close(ps[k], rp[k], 1e-6, 1e-5);
      if (c.momentum != 0)
        for (int k = 0; k < 2; ++k) check_close(bufs[k], rb[k], 1e-6, 1e-5);
    }
  }
}

TEST_CASE("adam_step_ matches PyTorch's Adam and AdamW over three steps", "[optim]") {
  manual_seed(31);
  for (bool decoupled : {false, true})
    for (double wd : {0.0, 0.05}) {
      TensorList ps{randn({3, 6}), randn({11})};
      TensorList ms{zeros({3, 6}), zeros({11})}, vs{zeros({3, 6}), zeros({11})};
      std::vector<std::vector<double>> rp{ps[0].to_vector(), ps[1].to_vector()};
      std::vector<std::vector<double>> rm{std::vector<double>(18), std::vector<double>(11)}, rv = rm;
      for (int step = 1; step <= 3; ++step) {
        TensorList gs{randn({3, 6}), randn({11})};
        adam_step_(ps, gs, ms, vs, step, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled);
        for (int k = 0; k < 2; ++k)
          adam_ref(rp[k], gs[k].to_vector(), rm[k], rv[k], step, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled);
      }
      for (int k = 0; k < 2; ++k) {
        check_close(ps[k], rp[k], 1e-6, 1e-5);
        check_close(ms[k], rm[k], 1e-6, 1e-5);
        check_close(vs[k], rv[k], 1e-8, 1e-5);
      }
    }
}

TEST_CASE("optimizer steps reject bad arguments", "[optim]") {
  TensorList ps{zeros({2, 3})}, gs{zeros({2, 3})};
  CHECK_THROWS_WITH(sgd_step_(ps, {zeros({3})}, {}, 0.1, 0, 0, false, 0, true),
                    ContainsSubstring("grads[0] has shape [3]"));
  CHECK_THROWS_WITH(sgd_step_(ps, gs, {}, 0.1, 0.9, 0, false, 0, true),
                    ContainsSubstring("expected 1 momentum_buffers"));
  CHECK_THROWS_WITH(sgd_step_(ps, gs, {}, 0.1, 0, 0, true, 0, true), ContainsSubstring("Nesterov"));
  CHECK_THROWS_WITH(sgd_step_({zeros({3, 2}).t()}, gs, {}, 0.1, 0, 0, false, 0, true), ContainsSubstring("contiguous"));
  CHECK_THROWS_WITH(adam_step_(ps, gs, {zeros({2, 3})}, {zeros({2, 3})}, 0, 0.1, 0.9, 0.999, 1e-8, 0, false),
                    ContainsSubstring("step must be >= 1"));
  CHECK_THROWS_WITH(adam_step_(ps, gs, {zeros({2, 3})}, {zeros({2, 3})}, 1, 0.1, 0.9, 0.999, 1e-8, 0, false, true),
                    ContainsSubstring("expected 1 max_exp_avg_sqs"));
  CHECK_THROWS_WITH(
      adam_step_(ps, gs, {zeros({2, 3})}, {zeros({2, 3})}, 1, 0.1, 0.9, 0.999, 1e-8, 0, false, false, {zeros({2, 3})}),
      ContainsSubstring("pass amsgrad=True"));
  CHECK_THROWS_WITH(adam_step_(ps, gs, {zeros({2, 3}, TensorOptions(DType::Float64))}, {zeros({2, 3})}, 1, 0.1, 0.9,
                               0.999, 1e-8, 0, false),
                    ContainsSubstring("exp_avgs[0] has dtype float64"));
}

TEST_CASE("CUDA optimizer steps match the CPU", "[optim][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(32);
  // Several tensors of odd sizes and both dtypes, one larger than a chunk.
  std::vector<Shape> shapes{{3, 5}, {1}, {70001}, {17, 33}, {0}};
  auto make = [&](bool rnd, DType dt) {
    TensorList l;
    for (auto& s : shapes) l.push_back(rnd ? randn(s, TensorOptions(dt)) : zeros(s, TensorOptions(dt)));
    return l;
  };
  auto to_gpu = [](const TensorList& l) {
    TensorList r;
    for (auto& t : l) r.push_back(t.to(kGPU));
    return r;
  };
  for (DType dt : {DType::Float32, DType::Float64}) {
    TensorList pc = make(true, dt), bc = make(false, dt), mc = make(false, dt), vc = make(false, dt);
    TensorList pg = to_gpu(pc), bg = to_gpu(bc), mg = to_gpu(mc), vg = to_gpu(vc);
    TensorList qc = make(true, dt);
    TensorList qg = to_gpu(qc);
    for (int step = 1; step <= 3; ++step) {
      TensorList gc = make(true, dt);
      TensorList gg = to_gpu(gc);
      sgd_step_(pc, gc, bc, 0.05, 0.9, 0.1, false, 0.01, step == 1);
      sgd_step_(pg, gg, bg, 0.05, 0.9, 0.1, false, 0.01, step == 1);
      adam_step_(qc, gc, mc, vc, step, 1e-3, 0.9, 0.999, 1e-8, 0.01, true);
      adam_step_(qg, gg, mg, vg, step, 1e-3, 0.9, 0.999, 1e-8, 0.01, true);
    }
    for (size_t k = 0; k < shapes.size(); ++k) {
      check_close(pg[k].cpu(), pc[k], 1e-6, 1e-5);
      check_close(bg[k].cpu(), bc[k], 1e-6, 1e-5);
      check_close(qg[k].cpu(), qc[k], 1e-6, 1e-5);
      check_close(vg[k].cpu(), vc[k], 1e-8, 1e-5);
    }
  }
}
