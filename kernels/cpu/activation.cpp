// The activation kernels on the CPU (kernels/activation.h), on the formulas of kernels/activation_math.h.
// float32 computes exp, expm1, log1p and tanh with the vectorizable functions of kernels/cpu/branchless.h,
// float64 with std::. A row (the innermost dim, split over the pool's threads by for_each_row) is computed
// by a function compiled for AVX-512, AVX2 and baseline x86-64 (LOOM_CPU_CLONES), in blocks of kBlock
// elements that all go through one inlined vector loop, strided rows and a row's remainder through a
// buffer: a value's result does not depend on its position or on the view (a second copy of the loop
// could contract a * b + c into FMAs differently).
#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/activation_math.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {

namespace {

using detail::exp_fast;
using detail::expm1_fast;
using detail::log1p_fast;
using detail::tanh_fast;

// exp, expm1, log1p, tanh for the CPU rows: the *_fast functions (std:: for double).
struct FastMath {
  template <typename T>
  LOOM_CPU_INLINE static T exp(T x) {
    return exp_fast(x);
  }
  template <typename T>
  LOOM_CPU_INLINE static T expm1(T x) {
    return expm1_fast(x);
  }
  template <typename T>
  LOOM_CPU_INLINE static T log1p(T x) {
    return log1p_fast(x);
  }
  template <typename T>
  LOOM_CPU_INLINE static T tanh(T x) {
    return tanh_fast(x);
  }
};

constexpr int64_t kBlock = 64;

// o[j] = f(x[j]) (NIN = 1) or f(g[j], x[j]) (NIN = 2) for one block.
template <int NIN, typename T, typename F>
LOOM_CPU_INLINE void block(T* o, const T* g, const T* x, F f) {
  if constexpr (NIN == 1) {
#pragma omp simd
    for (int64_t j = 0; j < kBlock; ++j) o[j] = f(x[j]);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < kBlock; ++j) o[j] = f(g[j], x[j]);
  }
}

// One row of n elements at strides so, sg, sx: every block through the same call of block(). Called
// directly in each case of forward_row / backward_row (through a helper lambda GCC may outline a case into
// a function of the baseline target, outside the clone).
template <int NIN, typename T, typename F>
LOOM_CPU_INLINE void row(T* o, int64_t so, const T* g, int64_t sg, const T* x, int64_t sx, int64_t n, F f) {
  const bool unit = so == 1 && sx == 1 && (NIN == 1 || sg == 1);
  alignas(64) T bx[kBlock] = {}, bg[kBlock] = {}, bo[kBlock];
  for (int64_t i = 0; i < n; i += kBlock) {
    const int64_t m = std::min(kBlock, n - i);
    const bool direct = unit && m == kBlock;
    if (!direct) {
      for (int64_t j = 0; j < m; ++j) bx[j] = x[(i + j) * sx];
      if constexpr (NIN == 2)
        for (int64_t j = 0; j < m; ++j) bg[j] = g[(i + j) * sg];
    }
    block<NIN>(direct ? o + i : bo, NIN == 2 && direct ? g + i : bg, direct ? x + i : bx, f);
    if (!direct)
      for (int64_t j = 0; j < m; ++j) o[(i + j) * so] = bo[j];
  }
}

template <typename T>
LOOM_CPU_INLINE void forward_row(ActivationOp op, const ActivationParams& p, T* o, int64_t so, const T* x, int64_t sx,
                                 int64_t n) {
  using M = FastMath;
  const T a = T(p.a), b = T(p.b), c = T(p.c);
  switch (op) {
    case ActivationOp::LeakyRelu:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::leaky_relu(v, a); });
    case ActivationOp::Elu:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::elu<T, M>(v, a, b, c); });
    case ActivationOp::Softplus:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::softplus<T, M>(v, a, b); });
    case ActivationOp::Hardtanh:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::hardtanh(v, a, b); });
    case ActivationOp::Hardsigmoid:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [](T v) { return act::hardsigmoid(v); });
    case ActivationOp::Hardswish: return row<1, T>(o, so, nullptr, 0, x, sx, n, [](T v) { return act::hardswish(v); });
    case ActivationOp::Mish: return row<1, T>(o, so, nullptr, 0, x, sx, n, [](T v) { return act::mish<T, M>(v); });
    case ActivationOp::LogSigmoid:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [](T v) { return act::logsigmoid<T, M>(v); });
    case ActivationOp::Softsign: return row<1, T>(o, so, nullptr, 0, x, sx, n, [](T v) { return act::softsign(v); });
    case ActivationOp::Tanhshrink:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [](T v) { return act::tanhshrink<T, M>(v); });
    case ActivationOp::Hardshrink:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::hardshrink(v, a); });
    case ActivationOp::Softshrink:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::softshrink(v, a); });
    case ActivationOp::Threshold:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::threshold(v, a, b); });
    case ActivationOp::NanToNum:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::nan_to_num(v, a, b, c); });
    case ActivationOp::Huber:
      return row<1, T>(o, so, nullptr, 0, x, sx, n, [=](T v) { return act::huber(v, a, b, c); });
  }
}

template <typename T>
LOOM_CPU_INLINE void backward_row(ActivationOp op, const ActivationParams& p, T* o, int64_t so, const T* g, int64_t sg,
                                  const T* x, int64_t sx, int64_t n) {
  using M = FastMath;
  const T a = T(p.a), b = T(p.b), c = T(p.c);
  switch (op) {
    case ActivationOp::LeakyRelu:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::leaky_relu_grad(u, v, a); });
    case ActivationOp::Elu:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::elu_grad<T, M>(u, v, a, b, c); });
    case ActivationOp::Softplus:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::softplus_grad<T, M>(u, v, a, b); });
    case ActivationOp::Hardtanh:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::hardtanh_grad(u, v, a, b); });
    case ActivationOp::Hardsigmoid:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::hardsigmoid_grad(u, v); });
    case ActivationOp::Hardswish:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::hardswish_grad(u, v); });
    case ActivationOp::Mish:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::mish_grad<T, M>(u, v); });
    case ActivationOp::LogSigmoid:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::logsigmoid_grad<T, M>(u, v); });
    case ActivationOp::Softsign:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::softsign_grad(u, v); });
    case ActivationOp::Tanhshrink:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::tanhshrink_grad<T, M>(u, v); });
    case ActivationOp::Hardshrink:
    case ActivationOp::Softshrink:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::shrink_grad(u, v, a); });
    case ActivationOp::Threshold:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::threshold_grad(u, v, a); });
    case ActivationOp::NanToNum:
      return row<2, T>(o, so, g, sg, x, sx, n, [](T u, T v) { return act::nan_to_num_grad(u, v); });
    case ActivationOp::Huber:
      return row<2, T>(o, so, g, sg, x, sx, n, [=](T u, T v) { return act::huber_grad(u, v, a, b, c); });
  }
}

LOOM_CPU_CLONES void forward_f32(ActivationOp op, const ActivationParams& p, float* o, int64_t so, const float* x,
                                 int64_t sx, int64_t n) {
  forward_row<float>(op, p, o, so, x, sx, n);
}
LOOM_CPU_CLONES void forward_f64(ActivationOp op, const ActivationParams& p, double* o, int64_t so, const double* x,
                                 int64_t sx, int64_t n) {
  forward_row<double>(op, p, o, so, x, sx, n);
}
LOOM_CPU_CLONES void backward_f32(ActivationOp op, const ActivationParams& p, float* o, int64_t so, const float* g,
                                  int64_t sg, const float* x, int64_t sx, int64_t n) {
  backward_row<float>(op, p, o, so, g, sg, x, sx, n);
}
LOOM_CPU_CLONES void backward_f64(ActivationOp op, const ActivationParams& p, double* o, int64_t so, const double* g,
                                  int64_t sg, const double* x, int64_t sx, int64_t n) {
  backward_row<double>(op, p, o, so, g, sg, x, sx, n);
}

void check_dtype(DType dt, const char* what) {
  LOOM_CHECK_KIND(dt == DType::Float32 || dt == DType::Float64, ErrorKind::NotImplemented, what,
                  ": expected float32 or float64, got ", dtype_name(dt));
}

}  // namespace

void activation(ActivationOp op, DType dt, void* out, const void* in, const ActivationParams& p,
                const ElementwiseLoop& L) {
  check_dtype(dt, "activation");
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sx = L.strides[1][d];
  detail::for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
    if (dt == DType::Float32)
      forward_f32(op, p, static_cast<float*>(out) + off[0], so, static_cast<const float*>(in) + off[1], sx, n);
    else forward_f64(op, p, static_cast<double*>(out) + off[0], so, static_cast<const double*>(in) + off[1], sx, n);
  });
}

void activation_backward(ActivationOp op, DType dt, void* grad_in, const void* grad_out, const void* x,
                         const ActivationParams& p, const ElementwiseLoop& L) {
  check_dtype(dt, "activation_backward");
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sg = L.strides[1][d], sx = L.strides[2][d];
  detail::for_each_row<3>(L, [&](const int64_t* off, int64_t n, int64_t) {
    if (dt == DType::Float32)
      backward_f32(op, p, static_cast<float*>(grad_in) + off[0], so, static_cast<const float*>(grad_out) + off[1], sg,
                   static_cast<const float*>(x) + off[2], sx, n);
    else
      backward_f64(op, p, static_cast<double*>(grad_in) + off[0], so, static_cast<const double*>(grad_out) + off[1], sg,
                   static_cast<const double*>(x) + off[2], sx, n);
  });
}

}  // namespace loom::kernels::cpu
