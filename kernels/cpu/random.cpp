// Random fills from the counter-based Philox generator (core/philox.h), so
// that a (seed, offset) pair gives bit-identical numbers on CPU and CUDA.
// Element i of a call uses block (offset + i / 4) of the stream `seed`:
//   uniform: u = lane i % 4 as to_unit_float (float32, 24 bits) or
//            to_unit_double (float64, 32 bits); value = fma(u, hi - lo, lo) in
//            double, rounded to dt; a value rounded up to hi is replaced by
//            the largest value of dt below hi, so results lie in [lo, hi).
//   normal:  z = philox::normal_at(seed, offset, i) (Box-Muller on lanes
//            (0,1) / (2,3), core/philox.h's log and sin / cos, no libm);
//            value = fma(z, std, mean) in double, rounded.
//   randint: low + r modulo (high - low), in uint64. r is lane i % 4; a
//            range wider than 2^32 takes r's high 32 bits from the same lane
//            of block (offset + i / 4) ^ 2^63, a counter in the upper half of
//            the space, which offsets (blocks counted from 0) never reach, so
//            the draw reserves no extra blocks. The modulo bias is below
//            range / 2^32 (range / 2^64 when wide), as in PyTorch.
// The explicit fma makes the double arithmetic the same on both devices
// (nvcc would otherwise contract a*b+c on its own). Each thread handles whole
// blocks, and normal computes each block once for its four elements.
#include <algorithm>
#include <cmath>
#include <limits>
#include "core/error.h"
#include "core/philox.h"
#include "kernels/random.h"
#include "kernels/cpu/branchless.h"
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

// philox::normal_at's arithmetic (philox::box_muller), vectorized: a chunk of blocks' lanes is drawn
// first, then the Box-Muller pairs of the whole chunk run in one simd loop (the same bits: box_muller
// uses no libm and explicit fma only), then the pairs are stored four per block.
constexpr int64_t kNormalChunk = 64;  // blocks

template <typename T>
LOOM_CPU_CLONES void normal_range(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
                                  int64_t b0, int64_t b1) {
  alignas(64) uint32_t la[2 * kNormalChunk], lb[2 * kNormalChunk];
  alignas(64) double zc[2 * kNormalChunk], zs[2 * kNormalChunk];
  for (int64_t blk = b0; blk < b1; blk += kNormalChunk) {
    const int64_t m = std::min(kNormalChunk, b1 - blk);
    for (int64_t j = 0; j < m; ++j) {
      const philox::U4 u = philox::block(seed, offset + static_cast<uint64_t>(blk + j));
      la[2 * j] = u.x;
      lb[2 * j] = u.y;
      la[2 * j + 1] = u.z;
      lb[2 * j + 1] = u.w;
    }
    for (int64_t j = 2 * m; j < 2 * kNormalChunk; ++j) la[j] = lb[j] = 0;  // a full vector loop
#pragma omp simd
    for (int64_t j = 0; j < 2 * kNormalChunk; ++j) philox::box_muller(la[j], lb[j], &zc[j], &zs[j]);
    for (int64_t j = 0; j < 2 * m; ++j) {
      const int64_t i = 4 * blk + 2 * j;  // pair j of the chunk: elements i (cos) and i + 1 (sin)
      if (i < n) out[i] = static_cast<T>(std::fma(zc[j], std, mean));
      if (i + 1 < n) out[i + 1] = static_cast<T>(std::fma(zs[j], std, mean));
    }
  }
}

template <typename T>
void normal_impl(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  const int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
  detail::parallel_range(nblocks, n * 16,
                         [&](int64_t b, int64_t e) { normal_range(out, n, seed, offset, mean, std, b, e); });
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
