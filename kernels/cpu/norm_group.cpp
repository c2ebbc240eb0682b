// CPU GroupNorm (kernels/norm.h), the twin of kernels/cuda/norm_group.cu.
// x [N, C, S]: the C / G * S values of group (n, g) are contiguous. Forward:
// groups split over the pool; each is read three times (sum, centred sum of
// squares, then y = x * scale_c + shift_c per channel, a simd loop over S),
// sums in double. Backward: dx per group from its two sums (of g*w and
// g*w*xhat), groups over the pool; dw and db per channel over the pool, each
// summing its N planes in order. Deterministic.
#include <cmath>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/norm.h"

namespace loom::kernels::cpu {
namespace {

template <typename T>
void gn_forward(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t N, int64_t C, int64_t S, int64_t G,
                double eps) {
  const int64_t Cg = C / G, D = Cg * S;
  detail::parallel_range(N * G, N * C * S, [&](int64_t g0, int64_t g1) {
    for (int64_t grp = g0; grp < g1; ++grp) {
      const T* xg = x + grp * D;
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < D; ++j) s += xg[j];
      const double m = s / static_cast<double>(D);
      double ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int64_t j = 0; j < D; ++j) ss += (xg[j] - m) * (xg[j] - m);
      const double rs = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
      mean[grp] = static_cast<T>(m);
      rstd[grp] = static_cast<T>(rs);
      const int64_t c0 = (grp % G) * Cg;
      for (int64_t k = 0; k < Cg; ++k) {
        const T scale = static_cast<T>(rs * (w ? static_cast<double>(w[c0 + k]) : 1.0));
        const T shift = static_cast<T>((b ? static_cast<double>(b[c0 + k]) : 0.0) - m * static_cast<double>(scale));
        const T* xc = xg + k * S;
        T* yc = y + grp * D + k * S;
#pragma omp simd
        for (int64_t j = 0; j < S; ++j) yc[j] = xc[j] * scale + shift;
      }
    }
  });
}

template <typename T>
void gn_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const T* mean, const T* rstd, int64_t N,
                 int64_t C, int64_t S, int64_t G) {
  const int64_t Cg = C / G, D = Cg * S;
  if (dx) {
    detail::parallel_range(N * G, 2 * N * C * S, [&](int64_t g0, int64_t g1) {
      for (int64_t grp = g0; grp < g1; ++grp) {
        const double m = mean[grp], rs = rstd[grp];
        const int64_t c0 = (grp % G) * Cg, base = grp * D;
        double sg = 0, sgx = 0;  // sums of g*w and g*w*xhat over the group
        for (int64_t k = 0; k < Cg; ++k) {
          const double wc = w ? static_cast<double>(w[c0 + k]) : 1.0;
          double a = 0, bsum = 0;
#pragma omp simd reduction(+ : a, bsum)
          for (int64_t j = 0; j < S; ++j) {
            a += dy[base + k * S + j];
            bsum += dy[base + k * S + j] * (x[base + k * S + j] - m);
          }
          sg += wc * a;
          sgx += wc * bsum * rs;
        }
        const double c1 = sg / static_cast<double>(D), c2 = sgx / static_cast<double>(D);
        for (int64_t k = 0; k < Cg; ++k) {
          const double wc = w ? static_cast<double>(w[c0 + k]) : 1.0;
#pragma omp simd
          for (int64_t j = 0; j < S; ++j) {
            const int64_t e = base + k * S + j;
            const double xhat = (x[e] - m) * rs;
            dx[e] = static_cast<T>(rs * (dy[e] * wc - c1 - xhat * c2));
          }
        }
      }
    });
  }
  if (dw || db) {
    detail::parallel_range(C, N * C * S, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double sw = 0, sb = 0;
        for (int64_t n = 0; n < N; ++n) {
          const int64_t grp = n * G + c / Cg;
          const double m = mean[grp], rs = rstd[grp];
          const T* g = dy + (n * C + c) * S;
          const T* xc = x + (n * C + c) * S;
          double a = 0, bsum = 0;
#pragma omp simd reduction(+ : a, bsum)
          for (int64_t j = 0; j < S; ++j) {
            a += g[j];
            bsum += g[j] * (xc[j] - m);
          }
          sb += a;
          sw += bsum * rs;
        }
        if (dw) dw[c] = static_cast<T>(sw);
        if (db) db[c] = static_cast<T>(sb);
      }
    });
  }
}

}  // namespace

void group_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t C, int64_t S, int64_t G, double eps) {
  if (N * C * S == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "group_norm_forward", [&] {
    gn_forward(static_cast<scalar_t*>(y), static_cast<scalar_t*>(mean), static_cast<scalar_t*>(rstd),
               static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(w), static_cast<const scalar_t*>(b), N, C,
               S, G, eps);
  });
}

void group_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t C, int64_t S, int64_t G) {
  LOOM_DISPATCH_FLOAT(dt, "group_norm_backward", [&] {
    using T = scalar_t;
    if (N * S == 0) {  // no values: zero weight and bias gradients
      for (int64_t c = 0; c < C; ++c) {
        if (dw) static_cast<T*>(dw)[c] = 0;
        if (db) static_cast<T*>(db)[c] = 0;
      }
      return;
    }
    gn_backward(static_cast<T*>(dx), static_cast<T*>(dw), static_cast<T*>(db), static_cast<const T*>(dy),
                static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(mean),
                static_cast<const T*>(rstd), N, C, S, G);
  });
}

}  // namespace loom::kernels::cpu
