// Pooling front ends: values, argument errors, float64 gradchecks. The
// CUDA-vs-CPU comparisons, one per kernel path, are in test_pool_cuda.cpp.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/ops/pool.h"
#include "core/random.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("pooling values", "[pool]") {
  Tensor x = arange(16.0).to(DType::Float32).reshape({1, 1, 4, 4});
  test::check_close(max_pool2d(x, {2}), {5, 7, 13, 15});
  auto [v, i] = max_pool2d_with_indices(x, {2});
  CHECK(i.dtype() == DType::Int64);
  CHECK(i.to_vector() == std::vector<double>{5, 7, 13, 15});
  test::check_close(avg_pool2d(x, {2}), {2.5, 4.5, 10.5, 12.5});
  // count_include_pad: the corner window sees 1 of 4 padded taps.
  test::check_close(avg_pool2d(x, {2}, {2}, {1}).reshape({9}).narrow(0, 0, 1), {0.0 / 4});
  test::check_close(avg_pool2d(x, {2}, {2}, {1}, false, false).reshape({9}).narrow(0, 0, 2), {0.0, 1.5});
  test::check_close(adaptive_avg_pool2d(x, {1}).reshape({1}), {7.5});
  test::check_close(adaptive_avg_pool2d(x, {2, 1}).reshape({2}), {3.5, 11.5});
  test::check_close(adaptive_max_pool2d(x, {2, 1}).reshape({2}), {7, 15});
  auto [mv, mi] = adaptive_max_pool2d_with_indices(x, {3});  // windows [0,2) [1,3) [2,4): overlapping
  test::check_close(mv.reshape({9}), {5, 6, 7, 9, 10, 11, 13, 14, 15});
  CHECK(mi.to_vector() == std::vector<double>{5, 6, 7, 9, 10, 11, 13, 14, 15});
  CHECK(max_pool2d(ones({3, 7, 7}), {2}, {2}, {0}, {1}, true).sizes() == Shape{3, 4, 4});
  CHECK(adaptive_avg_pool2d(ones({3, 7, 7}), {3}).sizes() == Shape{3, 3, 3});
}

TEST_CASE("pooling argument errors", "[pool]") {
  Tensor x = ones({1, 2, 5, 5});
  CHECK_THROWS_WITH(max_pool2d(ones({5, 5}), {2}), ContainsSubstring("expected 3D or 4D input"));
  CHECK_THROWS_WITH(max_pool2d(x, {2}, {2}, {2}), ContainsSubstring("pad should be at most half"));
  CHECK_THROWS_WITH(max_pool2d(x, {0}), ContainsSubstring("kernel_size must be greater than zero"));
  CHECK_THROWS_WITH(max_pool2d(x, {2, 2, 2}), ContainsSubstring("kernel_size must be a single int or a pair"));
  CHECK_THROWS_WITH(max_pool2d(x, {6}), ContainsSubstring("is too small"));
  CHECK_THROWS_WITH(avg_pool2d(ones({1, 2, 5, 5}, DType::Int64), {2}), ContainsSubstring("floating point"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(x, {0}), ContainsSubstring("output_size must be positive"));
  CHECK_THROWS_WITH(adaptive_max_pool2d(x, {2, 0}), ContainsSubstring("output_size must be positive"));
  CHECK_THROWS_WITH(adaptive_max_pool2d(ones({5, 5}), {2}), ContainsSubstring("expected 3D or 4D input"));
  CHECK_THROWS_WITH(adaptive_max_pool2d(ones({1, 2, 0, 5}), {2}), ContainsSubstring("non-empty spatial dims"));
}

TEST_CASE("pooling gradcheck (float64)", "[pool]") {
  manual_seed(9);
  // Distinct values keep the max away from ties, where finite differences break.
  Tensor x = (randperm(2 * 3 * 7 * 8).to(DType::Float64).reshape({2, 3, 7, 8}) * 0.01).detach().requires_grad_(true);
  test::check_grad([](const TensorList& t) { return max_pool2d(t[0], {2}); }, {x});
  test::check_grad([](const TensorList& t) { return max_pool2d(t[0], {3, 2}, {2, 1}, {1, 0}, {1}, true); }, {x});
  test::check_grad([](const TensorList& t) { return max_pool2d(t[0], {2}, {1}, {1}, {2}); }, {x});
  Tensor y = test::leaf({2, 3, 7, 8});
  test::check_grad([](const TensorList& t) { return avg_pool2d(t[0], {3}, {2}, {1}); }, {y});
  test::check_grad([](const TensorList& t) { return avg_pool2d(t[0], {3}, {2}, {1}, true, false); }, {y});
  test::check_grad([](const TensorList& t) { return adaptive_avg_pool2d(t[0], {3, 5}); }, {y});
  test::check_grad([](const TensorList& t) { return adaptive_avg_pool2d(t[0], {1}); }, {test::leaf({3, 5, 4})});
  test::check_grad([](const TensorList& t) { return adaptive_max_pool2d(t[0], {3, 2}); }, {x});
  test::check_grad([](const TensorList& t) { return adaptive_max_pool2d(t[0], {7, 9}); }, {test::leaf({2, 5, 4})});
}
