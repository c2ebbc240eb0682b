// CPU softmax / log_softmax (forward, backward) against double references:
// odd shapes, inner > 1, -inf rows; [cuda] the CUDA kernels against their CPU
// twins. Without a device the [cuda] tests SKIP with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <limits>
#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/softmax.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include <array>
#include <cstdint>
#include <random>
#include <vector>
#include "test_cuda_util.h"
#endif

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

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins

TEST_CASE("cuda softmax and backward match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(6);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (auto dims : std::vector<std::array<int64_t, 3>>{{37, 129, 1}, {37, 5, 129}, {3, 5000, 1}, {1, 7, 1}}) {
      int64_t n = dims[0] * dims[1] * dims[2];
      auto x = random_vec<T>(n, rng, -8, 8), g = random_vec<T>(n, rng, -1, 1);
      auto dx = to_device(x), dg = to_device(g);
      DevBuf<T> dy(n), dgi(n);
      for (bool log : {false, true}) {
        std::vector<T> y(n), gi(n);
        kcpu::softmax(dt, y.data(), x.data(), dims[0], dims[1], dims[2], log);
        kc::softmax(dt, dy.get(), dx.get(), dims[0], dims[1], dims[2], log, stream());
        check_close(to_host<T>(dy, n), y, twin_tol<T>(), twin_tol<T>() * 10, log ? "log_softmax" : "softmax");
        kcpu::softmax_backward(dt, gi.data(), g.data(), y.data(), dims[0], dims[1], dims[2], log);
        kc::softmax_backward(dt, dgi.get(), dg.get(), dy.get(), dims[0], dims[1], dims[2], log, stream());
        check_close(to_host<T>(dgi, n), gi, twin_tol<T>() * 10, twin_tol<T>() * 10, "softmax_backward");
      }
    }
  };
  run(float{});
  run(double{});
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda softmax kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif

TEST_CASE("cpu exp_fast is within 2 ulp of exp, with exp's special values", "[kernels][softmax]") {
  using loom::kernels::cpu::detail::exp_fast;
  // Every float of [-103.9, 88.7] at a relative step of 1e-4 (and the neighbours of 0), against exp in double.
  double worst = 0, worst_x = 0;
  int64_t checked = 0;
  for (float x = -103.9f; x < 88.7f; x = std::nextafter(x + 1e-4f * std::fabs(x), 100.0f)) {
    const double want = std::exp(static_cast<double>(x));
    const float wf = static_cast<float>(want);
    if (wf < std::numeric_limits<float>::min() || std::isinf(wf)) continue;  // normal results only
    const double ulp = (std::nextafter(wf, INFINITY) - wf);
    const double err = std::fabs(static_cast<double>(exp_fast(x)) - want) / ulp;
    if (err > worst) worst = err, worst_x = x;
    ++checked;
  }
  INFO("worst " << worst << " ulp at x = " << worst_x << " over " << checked << " points");
  CHECK(checked > 100000);
  CHECK(worst <= 2.0);
  // Subnormal results by gradual underflow, and the limits.
  CHECK(std::fabs(exp_fast(-100.0f) - std::exp(-100.0f)) <= 2 * std::numeric_limits<float>::denorm_min());
  CHECK(exp_fast(-104.0f) == 0.0f);
  CHECK(exp_fast(-INFINITY) == 0.0f);
  CHECK(exp_fast(89.0f) == INFINITY);
  CHECK(exp_fast(INFINITY) == INFINITY);
  CHECK(std::isnan(exp_fast(NAN)));
  CHECK(exp_fast(0.0f) == 1.0f);
  CHECK(exp_fast(-0.0f) == 1.0f);
  CHECK(std::isfinite(exp_fast(88.72f)));
  CHECK(exp_fast(1.5) == std::exp(1.5));  // double: std::exp itself
}
