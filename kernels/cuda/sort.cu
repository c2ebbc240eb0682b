// CUDA scans and sorts (kernels/sort.h); CPU twin kernels/cpu/sort.cpp.
//
// Scans, lines of inner == 1 ([outer, n] contiguous): a group of threads per
// line walks it in chunks of group * kScanItems elements. Each thread scans
// its kScanItems consecutive elements serially, a warp scan (shuffles) of the
// thread totals and, for a 16-warp group, one shared-memory hop over the warp
// totals give every thread its prefix; the chunk's total is carried into the
// next chunk. Short lines (n <= 256) take one warp each, 16 lines per block;
// longer ones a whole 512-thread block. Lines of inner > 1 take a thread per
// (o, i) column walking k serially: neighbouring threads read neighbouring
// columns (coalesced). cumprod_backward uses that column walk for every inner.
// float32 scans accumulate in float (the CPU twin in double).
//
// Sorts: a bitonic network over (value, index) pairs, each line padded to a
// power of two P with pads ordered after every element (their index is >= n),
// the index breaking ties, which makes the result the stable sort. Lines with
// P <= kSortTile sort entirely in shared memory, kSortTile / P lines per block.
// Longer lines go through a global workspace: every tile is sorted in shared
// memory, then for each merge size k > kSortTile the steps with partner
// distance j >= kSortTile run as one global kernel each and the remaining
// j < kSortTile ones in shared memory (the tile then holds both partners).
// A line of 2^20 elements takes 45 global steps and 10 tile passes.
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/sort.h"

namespace loom::kernels::cuda {

namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kScanThreads = 512;
constexpr int kScanItems = 4;

template <typename T>
__device__ __forceinline__ bool nan_of(T v) {
  if constexpr (std::is_floating_point_v<T>) return isnan(v);
  else return false;
}

// ---- scans ----

template <typename T, bool kProd>
struct SumProd {
  using S = T;
  static __device__ __forceinline__ S load(const T* x, int64_t at, int64_t) { return x[at]; }
  static __device__ __forceinline__ S combine(S a, S b) { return kProd ? a * b : a + b; }
  static __device__ __forceinline__ void store(T* y, int64_t*, int64_t at, S s) { y[at] = s; }
  static __device__ __forceinline__ S shfl_up(S s, unsigned d) { return __shfl_up_sync(kFull, s, d); }
  static __device__ __forceinline__ S shfl(S s, int src) { return __shfl_sync(kFull, s, src); }
};

// log(exp(a) + exp(b)) as max + log1p(exp(-|a - b|)): -inf is the identity,
// +inf absorbs, NaN propagates (floating T only).
template <typename T>
struct LogAddExp {
  using S = T;
  static __device__ __forceinline__ S load(const T* x, int64_t at, int64_t) { return x[at]; }
  static __device__ __forceinline__ S combine(S a, S b) {
    if (a != a || b != b) return a + b;
    const S m = a > b ? a : b, d = a > b ? b - a : a - b;
    if (isinf(m)) return m;
    return m + log1p(exp(d));
  }
  static __device__ __forceinline__ void store(T* y, int64_t*, int64_t at, S s) { y[at] = s; }
  static __device__ __forceinline__ S shfl_up(S s, unsigned d) { return __shfl_up_sync(kFull, s, d); }
  static __device__ __forceinline__ S shfl(S s, int src) { return __shfl_sync(kFull, s, src); }
};

// The running extreme and its index: the later one wins ties, a NaN wins and stays.
template <typename T, bool kMax>
struct Extreme {
  struct S {
    T v;
    int64_t i;
  };
  static __device__ __forceinline__ S load(const T* x, int64_t at, int64_t k) { return {x[at], k}; }
  static __device__ __forceinline__ S combine(S a, S b) {
    return (nan_of(b.v) || (!nan_of(a.v) && (kMax ? b.v >= a.v : b.v <= a.v))) ? b : a;
  }
  static __device__ __forceinline__ void store(T* y, int64_t* yi, int64_t at, S s) {
    y[at] = s.v;
    yi[at] = s.i;
  }
  static __device__ __forceinline__ S shfl_up(S s, unsigned d) {
    return {__shfl_up_sync(kFull, s.v, d), __shfl_up_sync(kFull, s.i, d)};
  }
  static __device__ __forceinline__ S shfl(S s, int src) {
    return {__shfl_sync(kFull, s.v, src), __shfl_sync(kFull, s.i, src)};
  }
};

// Lines of inner == 1, kWarpsPerLine warps each (1 or 16).
template <typename T, typename Op, int kWarpsPerLine>
__global__ void __launch_bounds__(kScanThreads)
    scan_lines_kernel(T* __restrict__ out, int64_t* __restrict__ indices, const T* __restrict__ in, int64_t lines,
                      int64_t n, bool reverse) {
  using S = typename Op::S;
  constexpr int kLineThreads = 32 * kWarpsPerLine;
  constexpr int kLinesPerBlock = kScanThreads / kLineThreads;
  constexpr int64_t kChunk = int64_t(kLineThreads) * kScanItems;
  const int lane = threadIdx.x & 31;
  const int local = threadIdx.x % kLineThreads, wl = local >> 5;
  for (int64_t line = int64_t(blockIdx.x) * kLinesPerBlock + threadIdx.x / kLineThreads; line < lines;
       line += int64_t(gridDim.x) * kLinesPerBlock) {
    const T* x = in + line * n;
    T* y = out + line * n;
    int64_t* yi = indices ? indices + line * n : nullptr;
    S carry{};
    bool has_carry = false;
    for (int64_t c0 = 0; c0 < n; c0 += kChunk) {
      const int64_t first = c0 + int64_t(local) * kScanItems;
      S items[kScanItems]{};
      int cnt = 0;
#pragma unroll
      for (int j = 0; j < kScanItems; ++j) {
        const int64_t k = first + j;
        if (k < n) {
          const S v = Op::load(x, reverse ? n - 1 - k : k, k);
          items[j] = j == 0 ? v : Op::combine(items[j - 1], v);
          cnt = j + 1;
        }
      }
      // Threads past the end of the line hold no items: their totals are
      // never combined into a thread that stores.
      S incl{};
#pragma unroll
      for (int j = 0; j < kScanItems; ++j)
        if (j < cnt) incl = items[j];
#pragma unroll
      for (unsigned d = 1; d < 32; d <<= 1) {
        const S o = Op::shfl_up(incl, d);
        if (lane >= static_cast<int>(d)) incl = Op::combine(o, incl);
      }
      S excl = Op::shfl_up(incl, 1);
      bool has_excl = lane > 0;
      S chunk_total;
      if constexpr (kWarpsPerLine > 1) {
        __shared__ S warp_total[kWarpsPerLine];
        if (lane == 31) warp_total[wl] = incl;
        __syncthreads();
        if (wl > 0) {
          S before = warp_total[0];
          for (int w = 1; w < wl; ++w) before = Op::combine(before, warp_total[w]);
          excl = has_excl ? Op::combine(before, excl) : before;
          has_excl = true;
        }
        chunk_total = warp_total[0];
        for (int w = 1; w < kWarpsPerLine; ++w) chunk_total = Op::combine(chunk_total, warp_total[w]);
        __syncthreads();
      } else {
        chunk_total = Op::shfl(incl, 31);
      }
      if (has_carry) {
        excl = has_excl ? Op::combine(carry, excl) : carry;
        has_excl = true;
      }
#pragma unroll
      for (int j = 0; j < kScanItems; ++j) {
        const int64_t k = first + j;
        if (j < cnt) Op::store(y, yi, reverse ? n - 1 - k : k, has_excl ? Op::combine(excl, items[j]) : items[j]);
      }
      carry = has_carry ? Op::combine(carry, chunk_total) : chunk_total;
      has_carry = true;
    }
  }
}

// Lines of any inner: a thread per (o, i) column.
template <typename T, typename Op>
__global__ void scan_columns_kernel(T* __restrict__ out, int64_t* __restrict__ indices, const T* __restrict__ in,
                                    int64_t outer, int64_t n, int64_t inner, bool reverse) {
  using S = typename Op::S;
  const int64_t columns = outer * inner;
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < columns; c += int64_t(blockDim.x) * gridDim.x) {
    const int64_t o = c / inner, i = c - o * inner;
    const int64_t base = o * n * inner + i;
    S acc{};
    for (int64_t step = 0; step < n; ++step) {
      const int64_t k = reverse ? n - 1 - step : step;
      const S v = Op::load(in, base + k * inner, k);
      acc = step == 0 ? v : Op::combine(acc, v);
      Op::store(out, indices, base + k * inner, acc);
    }
  }
}

template <typename T, typename Op>
void launch_scan(T* out, int64_t* indices, const T* in, Lines s, bool reverse, cudaStream_t stream) {
  if (s.inner > 1) {
    scan_columns_kernel<T, Op>
        <<<grid_for(s.outer * s.inner), kThreads, 0, stream>>>(out, indices, in, s.outer, s.n, s.inner, reverse);
  } else if (s.n <= 256) {
    const int64_t blocks = (s.outer + 15) / 16;
    scan_lines_kernel<T, Op, 1><<<static_cast<unsigned>(std::min<int64_t>(blocks, 65535)), kScanThreads, 0, stream>>>(
        out, indices, in, s.outer, s.n, reverse);
  } else {
    scan_lines_kernel<T, Op, 16><<<static_cast<unsigned>(std::min<int64_t>(s.outer, 65535)), kScanThreads, 0, stream>>>(
        out, indices, in, s.outer, s.n, reverse);
  }
  LOOM_CUDA_KERNEL_CHECK();
}

template <typename T>
__global__ void cumprod_backward_kernel(T* __restrict__ gx, const T* __restrict__ g, const T* __restrict__ x,
                                        int64_t outer, int64_t n, int64_t inner) {
  const int64_t columns = outer * inner;
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < columns; c += int64_t(blockDim.x) * gridDim.x) {
    const int64_t o = c / inner, i = c - o * inner;
    const int64_t base = o * n * inner + i;
    T p = 1;  // the exclusive product, written first
    for (int64_t k = 0; k < n; ++k) {
      gx[base + k * inner] = p;
      p *= x[base + k * inner];
    }
    T acc = 0;  // S[k] = g[k] + x[k + 1] * S[k + 1]
    for (int64_t k = n - 1; k >= 0; --k) {
      const int64_t at = base + k * inner;
      acc = g[at] + (k + 1 < n ? x[at + inner] * acc : T(0));
      gx[at] *= acc;
    }
  }
}

// ---- sorts ----

// (a, ia) strictly before (b, ib); pads (index >= n) after everything.
template <typename T, bool kDesc>
__device__ __forceinline__ bool before(T a, int64_t ia, T b, int64_t ib, int64_t n) {
  if (ia >= n || ib >= n) return ia < ib;
  const bool an = nan_of(a), bn = nan_of(b);
  if (an || bn) return (an && bn) ? ia < ib : (kDesc ? an : bn);
  if (a != b) return kDesc ? a > b : a < b;
  return ia < ib;
}

// The compare-exchange of positions lo < hi of one padded line (local index
// lo_local): ascending where bit k of the local index is clear.
template <typename T, bool kDesc>
__device__ __forceinline__ void exchange(T* key, int64_t* idx, int64_t lo, int64_t hi, int64_t lo_local, int64_t k,
                                         int64_t n) {
  const T a = key[lo], b = key[hi];
  const int64_t ia = idx[lo], ib = idx[hi];
  const bool up = (lo_local & k) == 0;
  if (up ? before<T, kDesc>(b, ib, a, ia, n) : before<T, kDesc>(a, ia, b, ib, n)) {
    key[lo] = b;
    key[hi] = a;
    idx[lo] = ib;
    idx[hi] = ia;
  }
}

// One tile of `tile` padded elements (whole lines when P <= tile) in shared
// memory: the bitonic stages k_lo..k_hi, the first starting at distance
// j_first. Loads from the input (padding) or the workspace; stores to the
// outputs (dropping pads) or back to the workspace.
template <typename T, bool kDesc, bool kFromInput, bool kToOutput>
__global__ void sort_tile_kernel(const T* __restrict__ in, T* __restrict__ values, int64_t* __restrict__ indices,
                                 T* __restrict__ wkey, int64_t* __restrict__ widx, int64_t total, int64_t n, int64_t P,
                                 int64_t tile, int64_t k_lo, int64_t k_hi, int64_t j_first) {
  extern __shared__ int64_t sort_smem[];
  int64_t* sidx = sort_smem;
  T* skey = reinterpret_cast<T*>(sort_smem + tile);
  const int64_t base = int64_t(blockIdx.x) * tile;
  const int64_t count = total - base < tile ? total - base : tile;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t g = base + e;
    if constexpr (kFromInput) {
      const int64_t line = g / P, p = g - line * P;
      skey[e] = p < n ? in[line * n + p] : T();
      sidx[e] = p < n ? p : n + p;
    } else {
      skey[e] = wkey[g];
      sidx[e] = widx[g];
    }
  }
  __syncthreads();
  for (int64_t k = k_lo; k <= k_hi; k <<= 1) {
    for (int64_t j = k == k_lo ? j_first : k >> 1; j > 0; j >>= 1) {
      for (int64_t t = threadIdx.x; t < count / 2; t += blockDim.x) {
        const int64_t lo = 2 * t - (t & (j - 1));
        exchange<T, kDesc>(skey, sidx, lo, lo + j, (base + lo) & (P - 1), k, n);
      }
      __syncthreads();
    }
  }
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t g = base + e;
    if constexpr (kToOutput) {
      const int64_t line = g / P, p = g - line * P;
      if (p < n) {
        values[line * n + p] = skey[e];
        indices[line * n + p] = sidx[e];
      }
    } else {
      wkey[g] = skey[e];
      widx[g] = sidx[e];
    }
  }
}

// One global bitonic step (stage k, distance j) over every padded line.
template <typename T, bool kDesc>
__global__ void sort_step_kernel(T* __restrict__ key, int64_t* __restrict__ idx, int64_t pairs, int64_t n, int64_t P,
                                 int64_t k, int64_t j) {
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < pairs; t += int64_t(blockDim.x) * gridDim.x) {
    const int64_t lo = 2 * t - (t & (j - 1));
    exchange<T, kDesc>(key, idx, lo, lo + j, lo & (P - 1), k, n);
  }
}

int64_t padded_length(int64_t n) {
  int64_t P = 2;
  while (P < n) P <<= 1;
  return P;
}

template <typename T, bool kDesc, bool kFromInput, bool kToOutput>
void launch_tile(const T* in, T* values, int64_t* indices, T* wkey, int64_t* widx, int64_t total, int64_t n, int64_t P,
                 int64_t tile, int64_t k_lo, int64_t k_hi, int64_t j_first, cudaStream_t stream) {
  const int64_t blocks = (total + tile - 1) / tile;
  const int threads = static_cast<int>(std::min<int64_t>(512, std::max<int64_t>(32, (tile / 2 + 31) / 32 * 32)));
  const size_t smem = static_cast<size_t>(tile) * (sizeof(int64_t) + sizeof(T));
  sort_tile_kernel<T, kDesc, kFromInput, kToOutput><<<static_cast<unsigned>(blocks), threads, smem, stream>>>(
      in, values, indices, wkey, widx, total, n, P, tile, k_lo, k_hi, j_first);
  LOOM_CUDA_KERNEL_CHECK();
}

template <typename T, bool kDesc>
void sort_typed(T* values, int64_t* indices, const T* in, Lines s, void* workspace, cudaStream_t stream) {
  const int64_t n = s.n, P = padded_length(n), total = s.outer * P;
  if (P <= kSortTile) {
    const int64_t tile = std::min<int64_t>(kSortTile, total);
    launch_tile<T, kDesc, true, true>(in, values, indices, nullptr, nullptr, total, n, P, tile, 2, P, 1, stream);
    return;
  }
  LOOM_CHECK(workspace != nullptr, "sort: lines of ", n, " elements need a workspace of ",
             sort_workspace_bytes(dtype_of<T>::value, s), " bytes");
  auto* widx = static_cast<int64_t*>(workspace);
  auto* wkey = reinterpret_cast<T*>(widx + total);
  const int64_t tile = kSortTile;
  launch_tile<T, kDesc, true, false>(in, nullptr, nullptr, wkey, widx, total, n, P, tile, 2, tile, 1, stream);
  for (int64_t k = 2 * tile; k <= P; k <<= 1) {
    for (int64_t j = k >> 1; j >= tile; j >>= 1) {
      sort_step_kernel<T, kDesc><<<grid_for(total / 2), kThreads, 0, stream>>>(wkey, widx, total / 2, n, P, k, j);
      LOOM_CUDA_KERNEL_CHECK();
    }
    if (k == P)
      launch_tile<T, kDesc, false, true>(nullptr, values, indices, wkey, widx, total, n, P, tile, k, k, tile / 2,
                                         stream);
    else
      launch_tile<T, kDesc, false, false>(nullptr, nullptr, nullptr, wkey, widx, total, n, P, tile, k, k, tile / 2,
                                          stream);
  }
}

}  // namespace

void scan(ScanOp op, DType dt, void* out, int64_t* indices, const void* in, Lines s, bool reverse,
          cudaStream_t stream) {
  if (s.numel() == 0) return;
  LOOM_CHECK(!reverse || op == ScanOp::Sum || op == ScanOp::LogSumExp,
             "scan: reverse is only implemented for Sum and LogSumExp");
  if (op == ScanOp::LogSumExp) {
    LOOM_DISPATCH_FLOAT(dt, "scan", [&] {
      launch_scan<scalar_t, LogAddExp<scalar_t>>(static_cast<scalar_t*>(out), nullptr, static_cast<const scalar_t*>(in),
                                                 s, reverse, stream);
    });
    return;
  }
  LOOM_DISPATCH_NUMERIC(dt, "scan", [&] {
    auto* y = static_cast<scalar_t*>(out);
    const auto* x = static_cast<const scalar_t*>(in);
    switch (op) {
      case ScanOp::Sum:
      case ScanOp::Prod:
        LOOM_CHECK_TYPE(dt != DType::Int32, "scan: Sum and Prod take int64 or floating, got int32");
        if (op == ScanOp::Sum) launch_scan<scalar_t, SumProd<scalar_t, false>>(y, nullptr, x, s, reverse, stream);
        else launch_scan<scalar_t, SumProd<scalar_t, true>>(y, nullptr, x, s, reverse, stream);
        break;
      case ScanOp::Max: launch_scan<scalar_t, Extreme<scalar_t, true>>(y, indices, x, s, false, stream); break;
      case ScanOp::Min: launch_scan<scalar_t, Extreme<scalar_t, false>>(y, indices, x, s, false, stream); break;
      case ScanOp::LogSumExp: break;  // above
    }
  });
}

void cumprod_backward(DType dt, void* gx, const void* g, const void* x, Lines s, cudaStream_t stream) {
  if (s.numel() == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "cumprod_backward", [&] {
    cumprod_backward_kernel<scalar_t><<<grid_for(s.outer * s.inner), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(gx), static_cast<const scalar_t*>(g), static_cast<const scalar_t*>(x), s.outer, s.n,
        s.inner);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

size_t sort_workspace_bytes(DType dt, Lines s) {
  const int64_t P = padded_length(s.n);
  if (s.n <= 1 || s.outer == 0 || P <= kSortTile) return 0;
  return static_cast<size_t>(s.outer * P) * (sizeof(int64_t) + itemsize(dt));
}

void sort(DType dt, void* values, int64_t* indices, const void* in, Lines s, bool descending, void* workspace,
          cudaStream_t stream) {
  if (s.numel() == 0) return;
  LOOM_CHECK(s.inner == 1, "sort: the kernel sorts lines of inner size 1, got inner ", s.inner);
  LOOM_DISPATCH_ALL(dt, "sort", [&] {
    auto* v = static_cast<scalar_t*>(values);
    const auto* x = static_cast<const scalar_t*>(in);
    if (descending) sort_typed<scalar_t, true>(v, indices, x, s, workspace, stream);
    else sort_typed<scalar_t, false>(v, indices, x, s, workspace, stream);
  });
}

// ---- searchsorted ----

// The CPU's branch-free search (kernels/cpu/sort.cpp search_block), step for step.
template <typename T, bool kRight>
__global__ void searchsorted_kernel(int64_t* __restrict__ out, const T* __restrict__ b, const T* __restrict__ v,
                                    int64_t total, int64_t n, int64_t m, bool shared) {
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < total; k += int64_t(blockDim.x) * gridDim.x) {
    const T* row = shared ? b : b + k / m * n;
    const T x = v[k];
    if (n == 0) {
      out[k] = 0;
      continue;
    }
    const T* base = row;
    int64_t len = n;
    while (len > 1) {
      const int64_t half = len / 2;
      const T y = base[half - 1];
      base = (kRight ? !(y > x) : !(y >= x)) ? base + half : base;
      len -= half;
    }
    const T y = base[0];
    out[k] = (base - row) + ((kRight ? !(y > x) : !(y >= x)) ? 1 : 0);
  }
}

void searchsorted(DType dt, int64_t* out, const void* boundaries, const void* values, int64_t rows, int64_t n,
                  int64_t m, bool shared, bool right, cudaStream_t stream) {
  const int64_t total = rows * m;
  if (total == 0) return;
  LOOM_DISPATCH_NUMERIC(dt, "searchsorted", [&] {
    const auto* b = static_cast<const scalar_t*>(boundaries);
    const auto* v = static_cast<const scalar_t*>(values);
    if (right)
      searchsorted_kernel<scalar_t, true><<<grid_for(total), kThreads, 0, stream>>>(out, b, v, total, n, m, shared);
    else searchsorted_kernel<scalar_t, false><<<grid_for(total), kThreads, 0, stream>>>(out, b, v, total, n, m, shared);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
