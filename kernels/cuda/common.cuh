// Shared pieces of the CUDA kernels: launch checks and grid sizing, warp and
// block reductions (shuffles, then one shared-memory hop per warp), and
// OffsetCalc, which turns a linear index into per-operand element offsets for
// an ElementwiseLoop. OffsetCalc is copied by value into the kernel's
// parameters; it is instantiated with 32-bit index math when numel and every
// reachable offset fit (divisions are much cheaper) and 64-bit otherwise.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "core/dtype.h"
#include "core/error.h"
#include "kernels/loops.h"

// Every launch is followed by this: configuration errors surface at the call.
#define LOOM_CUDA_KERNEL_CHECK() LOOM_CUDA_CHECK(cudaGetLastError())

namespace loom::kernels::cuda {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

// Two's complement integer arithmetic without signed-overflow UB (plain
// arithmetic for bool and floating T).
template <typename T>
__host__ __device__ __forceinline__ T wadd(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else return a + b;
}
template <typename T>
__host__ __device__ __forceinline__ T wsub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else return a - b;
}
template <typename T>
__host__ __device__ __forceinline__ T wmul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else return a * b;
}

// Blocks for a grid-stride loop over n items; capped because each thread then
// loops, and a huge grid only costs scheduling.
inline unsigned grid_for(int64_t n, int threads = kThreads, int64_t cap = 65536) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > cap) b = cap;
  return static_cast<unsigned>(b);
}

// The two index widths used by every strided kernel. Use as
//   dispatch_index(fits_int32(loop), [&](auto tag) { using index_t = decltype(tag); ... });
template <typename F>
void dispatch_index(bool small, F&& f) {
  if (small) f(int32_t{});
  else f(int64_t{});
}

inline bool fits_int32(const ElementwiseLoop& loop) {
  const int64_t lim = INT32_MAX;
  if (loop.numel > lim) return false;
  for (int op = 0; op < loop.noperands; ++op) {
    int64_t span = 0;
    for (int d = 0; d < loop.ndim; ++d) span += std::llabs(loop.strides[op][d]) * (loop.sizes[d] - 1);
    if (span > lim) return false;
  }
  return true;
}

template <int N, typename index_t>
struct OffsetCalc {
  int ndim;
  index_t sizes[kMaxDims];
  index_t strides[N][kMaxDims];

  explicit OffsetCalc(const ElementwiseLoop& loop) {
    ndim = loop.ndim;
    for (int d = 0; d < kMaxDims; ++d) {
      sizes[d] = d < loop.ndim ? static_cast<index_t>(loop.sizes[d]) : 1;
      for (int op = 0; op < N; ++op)
        strides[op][d] = (d < loop.ndim && op < loop.noperands) ? static_cast<index_t>(loop.strides[op][d]) : 0;
    }
  }

  __device__ __forceinline__ void get(index_t linear, index_t (&off)[N]) const {
#pragma unroll
    for (int op = 0; op < N; ++op) off[op] = 0;
    if (ndim == 1) {  // the common coalesced case: no division at all
#pragma unroll
      for (int op = 0; op < N; ++op) off[op] = linear * strides[op][0];
      return;
    }
    for (int d = ndim - 1; d >= 0; --d) {
      index_t q = linear / sizes[d];
      index_t i = linear - q * sizes[d];
      linear = q;
#pragma unroll
      for (int op = 0; op < N; ++op) off[op] += i * strides[op][d];
    }
  }
};

// Runs f(off) for every linear index of the loop, off being the N operand
// offsets in elements. f is a functor holding its own typed pointers.
template <int N, typename index_t, typename F>
__global__ void offsets_kernel(OffsetCalc<N, index_t> calc, index_t numel, F f) {
  index_t stride = static_cast<index_t>(blockDim.x) * gridDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel; i += stride) {
    index_t off[N];
    calc.get(i, off);
    f(off);
  }
}

template <int N, typename F>
void launch_offsets(const ElementwiseLoop& loop, F f, cudaStream_t stream) {
  if (loop.numel <= 0) return;
  dispatch_index(fits_int32(loop), [&](auto tag) {
    using index_t = decltype(tag);
    OffsetCalc<N, index_t> calc(loop);
    offsets_kernel<N, index_t, F>
        <<<grid_for(loop.numel), kThreads, 0, stream>>>(calc, static_cast<index_t>(loop.numel), f);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

// ---- reductions ----

template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Every thread of the block gets the result. blockDim.x must be a multiple of
// 32 and at most 1024. Safe to call repeatedly (synchronizes on entry).
template <typename T, typename Op>
__device__ T block_reduce(T v, Op op, T identity) {
  __shared__ T shared[kWarp];
  int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  int nwarps = blockDim.x / kWarp;
  v = warp_reduce(v, op);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < nwarps ? shared[lane] : identity;
  return warp_reduce(v, op);
}

struct SumOp {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};

struct MaxOp {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};

}  // namespace loom::kernels::cuda
