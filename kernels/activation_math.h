// The formulas of the activation kernels (kernels/activation.h), shared by the CPU kernels and their CUDA
// twins. Each is a function of one element (forward) or of the output's gradient g and the input x
// (backward), templated on the element type T and on M, which supplies exp, expm1, log1p and tanh: the
// CUDA kernels pass StdMath (std::, the device's math library), the CPU's float32 rows pass the
// vectorizable *_fast functions of kernels/cpu/branchless.h. No branch depends on the data except through
// a ternary selection, so the CPU loops stay vectorized; a discarded branch may compute inf, never a NaN
// that a selection would keep.
//
// Definitions and gradients are PyTorch's, with its choices at the kinks: leaky_relu' (0) = slope,
// elu' (0) = alpha * scale * input_scale, hardtanh' = 0 at the bounds, hardsigmoid' = 0 at +-3,
// hardswish' (-3) = -1/2 and (3) = 3/2, hardshrink' = softshrink' = 0 at +-lambd, threshold' = 0 at the
// threshold. softplus' is computed as 1 / (1 + exp(-beta x)) (no inf / inf for large beta x below the
// threshold). mish uses tanh(log1p(e^x)) = n (n + 2) / (n (n + 2) + 2) with n = e^min(x, 40), one exp
// instead of three functions (exactly 1 beyond 40 in both precisions), and 1 - tanh^2 from the same
// fraction without cancellation.
#pragma once
#include <cmath>

#include "kernels/activation.h"

#if defined(__CUDACC__)
#define LOOM_ACT_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define LOOM_ACT_HD inline __attribute__((always_inline))
#else
#define LOOM_ACT_HD inline
#endif

namespace loom::kernels::act {

struct StdMath {
  template <typename T>
  LOOM_ACT_HD static T exp(T x) {
    return std::exp(x);
  }
  template <typename T>
  LOOM_ACT_HD static T expm1(T x) {
    return std::expm1(x);
  }
  template <typename T>
  LOOM_ACT_HD static T log1p(T x) {
    return std::log1p(x);
  }
  template <typename T>
  LOOM_ACT_HD static T tanh(T x) {
    return std::tanh(x);
  }
};

template <typename T>
LOOM_ACT_HD T leaky_relu(T x, T slope) {
  return x > T(0) ? x : x * slope;
}
template <typename T>
LOOM_ACT_HD T leaky_relu_grad(T g, T x, T slope) {
  return x > T(0) ? g : g * slope;
}

// elu(x) = scale x above 0, alpha scale (exp(input_scale x) - 1) at or below (NaN: the first branch).
template <typename T, typename M>
LOOM_ACT_HD T elu(T x, T alpha, T scale, T input_scale) {
  const T neg = alpha * scale * M::expm1((x < T(0) ? x : T(0)) * input_scale);
  return x <= T(0) ? neg : x * scale;
}
template <typename T, typename M>
LOOM_ACT_HD T elu_grad(T g, T x, T alpha, T scale, T input_scale) {
  const T neg = g * (alpha * scale * input_scale) * M::exp((x < T(0) ? x : T(0)) * input_scale);
  return x <= T(0) ? neg : g * scale;
}

// softplus(x) = log(1 + exp(beta x)) / beta, x itself where beta x > threshold.
template <typename T, typename M>
LOOM_ACT_HD T softplus(T x, T beta, T threshold) {
  const T bx = x * beta;
  const T soft = M::log1p(M::exp(bx > threshold ? threshold : bx)) / beta;  // NaN passes
  return bx > threshold ? x : soft;
}
template <typename T, typename M>
LOOM_ACT_HD T softplus_grad(T g, T x, T beta, T threshold) {
  const T bx = x * beta;
  const T soft = g / (T(1) + M::exp(-bx));
  return bx > threshold ? g : soft;
}

// clamp to [lo, hi]; a NaN x stays NaN, a NaN bound gives NaN (as PyTorch's).
template <typename T>
LOOM_ACT_HD T hardtanh(T x, T lo, T hi) {
  const T y = (x < lo || lo != lo) ? lo : x;
  return (y > hi || hi != hi) ? hi : y;
}
template <typename T>
LOOM_ACT_HD T hardtanh_grad(T g, T x, T lo, T hi) {
  return (x <= lo || x >= hi) ? T(0) : g;
}

template <typename T>
LOOM_ACT_HD T hardsigmoid(T x) {
  return hardtanh(x + T(3), T(0), T(6)) / T(6);
}
template <typename T>
LOOM_ACT_HD T hardsigmoid_grad(T g, T x) {
  return (x > T(-3) && x < T(3)) ? g * (T(1) / T(6)) : T(0);
}

template <typename T>
LOOM_ACT_HD T hardswish(T x) {
  return x * hardtanh(x + T(3), T(0), T(6)) / T(6);
}
template <typename T>
LOOM_ACT_HD T hardswish_grad(T g, T x) {
  const T mid = g * (x / T(3) + T(0.5));
  return x < T(-3) ? T(0) : (x <= T(3) ? mid : g);
}

// t = tanh(softplus(x)) and 1 - t (a NaN x gives NaN).
template <typename T, typename M>
LOOM_ACT_HD void mish_parts(T x, T& t, T& one_minus_t, T& n) {
  n = M::exp(x < T(40) ? x : T(40));
  const T p = n * (n + T(2)), d = p + T(2);
  t = p / d;
  one_minus_t = T(2) / d;
}
template <typename T, typename M>
LOOM_ACT_HD T mish(T x) {
  T t, omt, n;
  mish_parts<T, M>(x, t, omt, n);
  return x * t;
}
// t + x sigmoid(x) (1 - t^2).
template <typename T, typename M>
LOOM_ACT_HD T mish_grad(T g, T x) {
  T t, omt, n;
  mish_parts<T, M>(x, t, omt, n);
  const T sig = n / (T(1) + n);
  return g * (t + x * sig * (omt * (T(1) + t)));
}

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)).
template <typename T, typename M>
LOOM_ACT_HD T logsigmoid(T x) {
  const T ax = x < T(0) ? -x : x;
  return (x < T(0) ? x : T(0)) - M::log1p(M::exp(-ax));
}
// sigmoid(-x) = 1 / (1 + z) below 0, z / (1 + z) at or above, z = exp(-|x|).
template <typename T, typename M>
LOOM_ACT_HD T logsigmoid_grad(T g, T x) {
  const T ax = x < T(0) ? -x : x;
  const T z = M::exp(-ax);
  return g * ((x < T(0) ? T(1) : z) / (T(1) + z));
}

template <typename T>
LOOM_ACT_HD T softsign(T x) {
  return x / (T(1) + (x < T(0) ? -x : x));
}
template <typename T>
LOOM_ACT_HD T softsign_grad(T g, T x) {
  const T d = T(1) + (x < T(0) ? -x : x);
  return g / (d * d);
}

template <typename T, typename M>
LOOM_ACT_HD T tanhshrink(T x) {
  return x - M::tanh(x);
}
template <typename T, typename M>
LOOM_ACT_HD T tanhshrink_grad(T g, T x) {
  const T t = M::tanh(x);
  return g * (t * t);
}

template <typename T>
LOOM_ACT_HD T hardshrink(T x, T lambd) {
  return (x >= -lambd && x <= lambd) ? T(0) : x;
}
template <typename T>
LOOM_ACT_HD T shrink_grad(T g, T x, T lambd) {  // hardshrink's and softshrink's
  return (x >= -lambd && x <= lambd) ? T(0) : g;
}

// x - lambd above lambd, x + lambd below -lambd, else 0 (x * 0: NaN stays NaN).
template <typename T>
LOOM_ACT_HD T softshrink(T x, T lambd) {
  return x > lambd ? x - lambd : (x < -lambd ? x + lambd : x * T(0));
}

// huber_loss / smooth_l1_loss of a difference d: 0.5 d^2 qs where |d| < delta, else (|d| - 0.5 delta) ls;
// the gradient d qs inside, ls sign(d) outside (NaN stays NaN: the comparisons are false for it).
template <typename T>
LOOM_ACT_HD T huber(T d, T delta, T qs, T ls) {
  const T a = d < T(0) ? -d : d;
  return a < delta ? T(0.5) * d * d * qs : (a - T(0.5) * delta) * ls;
}
template <typename T>
LOOM_ACT_HD T huber_grad(T g, T d, T delta, T qs, T ls) {
  const T a = d < T(0) ? -d : d;
  return a < delta ? g * d * qs : g * (d > T(0) ? ls : (d < T(0) ? -ls : d));
}

// NaN, +inf and -inf replaced; the gradient passes where x is finite (x - x is 0 only there).
template <typename T>
LOOM_ACT_HD T nan_to_num(T x, T nan, T posinf, T neginf) {
  const T inf = T(INFINITY);
  return x != x ? nan : (x == inf ? posinf : (x == -inf ? neginf : x));
}
template <typename T>
LOOM_ACT_HD T nan_to_num_grad(T g, T x) {
  return x - x == T(0) ? g : T(0);
}

template <typename T>
LOOM_ACT_HD T threshold(T x, T th, T value) {
  return x <= th ? value : x;
}
template <typename T>
LOOM_ACT_HD T threshold_grad(T g, T x, T th) {
  return x <= th ? T(0) : g;
}

}  // namespace loom::kernels::act
