// The Bessel functions J0, J1, Y0, Y1, K0, K1 (and e^x K0, e^x K1), the spherical Bessel function j0 and
// the Airy function Ai, shared by the CPU and CUDA pointwise kernels (included by kernels/special_math.h).
// Computed in double for float and double inputs alike.
//
// Each one is a Chebyshev expansion of a smooth part (kernels/special_bessel_jyk.inc, written by
// tools/gen_bessel_chebyshev.py from 40-digit values, terms down to 1e-18) joined to the singular or
// oscillating factors in closed form:
//   |x| <= 8   J0 = (x^2 - z1^2)(x^2 - z2^2) g0(x^2), J1 = x (x^2 - w1^2)(x^2 - w2^2) g1(x^2) over the zeros
//              below 8 (each a double plus a remainder, so J keeps its relative precision near them);
//              Y0 = 2/pi log(x) J0 + h0(x^2), Y1 = 2/pi (log(x) J1 - 1/x) + x h1(x^2)
//   |x| > 8    the Hankel forms J0 = (P (cos x + sin x) - Q (sin x - cos x)) / sqrt(pi x), and alike, with
//              P, x Q smooth in 64 / x^2; sin x and cos x of x itself (exactly reduced), not of x - pi/4
//   x <= 1     K0 = -log(x) I0 + k0(x^2), K1 = log(x) I1 + 1/x + x k1(x^2) (no cancellation while log x <= 0);
//              beyond, sqrt(x) e^x K smooth in 1/x
//   Ai         [-2, 0]: Ai; [0, 2]: e^x Ai; x > 2: 2 sqrt(pi) x^(1/4) e^z Ai with z = 2/3 x^(3/2) (0 past
//              103.892, where Ai leaves the normal doubles); x < -2: the modulus-phase form
//              Ai(-y) = (P sin(z + pi/4) - Q cos(z + pi/4)) / (sqrt(pi) y^(1/4)), P and Q smooth in 1 / z
// Special values as PyTorch 2.15: J and Y give NaN at +-inf, Y NaN below 0 and -inf at 0, K NaN below 0,
// +inf at 0 and 0 at +inf, Ai NaN at +-inf; j0(x) = sin(x) / x, 1 at 0 and 0 at +-inf.
#pragma once
#include <cmath>

namespace loom::kernels {

// sum_j c_j T_j(t) by Clenshaw's recurrence, unrolled (CUDA keeps the coefficients as immediates).
template <int N>
LOOM_SPECIAL_HD_INLINE double chebyshev_series(const double (&c)[N], double t) {
  const double t2 = 2 * t;
  double b0 = 0, b1 = 0, b2 = 0;
#if defined(__CUDACC__)
#pragma unroll
#else
#pragma GCC unroll 40
#endif
  for (int j = N - 1; j >= 1; --j) {
    b2 = b1;
    b1 = b0;
    b0 = t2 * b1 - b2 + c[j];
  }
  return t * b0 - b1 + c[0];
}

#include "kernels/special_bessel_jyk.inc"

namespace bessel_detail {
constexpr double kInvPi = 0.31830988618379067154, kTwoOverPi = 0.63661977236758134308;
constexpr double kPi = 3.14159265358979323846, kInvSqrtPi = 0.56418958354775628695;
constexpr double kZeta2 = 1.8856180831641267317;  // 2/3 2^(3/2)
}  // namespace bessel_detail

// J0(|x|) without the sign work: ax >= 0, finite.
LOOM_SPECIAL_HD double bessel_j0_abs(double ax) {
  if (ax <= 8) {
    const double d1 = (ax - kJ0Zero1Hi - kJ0Zero1Lo) * (ax + kJ0Zero1Hi);
    const double d2 = (ax - kJ0Zero2Hi - kJ0Zero2Lo) * (ax + kJ0Zero2Hi);
    return d1 * d2 * bessel_j0_small(ax * ax / 32 - 1);
  }
  const double t = 128 / (ax * ax) - 1, s = std::sin(ax), c = std::cos(ax);
  const double p = bessel_p0_large(t), q = bessel_q0_large(t) / ax;
  return (p * (c + s) - q * (s - c)) / std::sqrt(bessel_detail::kPi * ax);
}

// J1(|x|): ax >= 0, finite.
LOOM_SPECIAL_HD double bessel_j1_abs(double ax) {
  if (ax <= 8) {
    const double d1 = (ax - kJ1Zero1Hi - kJ1Zero1Lo) * (ax + kJ1Zero1Hi);
    const double d2 = (ax - kJ1Zero2Hi - kJ1Zero2Lo) * (ax + kJ1Zero2Hi);
    return ax * d1 * d2 * bessel_j1_small(ax * ax / 32 - 1);
  }
  const double t = 128 / (ax * ax) - 1, s = std::sin(ax), c = std::cos(ax);
  const double p = bessel_p1_large(t), q = bessel_q1_large(t) / ax;
  return (p * (s - c) + q * (s + c)) / std::sqrt(bessel_detail::kPi * ax);
}

LOOM_SPECIAL_HD double bessel_j0_d(double x) {
  if (std::isinf(x)) return NAN;
  return x != x ? x : bessel_j0_abs(std::fabs(x));
}

LOOM_SPECIAL_HD double bessel_j1_d(double x) {
  if (std::isinf(x)) return NAN;
  if (x != x) return x;
  const double v = bessel_j1_abs(std::fabs(x));
  return x < 0 || (x == 0 && std::signbit(x)) ? -v : v;
}

LOOM_SPECIAL_HD double bessel_y0_d(double x) {
  if (x != x || x < 0 || std::isinf(x)) return NAN;
  if (x == 0) return -INFINITY;
  if (x <= 8) return bessel_detail::kTwoOverPi * std::log(x) * bessel_j0_abs(x) + bessel_y0_small(x * x / 32 - 1);
  const double t = 128 / (x * x) - 1, s = std::sin(x), c = std::cos(x);
  const double p = bessel_p0_large(t), q = bessel_q0_large(t) / x;
  return (p * (s - c) + q * (c + s)) / std::sqrt(bessel_detail::kPi * x);
}

LOOM_SPECIAL_HD double bessel_y1_d(double x) {
  if (x != x || x < 0 || std::isinf(x)) return NAN;
  if (x == 0) return -INFINITY;
  if (x <= 8)
    return bessel_detail::kTwoOverPi * (std::log(x) * bessel_j1_abs(x) - 1 / x) + x * bessel_y1_small(x * x / 32 - 1);
  const double t = 128 / (x * x) - 1, s = std::sin(x), c = std::cos(x);
  const double p = bessel_p1_large(t), q = bessel_q1_large(t) / x;
  return (q * (s - c) - p * (s + c)) / std::sqrt(bessel_detail::kPi * x);
}

// K0(x) (scaled: e^x K0(x)) and K1(x) (e^x K1(x)), x > 0 after the special values.
LOOM_SPECIAL_HD double bessel_k_d(int nu, double x, bool scaled) {
  if (x != x || x < 0) return NAN;
  if (x == 0) return INFINITY;
  if (x <= 1) {
    const double t = 2 * x * x - 1;
    const double k =
        nu == 0 ? bessel_k0_small(t) - std::log(x) * i0_d(x) : std::log(x) * i1_d(x) + 1 / x + x * bessel_k1_small(t);
    return scaled ? k * std::exp(x) : k;
  }
  const double t = 2 / x - 1;
  const double g = (nu == 0 ? bessel_k0e_large(t) : bessel_k1e_large(t)) / std::sqrt(x);
  return scaled ? g : g * std::exp(-x);
}

LOOM_SPECIAL_HD double bessel_k0_d(double x) { return bessel_k_d(0, x, false); }
LOOM_SPECIAL_HD double bessel_k1_d(double x) { return bessel_k_d(1, x, false); }
LOOM_SPECIAL_HD double bessel_k0e_d(double x) { return bessel_k_d(0, x, true); }
LOOM_SPECIAL_HD double bessel_k1e_d(double x) { return bessel_k_d(1, x, true); }

LOOM_SPECIAL_HD double spherical_bessel_j0_d(double x) {
  if (std::isinf(x)) return 0.0;
  return x == 0 ? 1.0 : std::sin(x) / x;
}

LOOM_SPECIAL_HD double airy_ai_d(double x) {
  using namespace bessel_detail;
  if (x != x) return x;
  if (std::isinf(x)) return NAN;
  if (x < -2) {
    const double y = -x, z = 2 * y * std::sqrt(y) / 3, t = 2 * kZeta2 / z - 1;
    const double s = std::sin(z), c = std::cos(z);  // sin(z + pi/4) = (s + c) / sqrt 2, cos = (c - s) / sqrt 2
    const double v = airy_ai_neg_p(t) * (s + c) - airy_ai_neg_q(t) * (c - s);
    return v * (kInvSqrtPi * 0.70710678118654752440) / std::sqrt(std::sqrt(y));
  }
  if (x <= 0) return airy_ai_neg_mid(x + 1);
  if (x <= 2) return std::exp(-x) * airy_ai_pos_mid(x - 1);
  if (x > 103.892) return 0.0;
  const double z = 2 * x * std::sqrt(x) / 3, t = 2 * kZeta2 / z - 1;
  return std::exp(-z) * airy_ai_pos_large(t) * (0.5 * kInvSqrtPi) / std::sqrt(std::sqrt(x));
}

}  // namespace loom::kernels
