// Special functions shared by the CPU and CUDA pointwise kernels (one source, so the two devices agree to
// rounding): digamma, trigamma and the inverse error function. Computed in double for float and double
// inputs alike.
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
#else
#define LOOM_SPECIAL_HD inline
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

}  // namespace loom::kernels
