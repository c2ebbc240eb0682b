// Branch-free helpers for the inner loops of the CPU kernels, written so that
// the compiler vectorizes them (not part of the kernel API):
//   select_bits(c, x, y)  c ? x : y as a bit select (where, masked_fill, max pooling)
//   exp_fast(x)           exp for float that vectorizes (softmax, log_softmax,
//                         cross_entropy, logsumexp, the float32 unary ops); std::exp for double
//   log2_fast, log10_fast, exp2_fast   the same for log2, log10 and exp2
//   log_fast, log1p_fast, the same for log, log1p, expm1, tanh and erf (the float32 unary ops: exp,
//   expm1_fast,           log, log1p, expm1, tanh, sigmoid, silu, gelu, erf and the gradients built on
//   tanh_fast, erf_fast   them); std:: for double
//   sincos_fast, tan_fast sin, cos and tan of float for |x| < 8192 (the callers patch larger |x|)
//   atan_fast, asin_fast, atan, asin and acos of float
//   acos_fast
//   erfc_fast             erfc of float
//   erfinv_fast, atan2_fast, erfinv, atan2 and hypot of float
//   hypot_fast
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

#include "core/philox.h"

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

// c[0] + c[1] x + ... + c[N-1] x^(N-1) by Horner's rule from the highest power (unrolled, so the
// coefficients become constants of the vector loop).
template <size_t N>
LOOM_CPU_INLINE float horner(float x, const float (&c)[N]) {
  float p = c[N - 1];
  for (size_t i = N - 1; i-- > 0;) p = p * x + c[i];
  return p;
}

// x = j pi / 4 + r for 0 <= x < kSinCosMax: j = x / (pi / 4) truncated, rounded up to even, and
// r = x - j pi / 4 by a three-part pi / 4 whose products with j are exact (Cephes' reduction, shared by
// sincos_fast and tan_fast).
constexpr float kSinCosMax = 8192.0f;
LOOM_CPU_INLINE float reduce_pi4(float x, int32_t& j) {
  j = (static_cast<int32_t>(x * 1.27323954473516f) + 1) & ~1;
  const float y = static_cast<float>(j);
  return ((x - y * 0.78515625f) - y * 2.4187564849853515625e-4f) - y * 3.77489497744594108e-8f;
}

// y 2^n for n in [-150, 128], as y 2^n1 2^n2 with n1 = floor(n / 2): both factors are normal floats, and
// results in float's subnormal range come out by gradual underflow.
LOOM_CPU_INLINE float times_pow2(float y, int32_t n) {
  const int32_t n1 = n >> 1, n2 = n - n1;
  const int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof(float));
  std::memcpy(&s2, &b2, sizeof(float));
  return y * s1 * s2;
}

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
  float y = times_pow2(er, static_cast<int32_t>(n));
  y = x < kLo ? 0.0f : y;
  y = x > kHi ? INFINITY : y;
  return nan ? x : y;
}

LOOM_CPU_INLINE double exp_fast(double x) { return std::exp(x); }

// x = 2^e (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)) for x > 0 (subnormals scaled by 2^23 first), and
// log(1 + f) = f + t - f^2 / 2 with t = f^3 P(f) (the degree-8 polynomial of Cephes' logf).
struct LogParts {
  float f, t, z, e;  // z = f^2
};
LOOM_CPU_INLINE LogParts log_parts(float x) {
  const bool sub = x < 1.17549435e-38f;  // subnormal (and 0, negative: replaced by the callers)
  const float xs = sub ? x * 8388608.0f : x;
  int32_t bits;
  std::memcpy(&bits, &xs, sizeof(float));
  int32_t e = ((bits >> 23) & 0xff) - (sub ? 150 : 127);
  const int32_t mb = (bits & 0x007fffff) | 0x3f800000;
  float m;
  std::memcpy(&m, &mb, sizeof(float));  // [1, 2)
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float f = m - 1.0f, z = f * f;
  constexpr float kP[] = {3.3333331174e-1f,  -2.4999993993e-1f, 2.0000714765e-1f,  -1.6668057665e-1f, 1.4249322787e-1f,
                          -1.2420140846e-1f, 1.1676998740e-1f,  -1.1514610310e-1f, 7.0376836292e-2f};
  return {f, horner(f, kP) * f * z, z, static_cast<float>(e)};
}
// The logarithms' special values: -inf at +-0, NaN below 0 and for NaN, inf at inf.
LOOM_CPU_INLINE float log_special(float x, float r) {
  r = x == 0.0f ? -INFINITY : r;
  r = x < 0.0f ? NAN : r;
  r = x == INFINITY ? INFINITY : r;
  return x != x ? x : r;
}

// log_fast(float x): log(1 + f) + e ln 2 with ln 2 in two parts. Within 1 ulp; log(0) = -inf,
// log(x < 0) = NaN, log(inf) = inf, NaN stays NaN.
LOOM_CPU_INLINE float log_fast(float x) {
  const LogParts q = log_parts(x);
  const float y = q.t + q.e * -2.12194440e-4f - 0.5f * q.z;
  return log_special(x, (q.f + y) + q.e * 0.693359375f);
}

// log2_fast / log10_fast (Cephes' log2f, log10f): log(1 + f) times log2(e) or log10(e) and e times 1 or
// log10(2), the constants in two parts, the small terms first; log2 of a power of two is exact. Within
// 2 ulp (log10: 2.5); the special values of log.
LOOM_CPU_INLINE float log2_fast(float x) {
  const LogParts q = log_parts(x);
  const float y = q.t - 0.5f * q.z;
  constexpr float kLog2eMinus1 = 0.44269504088896340736f;
  return log_special(x, (((y * kLog2eMinus1 + q.f * kLog2eMinus1) + y) + q.f) + q.e);
}
LOOM_CPU_INLINE float log10_fast(float x) {
  const LogParts q = log_parts(x);
  const float y = q.t - 0.5f * q.z;
  constexpr float kL10eA = 4.3359375e-1f, kL10eB = 7.00731903251827651129e-4f;
  constexpr float kL102A = 3.0078125e-1f, kL102B = 2.48745663981195213739e-4f;
  float r = q.f * kL10eB;
  r += y * kL10eB;
  r += q.f * kL10eA;
  r += y * kL10eA;
  r += q.e * kL102B;
  r += q.e * kL102A;
  return log_special(x, r);
}

// exp2_fast(float x) (Cephes' exp2f): n = x rounded, 2^(x - n) by a degree-6 polynomial on [-1/2, 1/2],
// times 2^n; exact at the integers. Within 2 ulp; 0 below -150, inf above 128, NaN stays NaN.
LOOM_CPU_INLINE float exp2_fast(float x) {
  const bool nan = x != x;
  float xc = x < -150.0f ? -150.0f : x;
  xc = xc > 129.0f ? 129.0f : xc;
  xc = nan ? 0.0f : xc;
  const float n = (xc + 12582912.0f) - 12582912.0f;  // round to nearest
  const float f = xc - n;                            // exact, in [-1/2, 1/2]
  constexpr float kP[] = {1.0f,
                          6.931472028550421e-1f,
                          2.402264791363012e-1f,
                          5.550332471162809e-2f,
                          9.618437357674640e-3f,
                          1.339887440266574e-3f,
                          1.535336188319500e-4f};
  float y = times_pow2(horner(f, kP), static_cast<int32_t>(n) > 128 ? 128 : static_cast<int32_t>(n));
  y = x < -150.0f ? 0.0f : y;
  y = x >= 128.0f ? INFINITY : y;
  return nan ? x : y;
}

LOOM_CPU_INLINE double log_fast(double x) { return std::log(x); }

// log1p_fast(float x) = log u + (x - (u - 1)) / u with u = 1 + x rounded: the correction puts back what
// the rounding of u lost (x itself for tiny x). Within 2 ulp; -1 -> -inf, below -1 NaN, inf -> inf.
LOOM_CPU_INLINE float log1p_fast(float x) {
  const float u = 1.0f + x;
  const float r = log_fast(u) + (x - (u - 1.0f)) / u;
  return u == 1.0f ? x : (u == INFINITY || u == 0.0f ? log_fast(u) : r);  // x, -0 stay; no inf / inf
}
LOOM_CPU_INLINE double log1p_fast(double x) { return std::log1p(x); }

// expm1_fast(float x): below |x| = 1 the Taylor series to x^11 (its remainder < 3e-9 relative), above
// exp_fast(x) - 1. Within 3 ulp; expm1(-inf) = -1, inf -> inf, -0 stays -0, NaN stays NaN.
LOOM_CPU_INLINE float expm1_fast(float x) {
  constexpr float kP[] = {0.5f,           1.66666667e-1f, 4.16666667e-2f, 8.33333333e-3f, 1.38888889e-3f,
                          1.98412698e-4f, 2.48015873e-5f, 2.75573192e-6f, 2.75573192e-7f, 2.50521084e-8f};  // 1 / k!
  const float p = horner(x, kP);
  const float small = p * x * x + x;
  // expm1 has the sign of x (-0 included); NaN takes exp_fast(NaN) - 1
  return std::copysign(std::fabs(x) < 1.0f ? small : exp_fast(x) - 1.0f, x);
}
LOOM_CPU_INLINE double expm1_fast(double x) { return std::expm1(x); }

// sincos_fast(float x, bool cos): Cephes' sinf / cosf. x = j pi / 4 + r (reduce_pi4, j even: the octant
// pair), then the sine or cosine polynomial on r by the octant, the sign by the quadrant. Within 2 ulp for |x| <
// kSinCosMax; the caller computes larger |x| with std::sin / std::cos (the reduction would lose bits). inf, NaN -> NaN.
LOOM_CPU_INLINE float sincos_fast(float x, bool cos) {
  int32_t j;
  const float r = reduce_pi4(std::fabs(x) < kSinCosMax ? std::fabs(x) : 0.0f, j);  // inf, NaN, large: below
  const float z = r * r;
  constexpr float kSin[] = {-1.6666654611e-1f, 8.3321608736e-3f, -1.9515295891e-4f};
  constexpr float kCos[] = {4.166664568298827e-2f, -1.388731625493765e-3f, 2.443315711809948e-5f};
  const float sp = horner(z, kSin) * z * r + r;
  const float cp = horner(z, kCos) * z * z - 0.5f * z + 1.0f;
  // sin: octant pair j / 2 = 0, 1, 2, 3 -> sin r, cos r, -sin r, -cos r (sin(-x) = -sin x);
  // cos: cos r, -sin r, -cos r, sin r.
  const int32_t q = (j >> 1) + (cos ? 1 : 0);
  float v = (q & 1) ? cp : sp;
  v = (q & 2) ? -v : v;
  v = (!cos && std::signbit(x)) ? -v : v;      // sin is odd, -0 included
  return std::fabs(x) < kSinCosMax ? v : NAN;  // NaN for inf and NaN; large |x| is patched by the caller
}

// tan_fast(float x): Cephes' tanf, the reduction of sincos_fast, tan r by its polynomial and -1 / tan r
// in the odd octant pairs. Within 4 ulp for |x| < kSinCosMax (the callers patch larger |x|); inf, NaN -> NaN.
LOOM_CPU_INLINE float tan_fast(float x) {
  int32_t j;
  const float r = reduce_pi4(std::fabs(x) < kSinCosMax ? std::fabs(x) : 0.0f, j), z = r * r;
  constexpr float kP[] = {3.33331568548e-1f, 1.33387994085e-1f, 5.34112807005e-2f,
                          2.44301354525e-2f, 3.11992232697e-3f, 9.38540185543e-3f};
  float t = horner(z, kP) * z * r + r;
  t = (j & 2) ? -1.0f / t : t;
  t = std::signbit(x) ? -t : t;  // odd, -0 included
  return std::fabs(x) < kSinCosMax ? t : NAN;
}

// atan_fast(float x): Cephes' atanf. |x| above tan(3 pi / 8) maps to pi / 2 + atan(-1 / |x|), above
// tan(pi / 8) to pi / 4 + atan((|x| - 1) / (|x| + 1)) (one division for the three ranges), then an odd
// polynomial. Within 2.5 ulp; atan(+-inf) = +-pi / 2, NaN stays NaN.
LOOM_CPU_INLINE float atan_fast(float x) {
  const float a = std::fabs(x);
  const bool big = a > 2.414213562373095f, mid = a > 0.4142135623730950f;
  const float num = big ? -1.0f : (mid ? a - 1.0f : a);
  const float den = big ? a : (mid ? a + 1.0f : 1.0f);
  // pi / 2 and pi / 4 as a float and the rest, added to the small terms first
  const float base = big ? 1.5707963267948966f : (mid ? 0.7853981633974483f : 0.0f);
  const float base_lo = big ? -4.37113883e-8f : (mid ? -2.18556941e-8f : 0.0f);
  const float t = num / den, z = t * t;
  constexpr float kP[] = {-3.33329491539e-1f, 1.99777106478e-1f, -1.38776856032e-1f, 8.05374449538e-2f};
  const float p = horner(z, kP);
  return std::copysign(base + (t + (p * z * t + base_lo)), x);
}

// asin_fast(float x) / acos_fast: Cephes' asinf: above |x| = 0.5 asin = pi / 2 - 2 asin(sqrt((1 - |x|) / 2)),
// below an odd polynomial; acos = pi / 2 - asin in the middle, 2 asin(sqrt((1 - x) / 2)) above 0.5 and
// pi - that of -x below -0.5. Within 2.5 ulp; NaN outside [-1, 1].
LOOM_CPU_INLINE float asin_core(float a) {  // asin(a) for 0 <= a <= 0.5 (and NaN)
  const float z = a * a;
  constexpr float kP[] = {1.6666752422e-1f, 7.4953002686e-2f, 4.5470025998e-2f, 2.4181311049e-2f, 4.2163199048e-2f};
  const float p = horner(z, kP);
  return p * z * a + a;
}
LOOM_CPU_INLINE float asin_fast(float x) {
  const float a = std::fabs(x);
  const bool big = a > 0.5f;
  const float s = std::sqrt(0.5f * (1.0f - a));  // NaN above 1
  const float r = big ? 1.5707963267948966f + (-4.37113883e-8f - 2.0f * asin_core(s)) : asin_core(a);
  return std::copysign(a > 1.0f ? NAN : r, x);
}
LOOM_CPU_INLINE float acos_fast(float x) {
  const float a = std::fabs(x);
  const float s = std::sqrt(0.5f * (1.0f - a));
  const float outer = 2.0f * asin_core(s);  // acos(|x|) for |x| > 0.5
  float r = a > 0.5f ? (x < 0.0f ? 3.14159265358979323846f + (-8.74227766e-8f - outer) : outer)
                     : 1.5707963267948966f + (-4.37113883e-8f - asin_core(x));
  r = a > 1.0f ? NAN : r;
  return x != x ? x : r;
}

// tanh_fast(float x): below |x| = 0.625 x + x^3 P(x^2) (Cephes' tanhf polynomial), above
// sign(x) (1 - 2 / (e^2|x| + 1)) with exp_fast (1 for large |x|: e^2|x| overflows to inf). Within 3 ulp.
LOOM_CPU_INLINE float tanh_fast(float x) {
  const float a = std::fabs(x), z = x * x;
  constexpr float kP[] = {-3.33332819422e-1f, 1.33314422036e-1f, -5.37397155531e-2f, 2.06390887954e-2f,
                          -5.70498872745e-3f};
  const float p = horner(z, kP);
  const float small = p * z * x + x;
  const float large = 1.0f - 2.0f / (exp_fast(2.0f * a) + 1.0f);
  return std::copysign(a < 0.625f ? small : large, x);  // -0 stays -0; NaN takes `large`, which is NaN
}
LOOM_CPU_INLINE double tanh_fast(double x) { return std::tanh(x); }

// erf_fast(float x): below |x| = 1 x P(x^2), P of degree 6 fitted to erf(x) / x (tools/fit_erf.py); from 1
// to 4 1 - exp(Q(|x| - 2.5)), Q of degree 9 fitted to log erfc; 1 beyond (erf rounds to 1 in float from
// 3.92). Within 3 ulp; erf(+-inf) = +-1, NaN stays NaN.
LOOM_CPU_INLINE float erf_fast(float x) {
  const float a = std::fabs(x), z = a * a;
  constexpr float kP[] = {1.128379226e+00f, -3.761262894e-01f, 1.128361225e-01f, -2.685480937e-02f,
                          5.190053489e-03f, -8.024353883e-04f, 7.898209878e-05f};
  constexpr float kQ[] = {-7.806815147e+00f, -5.352680683e+00f, -9.438936114e-01f, -1.085816510e-02f,
                          2.165160375e-03f,  -4.207069287e-04f, 7.739442663e-05f,  -1.297613289e-05f,
                          1.614061603e-06f,  -6.582857992e-08f};
  const float p = horner(z, kP);
  const float t = (a > 4.0f ? 4.0f : a) - 2.5f;
  const float q = horner(t, kQ);
  const float r = a < 1.0f ? a * p : 1.0f - exp_fast(q);
  return std::copysign(r, x);
}
LOOM_CPU_INLINE double erf_fast(double x) { return std::erf(x); }

// erfc_fast(float x): for a = |x| = h + l, h with 12 significant bits (so h^2 is exact), erfc(a) =
// exp(-h^2) exp(-l (a + h)) erfcx(a), the second factor by its Taylor polynomial (l (a + h) < 0.06), erfcx
// below a = 2 a degree-13 polynomial in a - 1, from 2 a degree-8 polynomial in 1 / a^2 over a (both fitted
// by tools/fit_erf.py); erfc(x) = 2 - erfc(a) for x < 0. No cancellation: within 4.2 ulp down to the subnormal
// range (0 from about 10.06). erfc(-inf) = 2, erfc(inf) = 0, NaN stays NaN.
LOOM_CPU_INLINE float erfc_fast(float x) {
  constexpr float kF[] = {4.275835752e-01f,  -2.732120156e-01f, 1.543715447e-01f,  -7.922700047e-02f, 3.757261485e-02f,
                          -1.666164771e-02f, 6.968152709e-03f,  -2.769583603e-03f, 1.056066249e-03f,  -3.817953402e-04f,
                          1.251554204e-04f,  -4.414287105e-05f, 2.072826646e-05f,  -5.977322871e-06f};
  constexpr float kG[] = {5.641895533e-01f,  -2.820874751e-01f, 4.225947857e-01f,  -1.037347674e+00f, 3.253403187e+00f,
                          -1.026060486e+01f, 2.583916283e+01f,  -4.179855728e+01f, 3.108792877e+01f};
  float a = std::fabs(x);
  a = a > 10.5f ? 10.5f : a;  // exp(-h^2) is 0 from here (NaN passes)
  const float near = horner(a - 1.0f, kF);
  const float b = a < 2.0f ? 2.0f : a;  // no division by 0 in the unused lane
  const float far = horner(1.0f / (b * b), kG) / b;
  uint32_t bits;
  std::memcpy(&bits, &a, sizeof(float));
  bits &= 0xfffff000u;
  float h;
  std::memcpy(&h, &bits, sizeof(float));
  const float d = (a - h) * (a + h);  // a^2 - h^2
  const float e = exp_fast(-(h * h)) * (1.0f - d * (1.0f - d * (0.5f - d * (1.0f / 6 - d * (1.0f / 24)))));
  const float r = e * (a < 2.0f ? near : far);
  return x < 0.0f ? 2.0f - r : r;
}
LOOM_CPU_INLINE double erfc_fast(double x) { return std::erfc(x); }

// sin(a) and cos(a) for |a| <= pi / 2 by their Taylor polynomials (to a^21 and a^20), plain products and sums.
LOOM_CPU_INLINE void sincos_taylor(double a, double* sin_a, double* cos_a) {
  const double a2 = a * a;
  double q = -1.0 / 51090942171709440000.0;  // -1/21!
  q = q * a2 + 1.0 / 121645100408832000.0;
  q = q * a2 + -1.0 / 355687428096000.0;
  q = q * a2 + 1.0 / 1307674368000.0;
  q = q * a2 + -1.0 / 6227020800.0;
  q = q * a2 + 1.0 / 39916800.0;
  q = q * a2 + -1.0 / 362880.0;
  q = q * a2 + 1.0 / 5040.0;
  q = q * a2 + -1.0 / 120.0;
  q = q * a2 + 1.0 / 6.0;
  *sin_a = a - a * a2 * q;
  double c = 1.0 / 2432902008176640000.0;  // 1/20!
  c = c * a2 + -1.0 / 6402373705728000.0;
  c = c * a2 + 1.0 / 20922789888000.0;
  c = c * a2 + -1.0 / 87178291200.0;
  c = c * a2 + 1.0 / 479001600.0;
  c = c * a2 + -1.0 / 3628800.0;
  c = c * a2 + 1.0 / 40320.0;
  c = c * a2 + -1.0 / 720.0;
  c = c * a2 + 1.0 / 24.0;
  c = c * a2 + -0.5;
  *cos_a = 1.0 + a2 * c;
}

// lgamma_fast(float x), in double and branch-free: y = x above 0, else 1 - x, shifted to z = y + k >= 8 by
// the product P = y (y + 1) ... (y + k - 1); lgamma(y) = (z - 1/2) log z - z + log(2 pi) / 2 + Stirling's
// series to z^-15 - log P. At or below 0 the reflection lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x),
// sin(pi r) of r = x - rint(x) by its Taylor polynomial; the two logs of P and of |sin| are one log of their
// ratio. Logs by philox::log_unit (any positive normal double). Poles (0, negative integers) and +-inf give
// +inf, NaN stays NaN, lgamma(1) = lgamma(2) = 0. Within 1 ulp of the double lgamma rounded to float, near
// the zeros too (tests/kernels/test_vector_math.cpp); the series are plain products and sums (contracted
// into FMAs by the v3 / v4 clones), only log_unit uses std::fma.
LOOM_CPU_INLINE float lgamma_fast(float xf) {
  const double x = xf;
  const bool refl = x <= 0.0;
  const double y = refl ? 1.0 - x : x;
  double z = y, P = 1.0;
  for (int k = 0; k < 8; ++k) {
    const bool shift = z < 8.0;
    P = shift ? P * z : P;
    z = shift ? z + 1.0 : z;
  }
  const double w = 1.0 / z, w2 = w * w;
  double s = -3617.0 / 122400.0;  // B_2k / (2k (2k - 1)), k = 8 down to 1
  s = s * w2 + 1.0 / 156.0;
  s = s * w2 + -691.0 / 360360.0;
  s = s * w2 + 1.0 / 1188.0;
  s = s * w2 + -1.0 / 1680.0;
  s = s * w2 + 1.0 / 1260.0;
  s = s * w2 + -1.0 / 360.0;
  s = s * w2 + 1.0 / 12.0;
  const double stirling = (z - 0.5) * philox::log_unit(z) - z + 0.91893853320467274178 + s * w;  // + log(2 pi)/2
  double sin_a, cos_a;  // sin(pi r), r = x - rint(x) in [-1/2, 1/2]
  sincos_taylor(3.14159265358979323846 * (x - std::nearbyint(x)), &sin_a, &cos_a);
  const double sn = std::fabs(sin_a);
  const double ratio = refl ? P / (sn == 0.0 ? 1.0 : sn) : 1.0 / P;  // log(ratio) = -log P (- log |sin|)
  const double lg = philox::log_unit(ratio);
  double r = refl ? 1.14472988584940017414 - stirling + lg : stirling + lg;  // log(pi) - lgamma(1 - x)
  r = (refl && sn == 0.0) || std::fabs(x) == INFINITY ? INFINITY : r;
  r = x == 1.0 || x == 2.0 ? 0.0 : r;  // exact zeros, as the C library
  return xf != xf ? xf : static_cast<float>(r);
}

// digamma_fast(float x), in double and branch-free, as kernels/special_math.h's digamma_d: y = x above 0,
// else 1 - x with the reflection term -pi cot(pi x); the sum of 1 / (y + k) while y + k < 10 kept as one
// fraction N / D (one division); then log z - 1 / (2z) - the asymptotic series to z^-14. digamma(+0) = -inf,
// digamma(-0) = +inf, NaN at the negative integers and -inf, +inf at +inf. Within 2 ulp of digamma_d
// (tests/kernels/test_vector_math.cpp).
LOOM_CPU_INLINE float digamma_fast(float xf) {
  const double x = xf;
  const bool refl = x < 0.0;
  const double y = refl ? 1.0 - x : x;
  double z = y, N = 0.0, D = 1.0;  // sum of 1 / (y + k) = N / D
  for (int k = 0; k < 10; ++k) {
    const bool shift = z < 10.0;
    N = shift ? N * z + D : N;
    D = shift ? D * z : D;
    z = shift ? z + 1.0 : z;
  }
  const double w = 1.0 / z, w2 = w * w;
  double s = 1.0 / 12.0;  // the series in 1 / z^2: 1/12, -691/32760, 1/132, -1/240, 1/252, -1/120, 1/12
  s = -691.0 / 32760.0 + w2 * s;
  s = 1.0 / 132.0 + w2 * s;
  s = -1.0 / 240.0 + w2 * s;
  s = 1.0 / 252.0 + w2 * s;
  s = -1.0 / 120.0 + w2 * s;
  s = 1.0 / 12.0 + w2 * s;
  double r = philox::log_unit(z) - 0.5 * w - w2 * s - N / D;
  double sn, cs;
  sincos_taylor(3.14159265358979323846 * (x - std::nearbyint(x)), &sn, &cs);
  r = refl ? r - 3.14159265358979323846 * cs / sn : r;  // - pi cot(pi x)
  r = x == INFINITY ? INFINITY : r;
  r = (refl && sn == 0.0) || x == -INFINITY ? NAN : r;
  r = x == 0.0 ? -std::copysign(INFINITY, x) : r;  // copysign vectorizes, signbit does not
  return xf != xf ? xf : static_cast<float>(r);
}

// erfinv_fast(float x): Giles' single-precision approximation in float (kernels/special_math.h uses it in
// double as the first guess): w = -log((1 - x)(1 + x)), a polynomial of w - 2.5 below w = 5, of sqrt(w) - 3
// above, times x; both polynomials are evaluated, one selected. 1 - x is exact from 1/2 on. Within a few
// ulp (tests/kernels/test_vector_math.cpp); +-inf at +-1, NaN outside [-1, 1] and for NaN.
LOOM_CPU_INLINE float erfinv_fast(float x) {
  const float w = -log_fast((1.0f - x) * (1.0f + x));
  constexpr float kC[] = {1.50140941f,      0.246640727f,    -0.00417768164f, -0.00125372503f, 0.00021858087f,
                          -4.39150654e-06f, -3.5233877e-06f, 3.43273939e-07f, 2.81022636e-08f};
  constexpr float kT[] = {2.83297682f,     1.00167406f,    0.00943887047f,  -0.0076224613f,  0.00573950773f,
                          -0.00367342844f, 0.00134934322f, 0.000100950558f, -0.000200214257f};
  const float central = horner(w - 2.5f, kC);
  const float tail = horner(std::sqrt(w < 5.0f ? 5.0f : w) - 3.0f, kT);  // no sqrt of a negative w
  float r = (w < 5.0f ? central : tail) * x;
  r = std::fabs(x) == 1.0f ? x * INFINITY : r;
  return std::fabs(x) > 1.0f ? NAN : r;  // NaN stays NaN through the product
}

// atan2_fast(float y, float x): atan_fast of min(|x|, |y|) / max(|x|, |y|) (in [0, 1]), reflected to
// pi/2 - t when |y| > |x|, to pi - t when x < 0 (pi/2 and pi in two parts), with y's sign. C's special
// values: signed zeros (atan2(+-0, -0) = +-pi), the infinities (atan2(+-inf, -inf) = +-3 pi / 4), NaN.
LOOM_CPU_INLINE float atan2_fast(float y, float x) {
  const float ay = std::fabs(y), ax = std::fabs(x);
  const bool steep = ay > ax;
  const float hi = steep ? ay : ax, lo = steep ? ax : ay;
  float t = atan_fast(hi == 0.0f ? 0.0f : lo / hi);
  t = (ax == INFINITY && ay == INFINITY) ? 0.78539816f : t;
  constexpr float kHalfPiA = 1.57079637f, kHalfPiB = -4.37113883e-8f;  // pi/2 = A + B
  t = steep ? (kHalfPiA - t) + kHalfPiB : t;
  t = std::signbit(x) ? (2.0f * kHalfPiA - t) + 2.0f * kHalfPiB : t;
  t = std::copysign(t, y);
  return (x != x || y != y) ? x + y : t;
}

// hypot_fast(float a, float b): sqrt(a^2 + b^2) in double, rounded once: no overflow or underflow for any
// floats, correctly rounded but for double's own rounding; inf if either is infinite (NaN or not), else
// NaN for a NaN.
LOOM_CPU_INLINE float hypot_fast(float a, float b) {
  const double da = a, db = b;
  const float r = static_cast<float>(std::sqrt(da * da + db * db));
  return (std::fabs(a) == INFINITY || std::fabs(b) == INFINITY) ? INFINITY : r;
}

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
