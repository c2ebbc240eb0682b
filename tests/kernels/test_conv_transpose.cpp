// conv_transpose2d / conv_transpose1d (autograd/ops/conv.cpp, over conv2d's
// kernels): PyTorch's values on a small case, a direct float64 reference on
// strides, padding, output padding, dilation and groups, the identity with
// conv2d's input gradient, float64 gradchecks, bad arguments; [cuda] against
// the CPU.
#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/conv.h"
#include "core/error.h"
#include "../core/op_references.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

struct Case {
  Shape x, w;
  Dims stride, pad, out_pad, dil;
  int64_t groups;
};

const std::vector<Case> kCases = {
    {{2, 4, 5, 4}, {4, 3, 3, 2}, {2, 3}, {1, 0}, {1, 2}, {1, 2}, 2},
    {{1, 3, 6, 7}, {3, 5, 3, 3}, {1, 1}, {1, 1}, {0, 0}, {1, 1}, 1},
    {{3, 2, 4, 3}, {2, 2, 4, 4}, {2, 2}, {1, 1}, {0, 1}, {1, 1}, 1},
    {{2, 6, 3, 5}, {6, 1, 2, 3}, {3, 2}, {0, 2}, {2, 0}, {2, 1}, 6},
    // 1x1, stride 1, no padding, but output_padding (allowed by the dilation): the output is larger than the
    // input, so the convolution it transposes is not the pointwise GEMM (its last row / column was left unwritten)
    {{2, 3, 4, 5}, {3, 2, 1, 1}, {1, 1}, {0, 0}, {1, 1}, {2, 2}, 1},
    {{1, 4, 1, 3}, {4, 1, 1, 1}, {1, 1}, {0, 0}, {1, 0}, {2, 1}, 2},
    // one output channel per group (the CPU's depthwise input-gradient stencil covered only the size without
    // the output padding: the extra column was read from outside the plane)
    {{2, 2, 3, 1}, {2, 1, 1, 1}, {1, 1}, {0, 0}, {0, 1}, {1, 2}, 1},
    {{1, 3, 4, 4}, {3, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, {2, 2}, 3},
};

// The float64 reference of the op registry (direct loops), flattened.
std::vector<double> reference(const Tensor& x, const Tensor& w, const Tensor& b, const Case& c) {
  return ref::conv_transpose2d(x, w, b, c.stride, c.pad, c.out_pad, c.groups, c.dil).reshape({-1}).to_vector();
}

}  // namespace

TEST_CASE("conv_transpose2d: PyTorch's values", "[kernels][conv]") {
  Tensor x = arange(Scalar(8.0)).to(DType::Float64).reshape({1, 2, 2, 2});
  Tensor w = arange(Scalar(24.0)).to(DType::Float64).reshape({2, 3, 2, 2}) * Scalar(0.1);
  Tensor b = from_vector(std::vector<double>{1.0, -1.0, 0.5}, {3});
  Tensor y = conv_transpose2d(x, w, b, {2});
  CHECK(y.sizes() == Shape{1, 3, 4, 4});
  check_close(y.reshape({-1}).narrow(0, 0, 16),
              {5.8, 6.2, 7.0, 7.6, 6.6, 7.0, 8.2, 8.8, 8.2, 9.0, 9.4, 10.4, 9.8, 10.6, 11.4, 12.4}, 1e-12, 1e-12);
  Tensor y2 = conv_transpose2d(x, w, {}, {2}, {1}, {1});
  CHECK(y2.sizes() == Shape{1, 3, 3, 3});
  check_close(y2.reshape({-1}).narrow(0, 0, 9), {6.0, 7.2, 7.8, 8.0, 8.4, 9.4, 9.6, 10.4, 11.4}, 1e-12, 1e-12);
}

TEST_CASE("conv_transpose2d matches the reference and conv2d's input gradient", "[kernels][conv]") {
  for (const Case& c : kCases) {
    INFO("groups " << c.groups << ", stride " << c.stride[0] << "x" << c.stride[1]);
    Tensor x = randn(c.x, TensorOptions(DType::Float64)), w = randn(c.w, TensorOptions(DType::Float64));
    Tensor b = randn({c.w[1] * c.groups}, TensorOptions(DType::Float64));
    Tensor y = conv_transpose2d(x, w, b, c.stride, c.pad, c.out_pad, c.groups, c.dil);
    check_close(y.reshape({-1}).to_vector(), reference(x, w, b, c), 1e-10, 1e-10);
    // The transposed convolution is conv2d's input gradient (without the bias).
    // (Where the output padding is more than the convolution drops, conv2d's output is larger than x.)
    Tensor z = zeros({y.size(0), y.size(1), y.size(2), y.size(3)}, TensorOptions(DType::Float64)).requires_grad_(true);
    Tensor cz = conv2d(z, w, {}, c.stride, c.pad, c.dil, c.groups);
    if (cz.sizes() == x.sizes()) {
      Tensor gz = autograd::grad({cz}, {z}, {x})[0];
      check_close(conv_transpose2d(x, w, {}, c.stride, c.pad, c.out_pad, c.groups, c.dil), gz, 1e-10, 1e-10);
    }
    Tensor y32 = conv_transpose2d(x.to(DType::Float32), w.to(DType::Float32), b.to(DType::Float32), c.stride, c.pad,
                                  c.out_pad, c.groups, c.dil);
    check_close(y32.reshape({-1}).to_vector(), reference(x, w, b, c), 1e-4, 1e-4);
  }
  Tensor u = conv_transpose2d(randn({3, 4, 5}), randn({3, 2, 2, 2}));
  CHECK(u.sizes() == Shape{2, 5, 6});
  Tensor l = conv_transpose1d(randn({2, 4, 7}), randn({4, 3, 3}), randn({6}), 2, 1, 1, 2);
  CHECK(l.sizes() == Shape{2, 6, 14});
}

TEST_CASE("conv_transpose2d gradients: float64 gradchecks", "[kernels][conv][autograd]") {
  for (const Case& c : kCases) {
    Tensor x = leaf(c.x), w = leaf(c.w), b = leaf({c.w[1] * c.groups});
    check_grad(
        [&c](const TensorList& t) {
          return conv_transpose2d(t[0], t[1], t[2], c.stride, c.pad, c.out_pad, c.groups, c.dil);
        },
        {x, w, b});
  }
  Tensor x1 = leaf({2, 4, 5}), w1 = leaf({4, 1, 3});
  check_grad([](const TensorList& t) { return conv_transpose1d(t[0], t[1], {}, 3, 1, 2, 4, 1); }, {x1, w1});
}

TEST_CASE("conv_transpose2d: bad arguments raise errors naming the op", "[kernels][conv]") {
  Tensor x = zeros({1, 4, 3, 3}), w = zeros({4, 2, 3, 3});
  check_error([&] { conv_transpose2d(x, w, {}, {2}, {0}, {2}); }, {"conv_transpose2d", "output padding"});
  check_error([&] { conv_transpose2d(x, zeros({3, 2, 3, 3})); }, {"conv_transpose2d", "channels"});
  check_error([&] { conv_transpose2d(x, w, zeros({3})); }, {"conv_transpose2d", "bias"});
  check_error([&] { conv_transpose2d(x, w, {}, {1}, {0}, {0}, 3); }, {"conv_transpose2d", "groups"});
  check_error([&] { conv_transpose2d(x, w, {}, {1}, {3}); }, {"conv_transpose2d", "too small"});
  check_error([&] { conv_transpose2d(zeros({4, 3}), w); }, {"conv_transpose2d", "input"});
  CHECK(error_kind([&] { conv_transpose2d(x.to(DType::Int64), w); }) == ErrorKind::Type);
}

TEST_CASE("cuda conv_transpose2d matches cpu", "[kernels][conv][cuda]") {
  LOOM_REQUIRE_GPU();
  for (const Case& c : kCases) {
    for (DType dt : {DType::Float64, DType::Float32}) {
      Tensor x = randn(c.x, TensorOptions(dt)).requires_grad_(true),
             w = randn(c.w, TensorOptions(dt)).requires_grad_(true);
      Tensor b = randn({c.w[1] * c.groups}, TensorOptions(dt)).requires_grad_(true);
      const double tol = dt == DType::Float64 ? 1e-9 : 1e-3;
      compare_gpu(
          [&c](const TensorList& t) {
            return conv_transpose2d(t[0], t[1], t[2], c.stride, c.pad, c.out_pad, c.groups, c.dil);
          },
          {x, w, b}, tol, tol);
    }
  }
}
