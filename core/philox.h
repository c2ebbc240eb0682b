// Philox-4x32-10 counter-based generator (Salmon et al., SC'11), shared by the
// CPU and CUDA random kernels so that one seed gives the same numbers on both.
// A draw is a pure function of (seed, counter): kernels need no state, any
// thread computes any element, and a CUDA graph can replay a step by offset.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define LOOM_HD __host__ __device__ __forceinline__
#else
#define LOOM_HD inline
#endif

namespace loom::philox {

struct U4 {
  uint32_t x, y, z, w;
};

LOOM_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Block `counter` of the stream keyed by `seed`: four 32-bit words.
LOOM_HD U4 block(uint64_t seed, uint64_t counter) {
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  U4 c{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u};
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c.x, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c.z, &hi1);
    c = U4{hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

LOOM_HD uint32_t lane(const U4& u, int i) { return i == 0 ? u.x : i == 1 ? u.y : i == 2 ? u.z : u.w; }

// Uniform in [0, 1): 24 bits for float, 32 for double (exactly representable).
LOOM_HD float to_unit_float(uint32_t v) { return static_cast<float>(v >> 8) * (1.0f / 16777216.0f); }
LOOM_HD double to_unit_double(uint32_t v) { return static_cast<double>(v) * (1.0 / 4294967296.0); }

// ---- Box-Muller in double with the same bits on every device ----
// log and sin / cos written with +, -, *, / and explicit fma only (no libm, whose last bits differ between
// the C library and CUDA, and no a * b + c that a compiler may or may not contract), so the CPU kernels (any
// target clone) and the CUDA kernels compute identical normals; the CPU loops vectorize.

#if defined(__CUDACC__)
LOOM_HD double fma_d(double a, double b, double c) { return fma(a, b, c); }
LOOM_HD double sqrt_d(double x) { return sqrt(x); }
LOOM_HD uint64_t bits_d(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}
LOOM_HD double from_bits_d(uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(b));
#else
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}
#define LOOM_PHILOX_MATH LOOM_HD
#else
#if defined(__GNUC__)
#define LOOM_PHILOX_MATH inline __attribute__((always_inline))  // inlined into the CPU's vector loops
#else
#define LOOM_PHILOX_MATH inline
#endif
LOOM_PHILOX_MATH double fma_d(double a, double b, double c) { return std::fma(a, b, c); }
LOOM_PHILOX_MATH double sqrt_d(double x) { return std::sqrt(x); }
LOOM_PHILOX_MATH uint64_t bits_d(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
LOOM_PHILOX_MATH double from_bits_d(uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
#endif

// log(u) for u in (0, 1] (normal, as the Box-Muller radius' u = (k + 1) / 2^32 is; any positive normal
// finite u gives its log too: kernels/cpu/branchless.h's lgamma_fast uses it so): u = 2^e m with m in
// [sqrt(1/2), sqrt(2)), s = (m - 1) / (m + 1), log m = 2 atanh(s) = 2s + 2s^3/3 + ... + 2s^23/23 (|s| <=
// 0.1716: the next term is below 2^-60 of the sum), e ln 2 in two parts (the high part's product exact).
// Within about 2 ulp of log.
LOOM_PHILOX_MATH double log_unit(double u) {
  // Integers to double through the exponent field of 2^52 (exact; vectorizes without AVX-512's conversions).
  const uint64_t b = bits_d(u);
  const double e0 = from_bits_d(0x4330000000000000ull | (b >> 52)) - 4503599627371519.0;  // - (2^52 + 1023)
  double m = from_bits_d((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);            // [1, 2)
  const bool big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  const double e = big ? e0 + 1.0 : e0;
  const double s = (m - 1.0) / (m + 1.0), z = s * s;
  double p = 2.0 / 23;
  p = fma_d(p, z, 2.0 / 21);
  p = fma_d(p, z, 2.0 / 19);
  p = fma_d(p, z, 2.0 / 17);
  p = fma_d(p, z, 2.0 / 15);
  p = fma_d(p, z, 2.0 / 13);
  p = fma_d(p, z, 2.0 / 11);
  p = fma_d(p, z, 2.0 / 9);
  p = fma_d(p, z, 2.0 / 7);
  p = fma_d(p, z, 2.0 / 5);
  p = fma_d(p, z, 2.0 / 3);
  const double log_m = fma_d(s * z, p, 2.0 * s);                                             // 2s + s^3 p
  return fma_d(e, 6.93147180369123816490e-01, fma_d(e, 1.90821492927058770002e-10, log_m));  // ln 2 = hi + lo
}

// sin and cos of 2 pi t for t in [0, 1) (a multiple of 2^-32): t = q / 4 + r with q = 4t rounded and |r| <= 1/8
// (exact), a = 2 pi r in [-pi/4, pi/4], Taylor polynomials of sin (to a^17) and cos (to a^18), whose first
// omitted terms are below 2^-63, then rotated by the quadrant q. Within about 1 ulp.
LOOM_PHILOX_MATH void sincos_turns(double t, double* sin_out, double* cos_out) {
  // q = 4t rounded to an integer by adding 1.5 * 2^52 (ties to even: |r| stays <= 1/8); q mod 4 in its low bits.
  const double v = fma_d(t, 4.0, 6755399441055744.0);
  const uint64_t q = bits_d(v) & 3;
  const double a = fma_d(v - 6755399441055744.0, -0.25, t) * 6.283185307179586, z = a * a;
  double ps = 2.8114572543455206e-15;  // 1/17!
  ps = fma_d(ps, z, -7.6471637318198164e-13);
  ps = fma_d(ps, z, 1.6059043836821613e-10);
  ps = fma_d(ps, z, -2.5052108385441720e-08);
  ps = fma_d(ps, z, 2.7557319223985893e-06);
  ps = fma_d(ps, z, -1.9841269841269841e-04);
  ps = fma_d(ps, z, 8.3333333333333333e-03);
  ps = fma_d(ps, z, -1.6666666666666667e-01);
  const double sn = fma_d(a * z, ps, a);
  double pc = -1.5619206968586225e-16;  // -1/18!
  pc = fma_d(pc, z, 4.7794773323873853e-14);
  pc = fma_d(pc, z, -1.1470745597729725e-11);
  pc = fma_d(pc, z, 2.0876756987868099e-09);
  pc = fma_d(pc, z, -2.7557319223985888e-07);
  pc = fma_d(pc, z, 2.4801587301587302e-05);
  pc = fma_d(pc, z, -1.3888888888888889e-03);
  pc = fma_d(pc, z, 4.1666666666666667e-02);
  pc = fma_d(pc, z, -0.5);
  const double cs = fma_d(z, pc, 1.0);
  const double s1 = (q & 1) ? cs : sn, c1 = (q & 1) ? sn : cs;
  *sin_out = (q & 2) ? -s1 : s1;
  *cos_out = (q == 1 || q == 2) ? -c1 : c1;
}

// The Box-Muller pair of two lanes: sqrt(-2 log u1) (cos, sin)(2 pi u2) with u1 = (a + 1) / 2^32 in (0, 1],
// u2 = b / 2^32 in [0, 1).
LOOM_PHILOX_MATH void box_muller(uint32_t a, uint32_t b, double* z_cos, double* z_sin) {
  const double u1 = (from_bits_d(0x4330000000000000ull | a) - 4503599627370495.0) * (1.0 / 4294967296.0);  // a + 1
  const double r = sqrt_d(-2.0 * log_unit(u1));
  double s, c;
  sincos_turns((from_bits_d(0x4330000000000000ull | b) - 4503599627370496.0) * (1.0 / 4294967296.0), &s, &c);
  *z_cos = r * c;
  *z_sin = r * s;
}

// Element i of a normal draw: Box-Muller on lanes (0,1) or (2,3) of block i/4,
// cos for even i, sin for odd (the same bits on the CPU and on CUDA).
LOOM_HD double normal_at(uint64_t seed, uint64_t offset, uint64_t i) {
  U4 u = block(seed, offset + i / 4);
  int pair = static_cast<int>((i % 4) / 2);
  double zc, zs;
  box_muller(lane(u, 2 * pair), lane(u, 2 * pair + 1), &zc, &zs);
  return (i % 2 == 0) ? zc : zs;
}

// Blocks consumed by a call that draws n elements.
LOOM_HD uint64_t blocks_for(uint64_t n) { return (n + 3) / 4; }

}  // namespace loom::philox
