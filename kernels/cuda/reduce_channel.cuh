// Per-channel reductions and maps over x [N, C, S] that spread over the whole
// GPU: the device side shared by reduce_channel.cu (channel_sum) and norm.cu
// (batch norm statistics and backward). Channel c owns N rows of S contiguous
// elements, x[(n*C + c)*S + s].
//
// A reduction is an Op over elements of type Scalar: it loads an Item (a
// V-wide vector of each of its inputs at a unit offset, unit = V elements),
// folds a batch of Items of one channel into an accumulator Acc, and
// finishes a channel's Acc into its outputs. Acc has identity(), merge(a, b)
// and shfl_xor(a, lane_mask), and is trivially constructible (it lives in
// shared memory).
//
// Geometry (channel_plan, on the host, from N, C, S and the SM count):
//   rows    S > kPlaneMaxS: a block reduces one channel's chunk, a range of
//           the channel's N*S/V units in (n, s) order. Consecutive threads
//           take consecutive units (a warp crosses at most a row boundary or
//           two), and each thread advances its (n, s) position by the block
//           size incrementally: no division per element.
//   planes  S <= kPlaneMaxS: a row of S is shorter than a warp's loads, so
//           walking one channel would use a few bytes of every sector. A
//           block takes cpb = 256 / S whole channels instead and reads their
//           W = cpb*S/V adjacent units of every plane x[n] (C*S contiguous
//           elements) with consecutive threads, 256 / W planes at a time,
//           over a chunk of the N planes. A thread's column, hence its
//           channel, is fixed.
// Splits: each channel group's work is cut into `splits` chunks so that the
// grid fills two waves of resident blocks (kChannelBlocksPerSm per SM),
// with no chunk under kMinBlockElems elements. With splits > 1 the partial
// Acc of (channel c, chunk k) goes to workspace [C][splits] and
// channel_reduce_finish_kernel merges a channel's partials; with splits == 1
// (C alone fills the GPU, or there is little work) the partial kernel
// finishes the channels itself and needs no workspace.
// Vector path: V = 16 / sizeof(T) (float4 / double2 loads) when S % V == 0
// and every input is 16-byte aligned (then every row (n*C + c)*S starts
// aligned); otherwise V = 1: a view one element into its storage takes the
// scalar path.
// Order, hence determinism and error: a thread loads K items (32 bytes) at a
// time, sums each batch of K*V values as a tree and folds the batches in
// sequence; then the block's accumulators go to shared memory (in the finish
// kernel: the workspace), lane l of one warp per channel merges entries
// l, l+32, ... in order, and a 5-level shuffle tree merges the lanes. No
// atomics: the same inputs, pointers and GPU give the same bits every run.
// float32 accumulates in float: a thread's sequential run is
// chunk / (256*K*V) batches (3 to 8 on the benchmark shapes; N*S/(256*K*V)
// where a channel is a single chunk), the rest is trees.
#pragma once
#include <initializer_list>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace loom::kernels::cuda {

constexpr int kChannelThreads = 256;
constexpr int64_t kPlaneMaxS = 64;
constexpr int64_t kMinBlockElems = 4096;
// Resident blocks per SM that the partial kernel is built for (its launch
// bounds) and that the grid is sized by: full occupancy (2048 threads on
// sm_80 / sm_90) for float; half for double, whose arithmetic (Chan's
// division above all) would otherwise spill registers.
template <typename T>
constexpr int kChannelBlocksPerSm = sizeof(T) == 8 ? 4 : 8;

template <typename T, int V>
struct alignas(sizeof(T) * V) ChannelVec {
  T v[V];
};

// Host: what a launch over [N, C, S] looks like (independent of V, so the
// workspace size can be asked before the pointers are known).
struct ChannelPlan {
  bool planes;
  int64_t cpb;     // channels per block: 1 in rows mode
  int64_t groups;  // ceil(C / cpb)
  int64_t splits;  // chunks per group
};
ChannelPlan channel_plan(int64_t N, int64_t C, int64_t S, int blocks_per_sm);  // reduce_channel.cu

// What the kernels need of the plan, in units of V elements.
struct ChannelGeom {
  int64_t N, C, Sv, L;  // L = C * Sv: units per plane x[n]
  int64_t cpb, splits;
  unsigned groups;
  int64_t chunk;  // per block: rows of each plane (planes mode) or units of the channel (rows mode)
  // Launch constants kept here (kernel parameters, constant bank) rather
  // than in each thread's registers. Rows mode: a step of kChannelThreads
  // units moves s by row_ds and the offset by row_step, plus row_wrap when s
  // passes the end of a row. Planes mode: a block spans cpb * Sv units of a
  // plane and reads plane_rows planes at a time, plane_step units apart.
  int64_t row_ds, row_step, row_wrap;
  int plane_rows;
  int64_t plane_step;
};

// Calls f(std::integral_constant<int, V>()) with the vector width usable for
// rows of S elements of type T at these pointers (null ones ignored).
template <typename T, typename F>
void with_channel_vec(int64_t S, std::initializer_list<const void*> ptrs, F&& f) {
  constexpr int V = 16 / sizeof(T);
  bool ok = S % V == 0;
  for (const void* p : ptrs) ok = ok && (p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0);
  if (ok) f(std::integral_constant<int, V>());
  else f(std::integral_constant<int, 1>());
}

// ---- device side ----

template <typename T, int V>
__device__ __forceinline__ T vec_sum(const ChannelVec<T, V>& a) {
  if constexpr (V == 4) return (a.v[0] + a.v[1]) + (a.v[2] + a.v[3]);
  else if constexpr (V == 2) return a.v[0] + a.v[1];
  else return a.v[0];
}

// Sum of K values given by f(i), as a balanced tree.
template <int K, typename F>
__device__ __forceinline__ auto tree_sum(F f) {
  if constexpr (K == 1) return f(0);
  else return tree_sum<K / 2>(f) + tree_sum<K - K / 2>([&](int i) { return f(K / 2 + i); });
}

template <typename Acc>
__device__ __forceinline__ Acc warp_merge(Acc a) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) a = Acc::merge(a, Acc::shfl_xor(a, o));
  return a;
}

// Planes mode: unit offsets base, base + step, ...
struct StrideWalk {
  int64_t off, step;
  __device__ __forceinline__ void next(const ChannelGeom&) { off += step; }
};

// Rows mode: channel c's unit i = n * Sv + s lives at n * L + c * Sv + s;
// next() moves i on by kChannelThreads.
struct RowWalk {
  int64_t off, s;
  __device__ RowWalk(int64_t i, int64_t c, const ChannelGeom& g) {
    const int64_t n = i / g.Sv;
    s = i - n * g.Sv;
    off = n * g.L + c * g.Sv + s;
  }
  __device__ __forceinline__ void next(const ChannelGeom& g) {
    off += g.row_step;
    s += g.row_ds;
    if (s >= g.Sv) {
      s -= g.Sv;
      off += g.row_wrap;
    }
  }
};

// Items are loaded kUnroll at a time before they are folded, so that each
// thread keeps 32 bytes in flight (more would cost registers, hence
// occupancy).
template <typename Op, typename Walk>
__device__ __forceinline__ void fold_items(const Op& op, const ChannelGeom& g, typename Op::Acc& a,
                                           const typename Op::Chan& ch, Walk w, int count) {
  using Item = typename Op::Item;
  constexpr int kUnroll = sizeof(Item) >= 32 ? 1 : 32 / sizeof(Item);
  int q = 0;
  for (; q + kUnroll <= count; q += kUnroll) {
    Item it[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      op.load(it[u], w.off);
      w.next(g);
    }
    op.fold(a, ch, it);
  }
  for (; q < count; ++q) {
    Item it[1];
    op.load(it[0], w.off);
    w.next(g);
    op.fold(a, ch, it);
  }
}

template <typename Op, bool kPlanes>
__global__ void __launch_bounds__(kChannelThreads, kChannelBlocksPerSm<typename Op::Scalar>)
    channel_reduce_partial_kernel(Op op, ChannelGeom g, typename Op::Acc* __restrict__ part) {
  using Acc = typename Op::Acc;
  __shared__ Acc held[kChannelThreads];
  const int t = threadIdx.x;
  Acc a = Acc::identity();
  {
    const unsigned group = blockIdx.x % g.groups, k = blockIdx.x / g.groups;
    if constexpr (kPlanes) {
      // Thread (r, col) of the block's plane_rows x (cpb * Sv) tile; the
      // last group may have fewer channels, and idle columns.
      const int width = static_cast<int>(g.cpb * g.Sv), r = t / width, col = t - r * width;
      const int64_t c = static_cast<int64_t>(group) * g.cpb + col / static_cast<int>(g.Sv);
      const int64_t n0 = k * g.chunk + r, n1 = min(g.N, (k + 1) * g.chunk);
      if (r < g.plane_rows && c < g.C && n0 < n1)
        fold_items(op, g, a, op.channel(c), StrideWalk{n0 * g.L + group * g.cpb * g.Sv + col, g.plane_step},
                   static_cast<int>((n1 - n0 + g.plane_rows - 1) / g.plane_rows));
    } else {
      const int64_t i0 = k * g.chunk + t, i1 = min(g.N * g.Sv, (k + 1) * g.chunk);
      if (i0 < i1)
        fold_items(op, g, a, op.channel(group), RowWalk(i0, group, g),
                   static_cast<int>((i1 - i0 + kChannelThreads - 1) / kChannelThreads));
    }
  }
  // Every thread's accumulator to shared memory, where channel j's entries
  // are held[r * width + j * cols + i] for r < rows, i < cols (rows mode: one
  // channel, one row of kChannelThreads); one warp per channel merges them.
  held[t] = a;
  __syncthreads();
  const unsigned group = blockIdx.x % g.groups, k = blockIdx.x / g.groups;
  int64_t c0 = group;
  int nch = 1, cols = kChannelThreads, width = kChannelThreads, rows = 1;
  if constexpr (kPlanes) {
    c0 = static_cast<int64_t>(group) * g.cpb;
    nch = static_cast<int>(min(g.cpb, g.C - c0));
    cols = static_cast<int>(g.Sv);
    width = static_cast<int>(g.cpb) * cols;
    rows = g.plane_rows;
  }
  const int lane = t % kWarp;
  for (int j = t / kWarp; j < nch; j += kChannelThreads / kWarp) {
    Acc m = Acc::identity();
    for (int e = lane; e < rows * cols; e += kWarp) {
      const int r = e / cols;
      m = Acc::merge(m, held[r * width + j * cols + (e - r * cols)]);
    }
    m = warp_merge(m);
    if (lane == 0) {
      if (g.splits == 1) op.finish(c0 + j, m);
      else part[(c0 + j) * g.splits + k] = m;
    }
  }
}

// One warp per channel merges its `splits` partials.
template <typename Op>
__global__ void channel_reduce_finish_kernel(Op op, const typename Op::Acc* __restrict__ part, int64_t C,
                                             int64_t splits) {
  using Acc = typename Op::Acc;
  const int lane = threadIdx.x % kWarp;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (c >= C) return;  // whole warps leave together
  Acc m = Acc::identity();
  for (int64_t j = lane; j < splits; j += kWarp) m = Acc::merge(m, part[c * splits + j]);
  m = warp_merge(m);
  if (lane == 0) op.finish(c, m);
}

// f(u, c) for every unit u of x [N, C, S] (V = S / Sv elements each) and its
// channel c, in a grid-stride loop that tracks s and c incrementally.
template <typename F>
__global__ void channel_map_kernel(F f, int64_t units, int64_t Sv, int64_t C) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (u >= units) return;
  const int64_t p = u / Sv, dp = stride / Sv;
  const int64_t ds = stride - dp * Sv, dc = dp % C;
  int64_t s = u - p * Sv, c = p % C;
  for (; u < units; u += stride) {
    f(u, c);
    s += ds;
    c += dc;
    if (s >= Sv) {
      s -= Sv;
      ++c;
    }
    if (c >= C) c -= C;
  }
}

// ---- host side ----

// The workspace of Op (of any vector width) over [N, C, S].
template <typename Op>
size_t channel_reduce_workspace_bytes(int64_t N, int64_t C, int64_t S) {
  if (C <= 0) return 0;
  const ChannelPlan p = channel_plan(N, C, S, kChannelBlocksPerSm<typename Op::Scalar>);
  return p.splits > 1 ? static_cast<size_t>(C * p.splits) * sizeof(typename Op::Acc) : 0;
}

// workspace: channel_reduce_workspace_bytes<Op>(N, C, S) bytes.
template <typename Op>
void launch_channel_reduce(const char* name, const Op& op, int64_t N, int64_t C, int64_t S, void* workspace,
                           cudaStream_t stream) {
  using Acc = typename Op::Acc;
  if (C <= 0) return;
  const ChannelPlan p = channel_plan(N, C, S, kChannelBlocksPerSm<typename Op::Scalar>);
  const int64_t blocks = p.groups * p.splits;
  LOOM_CHECK(blocks <= INT32_MAX, name, ": too many channels (", C, ")");
  ChannelGeom g{};
  g.N = N, g.C = C, g.Sv = S / Op::kV, g.L = C * g.Sv;
  g.cpb = p.cpb, g.splits = p.splits, g.groups = static_cast<unsigned>(p.groups);
  const int64_t extent = p.planes ? N : N * g.Sv;
  g.chunk = (extent + p.splits - 1) / p.splits;
  // A thread's item count is an int.
  LOOM_CHECK(g.chunk / kChannelThreads < INT32_MAX, name, ": too many elements per channel (", N * S, ")");
  if (p.planes) {
    g.plane_rows = static_cast<int>(kChannelThreads / (p.cpb * g.Sv));
    g.plane_step = g.plane_rows * g.L;
  } else if (g.Sv > 0) {
    g.row_ds = kChannelThreads % g.Sv;
    g.row_step = kChannelThreads / g.Sv * g.L + g.row_ds;
    g.row_wrap = g.L - g.Sv;
  }
  LOOM_CHECK(p.splits == 1 || workspace != nullptr, name, ": needs ", channel_reduce_workspace_bytes<Op>(N, C, S),
             " bytes of workspace, got none");
  auto part = static_cast<Acc*>(workspace);
  const auto grid = static_cast<unsigned>(blocks);
  if (p.planes) channel_reduce_partial_kernel<Op, true><<<grid, kChannelThreads, 0, stream>>>(op, g, part);
  else channel_reduce_partial_kernel<Op, false><<<grid, kChannelThreads, 0, stream>>>(op, g, part);
  LOOM_CUDA_KERNEL_CHECK();
  if (p.splits == 1) return;
  constexpr int kWarpsPerBlock = kThreads / kWarp;
  channel_reduce_finish_kernel<Op>
      <<<static_cast<unsigned>((C + kWarpsPerBlock - 1) / kWarpsPerBlock), kThreads, 0, stream>>>(op, part, C,
                                                                                                  p.splits);
  LOOM_CUDA_KERNEL_CHECK();
}

template <typename F>
void launch_channel_map(const F& f, int64_t units, int64_t Sv, int64_t C, cudaStream_t stream) {
  if (units <= 0) return;
  channel_map_kernel<F><<<grid_for(units), kThreads, 0, stream>>>(f, units, Sv, C);
  LOOM_CUDA_KERNEL_CHECK();
}

}  // namespace loom::kernels::cuda
