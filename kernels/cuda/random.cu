// Random fills from the counter-based Philox generator (core/philox.h), with
// exactly the CPU twins' element mapping so one (seed, offset) gives the same
// tensor on both devices:
//   uniform, randint  element i <- lane i % 4 of block (offset + i / 4)
//   normal            element i <- Box-Muller on lanes (0,1) or (2,3) of that
//                     block, cos for even i, sin for odd (philox::normal_at)
//   uniform   fma(u, hi - lo, lo) in double, u = to_unit_float (float32) or
//             to_unit_double (float64), rounded to dt; a value rounded up to
//             hi becomes the largest value below hi, so results lie in [lo, hi)
//   normal    fma(normal_at(i), std, mean) in double, rounded to dt
//   randint   low + r % (high - low), r = the lane (range at most 2^32) or,
//             wider, that lane | the same lane of block (offset + i / 4) ^ 2^63
//             shifted up 32 bits (a counter no offset reaches)
// The explicit fma is one rounding on both devices (no dependence on whether
// a compiler contracts a * b + c), so uniform and randint are bit-identical
// to the CPU; normal too, as philox::box_muller computes log, sin and cos
// itself (explicit fma, no libm).
//
// One thread per Philox block: it draws the four lanes once and writes up to
// four consecutive elements.
#include <type_traits>

#include "core/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/random.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
  double scale = hi - lo;
  const T top = hi > lo ? nextafter(static_cast<T>(hi), static_cast<T>(lo)) : static_cast<T>(hi);
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < nblocks;
       b += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    philox::U4 u = philox::block(seed, offset + static_cast<uint64_t>(b));
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      int64_t i = b * 4 + l;
      if (i >= n) break;
      uint32_t v = philox::lane(u, l);
      double unit =
          std::is_same_v<T, float> ? static_cast<double>(philox::to_unit_float(v)) : philox::to_unit_double(v);
      T x = static_cast<T>(fma(unit, scale, lo));
      if (hi > lo && x >= static_cast<T>(hi)) x = top;
      out[i] = x;
    }
  }
}

template <typename T>
__global__ void normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = static_cast<T>(fma(philox::normal_at(seed, offset, static_cast<uint64_t>(i)), std, mean));
}

constexpr uint64_t kWideCounterBit = uint64_t(1) << 63;  // the high words of a wide randint

template <typename T>
__global__ void randint_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, uint64_t range) {
  int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
  const bool wide = range > (uint64_t(1) << 32);
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < nblocks;
       b += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    philox::U4 u = philox::block(seed, offset + static_cast<uint64_t>(b));
    philox::U4 high{};
    if (wide) high = philox::block(seed, (offset + static_cast<uint64_t>(b)) ^ kWideCounterBit);
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      int64_t i = b * 4 + l;
      if (i >= n) break;
      uint64_t r = philox::lane(u, l);
      if (wide) r |= static_cast<uint64_t>(philox::lane(high, l)) << 32;
      int64_t v = static_cast<int64_t>(static_cast<uint64_t>(low) + r % range);
      if constexpr (std::is_same_v<T, bool>) out[i] = v != 0;
      else out[i] = static_cast<T>(v);
    }
  }
}

}  // namespace

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi,
             cudaStream_t stream) {
  LOOM_CHECK_VALUE(lo <= hi, "uniform: expected low <= high, got low=", lo, " high=", hi);
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "uniform", [&] {
    uniform_kernel<<<grid_for((n + 3) / 4), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), n, seed, offset, lo,
                                                                   hi);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
            cudaStream_t stream) {
  LOOM_CHECK_VALUE(std >= 0, "normal: expected std >= 0, got ", std);
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "normal", [&] {
    normal_kernel<<<grid_for(n), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), n, seed, offset, mean, std);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void randint(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
             cudaStream_t stream) {
  LOOM_CHECK_VALUE(low < high, "randint: expected low < high, got low=", low, " high=", high);
  uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  if (n <= 0) return;
  LOOM_DISPATCH_ALL(dt, "randint", [&] {
    randint_kernel<<<grid_for((n + 3) / 4), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), n, seed, offset, low,
                                                                   range);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
