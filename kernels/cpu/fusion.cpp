// CPU fusion kernels: the twins of kernels/cuda/fusion.cu and the CPU path.
//
// Pointwise epilogues (gated, FiLM, bilinear, bias + activation) are single
// passes over contiguous memory split into contiguous chunks over loom's pool;
// the inner loops are `omp simd` loops (sigmoid / tanh calls are scalar libm
// but the loops still stream each operand once). FiLM works per row so gamma
// and beta are the two halves of one [2D] row of the GEMM output.
// clip_loss: row log-sum-exps per row (max pass, then sum of exp), column
// log-sum-exps by column chunks whose running max / sum arrays run along the
// rows (unit stride, vectorizable), then the loss over the diagonal. The
// backward writes dsim and per-row partials of d loss / d logit_scale in one
// pass; every sum accumulates in double.
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/fusion.h"
#include "kernels/cpu/parallel.h"

// A simd hint usable inside the dtype-dispatch macro's lambda.
#define LOOM_FUSION_SIMD _Pragma("omp simd")

namespace loom::kernels::cpu {
namespace {

template <typename T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

constexpr double kGeluK = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluC = 0.044715;

template <typename T>
inline T gelu_tanh(T z) {
  const T t = std::tanh(T(kGeluK) * (z + T(kGeluC) * z * z * z));
  return T(0.5) * z * (T(1) + t);
}

template <typename T>
inline T gelu_tanh_grad(T z) {
  const T t = std::tanh(T(kGeluK) * (z + T(kGeluC) * z * z * z));
  return T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * T(kGeluK) * (T(1) + T(3 * kGeluC) * z * z);
}

template <typename F>
void chunks(int64_t n, int64_t work_per_item, F&& f) {
  detail::parallel_range(n, n * work_per_item, f);
}

}  // namespace

void gated_fusion_forward(DType dt, void* out, void* gate, const void* z, const void* bias, const void* a,
                          const void* b, int64_t B, int64_t D) {
  LOOM_DISPATCH_FLOAT(dt, "gated_fusion", [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(out);
    T* g = static_cast<T*>(gate);
    const T *zz = static_cast<const T*>(z), *c = static_cast<const T*>(bias), *aa = static_cast<const T*>(a),
            *bb = static_cast<const T*>(b);
    chunks(B, 8 * D, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t base = r * D;
        for (int64_t j = 0; j < D; ++j) {
          const int64_t i = base + j;
          const T gi = sigmoid(c ? zz[i] + c[j] : zz[i]);
          g[i] = gi;
          o[i] = bb[i] + gi * (aa[i] - bb[i]);
        }
      }
    });
  });
}

void gated_fusion_backward(DType dt, void* dz, void* da, void* db, const void* dout, const void* a, const void* b,
                           const void* gate, int64_t n) {
  LOOM_DISPATCH_FLOAT(dt, "gated_fusion_backward", [&] {
    using T = scalar_t;
    T* dzz = static_cast<T*>(dz);
    T* daa = static_cast<T*>(da);
    T* dbb = static_cast<T*>(db);
    const T *go = static_cast<const T*>(dout), *aa = static_cast<const T*>(a), *bb = static_cast<const T*>(b),
            *g = static_cast<const T*>(gate);
    chunks(n, 4, [&](int64_t lo, int64_t hi) {
      LOOM_FUSION_SIMD
      for (int64_t i = lo; i < hi; ++i) dzz[i] = go[i] * (aa[i] - bb[i]) * g[i] * (T(1) - g[i]);
      if (daa) {
        LOOM_FUSION_SIMD
        for (int64_t i = lo; i < hi; ++i) daa[i] = go[i] * g[i];
      }
      if (dbb) {
        LOOM_FUSION_SIMD
        for (int64_t i = lo; i < hi; ++i) dbb[i] = go[i] - go[i] * g[i];
      }
    });
  });
}

void film_forward(DType dt, void* out, const void* gb, const void* a, int64_t B, int64_t D) {
  LOOM_DISPATCH_FLOAT(dt, "film", [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(out);
    const T *p = static_cast<const T*>(gb), *aa = static_cast<const T*>(a);
    chunks(B, 2 * D, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *gam = p + r * 2 * D, *bet = gam + D, *ar = aa + r * D;
        T* orow = o + r * D;
        LOOM_FUSION_SIMD
        for (int64_t j = 0; j < D; ++j) orow[j] = gam[j] * ar[j] + bet[j];
      }
    });
  });
}

void film_backward(DType dt, void* dgb, void* da, const void* dout, const void* gb, const void* a, int64_t B,
                   int64_t D) {
  LOOM_DISPATCH_FLOAT(dt, "film_backward", [&] {
    using T = scalar_t;
    T* dp = static_cast<T*>(dgb);
    T* daa = static_cast<T*>(da);
    const T *go = static_cast<const T*>(dout), *p = static_cast<const T*>(gb), *aa = static_cast<const T*>(a);
    chunks(B, 3 * D, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *g = go + r * D, *ar = aa + r * D, *gam = p + r * 2 * D;
        T *dgam = dp + r * 2 * D, *dbet = dgam + D;
        LOOM_FUSION_SIMD
        for (int64_t j = 0; j < D; ++j) {
          dgam[j] = g[j] * ar[j];
          dbet[j] = g[j];
        }
        if (daa) {
          T* dar = daa + r * D;
          LOOM_FUSION_SIMD
          for (int64_t j = 0; j < D; ++j) dar[j] = g[j] * gam[j];
        }
      }
    });
  });
}

void bilinear_product(DType dt, void* h, const void* pa, const void* pb, int64_t n) {
  LOOM_DISPATCH_FLOAT(dt, "bilinear_pool", [&] {
    using T = scalar_t;
    T* hh = static_cast<T*>(h);
    const T *x = static_cast<const T*>(pa), *y = static_cast<const T*>(pb);
    chunks(n, 1, [&](int64_t lo, int64_t hi) {
      LOOM_FUSION_SIMD
      for (int64_t i = lo; i < hi; ++i) hh[i] = x[i] * y[i];
    });
  });
}

void bilinear_product_backward(DType dt, void* dpa, void* dpb, const void* dh, const void* pa, const void* pb,
                               int64_t n) {
  LOOM_DISPATCH_FLOAT(dt, "bilinear_pool_backward", [&] {
    using T = scalar_t;
    T* dx = static_cast<T*>(dpa);
    T* dy = static_cast<T*>(dpb);
    const T *g = static_cast<const T*>(dh), *x = static_cast<const T*>(pa), *y = static_cast<const T*>(pb);
    chunks(n, 2, [&](int64_t lo, int64_t hi) {
      if (dx) {
        LOOM_FUSION_SIMD
        for (int64_t i = lo; i < hi; ++i) dx[i] = g[i] * y[i];
      }
      if (dy) {
        LOOM_FUSION_SIMD
        for (int64_t i = lo; i < hi; ++i) dy[i] = g[i] * x[i];
      }
    });
  });
}

void clip_loss_forward(DType dt, void* loss, void* row_lse, void* col_lse, const void* sim, const void* logit_scale,
                       int64_t N) {
  LOOM_DISPATCH_FLOAT(dt, "clip_loss", [&] {
    using T = scalar_t;
    const T* S = static_cast<const T*>(sim);
    T* rl = static_cast<T*>(row_lse);
    T* cl = static_cast<T*>(col_lse);
    const double s = std::exp(static_cast<double>(*static_cast<const T*>(logit_scale)));
    const T st = static_cast<T>(s);
    chunks(N, 2 * N, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i) {
        const T* row = S + i * N;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < N; ++j) m = std::max(m, st * row[j]);
        double acc = 0;
        for (int64_t j = 0; j < N; ++j) acc += std::exp(static_cast<double>(st * row[j] - m));
        rl[i] = static_cast<T>(m + std::log(acc));
      }
    });
    chunks(N, 2 * N, [&](int64_t c0, int64_t c1) {
      const int64_t w = c1 - c0;
      std::vector<T> mx(w, -std::numeric_limits<T>::infinity());
      std::vector<double> acc(w, 0.0);
      for (int64_t i = 0; i < N; ++i) {
        const T* row = S + i * N + c0;
        LOOM_FUSION_SIMD
        for (int64_t j = 0; j < w; ++j) mx[j] = std::max(mx[j], st * row[j]);
      }
      for (int64_t i = 0; i < N; ++i) {
        const T* row = S + i * N + c0;
        for (int64_t j = 0; j < w; ++j) acc[j] += std::exp(static_cast<double>(st * row[j] - mx[j]));
      }
      for (int64_t j = 0; j < w; ++j) cl[c0 + j] = static_cast<T>(mx[j] + std::log(acc[j]));
    });
    double total = 0;
    for (int64_t i = 0; i < N; ++i)
      total += static_cast<double>(rl[i]) + static_cast<double>(cl[i]) - 2.0 * static_cast<double>(st * S[i * N + i]);
    *static_cast<T*>(loss) = static_cast<T>(total / (2.0 * static_cast<double>(N)));
  });
}

void clip_loss_backward(DType dt, void* dsim, void* scale_partial, const void* dloss, const void* sim,
                        const void* row_lse, const void* col_lse, const void* logit_scale, int64_t N) {
  LOOM_DISPATCH_FLOAT(dt, "clip_loss_backward", [&] {
    using T = scalar_t;
    const T *S = static_cast<const T*>(sim), *rl = static_cast<const T*>(row_lse), *cl = static_cast<const T*>(col_lse);
    T* dS = static_cast<T*>(dsim);
    T* part = static_cast<T*>(scale_partial);
    const T st = static_cast<T>(std::exp(static_cast<double>(*static_cast<const T*>(logit_scale))));
    const T coef = static_cast<T>(static_cast<double>(st) * static_cast<double>(*static_cast<const T*>(dloss)) /
                                  (2.0 * static_cast<double>(N)));
    chunks(N, 4 * N, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i) {
        const T* row = S + i * N;
        T* drow = dS + i * N;
        const T ri = rl[i];
        double acc = 0;
        for (int64_t j = 0; j < N; ++j) {
          const T l = st * row[j];
          T v = std::exp(l - ri) + std::exp(l - cl[j]);
          if (j == i) v -= T(2);
          drow[j] = coef * v;
          acc += static_cast<double>(drow[j]) * static_cast<double>(row[j]);
        }
        part[i] = static_cast<T>(acc);
      }
    });
  });
}

void bias_activation(DType dt, void* y, void* pre, const void* bias, int64_t M, int64_t O, Activation act) {
  LOOM_DISPATCH_FLOAT(dt, "linear", [&] {
    using T = scalar_t;
    T* yy = static_cast<T*>(y);
    T* pp = static_cast<T*>(pre);
    const T* bb = static_cast<const T*>(bias);
    chunks(M, O * (act == Activation::Gelu ? 8 : 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        T* yr = yy + r * O;
        if (bb) {
          LOOM_FUSION_SIMD
          for (int64_t j = 0; j < O; ++j) yr[j] += bb[j];
        }
        if (pp) {
          T* pr = pp + r * O;
          LOOM_FUSION_SIMD
          for (int64_t j = 0; j < O; ++j) pr[j] = yr[j];
        }
        if (act == Activation::Relu) {
          LOOM_FUSION_SIMD
          for (int64_t j = 0; j < O; ++j) yr[j] = yr[j] > T(0) ? yr[j] : T(0);
        } else if (act == Activation::Gelu) {
          for (int64_t j = 0; j < O; ++j) yr[j] = gelu_tanh(yr[j]);
        }
      }
    });
  });
}

void activation_backward(DType dt, void* dz, const void* dy, const void* saved, int64_t n, Activation act) {
  LOOM_DISPATCH_FLOAT(dt, "linear_backward", [&] {
    using T = scalar_t;
    T* d = static_cast<T*>(dz);
    const T *g = static_cast<const T*>(dy), *s = static_cast<const T*>(saved);
    chunks(n, act == Activation::Gelu ? 8 : 1, [&](int64_t lo, int64_t hi) {
      if (act == Activation::Relu) {
        LOOM_FUSION_SIMD
        for (int64_t i = lo; i < hi; ++i) d[i] = s[i] > T(0) ? g[i] : T(0);
      } else if (act == Activation::Gelu) {
        for (int64_t i = lo; i < hi; ++i) d[i] = g[i] * gelu_tanh_grad(s[i]);
      } else {
        for (int64_t i = lo; i < hi; ++i) d[i] = g[i];
      }
    });
  });
}

}  // namespace loom::kernels::cpu
