// CUDA GroupNorm (kernels/norm.h); CPU twin kernels/cpu/norm_group.cpp.
// x [N, C, S]: group (n, g) is D = C / G * S contiguous values. Forward: a
// block per group (grid-stride over groups) sums the group, then the centred
// squares (two passes: exact for a large mean), then writes y, each pass a
// coalesced sweep; thread 0 saves mean and rstd. Backward: a block per group
// reduces the sums of g*w and g*w*(x - mean) and writes dx; a block per
// channel sums g*xhat and g over its N planes for dw and db. Block
// reductions (common.cuh), no atomics: the same bits every run. Sums are in
// the input's dtype (float for float32; the CPU twin uses double).
#include <algorithm>

#include "kernels/cuda/common.cuh"
#include "kernels/norm.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
__global__ void group_norm_forward_kernel(T* __restrict__ y, T* __restrict__ mean, T* __restrict__ rstd,
                                          const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                                          int64_t NG, int64_t C, int64_t S, int64_t G, double eps) {
  const int64_t Cg = C / G, D = Cg * S;
  for (int64_t grp = blockIdx.x; grp < NG; grp += gridDim.x) {
    const T* xg = x + grp * D;
    T s = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s += xg[j];
    const T m = block_reduce(s, SumOp(), T(0)) / static_cast<T>(D);
    T ss = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const T d = xg[j] - m;
      ss += d * d;
    }
    const T var = block_reduce(ss, SumOp(), T(0)) / static_cast<T>(D);
    const T rs = T(1) / sqrt(var + static_cast<T>(eps));
    if (threadIdx.x == 0) {
      mean[grp] = m;
      rstd[grp] = rs;
    }
    const int64_t c0 = (grp % G) * Cg;
    T* yg = y + grp * D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const int64_t c = c0 + j / S;
      T v = (xg[j] - m) * rs;
      if (w) v *= w[c];
      if (b) v += b[c];
      yg[j] = v;
    }
  }
}

template <typename T>
__global__ void group_norm_dx_kernel(T* __restrict__ dx, const T* __restrict__ dy, const T* __restrict__ x,
                                     const T* __restrict__ w, const T* __restrict__ mean, const T* __restrict__ rstd,
                                     int64_t NG, int64_t C, int64_t S, int64_t G) {
  const int64_t Cg = C / G, D = Cg * S;
  for (int64_t grp = blockIdx.x; grp < NG; grp += gridDim.x) {
    const T m = mean[grp], rs = rstd[grp];
    const int64_t c0 = (grp % G) * Cg, base = grp * D;
    T a = 0, bs = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const T gw = w ? dy[base + j] * w[c0 + j / S] : dy[base + j];
      a += gw;
      bs += gw * (x[base + j] - m);
    }
    const T c1 = block_reduce(a, SumOp(), T(0)) / static_cast<T>(D);
    const T c2 = block_reduce(bs, SumOp(), T(0)) * rs / static_cast<T>(D);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const T gw = w ? dy[base + j] * w[c0 + j / S] : dy[base + j];
      dx[base + j] = rs * (gw - c1 - (x[base + j] - m) * rs * c2);
    }
  }
}

template <typename T>
__global__ void group_norm_dw_db_kernel(T* __restrict__ dw, T* __restrict__ db, const T* __restrict__ dy,
                                        const T* __restrict__ x, const T* __restrict__ mean, const T* __restrict__ rstd,
                                        int64_t N, int64_t C, int64_t S, int64_t G) {
  const int64_t Cg = C / G;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    T sw = 0, sb = 0;
    for (int64_t e = threadIdx.x; e < N * S; e += blockDim.x) {
      const int64_t n = e / S, j = e - n * S, grp = n * G + c / Cg;
      const int64_t at = (n * C + c) * S + j;
      sw += dy[at] * (x[at] - mean[grp]) * rstd[grp];
      sb += dy[at];
    }
    sw = block_reduce(sw, SumOp(), T(0));
    sb = block_reduce(sb, SumOp(), T(0));
    if (threadIdx.x == 0) {
      if (dw) dw[c] = sw;
      if (db) db[c] = sb;
    }
  }
}

unsigned blocks_for(int64_t items) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(items, 65535)));
}

}  // namespace

void group_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t C, int64_t S, int64_t G, double eps, cudaStream_t stream) {
  if (N * C * S == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "group_norm_forward", [&] {
    using T = scalar_t;
    group_norm_forward_kernel<T><<<blocks_for(N * G), kThreads, 0, stream>>>(
        static_cast<T*>(y), static_cast<T*>(mean), static_cast<T*>(rstd), static_cast<const T*>(x),
        static_cast<const T*>(w), static_cast<const T*>(b), N * G, C, S, G, eps);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void group_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t C, int64_t S, int64_t G,
                         cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "group_norm_backward", [&] {
    using T = scalar_t;
    if (dx && N * C * S > 0) {
      group_norm_dx_kernel<T><<<blocks_for(N * G), kThreads, 0, stream>>>(
          static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const T*>(w),
          static_cast<const T*>(mean), static_cast<const T*>(rstd), N * G, C, S, G);
      LOOM_CUDA_KERNEL_CHECK();
    }
    if ((dw || db) && C > 0) {  // N * S == 0 gives zeros: the sums are empty
      group_norm_dw_db_kernel<T><<<blocks_for(C), kThreads, 0, stream>>>(
          static_cast<T*>(dw), static_cast<T*>(db), static_cast<const T*>(dy), static_cast<const T*>(x),
          static_cast<const T*>(mean), static_cast<const T*>(rstd), N, C, S, G);
      LOOM_CUDA_KERNEL_CHECK();
    }
  });
}

}  // namespace loom::kernels::cuda
