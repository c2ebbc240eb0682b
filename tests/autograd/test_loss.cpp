// cross_entropy: values against log_softmax / gather compositions for every
// option (weight, ignore_index, label_smoothing, reductions, higher-dim
// targets, unbatched), errors, float64 gradchecks (first and second order),
// and [cuda] comparisons with the CPU.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/ops/loss.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::check_close;
using test::check_grad;
using test::leaf;

namespace {

// PyTorch's definition on [M, C] rows, composed from loom ops.
Tensor xent_ref(const Tensor& x2, const Tensor& t1, const Tensor& w, int64_t ignore, const std::string& red,
                double eps) {
  const int64_t C = x2.size(1);
  Tensor lp = x2.log_softmax(1);
  Tensor valid = t1.ne(ignore);
  Tensor tc = where(valid, t1, Scalar(int64_t(0)));
  Tensor wt = w.defined() ? w.index_select(0, tc) : ones({t1.numel()}, TensorOptions(x2.dtype()));
  Tensor vf = valid.to(x2.dtype());
  Tensor nll = -lp.gather(1, tc.unsqueeze(1)).squeeze(1) * wt * vf;
  Tensor smooth = w.defined() ? -(lp * w.unsqueeze(0)).sum({1}) : -lp.sum({1});
  smooth = smooth * vf;
  Tensor rows = nll * (1 - eps) + smooth * (eps / C);
  if (red == "none") return rows;
  if (red == "sum") return rows.sum();
  return rows.sum() / (wt * vf).sum();
}

const Device kGPU("cuda:0");

}  // namespace

TEST_CASE("cross_entropy matches the composition", "[loss]") {
  manual_seed(10);
  Tensor x = randn({7, 5}) * 2;
  Tensor t = from_vector<int64_t>({0, 4, 2, -100, 1, 3, 3}, {7});
  Tensor w = rand({5}) + 0.5;
  for (const char* red : {"mean", "sum", "none"})
    for (double eps : {0.0, 0.2})
      for (bool use_w : {false, true}) {
        INFO(red << " eps=" << eps << " weight=" << use_w);
        Tensor wt = use_w ? w : Tensor();
        check_close(cross_entropy(x, t, wt, -100, red, eps), xent_ref(x, t, wt, -100, red, eps));
      }
  // A custom ignore_index, and a target equal to the default -100 then is an error.
  Tensor t2 = from_vector<int64_t>({0, 4, 2, 2, 1, 3, 3}, {7});
  check_close(cross_entropy(x, t2, {}, 2), xent_ref(x, t2, {}, 2, "mean", 0));
  CHECK_THROWS_WITH(cross_entropy(x, t, {}, 2), ContainsSubstring("Target -100 is out of bounds"));
  // [N, C, d1, d2] with targets [N, d1, d2].
  Tensor x4 = randn({2, 5, 3, 4});
  Tensor t4 = randint(0, 5, {2, 3, 4});
  Tensor x4r = x4.permute({0, 2, 3, 1}).reshape({24, 5});
  for (const char* red : {"mean", "sum"})
    check_close(cross_entropy(x4, t4, w, -100, red, 0.1), xent_ref(x4r, t4.reshape({24}), w, -100, red, 0.1));
  CHECK(cross_entropy(x4, t4, {}, -100, "none").sizes() == Shape{2, 3, 4});
  check_close(cross_entropy(x4, t4, {}, -100, "none").reshape({24}),
              xent_ref(x4r, t4.reshape({24}), {}, -100, "none", 0));
  // Unbatched [C] with a 0-d target.
  Tensor x1 = randn({5});
  Tensor t0 = scalar_tensor(Scalar(int64_t(3)), TensorOptions(DType::Int64));
  check_close(cross_entropy(x1, t0), xent_ref(x1.unsqueeze(0), t0.reshape({1}), {}, -100, "mean", 0));
  // Every target ignored: mean is 0/0 = nan, as PyTorch.
  Tensor all_ign = full({3}, Scalar(int64_t(-100)), TensorOptions(DType::Int64));
  CHECK(std::isnan(cross_entropy(randn({3, 4}), all_ign).item<double>()));
}

TEST_CASE("cross_entropy rejects bad arguments", "[loss]") {
  Tensor x = randn({3, 4});
  Tensor t = from_vector<int64_t>({0, 1, 2}, {3});
  CHECK_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({0, 4, 1}, {3})),
                    ContainsSubstring("Target 4 is out of bounds"));
  CHECK_THROWS_WITH(cross_entropy(x, t.to(DType::Float32)), ContainsSubstring("int64"));
  CHECK_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({0, 1}, {2})), ContainsSubstring("target of shape [3]"));
  CHECK_THROWS_WITH(cross_entropy(x, t, ones({5})), ContainsSubstring("weight of shape [4]"));
  CHECK_THROWS_WITH(cross_entropy(x, t, {}, -100, "avg"), ContainsSubstring("reduction"));
  CHECK_THROWS_WITH(cross_entropy(x, t, {}, -100, "mean", 1.5), ContainsSubstring("label_smoothing"));
}

TEST_CASE("cross_entropy gradcheck", "[loss]") {
  manual_seed(11);
  auto x = leaf({6, 5}, -2, 2);
  Tensor t = from_vector<int64_t>({0, 4, -100, 1, 3, 3}, {6});
  Tensor w = rand({5}, TensorOptions(DType::Float64)) + 0.5;
  for (const char* red : {"mean", "sum", "none"})
    for (double eps : {0.0, 0.3}) {
      INFO(red << " eps=" << eps);
      check_grad([&](const TensorList& in) { return cross_entropy(in[0], t, {}, -100, red, eps); }, {x});
      check_grad([&](const TensorList& in) { return cross_entropy(in[0], t, w, -100, red, eps); }, {x});
    }
  Tensor t5 = from_vector<int64_t>({0, 4, 2, 1, 3}, {5});
  auto x4 = leaf({2, 3, 2, 2});
  Tensor t4 = from_vector<int64_t>({0, 2, 1, 1, 2, 0, -100, 1}, {2, 2, 2});
  check_grad([&](const TensorList& in) { return cross_entropy(in[0], t4, w.narrow(0, 0, 3), -100, "mean", 0.1); },
             {x4});
  check_grad([&](const TensorList& in) { return cross_entropy(in[0], t4, {}, -100, "none"); }, {x4});
  check_grad([&](const TensorList& in) { return cross_entropy(in[0].t(), t5); }, {leaf({5, 5})});
}

TEST_CASE("cross_entropy double backward", "[loss]") {
  manual_seed(12);
  auto x = leaf({4, 3, 2});
  Tensor t = from_vector<int64_t>({0, 2, -100, 1, 1, 0, 2, 2}, {4, 2});
  Tensor w = rand({3}, TensorOptions(DType::Float64)) + 0.5;
  check_grad(
      [&](const TensorList& in) {
        autograd::EnableGradGuard eg;
        Tensor y = cross_entropy(in[0], t, w, -100, "mean", 0.2);
        auto gr = autograd::grad({y}, {in[0]}, {}, true, true);
        return (gr[0] * gr[0]).sum();
      },
      {x});
}

TEST_CASE("CUDA cross_entropy matches the CPU", "[loss][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(13);
  for (int64_t C : {1, 5, 37, 1000, 4099}) {
    INFO("C = " << C);
    Tensor x = (randn({67, C}) * 3).requires_grad_(true);
    Tensor t = randint(0, C, {67});
    t.narrow(0, 3, 5).fill_(-100);
    Tensor w = rand({C}) + 0.5;
    for (const char* red : {"mean", "sum", "none"})
      for (double eps : {0.0, 0.1})
        for (bool use_w : {false, true}) {
          Tensor xc = x.detach().requires_grad_(true), xg = x.detach().to(kGPU).requires_grad_(true);
          Tensor yc = cross_entropy(xc, t, use_w ? w : Tensor(), -100, red, eps);
          Tensor yg = cross_entropy(xg, t.to(kGPU), use_w ? w.to(kGPU) : Tensor(), -100, red, eps);
          check_close(yg.cpu(), yc, 1e-4, 1e-4);
          Tensor seed = randn(yc.sizes());
          yc.backward(seed);
          yg.backward(seed.to(kGPU));
          check_close(xg.grad().cpu(), xc.grad(), 1e-5, 1e-4);
        }
  }
  Tensor x4 = randn({3, 7, 5, 2}).requires_grad_(true), t4 = randint(0, 7, {3, 5, 2});
  Tensor x4g = x4.detach().to(kGPU).requires_grad_(true);
  Tensor yc = cross_entropy(x4, t4), yg = cross_entropy(x4g, t4.to(kGPU));
  check_close(yg.cpu(), yc, 1e-5, 1e-4);
  yc.backward();
  yg.backward();
  check_close(x4g.grad().cpu(), x4.grad(), 1e-5, 1e-4);
  // A bad target is reported at the next synchronization.
  CHECK_THROWS_WITH(
      [&] {
        Tensor bad = cross_entropy(randn({2, 3}, TensorOptions(kGPU)), from_vector<int64_t>({0, 3}, {2}, kGPU));
        cuda::synchronize();
        (void)bad.cpu();
      }(),
      ContainsSubstring("out of"));
}
