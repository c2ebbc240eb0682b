// The vectorizable float math of kernels/cpu/branchless.h (log_fast, tanh_fast, erf_fast, erfc_fast, lgamma_fast;
// exp_fast is swept in test_softmax.cpp) against the C library in double, and the float32 unary kernels built on them:
// the same bits for a strided view as for its contiguous copy, PyTorch's special values.
#include <catch2/catch_test_macros.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/branchless.h"
#include "kernels/pointwise.h"
#include "kernels/special_math.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

// The worst error in ulp of the float result (ulp of the exact value rounded to float) over the floats of
// [lo, hi] at a relative step of `step`, against ref in double; results below float's normal range count
// by an absolute ulp of the smallest normal.
template <typename F, typename R>
double worst_ulp(F f, R ref, float lo, float hi, float step, double* worst_x = nullptr) {
  double worst = 0;
  for (float x = lo; x <= hi; x = std::nextafter(x + step * std::fabs(x), INFINITY)) {
    const double want = ref(static_cast<double>(x));
    const float wf = static_cast<float>(want);
    if (std::isinf(wf)) continue;
    const float mag = std::max(std::fabs(wf), std::numeric_limits<float>::min());
    const double ulp = static_cast<double>(std::nextafter(mag, INFINITY)) - mag;
    const double err = std::fabs(static_cast<double>(f(x)) - want) / ulp;
    if (err > worst) {
      worst = err;
      if (worst_x) *worst_x = x;
    }
  }
  return worst;
}

// worst_ulp over several ranges {lo, hi, step}: the worst error and where.
struct Range {
  float lo, hi, step;
};
template <typename F, typename R>
double worst_ulp_over(F f, R ref, std::initializer_list<Range> ranges, double* worst_x) {
  double worst = 0;
  for (const Range& r : ranges) {
    double x_at = 0;
    const double w = worst_ulp(f, ref, r.lo, r.hi, r.step, &x_at);
    if (w > worst) worst = w, *worst_x = x_at;
  }
  return worst;
}

}  // namespace

TEST_CASE("cpu log_fast is within 1 ulp of log, with log's special values", "[kernels]") {
  using loom::kernels::cpu::detail::log_fast;
  double wx = 0;
  // Subnormals, the neighbourhood of 1 (where log is small) and up to float's max.
  const double worst =
      worst_ulp([](float x) { return log_fast(x); }, [](double x) { return std::log(x); }, 1e-44f, 3.4e38f, 1e-4f, &wx);
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 1.0);
  CHECK(worst_ulp([](float x) { return log_fast(x); }, [](double x) { return std::log(x); }, 0.5f, 2.0f, 1e-6f) <= 1.0);
  CHECK(log_fast(1.0f) == 0.0f);
  CHECK(log_fast(0.0f) == -INFINITY);
  CHECK(log_fast(-0.0f) == -INFINITY);
  CHECK(std::isnan(log_fast(-1.0f)));
  CHECK(std::isnan(log_fast(-INFINITY)));
  CHECK(log_fast(INFINITY) == INFINITY);
  CHECK(std::isnan(log_fast(NAN)));
  CHECK(std::isfinite(log_fast(std::numeric_limits<float>::denorm_min())));
  CHECK(log_fast(2.5) == std::log(2.5));  // double: std::log itself
}

TEST_CASE("cpu log2_fast, exp2_fast within 2 ulp, log10_fast within 2.5; exact at powers of two", "[kernels]") {
  using namespace loom::kernels::cpu::detail;
  double wx = 0, worst = 0;
  worst = worst_ulp([](float x) { return log2_fast(x); }, [](double x) { return std::log2(x); }, 1e-44f, 3.4e38f, 1e-4f,
                    &wx);
  INFO("log2 worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.0);
  worst = worst_ulp([](float x) { return log10_fast(x); }, [](double x) { return std::log10(x); }, 1e-44f, 3.4e38f,
                    1e-4f, &wx);
  INFO("log10 worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.5);
  auto e2 = [](float x) { return exp2_fast(x); };
  auto e2_ref = [](double x) { return std::exp2(x); };
  worst = std::max(worst_ulp(e2, e2_ref, 1e-30f, 127.9f, 1e-5f, &wx), worst_ulp(e2, e2_ref, -126.0f, -1e-30f, 1e-5f));
  INFO("exp2 worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.0);
  for (int k = -149; k <= 127; ++k) {
    CHECK(exp2_fast(static_cast<float>(k)) == std::ldexp(1.0f, k));
    CHECK(log2_fast(std::ldexp(1.0f, k)) == static_cast<float>(k));
  }
  CHECK(log10_fast(1.0f) == 0.0f);
  CHECK(log2_fast(0.0f) == -INFINITY);
  CHECK(std::isnan(log10_fast(-1.0f)));
  CHECK(log10_fast(INFINITY) == INFINITY);
  CHECK(std::isnan(log2_fast(NAN)));
  CHECK(exp2_fast(-INFINITY) == 0.0f);
  CHECK(exp2_fast(-151.0f) == 0.0f);
  CHECK(exp2_fast(128.0f) == INFINITY);
  CHECK(exp2_fast(INFINITY) == INFINITY);
  CHECK(std::isnan(exp2_fast(NAN)));
}

TEST_CASE("cpu log1p_fast and expm1_fast are within 2 and 3 ulp, with their special values", "[kernels]") {
  using loom::kernels::cpu::detail::expm1_fast;
  using loom::kernels::cpu::detail::log1p_fast;
  auto l1p = [](float x) { return log1p_fast(x); };
  auto l1p_ref = [](double x) { return std::log1p(x); };
  double wx = 0;
  double worst =
      std::max(worst_ulp(l1p, l1p_ref, 1e-40f, 3e38f, 1e-4f, &wx), worst_ulp(l1p, l1p_ref, -0.9999f, -1e-40f, 1e-5f));
  INFO("log1p worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.0);
  auto em1 = [](float x) { return expm1_fast(x); };
  auto em1_ref = [](double x) { return std::expm1(x); };
  worst = std::max(worst_ulp(em1, em1_ref, 1e-40f, 88.0f, 1e-5f, &wx), worst_ulp(em1, em1_ref, -30.0f, -1e-40f, 1e-5f));
  INFO("expm1 worst " << worst << " ulp at " << wx);
  CHECK(worst <= 3.0);
  CHECK(log1p_fast(-1.0f) == -INFINITY);
  CHECK(std::isnan(log1p_fast(-1.5f)));
  CHECK(log1p_fast(INFINITY) == INFINITY);
  CHECK(std::isnan(log1p_fast(NAN)));
  CHECK(std::signbit(log1p_fast(-0.0f)));
  CHECK(log1p_fast(1e-30f) == 1e-30f);
  CHECK(expm1_fast(-INFINITY) == -1.0f);
  CHECK(expm1_fast(INFINITY) == INFINITY);
  CHECK(expm1_fast(100.0f) == INFINITY);
  CHECK(std::isnan(expm1_fast(NAN)));
  CHECK(std::signbit(expm1_fast(-0.0f)));
  CHECK(expm1_fast(1e-30f) == 1e-30f);
}

TEST_CASE("cpu sincos_fast is within 2 ulp below 8192; the kernels take std::sin / std::cos above", "[kernels]") {
  using loom::kernels::cpu::detail::sincos_fast;
  for (bool c : {false, true}) {
    auto f = [c](float x) { return sincos_fast(x, c); };
    auto ref = [c](double x) { return c ? std::cos(x) : std::sin(x); };
    double wx = 0;
    // Absolute error in ulp of the result's magnitude, but at least of 2^-24 (near a zero of sin or cos the
    // reduced argument's rounding, 2^-24 r, dominates: the C library's float functions are exact there too,
    // PyTorch's vectorized ones are not).
    double worst = 0;
    for (float x = -8191.0f; x < 8191.0f; x = std::nextafter(x + 3e-5f * std::max(1.0f, std::fabs(x)), INFINITY)) {
      const double want = ref(x);
      const float wf = static_cast<float>(std::fabs(want));
      const double ulp = std::max(static_cast<double>(std::nextafter(wf, INFINITY)) - wf, 5.9604644775390625e-8);
      const double err = std::fabs(static_cast<double>(f(x)) - want) / ulp;
      if (err > worst) worst = err, wx = x;
    }
    INFO((c ? "cos" : "sin") << " worst " << worst << " ulp at " << wx);
    CHECK(worst <= 2.0);
    CHECK(worst_ulp(f, ref, 1e-30f, 0.7f, 1e-5f) <= 2.0);  // relative near 0
    CHECK(std::isnan(sincos_fast(INFINITY, c)));
    CHECK(std::isnan(sincos_fast(-INFINITY, c)));
    CHECK(std::isnan(sincos_fast(NAN, c)));
  }
  CHECK(sincos_fast(0.0f, false) == 0.0f);
  CHECK(std::signbit(sincos_fast(-0.0f, false)));
  CHECK(sincos_fast(0.0f, true) == 1.0f);
  // The kernels above the bound: the C library's values.
  std::vector<float> x{1e4f, -3e5f, 1e30f, 8192.0f, 8191.5f}, y(x.size());
  const ElementwiseLoop L = make_loop({5}, {{1}, {1}});
  cpu::unary(UnaryOp::Sin, DType::Float32, y.data(), x.data(), L);
  for (int i = 0; i < 4; ++i) CHECK(y[i] == std::sin(x[i]));
  CHECK(std::fabs(y[4] - std::sin(static_cast<double>(x[4]))) < 1e-6);
  cpu::unary(UnaryOp::Cos, DType::Float32, x.data(), x.data(), L);  // in place
  CHECK(x[0] == std::cos(1e4f));
  CHECK(x[2] == std::cos(1e30f));
}

TEST_CASE("cpu tan_fast within 4 ulp, atan_fast, asin_fast, acos_fast within 2.5 ulp; special values", "[kernels]") {
  using namespace loom::kernels::cpu::detail;
  double wx = 0, worst = 0;
  // tan: relative error, except next to its zeros where the reduced argument's rounding (2^-24 r) is
  // absolute, as for sin.
  for (float x = -8191.0f; x < 8191.0f; x = std::nextafter(x + 3e-5f * std::max(1.0f, std::fabs(x)), INFINITY)) {
    const double want = std::tan(static_cast<double>(x));
    const float wf = static_cast<float>(std::fabs(want));
    if (std::isinf(wf)) continue;
    const double ulp = std::max(static_cast<double>(std::nextafter(wf, INFINITY)) - wf, 5.9604644775390625e-8);
    const double err = std::fabs(static_cast<double>(tan_fast(x)) - want) / ulp;
    if (err > worst) worst = err, wx = x;
  }
  INFO("tan worst " << worst << " ulp at " << wx);
  CHECK(worst <= 4.0);
  auto at = [](float x) { return atan_fast(x); };
  auto at_ref = [](double x) { return std::atan(x); };
  worst = std::max(worst_ulp(at, at_ref, 1e-30f, 3e38f, 1e-5f, &wx), worst_ulp(at, at_ref, -3e38f, -1e-30f, 1e-5f));
  INFO("atan worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.5);
  // asin and acos: the whole range at a relative step of 1e-5, and [0.4, 1] (the square-root branch next
  // to 1, where the error is largest) at 2e-7.
  auto sweep = [&](auto f, auto ref) {
    const float ranges[4][3] = {
        {1e-30f, 1.0f, 1e-5f}, {-1.0f, -1e-30f, 1e-5f}, {0.4f, 1.0f, 2e-7f}, {-1.0f, -0.4f, 2e-7f}};
    double w = 0;
    for (const auto& r : ranges) {
      double x = 0;
      const double e = worst_ulp(f, ref, r[0], r[1], r[2], &x);
      if (e > w) w = e, wx = x;
    }
    return w;
  };
  auto as = [](float x) { return asin_fast(x); };
  auto as_ref = [](double x) { return std::asin(x); };
  worst = sweep(as, as_ref);
  INFO("asin worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.5);
  auto ac = [](float x) { return acos_fast(x); };
  auto ac_ref = [](double x) { return std::acos(x); };
  worst = sweep(ac, ac_ref);
  INFO("acos worst " << worst << " ulp at " << wx);
  CHECK(worst <= 2.5);
  CHECK(std::isnan(tan_fast(INFINITY)));
  CHECK(std::signbit(tan_fast(-0.0f)));
  CHECK(atan_fast(INFINITY) == static_cast<float>(std::atan(INFINITY)));
  CHECK(atan_fast(-INFINITY) == -static_cast<float>(std::atan(INFINITY)));
  CHECK(std::isnan(atan_fast(NAN)));
  CHECK(std::signbit(atan_fast(-0.0f)));
  CHECK(asin_fast(1.0f) == static_cast<float>(std::asin(1.0)));
  CHECK(std::isnan(asin_fast(1.5f)));
  CHECK(std::isnan(asin_fast(-1.0001f)));
  CHECK(std::isnan(asin_fast(NAN)));
  CHECK(std::signbit(asin_fast(-0.0f)));
  CHECK(acos_fast(1.0f) == 0.0f);
  CHECK(acos_fast(-1.0f) == static_cast<float>(M_PI));
  CHECK(std::isnan(acos_fast(1.5f)));
  CHECK(std::isnan(acos_fast(NAN)));
  // Above the bound, the kernel takes std::tan.
  std::vector<float> x{1e4f, -3e5f}, y(2);
  cpu::unary(UnaryOp::Tan, DType::Float32, y.data(), x.data(), make_loop({2}, {{1}, {1}}));
  CHECK(y[0] == std::tan(1e4f));
  CHECK(y[1] == std::tan(-3e5f));
}

TEST_CASE("cpu tanh_fast is within 3 ulp of tanh; odd, saturating, NaN through", "[kernels]") {
  using loom::kernels::cpu::detail::tanh_fast;
  auto f = [](float x) { return tanh_fast(x); };
  auto ref = [](double x) { return std::tanh(x); };
  double wx = 0;
  const double worst =
      std::max(worst_ulp(f, ref, 1e-30f, 12.0f, 1e-5f, &wx), worst_ulp(f, ref, -12.0f, -1e-30f, 1e-5f));
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 3.0);
  CHECK(tanh_fast(0.0f) == 0.0f);
  CHECK(std::signbit(tanh_fast(-0.0f)));
  CHECK(tanh_fast(50.0f) == 1.0f);
  CHECK(tanh_fast(-INFINITY) == -1.0f);
  CHECK(tanh_fast(INFINITY) == 1.0f);
  CHECK(std::isnan(tanh_fast(NAN)));
  CHECK(tanh_fast(-0.3f) == -tanh_fast(0.3f));
}

TEST_CASE("cpu erf_fast is within 3 ulp of erf; odd, saturating, NaN through", "[kernels]") {
  using loom::kernels::cpu::detail::erf_fast;
  auto f = [](float x) { return erf_fast(x); };
  auto ref = [](double x) { return std::erf(x); };
  double wx = 0;
  const double worst = std::max(worst_ulp(f, ref, 1e-30f, 6.0f, 1e-5f, &wx), worst_ulp(f, ref, -6.0f, -1e-30f, 1e-5f));
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 3.0);
  CHECK(erf_fast(0.0f) == 0.0f);
  CHECK(std::signbit(erf_fast(-0.0f)));
  CHECK(erf_fast(4.5f) == 1.0f);
  CHECK(erf_fast(-INFINITY) == -1.0f);
  CHECK(erf_fast(INFINITY) == 1.0f);
  CHECK(std::isnan(erf_fast(NAN)));
}

TEST_CASE("cpu erfc_fast is within 4.5 ulp of erfc into the subnormal range; 2 - erfc(|x|) below 0", "[kernels]") {
  using loom::kernels::cpu::detail::erfc_fast;
  auto f = [](float x) { return erfc_fast(x); };
  auto ref = [](double x) { return std::erfc(x); };
  double wx = 0;
  const double worst =
      std::max(worst_ulp(f, ref, 1e-30f, 10.2f, 2e-6f, &wx), worst_ulp(f, ref, -10.2f, -1e-30f, 1e-5f));
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 4.5);
  // Results in float's subnormal range, counted by the subnormal spacing (2^-149).
  double sub = 0;
  for (float x = 9.2f; x < 10.2f; x = std::nextafter(x, INFINITY)) {
    const double want = std::erfc(double(x));
    sub = std::max(sub, std::fabs(double(erfc_fast(x)) - want) / std::ldexp(1.0, -149));
  }
  CHECK(sub <= 2.0);
  CHECK(erfc_fast(0.0f) == 1.0f);
  CHECK(erfc_fast(-0.0f) == 1.0f);
  CHECK(erfc_fast(-INFINITY) == 2.0f);
  CHECK(erfc_fast(INFINITY) == 0.0f);
  CHECK(erfc_fast(10.5f) == 0.0f);
  CHECK(erfc_fast(-10.0f) == 2.0f);
  CHECK(std::isnan(erfc_fast(NAN)));
}

TEST_CASE("cpu erfinv_fast is within 4 ulp of erfinv; the tails to 1, infinities at +-1, NaN outside", "[kernels]") {
  using loom::kernels::cpu::detail::erfinv_fast;
  auto f = [](float x) { return erfinv_fast(x); };
  auto ref = [](double x) { return loom::kernels::erfinv_d(x); };
  double wx = 0;
  double worst = std::max(worst_ulp(f, ref, 1e-30f, 0.5f, 1e-5f, &wx), worst_ulp(f, ref, -0.5f, -1e-30f, 1e-5f));
  // Every 7th float of [0.5, 1): the tail polynomial and the switch between the two at w = 5.
  for (float x = 0.5f; x < 1.0f;) {
    for (float v : {x, -x}) {
      const double want = ref(v), ulp = std::nextafter(std::fabs(float(want)), INFINITY) - std::fabs(float(want));
      const double err = std::fabs(f(v) - want) / ulp;
      if (err > worst) worst = err, wx = v;
    }
    for (int k = 0; k < 7 && x < 1.0f; ++k) x = std::nextafter(x, 2.0f);
  }
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 4.0);
  CHECK(erfinv_fast(0.0f) == 0.0f);
  CHECK(std::signbit(erfinv_fast(-0.0f)));
  CHECK(erfinv_fast(1.0f) == INFINITY);
  CHECK(erfinv_fast(-1.0f) == -INFINITY);
  CHECK(std::isnan(erfinv_fast(1.5f)));
  CHECK(std::isnan(erfinv_fast(-INFINITY)));
  CHECK(std::isnan(erfinv_fast(NAN)));
}

TEST_CASE("cpu lgamma_fast is within 1 ulp of lgamma, near its zeros too; poles and special values", "[kernels]") {
  using loom::kernels::cpu::detail::lgamma_fast;
  auto f = [](float x) { return lgamma_fast(x); };
  auto ref = [](double x) { return std::lgamma(x); };
  // Tiny to huge (the shift, Stirling's series, overflow to inf); the reflection down to -60; the zeros at 1
  // and 2 and the two between -3 and -2, densely.
  double wx = 0;
  const double worst = worst_ulp_over(f, ref,
                                      {{1e-30f, 1e30f, 1e-4f},
                                       {-60.0f, -1e-30f, 1e-5f},
                                       {0.95f, 1.05f, 1e-7f},
                                       {1.95f, 2.05f, 1e-7f},
                                       {-3.0f, -2.0f, 1e-6f}},
                                      &wx);
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 1.0);
  CHECK(lgamma_fast(1.0f) == 0.0f);
  CHECK(lgamma_fast(2.0f) == 0.0f);
  for (float pole : {0.0f, -0.0f, -1.0f, -2.0f, -1e6f, -3.4e38f, INFINITY, -INFINITY})
    CHECK(lgamma_fast(pole) == INFINITY);
  CHECK(lgamma_fast(4.1e36f) == INFINITY);
  CHECK(std::isnan(lgamma_fast(NAN)));
}

TEST_CASE("cpu digamma_fast is within 1 ulp of digamma_d, near its zero too; poles and special values", "[kernels]") {
  using loom::kernels::cpu::detail::digamma_fast;
  auto f = [](float x) { return digamma_fast(x); };
  auto ref = [](double x) { return loom::kernels::digamma_d(x); };
  // Tiny to huge (the shift, the series); the reflection down to -60 (NaN at the integers drops out of the
  // comparisons in worst_ulp); the zero at 1.4616 densely.
  double wx = 0;
  const double worst =
      worst_ulp_over(f, ref, {{1e-30f, 3e38f, 1e-4f}, {-60.0f, -1e-30f, 1e-5f}, {1.4f, 1.5f, 1e-7f}}, &wx);
  INFO("worst " << worst << " ulp at " << wx);
  CHECK(worst <= 1.0);
  CHECK(digamma_fast(0.0f) == -INFINITY);
  CHECK(digamma_fast(-0.0f) == INFINITY);
  CHECK(digamma_fast(INFINITY) == INFINITY);
  for (float bad : {-1.0f, -2.0f, -1e6f, -INFINITY, NAN}) CHECK(std::isnan(digamma_fast(bad)));
  CHECK(digamma_fast(1.0f) == static_cast<float>(loom::kernels::digamma_d(1.0)));
}

TEST_CASE("cpu atan2_fast is within 3 ulp of atan2, hypot_fast correctly rounded; C's special values", "[kernels]") {
  using loom::kernels::cpu::detail::atan2_fast;
  using loom::kernels::cpu::detail::hypot_fast;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-40, 40), sign(0, 1);
  double worst_a = 0, worst_h = 0;
  float wy = 0, wx = 0;
  for (int i = 0; i < 400000; ++i) {
    const float y = std::ldexp(mant(rng), ex(rng)) * (sign(rng) ? -1.0f : 1.0f);
    const float x = std::ldexp(mant(rng), i % 4 == 0 ? ex(rng) / 8 : ex(rng)) * (sign(rng) ? -1.0f : 1.0f);
    const double a = std::atan2(double(y), double(x)), h = std::hypot(double(x), double(y));
    const double ua = std::nextafter(std::fabs(float(a)), INFINITY) - std::fabs(float(a));
    const double uh = std::nextafter(float(h), INFINITY) - float(h);
    const double ea = std::fabs(atan2_fast(y, x) - a) / ua, eh = std::fabs(hypot_fast(x, y) - h) / uh;
    if (ea > worst_a) worst_a = ea, wy = y, wx = x;
    worst_h = std::max(worst_h, eh);
  }
  INFO("atan2: worst " << worst_a << " ulp at (" << wy << ", " << wx << "); hypot: worst " << worst_h << " ulp");
  CHECK(worst_a <= 3.0);
  CHECK(worst_h <= 0.5 + 1e-6);
  const float pi = 3.14159265f, inf = INFINITY;
  const std::vector<std::pair<float, float>> cases = {{0.0f, 0.0f}, {-0.0f, 0.0f},  {0.0f, -0.0f}, {-0.0f, -0.0f},
                                                      {1.0f, 0.0f}, {-1.0f, -0.0f}, {0.0f, -1.0f}, {-0.0f, -1.0f},
                                                      {inf, inf},   {inf, -inf},    {-inf, inf},   {-inf, -inf},
                                                      {inf, 1.0f},  {1.0f, -inf},   {-1.0f, inf},  {3.0f, 1e-30f}};
  for (const auto& [y, x] : cases) {
    INFO("atan2(" << y << ", " << x << ")");
    const float want = std::atan2(y, x), got = atan2_fast(y, x);
    CHECK(std::fabs(got - want) <= 2.5e-7f * std::fabs(want));
    CHECK(std::signbit(got) == std::signbit(want));
  }
  CHECK(atan2_fast(0.0f, -0.0f) == pi);
  CHECK(std::isnan(atan2_fast(NAN, 1.0f)));
  CHECK(std::isnan(atan2_fast(1.0f, NAN)));
  CHECK(hypot_fast(3.0f, 4.0f) == 5.0f);
  CHECK(hypot_fast(3e38f, 3e38f) == float(std::hypot(double(3e38f), double(3e38f))));      // inf
  CHECK(hypot_fast(1e-40f, 1e-40f) == float(std::hypot(double(1e-40f), double(1e-40f))));  // subnormal
  CHECK(hypot_fast(NAN, inf) == inf);
  CHECK(hypot_fast(-inf, NAN) == inf);
  CHECK(std::isnan(hypot_fast(NAN, 1.0f)));
}

TEST_CASE("cpu float32 sqrt, rsqrt, reciprocal and the arithmetic in clones: the bits of one IEEE operation",
          "[kernels]") {
  // Odd lengths (a remainder block), a strided view, and each broadcast layout of the divisor and dividend.
  const int64_t n = 1000 + 37;
  std::vector<float> x(n), y(n);
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-50.0f, 50.0f);
  for (auto& v : x) v = u(rng);
  for (auto& v : y) v = u(rng);
  x[0] = NAN, x[1] = INFINITY, x[2] = -0.0f, x[3] = 0.0f, x[4] = 1e-40f, x[5] = -3.0f;
  y[0] = 0.0f, y[1] = -0.0f, y[2] = INFINITY, y[3] = 1e-40f;
  const ElementwiseLoop L = make_loop({n}, {{1}, {1}});
  for (UnaryOp op : {UnaryOp::Sqrt, UnaryOp::Rsqrt, UnaryOp::Reciprocal}) {
    INFO("unary op " << int(op));
    std::vector<float> got(n);
    cpu::unary(op, DType::Float32, got.data(), x.data(), L);
    int64_t differ = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float want = op == UnaryOp::Sqrt    ? std::sqrt(x[i])
                         : op == UnaryOp::Rsqrt ? 1.0f / std::sqrt(x[i])
                                                : 1.0f / x[i];
      differ += !(std::memcmp(&got[i], &want, sizeof(float)) == 0 || (std::isnan(got[i]) && std::isnan(want)));
    }
    CHECK(differ == 0);
  }
  // x op y (the arithmetic, max / min with NaN winning) with: both unit-stride, y broadcast (stride 0), x
  // broadcast, y read through a stride of 2.
  auto ref = [](BinaryOp op, float a, float b) {
    switch (op) {
      case BinaryOp::Add: return a + b;
      case BinaryOp::Sub: return a - b;
      case BinaryOp::RSub: return b - a;
      case BinaryOp::Mul: return a * b;
      case BinaryOp::Div: return a / b;
      case BinaryOp::RDiv: return b / a;
      case BinaryOp::Maximum: return (a != a || a > b) ? a : b;
      default: return (a != a || a < b) ? a : b;
    }
  };
  const int64_t h = n / 2;
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::RSub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::RDiv,
                      BinaryOp::Maximum, BinaryOp::Minimum}) {
    auto check_op = [&](const ElementwiseLoop& loop, auto xa, auto yb, const char* what) {
      INFO("binary op " << int(op) << ", " << what);
      std::vector<float> got(n);
      cpu::binary(op, DType::Float32, got.data(), x.data(), y.data(), loop);
      int64_t differ = 0;
      for (int64_t i = 0; i < loop.numel; ++i) {
        const float want = ref(op, xa(i), yb(i));
        differ += !(std::memcmp(&got[i], &want, sizeof(float)) == 0 || (std::isnan(got[i]) && std::isnan(want)));
      }
      CHECK(differ == 0);
    };
    check_op(
        make_loop({n}, {{1}, {1}, {1}}), [&](int64_t i) { return x[i]; }, [&](int64_t i) { return y[i]; },
        "unit strides");
    check_op(
        make_loop({n}, {{1}, {1}, {0}}), [&](int64_t i) { return x[i]; }, [&](int64_t) { return y[0]; },
        "second operand broadcast");
    check_op(
        make_loop({n}, {{1}, {0}, {1}}), [&](int64_t) { return x[0]; }, [&](int64_t i) { return y[i]; },
        "first operand broadcast");
    check_op(
        make_loop({h}, {{1}, {1}, {2}}), [&](int64_t i) { return x[i]; }, [&](int64_t i) { return y[2 * i]; },
        "second operand at stride 2");
    // A number: binary_scalar (the number as a broadcast operand).
    std::vector<float> got(n);
    cpu::binary_scalar(op, DType::Float32, got.data(), x.data(), -2.5, make_loop({n}, {{1}, {1}}));
    int64_t differ = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float want = ref(op, x[i], -2.5f);
      differ += !(std::memcmp(&got[i], &want, sizeof(float)) == 0 || (std::isnan(got[i]) && std::isnan(want)));
    }
    INFO("binary op " << int(op) << " with a number");
    CHECK(differ == 0);
  }
}

TEST_CASE("cpu float32 math: a strided view gives the bits of its contiguous copy", "[kernels]") {
  // [37, 29] read transposed (strides 1, 37) against the same values laid out contiguously.
  const int64_t R = 29, C = 37, n = R * C;
  std::vector<float> src(n);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-6.0f, 6.0f);
  for (auto& v : src) v = u(rng);
  src[0] = NAN;
  src[1] = INFINITY;
  src[2] = -INFINITY;
  src[3] = -0.0f;
  std::vector<float> tcopy(n);  // tcopy[r][c] = src[c][r]
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) tcopy[r * C + c] = src[c * R + r];
  const ElementwiseLoop strided = make_loop({R, C}, {contiguous_strides({R, C}), {1, R}});
  const ElementwiseLoop contig = make_loop({n}, {{1}, {1}});
  for (UnaryOp op :
       {UnaryOp::Exp,      UnaryOp::Log,          UnaryOp::Tanh,     UnaryOp::Erf,     UnaryOp::Erfc,
        UnaryOp::Sigmoid,  UnaryOp::Silu,         UnaryOp::SiluGrad, UnaryOp::GeluErf, UnaryOp::GeluErfGrad,
        UnaryOp::GeluTanh, UnaryOp::GeluTanhGrad, UnaryOp::Log1p,    UnaryOp::Expm1,   UnaryOp::Sin,
        UnaryOp::Cos,      UnaryOp::Tan,          UnaryOp::Atan,     UnaryOp::Asin,    UnaryOp::Acos,
        UnaryOp::Erfinv}) {
    std::vector<float> a(n), b(n);
    cpu::unary(op, DType::Float32, a.data(), src.data(), strided);
    cpu::unary(op, DType::Float32, b.data(), tcopy.data(), contig);
    int64_t differ = 0;
    int64_t first = -1;
    for (int64_t i = 0; i < n; ++i) {
      const bool same = std::memcmp(&a[i], &b[i], sizeof(float)) == 0 || (std::isnan(a[i]) && std::isnan(b[i]));
      differ += !same;
      if (!same && first < 0) first = i;
    }
    INFO("op " << int(op) << ", first at " << first << ": " << (first >= 0 ? a[first] : 0.f) << " vs "
               << (first >= 0 ? b[first] : 0.f));
    CHECK(differ == 0);
  }
  // atan2, hypot, logaddexp(2): a transposed first operand against its contiguous copy, and a number as the second
  // operand (binary_scalar, a stride-0 operand) against the same number spread over a tensor.
  std::vector<float> other(n);
  for (auto& v : other) v = u(rng);
  other[5] = 0.0f;
  other[6] = -0.0f;
  other[7] = -INFINITY;
  const ElementwiseLoop strided3 = make_loop({R, C}, {contiguous_strides({R, C}), {1, R}, contiguous_strides({R, C})});
  const ElementwiseLoop contig3 = make_loop({n}, {{1}, {1}, {1}});
  for (BinaryOp op :
       {BinaryOp::Atan2, BinaryOp::Hypot, BinaryOp::LogAddExp, BinaryOp::LogAddExp2, BinaryOp::SigmoidBackward,
        BinaryOp::TanhBackward, BinaryOp::SiluBackward, BinaryOp::GeluErfBackward, BinaryOp::GeluTanhBackward}) {
    INFO("binary op " << int(op));
    std::vector<float> a(n), b(n), c(n), d(n), full(n, -2.5f);
    cpu::binary(op, DType::Float32, a.data(), src.data(), other.data(), strided3);
    cpu::binary(op, DType::Float32, b.data(), tcopy.data(), other.data(), contig3);
    cpu::binary_scalar(op, DType::Float32, c.data(), tcopy.data(), -2.5, contig);
    cpu::binary(op, DType::Float32, d.data(), tcopy.data(), full.data(), contig3);
    for (int64_t i = 0; i < n; ++i) {
      const bool same_ab = std::memcmp(&a[i], &b[i], sizeof(float)) == 0 || (std::isnan(a[i]) && std::isnan(b[i]));
      const bool same_cd = std::memcmp(&c[i], &d[i], sizeof(float)) == 0 || (std::isnan(c[i]) && std::isnan(d[i]));
      if (!same_ab || !same_cd)
        FAIL_CHECK("element " << i << ": " << a[i] << " / " << b[i] << ", " << c[i] << " / " << d[i]);
    }
  }
  // PyTorch's values at the edges.
  std::vector<float> x{-INFINITY, INFINITY, NAN, 0.0f, -200.0f, 200.0f}, y(x.size());
  const ElementwiseLoop L = make_loop({6}, {{1}, {1}});
  cpu::unary(UnaryOp::Sigmoid, DType::Float32, y.data(), x.data(), L);
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == 1.0f);
  CHECK(std::isnan(y[2]));
  CHECK(y[3] == 0.5f);
  CHECK(y[4] == 0.0f);
  CHECK(y[5] == 1.0f);
  cpu::unary(UnaryOp::GeluErf, DType::Float32, y.data(), x.data(), L);
  CHECK(y[3] == 0.0f);
  CHECK(y[4] == -0.0f);
  CHECK(y[5] == 200.0f);
  cpu::unary(UnaryOp::Silu, DType::Float32, y.data(), x.data(), L);
  CHECK(y[5] == 200.0f);
  CHECK(y[4] == -0.0f);
}
