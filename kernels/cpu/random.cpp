// Random fills from the counter-based Philox generator (core/philox.h), so
// that a (seed, offset) pair gives bit-identical numbers on CPU and CUDA.
// Element i of a call uses block (offset + i / 4) of the stream `seed`:
//   uniform: u = lane i % 4 as to_unit_float (float32, 24 bits) or
//            to_unit_double (float64, 32 bits); value = fma(u, hi - lo, lo) in
//            double, rounded to dt; a value rounded up to hi is replaced by
//            the largest value of dt below hi, so results lie in [lo, hi).
//   normal:  z = philox::normal_at(seed, offset, i) (Box-Muller on lanes
//            (0,1) / (2,3)); value = fma(z, std, mean) in double, rounded.
//   randint: low + r modulo (high - low), in uint64. r is lane i % 4; a
//            range wider than 2^32 takes r's high 32 bits from the same lane
//            of block (offset + i / 4) ^ 2^63, a counter in the upper half of
//            the space, which offsets (blocks counted from 0) never reach, so
//            the draw reserves no extra blocks. The modulo bias is below
//            range / 2^32 (range / 2^64 when wide), as in PyTorch.
// The explicit fma makes the double arithmetic the same on both devices
// (nvcc would otherwise contract a*b+c on its own). Each thread handles whole
// blocks, and normal computes each block once for its four elements.
#include <cmath>
#include <limits>
#include "core/error.h"
#include "core/philox.h"
#include "kernels/random.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

// fn(i, block) for the blocks covering elements [0, n), in parallel.
template <typename Fn>
void over_blocks(int64_t n, uint64_t seed, uint64_t offset, Fn&& fn) {
  const int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
  detail::parallel_range(nblocks, n * 4, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) fn(blk * 4, philox::block(seed, offset + static_cast<uint64_t>(blk)));
  });
}

template <typename T>
void uniform_impl(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  const T top = hi > lo ? std::nextafter(static_cast<T>(hi), static_cast<T>(lo)) : static_cast<T>(hi);
  over_blocks(n, seed, offset, [&](int64_t i0, const philox::U4& u) {
    for (int l = 0; l < 4 && i0 + l < n; ++l) {
      const uint32_t bits = philox::lane(u, l);
      const double unit =
          std::is_same_v<T, float> ? static_cast<double>(philox::to_unit_float(bits)) : philox::to_unit_double(bits);
      T v = static_cast<T>(std::fma(unit, hi - lo, lo));
      if (hi > lo && v >= static_cast<T>(hi)) v = top;
      out[i0 + l] = v;
    }
  });
}

// Same arithmetic as philox::normal_at, sharing the block and the radius
// between the cos and sin of each pair.
template <typename T>
void normal_impl(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  over_blocks(n, seed, offset, [&](int64_t i0, const philox::U4& u) {
    for (int pair = 0; pair < 2 && i0 + 2 * pair < n; ++pair) {
      const double u1 = (static_cast<double>(philox::lane(u, 2 * pair)) + 1.0) * (1.0 / 4294967296.0);
      const double u2 = philox::to_unit_double(philox::lane(u, 2 * pair + 1));
      const double r = std::sqrt(-2.0 * std::log(u1));
      const double theta = 6.283185307179586 * u2;
      // Both unconditionally, so that the compiler fuses them into one sincos.
      const double c = std::cos(theta), s = std::sin(theta);
      const int64_t i = i0 + 2 * pair;
      out[i] = static_cast<T>(std::fma(r * c, std, mean));
      if (i + 1 < n) out[i + 1] = static_cast<T>(std::fma(r * s, std, mean));
    }
  });
}

constexpr uint64_t kWideCounterBit = uint64_t(1) << 63;  // the high words of a wide randint

template <typename T>
void randint_impl(T* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, uint64_t range) {
  const bool wide = range > (uint64_t(1) << 32);
  over_blocks(n, seed, offset, [&](int64_t i0, const philox::U4& u) {
    philox::U4 high{};
    if (wide) high = philox::block(seed, (offset + static_cast<uint64_t>(i0 / 4)) ^ kWideCounterBit);
    for (int l = 0; l < 4 && i0 + l < n; ++l) {
      uint64_t r = philox::lane(u, l);
      if (wide) r |= static_cast<uint64_t>(philox::lane(high, l)) << 32;
      // In uint64: low + r % range wraps into [low, high) without signed overflow.
      const int64_t v = static_cast<int64_t>(static_cast<uint64_t>(low) + r % range);
      if constexpr (std::is_same_v<T, bool>) out[i0 + l] = v != 0;
      else out[i0 + l] = static_cast<T>(v);
    }
  });
}

}  // namespace

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  LOOM_CHECK_VALUE(lo <= hi, "uniform: expected low <= high, got low=", lo, " high=", hi);
  LOOM_DISPATCH_FLOAT(dt, "uniform", [&] { uniform_impl(static_cast<scalar_t*>(out), n, seed, offset, lo, hi); });
}

void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  LOOM_CHECK_VALUE(std >= 0, "normal: expected std >= 0, got ", std);
  LOOM_DISPATCH_FLOAT(dt, "normal", [&] { normal_impl(static_cast<scalar_t*>(out), n, seed, offset, mean, std); });
}

void randint(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high) {
  LOOM_CHECK_VALUE(low < high, "randint: expected low < high, got low=", low, " high=", high);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  LOOM_DISPATCH_ALL(dt, "randint", [&] { randint_impl(static_cast<scalar_t*>(out), n, seed, offset, low, range); });
}

}  // namespace loom::kernels::cpu
