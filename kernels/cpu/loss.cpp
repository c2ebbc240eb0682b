// CPU fused cross-entropy and NLL loss (kernels/loss.h): the twin of kernels/cuda/loss.cu.
//
// cross_entropy  rows [M, C] over the thread pool. Forward reads each row
//                twice (max, then sum of exp, plus the weighted logit sum for
//                label smoothing) and writes three scalars per row: the loss,
//                the log-sum-exp (all that backward needs besides the logits)
//                and the row weight. Backward writes each dlogit once from
//                exp(x - lse): no softmax tensor is ever materialised. Row
//                sums accumulate in double.
// nll_loss       one gathered value per row (n, k) of x [N, C, K]; backward
//                writes every element of dx (zeros and the one -g w[t] of a
//                row), split over N.
// bce_logits     elementwise over an ElementwiseLoop: unit-stride rows in
//                vector functions on exp_fast / log1p_fast, others strided.
#include <algorithm>
#include <cmath>
#include <atomic>
#include <limits>

#include "core/error.h"
#include "kernels/loss.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

// The log-sum-exp of one row: its maximum, then the sum of exp(x - max).
template <typename T>
LOOM_CPU_CLONES double row_logsumexp(const T* xr, int64_t C) {
  T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t c = 0; c < C; ++c) mx = xr[c] > mx ? xr[c] : mx;
  if (std::isinf(mx)) mx = 0;
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < C; ++c) s += detail::exp_fast(xr[c] - mx);
  return static_cast<double>(mx) + std::log(static_cast<double>(s));
}

// dr[c] = exp(xr[c] - l) a - b (b weight[c] when weight is given).
template <typename T>
LOOM_CPU_CLONES void row_dlogits(T* dr, const T* xr, T l, T a, T b, const T* weight, int64_t C) {
  if (weight) {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) dr[c] = detail::exp_fast(xr[c] - l) * a - b * weight[c];
  } else {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) dr[c] = detail::exp_fast(xr[c] - l) * a - b;
  }
}

template <typename T>
int64_t xent_forward(T* loss, T* lse, T* roww, const T* x, const int64_t* target, const T* weight, int64_t M, int64_t C,
                     int64_t ignore, double eps) {
  double wsum_all = 0;
  if (weight)
    for (int64_t c = 0; c < C; ++c) wsum_all += weight[c];
  else wsum_all = static_cast<double>(C);
  std::atomic<int64_t> bad{-1};
  detail::parallel_range(M, M * C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      const int64_t t = target[r];
      if (t == ignore) {
        loss[r] = 0;
        roww[r] = 0;
        lse[r] = 0;
        continue;
      }
      if (t < 0 || t >= C) {
        int64_t expected = -1;
        bad.compare_exchange_strong(expected, r);
        loss[r] = lse[r] = roww[r] = 0;
        continue;
      }
      const double l = row_logsumexp(xr, C);
      const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
      double v = (1.0 - eps) * wt * (l - static_cast<double>(xr[t]));
      if (eps > 0) {
        double wx = 0;
        if (weight) {
          T acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t c = 0; c < C; ++c) acc += weight[c] * xr[c];
          wx = acc;
        } else {
          T acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t c = 0; c < C; ++c) acc += xr[c];
          wx = acc;
        }
        v += eps / static_cast<double>(C) * (wsum_all * l - wx);
      }
      loss[r] = static_cast<T>(v);
      lse[r] = static_cast<T>(l);
      roww[r] = static_cast<T>(wt);
    }
  });
  return bad.load();
}

template <typename T>
void xent_backward(T* dx, const T* x, const int64_t* target, const T* weight, const T* lse, const T* grad,
                   int64_t gstride, int64_t M, int64_t C, int64_t ignore, double eps) {
  double wsum_all = 0;
  if (weight)
    for (int64_t c = 0; c < C; ++c) wsum_all += weight[c];
  else wsum_all = static_cast<double>(C);
  detail::parallel_range(M, M * C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      T* dr = dx + r * C;
      const int64_t t = target[r];
      if (t == ignore || t < 0 || t >= C) {
        std::fill(dr, dr + C, T(0));
        continue;
      }
      const T g = grad[r * gstride];
      const T l = lse[r];
      const T wt = weight ? weight[t] : T(1);
      // dx_c = p_c * (g ((1-eps) w_t + eps/C W)) - g eps/C w_c, then - g (1-eps) w_t at c = t.
      const T a = static_cast<T>(g * ((1.0 - eps) * wt + eps / static_cast<double>(C) * wsum_all));
      const T bconst = static_cast<T>(g * eps / static_cast<double>(C));
      row_dlogits(dr, xr, l, a, bconst, weight && eps > 0 ? weight : nullptr, C);
      dr[t] -= static_cast<T>(g * (1.0 - eps) * wt);
    }
  });
}

}  // namespace

int64_t cross_entropy_forward(DType dt, void* loss, void* lse, void* roww, const void* logits, const int64_t* target,
                              const void* weight, int64_t M, int64_t C, int64_t ignore_index, double smoothing) {
  if (M <= 0) return -1;
  int64_t bad = -1;
  LOOM_DISPATCH_FLOAT(dt, "cross_entropy", [&] {
    bad = xent_forward(static_cast<scalar_t*>(loss), static_cast<scalar_t*>(lse), static_cast<scalar_t*>(roww),
                       static_cast<const scalar_t*>(logits), target, static_cast<const scalar_t*>(weight), M, C,
                       ignore_index, smoothing);
  });
  return bad;
}

void cross_entropy_backward(DType dt, void* dlogits, const void* logits, const int64_t* target, const void* weight,
                            const void* lse, const void* grad, int64_t grad_stride, int64_t M, int64_t C,
                            int64_t ignore_index, double smoothing) {
  if (M <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "cross_entropy_backward", [&] {
    xent_backward(static_cast<scalar_t*>(dlogits), static_cast<const scalar_t*>(logits), target,
                  static_cast<const scalar_t*>(weight), static_cast<const scalar_t*>(lse),
                  static_cast<const scalar_t*>(grad), grad_stride, M, C, ignore_index, smoothing);
  });
}

namespace {

template <typename T>
int64_t nll_forward(T* loss, T* roww, const T* x, const int64_t* target, const T* weight, int64_t N, int64_t C,
                    int64_t K, int64_t ignore) {
  std::atomic<int64_t> bad{-1};
  detail::parallel_range(N, N * K, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t m = n * K + k, t = target[m];
        if (t == ignore || t < 0 || t >= C) {
          if (t != ignore) {
            int64_t expected = -1;
            bad.compare_exchange_strong(expected, m);
          }
          loss[m] = roww[m] = T(0);
          continue;
        }
        const T w = weight ? weight[t] : T(1);
        loss[m] = -(w * x[(n * C + t) * K + k]);
        roww[m] = w;
      }
  });
  return bad.load();
}

template <typename T>
void nll_backward(T* dx, const int64_t* target, const T* weight, const T* grad, int64_t gstride, int64_t N, int64_t C,
                  int64_t K, int64_t ignore) {
  detail::parallel_range(N, N * C * K, [&](int64_t n0, int64_t n1) {
    std::fill(dx + n0 * C * K, dx + n1 * C * K, T(0));
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t m = n * K + k, t = target[m];
        if (t == ignore || t < 0 || t >= C) continue;
        dx[(n * C + t) * K + k] = -(grad[m * gstride] * (weight ? weight[t] : T(1)));
      }
  });
}

}  // namespace

int64_t nll_loss_forward(DType dt, void* loss, void* roww, const void* x, const int64_t* target, const void* weight,
                         int64_t N, int64_t C, int64_t K, int64_t ignore_index) {
  if (N <= 0 || K <= 0) return -1;
  int64_t bad = -1;
  LOOM_DISPATCH_FLOAT(dt, "nll_loss", [&] {
    using T = scalar_t;
    bad = nll_forward(static_cast<T*>(loss), static_cast<T*>(roww), static_cast<const T*>(x), target,
                      static_cast<const T*>(weight), N, C, K, ignore_index);
  });
  return bad;
}

void nll_loss_backward(DType dt, void* dx, const int64_t* target, const void* weight, const void* grad,
                       int64_t grad_stride, int64_t N, int64_t C, int64_t K, int64_t ignore_index) {
  if (N <= 0 || C <= 0 || K <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "nll_loss_backward", [&] {
    using T = scalar_t;
    nll_backward(static_cast<T*>(dx), target, static_cast<const T*>(weight), static_cast<const T*>(grad), grad_stride,
                 N, C, K, ignore_index);
  });
}

// ---- binary cross-entropy with logits ----

namespace {

template <typename T>
LOOM_CPU_INLINE T bce_value(T x, T t) {
  const T m = x < T(0) ? -x : T(0);
  return (T(1) - t) * x + m + detail::log1p_fast(detail::exp_fast(-std::fabs(x)));
}
template <typename T>
LOOM_CPU_INLINE T bce_grad(T x, T t, T g) {
  return g * (T(1) / (T(1) + detail::exp_fast(-x)) - t);
}

template <typename T>
LOOM_CPU_CLONES void bce_forward_row(T* o, const T* x, const T* t, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = bce_value(x[i], t[i]);
}
// g per element, or one g for the row (gs = 0: the "mean" and "sum" reductions' broadcast gradient).
template <typename T>
LOOM_CPU_CLONES void bce_backward_row(T* o, const T* x, const T* t, const T* g, int64_t gs, int64_t n) {
  if (gs == 0) {
    const T g0 = g[0];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = bce_grad(x[i], t[i], g0);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = bce_grad(x[i], t[i], g[i]);
  }
}

}  // namespace

void bce_logits_forward(DType dt, void* out, const void* x, const void* t, const ElementwiseLoop& L) {
  LOOM_DISPATCH_FLOAT(dt, "binary_cross_entropy_with_logits", [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(out);
    const T *xp = static_cast<const T*>(x), *tp = static_cast<const T*>(t);
    const int d = L.ndim - 1;
    const int64_t so = L.strides[0][d], sx = L.strides[1][d], st = L.strides[2][d];
    detail::for_each_row<3>(L, [&](const int64_t* off, int64_t n, int64_t) {
      if (so == 1 && sx == 1 && st == 1) return bce_forward_row(o + off[0], xp + off[1], tp + off[2], n);
      for (int64_t i = 0; i < n; ++i) o[off[0] + i * so] = bce_value(xp[off[1] + i * sx], tp[off[2] + i * st]);
    });
  });
}

void bce_logits_backward(DType dt, void* dx, const void* x, const void* t, const void* g, const ElementwiseLoop& L) {
  LOOM_DISPATCH_FLOAT(dt, "binary_cross_entropy_with_logits_backward", [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(dx);
    const T *xp = static_cast<const T*>(x), *tp = static_cast<const T*>(t), *gp = static_cast<const T*>(g);
    const int d = L.ndim - 1;
    const int64_t so = L.strides[0][d], sx = L.strides[1][d], st = L.strides[2][d], sg = L.strides[3][d];
    detail::for_each_row<4>(L, [&](const int64_t* off, int64_t n, int64_t) {
      if (so == 1 && sx == 1 && st == 1 && (sg == 0 || sg == 1))
        return bce_backward_row(o + off[0], xp + off[1], tp + off[2], gp + off[3], sg, n);
      for (int64_t i = 0; i < n; ++i)
        o[off[0] + i * so] = bce_grad(xp[off[1] + i * sx], tp[off[2] + i * st], gp[off[3] + i * sg]);
    });
  });
}

}  // namespace loom::kernels::cpu
