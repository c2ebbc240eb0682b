// softmax / log_softmax over the middle dim of a contiguous [outer, dim, inner]
// tensor, forward and backward.
//   forward:  y = exp(x - max) / sum exp(x - max)   (log: (x - max) - log sum)
//   backward: gx = y * (g - sum(g * y))             (log: g - exp(y) * sum(g))
// Subtracting the max keeps exp from overflowing. Contiguous rows sum in the dtype, one partial sum per
// vector lane (16 for float32 on AVX-512); strided ones in double.
// inner == 1 (the last dim, the usual case) walks each contiguous row with
// simd loops; for
// inner > 1 the dim is strided, so a block of inner columns is processed
// together with a row of running maxima/sums, and each pass streams rows of
// `inner` contiguous values instead of striding down each column.
// Work is split over (outer x column blocks) with OpenMP.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "core/error.h"
#include "kernels/pointwise.h"
#include "kernels/softmax.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kBlock = 256;

// Forward on one contiguous row (inner == 1).
template <typename T>
LOOM_CPU_CLONES void softmax_row(T* y, const T* x, int64_t dim, bool log) {
  T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t d = 0; d < dim; ++d) mx = x[d] > mx ? x[d] : mx;
  if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: avoid (-inf) - (-inf)
  T sum = 0;                             // one partial sum per vector lane
  if (log) {
#pragma omp simd reduction(+ : sum)
    for (int64_t d = 0; d < dim; ++d) sum += detail::exp_fast(x[d] - mx);
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t d = 0; d < dim; ++d) {
      const T e = detail::exp_fast(x[d] - mx);
      y[d] = e;
      sum += e;
    }
  }
  if (log) {
    // (x - max) - log(sum), not x - (max + log(sum)): for large |x| the sum
    // max + log(sum) rounds back to max and every output would be 0.
    const T log_sum = static_cast<T>(std::log(static_cast<double>(sum)));
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) y[d] = (x[d] - mx) - log_sum;
  } else {
    const T inv = static_cast<T>(1.0 / static_cast<double>(sum));
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) y[d] *= inv;
  }
}

template <typename T>
LOOM_CPU_CLONES void softmax_backward_row(T* gx, const T* g, const T* y, int64_t dim, bool log) {
  T sum = 0;  // one partial sum per vector lane
  if (log) {
#pragma omp simd reduction(+ : sum)
    for (int64_t d = 0; d < dim; ++d) sum += g[d];
    const T s = static_cast<T>(sum);
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) gx[d] = g[d] - detail::exp_fast(y[d]) * s;
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t d = 0; d < dim; ++d) sum += g[d] * y[d];
    const T s = static_cast<T>(sum);
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) gx[d] = y[d] * (g[d] - s);
  }
}

// Forward on columns [0, nc) of one slab x[dim][inner] (row stride `inner`).
template <typename T>
LOOM_CPU_CLONES void softmax_block(T* y, const T* x, int64_t dim, int64_t inner, int64_t nc, bool log, double* mx,
                                   double* sum) {
  std::fill(mx, mx + nc, -std::numeric_limits<double>::infinity());
  std::fill(sum, sum + nc, 0.0);
  for (int64_t d = 0; d < dim; ++d) {
    const T* xr = x + d * inner;
    for (int64_t c = 0; c < nc; ++c) mx[c] = std::max(mx[c], static_cast<double>(xr[c]));
  }
  // An all -inf column would give (-inf) - (-inf) = NaN: shift by 0 instead.
  for (int64_t c = 0; c < nc; ++c)
    if (std::isinf(mx[c]) && mx[c] < 0) mx[c] = 0;
  for (int64_t d = 0; d < dim; ++d) {
    const T* xr = x + d * inner;
    T* yr = y + d * inner;
    if (log) {
      for (int64_t c = 0; c < nc; ++c) sum[c] += detail::exp_fast(static_cast<T>(xr[c] - static_cast<T>(mx[c])));
    } else {
      for (int64_t c = 0; c < nc; ++c) {
        const T e = detail::exp_fast(static_cast<T>(xr[c] - static_cast<T>(mx[c])));
        sum[c] += e;
        yr[c] = e;
      }
    }
  }
  // Once per column: mx + log(sum) for log (subtracted in this order, as before), else 1 / sum.
  for (int64_t c = 0; c < nc; ++c) sum[c] = log ? std::log(sum[c]) : 1.0 / sum[c];
  for (int64_t d = 0; d < dim; ++d) {
    const T* xr = x + d * inner;
    T* yr = y + d * inner;
    if (log) {
      for (int64_t c = 0; c < nc; ++c) yr[c] = static_cast<T>(xr[c] - mx[c] - sum[c]);
    } else {
      for (int64_t c = 0; c < nc; ++c) yr[c] = static_cast<T>(yr[c] * sum[c]);
    }
  }
}

// Backward on columns [0, nc) of one slab.
template <typename T>
LOOM_CPU_CLONES void softmax_backward_block(T* gx, const T* g, const T* y, int64_t dim, int64_t inner, int64_t nc,
                                            bool log, double* sum) {
  std::fill(sum, sum + nc, 0.0);
  for (int64_t d = 0; d < dim; ++d) {
    const T* gr = g + d * inner;
    const T* yr = y + d * inner;
    if (log) {
      for (int64_t c = 0; c < nc; ++c) sum[c] += gr[c];
    } else {
      for (int64_t c = 0; c < nc; ++c) sum[c] += static_cast<double>(gr[c]) * yr[c];
    }
  }
  for (int64_t d = 0; d < dim; ++d) {
    const T* gr = g + d * inner;
    const T* yr = y + d * inner;
    T* out = gx + d * inner;
    if (log) {
      for (int64_t c = 0; c < nc; ++c) out[c] = static_cast<T>(gr[c] - detail::exp_fast(yr[c]) * sum[c]);
    } else {
      for (int64_t c = 0; c < nc; ++c) out[c] = static_cast<T>(yr[c] * (gr[c] - sum[c]));
    }
  }
}

// Runs body(slab_offset, nc, mx, sum) over every (outer, column block).
template <typename Body>
void over_blocks(int64_t outer, int64_t dim, int64_t inner, Body&& body) {
  if (outer == 0 || dim == 0 || inner == 0) return;
  const int64_t nblocks = (inner + kBlock - 1) / kBlock;
  detail::parallel_range(outer * nblocks, outer * dim * inner, [&](int64_t b, int64_t e) {
    const int64_t width = std::min(kBlock, inner);
    std::vector<double> scratch(2 * width);
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / nblocks, c0 = item % nblocks * kBlock;
      body(o * dim * inner + c0, std::min(kBlock, inner - c0), scratch.data(), scratch.data() + width);
    }
  });
}

}  // namespace

void softmax(DType dt, void* out, const void* in, int64_t outer, int64_t dim, int64_t inner, bool log) {
  LOOM_DISPATCH_FLOAT(dt, log ? "log_softmax" : "softmax", [&] {
    using T = scalar_t;
    T* y = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    over_blocks(outer, dim, inner, [&](int64_t off, int64_t nc, double* mx, double* sum) {
      if (inner == 1) softmax_row(y + off, x + off, dim, log);
      else softmax_block(y + off, x + off, dim, inner, nc, log, mx, sum);
    });
  });
}

void softmax_backward(DType dt, void* grad_in, const void* grad_out, const void* out, int64_t outer, int64_t dim,
                      int64_t inner, bool log) {
  LOOM_DISPATCH_FLOAT(dt, log ? "log_softmax_backward" : "softmax_backward", [&] {
    using T = scalar_t;
    T* gx = static_cast<T*>(grad_in);
    const T* g = static_cast<const T*>(grad_out);
    const T* y = static_cast<const T*>(out);
    over_blocks(outer, dim, inner, [&](int64_t off, int64_t nc, double*, double* sum) {
      if (inner == 1) softmax_backward_row(gx + off, g + off, y + off, dim, log);
      else softmax_backward_block(gx + off, g + off, y + off, dim, inner, nc, log, sum);
    });
  });
}

}  // namespace loom::kernels::cpu
