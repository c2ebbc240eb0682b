// dropout (mask statistics, scale, mask reuse in backward, eval mode,
// determinism under a seed), plus a [cuda] comparison with the CPU.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/ops/dropout.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::check_close;
using test::check_grad;
using test::leaf;

namespace {
const Device kGPU("cuda:0");
}

TEST_CASE("dropout zeroes with probability p and scales the rest", "[dropout]") {
  manual_seed(22);
  Tensor x = rand({200, 100}) + 1.0;
  Tensor y = dropout(x, 0.3);
  Tensor kept = y.ne(0.0);
  double frac = kept.to(DType::Float64).mean().item<double>();
  CHECK(std::fabs(frac - 0.7) < 0.01);
  check_close(where(kept, y, x / 0.7), (x / 0.7).to_vector(), 1e-6, 1e-5);
  // Same seed, same mask; eval mode and p = 0 are the identity; p = 1 zeroes.
  manual_seed(5);
  Tensor a = dropout(x, 0.5);
  manual_seed(5);
  check_close(dropout(x, 0.5), a, 0, 0);
  CHECK(dropout(x, 0.5, false).is_same(x));
  CHECK(dropout(x, 0.0).is_same(x));
  CHECK(dropout(x, 1.0).abs().sum().item<double>() == 0.0);
  CHECK_THROWS_WITH(dropout(x, 1.5), ContainsSubstring("between 0 and 1"));
  CHECK_THROWS_WITH(dropout(ones({2}, TensorOptions(DType::Int64)), 0.5), ContainsSubstring("floating point"));
}

TEST_CASE("dropout backward reuses the forward mask", "[dropout]") {
  manual_seed(23);
  Tensor x = (rand({13, 17}) + 0.5).requires_grad_(true);
  Tensor y = dropout(x.t(), 0.4);  // non-contiguous input
  Tensor g = randn({17, 13});
  y.backward(g);
  Tensor mask = y.ne(0.0).to(DType::Float32);
  check_close(x.grad(), (g * mask / 0.6).t().contiguous(), 1e-6, 1e-5);
  // gradcheck with a fixed seed per evaluation (the mask is then a constant).
  auto xd = leaf({5, 6});
  check_grad(
      [](const TensorList& t) {
        manual_seed(99);
        return dropout(t[0], 0.5);
      },
      {xd});
  check_grad(
      [](const TensorList& t) {
        manual_seed(98);
        autograd::EnableGradGuard eg;
        Tensor y2 = dropout(t[0], 0.25) * t[0];
        auto gr = autograd::grad({y2.sum()}, {t[0]}, {}, true, true);
        return gr[0];
      },
      {xd});
}

TEST_CASE("CUDA dropout matches the CPU", "[dropout][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(25);
  // Dropout: the same (seed, offset) gives the same mask on both devices.
  Tensor x = rand({33, 77}) + 0.5;
  for (double p : {0.1, 0.5, 0.9}) {
    Tensor xc = x.clone().requires_grad_(true), xg = x.to(kGPU).requires_grad_(true);
    manual_seed(7);
    Tensor yc = dropout(xc, p);
    manual_seed(7);
    Tensor yg = dropout(xg, p);
    check_close(yg.cpu(), yc, 1e-6, 1e-6);
    Tensor g = randn({33, 77});
    yc.backward(g);
    yg.backward(g.to(kGPU));
    check_close(xg.grad().cpu(), xc.grad(), 1e-6, 1e-6);
  }
}
