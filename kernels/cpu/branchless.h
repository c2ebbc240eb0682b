// Branch-free helpers for the inner loops of the CPU kernels, written so that
// the compiler vectorizes them (not part of the kernel API):
//   select_bits(c, x, y)  c ? x : y as a bit select (where, masked_fill, max pooling)
//   exp_fast(x)           exp for float that vectorizes (softmax, log_softmax,
//                         cross_entropy, logsumexp); std::exp for double
//   LOOM_CPU_CLONES       a row function compiled for baseline x86-64, x86-64-v3 and -v4
//   HalfIntegerPow        x^p for p = k / 2, 0 < |k| <= 8 (x^3, x^0.5, x^-1...) by products
//                         and a sqrt (pow with a number, norm with such a p)
//
// select_bits: with data-dependent conditions (a random mask, v > best in a
// pooling window) a branch mispredicts on about half the elements, and on
// baseline x86-64 gcc turns a ternary into a branch or does not vectorize a
// select keyed by a bool; the bit select on a byte mask vectorizes (1M floats:
// 3.5 ms -> 0.16 ms on one core).
//
// exp_fast(float x) = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 by a
// two-part (Cody-Waite) ln 2, e^r by a degree-6 polynomial (the coefficients of
// Cephes' expf), and 2^n applied as two factors 2^n1 2^n2 so that results in
// float's subnormal range come out by gradual underflow. Relative error within
// 2 ulp of the exact value over float's normal range (tests/kernels/test_softmax.cpp
// sweeps it against exp in double); exp(-inf) = 0, exp(+inf) = inf, NaN stays
// NaN; below -103.97 the result is 0 and above 88.72 it is inf, as std::exp.
// Only multiplies, adds, integer conversions, shifts and selects: no branch,
// no table, so a loop over it vectorizes with the baseline x86-64 SSE2.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

// A row function whose loop gains from wider vectors (an exp_fast loop above
// all): GCC compiles it for baseline x86-64, x86-64-v3 (AVX2, FMA) and
// x86-64-v4 (AVX-512), and the loader picks the clone the CPU runs
// (target_clones, through an ifunc).
// Elsewhere it is an ordinary function.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && defined(__linux__)
#define LOOM_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LOOM_CPU_CLONES
#endif
// The helpers below are inlined into the clones (a call would leave the loop scalar).
#if defined(__GNUC__)
#define LOOM_CPU_INLINE inline __attribute__((always_inline))
#else
#define LOOM_CPU_INLINE inline
#endif

namespace loom::kernels::cpu::detail {

template <size_t N>
struct SameSizeUint;
template <>
struct SameSizeUint<1> {
  using type = uint8_t;
};
template <>
struct SameSizeUint<2> {
  using type = uint16_t;
};
template <>
struct SameSizeUint<4> {
  using type = uint32_t;
};
template <>
struct SameSizeUint<8> {
  using type = uint64_t;
};

// c ? x : y: every bit of x where c is nonzero, of y where it is zero.
template <typename T>
LOOM_CPU_INLINE T select_bits(uint8_t c, T x, T y) {
  using B = typename SameSizeUint<sizeof(T)>::type;
  const B m = static_cast<B>(B(0) - static_cast<B>(c != 0));  // all ones when c
  B xb, yb;
  std::memcpy(&xb, &x, sizeof(T));
  std::memcpy(&yb, &y, sizeof(T));
  const B r = static_cast<B>((xb & m) | (yb & static_cast<B>(~m)));
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// A bool mask read as bytes (0 or 1), for select_bits.
inline const uint8_t* mask_bytes(const bool* m) { return reinterpret_cast<const uint8_t*>(m); }

LOOM_CPU_INLINE float exp_fast(float x) {
  constexpr float kLo = -103.972084f, kHi = 88.7228394f;
  const bool nan = x != x;
  float xc = x < kLo ? kLo : x;
  xc = xc > kHi ? kHi : xc;
  xc = nan ? 0.0f : xc;
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (|x / ln 2| <= 150).
  const float t = xc * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  // 2^n = 2^n1 2^n2 with n1 = floor(n / 2): both are normal floats for n in [-150, 128].
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof(float));
  std::memcpy(&s2, &b2, sizeof(float));
  float y = er * s1 * s2;
  y = x < kLo ? 0.0f : y;
  y = x > kHi ? INFINITY : y;
  return nan ? x : y;
}

LOOM_CPU_INLINE double exp_fast(double x) { return std::exp(x); }

// x^p for p = k / 2 with 0 < |k| <= 8 (3, 0.5, 1.5, 4, -1, -0.5...): the
// product of x, x^2, x^4 picked by the bits of |k| / 2, times sqrt(x) for
// a half, inverted for a negative p. A pow call per element keeps a loop
// scalar; this vectorizes, within a few ulp in double (floats are computed in
// double and rounded once; larger powers would lose more). Special values are pow's: NaN for a negative x
// with a half, +-inf for +-0 with a negative p, (-inf)^1.5 = inf.
struct HalfIntegerPow {
  bool ok = false, neg = false, half = false, b1 = false, b2 = false, b4 = false;
  explicit HalfIntegerPow(double p) {
    const double k = std::fabs(2 * p);
    if (!(k > 0 && k <= 8 && k == std::floor(k))) return;
    const int e = static_cast<int>(k) / 2;
    ok = true;
    neg = p < 0;
    half = static_cast<int>(k) % 2 == 1;
    b1 = e & 1;
    b2 = e & 2;
    b4 = e & 4;
  }
  LOOM_CPU_INLINE double operator()(double a) const {
    // With a half, pow treats -inf as +inf and -0 as +0 (a + 0.0 is +0 for -0).
    a = half ? (a == -INFINITY ? INFINITY : a + 0.0) : a;
    const double a2 = a * a, a4 = a2 * a2;
    double r = (b1 ? a : 1.0) * (b2 ? a2 : 1.0) * (b4 ? a4 : 1.0);
    r = half ? r * std::sqrt(a) : r;
    return neg ? 1.0 / r : r;
  }
};

}  // namespace loom::kernels::cpu::detail
