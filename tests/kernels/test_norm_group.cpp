// GroupNorm (kernels/norm.h group_norm_*, autograd/ops/norm_group.cpp): the
// float64 reference on odd shapes with and without affine parameters, one
// group and one channel per group, float64 gradchecks, the create_graph
// composition against the fused backward, bad arguments; [cuda] the CUDA
// kernels against the CPU twins, forward and backward.
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/norm.h"
#include "core/error.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

// (x - mean) / sqrt(var + eps) per group, then w, b; in double on the host.
std::vector<double> reference(const Tensor& x, int64_t G, const Tensor& w, const Tensor& b, double eps) {
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C), D = C / G * S;
  std::vector<double> v = x.contiguous().to_vector(), out(v.size());
  const std::vector<double> vw = w.defined() ? w.to_vector() : std::vector<double>(C, 1.0);
  const std::vector<double> vb = b.defined() ? b.to_vector() : std::vector<double>(C, 0.0);
  for (int64_t grp = 0; grp < N * G; ++grp) {
    double m = 0, ss = 0;
    for (int64_t j = 0; j < D; ++j) m += v[grp * D + j];
    m /= double(D);
    for (int64_t j = 0; j < D; ++j) ss += (v[grp * D + j] - m) * (v[grp * D + j] - m);
    const double inv = 1 / std::sqrt(ss / double(D) + eps);
    for (int64_t j = 0; j < D; ++j) {
      const int64_t c = (grp % G) * (C / G) + j / S;
      out[grp * D + j] = (v[grp * D + j] - m) * inv * vw[c] + vb[c];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("group_norm matches the reference: shapes, groups, affine or not, float32", "[kernels][norm]") {
  struct Case {
    Shape shape;
    int64_t G;
  };
  for (const Case& c : std::vector<Case>{{{2, 6, 7, 9}, 3}, {{1, 32, 33}, 32}, {{4, 4}, 1}, {{3, 8, 5, 1}, 2}}) {
    INFO("groups " << c.G << ", " << c.shape.size() << "-d input");
    const int64_t C = c.shape[1];
    Tensor x = randn(c.shape, TensorOptions(DType::Float64)) * Scalar(3.0) + Scalar(100.0);  // a large mean
    Tensor w = randn({C}, TensorOptions(DType::Float64)), b = randn({C}, TensorOptions(DType::Float64));
    check_close(group_norm(x, c.G, w, b, 1e-5).to_vector(), reference(x, c.G, w, b, 1e-5), 1e-9, 1e-9);
    check_close(group_norm(x, c.G).to_vector(), reference(x, c.G, {}, {}, 1e-5), 1e-9, 1e-9);
    Tensor y32 = group_norm(x.to(DType::Float32), c.G, w.to(DType::Float32), b.to(DType::Float32), 1e-3);
    CHECK(y32.dtype() == DType::Float32);
    check_close(y32.to_vector(), reference(x, c.G, w, b, 1e-3), 1e-4, 1e-4);
  }
  CHECK(group_norm(zeros({0, 4, 3}), 2).sizes() == Shape{0, 4, 3});
}

TEST_CASE("group_norm gradients: gradchecks, weight and bias sums, create_graph composition", "[kernels][norm]") {
  Tensor x = leaf({2, 6, 3, 2}), w = leaf({6}), b = leaf({6});
  check_grad([](const TensorList& t) { return group_norm(t[0], 3, t[1], t[2], 1e-5); }, {x, w, b});
  check_grad([](const TensorList& t) { return group_norm(t[0], 2); }, {x});
  check_grad([](const TensorList& t) { return group_norm(t[0], 6, t[1], {}, 1e-3); }, {x, w});
  Tensor g = randn({2, 6, 3, 2}, TensorOptions(DType::Float64));
  const TensorList fused = autograd::grad({group_norm(x, 3, w, b, 1e-5)}, {x, w, b}, {g});
  const TensorList composed = autograd::grad({group_norm(x, 3, w, b, 1e-5)}, {x, w, b}, {g}, false, true);
  for (int i = 0; i < 3; ++i) check_close(composed[i].detach(), fused[i], 1e-10, 1e-10);
  CHECK(composed[0].requires_grad());
  // Only the weight and bias (the kernel's pass without dx), and float32 against float64 on a larger shape.
  Tensor xc = x.detach();
  const TensorList wb = autograd::grad({group_norm(xc, 3, w, b, 1e-5)}, {w, b}, {g});
  check_close(wb[0], fused[1], 1e-10, 1e-10);
  check_close(wb[1], fused[2], 1e-10, 1e-10);
  Tensor X = leaf({3, 16, 9, 11}), W = leaf({16}), Bb = leaf({16});
  Tensor G = randn({3, 16, 9, 11}, TensorOptions(DType::Float64));
  const TensorList d64 = autograd::grad({group_norm(X, 4, W, Bb, 1e-5)}, {X, W, Bb}, {G});
  Tensor X32 = X.detach().to(DType::Float32).requires_grad_(true),
         W32 = W.detach().to(DType::Float32).requires_grad_(true),
         B32 = Bb.detach().to(DType::Float32).requires_grad_(true);
  const TensorList d32 = autograd::grad({group_norm(X32, 4, W32, B32, 1e-5)}, {X32, W32, B32}, {G.to(DType::Float32)});
  for (int i = 0; i < 3; ++i) check_close(d32[i].to(DType::Float64), d64[i], 1e-4, 1e-4);
}

TEST_CASE("group_norm: bad arguments raise errors naming the op", "[kernels][norm]") {
  Tensor x = zeros({2, 6, 4});
  check_error([&] { group_norm(x, 4); }, {"group_norm", "divisible by num_groups"});
  check_error([&] { group_norm(x, 0); }, {"group_norm", "num_groups"});
  check_error([&] { group_norm(zeros({6}), 3); }, {"group_norm", "[N, C, *]"});
  check_error([&] { group_norm(x, 3, zeros({5})); }, {"group_norm", "weight"});
  check_error([&] { group_norm(x, 3, {}, zeros({6}, TensorOptions(DType::Float64))); }, {"group_norm", "bias"});
  CHECK(error_kind([&] { group_norm(x.to(DType::Int64), 3); }) == ErrorKind::Type);
}

TEST_CASE("cuda group_norm matches cpu: forward and backward, odd shapes", "[kernels][norm][cuda]") {
  LOOM_REQUIRE_GPU();
  struct Case {
    Shape shape;
    int64_t G;
  };
  for (const Case& c : std::vector<Case>{{{2, 6, 7, 9}, 3}, {{1, 32, 33}, 32}, {{5, 4}, 1}, {{3, 8, 17, 5}, 2}}) {
    const int64_t C = c.shape[1];
    for (DType dt : {DType::Float64, DType::Float32}) {
      Tensor x = randn(c.shape, TensorOptions(dt)).requires_grad_(true);
      Tensor w = randn({C}, TensorOptions(dt)).requires_grad_(true);
      Tensor b = randn({C}, TensorOptions(dt)).requires_grad_(true);
      const double tol = dt == DType::Float64 ? 1e-9 : 1e-4;
      const int64_t G = c.G;
      compare_gpu([G](const TensorList& t) { return group_norm(t[0], G, t[1], t[2], 1e-5); }, {x, w, b}, tol, tol);
      compare_gpu([G](const TensorList& t) { return group_norm(t[0], G); }, {x}, tol, tol);
    }
  }
}
