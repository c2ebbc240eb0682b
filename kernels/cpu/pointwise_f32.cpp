// The float32 unary ops on the vectorizable functions of kernels/cpu/branchless.h (exp_fast, log_fast...):
// the activations and their gradients, exp, exp2, expm1, log, log2, log10, log1p, sin, cos, tan, atan,
// asin, acos, tanh, erf, erfc, erfinv, lgamma and digamma, and sqrt, rsqrt and reciprocal. One row of n elements at
// strides so and sx is computed by a function compiled for AVX-512, AVX2 and baseline x86-64 (LOOM_CPU_CLONES), so that
// unit-stride rows run 16 or 8 lanes wide. Every element goes through the same vector block of kF32Block elements,
// inlined once (a row's remainder and strided rows through a buffer): a scalar remainder loop or a second copy could
// contract a * b + c into FMAs differently, and a value's result would depend on its position and on the view.
#include "kernels/cpu/pointwise_f32.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu::detail {

bool f32_row_op(UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Tanh:
    case UnaryOp::Sigmoid:
    case UnaryOp::Silu:
    case UnaryOp::SiluGrad:
    case UnaryOp::GeluErf:
    case UnaryOp::GeluErfGrad:
    case UnaryOp::GeluTanh:
    case UnaryOp::GeluTanhGrad:
    case UnaryOp::Erf:
    case UnaryOp::Erfc:
    case UnaryOp::Log1p:
    case UnaryOp::Expm1:
    case UnaryOp::Sin:
    case UnaryOp::Cos:
    case UnaryOp::Tan:
    case UnaryOp::Atan:
    case UnaryOp::Asin:
    case UnaryOp::Acos:
    case UnaryOp::Log2:
    case UnaryOp::Log10:
    case UnaryOp::Exp2:
    case UnaryOp::Erfinv:
    case UnaryOp::Lgamma:
    case UnaryOp::Digamma:
    case UnaryOp::Logit:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal: return true;
    default: return false;
  }
}

namespace {

constexpr int64_t kF32Block = 64;

template <typename F>
LOOM_CPU_INLINE void f32_block(float* o, const float* x, F f) {
#pragma omp simd
  for (int64_t j = 0; j < kF32Block; ++j) o[j] = f(x[j]);
}

// One call of f32_block for every block, direct or through the buffer: two inlined copies could be
// contracted differently.
template <typename F>
LOOM_CPU_INLINE void f32_row(float* o, int64_t so, const float* x, int64_t sx, int64_t n, F f) {
  const bool unit = so == 1 && sx == 1;
  alignas(64) float buf[kF32Block] = {};
  for (int64_t i = 0; i < n; i += kF32Block) {
    const int64_t m = std::min(kF32Block, n - i);
    const bool direct = unit && m == kF32Block;
    if (!direct)
      for (int64_t j = 0; j < m; ++j) buf[j] = x[(i + j) * sx];
    f32_block(direct ? o + i : buf, direct ? x + i : buf, f);
    if (!direct)
      for (int64_t j = 0; j < m; ++j) o[(i + j) * so] = buf[j];
  }
}

// f32_row for functions exact only below a bound (sincos_fast): each block's inputs are kept, and the
// elements at or above the bound (finite) are recomputed by `exact`, in the rare blocks that have any.
template <typename F, typename G>
LOOM_CPU_INLINE void f32_row_bounded(float* o, int64_t so, const float* x, int64_t sx, int64_t n, float bound, F f,
                                     G exact) {
  alignas(64) float in[kF32Block] = {}, out[kF32Block];
  for (int64_t i = 0; i < n; i += kF32Block) {
    const int64_t m = std::min(kF32Block, n - i);
    if (sx == 1) std::memcpy(in, x + i, sizeof(float) * m);
    else
      for (int64_t j = 0; j < m; ++j) in[j] = x[(i + j) * sx];
    f32_block(out, in, f);
    int32_t any = 0;
#pragma omp simd reduction(| : any)
    for (int64_t j = 0; j < kF32Block; ++j) any |= std::fabs(in[j]) >= bound ? 1 : 0;
    if (any)
      for (int64_t j = 0; j < m; ++j)
        if (std::fabs(in[j]) >= bound && std::fabs(in[j]) != INFINITY) out[j] = exact(in[j]);
    if (so == 1) std::memcpy(o + i, out, sizeof(float) * m);
    else
      for (int64_t j = 0; j < m; ++j) o[(i + j) * so] = out[j];
  }
}

LOOM_CPU_CLONES void unary_f32_row(UnaryOp op, float* o, int64_t so, const float* x, int64_t sx, int64_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f, kInvSqrt2Pi = 0.39894228040143267794f;
  constexpr float kTanhC = 0.79788456080286535588f, kTanhK = 0.044715f;  // sqrt(2/pi)
  switch (op) {
    case UnaryOp::Exp: return f32_row(o, so, x, sx, n, [](float v) { return exp_fast(v); });
    case UnaryOp::Log: return f32_row(o, so, x, sx, n, [](float v) { return log_fast(v); });
    case UnaryOp::Tanh: return f32_row(o, so, x, sx, n, [](float v) { return tanh_fast(v); });
    case UnaryOp::Erf: return f32_row(o, so, x, sx, n, [](float v) { return erf_fast(v); });
    case UnaryOp::Erfc: return f32_row(o, so, x, sx, n, [](float v) { return erfc_fast(v); });
    case UnaryOp::Logit: return f32_row(o, so, x, sx, n, [](float v) { return log_fast(v / (1.0f - v)); });
    // Correctly rounded in every clone (IEEE sqrt and division), so the same bits as a scalar loop.
    case UnaryOp::Sqrt: return f32_row(o, so, x, sx, n, [](float v) { return std::sqrt(v); });
    case UnaryOp::Rsqrt: return f32_row(o, so, x, sx, n, [](float v) { return 1.0f / std::sqrt(v); });
    case UnaryOp::Reciprocal: return f32_row(o, so, x, sx, n, [](float v) { return 1.0f / v; });
    case UnaryOp::Sin:
      return f32_row_bounded(
          o, so, x, sx, n, kSinCosMax, [](float v) { return sincos_fast(v, false); },
          [](float v) { return std::sin(v); });
    case UnaryOp::Cos:
      return f32_row_bounded(
          o, so, x, sx, n, kSinCosMax, [](float v) { return sincos_fast(v, true); },
          [](float v) { return std::cos(v); });
    case UnaryOp::Tan:
      return f32_row_bounded(
          o, so, x, sx, n, kSinCosMax, [](float v) { return tan_fast(v); }, [](float v) { return std::tan(v); });
    case UnaryOp::Atan: return f32_row(o, so, x, sx, n, [](float v) { return atan_fast(v); });
    case UnaryOp::Asin: return f32_row(o, so, x, sx, n, [](float v) { return asin_fast(v); });
    case UnaryOp::Acos: return f32_row(o, so, x, sx, n, [](float v) { return acos_fast(v); });
    case UnaryOp::Log2: return f32_row(o, so, x, sx, n, [](float v) { return log2_fast(v); });
    case UnaryOp::Log10: return f32_row(o, so, x, sx, n, [](float v) { return log10_fast(v); });
    case UnaryOp::Exp2: return f32_row(o, so, x, sx, n, [](float v) { return exp2_fast(v); });
    case UnaryOp::Erfinv: return f32_row(o, so, x, sx, n, [](float v) { return erfinv_fast(v); });
    // Large bodies: GCC would leave these lambdas out of line (and scalar) without the attribute.
    case UnaryOp::Lgamma:
      return f32_row(
          o, so, x, sx, n, [](float v) __attribute__((always_inline)) { return lgamma_fast(v); });
    case UnaryOp::Digamma:
      return f32_row(
          o, so, x, sx, n, [](float v) __attribute__((always_inline)) { return digamma_fast(v); });
    case UnaryOp::Log1p: return f32_row(o, so, x, sx, n, [](float v) { return log1p_fast(v); });
    case UnaryOp::Expm1: return f32_row(o, so, x, sx, n, [](float v) { return expm1_fast(v); });
    case UnaryOp::Sigmoid: return f32_row(o, so, x, sx, n, [](float v) { return 1.0f / (1.0f + exp_fast(-v)); });
    case UnaryOp::Silu: return f32_row(o, so, x, sx, n, [](float v) { return v / (1.0f + exp_fast(-v)); });
    case UnaryOp::SiluGrad:
      return f32_row(o, so, x, sx, n, [](float v) {
        const float s = 1.0f / (1.0f + exp_fast(-v));
        return s * (1.0f + v * (1.0f - s));
      });
    case UnaryOp::GeluErf:
      return f32_row(o, so, x, sx, n, [=](float v) { return 0.5f * v * (1.0f + erf_fast(v * kInvSqrt2)); });
    case UnaryOp::GeluErfGrad:
      return f32_row(o, so, x, sx, n, [=](float v) {
        return 0.5f * (1.0f + erf_fast(v * kInvSqrt2)) + v * kInvSqrt2Pi * exp_fast(-0.5f * v * v);
      });
    case UnaryOp::GeluTanh:
      return f32_row(o, so, x, sx, n,
                     [=](float v) { return 0.5f * v * (1.0f + tanh_fast(kTanhC * (v + kTanhK * v * v * v))); });
    case UnaryOp::GeluTanhGrad:
      return f32_row(o, so, x, sx, n, [=](float v) {
        const float t = tanh_fast(kTanhC * (v + kTanhK * v * v * v));
        return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kTanhC * (1.0f + 3.0f * kTanhK * v * v);
      });
    default: return;  // not f32_row_op(op)
  }
}

// The binary ops: one inlined vector loop over blocks, as f32_row. A unit-stride operand is read in place
// (a full block), a broadcast one (stride 0) from a block filled once with its value, any other gathered;
// the output is written in place when unit-stride, else through a block.
template <typename F>
LOOM_CPU_INLINE void f32_row2(float* o, int64_t so, const float* a, int64_t sa, const float* b, int64_t sb, int64_t n,
                              F f) {
  alignas(64) float ba[kF32Block] = {}, bb[kF32Block] = {}, bo[kF32Block];
  if (sa == 0) std::fill(ba, ba + kF32Block, a[0]);
  if (sb == 0) std::fill(bb, bb + kF32Block, b[0]);
  for (int64_t i = 0; i < n; i += kF32Block) {
    const int64_t m = std::min(kF32Block, n - i);
    const bool full = m == kF32Block;
    const float* pa = ba;
    if (sa == 1 && full) pa = a + i;
    else if (sa != 0)
      for (int64_t j = 0; j < m; ++j) ba[j] = a[(i + j) * sa];
    const float* pb = bb;
    if (sb == 1 && full) pb = b + i;
    else if (sb != 0)
      for (int64_t j = 0; j < m; ++j) bb[j] = b[(i + j) * sb];
    const bool direct = so == 1 && full;
    float* po = direct ? o + i : bo;
#pragma omp simd
    for (int64_t j = 0; j < kF32Block; ++j) po[j] = f(pa[j], pb[j]);
    if (!direct)
      for (int64_t j = 0; j < m; ++j) o[(i + j) * so] = bo[j];
  }
}

// The activations' backward (BinaryOp::SigmoidBackward...): g times the derivative, the derivative as
// unary_f32_row computes it (SiluGrad, GeluErfGrad, GeluTanhGrad), one pass instead of two.
LOOM_CPU_INLINE void activation_backward_row(BinaryOp op, float* o, int64_t so, const float* a, int64_t sa,
                                             const float* b, int64_t sb, int64_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f, kInvSqrt2Pi = 0.39894228040143267794f;
  constexpr float kTanhC = 0.79788456080286535588f, kTanhK = 0.044715f;
  switch (op) {
    case BinaryOp::SigmoidBackward:
      return f32_row2(o, so, a, sa, b, sb, n, [](float g, float y) { return g * (1.0f - y) * y; });
    case BinaryOp::TanhBackward:
      return f32_row2(o, so, a, sa, b, sb, n, [](float g, float y) { return g * (1.0f - y * y); });
    case BinaryOp::SiluBackward:
      return f32_row2(o, so, a, sa, b, sb, n, [](float g, float v) {
        const float s = 1.0f / (1.0f + exp_fast(-v));
        return g * (s * (1.0f + v * (1.0f - s)));
      });
    case BinaryOp::GeluErfBackward:
      return f32_row2(
          o, so, a, sa, b, sb, n, [=](float g, float v) __attribute__((always_inline)) {
            return g * (0.5f * (1.0f + erf_fast(v * kInvSqrt2)) + v * kInvSqrt2Pi * exp_fast(-0.5f * v * v));
          });
    default:
      return f32_row2(
          o, so, a, sa, b, sb, n, [=](float g, float v) __attribute__((always_inline)) {
            const float t = tanh_fast(kTanhC * (v + kTanhK * v * v * v));
            return g * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kTanhC * (1.0f + 3.0f * kTanhK * v * v));
          });
  }
}

LOOM_CPU_CLONES void binary_f32_row(BinaryOp op, float* o, int64_t so, const float* a, int64_t sa, const float* b,
                                    int64_t sb, int64_t n) {
  if (op == BinaryOp::Atan2) return f32_row2(o, so, a, sa, b, sb, n, [](float y, float x) { return atan2_fast(y, x); });
  // Exact IEEE operations (and comparisons) in every clone: the same bits as a scalar loop, 16 lanes wide.
  switch (op) {
    case BinaryOp::Add: return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return x + y; });
    case BinaryOp::Sub: return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return x - y; });
    case BinaryOp::RSub: return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return y - x; });
    case BinaryOp::Mul: return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return x * y; });
    case BinaryOp::Div: return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return x / y; });
    case BinaryOp::RDiv: return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return y / x; });
    // NaN wins (either operand), as the generic kernels' max_op / min_op.
    case BinaryOp::Maximum:
      return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return (x != x || x > y) ? x : y; });
    case BinaryOp::Minimum:
      return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return (x != x || x < y) ? x : y; });
    default: break;
  }
  if (op == BinaryOp::LogAddExp)
    return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) {
      const float r = (x > y ? x : y) + log1p_fast(exp_fast(-std::fabs(x - y)));
      return x == y && std::fabs(x) == INFINITY ? x : r;
    });
  if (op == BinaryOp::LogAddExp2)
    return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) {
      const float r = (x > y ? x : y) + log1p_fast(exp2_fast(-std::fabs(x - y))) * 1.44269504f;
      return x == y && std::fabs(x) == INFINITY ? x : r;
    });
  if (op == BinaryOp::Xlogy)
    return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) {
      const float r = x == 0.0f ? 0.0f : x * log_fast(y);
      return y != y ? y : r;
    });
  if (op == BinaryOp::Xlog1py)
    return f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) {
      const float r = x == 0.0f ? 0.0f : x * log1p_fast(y);
      return y != y ? y : r;
    });
  if (is_activation_backward(op)) return activation_backward_row(op, o, so, a, sa, b, sb, n);
  f32_row2(o, so, a, sa, b, sb, n, [](float x, float y) { return hypot_fast(x, y); });
}

}  // namespace

bool f32_binary_row_op(BinaryOp op) {
  return op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::RSub || op == BinaryOp::Mul ||
         op == BinaryOp::Div || op == BinaryOp::RDiv || op == BinaryOp::Maximum || op == BinaryOp::Minimum ||
         op == BinaryOp::Atan2 || op == BinaryOp::Hypot || op == BinaryOp::LogAddExp || op == BinaryOp::LogAddExp2 ||
         op == BinaryOp::Xlogy || op == BinaryOp::Xlog1py || is_activation_backward(op);
}

void binary_f32(BinaryOp op, float* out, const float* a, const float* b, const ElementwiseLoop& L) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d], sb = L.strides[2][d];
  for_each_row<3>(L, [&](const int64_t* off, int64_t n, int64_t) {
    binary_f32_row(op, out + off[0], so, a + off[1], sa, b + off[2], sb, n);
  });
}

void unary_f32(UnaryOp op, float* out, const float* in, const ElementwiseLoop& L) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sx = L.strides[1][d];
  for_each_row<2>(
      L, [&](const int64_t* off, int64_t n, int64_t) { unary_f32_row(op, out + off[0], so, in + off[1], sx, n); });
}

}  // namespace loom::kernels::cpu::detail
