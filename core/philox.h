// Philox-4x32-10 counter-based generator (Salmon et al., SC'11), shared by the
// CPU and CUDA random kernels so that one seed gives the same numbers on both.
// A draw is a pure function of (seed, counter): kernels need no state, any
// thread computes any element, and a CUDA graph can replay a step by offset.
#pragma once
#include <cmath>
#include <cstdint>

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

// Element i of a normal draw: Box-Muller on lanes (0,1) or (2,3) of block i/4,
// cos for even i, sin for odd. Computed in double so CPU and CUDA agree.
LOOM_HD double normal_at(uint64_t seed, uint64_t offset, uint64_t i) {
  U4 u = block(seed, offset + i / 4);
  int pair = static_cast<int>((i % 4) / 2);
  double u1 = (static_cast<double>(lane(u, 2 * pair)) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  double u2 = to_unit_double(lane(u, 2 * pair + 1));
  double r = sqrt(-2.0 * log(u1));
  double theta = 6.283185307179586 * u2;
  return (i % 2 == 0) ? r * cos(theta) : r * sin(theta);
}

// Blocks consumed by a call that draws n elements.
LOOM_HD uint64_t blocks_for(uint64_t n) { return (n + 3) / 4; }

}  // namespace loom::philox
