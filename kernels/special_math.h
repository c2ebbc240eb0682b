// Special functions shared by the CPU and CUDA pointwise kernels (one source, so the two devices agree to
// rounding): digamma, trigamma, the inverse error function, the modified Bessel functions I0 and I1 (and
// their exponentially scaled forms), the scaled complementary error function and the regularized
// incomplete gamma functions. Computed in double for float and double inputs alike. The Bessel functions of
// the first, second and third kinds and Ai are in kernels/special_bessel.h, the orthogonal polynomials in
// kernels/special_polynomials.h, both included at the end.
//
// digamma: 0 -> -inf (+0) / +inf (-0), NaN at the negative integers, the reflection
// psi(x) = psi(1 - x) - pi / tan(pi x) below 0, the recurrence psi(x) = psi(x + 1) - 1 / x up to x >= 10,
// then the asymptotic series ln x - 1 / (2x) - sum B_2k / (2k x^2k) to the x^-14 term (error < 1e-16).
// trigamma: +inf at 0 and the negative integers, the reflection psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x),
// the recurrence psi1(x) = psi1(x + 1) + 1 / x^2 up to x >= 10, then 1/x + 1/(2x^2) + sum B_2k / x^(2k+1).
// erfinv: NaN outside [-1, 1], +-inf at +-1; Giles' single-precision polynomial as the first guess, then
// three Halley steps on erf (|x| <= 0.5) or on erfc with the exactly computed 1 - |x| (the tails), which
// keeps full double precision near +-1.
#pragma once
#include <cmath>

#if defined(__CUDACC__)
#define LOOM_SPECIAL_HD __host__ __device__ __forceinline__
#define LOOM_SPECIAL_HD_INLINE __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define LOOM_SPECIAL_HD inline
// Inlined into the CPU kernels' vectorized loops (a call would keep them scalar).
#define LOOM_SPECIAL_HD_INLINE inline __attribute__((always_inline))
#else
#define LOOM_SPECIAL_HD inline
#define LOOM_SPECIAL_HD_INLINE inline
#endif

namespace loom::kernels {

LOOM_SPECIAL_HD double digamma_d(double x) {
  constexpr double kPi = 3.14159265358979323846;
  if (x == 0) return x == 0 && std::signbit(x) ? INFINITY : -INFINITY;
  if (std::isnan(x)) return x;
  double result = 0;
  if (x < 0) {
    if (x == std::trunc(x)) return NAN;
    double frac = x - std::trunc(x);  // tan(pi x) from the fractional part keeps its accuracy
    result = -kPi / std::tan(kPi * frac);
    x = 1 - x;
  }
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  if (std::isinf(x)) return result + x;
  double z = 1 / (x * x);
  double series =
      z *
      (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760 - z / 12))))));
  return result + std::log(x) - 0.5 / x - series;
}

LOOM_SPECIAL_HD double trigamma_d(double x) {
  constexpr double kPi = 3.14159265358979323846;
  if (std::isnan(x)) return x;
  double result = 0;
  double sign = 1;
  if (x <= 0) {
    if (x == std::trunc(x)) return INFINITY;
    double s = std::sin(kPi * (x - std::trunc(x)));
    result = kPi * kPi / (s * s);
    sign = -1;  // psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)
    x = 1 - x;
  }
  double acc = 0;
  while (x < 10) {
    acc += 1 / (x * x);
    x += 1;
  }
  if (std::isinf(x)) return result + sign * acc;
  double z = 1 / (x * x);
  double series =
      1 / x + z / 2 +
      z / x *
          (1.0 / 6 -
           z * (1.0 / 30 - z * (1.0 / 42 - z * (1.0 / 30 - z * (5.0 / 66 - z * (691.0 / 2730 - z * 7.0 / 6))))));
  return result + sign * (acc + series);
}

LOOM_SPECIAL_HD double erfinv_d(double x) {
  if (std::isnan(x) || x < -1 || x > 1) return NAN;
  if (x == 1) return INFINITY;
  if (x == -1) return -INFINITY;
  double w = -std::log((1 - x) * (1 + x));
  double p;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = std::sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double y = p * x;
  // Halley steps (cubic convergence; the first guess is poor in the far tails): with f' = 2/sqrt(pi)
  // exp(-y^2) and f'' = -2 y f', the step is (f / f') / (1 + y f / f').
  constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
  double ax = std::fabs(x);
  for (int it = 0; it < 3; ++it) {
    double slope = kTwoOverSqrtPi * std::exp(-y * y);
    if (ax <= 0.5) {
      double r = (std::erf(y) - x) / slope;
      y -= r / (1 + y * r);
    } else {  // erfc(|y|) = 1 - |x|, with 1 - |x| exact here
      double ay = std::fabs(y);
      double r = (1 - ax - std::erfc(ay)) / slope;  // f = erf(ay) - ax written through erfc
      ay -= r / (1 + ay * r);
      y = x < 0 ? -ay : ay;
    }
  }
  return y;
}

// ---- modified Bessel functions of the first kind, orders 0 and 1 ----
// Chebyshev expansions of the scaled functions (kernels/special_bessel.inc, written by
// tools/gen_bessel_chebyshev.py from 40-digit values, terms down to 1e-18): e^-x I0(x) and e^-x I1(x) / x in
// t = x/4 - 1 for |x| <= 8, sqrt(x) e^-x I0(x) and sqrt(x) e^-x I1(x) in t = 16/x - 1 beyond. The unscaled
// functions multiply the scaled ones by e^|x| (from 700 on: exp(|x| - log(|x|) / 2), finite up to where I
// itself overflows).
// I0 is even, I1 odd; I0(+-inf) = +inf, I1(+-inf) = +-inf, the scaled ones 0 there.
#include "kernels/special_bessel.inc"

// e^-|x| I_nu(|x|), nu = 0 or 1, without branches (both expansions evaluated, one kept), so that the CPU
// kernel's loop over a row vectorizes; NaN gives NaN, +inf 0.
LOOM_SPECIAL_HD_INLINE double bessel_scaled_abs(int nu, double ax) {
  const double lo = ax < 8 ? ax : 8, hi = ax > 8 ? ax : 8;  // NaN takes the second operand's side below
  const double ts = lo / 4 - 1, tl = 16 / hi - 1;
  const double small = nu == 0 ? bessel_i0e_small(ts) : lo * bessel_i1e_small(ts);
  const double large = (nu == 0 ? bessel_i0e_large(tl) : bessel_i1e_large(tl)) / std::sqrt(hi);
  return ax <= 8 ? small : (ax == ax ? large : ax);
}

// I_nu(|x|) * e^-|x| when scaled, else I_nu(|x|), for nu = 0, 1 (the sign of I1 is the caller's).
LOOM_SPECIAL_HD double bessel_i_abs(int nu, double ax, bool scaled) {
  const double e = bessel_scaled_abs(nu, ax);
  if (scaled) return e;
  if (ax < 700) return e * std::exp(ax);  // +inf at +inf: 0 * inf is caught below
  if (std::isinf(ax)) return INFINITY;
  // e^x overflows past 709.78 before I(x) does (at 713.98): one exponential of x - log(x) / 2
  const double g = nu == 0 ? bessel_i0e_large(16 / ax - 1) : bessel_i1e_large(16 / ax - 1);
  return g * std::exp(ax - 0.5 * std::log(ax));
}

LOOM_SPECIAL_HD double i0_d(double x) { return std::isnan(x) ? x : bessel_i_abs(0, std::fabs(x), false); }
LOOM_SPECIAL_HD double i0e_d(double x) { return std::isnan(x) ? x : bessel_i_abs(0, std::fabs(x), true); }
LOOM_SPECIAL_HD double i1_d(double x) {
  if (std::isnan(x)) return x;
  const double v = bessel_i_abs(1, std::fabs(x), false);
  return x < 0 ? -v : v;
}
LOOM_SPECIAL_HD double i1e_d(double x) {
  if (std::isnan(x)) return x;
  const double v = bessel_i_abs(1, std::fabs(x), true);
  return x < 0 ? -v : v;
}

// ---- logaddexp, logaddexp2 (in the dtype itself) ----
// max(a, b) + log1p(exp(-|a - b|)) (log2: log1p(2^-|a - b|) / ln 2); two equal infinities give themselves
// (a - b would be NaN); NaN propagates.
template <typename T>
LOOM_SPECIAL_HD T logaddexp_t(T a, T b) {
  if (std::isinf(a) && a == b) return a;
  const T m = a > b ? a : b;
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}
template <typename T>
LOOM_SPECIAL_HD T logaddexp2_t(T a, T b) {
  if (std::isinf(a) && a == b) return a;
  const T m = a > b ? a : b;
  return m + std::log1p(std::exp2(-std::fabs(a - b))) * T(1.44269504088896340736);
}

// ---- xlogy, xlog1py ----
// a log(b), a log1p(b); 0 where a == 0 unless b is NaN (then NaN), as PyTorch.
template <typename T>
LOOM_SPECIAL_HD T xlogy_t(T a, T b) {
  return b != b ? b : (a == T(0) ? T(0) : a * std::log(b));
}
template <typename T>
LOOM_SPECIAL_HD T xlog1py_t(T a, T b) {
  return b != b ? b : (a == T(0) ? T(0) : a * std::log1p(b));
}

// ---- lerp ----
// a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w): exact at both ends, as PyTorch.
template <typename T>
LOOM_SPECIAL_HD T lerp_t(T a, T b, T w) {
  return (w < T(0.5) && w > T(-0.5)) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// ---- erfcx(x) = exp(x^2) erfc(x) ----
// x >= 12: the asymptotic series 1 / (x sqrt(pi)) * sum_k (-1)^k (2k-1)!! / (2x^2)^k; 0 <= x < 12:
// exp(x^2) erfc(x) with x^2 split exactly into hi + lo (fma), so exp(x^2) keeps full precision; x < 0:
// 2 exp(x^2) - erfcx(-x) (+inf once exp(x^2) overflows, below about -26.6).
LOOM_SPECIAL_HD double exp_square(double x) {  // exp(x^2), x^2 = hi + lo exactly
  const double hi = x * x, lo = std::fma(x, x, -hi);
  return std::exp(hi) * (1 + lo);
}

LOOM_SPECIAL_HD double erfcx_d(double x) {
  constexpr double kInvSqrtPi = 0.56418958354775628695;
  if (std::isnan(x)) return x;
  if (x < 0) {
    if (x < -26.7) return INFINITY;
    return 2 * exp_square(x) - erfcx_d(-x);
  }
  if (x < 12) return exp_square(x) * std::erfc(x);
  if (std::isinf(x)) return 0.0;
  const double r = 1 / (2 * x * x);
  double term = 1, sum = 1;
  for (int k = 1; k < 30; ++k) {
    term *= -(2.0 * k - 1) * r;
    sum += term;
    if (std::fabs(term) < sum * 1e-17) break;
  }
  return kInvSqrtPi / x * sum;
}

// ---- regularized incomplete gamma functions P(a, x) (gammainc) and Q(a, x) = 1 - P (gammaincc) ----
// x < a + 1: the series P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a+1)...(a+n)); otherwise Q by the
// continued fraction x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...))
// (modified Lentz); the other one as 1 minus it (it is at most about 0.6 there: no cancellation). Both
// converge in O(sqrt(a)) steps (at most 20000). The prefactor's exponent a ln x - x - ln Gamma(a) loses
// about log10(a ln a) digits for large a (1e-11 relative at a = 1e4). NaN for a < 0, x < 0, a = x = 0,
// a = x = inf or a NaN argument; a = 0 (x > 0) gives P = 1.
LOOM_SPECIAL_HD double gamma_prefactor(double a, double x) {  // x^a e^-x / Gamma(a)
  return std::exp(a * std::log(x) - x - std::lgamma(a));
}

LOOM_SPECIAL_HD double gammainc_series(double a, double x) {  // P(a, x), x < a + 1
  double term = 1 / a, sum = term;
  for (int n = 1; n < 20000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum * gamma_prefactor(a, x);
}

LOOM_SPECIAL_HD double gammaincc_fraction(double a, double x) {  // Q(a, x), x >= a + 1
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 20000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return h * gamma_prefactor(a, x);
}

// P(a, x) when lower, else Q(a, x).
LOOM_SPECIAL_HD double incomplete_gamma(double a, double x, bool lower) {
  if (std::isnan(a) || std::isnan(x) || a < 0 || x < 0) return NAN;
  if (a == 0) {
    if (x == 0) return NAN;
    return lower ? 1.0 : 0.0;
  }
  if (std::isinf(a)) {
    if (std::isinf(x)) return NAN;
    return lower ? 0.0 : 1.0;
  }
  if (x == 0) return lower ? 0.0 : 1.0;
  if (std::isinf(x)) return lower ? 1.0 : 0.0;
  if (x < a + 1) {
    const double p = gammainc_series(a, x);
    return lower ? p : 1 - p;
  }
  const double q = gammaincc_fraction(a, x);
  return lower ? 1 - q : q;
}

LOOM_SPECIAL_HD double gammainc_d(double a, double x) { return incomplete_gamma(a, x, true); }
LOOM_SPECIAL_HD double gammaincc_d(double a, double x) { return incomplete_gamma(a, x, false); }

}  // namespace loom::kernels

#include "kernels/special_bessel.h"
#include "kernels/special_polynomials.h"
