// CPU GroupNorm (kernels/norm.h), the twin of kernels/cuda/norm_group.cu.
// x [N, C, S]: the C / G * S values of group (n, g) are contiguous. Forward:
// groups split over the pool; each is read three times (sum, centred sum of
// squares, then y = x * scale_c + shift_c per channel, a simd loop over S),
// sums in double. Backward: dx per group from its two sums (of g*w and
// g*w*xhat, kept per channel), then A_c * dy + B * x + C0 per element, groups
// over the pool; dw and db per channel from those sums, its N terms in order.
// Deterministic. The per-group and per-channel work runs in AVX-512 / AVX2 /
// baseline clones (LOOM_CPU_CLONES).
#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"
#include "kernels/norm.h"

namespace loom::kernels::cpu {
namespace {

// One group (n, g): its mean and rstd, then y = x * scale_c + shift_c per channel.
template <typename T>
LOOM_CPU_INLINE void gn_group_forward(T* y, T* mean, T* rstd, const T* xg, const T* w, const T* b, int64_t Cg,
                                      int64_t S, int64_t c0, double eps) {
  const int64_t D = Cg * S;
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < D; ++j) s += xg[j];
  const double m = s / static_cast<double>(D);
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t j = 0; j < D; ++j) ss += (xg[j] - m) * (xg[j] - m);
  const double rs = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
  *mean = static_cast<T>(m);
  *rstd = static_cast<T>(rs);
  for (int64_t k = 0; k < Cg; ++k) {
    const T scale = static_cast<T>(rs * (w ? static_cast<double>(w[c0 + k]) : 1.0));
    const T shift = static_cast<T>((b ? static_cast<double>(b[c0 + k]) : 0.0) - m * static_cast<double>(scale));
    const T* xc = xg + k * S;
    T* yc = y + k * S;
#pragma omp simd
    for (int64_t j = 0; j < S; ++j) yc[j] = xc[j] * scale + shift;
  }
}

// One group's backward: per channel k its sums a_k = sum(g) and b_k = sum(g * (x - mean)) (into pa, pb:
// the weight and bias gradients' terms), then, when dx is wanted, dx = A_k * dy + B * x + C0 per element in T
// (A_k = rstd * w_k, B = -rstd^2 * mean(g*w*xhat), C0 = rstd * (mean * rstd * mean(g*w*xhat) - mean(g*w))).
template <typename T>
LOOM_CPU_INLINE void gn_group_backward(T* dx, double* pa, double* pb, const T* dy, const T* x, const T* w, double m,
                                       double rs, int64_t Cg, int64_t S, int64_t c0) {
  const int64_t D = Cg * S;
  double sg = 0, sgx = 0;  // sums of g*w and g*w*xhat over the group
  for (int64_t k = 0; k < Cg; ++k) {
    const double wc = w ? static_cast<double>(w[c0 + k]) : 1.0;
    const T* g = dy + k * S;
    const T* xc = x + k * S;
    double a = 0, bsum = 0;
#pragma omp simd reduction(+ : a, bsum)
    for (int64_t j = 0; j < S; ++j) {
      a += g[j];
      bsum += g[j] * (xc[j] - m);
    }
    pa[k] = a;
    pb[k] = bsum;
    sg += wc * a;
    sgx += wc * bsum * rs;
  }
  if (!dx) return;
  const double c1 = sg / static_cast<double>(D), c2 = sgx / static_cast<double>(D);
  const T B = static_cast<T>(-rs * rs * c2), C0 = static_cast<T>(rs * (m * rs * c2 - c1));
  for (int64_t k = 0; k < Cg; ++k) {
    const T A = static_cast<T>(rs * (w ? static_cast<double>(w[c0 + k]) : 1.0));
    const T* g = dy + k * S;
    const T* xc = x + k * S;
    T* o = dx + k * S;
#pragma omp simd
    for (int64_t j = 0; j < S; ++j) o[j] = A * g[j] + B * xc[j] + C0;
  }
}

// The per-group and per-channel functions compiled for AVX-512, AVX2 and baseline x86-64: the double
// sums and the float conversions run 8 or 4 lanes wide.
LOOM_CPU_CLONES void gn_group_forward_f32(float* y, float* mean, float* rstd, const float* xg, const float* w,
                                          const float* b, int64_t Cg, int64_t S, int64_t c0, double eps) {
  gn_group_forward(y, mean, rstd, xg, w, b, Cg, S, c0, eps);
}
LOOM_CPU_CLONES void gn_group_forward_f64(double* y, double* mean, double* rstd, const double* xg, const double* w,
                                          const double* b, int64_t Cg, int64_t S, int64_t c0, double eps) {
  gn_group_forward(y, mean, rstd, xg, w, b, Cg, S, c0, eps);
}
LOOM_CPU_CLONES void gn_group_backward_f32(float* dx, double* pa, double* pb, const float* dy, const float* x,
                                           const float* w, double m, double rs, int64_t Cg, int64_t S, int64_t c0) {
  gn_group_backward(dx, pa, pb, dy, x, w, m, rs, Cg, S, c0);
}
LOOM_CPU_CLONES void gn_group_backward_f64(double* dx, double* pa, double* pb, const double* dy, const double* x,
                                           const double* w, double m, double rs, int64_t Cg, int64_t S, int64_t c0) {
  gn_group_backward(dx, pa, pb, dy, x, w, m, rs, Cg, S, c0);
}

void group_forward(float* y, float* mean, float* rstd, const float* xg, const float* w, const float* b, int64_t Cg,
                   int64_t S, int64_t c0, double eps) {
  gn_group_forward_f32(y, mean, rstd, xg, w, b, Cg, S, c0, eps);
}
void group_forward(double* y, double* mean, double* rstd, const double* xg, const double* w, const double* b,
                   int64_t Cg, int64_t S, int64_t c0, double eps) {
  gn_group_forward_f64(y, mean, rstd, xg, w, b, Cg, S, c0, eps);
}
void group_backward(float* dx, double* pa, double* pb, const float* dy, const float* x, const float* w, double m,
                    double rs, int64_t Cg, int64_t S, int64_t c0) {
  gn_group_backward_f32(dx, pa, pb, dy, x, w, m, rs, Cg, S, c0);
}
void group_backward(double* dx, double* pa, double* pb, const double* dy, const double* x, const double* w, double m,
                    double rs, int64_t Cg, int64_t S, int64_t c0) {
  gn_group_backward_f64(dx, pa, pb, dy, x, w, m, rs, Cg, S, c0);
}

template <typename T>
void gn_forward(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t N, int64_t C, int64_t S, int64_t G,
                double eps) {
  const int64_t Cg = C / G, D = Cg * S;
  detail::parallel_range(N * G, N * C * S, [&](int64_t g0, int64_t g1) {
    for (int64_t grp = g0; grp < g1; ++grp)
      group_forward(y + grp * D, mean + grp, rstd + grp, x + grp * D, w, b, Cg, S, (grp % G) * Cg, eps);
  });
}

template <typename T>
void gn_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, const T* mean, const T* rstd, int64_t N,
                 int64_t C, int64_t S, int64_t G) {
  const int64_t Cg = C / G, D = Cg * S;
  // Per (n, c): sum(g) and sum(g * (x - mean)), from the groups' pass that also writes dx.
  std::vector<double> pa(static_cast<size_t>(N * C)), pb(static_cast<size_t>(N * C));
  detail::parallel_range(N * G, (dx ? 2 : 1) * N * C * S, [&](int64_t g0, int64_t g1) {
    for (int64_t grp = g0; grp < g1; ++grp) {
      const int64_t c0 = (grp % G) * Cg, pc = (grp / G) * C + c0;
      group_backward(dx ? dx + grp * D : nullptr, pa.data() + pc, pb.data() + pc, dy + grp * D, x + grp * D, w,
                     mean[grp], rstd[grp], Cg, S, c0);
    }
  });
  if (!dw && !db) return;
  for (int64_t c = 0; c < C; ++c) {  // each channel's N terms in order
    double sw = 0, sb = 0;
    for (int64_t n = 0; n < N; ++n) {
      sb += pa[n * C + c];
      sw += pb[n * C + c] * static_cast<double>(rstd[n * G + c / Cg]);
    }
    if (dw) dw[c] = static_cast<T>(sw);
    if (db) db[c] = static_cast<T>(sb);
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
