// Softmax and log-softmax over the middle dim of a contiguous [outer, dim, inner]
// tensor, and their backward:
//   y = exp(x - m) / s,  log y = (x - m) - log s,  m = max x, s = sum exp(x - m)
//   softmax:     dx = y * (g - sum(g * y))
//   log_softmax: dx = g - exp(y) * sum(g)
// Nothing beyond the output is saved for backward.
//
// Variants:
//   row     inner == 1 (the usual last-dim softmax): one block per row; a
//           max pass, a sum pass and a write pass, each a strided loop whose
//           neighbouring threads read neighbouring elements, reductions by
//           warp shuffles. Re-reading the row beats holding it in registers
//           for arbitrary dim and is served from L2 for typical row sizes.
//   column  inner > 1: one thread per (outer, inner) column, walking dim with
//           stride inner (neighbouring threads again read neighbouring
//           elements); an online max/sum pass, then the write pass.
// Sums accumulate in the input type (float for float32): the values summed
// are in [0, 1] after max subtraction.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/softmax.h"

namespace loom::kernels::cuda {

namespace {

struct MaxNanOp {  // max that propagates NaN
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return (a != a || a > b) ? a : b;
  }
};

template <typename T>
__global__ void softmax_row_kernel(T* out, const T* in, int64_t dim, bool log_out) {
  const T* x = in + static_cast<int64_t>(blockIdx.x) * dim;
  T* y = out + static_cast<int64_t>(blockIdx.x) * dim;
  T m = -INFINITY;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) m = MaxNanOp()(m, x[j]);
  m = block_reduce(m, MaxNanOp(), T(-INFINITY));
  T s = 0;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) s += exp(x[j] - m);
  s = block_reduce(s, SumOp(), T(0));
  if (log_out) {  // (x - m) - log s, as the CPU twin: m + log s would round back to m for large |m|
    T log_s = log(s);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) y[j] = (x[j] - m) - log_s;
  } else {
    T inv = T(1) / s;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) y[j] = exp(x[j] - m) * inv;
  }
}

template <typename T>
__global__ void softmax_column_kernel(T* out, const T* in, int64_t outer, int64_t dim, int64_t inner, bool log_out) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t o = c / inner, i = c - o * inner;
    const T* x = in + o * dim * inner + i;
    T* y = out + o * dim * inner + i;
    T m = -INFINITY, s = 0;
    for (int64_t j = 0; j < dim; ++j) {
      T v = x[j * inner];
      if (v != v || v > m) {
        s = (m == -INFINITY) ? T(0) : s * exp(m - v);
        m = v;
      }
      s += exp(v - m);
    }
    if (log_out) {
      T log_s = log(s);
      for (int64_t j = 0; j < dim; ++j) y[j * inner] = (x[j * inner] - m) - log_s;
    } else {
      T inv = T(1) / s;
      for (int64_t j = 0; j < dim; ++j) y[j * inner] = exp(x[j * inner] - m) * inv;
    }
  }
}

template <typename T>
__global__ void softmax_backward_row_kernel(T* grad_in, const T* grad_out, const T* out, int64_t dim, bool log_out) {
  int64_t base = static_cast<int64_t>(blockIdx.x) * dim;
  const T* g = grad_out + base;
  const T* y = out + base;
  T* dx = grad_in + base;
  T acc = 0;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) acc += log_out ? g[j] : g[j] * y[j];
  acc = block_reduce(acc, SumOp(), T(0));
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
    dx[j] = log_out ? g[j] - exp(y[j]) * acc : y[j] * (g[j] - acc);
}

template <typename T>
__global__ void softmax_backward_column_kernel(T* grad_in, const T* grad_out, const T* out, int64_t outer, int64_t dim,
                                               int64_t inner, bool log_out) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t o = c / inner, i = c - o * inner;
    int64_t base = o * dim * inner + i;
    const T* g = grad_out + base;
    const T* y = out + base;
    T* dx = grad_in + base;
    T acc = 0;
    for (int64_t j = 0; j < dim; ++j) acc += log_out ? g[j * inner] : g[j * inner] * y[j * inner];
    for (int64_t j = 0; j < dim; ++j)
      dx[j * inner] = log_out ? g[j * inner] - exp(y[j * inner]) * acc : y[j * inner] * (g[j * inner] - acc);
  }
}

// Fewer threads for short rows: a 256-thread block on a 20-element row idles.
int row_threads(int64_t dim) {
  if (dim <= 64) return 32;
  if (dim <= 256) return 64;
  if (dim <= 1024) return 128;
  return 256;
}

}  // namespace

void softmax(DType dt, void* out, const void* in, int64_t outer, int64_t dim, int64_t inner, bool log,
             cudaStream_t stream) {
  if (outer <= 0 || dim <= 0 || inner <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "softmax", [&] {
    auto y = static_cast<scalar_t*>(out);
    auto x = static_cast<const scalar_t*>(in);
    if (inner == 1) {
      LOOM_CHECK(outer <= INT32_MAX, "softmax: too many rows (", outer, ")");
      softmax_row_kernel<<<static_cast<unsigned>(outer), row_threads(dim), 0, stream>>>(y, x, dim, log);
    } else {
      softmax_column_kernel<<<grid_for(outer * inner), kThreads, 0, stream>>>(y, x, outer, dim, inner, log);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void softmax_backward(DType dt, void* grad_in, const void* grad_out, const void* out, int64_t outer, int64_t dim,
                      int64_t inner, bool log, cudaStream_t stream) {
  if (outer <= 0 || dim <= 0 || inner <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "softmax_backward", [&] {
    auto dx = static_cast<scalar_t*>(grad_in);
    auto g = static_cast<const scalar_t*>(grad_out);
    auto y = static_cast<const scalar_t*>(out);
    if (inner == 1) {
      LOOM_CHECK(outer <= INT32_MAX, "softmax_backward: too many rows (", outer, ")");
      softmax_backward_row_kernel<<<static_cast<unsigned>(outer), row_threads(dim), 0, stream>>>(dx, g, y, dim, log);
    } else {
      softmax_backward_column_kernel<<<grid_for(outer * inner), kThreads, 0, stream>>>(dx, g, y, outer, dim, inner,
                                                                                       log);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
