// CPU LayerNorm and BatchNorm (kernels/norm.h): the twins of
// kernels/cuda/norm.cu, and the CPU production path.
//
// layer_norm   rows [N, D] split over the thread pool. Each row is read three
//              times while it sits in L1/L2 (sum, centred sum of squares, write),
//              with `omp simd` reductions; the two-pass variance is exact for
//              rows with a large mean, where E[x^2] - E[x]^2 cancels. Saved:
//              mean and rstd per row (dtype of x).
//   backward   per row, c1 = mean(g*w), c2 = mean(g*w*xhat);
//              dx = rstd * (g*w - c1 - xhat*c2). dw/db: each chunk of rows
//              accumulates private [D] partial sums, added in chunk order
//              afterwards (deterministic for a given thread count).
// batch_norm   [N, C, S]; channels are independent, so work is split over C
//              (stats, backward) or over N*C planes (apply); each plane of S
//              contiguous values is a simd loop. Sums accumulate in double.
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/norm.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

// The row loops are compiled for AVX-512, AVX2 + FMA and baseline x86-64 and
// picked at load time (LOOM_CPU_CLONES, kernels/cpu/branchless.h): the build
// itself targets baseline x86-64 (4-wide SSE).

template <typename T>
LOOM_CPU_INLINE void ln_forward_rows(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t D, double eps,
                                     int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < D; ++j) s += xr[j];
    const T m = s / static_cast<T>(D);
    T ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < D; ++j) ss += (xr[j] - m) * (xr[j] - m);
    const T rs = static_cast<T>(1.0 / std::sqrt(static_cast<double>(ss) / static_cast<double>(D) + eps));
    if (w && b) {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    } else if (w) {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * rs * w[j];
    } else if (b) {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * rs + b[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * rs;
    }
    mean[r] = m;
    rstd[r] = rs;
  }
}

LOOM_CPU_CLONES void ln_forward_rows_f32(float* y, float* mean, float* rstd, const float* x, const float* w,
                                         const float* b, int64_t D, double eps, int64_t r0, int64_t r1) {
  ln_forward_rows<float>(y, mean, rstd, x, w, b, D, eps, r0, r1);
}
LOOM_CPU_CLONES void ln_forward_rows_f64(double* y, double* mean, double* rstd, const double* x, const double* w,
                                         const double* b, int64_t D, double eps, int64_t r0, int64_t r1) {
  ln_forward_rows<double>(y, mean, rstd, x, w, b, D, eps, r0, r1);
}

template <typename T>
void ln_forward(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t N, int64_t D, double eps) {
  detail::parallel_range(N, N * D, [&](int64_t r0, int64_t r1) {
    if constexpr (std::is_same_v<T, float>) ln_forward_rows_f32(y, mean, rstd, x, w, b, D, eps, r0, r1);
    else ln_forward_rows_f64(y, mean, rstd, x, w, b, D, eps, r0, r1);
  });
}

template <typename T>
LOOM_CPU_INLINE void ln_backward_rows(T* dx, T* pw, T* pb, const T* dy, const T* x, const T* w, const T* mean,
                                      const T* rstd, int64_t D, int64_t r0, int64_t r1) {
  const bool want_params = pw != nullptr;
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * D;
    const T* gr = dy + r * D;
    const T m = mean[r], rs = rstd[r];
    if (want_params) {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) {
        pw[j] += gr[j] * (xr[j] - m) * rs;
        pb[j] += gr[j];
      }
    }
    if (!dx) continue;
    T s1 = 0, s2 = 0;
    if (w) {
#pragma omp simd reduction(+ : s1, s2)
      for (int64_t j = 0; j < D; ++j) {
        const T gw = gr[j] * w[j];
        s1 += gw;
        s2 += gw * (xr[j] - m);
      }
    } else {
#pragma omp simd reduction(+ : s1, s2)
      for (int64_t j = 0; j < D; ++j) {
        s1 += gr[j];
        s2 += gr[j] * (xr[j] - m);
      }
    }
    const T c1 = s1 / static_cast<T>(D), c2 = s2 * rs / static_cast<T>(D);
    T* dr = dx + r * D;
    if (w) {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) dr[j] = rs * (gr[j] * w[j] - c1 - (xr[j] - m) * rs * c2);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) dr[j] = rs * (gr[j] - c1 - (xr[j] - m) * rs * c2);
    }
  }
}

LOOM_CPU_CLONES void ln_backward_rows_f32(float* dx, float* pw, float* pb, const float* dy, const float* x,
                                          const float* w, const float* mean, const float* rstd, int64_t D, int64_t r0,
                                          int64_t r1) {
  ln_backward_rows<float>(dx, pw, pb, dy, x, w, mean, rstd, D, r0, r1);
}
LOOM_CPU_CLONES void ln_backward_rows_f64(double* dx, double* pw, double* pb, const double* dy, const double* x,
                                          const double* w, const double* mean, const double* rstd, int64_t D,
                                          int64_t r0, int64_t r1) {
  ln_backward_rows<double>(dx, pw, pb, dy, x, w, mean, rstd, D, r0, r1);
}

template <typename T>
void ln_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const T* mean, const T* rstd, int64_t N,
                 int64_t D) {
  const bool want_params = dw || db;
  const int nchunks = detail::num_chunks(N, N * D);
  std::vector<T> partial(want_params ? static_cast<size_t>(nchunks) * 2 * D : 0, T(0));
  detail::parallel_chunks(N, nchunks, [&](int chunk, int64_t r0, int64_t r1) {
    T* pw = want_params ? partial.data() + static_cast<size_t>(chunk) * 2 * D : nullptr;
    T* pb = want_params ? pw + D : nullptr;
    if constexpr (std::is_same_v<T, float>) ln_backward_rows_f32(dx, pw, pb, dy, x, w, mean, rstd, D, r0, r1);
    else ln_backward_rows_f64(dx, pw, pb, dy, x, w, mean, rstd, D, r0, r1);
  });
  if (!want_params) return;
  for (int64_t j = 0; j < D; ++j) {
    T sw = 0, sb = 0;
    for (int c = 0; c < nchunks; ++c) {
      sw += partial[static_cast<size_t>(c) * 2 * D + j];
      sb += partial[static_cast<size_t>(c) * 2 * D + D + j];
    }
    if (dw) dw[j] = sw;
    if (db) db[j] = sb;
  }
}

template <typename T>
void bn_stats(T* mean, T* var, T* invstd, const T* x, int64_t N, int64_t C, int64_t S, double eps) {
  const int64_t M = N * S;
  detail::parallel_range(C, N * C * S, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* p = x + (n * C + c) * S;
        T part = 0;
#pragma omp simd reduction(+ : part)
        for (int64_t i = 0; i < S; ++i) part += p[i];
        s += part;
      }
      const double m = M > 0 ? s / static_cast<double>(M) : 0.0;
      const T mt = static_cast<T>(m);
      double ss = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* p = x + (n * C + c) * S;
        T part = 0;
#pragma omp simd reduction(+ : part)
        for (int64_t i = 0; i < S; ++i) part += (p[i] - mt) * (p[i] - mt);
        ss += part;
      }
      const double v = M > 0 ? ss / static_cast<double>(M) : 0.0;
      mean[c] = mt;
      var[c] = static_cast<T>(v);
      invstd[c] = static_cast<T>(1.0 / std::sqrt(v + eps));
    }
  });
}

template <typename T>
void bn_apply(T* y, const T* x, const T* mean, const T* invstd, const T* w, const T* b, int64_t N, int64_t C,
              int64_t S) {
  detail::parallel_range(N * C, N * C * S, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p % C;
      const T scale = invstd[c] * (w ? w[c] : T(1));
      const T shift = (b ? b[c] : T(0)) - mean[c] * scale;
      const T* xp = x + p * S;
      T* yp = y + p * S;
#pragma omp simd
      for (int64_t i = 0; i < S; ++i) yp[i] = xp[i] * scale + shift;
    }
  });
}

template <typename T>
void bn_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* mean, const T* invstd, const T* w, int64_t N,
                 int64_t C, int64_t S, bool training) {
  const int64_t M = N * S;
  detail::parallel_range(C, 2 * N * C * S, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const T m = mean[c], is = invstd[c];
      double sg = 0, sgx = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* xp = x + (n * C + c) * S;
        const T* gp = dy + (n * C + c) * S;
        T a = 0, bsum = 0;
#pragma omp simd reduction(+ : a, bsum)
        for (int64_t i = 0; i < S; ++i) {
          a += gp[i];
          bsum += gp[i] * (xp[i] - m);
        }
        sg += a;
        sgx += bsum;
      }
      if (dw) dw[c] = static_cast<T>(sgx * is);
      if (db) db[c] = static_cast<T>(sg);
      if (!dx) continue;
      const T wc = w ? w[c] : T(1);
      const T k = wc * is;
      const T c1 = training && M > 0 ? static_cast<T>(sg / M) : T(0);
      const T c2 = training && M > 0 ? static_cast<T>(sgx / M) * is * is : T(0);
      for (int64_t n = 0; n < N; ++n) {
        const T* xp = x + (n * C + c) * S;
        const T* gp = dy + (n * C + c) * S;
        T* dp = dx + (n * C + c) * S;
#pragma omp simd
        for (int64_t i = 0; i < S; ++i) dp[i] = k * (gp[i] - c1 - (xp[i] - m) * c2);
      }
    }
  });
}

}  // namespace

void layer_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t D, double eps) {
  if (N <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "layer_norm", [&] {
    ln_forward(static_cast<scalar_t*>(y), static_cast<scalar_t*>(mean), static_cast<scalar_t*>(rstd),
               static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(w), static_cast<const scalar_t*>(b), N, D,
               eps);
  });
}

void layer_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t D) {
  LOOM_DISPATCH_FLOAT(dt, "layer_norm_backward", [&] {
    if (N <= 0) {
      if (dw) std::memset(dw, 0, sizeof(scalar_t) * D);
      if (db) std::memset(db, 0, sizeof(scalar_t) * D);
      return;
    }
    ln_backward(static_cast<scalar_t*>(dx), static_cast<scalar_t*>(dw), static_cast<scalar_t*>(db),
                static_cast<const scalar_t*>(dy), static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(w),
                static_cast<const scalar_t*>(mean), static_cast<const scalar_t*>(rstd), N, D);
  });
}

void batch_norm_stats(DType dt, void* mean, void* var, void* invstd, const void* x, int64_t N, int64_t C, int64_t S,
                      double eps) {
  LOOM_DISPATCH_FLOAT(dt, "batch_norm", [&] {
    bn_stats(static_cast<scalar_t*>(mean), static_cast<scalar_t*>(var), static_cast<scalar_t*>(invstd),
             static_cast<const scalar_t*>(x), N, C, S, eps);
  });
}

void batch_norm_apply(DType dt, void* y, const void* x, const void* mean, const void* invstd, const void* w,
                      const void* b, int64_t N, int64_t C, int64_t S) {
  LOOM_DISPATCH_FLOAT(dt, "batch_norm", [&] {
    bn_apply(static_cast<scalar_t*>(y), static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(mean),
             static_cast<const scalar_t*>(invstd), static_cast<const scalar_t*>(w), static_cast<const scalar_t*>(b), N,
             C, S);
  });
}

void batch_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* mean,
                         const void* invstd, const void* w, int64_t N, int64_t C, int64_t S, bool training) {
  LOOM_DISPATCH_FLOAT(dt, "batch_norm_backward", [&] {
    bn_backward(static_cast<scalar_t*>(dx), static_cast<scalar_t*>(dw), static_cast<scalar_t*>(db),
                static_cast<const scalar_t*>(dy), static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(mean),
                static_cast<const scalar_t*>(invstd), static_cast<const scalar_t*>(w), N, C, S, training);
  });
}

}  // namespace loom::kernels::cpu
