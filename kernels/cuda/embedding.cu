// Embedding backward (kernels/embedding.h): one thread per (index, column)
// in a grid-stride loop: consecutive threads take consecutive columns of one
// gradient row (coalesced reads) and atomicAdd into the weight row; repeated
// indices collide only on equal rows. The order of the additions is not
// deterministic (the CPU twin is).
//
// embedding_bag: a grid of (bags, column blocks); each thread owns one column
// of one bag and walks the bag's entries, reading the weight rows coalesced
// across the block and accumulating in a register (forward), or adding its
// column of the bag's gradient into each entry's weight row with atomics
// (backward; max: one atomic per column at the saved argmax). The
// per-sample-weight gradient: a block per bag, a warp per entry, the dot
// product of the bag's gradient and the entry's row by a warp reduction.
#include "kernels/cuda/common.cuh"
#include "kernels/embedding.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
__global__ void embedding_backward_kernel(T* __restrict__ dw, const T* __restrict__ g,
                                          const int64_t* __restrict__ index, int64_t n, int64_t V, int64_t D,
                                          int64_t pad) {
  const int64_t total = n * D;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t i = e / D, j = e - i * D;
    const int64_t row = index[i];
    if (row < 0 || row >= V || row == pad) continue;
    atomicAdd(dw + row * D + j, g[e]);
  }
}

// The entries [begin, end) of bag b, clipped to [0, n]; *ok false when the
// offsets are not non-decreasing from 0 up to n.
__device__ __forceinline__ void bag_range(const int64_t* offsets, int64_t b, const EmbeddingBagParams& p, int64_t* beg,
                                          int64_t* end, bool* ok) {
  const int64_t o = offsets[b], e = b + 1 < p.B ? offsets[b + 1] : p.n;
  *ok = (b > 0 || o == 0) && o <= e && e <= p.n && o >= 0;
  *beg = o < 0 ? 0 : (o > p.n ? p.n : o);
  *end = e < *beg ? *beg : (e > p.n ? p.n : e);
}

template <typename T>
__global__ void bag_forward_kernel(T* __restrict__ out, int64_t* __restrict__ argmax, T* __restrict__ count,
                                   const T* __restrict__ w, const int64_t* __restrict__ index,
                                   const int64_t* __restrict__ offsets, const T* __restrict__ psw, EmbeddingBagParams p,
                                   int* error_flag) {
  const int64_t b = blockIdx.x, d = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (d >= p.D) return;
  int64_t beg, end;
  bool ok;
  bag_range(offsets, b, p, &beg, &end, &ok);
  if (!ok && d == 0) atomicExch(error_flag, 1);
  const bool is_max = p.mode == BagMode::Max;
  T acc = is_max ? T(-INFINITY) : T(0);
  int64_t am = -1, kept = 0;
  for (int64_t i = beg; i < end; ++i) {
    const int64_t r = index[i];
    if (r < 0 || r >= p.V) {
      if (d == 0) atomicExch(error_flag, 1);
      continue;
    }
    if (r == p.padding_idx) continue;
    ++kept;
    const T v = w[r * p.D + d];
    if (is_max) {
      if (am < 0 || v > acc || (v != v && acc == acc)) acc = v, am = r;
    } else {
      acc += (psw ? psw[i] : T(1)) * v;
    }
  }
  if (p.mode == BagMode::Mean && d == 0) count[b] = static_cast<T>(kept);
  if (is_max) {
    argmax[b * p.D + d] = am;
    if (kept == 0) acc = T(0);
  } else if (p.mode == BagMode::Mean && kept > 1) {
    acc = acc / static_cast<T>(kept);
  }
  out[b * p.D + d] = acc;
}

template <typename T>
__global__ void bag_backward_kernel(T* __restrict__ dw, const T* __restrict__ g, const int64_t* __restrict__ index,
                                    const int64_t* __restrict__ offsets, const int64_t* __restrict__ argmax,
                                    const T* __restrict__ count, const T* __restrict__ psw, EmbeddingBagParams p) {
  const int64_t b = blockIdx.x, d = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (d >= p.D) return;
  const T gb = g[b * p.D + d];
  if (p.mode == BagMode::Max) {
    const int64_t r = argmax[b * p.D + d];
    if (r >= 0 && r < p.V) atomicAdd(dw + r * p.D + d, gb);
    return;
  }
  int64_t beg, end;
  bool ok;
  bag_range(offsets, b, p, &beg, &end, &ok);
  const T scale = p.mode == BagMode::Mean && count[b] > T(0) ? T(1) / count[b] : T(1);
  for (int64_t i = beg; i < end; ++i) {
    const int64_t r = index[i];
    if (r < 0 || r >= p.V || r == p.padding_idx) continue;
    atomicAdd(dw + r * p.D + d, (psw ? psw[i] * scale : scale) * gb);
  }
}

template <typename T>
__global__ void bag_psw_backward_kernel(T* __restrict__ dpsw, const T* __restrict__ g, const T* __restrict__ w,
                                        const int64_t* __restrict__ index, const int64_t* __restrict__ offsets,
                                        EmbeddingBagParams p) {
  const int64_t b = blockIdx.x;
  int64_t beg, end;
  bool ok;
  bag_range(offsets, b, p, &beg, &end, &ok);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, nwarps = blockDim.x / kWarp;
  for (int64_t i = beg + warp; i < end; i += nwarps) {
    const int64_t r = index[i];
    T acc = 0;
    if (r >= 0 && r < p.V && r != p.padding_idx)
      for (int64_t d = lane; d < p.D; d += kWarp) acc += g[b * p.D + d] * w[r * p.D + d];
    acc = warp_reduce(acc, SumOp());
    if (lane == 0) dpsw[i] = acc;
  }
}

// Threads per block of the per-column kernels: the columns rounded up to warps, at most 256.
int column_threads(int64_t D) {
  const int64_t t = (D + kWarp - 1) / kWarp * kWarp;
  return static_cast<int>(t < kWarp ? kWarp : (t > 256 ? 256 : t));
}

dim3 column_grid(const EmbeddingBagParams& p) {
  const int threads = column_threads(p.D);
  return dim3(static_cast<unsigned>(p.B), static_cast<unsigned>((p.D + threads - 1) / threads));
}

}  // namespace

void embedding_bag_forward(DType dt, void* out, int64_t* argmax, void* count, const void* weight, const int64_t* index,
                           const int64_t* offsets, const void* psw, const EmbeddingBagParams& p, int* error_flag,
                           cudaStream_t stream) {
  if (p.B <= 0 || p.D <= 0) return;
  LOOM_CHECK(p.B <= INT32_MAX, "embedding_bag: too many bags (", p.B, ")");
  LOOM_DISPATCH_FLOAT(dt, "embedding_bag", [&] {
    using T = scalar_t;
    bag_forward_kernel<T><<<column_grid(p), column_threads(p.D), 0, stream>>>(
        static_cast<T*>(out), argmax, static_cast<T*>(count), static_cast<const T*>(weight), index, offsets,
        static_cast<const T*>(psw), p, error_flag);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void embedding_bag_backward(DType dt, void* dweight, const void* grad, const int64_t* index, const int64_t* offsets,
                            const int64_t* argmax, const void* count, const void* psw, const EmbeddingBagParams& p,
                            cudaStream_t stream) {
  if (p.B <= 0 || p.D <= 0 || p.V <= 0) return;
  LOOM_CHECK(p.B <= INT32_MAX, "embedding_bag_backward: too many bags (", p.B, ")");
  LOOM_DISPATCH_FLOAT(dt, "embedding_bag_backward", [&] {
    using T = scalar_t;
    bag_backward_kernel<T><<<column_grid(p), column_threads(p.D), 0, stream>>>(
        static_cast<T*>(dweight), static_cast<const T*>(grad), index, offsets, argmax, static_cast<const T*>(count),
        static_cast<const T*>(psw), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void embedding_bag_psw_backward(DType dt, void* dpsw, const void* grad, const void* weight, const int64_t* index,
                                const int64_t* offsets, const EmbeddingBagParams& p, cudaStream_t stream) {
  if (p.B <= 0 || p.n <= 0) return;
  LOOM_CHECK(p.B <= INT32_MAX, "embedding_bag_backward: too many bags (", p.B, ")");
  LOOM_DISPATCH_FLOAT(dt, "embedding_bag_psw_backward", [&] {
    using T = scalar_t;
    bag_psw_backward_kernel<T><<<static_cast<unsigned>(p.B), 128, 0, stream>>>(
        static_cast<T*>(dpsw), static_cast<const T*>(grad), static_cast<const T*>(weight), index, offsets, p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n, int64_t num_weights,
                        int64_t D, int64_t padding_idx, cudaStream_t stream) {
  if (n <= 0 || D <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "embedding_backward", [&] {
    embedding_backward_kernel<scalar_t><<<grid_for(n * D), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(dweight), static_cast<const scalar_t*>(grad), index, n, num_weights, D, padding_idx);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
