// CPU softmax / log_softmax (forward, backward) and batched gemm against
// double references: odd shapes, inner > 1, -inf rows, transposes, padded
// row strides, batch strides (including a broadcast operand), every dtype.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <limits>
#include "core/error.h"
#include "kernels/cpu/kernels.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

struct SmShape {
  int64_t outer, dim, inner;
};

// Reference softmax over [outer, dim, inner] in double.
std::vector<double> softmax_ref(const std::vector<double>& x, SmShape s, bool log) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t d) { return (o * s.dim + d) * s.inner + i; };
      double m = -INFINITY, sum = 0;
      for (int64_t d = 0; d < s.dim; ++d) m = std::max(m, x[at(d)]);
      for (int64_t d = 0; d < s.dim; ++d) sum += std::exp(x[at(d)] - m);
      for (int64_t d = 0; d < s.dim; ++d) y[at(d)] = log ? x[at(d)] - m - std::log(sum) : std::exp(x[at(d)] - m) / sum;
    }
  return y;
}

std::vector<double> softmax_backward_ref(const std::vector<double>& g, const std::vector<double>& y, SmShape s,
                                         bool log) {
  std::vector<double> gx(g.size());
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t d) { return (o * s.dim + d) * s.inner + i; };
      double sum = 0;
      for (int64_t d = 0; d < s.dim; ++d) sum += log ? g[at(d)] : g[at(d)] * y[at(d)];
      for (int64_t d = 0; d < s.dim; ++d)
        gx[at(d)] = log ? g[at(d)] - std::exp(y[at(d)]) * sum : y[at(d)] * (g[at(d)] - sum);
    }
  return gx;
}

}  // namespace

TEMPLATE_TEST_CASE("cpu softmax and log_softmax forward and backward", "[kernels]", float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const double t = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const SmShape shapes[] = {{3, 17, 1}, {4, 9, 7}, {2, 5, 300}, {1, 1, 1}, {500, 100, 1}, {6, 33, 40}};
  for (SmShape s : shapes) {
    const int64_t n = s.outer * s.dim * s.inner;
    for (bool log : {false, true}) {
      Vec<T> x = cast_vec<T>(random_doubles(n, -30, 30, 91));
      Vec<T> y(n), gx(n);
      cpu::softmax(dt, ptr<T>(y), ptr<T>(x), s.outer, s.dim, s.inner, log);
      std::vector<double> xd(x.begin(), x.end());
      const std::vector<double> want = softmax_ref(xd, s, log);
      INFO("shape " << s.outer << "x" << s.dim << "x" << s.inner << (log ? " log" : ""));
      check_close(y, want, t, t);

      Vec<T> g = cast_vec<T>(random_doubles(n, -1, 1, 92));
      cpu::softmax_backward(dt, ptr<T>(gx), ptr<T>(g), ptr<T>(y), s.outer, s.dim, s.inner, log);
      std::vector<double> gd(g.begin(), g.end()), yd(y.begin(), y.end());
      check_close(gx, softmax_backward_ref(gd, yd, s, log), 10 * t, 10 * t);
    }
  }
}

TEST_CASE("cpu softmax with -inf entries and huge values", "[kernels]") {
  const double ninf = -std::numeric_limits<double>::infinity();
  // Row 0 partially masked, row 1 fully masked (NaN, as PyTorch), row 2 huge.
  double x[9] = {0, ninf, 0, ninf, ninf, ninf, 1000, 999, -1000}, y[9];
  cpu::softmax(DType::Float64, y, x, 3, 3, 1, false);
  CHECK(y[0] == 0.5);
  CHECK(y[1] == 0.0);
  CHECK(y[2] == 0.5);
  CHECK(std::isnan(y[3]));
  check_close(y[6], 1 / (1 + std::exp(-1.0)), 1e-15, 1e-14);
  CHECK(y[8] == 0.0);
  cpu::softmax(DType::Float64, y, x, 3, 3, 1, true);
  CHECK(y[1] == ninf);
  check_close(y[0], -std::log(2.0), 1e-15, 1e-14);
  // Same with the strided (inner > 1) path: x viewed as [1, 3, 3] over dim 1.
  float xf[6] = {0, 5, -INFINITY, -INFINITY, 0, 5}, yf[6];
  cpu::softmax(DType::Float32, yf, xf, 1, 2, 3, false);
  CHECK(yf[0] == 1.0f);
  CHECK(yf[3] == 0.0f);
  check_close(yf[1], 1 / (1 + std::exp(-5.0)), 1e-7, 1e-6);
  CHECK(yf[5] == 1.0f);
  CHECK_THROWS_AS(cpu::softmax(DType::Int32, yf, xf, 1, 2, 3, false), loom::Error);
}

namespace {

// Stored matrix: rows x cols with row stride ld (>= cols, padded).
template <typename T>
void check_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, double beta, int64_t batch,
                bool broadcast_b, int64_t pad, uint32_t seed) {
  const DType dt = dtype_of<T>::value;
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  const int64_t sa = ar * lda + 3, sb = broadcast_b ? 0 : br * ldb + 1, sc = m * ldc + 2;
  const bool integer = std::is_integral_v<T>;
  auto vals = [&](int64_t count, uint32_t s) {
    std::vector<double> v = random_doubles(count, -4, 4, s);
    if (integer)
      for (auto& x : v) x = std::round(x);
    return cast_vec<T>(v);
  };
  Vec<T> A = vals(sa * batch + ar * lda, seed), B = vals(sb * batch + br * ldb, seed + 1);
  Vec<T> C = vals(sc * batch + m * ldc, seed + 2);
  if (beta == 0 && !integer) std::fill(C.begin(), C.end(), std::numeric_limits<T>::quiet_NaN());
  const Vec<T> C0 = C;
  cpu::gemm(dt, ta, tb, m, n, k, alpha, ptr<T>(A), lda, sa, ptr<T>(B), ldb, sb, beta, ptr<T>(C), ldc, sc, batch);
  int64_t bad = 0;
  const double t = std::is_same_v<T, float> ? 1e-5 : integer ? 0 : 1e-12;
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double a = A[bi * sa + (ta ? p * lda + i : i * lda + p)];
          const double b = B[bi * sb + (tb ? j * ldb + p : p * ldb + j)];
          acc += a * b;
        }
        const int64_t ci = bi * sc + i * ldc + j;
        double want = (integer ? std::trunc(alpha) : alpha) * acc;
        if (beta != 0) want += (integer ? std::trunc(beta) : beta) * double(C0[ci]);
        bad += !is_close(C[ci], want, t * (1 + std::sqrt(double(k)) * 16), t);
      }
  // The padding between rows and between batches is never written.
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = n; j < ldc; ++j) {
        const int64_t ci = bi * sc + i * ldc + j;
        bad += !(C[ci] == C0[ci] || (C[ci] != C[ci] && C0[ci] != C0[ci]));
      }
  INFO(dtype_name(dt) << " ta=" << ta << " tb=" << tb << " m=" << m << " n=" << n << " k=" << k << " batch=" << batch
                      << " alpha=" << alpha << " beta=" << beta << " broadcast_b=" << broadcast_b);
  CHECK(bad == 0);
}

}  // namespace

TEMPLATE_TEST_CASE("cpu gemm: transposes, padded strides, batches, alpha/beta", "[kernels]", float, double, int32_t,
                   int64_t) {
  using T = TestType;
  uint32_t seed = 100;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_gemm<T>(ta, tb, 7, 13, 5, 1.0, 0.0, 1, false, 0, seed++);
      check_gemm<T>(ta, tb, 7, 13, 5, 2.0, 3.0, 3, false, 2, seed++);
      check_gemm<T>(ta, tb, 5, 7, 3, 1.0, 1.0, 50, true, 1, seed++);  // many small: parallel over batch
      check_gemm<T>(ta, tb, 1, 9, 4, 1.0, 0.0, 2, false, 0, seed++);  // a single row
      check_gemm<T>(ta, tb, 6, 4, 0, 1.0, 2.0, 2, false, 0, seed++);  // k = 0: C = beta * C
    }
  check_gemm<T>(false, false, 130, 70, 90, 1.0, 0.0, 2, false, 3, seed++);  // large: BLAS threads
  check_gemm<T>(true, true, 65, 129, 33, 0.5, 0.0, 1, false, 0, seed++);
}

TEST_CASE("cpu gemm rejects row strides shorter than a row", "[kernels]") {
  float a[6] = {}, b[6] = {}, c[4] = {};
  CHECK_THROWS_AS(cpu::gemm(DType::Float32, false, false, 2, 2, 3, 1, a, 2, 0, b, 2, 0, 0, c, 2, 0, 1), loom::Error);
  CHECK_THROWS_AS(cpu::gemm(DType::Bool, false, false, 2, 2, 3, 1, a, 3, 0, b, 2, 0, 0, c, 2, 0, 1), loom::Error);
  // Empty output: nothing happens.
  CHECK_NOTHROW(cpu::gemm(DType::Float32, false, false, 0, 2, 3, 1, a, 3, 0, b, 2, 0, 0, c, 2, 0, 1));
}
