// conv2d / conv1d front ends: values, argument errors, float64 gradchecks for
// input, weight and bias, and CUDA-vs-CPU forward+backward on odd shapes
// (loom's kernels in FP32 and TF32, the few-channel path, and cuDNN).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/ops/conv.h"
#include "core/autotune.h"
#include "core/random.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("conv2d values", "[conv]") {
  // All-ones 3x3 kernel over all-ones input with padding 1: each output counts
  // the in-range taps (4 at corners, 6 on edges, 9 inside) times C, plus bias.
  Tensor x = ones({1, 2, 4, 4}), w = ones({1, 2, 3, 3}), b = full({1}, 0.5);
  Tensor y = conv2d(x, w, b, {1}, {1});
  REQUIRE(y.sizes() == Shape{1, 1, 4, 4});
  test::check_close(y.reshape({16}),
                    {8.5, 12.5, 12.5, 8.5, 12.5, 18.5, 18.5, 12.5, 12.5, 18.5, 18.5, 12.5, 8.5, 12.5, 12.5, 8.5});
  Tensor y2 = conv2d(x, w, Tensor(), {2}, {0});
  REQUIRE(y2.sizes() == Shape{1, 1, 1, 1});
  CHECK(y2.item<double>() == 18.0);
  // Unbatched input keeps its rank.
  CHECK(conv2d(ones({2, 5, 5}), w).sizes() == Shape{1, 3, 3});
  // conv1d: [1, 1, 5] * [1, 1, 2] = pairwise sums.
  Tensor s = from_vector<float>({1, 2, 3, 4, 5}, {1, 1, 5});
  test::check_close(conv1d(s, ones({1, 1, 2})), {3, 5, 7, 9});
  test::check_close(conv1d(s, ones({1, 1, 2}), Tensor(), 2, 1), {1, 5, 9});
}

TEST_CASE("conv2d argument errors", "[conv]") {
  Tensor x = ones({1, 4, 5, 5}), w = ones({6, 2, 3, 3});
  CHECK_THROWS_WITH(conv2d(ones({4, 5}), w), ContainsSubstring("expected 3D (unbatched) or 4D"));
  CHECK_THROWS_WITH(conv2d(x, ones({6, 4, 3})), ContainsSubstring("expected a 4D weight"));
  CHECK_THROWS_WITH(conv2d(x, w), ContainsSubstring("to have 2 channels, but got 4 channels instead"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {1}, {0}, {1}, 4), ContainsSubstring("divisible by groups"));
  CHECK_THROWS_WITH(conv2d(x, w, ones({5}), {1}, {0}, {1}, 2), ContainsSubstring("expected bias of size [6]"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {0}, {0}, {1}, 2), ContainsSubstring("stride must be positive"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {1}, {-1}, {1}, 2), ContainsSubstring("padding must be non-negative"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {1, 1, 1}, {0}, {1}, 2), ContainsSubstring("stride to have 1 or 2"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {1}, {0}, {3}, 2), ContainsSubstring("Kernel size can't be greater"));
  CHECK_THROWS_WITH(
      conv2d(ones({1, 4, 5, 5}, DType::Int64), ones({6, 2, 3, 3}, DType::Int64), Tensor(), {1}, {0}, {1}, 2),
      ContainsSubstring("expected a floating point input"));
  CHECK_THROWS_WITH(conv2d(x, ones({6, 2, 3, 3}, DType::Float64), Tensor(), {1}, {0}, {1}, 2),
                    ContainsSubstring("must have the same dtype"));
  CHECK_THROWS_WITH(conv1d(ones({1, 4, 5}), ones({6, 4, 3, 3})), ContainsSubstring("expected a 3D weight"));
}

TEST_CASE("conv2d gradcheck (float64)", "[conv]") {
  manual_seed(3);
  struct Case {
    Shape x, w;
    Dims stride, pad, dil;
    int64_t groups;
    bool bias;
  };
  for (const auto& c : std::vector<Case>{{{2, 3, 5, 6}, {4, 3, 3, 3}, {1}, {1}, {1}, 1, true},
                                         {{1, 4, 7, 5}, {6, 2, 3, 2}, {2, 1}, {1, 0}, {1, 2}, 2, true},
                                         {{2, 2, 4, 4}, {3, 2, 1, 1}, {1}, {0}, {1}, 1, false},
                                         {{1, 3, 6, 6}, {3, 1, 3, 3}, {2}, {2}, {2}, 3, true}}) {
    Tensor x = test::leaf(c.x), w = test::leaf(c.w), b = test::leaf({c.w[0]});
    TensorList in = c.bias ? TensorList{x, w, b} : TensorList{x, w};
    test::check_grad(
        [&](const TensorList& t) {
          return conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), c.stride, c.pad, c.dil, c.groups);
        },
        in);
  }
}

TEST_CASE("conv2d gradients of single inputs; conv1d gradcheck", "[conv]") {
  manual_seed(4);
  Tensor x = test::leaf({2, 3, 5, 5}), w = test::leaf({2, 3, 3, 3}), b = test::leaf({2});
  // Only the bias requires grad: the weight kernel is skipped.
  Tensor xd = x.detach(), wd = w.detach();
  test::check_grad([&](const TensorList& t) { return conv2d(xd, wd, t[0], {1}, {1}); }, {b});
  test::check_grad([&](const TensorList& t) { return conv2d(t[0], wd, Tensor(), {2}, {1}); }, {x});
  test::check_grad([&](const TensorList& t) { return conv1d(t[0], t[1], t[2], 2, 1, 2); },
                   {test::leaf({2, 3, 9}), test::leaf({4, 3, 3}), test::leaf({4})});
  test::check_grad([&](const TensorList& t) { return conv2d(t[0], t[1], t[2], {1}, {1}); },
                   {test::leaf({3, 5, 4}), test::leaf({2, 3, 3, 3}), test::leaf({2})});
}

TEST_CASE("conv2d backend switch", "[conv]") {
  CHECK(conv_backend() == ConvBackend::Auto);  // the default
  set_conv_backend(ConvBackend::Cudnn);
  CHECK(conv_backend() == ConvBackend::Cudnn);
  // CPU tensors ignore the backend and never tune.
  CHECK(conv2d(ones({1, 1, 3, 3}), ones({1, 1, 3, 3})).item<double>() == 9.0);
  set_conv_backend(ConvBackend::Auto);
  CHECK(conv2d(ones({1, 1, 3, 3}), ones({1, 1, 3, 3})).item<double>() == 9.0);
  CHECK(autotune::entries("conv2d").empty());
  CHECK_FALSE(are_deterministic_algorithms_enabled());
  use_deterministic_algorithms(true);
  CHECK(are_deterministic_algorithms_enabled());
  use_deterministic_algorithms(false);
}

namespace {

const Device kGPU("cuda:0");

// Forward and backward of conv2d on CUDA against the CPU twin.
void compare_conv(const Shape& xs, const Shape& ws, bool bias, Dims stride, Dims pad, Dims dil, int64_t groups,
                  double tol) {
  INFO("N " << xs[0] << " C " << xs[1] << " H " << xs[2] << " W " << xs[3] << " K " << ws[0] << " R " << ws[2] << " S "
            << ws[3] << " groups " << groups);
  Tensor x = randn(xs).requires_grad_(true), w = (randn(ws) * 0.3).detach().requires_grad_(true);
  Tensor b = bias ? randn({ws[0]}).requires_grad_(true) : Tensor();
  Tensor xg = x.detach().to(kGPU).requires_grad_(true), wg = w.detach().to(kGPU).requires_grad_(true);
  Tensor bg = bias ? b.detach().to(kGPU).requires_grad_(true) : Tensor();
  Tensor yc = conv2d(x, w, b, stride, pad, dil, groups), yg = conv2d(xg, wg, bg, stride, pad, dil, groups);
  test::check_close(yg.cpu(), yc, tol, tol);
  Tensor seed = randn(yc.sizes());
  yc.backward(seed);
  yg.backward(seed.to(kGPU));
  test::check_close(xg.grad().cpu(), x.grad(), tol, tol);
  test::check_close(wg.grad().cpu(), w.grad(), tol * 4, tol);
  if (bias) test::check_close(bg.grad().cpu(), b.grad(), tol * 4, tol);
}

void conv_suite(double tol) {
  manual_seed(21);
  compare_conv({3, 5, 13, 11}, {7, 5, 3, 3}, true, {1}, {1}, {1}, 1, tol);
  compare_conv({2, 8, 17, 9}, {12, 4, 3, 2}, true, {2, 1}, {1, 0}, {1, 2}, 2, tol);
  compare_conv({2, 6, 9, 9}, {6, 1, 3, 3}, false, {1}, {1}, {1}, 6, tol);    // depthwise
  compare_conv({2, 37, 7, 7}, {70, 37, 1, 1}, true, {1}, {0}, {1}, 1, tol);  // pointwise
  compare_conv({5, 3, 19, 23}, {9, 3, 3, 3}, true, {1}, {1}, {1}, 1, tol);   // RGB first layer (few channels)
  compare_conv({3, 3, 16, 16}, {32, 3, 5, 5}, true, {2}, {2}, {1}, 1, tol);
  compare_conv({2, 64, 12, 12}, {65, 64, 3, 3}, true, {1}, {1}, {1}, 1, tol);    // several k tiles
  compare_conv({1, 4, 1, 31}, {5, 4, 1, 4}, true, {1, 2}, {0, 1}, {1}, 1, tol);  // conv1d shape
}

}  // namespace

// loom's kernels with the heuristic's configurations (every configuration:
// test_conv_configs.cpp; the autotuner's choice: the "auto" test there).
TEST_CASE("conv2d CUDA (FP32 implicit GEMM) matches the CPU", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  set_allow_tf32(false);
  set_conv_backend(ConvBackend::Hand);
  conv_suite(2e-4);
  set_conv_backend(ConvBackend::Auto);
}

TEST_CASE("conv2d CUDA (TF32 mma) matches the CPU", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  set_allow_tf32(true);
  set_conv_backend(ConvBackend::Hand);
  conv_suite(3e-2);
  set_conv_backend(ConvBackend::Auto);
  set_allow_tf32(false);
}

TEST_CASE("conv2d CUDA float64 matches the CPU", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(5);
  Tensor x = randn({2, 5, 9, 8}, TensorOptions(DType::Float64)), w = randn({4, 5, 3, 3}, TensorOptions(DType::Float64));
  test::check_close(conv2d(x.to(kGPU), w.to(kGPU), Tensor(), {2}, {1}).cpu(), conv2d(x, w, Tensor(), {2}, {1}), 1e-10,
                    1e-10);
}

TEST_CASE("conv2d cuDNN backend matches the CPU", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cudnn_available()) {
    CHECK_THROWS_WITH((set_conv_backend(ConvBackend::Cudnn),
                       conv2d(ones({1, 1, 3, 3}, TensorOptions(kGPU)), ones({1, 1, 3, 3}, TensorOptions(kGPU)))),
                      ContainsSubstring("built without cuDNN"));
    set_conv_backend(ConvBackend::Auto);
    SKIP("loom was built without cuDNN");
  }
  set_allow_tf32(false);
  set_conv_backend(ConvBackend::Cudnn);
  conv_suite(2e-4);
  set_conv_backend(ConvBackend::Auto);
}
