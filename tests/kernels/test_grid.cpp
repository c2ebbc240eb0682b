// grid_sample and affine_grid (kernels/grid.h, autograd/ops/grid.cpp):
// PyTorch's values on a small image in every mode, padding and alignment,
// float64 gradchecks of the input and the grid, the identity warp, bad
// arguments; [cuda] the CUDA kernels against the CPU twins on odd shapes,
// forward and both gradients.
#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/grid.h"
#include "core/error.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

// x[h, w] = 4h + w + 1 as [1, 1, 3, 4] float64: bilinear sampling is exact on it.
Tensor image() { return (arange(Scalar(12.0)).to(DType::Float64) + 1.0).reshape({1, 1, 3, 4}); }

// The points (0, 0), (-1, -1), (1.2, 0.5), (0.1, 0.1) as a [1, 1, 4, 2] grid.
Tensor points() { return from_vector<double>({0, 0, -1, -1, 1.2, 0.5, 0.1, 0.1}, {1, 1, 4, 2}); }

}  // namespace

TEST_CASE("grid_sample: PyTorch's values in every mode, padding and alignment", "[kernels][grid]") {
  struct Case {
    const char* mode;
    const char* padding;
    bool align;
    std::vector<double> want;
  };
  const std::vector<Case> cases = {
      {"bilinear", "zeros", false, {6.5, 0.25, 1.1, 7.3}},
      {"bilinear", "zeros", true, {6.5, 1.0, 7.0, 7.05}},
      {"bilinear", "border", false, {6.5, 1.0, 11.0, 7.3}},
      {"bilinear", "border", true, {6.5, 1.0, 10.0, 7.05}},
      {"bilinear", "reflection", false, {6.5, 1.0, 11.0, 7.3}},
      {"bilinear", "reflection", true, {6.5, 1.0, 9.7, 7.05}},
      {"nearest", "zeros", false, {7, 1, 0, 7}},
      {"nearest", "zeros", true, {7, 1, 12, 7}},
      {"nearest", "border", false, {7, 1, 12, 7}},
      {"nearest", "reflection", true, {7, 1, 12, 7}},
  };
  for (const Case& c : cases) {
    INFO(c.mode << " " << c.padding << " align_corners " << c.align);
    check_close(grid_sample(image(), points(), c.mode, c.padding, c.align).reshape({-1}), c.want, 1e-12, 1e-12);
  }
}

TEST_CASE("grid_sample: gradchecks of input and grid, nearest's input gradient", "[kernels][grid]") {
  for (const char* padding : {"zeros", "border", "reflection"})
    for (bool align : {false, true}) {
      INFO(padding << " align_corners " << align);
      // Points within and beyond [-1, 1], where reflection folds them back.
      Tensor grid = (rand({2, 3, 5, 2}, TensorOptions(DType::Float64)) * 3.0 - 1.5).requires_grad_(true);
      check_grad([=](const TensorList& t) { return grid_sample(t[0], t[1], "bilinear", padding, align); },
                 {leaf({2, 3, 4, 6}), grid});
      check_grad([=](const TensorList& t) { return grid_sample(t[0], grid.detach(), "nearest", padding, align); },
                 {leaf({2, 3, 4, 6})});
    }
  // nearest: the grid gets a zero gradient.
  Tensor x = leaf({1, 2, 3, 3});
  Tensor g = (rand({1, 2, 2, 2}, TensorOptions(DType::Float64)) * 2.0 - 1.0).requires_grad_(true);
  grid_sample(x, g, "nearest").sum().backward();
  CHECK(g.grad().abs().sum().item<double>() == 0.0);
  CHECK(x.grad().sum().item<double>() > 0.0);
}

TEST_CASE("affine_grid: the identity warp reproduces the image; gradcheck of theta", "[kernels][grid]") {
  Tensor x = rand({2, 3, 5, 7}, TensorOptions(DType::Float64));
  Tensor eye = from_vector<double>({1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0}, {2, 2, 3});
  for (bool align : {false, true})
    check_close(grid_sample(x, affine_grid(eye, {2, 3, 5, 7}, align), "bilinear", "zeros", align), x, 1e-12, 1e-12);
  // A half-size shift right by one pixel's worth at align_corners: x' = x + 2 / (W - 1).
  Tensor shift = from_vector<double>({1, 0, 2.0 / 6.0, 0, 1, 0}, {1, 2, 3});
  Tensor y = grid_sample(x.narrow(0, 0, 1), affine_grid(shift, {1, 3, 5, 7}, true), "bilinear", "zeros", true);
  check_close(y.narrow(3, 0, 6), x.narrow(0, 0, 1).narrow(3, 1, 6), 1e-12, 1e-12);
  CHECK(y.narrow(3, 6, 1).abs().sum().item<double>() < 1e-12);  // sampled beyond the right edge
  check_grad([](const TensorList& t) { return affine_grid(t[0], {2, 1, 3, 4}, false); }, {leaf({2, 2, 3})});
  // Through the sampler, as a spatial transformer learns theta.
  check_grad(
      [x](const TensorList& t) {
        return grid_sample(x, affine_grid(t[0], {2, 3, 4, 4}, false));
      },
      {(eye + leaf({2, 2, 3}) * 0.1).detach().requires_grad_(true)});
}

TEST_CASE("grid_sample and affine_grid: bad arguments name the op and the shapes", "[kernels][grid]") {
  Tensor x = rand({2, 3, 4, 5}), g = rand({2, 6, 7, 2});
  CHECK_THROWS_WITH(grid_sample(x, g.narrow(3, 0, 1)), Catch::Matchers::ContainsSubstring("size 2 in last dimension"));
  CHECK_THROWS_WITH(grid_sample(x.narrow(0, 0, 1), g), Catch::Matchers::ContainsSubstring("same batch size"));
  CHECK_THROWS_WITH(grid_sample(x.reshape({6, 4, 5}), g), Catch::Matchers::ContainsSubstring("4D input"));
  CHECK_THROWS_WITH(grid_sample(x, g, "linear"), Catch::Matchers::ContainsSubstring("expected mode"));
  CHECK_THROWS_WITH(grid_sample(x, g, "bilinear", "wrap"), Catch::Matchers::ContainsSubstring("padding_mode"));
  CHECK_THROWS_AS(grid_sample(x, g, "bicubic"), Error);
  CHECK_THROWS_WITH(grid_sample(x, g.to(DType::Float64)), Catch::Matchers::ContainsSubstring("same dtype"));
  CHECK_THROWS_WITH(grid_sample(x.to(DType::Int32), g), Catch::Matchers::ContainsSubstring("floating point"));
  Tensor theta = rand({2, 2, 3});
  CHECK_THROWS_WITH(affine_grid(theta, {2, 3, 4}), Catch::Matchers::ContainsSubstring("4-D sizes"));
  CHECK_THROWS_WITH(affine_grid(theta.narrow(2, 0, 2), {2, 3, 4, 4}), Catch::Matchers::ContainsSubstring("Nx2x3"));
  CHECK_THROWS_WITH(affine_grid(theta, {3, 3, 4, 4}), Catch::Matchers::ContainsSubstring("batch size"));
  // Double backward is refused, not silently wrong.
  Tensor xl = leaf({1, 1, 3, 3}), gl = (rand({1, 2, 2, 2}, TensorOptions(DType::Float64)) - 0.5).requires_grad_(true);
  autograd::EnableGradGuard eg;
  Tensor y = grid_sample(xl, gl).pow(2.0).sum();
  CHECK_THROWS_AS(autograd::grad({y}, {xl}, {}, true, true), Error);
}

TEST_CASE("cuda grid_sample matches cpu: every mode and padding, odd shapes, both gradients", "[kernels][grid][cuda]") {
  LOOM_REQUIRE_GPU();
  struct Case {
    Shape in, grid;
  };
  const std::vector<Case> cases = {{{2, 3, 5, 7}, {2, 11, 13, 2}},
                                   {{1, 1, 1, 9}, {1, 3, 31, 2}},
                                   {{3, 33, 17, 9}, {3, 4, 3, 2}},
                                   {{2, 64, 32, 32}, {2, 32, 32, 2}}};
  for (const Case& c : cases)
    for (const char* mode : {"bilinear", "nearest"})
      for (const char* padding : {"zeros", "border", "reflection"})
        for (bool align : {false, true}) {
          INFO(mode << " " << padding << " align_corners " << align << " channels " << c.in[1]);
          Tensor x = rand(c.in, TensorOptions(DType::Float64)).requires_grad_(true);
          Tensor g = (rand(c.grid, TensorOptions(DType::Float64)) * 2.6 - 1.3).requires_grad_(true);
          compare_gpu([&](const TensorList& t) { return grid_sample(t[0], t[1], mode, padding, align); }, {x, g}, 1e-12,
                      1e-10);
          Tensor xf = rand(c.in).requires_grad_(true);
          Tensor gf = (rand(c.grid) * 2.6 - 1.3).requires_grad_(true);
          compare_gpu([&](const TensorList& t) { return grid_sample(t[0], t[1], mode, padding, align); }, {xf, gf},
                      1e-4, 1e-4);
        }
  compare_gpu(
      [](const TensorList& t) {
        return affine_grid(t[0], {2, 3, 5, 7}, false);
      },
      {rand({2, 2, 3}).requires_grad_(true)}, 1e-5, 1e-5);
}
