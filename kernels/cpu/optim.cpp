// CPU fused SGD and Adam/AdamW updates: one pass over param, grad and the
// state buffers per tensor, split over the thread pool, each chunk a simd
// loop (no temporaries, unlike a composition of elementwise ops). The scalar
// coefficients are computed once in double and rounded to the tensor dtype,
// as PyTorch's single-tensor path does.
#include <cmath>

#include "core/error.h"
#include "kernels/optim.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

template <typename T>
void sgd_impl(T* p, const T* g, T* buf, int64_t n, double lr_d, double mom_d, double damp_d, bool nesterov, double wd_d,
              bool first) {
  const T lr = static_cast<T>(lr_d), mom = static_cast<T>(mom_d), damp1 = static_cast<T>(1.0 - damp_d),
          wd = static_cast<T>(wd_d);
  const bool use_mom = mom_d != 0;
  detail::parallel_range(n, n * 4, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      T d = g[i] + wd * p[i];
      if (use_mom) {
        const T nb = first ? d : mom * buf[i] + damp1 * d;
        buf[i] = nb;
        d = nesterov ? d + mom * nb : nb;
      }
      p[i] -= lr * d;
    }
  });
}

// One chunk of Adam's update; AMS keeps vmax = maximum(vmax, v) (NaN propagating) for the denominator.
template <bool AMS, typename T>
void adam_loop(T* p, const T* g, T* m, T* v, T* vmax, int64_t b, int64_t e, T step_size, T inv_sqrt_bc2, T b1, T b2,
               T one_b1, T one_b2, T eps, T decay, T l2) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) {
    const T pi = p[i] * decay;
    const T gi = g[i] + l2 * pi;
    const T mi = b1 * m[i] + one_b1 * gi;
    const T vi = b2 * v[i] + one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T vd = vi;
    if constexpr (AMS) {
      const T old = vmax[i];
      vd = old != old ? old : (vi != vi || vi > old ? vi : old);
      vmax[i] = vd;
    }
    p[i] = pi - step_size * mi / (std::sqrt(vd) * inv_sqrt_bc2 + eps);
  }
}

template <typename T>
void adam_impl(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, double lr_d, double b1_d, double b2_d, double eps_d,
               double wd_d, bool decoupled, int64_t step) {
  const double bc1 = 1.0 - std::pow(b1_d, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(b2_d, static_cast<double>(step));
  const T step_size = static_cast<T>(lr_d / bc1), inv_sqrt_bc2 = static_cast<T>(1.0 / std::sqrt(bc2));
  const T b1 = static_cast<T>(b1_d), b2 = static_cast<T>(b2_d), eps = static_cast<T>(eps_d);
  const T one_b1 = static_cast<T>(1.0 - b1_d), one_b2 = static_cast<T>(1.0 - b2_d);
  const T decay = static_cast<T>(decoupled ? 1.0 - lr_d * wd_d : 1.0);
  const T l2 = static_cast<T>(decoupled ? 0.0 : wd_d);
  detail::parallel_range(n, n * 8, [&](int64_t b, int64_t e) {
    if (vmax) adam_loop<true>(p, g, m, v, vmax, b, e, step_size, inv_sqrt_bc2, b1, b2, one_b1, one_b2, eps, decay, l2);
    else adam_loop<false>(p, g, m, v, vmax, b, e, step_size, inv_sqrt_bc2, b1, b2, one_b1, one_b2, eps, decay, l2);
  });
}

}  // namespace

void sgd_step(DType dt, void* param, const void* grad, void* buf, int64_t n, double lr, double momentum,
              double dampening, bool nesterov, double weight_decay, bool first_step) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "sgd_step", [&] {
    sgd_impl(static_cast<scalar_t*>(param), static_cast<const scalar_t*>(grad), static_cast<scalar_t*>(buf), n, lr,
             momentum, dampening, nesterov, weight_decay, first_step);
  });
}

void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, void* max_exp_avg_sq,
               int64_t n, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled,
               int64_t step) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "adam_step", [&] {
    adam_impl(static_cast<scalar_t*>(param), static_cast<const scalar_t*>(grad), static_cast<scalar_t*>(exp_avg),
              static_cast<scalar_t*>(exp_avg_sq), static_cast<scalar_t*>(max_exp_avg_sq), n, lr, beta1, beta2, eps,
              weight_decay, decoupled, step);
  });
}

}  // namespace loom::kernels::cpu
