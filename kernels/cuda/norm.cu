// LayerNorm over the last D elements of N contiguous rows, forward and
// backward; the CPU twin is kernels/cpu/norm.cpp.
//   forward   mean = sum x / D, rstd = 1 / sqrt(sum (x - mean)^2 / D + eps),
//             y = (x - mean) * rstd * w + b.  Saved: mean, rstd [N].
//   backward  dx = rstd * (g*w - c1 - xhat * c2), c1 = mean(g*w),
//             c2 = mean(g*w*xhat); dw = sum_n g*xhat, db = sum_n g.
// Variants:
//   warp      D <= 1024: one warp per row, 4 rows per 128-thread block. The
//             row lives in registers (up to 32 values per lane), loaded with
//             16-byte vectors (float4 / double2) when every row pointer is
//             16-byte aligned and D is a multiple of the vector width, else
//             scalar; shuffles reduce, and the variance is the exact
//             two-pass sum of squared deviations from the registers.
//   block     D > 1024: one block per row, strided loops that re-read the
//             row (served from L1/L2), block reductions.
//   fused     float32, D <= 1024, dx and dw/db wanted: one kernel reads x
//             and g once, writes dx and per-block dw/db partials (per-lane
//             register accumulators across a grid-stride row loop, warps
//             summed through shared memory), then the column-sum stage below.
//   dw / db   otherwise two stages, no atomics (deterministic): [32-column x
//             rows-chunk] tiles of 32x8 threads write per-chunk partial sums
//             into a workspace [2, R, D], then one thread per column adds its
//             R partials in order.
//   batch_norm  x [N, C, S], saved mean and invstd [C]. The statistics and
//             the backward's channel sums are split per-channel reductions
//             (reduce_channel.cuh: chunks of a channel across the whole GPU,
//             float4 / double2 loads, partials in a caller's workspace merged
//             in a fixed order). Statistics: per-batch exact mean and squared
//             deviations merged with Chan's update (one read of x, no
//             E[x^2] - E[x]^2 cancellation). Backward: sum g and
//             sum g*(x - mean) give db, dw and dx's per-channel c1, c2 (kept
//             in the workspace), then an elementwise pass writes dx; y =
//             x*scale + shift is the same kind of pass. Both passes track the
//             channel incrementally (channel_map_kernel) and use 16-byte
//             vectors where S and the pointers allow.
// LayerNorm statistics accumulate in the input type (float for float32).
#include <algorithm>

#include "kernels/cuda/reduce_channel.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/norm.h"

namespace loom::kernels::cuda {

namespace {

constexpr int kRowsPerBlock = 4;  // warps per block in the warp variant
constexpr int kMaxWarpD = 1024;
constexpr int kColTile = 32, kRowThreads = 8;
constexpr int64_t kRowsPerChunk = 128;
constexpr int64_t kMaxChunks = 256;

template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// Values per lane: ITERS vectors of V elements, element (it * 32 + lane) * V + k.
template <typename T, int V>
struct WarpRow {
  static constexpr int kIters = kMaxWarpD / (kWarp * V);
  T v[kIters * V];

  __device__ __forceinline__ void load(const T* row, int64_t D, int lane) {
#pragma unroll
    for (int it = 0; it < kIters; ++it) {
      const int64_t e = (static_cast<int64_t>(it) * kWarp + lane) * V;
      if (e < D) {
        Vec<T, V> q = *reinterpret_cast<const Vec<T, V>*>(row + e);
#pragma unroll
        for (int k = 0; k < V; ++k) v[it * V + k] = q.v[k];
      } else {
#pragma unroll
        for (int k = 0; k < V; ++k) v[it * V + k] = T(0);
      }
    }
  }
};

template <typename T, int V>
__device__ __forceinline__ void load_vec(T (&out)[V], const T* p, int64_t e) {
  Vec<T, V> q = *reinterpret_cast<const Vec<T, V>*>(p + e);
#pragma unroll
  for (int k = 0; k < V; ++k) out[k] = q.v[k];
}

template <typename T, int V>
__device__ __forceinline__ void store_vec(T* p, int64_t e, const T (&in)[V]) {
  Vec<T, V> q;
#pragma unroll
  for (int k = 0; k < V; ++k) q.v[k] = in[k];
  *reinterpret_cast<Vec<T, V>*>(p + e) = q;
}

template <typename T, int V>
__global__ void layer_norm_forward_warp_kernel(T* __restrict__ y, T* __restrict__ mean, T* __restrict__ rstd,
                                               const T* __restrict__ x, const T* __restrict__ w,
                                               const T* __restrict__ b, int64_t N, int64_t D, T eps) {
  const int lane = threadIdx.x % kWarp;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (row >= N) return;  // whole warps exit together: no shuffle runs with missing lanes
  constexpr int kIters = WarpRow<T, V>::kIters;
  WarpRow<T, V> r;
  r.load(x + row * D, D, lane);
  T s = 0;
#pragma unroll
  for (int i = 0; i < kIters * V; ++i) s += r.v[i];
  const T m = warp_reduce(s, SumOp()) / static_cast<T>(D);
  T ss = 0;
#pragma unroll
  for (int it = 0; it < kIters; ++it) {
    const int64_t e = (static_cast<int64_t>(it) * kWarp + lane) * V;
    if (e < D) {
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const T d = r.v[it * V + k] - m;
        ss += d * d;
      }
    }
  }
  const T rs = rsqrt(warp_reduce(ss, SumOp()) / static_cast<T>(D) + eps);
  T* yr = y + row * D;
#pragma unroll
  for (int it = 0; it < kIters; ++it) {
    const int64_t e = (static_cast<int64_t>(it) * kWarp + lane) * V;
    if (e < D) {
      T o[V], wv[V], bv[V];
      if (w) load_vec<T, V>(wv, w, e);
      if (b) load_vec<T, V>(bv, b, e);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        T t = (r.v[it * V + k] - m) * rs;
        if (w) t *= wv[k];
        if (b) t += bv[k];
        o[k] = t;
      }
      store_vec<T, V>(yr, e, o);
    }
  }
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = rs;
  }
}

template <typename T>
__global__ void layer_norm_forward_block_kernel(T* __restrict__ y, T* __restrict__ mean, T* __restrict__ rstd,
                                                const T* __restrict__ x, const T* __restrict__ w,
                                                const T* __restrict__ b, int64_t D, T eps) {
  const int64_t row = blockIdx.x;
  const T* xr = x + row * D;
  T* yr = y + row * D;
  T s = 0;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s += xr[j];
  const T m = block_reduce(s, SumOp(), T(0)) / static_cast<T>(D);
  T ss = 0;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const T d = xr[j] - m;
    ss += d * d;
  }
  const T rs = rsqrt(block_reduce(ss, SumOp(), T(0)) / static_cast<T>(D) + eps);
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    T t = (xr[j] - m) * rs;
    if (w) t *= w[j];
    if (b) t += b[j];
    yr[j] = t;
  }
  if (threadIdx.x == 0) {
    mean[row] = m;
    rstd[row] = rs;
  }
}

// The backward of one row held by a warp (xv = x, gv = dy on entry): turns xv
// into xhat and gv into g*w in place and returns dx's two row constants,
// c1 = mean(g w) and c2 = mean(g w xhat). With Acc, also adds g*xhat and g to
// the lane's per-column dw / db accumulators.
template <typename T, int V, bool Acc>
__device__ __forceinline__ void layer_norm_row_backward(WarpRow<T, V>& xv, WarpRow<T, V>& gv, const T* w, T m, T rs,
                                                        int64_t D, int lane, T* aw, T* ab, T& c1, T& c2) {
  constexpr int kIters = WarpRow<T, V>::kIters;
  T s1 = 0, s2 = 0;
#pragma unroll
  for (int it = 0; it < kIters; ++it) {
    const int64_t e = (static_cast<int64_t>(it) * kWarp + lane) * V;
    if (e < D) {
      T wv[V];
      if (w) load_vec<T, V>(wv, w, e);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const int i = it * V + k;
        const T g = gv.v[i];
        const T xh = (xv.v[i] - m) * rs;
        if constexpr (Acc) {
          aw[i] += g * xh;
          ab[i] += g;
        }
        const T gw = w ? g * wv[k] : g;
        gv.v[i] = gw;
        xv.v[i] = xh;
        s1 += gw;
        s2 += gw * xh;
      }
    }
  }
  c1 = warp_reduce(s1, SumOp()) / static_cast<T>(D);
  c2 = warp_reduce(s2, SumOp()) / static_cast<T>(D);
}

// dx = rstd (g w - c1 - xhat c2) for a row after layer_norm_row_backward.
template <typename T, int V>
__device__ __forceinline__ void layer_norm_row_write_dx(T* dr, const WarpRow<T, V>& xh, const WarpRow<T, V>& gw, T rs,
                                                        T c1, T c2, int64_t D, int lane) {
  constexpr int kIters = WarpRow<T, V>::kIters;
#pragma unroll
  for (int it = 0; it < kIters; ++it) {
    const int64_t e = (static_cast<int64_t>(it) * kWarp + lane) * V;
    if (e < D) {
      T o[V];
#pragma unroll
      for (int k = 0; k < V; ++k) o[k] = rs * (gw.v[it * V + k] - c1 - xh.v[it * V + k] * c2);
      store_vec<T, V>(dr, e, o);
    }
  }
}

template <typename T, int V>
__global__ void layer_norm_backward_dx_warp_kernel(T* __restrict__ dx, const T* __restrict__ dy,
                                                   const T* __restrict__ x, const T* __restrict__ w,
                                                   const T* __restrict__ mean, const T* __restrict__ rstd, int64_t N,
                                                   int64_t D) {
  const int lane = threadIdx.x % kWarp;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (row >= N) return;
  WarpRow<T, V> xv, gv;
  xv.load(x + row * D, D, lane);
  gv.load(dy + row * D, D, lane);
  const T rs = rstd[row];
  T c1, c2;
  layer_norm_row_backward<T, V, false>(xv, gv, w, mean[row], rs, D, lane, nullptr, nullptr, c1, c2);
  layer_norm_row_write_dx<T, V>(dx + row * D, xv, gv, rs, c1, c2, D, lane);
}

template <typename T>
__global__ void layer_norm_backward_dx_block_kernel(T* __restrict__ dx, const T* __restrict__ dy,
                                                    const T* __restrict__ x, const T* __restrict__ w,
                                                    const T* __restrict__ mean, const T* __restrict__ rstd, int64_t D) {
  const int64_t row = blockIdx.x;
  const T* xr = x + row * D;
  const T* gr = dy + row * D;
  const T m = mean[row], rs = rstd[row];
  T s1 = 0, s2 = 0;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const T gw = w ? gr[j] * w[j] : gr[j];
    s1 += gw;
    s2 += gw * (xr[j] - m);
  }
  const T c1 = block_reduce(s1, SumOp(), T(0)) / static_cast<T>(D);
  const T c2 = block_reduce(s2, SumOp(), T(0)) * rs / static_cast<T>(D);
  T* dr = dx + row * D;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const T gw = w ? gr[j] * w[j] : gr[j];
    dr[j] = rs * (gw - c1 - (xr[j] - m) * rs * c2);
  }
}

// dx plus the first stage of dw/db in one pass over x and g (float32, D <=
// 1024): warps walk rows with a grid stride, each lane keeping per-column
// dw/db accumulators in registers for the columns it owns (the same columns
// in every row); at the end the block's warps are summed through shared
// memory into one partial row per block, part_[wb][blockIdx.x][D].
template <int V>
__global__ void __launch_bounds__(kRowsPerBlock* kWarp)
    layer_norm_backward_fused_kernel(float* __restrict__ dx, float* __restrict__ part_w, float* __restrict__ part_b,
                                     const float* __restrict__ dy, const float* __restrict__ x,
                                     const float* __restrict__ w, const float* __restrict__ mean,
                                     const float* __restrict__ rstd, int64_t N, int64_t D) {
  using T = float;
  __shared__ T red[kRowsPerBlock][kMaxWarpD];
  constexpr int kIters = WarpRow<T, V>::kIters;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  T aw[kIters * V], ab[kIters * V];
#pragma unroll
  for (int i = 0; i < kIters * V; ++i) aw[i] = ab[i] = T(0);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kRowsPerBlock;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp; row < N; row += stride) {
    WarpRow<T, V> xv, gv;
    xv.load(x + row * D, D, lane);
    gv.load(dy + row * D, D, lane);
    const T rs = rstd[row];
    T c1, c2;
    layer_norm_row_backward<T, V, true>(xv, gv, w, mean[row], rs, D, lane, aw, ab, c1, c2);
    layer_norm_row_write_dx<T, V>(dx + row * D, xv, gv, rs, c1, c2, D, lane);
  }
  // Block reduction of the accumulators, dw then db through the same buffer.
  for (int pass = 0; pass < 2; ++pass) {
    const T* acc = pass == 0 ? aw : ab;
#pragma unroll
    for (int it = 0; it < kIters; ++it) {
      const int64_t e = (static_cast<int64_t>(it) * kWarp + lane) * V;
      if (e < D) {
#pragma unroll
        for (int k = 0; k < V; ++k) red[warp][e + k] = acc[it * V + k];
      }
    }
    __syncthreads();
    T* out = (pass == 0 ? part_w : part_b) + static_cast<int64_t>(blockIdx.x) * D;
    for (int64_t col = threadIdx.x; col < D; col += blockDim.x) {
      T t = 0;
#pragma unroll
      for (int r = 0; r < kRowsPerBlock; ++r) t += red[r][col];
      out[col] = t;
    }
    __syncthreads();
  }
}

// Stage 1: block (32, 8) sums rows [chunk * rows_per_chunk, ...) of 32 columns.
template <typename T>
__global__ void layer_norm_backward_partial_kernel(T* __restrict__ part_w, T* __restrict__ part_b,
                                                   const T* __restrict__ dy, const T* __restrict__ x,
                                                   const T* __restrict__ mean, const T* __restrict__ rstd, int64_t N,
                                                   int64_t D, int64_t rows_per_chunk) {
  __shared__ T sw[kRowThreads][kColTile + 1];
  __shared__ T sb[kRowThreads][kColTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kColTile + tx;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_chunk;
  const int64_t r1 = min(N, r0 + rows_per_chunk);
  T aw = 0, ab = 0;
  if (col < D) {
    for (int64_t r = r0 + ty; r < r1; r += kRowThreads) {
      const T g = dy[r * D + col];
      aw += g * (x[r * D + col] - mean[r]) * rstd[r];
      ab += g;
    }
  }
  sw[ty][tx] = aw;
  sb[ty][tx] = ab;
  __syncthreads();
  if (ty == 0 && col < D) {
    T tw = 0, tb = 0;
#pragma unroll
    for (int k = 0; k < kRowThreads; ++k) {
      tw += sw[k][tx];
      tb += sb[k][tx];
    }
    part_w[static_cast<int64_t>(blockIdx.y) * D + col] = tw;
    part_b[static_cast<int64_t>(blockIdx.y) * D + col] = tb;
  }
}

// Stage 2: one thread per column adds the R partials in chunk order.
template <typename T>
__global__ void layer_norm_backward_final_kernel(T* __restrict__ dw, T* __restrict__ db, const T* __restrict__ part_w,
                                                 const T* __restrict__ part_b, int64_t R, int64_t D) {
  for (int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; col < D;
       col += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    T tw = 0, tb = 0;
    for (int64_t c = 0; c < R; ++c) {
      tw += part_w[c * D + col];
      tb += part_b[c * D + col];
    }
    if (dw) dw[col] = tw;
    if (db) db[col] = tb;
  }
}

// ---- batch norm: ops of the split per-channel reduction (reduce_channel.cuh) ----

// Count, mean and sum of squared deviations of a set of values; merge is
// Chan et al.'s pairwise update, which never forms E[x^2]: float32 keeps its
// precision when |mean| >> std (E[x^2] - E[x]^2 would cancel it away).
template <typename T>
struct WelfordAcc {
  int64_t n;
  T mean, m2;
  static __device__ __forceinline__ WelfordAcc identity() { return {0, T(0), T(0)}; }
  static __device__ __forceinline__ WelfordAcc merge(const WelfordAcc& a, const WelfordAcc& b) {
    if (b.n == 0) return a;
    if (a.n == 0) return b;
    const int64_t n = a.n + b.n;
    const T wb = static_cast<T>(b.n) / static_cast<T>(n);
    const T d = b.mean - a.mean;
    return {n, a.mean + d * wb, a.m2 + b.m2 + d * d * static_cast<T>(a.n) * wb};
  }
  static __device__ __forceinline__ WelfordAcc shfl_xor(const WelfordAcc& a, int m) {
    return {static_cast<int64_t>(__shfl_xor_sync(0xffffffffu, static_cast<long long>(a.n), m)),
            __shfl_xor_sync(0xffffffffu, a.mean, m), __shfl_xor_sync(0xffffffffu, a.m2, m)};
  }
};

// mean, biased var and invstd = 1 / sqrt(var + eps) per channel. A batch of
// K items (K*V values) is summarized in two passes over registers (its mean,
// then the squared deviations from it) and merged into the thread's
// accumulator: one division per batch, not per value.
template <typename T, int V>
struct BatchNormStatsOp {
  using Scalar = T;
  static constexpr int kV = V;
  using Acc = WelfordAcc<T>;
  using Item = ChannelVec<T, V>;
  struct Chan {};
  T* mean;
  T* var;
  T* invstd;
  const T* x;
  double eps;

  __device__ __forceinline__ Chan channel(int64_t) const { return {}; }
  __device__ __forceinline__ void load(Item& it, int64_t u) const { it = reinterpret_cast<const Item*>(x)[u]; }
  template <int K>
  __device__ __forceinline__ void fold(Acc& a, const Chan&, const Item (&it)[K]) const {
    constexpr int kN = K * V;
    const T m = tree_sum<K>([&](int i) { return vec_sum(it[i]); }) / static_cast<T>(kN);
    T m2 = 0;
#pragma unroll
    for (int i = 0; i < K; ++i)
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const T d = it[i].v[k] - m;
        m2 += d * d;
      }
    a = Acc::merge(a, {kN, m, m2});
  }
  __device__ __forceinline__ void finish(int64_t c, const Acc& a) const {
    const double v = a.n > 0 ? static_cast<double>(a.m2) / static_cast<double>(a.n) : 0.0;
    mean[c] = a.mean;
    var[c] = static_cast<T>(v);
    invstd[c] = static_cast<T>(1.0 / sqrt(v + eps));
  }
};

template <typename T>
struct Sum2Acc {
  T g, gx;
  static __device__ __forceinline__ Sum2Acc identity() { return {T(0), T(0)}; }
  static __device__ __forceinline__ Sum2Acc merge(const Sum2Acc& a, const Sum2Acc& b) {
    return {a.g + b.g, a.gx + b.gx};
  }
  static __device__ __forceinline__ Sum2Acc shfl_xor(const Sum2Acc& a, int m) {
    return {__shfl_xor_sync(0xffffffffu, a.g, m), __shfl_xor_sync(0xffffffffu, a.gx, m)};
  }
};

// sum g and sum g*(x - mean) per channel: db, dw = invstd * sum g*(x - mean),
// and (coef, training only) dx's two channel constants c1 = mean(g) and
// c2 = mean(g*(x - mean)) * invstd^2 at coef[c], coef[C + c].
template <typename T, int V>
struct BatchNormBackwardOp {
  using Scalar = T;
  static constexpr int kV = V;
  using Acc = Sum2Acc<T>;
  struct Item {
    ChannelVec<T, V> g, x;
  };
  struct Chan {
    T mean;
  };
  T* dw;
  T* db;
  T* coef;
  const T* dy;
  const T* x;
  const T* mean;
  const T* invstd;
  int64_t C;
  double count;  // N * S

  __device__ __forceinline__ Chan channel(int64_t c) const { return {mean[c]}; }
  __device__ __forceinline__ void load(Item& it, int64_t u) const {
    it.g = reinterpret_cast<const ChannelVec<T, V>*>(dy)[u];
    it.x = reinterpret_cast<const ChannelVec<T, V>*>(x)[u];
  }
  template <int K>
  __device__ __forceinline__ void fold(Acc& a, const Chan& ch, const Item (&it)[K]) const {
    a.g += tree_sum<K>([&](int i) { return vec_sum(it[i].g); });
    a.gx += tree_sum<K>([&](int i) {
      ChannelVec<T, V> p;
#pragma unroll
      for (int k = 0; k < V; ++k) p.v[k] = it[i].g.v[k] * (it[i].x.v[k] - ch.mean);
      return vec_sum(p);
    });
  }
  __device__ __forceinline__ void finish(int64_t c, const Acc& a) const {
    const T is = invstd[c];
    if (dw) dw[c] = a.gx * is;
    if (db) db[c] = a.g;
    if (coef) {
      coef[c] = count > 0 ? static_cast<T>(static_cast<double>(a.g) / count) : T(0);
      coef[C + c] = count > 0 ? static_cast<T>(static_cast<double>(a.gx) / count) * is * is : T(0);
    }
  }
};

// y = x * scale + shift with scale = invstd * w, shift = b - mean * scale.
template <typename T, int V>
struct BatchNormApplyMap {
  T* y;
  const T* x;
  const T* mean;
  const T* invstd;
  const T* w;
  const T* b;
  __device__ __forceinline__ void operator()(int64_t u, int64_t c) const {
    const T scale = invstd[c] * (w ? w[c] : T(1));
    const T shift = (b ? b[c] : T(0)) - mean[c] * scale;
    ChannelVec<T, V> v = reinterpret_cast<const ChannelVec<T, V>*>(x)[u];
#pragma unroll
    for (int k = 0; k < V; ++k) v.v[k] = v.v[k] * scale + shift;
    reinterpret_cast<ChannelVec<T, V>*>(y)[u] = v;
  }
};

// dx = w * invstd * (g - c1 - (x - mean) * c2); c1 = c2 = 0 without coef
// (evaluation mode: the statistics are constants).
template <typename T, int V>
struct BatchNormDxMap {
  T* dx;
  const T* dy;
  const T* x;
  const T* mean;
  const T* invstd;
  const T* w;
  const T* coef;
  int64_t C;
  __device__ __forceinline__ void operator()(int64_t u, int64_t c) const {
    const T m = mean[c], k = (w ? w[c] : T(1)) * invstd[c];
    const T c1 = coef ? coef[c] : T(0), c2 = coef ? coef[C + c] : T(0);
    const ChannelVec<T, V> g = reinterpret_cast<const ChannelVec<T, V>*>(dy)[u];
    const ChannelVec<T, V> xv = reinterpret_cast<const ChannelVec<T, V>*>(x)[u];
    ChannelVec<T, V> o;
#pragma unroll
    for (int i = 0; i < V; ++i) o.v[i] = k * (g.v[i] - c1 - (xv.v[i] - m) * c2);
    reinterpret_cast<ChannelVec<T, V>*>(dx)[u] = o;
  }
};

// The backward's workspace: dx's coefficients [2, C], then the reduction's
// partials at a 16-byte boundary.
template <typename T>
size_t bn_coef_bytes(int64_t C) {
  return (2 * static_cast<size_t>(C) * sizeof(T) + 15) / 16 * 16;
}

// Blocks of the fused dx + dw/db kernel: two per SM (grid-stride over rows),
// fewer for small N.
int64_t fused_blocks(int64_t N) {
  int dev = 0, sms = 0;
  LOOM_CUDA_CHECK(cudaGetDevice(&dev));
  LOOM_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  return std::max<int64_t>(1,
                           std::min<int64_t>(2 * static_cast<int64_t>(sms), (N + kRowsPerBlock - 1) / kRowsPerBlock));
}

int64_t num_chunks(int64_t N) {
  return std::max<int64_t>(1, std::min<int64_t>(kMaxChunks, (N + kRowsPerChunk - 1) / kRowsPerChunk));
}

bool aligned16(const void* p) { return p == nullptr || (reinterpret_cast<uintptr_t>(p) % 16) == 0; }

// The vector width usable for rows of D elements at these pointers.
template <typename T>
int vector_width(int64_t D, std::initializer_list<const void*> ptrs) {
  constexpr int V = 16 / sizeof(T);
  if (D % V != 0) return 1;
  for (const void* p : ptrs)
    if (!aligned16(p)) return 1;
  return V;
}

int block_threads(int64_t D) { return D >= 4096 ? 512 : 256; }

// dx and dw/db in one pass (float32 only: float64 would spill registers).
bool fused_backward(float* dx, float* dw, float* db, const float* gp, const float* xp, const float* wp, const float* mp,
                    const float* rp, int64_t N, int64_t D, void* workspace, cudaStream_t stream) {
  const int64_t G = fused_blocks(N);
  auto part_w = static_cast<float*>(workspace);
  auto part_b = part_w + G * D;
  constexpr int V = 4;
  if (vector_width<float>(D, {dx, gp, xp, wp}) == V)
    layer_norm_backward_fused_kernel<V>
        <<<static_cast<unsigned>(G), kRowsPerBlock * kWarp, 0, stream>>>(dx, part_w, part_b, gp, xp, wp, mp, rp, N, D);
  else
    layer_norm_backward_fused_kernel<1>
        <<<static_cast<unsigned>(G), kRowsPerBlock * kWarp, 0, stream>>>(dx, part_w, part_b, gp, xp, wp, mp, rp, N, D);
  LOOM_CUDA_KERNEL_CHECK();
  layer_norm_backward_final_kernel<float><<<grid_for(D), kThreads, 0, stream>>>(dw, db, part_w, part_b, G, D);
  LOOM_CUDA_KERNEL_CHECK();
  return true;
}
bool fused_backward(double*, double*, double*, const double*, const double*, const double*, const double*,
                    const double*, int64_t, int64_t, void*, cudaStream_t) {
  return false;
}

}  // namespace

void layer_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t D, double eps, cudaStream_t stream) {
  if (N <= 0 || D <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "layer_norm", [&] {
    using T = scalar_t;
    auto yp = static_cast<T*>(y);
    auto mp = static_cast<T*>(mean);
    auto rp = static_cast<T*>(rstd);
    auto xp = static_cast<const T*>(x);
    auto wp = static_cast<const T*>(w);
    auto bp = static_cast<const T*>(b);
    const T e = static_cast<T>(eps);
    if (D <= kMaxWarpD) {
      const int64_t blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
      LOOM_CHECK(blocks <= INT32_MAX, "layer_norm: too many rows (", N, ")");
      constexpr int V = 16 / sizeof(T);
      if (vector_width<T>(D, {y, x, w, b}) == V)
        layer_norm_forward_warp_kernel<T, V>
            <<<static_cast<unsigned>(blocks), kRowsPerBlock * kWarp, 0, stream>>>(yp, mp, rp, xp, wp, bp, N, D, e);
      else
        layer_norm_forward_warp_kernel<T, 1>
            <<<static_cast<unsigned>(blocks), kRowsPerBlock * kWarp, 0, stream>>>(yp, mp, rp, xp, wp, bp, N, D, e);
    } else {
      LOOM_CHECK(N <= INT32_MAX, "layer_norm: too many rows (", N, ")");
      layer_norm_forward_block_kernel<T>
          <<<static_cast<unsigned>(N), block_threads(D), 0, stream>>>(yp, mp, rp, xp, wp, bp, D, e);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

int64_t layer_norm_backward_workspace(int64_t N, int64_t D) {
  const int64_t fused = D <= kMaxWarpD && N > 0 ? fused_blocks(N) : 0;
  return 2 * std::max(num_chunks(N), fused) * D;
}

void layer_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t D, void* workspace,
                         cudaStream_t stream) {
  if (D <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "layer_norm_backward", [&] {
    using T = scalar_t;
    auto gp = static_cast<const T*>(dy);
    auto xp = static_cast<const T*>(x);
    auto wp = static_cast<const T*>(w);
    auto mp = static_cast<const T*>(mean);
    auto rp = static_cast<const T*>(rstd);
    if (dx && (dw || db) && N > 0 && D <= kMaxWarpD &&
        fused_backward(static_cast<T*>(dx), static_cast<T*>(dw), static_cast<T*>(db), gp, xp, wp, mp, rp, N, D,
                       workspace, stream))
      return;
    if (dx && N > 0) {
      auto dxp = static_cast<T*>(dx);
      if (D <= kMaxWarpD) {
        const int64_t blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
        LOOM_CHECK(blocks <= INT32_MAX, "layer_norm_backward: too many rows (", N, ")");
        constexpr int V = 16 / sizeof(T);
        if (vector_width<T>(D, {dx, dy, x, w}) == V)
          layer_norm_backward_dx_warp_kernel<T, V>
              <<<static_cast<unsigned>(blocks), kRowsPerBlock * kWarp, 0, stream>>>(dxp, gp, xp, wp, mp, rp, N, D);
        else
          layer_norm_backward_dx_warp_kernel<T, 1>
              <<<static_cast<unsigned>(blocks), kRowsPerBlock * kWarp, 0, stream>>>(dxp, gp, xp, wp, mp, rp, N, D);
      } else {
        LOOM_CHECK(N <= INT32_MAX, "layer_norm_backward: too many rows (", N, ")");
        layer_norm_backward_dx_block_kernel<T>
            <<<static_cast<unsigned>(N), block_threads(D), 0, stream>>>(dxp, gp, xp, wp, mp, rp, D);
      }
      LOOM_CUDA_KERNEL_CHECK();
    }
    if (!dw && !db) return;
    auto dwp = static_cast<T*>(dw);
    auto dbp = static_cast<T*>(db);
    const int64_t R = num_chunks(N);
    auto part_w = static_cast<T*>(workspace);
    auto part_b = part_w + R * D;
    if (N > 0) {
      const int64_t rows_per_chunk = (N + R - 1) / R;
      const int64_t col_tiles = (D + kColTile - 1) / kColTile;
      LOOM_CHECK(col_tiles <= INT32_MAX, "layer_norm_backward: D too large (", D, ")");
      dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(R));
      layer_norm_backward_partial_kernel<T>
          <<<grid, dim3(kColTile, kRowThreads), 0, stream>>>(part_w, part_b, gp, xp, mp, rp, N, D, rows_per_chunk);
      LOOM_CUDA_KERNEL_CHECK();
    } else {
      LOOM_CUDA_CHECK(cudaMemsetAsync(workspace, 0, sizeof(T) * 2 * R * D, stream));
    }
    layer_norm_backward_final_kernel<T><<<grid_for(D), kThreads, 0, stream>>>(dwp, dbp, part_w, part_b, R, D);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

size_t batch_norm_stats_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S) {
  size_t bytes = 0;
  LOOM_DISPATCH_FLOAT(dt, "batch_norm",
                      [&] { bytes = channel_reduce_workspace_bytes<BatchNormStatsOp<scalar_t, 1>>(N, C, S); });
  return bytes;
}

void batch_norm_stats(DType dt, void* mean, void* var, void* invstd, const void* x, int64_t N, int64_t C, int64_t S,
                      double eps, void* workspace, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "batch_norm", [&] {
    using T = scalar_t;
    with_channel_vec<T>(S, {x}, [&](auto v) {
      constexpr int V = decltype(v)::value;
      const BatchNormStatsOp<T, V> op{static_cast<T*>(mean), static_cast<T*>(var), static_cast<T*>(invstd),
                                      static_cast<const T*>(x), eps};
      launch_channel_reduce("batch_norm", op, N, C, S, workspace, stream);
    });
  });
}

void batch_norm_apply(DType dt, void* y, const void* x, const void* mean, const void* invstd, const void* w,
                      const void* b, int64_t N, int64_t C, int64_t S, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "batch_norm", [&] {
    using T = scalar_t;
    with_channel_vec<T>(S, {y, x}, [&](auto v) {
      constexpr int V = decltype(v)::value;
      const BatchNormApplyMap<T, V> f{static_cast<T*>(y),          static_cast<const T*>(x),
                                      static_cast<const T*>(mean), static_cast<const T*>(invstd),
                                      static_cast<const T*>(w),    static_cast<const T*>(b)};
      launch_channel_map(f, N * C * (S / V), S / V, C, stream);
    });
  });
}

size_t batch_norm_backward_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S) {
  size_t bytes = 0;
  LOOM_DISPATCH_FLOAT(dt, "batch_norm_backward", [&] {
    bytes = bn_coef_bytes<scalar_t>(C) + channel_reduce_workspace_bytes<BatchNormBackwardOp<scalar_t, 1>>(N, C, S);
  });
  return bytes;
}

void batch_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* mean,
                         const void* invstd, const void* w, int64_t N, int64_t C, int64_t S, bool training,
                         void* workspace, cudaStream_t stream) {
  if (C <= 0) return;
  LOOM_CHECK(workspace != nullptr, "batch_norm_backward: needs ", batch_norm_backward_workspace_bytes(dt, N, C, S),
             " bytes of workspace, got none");
  LOOM_DISPATCH_FLOAT(dt, "batch_norm_backward", [&] {
    using T = scalar_t;
    T* coef = dx && training ? static_cast<T*>(workspace) : nullptr;
    void* part = static_cast<char*>(workspace) + bn_coef_bytes<T>(C);
    if (dw || db || coef) {
      with_channel_vec<T>(S, {dy, x}, [&](auto v) {
        constexpr int V = decltype(v)::value;
        const BatchNormBackwardOp<T, V> op{static_cast<T*>(dw),
                                           static_cast<T*>(db),
                                           coef,
                                           static_cast<const T*>(dy),
                                           static_cast<const T*>(x),
                                           static_cast<const T*>(mean),
                                           static_cast<const T*>(invstd),
                                           C,
                                           static_cast<double>(N * S)};
        launch_channel_reduce("batch_norm_backward", op, N, C, S, part, stream);
      });
    }
    if (!dx) return;
    with_channel_vec<T>(S, {dx, dy, x}, [&](auto v) {
      constexpr int V = decltype(v)::value;
      const BatchNormDxMap<T, V> f{static_cast<T*>(dx),
                                   static_cast<const T*>(dy),
                                   static_cast<const T*>(x),
                                   static_cast<const T*>(mean),
                                   static_cast<const T*>(invstd),
                                   static_cast<const T*>(w),
                                   coef,
                                   C};
      launch_channel_map(f, N * C * (S / V), S / V, C, stream);
    });
  });
}

}  // namespace loom::kernels::cuda
