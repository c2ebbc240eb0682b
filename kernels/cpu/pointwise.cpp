// Elementwise CPU kernels: unary and binary math (where, clamp, the ternary ops and tril / triu are in
// kernels/cpu/pointwise_select.cpp; masked_fill, copy, fill, arange and linspace in kernels/cpu/copy.cpp;
// the loop drivers shared by them in kernels/cpu/elementwise.h, the conversion in kernels/convert.h).
//
// Every kernel is a functor applied by map1/map2/map3 over an ElementwiseLoop:
// the op is chosen by a switch outside the loop and inlined into it, so runs
// of the innermost dim with unit strides compile to simd loops; a broadcast
// operand (stride 0 in the innermost dim) is hoisted out of the run; other
// strides take a plain strided loop. Loops above ~32k elements are split over
// the pool's threads (detail::for_each_row).
//
// Integer semantics (the front end promotes integers to float where PyTorch
// would): arithmetic wraps (two's complement) instead of being undefined on
// overflow; Div truncates toward zero and x / 0 gives 0 (FloorDiv, Remainder
// and Fmod: see floordiv_op); Pow is exact integer
// power by repeated squaring, and a negative exponent gives the truncated
// 1 / x^|e| (0 unless x is +-1). Float -> integer conversion saturates and
// maps NaN to 0. Bool supports Add/Maximum (or), Mul/Minimum (and) and the
// comparisons. The bitwise ops (BitAnd/BitOr/BitXor/BitNot) take bool and
// integer dtypes only; on bool they are the logical ops.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include "core/error.h"
#include "kernels/int_pow.h"
#include "kernels/pointwise.h"
#include "kernels/special_math.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pointwise_f32.h"

namespace loom::kernels::cpu {
namespace {

using detail::convert;
using detail::for_each_row;
using detail::is_int_v;
using detail::map1;
using detail::map2;
using detail::map3;

// ---- scalar helpers ----

using detail::mask_bytes;
using detail::select_bits;

using detail::wadd;  // two's complement arithmetic (kernels/cpu/elementwise.h)
using detail::wmul;
using detail::wneg;
using detail::wsub;

template <typename T>
inline T div_op(T a, T b) {
  if constexpr (is_int_v<T>) return b == 0 ? T(0) : b == -1 ? wneg(a) : T(a / b);
  else return a / b;
}

template <typename T>
inline T pow_op(T base, T e) {
  if constexpr (is_int_v<T>) {
    return int_pow(base, e);
  } else {
    return std::pow(base, e);
  }
}

// Rounded division and its remainders, as PyTorch defines them. Integers:
// x // 0 = 0 and x % 0 = x (the front end raises ZeroDivisionError on the CPU
// before a kernel sees a zero divisor; these values are what CUDA gives, where
// nothing is checked), and min // -1 wraps. Floats: the quotient is rebuilt
// from the exact fmod remainder, so floor_divide(a, b) is the integer below
// a / b even where a / b itself rounds up to an integer; x // 0 is x / 0.
template <typename T>
inline T floordiv_op(T a, T b) {
  if constexpr (is_int_v<T>) {
    if (b == 0) return T(0);
    if (b == -1) return wneg(a);
    const T q = T(a / b);
    return (T(a % b) != 0 && ((a < 0) != (b < 0))) ? T(q - 1) : q;
  } else {
    if (b == T(0)) return a / b;
    const T r = std::fmod(a, b);
    T q = (a - r) / b;  // an integer up to the rounding of the division
    if (r != T(0) && ((r < T(0)) != (b < T(0)))) q -= T(1);
    if (q == T(0)) return std::copysign(T(0), a / b);
    const T f = std::floor(q);
    return q - f > T(0.5) ? f + T(1) : f;
  }
}
template <typename T>
inline T truncdiv_op(T a, T b) {
  if constexpr (is_int_v<T>) return div_op(a, b);
  else return std::trunc(a / b);
}
template <typename T>
inline T fmod_op(T a, T b) {
  if constexpr (is_int_v<T>) return b == 0 ? a : b == -1 ? T(0) : T(a % b);
  else return std::fmod(a, b);
}
template <typename T>
inline T remainder_op(T a, T b) {
  if constexpr (is_int_v<T>) {
    if (b == 0) return a;
    const T r = fmod_op(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? T(r + b) : r;
  } else {
    const T r = std::fmod(a, b);
    return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? r + b : r;
  }
}

// float32 floor_divide, remainder and fmod without a call to fmodf per
// element: in double, n = trunc(a / b) is the exact truncated quotient and
// a - n * b the exact fmod remainder while |a / b| < 2^22 (n * b has at most
// 53 bits, and a double quotient of two floats cannot round onto an integer
// there), which is also where floordiv_op's float32 steps give exactly n or
// n - 1. The loop vectorizes (trunc is a vroundpd in the x86-64-v3 and v4
// clones); elements outside that range (huge quotients, b = 0, NaN, inf) are
// flagged and redone by the exact scalar path.
constexpr double kExactQuotient = 4194304.0;  // 2^22

// The elements the vector path leaves to the exact one: a huge quotient, b = 0,
// NaN, an infinite a (all in q), and an infinite b (0 * inf is NaN).
LOOM_CPU_INLINE bool needs_exact(double q, double bd) {
  return !(std::fabs(q) < kExactQuotient) | !(std::fabs(bd) < std::numeric_limits<double>::infinity());
}

template <BinaryOp OP>
LOOM_CPU_INLINE float rounded_f32(float a, float b, int& slow) {
  const double ad = a, bd = b, q = ad / bd, n = std::trunc(q);
  slow |= static_cast<int>(needs_exact(q, bd));
  const double r = std::copysign(ad - n * bd, ad);  // a zero remainder keeps a's sign, as fmod's
  if constexpr (OP == BinaryOp::Fmod) return static_cast<float>(r);
  const bool adjust = (r != 0.0) & ((r < 0.0) != (bd < 0.0));
  if constexpr (OP == BinaryOp::Remainder) return static_cast<float>(adjust ? r + bd : r);
  return static_cast<float>(adjust ? n - 1.0 : n);
}

template <BinaryOp OP>
inline float rounded_f32_exact(float a, float b) {
  if constexpr (OP == BinaryOp::Fmod) return fmod_op(a, b);
  else if constexpr (OP == BinaryOp::Remainder) return remainder_op(a, b);
  else return floordiv_op(a, b);
}

// One run: a and b have stride 1 or 0 (a broadcast value); out has stride 1.
// Returns nonzero when some element needs the exact path.
template <BinaryOp OP>
LOOM_CPU_CLONES int rounded_f32_run(float* o, const float* a, int64_t sa, const float* b, int64_t sb, int64_t n) {
  int slow = 0;
  if (sa == 1 && sb == 1) {
#pragma omp simd reduction(| : slow)
    for (int64_t i = 0; i < n; ++i) o[i] = rounded_f32<OP>(a[i], b[i], slow);
  } else if (sa == 1) {
    const float bv = b[0];
#pragma omp simd reduction(| : slow)
    for (int64_t i = 0; i < n; ++i) o[i] = rounded_f32<OP>(a[i], bv, slow);
  } else {
    const float av = a[0];
#pragma omp simd reduction(| : slow)
    for (int64_t i = 0; i < n; ++i) o[i] = rounded_f32<OP>(av, b[i * sb], slow);
  }
  return slow;
}

// out = a OP b over the loop (operands: 0 out, 1 a, 2 b), float32.
template <BinaryOp OP>
void rounded_f32_loop(float* out, const float* a, const float* b, const ElementwiseLoop& L) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d], sb = L.strides[2][d];
  const bool fast = so == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1);
  for_each_row<3>(L, [&](const int64_t* off, int64_t n, int64_t) {
    float* o = out + off[0];
    const float* x = a + off[1];
    const float* y = b + off[2];
    if (!fast) {
      for (int64_t i = 0; i < n; ++i) o[i * so] = rounded_f32_exact<OP>(x[i * sa], y[i * sb]);
      return;
    }
    // In chunks through a buffer: out may be a or b (in place), and the exact
    // pass must still read the inputs.
    constexpr int64_t kChunk = 512;
    float buf[kChunk];
    for (int64_t c = 0; c < n; c += kChunk) {
      const int64_t m = std::min(kChunk, n - c);
      const float* xc = x + c * sa;
      const float* yc = y + c * sb;
      if (rounded_f32_run<OP>(buf, xc, sa, yc, sb, m) != 0)
        for (int64_t i = 0; i < m; ++i) {
          const float u = xc[i * sa], v = yc[i * sb];
          if (needs_exact(double(u) / double(v), v)) buf[i] = rounded_f32_exact<OP>(u, v);
        }
      std::memcpy(o + c, buf, static_cast<size_t>(m) * sizeof(float));
    }
  });
}

bool rounded_f32_dispatch(BinaryOp op, float* out, const float* a, const float* b, const ElementwiseLoop& L) {
  switch (op) {
    case BinaryOp::FloorDiv: rounded_f32_loop<BinaryOp::FloorDiv>(out, a, b, L); return true;
    case BinaryOp::Remainder: rounded_f32_loop<BinaryOp::Remainder>(out, a, b, L); return true;
    case BinaryOp::Fmod: rounded_f32_loop<BinaryOp::Fmod>(out, a, b, L); return true;
    default: return false;
  }
}

// Float rounding over a unit-stride run: a vroundps in the v3 and v4 clones
// (baseline x86-64 has no rounding instruction and calls libm).
template <typename T>
LOOM_CPU_CLONES void round_run(UnaryOp op, T* o, const T* x, int64_t n) {
  switch (op) {
    case UnaryOp::Floor:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = std::floor(x[i]);
      return;
    case UnaryOp::Ceil:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = std::ceil(x[i]);
      return;
    case UnaryOp::Round:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = std::nearbyint(x[i]);
      return;
    default:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = std::trunc(x[i]);
      return;
  }
}

template <typename T>
T round_one(UnaryOp op, T v) {
  return op == UnaryOp::Floor   ? std::floor(v)
         : op == UnaryOp::Ceil  ? std::ceil(v)
         : op == UnaryOp::Round ? std::nearbyint(v)
                                : std::trunc(v);
}

template <typename T>
void round_loop(UnaryOp op, T* out, const T* in, const ElementwiseLoop& L) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d];
  for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
    T* o = out + off[0];
    const T* x = in + off[1];
    if (so == 1 && sa == 1) round_run(op, o, x, n);
    else
      for (int64_t i = 0; i < n; ++i) o[i * so] = round_one(op, x[i * sa]);
  });
}

// x ** s for a number s = k / 2 (HalfIntegerPow): unit-stride runs in clones.
template <typename T>
LOOM_CPU_CLONES void pow_half_integer_run(T* o, const T* x, int64_t n, detail::HalfIntegerPow f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(static_cast<double>(x[i])));
}

template <typename T>
void pow_half_integer_loop(T* out, const T* in, detail::HalfIntegerPow f, const ElementwiseLoop& L) {
  if constexpr (std::is_floating_point_v<T>) {
    const int d = L.ndim - 1;
    const int64_t so = L.strides[0][d], sa = L.strides[1][d];
    for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
      T* o = out + off[0];
      const T* x = in + off[1];
      if (so == 1 && sa == 1) pow_half_integer_run(o, x, n, f);
      else
        for (int64_t i = 0; i < n; ++i) o[i * so] = static_cast<T>(f(static_cast<double>(x[i * sa])));
    });
  }
}

// The modified Bessel functions over a unit-stride run: the scaled values by the branch-free expansions in
// clones (8 doubles a vector), then e^|x| in a second, scalar pass for the unscaled ones (and the signs of
// I1).
template <int NU, typename T>
LOOM_CPU_CLONES void bessel_scaled_run(double* o, const T* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = bessel_scaled_abs(NU, std::fabs(static_cast<double>(x[i])));
}

template <typename T>
void bessel_loop(UnaryOp op, T* out, const T* in, const ElementwiseLoop& L) {
  const int nu = op == UnaryOp::I1 || op == UnaryOp::I1e ? 1 : 0;
  const bool scaled = op == UnaryOp::I0e || op == UnaryOp::I1e;
  const auto one = [&](T v) {
    const double d = static_cast<double>(v);
    return static_cast<T>(nu == 0 ? (scaled ? i0e_d(d) : i0_d(d)) : (scaled ? i1e_d(d) : i1_d(d)));
  };
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d];
  for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
    T* o = out + off[0];
    const T* x = in + off[1];
    if (so != 1 || sa != 1) {
      for (int64_t i = 0; i < n; ++i) o[i * so] = one(x[i * sa]);
      return;
    }
    // In chunks: the scaled values in double, then e^|x| and the sign, rounded once to T (as i0_d ...).
    double e[256];
    for (int64_t c0 = 0; c0 < n; c0 += 256) {
      const int64_t m = std::min<int64_t>(256, n - c0);
      if (nu == 0) bessel_scaled_run<0>(e, x + c0, m);
      else bessel_scaled_run<1>(e, x + c0, m);
      for (int64_t i = 0; i < m; ++i) {
        const double v = static_cast<double>(x[c0 + i]), av = std::fabs(v);
        double r = e[i];
        if (!scaled) {
          if (!(av < 700)) {
            o[c0 + i] = one(x[c0 + i]);
            continue;
          }
          r *= std::exp(av);
        }
        o[c0 + i] = static_cast<T>(nu == 1 && v < 0 ? -r : r);
      }
    }
  });
}

// NaN-propagating maximum / minimum.
template <typename T>
inline T max_op(T a, T b) {
  return (a != a || a > b) ? a : b;
}
template <typename T>
inline T min_op(T a, T b) {
  return (a != a || a < b) ? a : b;
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add",
                                "sub",
                                "mul",
                                "div",
                                "pow",
                                "maximum",
                                "minimum",
                                "eq",
                                "ne",
                                "lt",
                                "le",
                                "gt",
                                "ge",
                                "rsub",
                                "rdiv",
                                "rpow",
                                "bitwise_and",
                                "bitwise_or",
                                "bitwise_xor",
                                "hypot",
                                "floor_divide",
                                "div",
                                "remainder",
                                "fmod",
                                "atan2",
                                "threshold_backward",
                                "gammainc",
                                "gammaincc",
                                "chebyshev_polynomial_t",
                                "chebyshev_polynomial_u",
                                "chebyshev_polynomial_v",
                                "chebyshev_polynomial_w",
                                "shifted_chebyshev_polynomial_t",
                                "shifted_chebyshev_polynomial_u",
                                "shifted_chebyshev_polynomial_v",
                                "shifted_chebyshev_polynomial_w",
                                "hermite_polynomial_h",
                                "hermite_polynomial_he",
                                "laguerre_polynomial_l",
                                "legendre_polynomial_p",
                                "bitwise_left_shift",
                                "bitwise_right_shift",
                                "copysign",
                                "logaddexp",
                                "logaddexp2",
                                "prelu",
                                "xlogy",
                                "xlog1py",
                                "sigmoid_backward",
                                "tanh_backward",
                                "silu_backward",
                                "gelu_backward",
                                "gelu_backward"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(BinaryOp::GeluTanhBackward) + 1,
                "one name per BinaryOp");
  return names[static_cast<int>(op)];
}
const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg",
                                "abs",
                                "sign",
                                "exp",
                                "log",
                                "sqrt",
                                "rsqrt",
                                "reciprocal",
                                "sin",
                                "cos",
                                "tanh",
                                "sigmoid",
                                "relu",
                                "gelu",
                                "gelu_tanh",
                                "silu",
                                "square",
                                "logical_not",
                                "bitwise_not",
                                "gelu_backward",
                                "gelu_tanh_backward",
                                "silu_backward",
                                "floor",
                                "ceil",
                                "round",
                                "trunc",
                                "log1p",
                                "expm1",
                                "log2",
                                "log10",
                                "exp2",
                                "tan",
                                "asin",
                                "acos",
                                "atan",
                                "sinh",
                                "cosh",
                                "erf",
                                "erfc",
                                "lgamma",
                                "digamma",
                                "trigamma",
                                "erfinv",
                                "i0",
                                "i0e",
                                "i1",
                                "i1e",
                                "erfcx",
                                "bessel_j0",
                                "bessel_j1",
                                "bessel_y0",
                                "bessel_y1",
                                "modified_bessel_k0",
                                "modified_bessel_k1",
                                "scaled_modified_bessel_k0",
                                "scaled_modified_bessel_k1",
                                "spherical_bessel_j0",
                                "airy_ai",
                                "logit"};
  return names[static_cast<int>(op)];
}

// The activations' backward (is_activation_backward; float32 runs in pointwise_f32.cpp): g times the
// derivative, written as the unary gradient ops are (GeluErfGrad...), so the two agree.
template <typename T, typename Fn>
void activation_backward_loop(BinaryOp op, Fn&& fn) {
  constexpr T kInvSqrt2 = T(0.70710678118654752440), kInvSqrt2Pi = T(0.39894228040143267794);
  constexpr T kTanhC = T(0.79788456080286535588), kTanhK = T(0.044715);
  switch (op) {
    case BinaryOp::SigmoidBackward: return fn([](T g, T y) { return g * (T(1) - y) * y; });
    case BinaryOp::TanhBackward: return fn([](T g, T y) { return g * (T(1) - y * y); });
    case BinaryOp::SiluBackward:
      return fn([](T g, T v) {
        const T s = T(1) / (T(1) + std::exp(-v));
        return g * (s * (T(1) + v * (T(1) - s)));
      });
    case BinaryOp::GeluErfBackward:
      return fn([=](T g, T v) {
        return g * (T(0.5) * (T(1) + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(T(-0.5) * v * v));
      });
    default:
      return fn([=](T g, T v) {
        const T t = std::tanh(kTanhC * (v + kTanhK * v * v * v));
        return g * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * kTanhC * (T(1) + T(3) * kTanhK * v * v));
      });
  }
}

// Calls fn(f) with the functor for `op` on T (comparisons return bool).
template <typename T, typename Fn>
void with_binary(BinaryOp op, Fn&& fn) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case BinaryOp::Add:
      case BinaryOp::Maximum: return fn([](bool a, bool b) { return a || b; });
      case BinaryOp::Mul:
      case BinaryOp::Minimum: return fn([](bool a, bool b) { return a && b; });
      // Branch-free forms (bool is 0 or 1), so the loops vectorize.
      case BinaryOp::BitAnd: return fn([](bool a, bool b) -> bool { return a & b; });
      case BinaryOp::BitOr: return fn([](bool a, bool b) -> bool { return a | b; });
      case BinaryOp::BitXor: return fn([](bool a, bool b) -> bool { return a ^ b; });
      default: break;
    }
  } else {
    if constexpr (std::is_floating_point_v<T>) {
      if (op == BinaryOp::Hypot) return fn([](T a, T b) { return std::hypot(a, b); });
      if (op == BinaryOp::Atan2) return fn([](T a, T b) { return std::atan2(a, b); });
      if (op == BinaryOp::Copysign) return fn([](T a, T b) { return std::copysign(a, b); });
      if (op == BinaryOp::LogAddExp) return fn([](T a, T b) { return logaddexp_t(a, b); });
      if (op == BinaryOp::LogAddExp2) return fn([](T a, T b) { return logaddexp2_t(a, b); });
      if (op == BinaryOp::Prelu) return fn([](T a, T b) { return a > T(0) ? a : a * b; });
      if (op == BinaryOp::Xlogy) return fn([](T a, T b) { return xlogy_t(a, b); });
      if (op == BinaryOp::Xlog1py) return fn([](T a, T b) { return xlog1py_t(a, b); });
      if (op == BinaryOp::Gammainc) return fn([](T a, T b) { return T(gammainc_d(double(a), double(b))); });
      if (op == BinaryOp::Gammaincc) return fn([](T a, T b) { return T(gammaincc_d(double(a), double(b))); });
      if (is_polynomial(op)) return fn([op](T x, T n) { return polynomial_d(op, x, n); });
      if (is_activation_backward(op)) return activation_backward_loop<T>(op, fn);
    }
    if constexpr (is_int_v<T>) {
      switch (op) {
        case BinaryOp::BitAnd: return fn([](T a, T b) { return T(a & b); });
        case BinaryOp::BitOr: return fn([](T a, T b) { return T(a | b); });
        case BinaryOp::BitXor: return fn([](T a, T b) { return T(a ^ b); });
        // Shifts past the width are 0 (<<) or the sign (>>), as PyTorch's; << on the unsigned bits.
        case BinaryOp::Shl:
          return fn(
              [](T a, T b) { return b < 0 || b >= T(sizeof(T) * 8) ? T(0) : T(std::make_unsigned_t<T>(a) << b); });
        case BinaryOp::Shr:
          return fn([](T a, T b) { return b < 0 || b >= T(sizeof(T) * 8) ? T(a < 0 ? -1 : 0) : T(a >> b); });
        default: break;
      }
    }
    switch (op) {
      case BinaryOp::Add: return fn([](T a, T b) { return wadd(a, b); });
      case BinaryOp::Sub: return fn([](T a, T b) { return wsub(a, b); });
      case BinaryOp::Mul: return fn([](T a, T b) { return wmul(a, b); });
      case BinaryOp::Div: return fn([](T a, T b) { return div_op(a, b); });
      case BinaryOp::Pow: return fn([](T a, T b) { return pow_op(a, b); });
      case BinaryOp::Maximum: return fn([](T a, T b) { return max_op(a, b); });
      case BinaryOp::Minimum: return fn([](T a, T b) { return min_op(a, b); });
      case BinaryOp::RSub: return fn([](T a, T b) { return wsub(b, a); });
      case BinaryOp::RDiv: return fn([](T a, T b) { return div_op(b, a); });
      case BinaryOp::RPow: return fn([](T a, T b) { return pow_op(b, a); });
      case BinaryOp::FloorDiv: return fn([](T a, T b) { return floordiv_op(a, b); });
      case BinaryOp::TruncDiv: return fn([](T a, T b) { return truncdiv_op(a, b); });
      case BinaryOp::Remainder: return fn([](T a, T b) { return remainder_op(a, b); });
      case BinaryOp::Fmod: return fn([](T a, T b) { return fmod_op(a, b); });
      case BinaryOp::ReluGrad: return fn([](T g, T y) { return y <= T(0) ? T(0) : g; });
      default: break;
    }
  }
  switch (op) {
    case BinaryOp::Eq: return fn([](T a, T b) { return a == b; });
    case BinaryOp::Ne: return fn([](T a, T b) { return a != b; });
    case BinaryOp::Lt: return fn([](T a, T b) { return a < b; });
    case BinaryOp::Le: return fn([](T a, T b) { return a <= b; });
    case BinaryOp::Gt: return fn([](T a, T b) { return a > b; });
    case BinaryOp::Ge: return fn([](T a, T b) { return a >= b; });
    default: LOOM_THROW(ErrorKind::Type, binary_name(op), ": not supported for dtype bool");
  }
}

// ---- unary ----

template <typename T>
void unary_numeric(UnaryOp op, T* o, const T* x, const ElementwiseLoop& L) {
  switch (op) {
    case UnaryOp::Neg: return map1(L, o, x, [](T v) { return wneg(v); });
    case UnaryOp::Abs:
      if constexpr (std::is_floating_point_v<T>)
        return map1(L, o, x, [](T v) { return std::fabs(v); });  // a bit mask, no branch
      else return map1(L, o, x, [](T v) { return v < T(0) ? wneg(v) : v; });
    // 0 for both zeros and for NaN, as PyTorch (NumPy keeps NaN).
    case UnaryOp::Sign: return map1(L, o, x, [](T v) { return v > T(0) ? T(1) : v < T(0) ? T(-1) : T(0); });
    case UnaryOp::Square: return map1(L, o, x, [](T v) { return wmul(v, v); });
    // `v < 0` is false for NaN, so relu(NaN) = NaN.
    case UnaryOp::Relu: return map1(L, o, x, [](T v) { return v < T(0) ? T(0) : v; });
    // Integers are integral already. nearbyint rounds half to even (the default mode).
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc:
      if constexpr (std::is_floating_point_v<T>) {
        return round_loop(op, o, x, L);
      } else {
        return map1(L, o, x, [](T v) { return v; });
      }
    default: LOOM_THROW(ErrorKind::Runtime, "unary: bad op");
  }
}

template <typename T>
void unary_float(UnaryOp op, T* o, const T* x, const ElementwiseLoop& L) {
  if constexpr (std::is_same_v<T, float>) {
    if (detail::f32_row_op(op)) return detail::unary_f32(op, o, x, L);  // kernels/cpu/pointwise_f32.cpp
  }
  constexpr T kInvSqrt2 = T(0.70710678118654752440), kInvSqrt2Pi = T(0.39894228040143267794);
  constexpr T kTanhC = T(0.79788456080286535588), kTanhK = T(0.044715);  // sqrt(2/pi)
  switch (op) {
    case UnaryOp::Exp: return map1(L, o, x, [](T v) { return std::exp(v); });
    case UnaryOp::Log: return map1(L, o, x, [](T v) { return std::log(v); });
    case UnaryOp::Sqrt: return map1(L, o, x, [](T v) { return std::sqrt(v); });
    case UnaryOp::Rsqrt: return map1(L, o, x, [](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::Reciprocal: return map1(L, o, x, [](T v) { return T(1) / v; });
    case UnaryOp::Sin: return map1(L, o, x, [](T v) { return std::sin(v); });
    case UnaryOp::Cos: return map1(L, o, x, [](T v) { return std::cos(v); });
    case UnaryOp::Log1p: return map1(L, o, x, [](T v) { return std::log1p(v); });
    case UnaryOp::Expm1: return map1(L, o, x, [](T v) { return std::expm1(v); });
    case UnaryOp::Log2: return map1(L, o, x, [](T v) { return std::log2(v); });
    case UnaryOp::Log10: return map1(L, o, x, [](T v) { return std::log10(v); });
    case UnaryOp::Exp2: return map1(L, o, x, [](T v) { return std::exp2(v); });
    case UnaryOp::Tan: return map1(L, o, x, [](T v) { return std::tan(v); });
    case UnaryOp::Asin: return map1(L, o, x, [](T v) { return std::asin(v); });
    case UnaryOp::Acos: return map1(L, o, x, [](T v) { return std::acos(v); });
    case UnaryOp::Atan: return map1(L, o, x, [](T v) { return std::atan(v); });
    case UnaryOp::Sinh: return map1(L, o, x, [](T v) { return std::sinh(v); });
    case UnaryOp::Cosh: return map1(L, o, x, [](T v) { return std::cosh(v); });
    case UnaryOp::Erf: return map1(L, o, x, [](T v) { return std::erf(v); });
    case UnaryOp::Erfc: return map1(L, o, x, [](T v) { return std::erfc(v); });
    case UnaryOp::Lgamma: return map1(L, o, x, [](T v) { return std::lgamma(v); });
    case UnaryOp::Digamma: return map1(L, o, x, [](T v) { return T(digamma_d(double(v))); });
    case UnaryOp::Trigamma: return map1(L, o, x, [](T v) { return T(trigamma_d(double(v))); });
    case UnaryOp::Erfinv: return map1(L, o, x, [](T v) { return T(erfinv_d(double(v))); });
    case UnaryOp::I0:
    case UnaryOp::I0e:
    case UnaryOp::I1:
    case UnaryOp::I1e: return bessel_loop(op, o, x, L);
    case UnaryOp::Erfcx: return map1(L, o, x, [](T v) { return T(erfcx_d(double(v))); });
    case UnaryOp::BesselJ0: return map1(L, o, x, [](T v) { return T(bessel_j0_d(double(v))); });
    case UnaryOp::BesselJ1: return map1(L, o, x, [](T v) { return T(bessel_j1_d(double(v))); });
    case UnaryOp::BesselY0: return map1(L, o, x, [](T v) { return T(bessel_y0_d(double(v))); });
    case UnaryOp::BesselY1: return map1(L, o, x, [](T v) { return T(bessel_y1_d(double(v))); });
    case UnaryOp::BesselK0: return map1(L, o, x, [](T v) { return T(bessel_k0_d(double(v))); });
    case UnaryOp::BesselK1: return map1(L, o, x, [](T v) { return T(bessel_k1_d(double(v))); });
    case UnaryOp::BesselK0e: return map1(L, o, x, [](T v) { return T(bessel_k0e_d(double(v))); });
    case UnaryOp::BesselK1e: return map1(L, o, x, [](T v) { return T(bessel_k1e_d(double(v))); });
    case UnaryOp::SphericalBesselJ0: return map1(L, o, x, [](T v) { return T(spherical_bessel_j0_d(double(v))); });
    case UnaryOp::AiryAi: return map1(L, o, x, [](T v) { return T(airy_ai_d(double(v))); });
    case UnaryOp::Logit: return map1(L, o, x, [](T v) { return std::log(v / (T(1) - v)); });
    case UnaryOp::Tanh: return map1(L, o, x, [](T v) { return std::tanh(v); });
    case UnaryOp::Sigmoid: return map1(L, o, x, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case UnaryOp::Silu: return map1(L, o, x, [](T v) { return v / (T(1) + std::exp(-v)); });
    case UnaryOp::GeluErf: return map1(L, o, x, [=](T v) { return T(0.5) * v * (T(1) + std::erf(v * kInvSqrt2)); });
    case UnaryOp::GeluTanh:
      return map1(L, o, x, [=](T v) { return T(0.5) * v * (T(1) + std::tanh(kTanhC * (v + kTanhK * v * v * v))); });
    // d/dx x*Phi(x) = Phi(x) + x*phi(x).
    case UnaryOp::GeluErfGrad:
      return map1(L, o, x, [=](T v) {
        return T(0.5) * (T(1) + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(T(-0.5) * v * v);
      });
    // With t = tanh(u), u = c(x + k x^3): 0.5(1 + t) + 0.5 x (1 - t^2) c (1 + 3k x^2).
    case UnaryOp::GeluTanhGrad:
      return map1(L, o, x, [=](T v) {
        T t = std::tanh(kTanhC * (v + kTanhK * v * v * v));
        return T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * kTanhC * (T(1) + T(3) * kTanhK * v * v);
      });
    // With s = sigmoid(x): s (1 + x (1 - s)).
    case UnaryOp::SiluGrad:
      return map1(L, o, x, [](T v) {
        T s = T(1) / (T(1) + std::exp(-v));
        return s * (T(1) + v * (T(1) - s));
      });
    default: return unary_numeric(op, o, x, L);
  }
}

// Bool and integer T (floating dtypes are rejected before dispatch).
template <typename T>
void bit_not(T* o, const T* x, const ElementwiseLoop& L) {
  if constexpr (std::is_same_v<T, bool>) map1(L, o, x, [](bool v) -> bool { return !v; });
  else if constexpr (is_int_v<T>) map1(L, o, x, [](T v) { return T(~v); });
}

}  // namespace

void unary(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop) {
  const char* name = unary_name(op);
  switch (op) {
    case UnaryOp::LogicalNot:
      LOOM_DISPATCH_ALL(dt, name, [&] {
        map1(loop, static_cast<bool*>(out), static_cast<const scalar_t*>(in),
             [](scalar_t v) { return v == scalar_t(0); });
      });
      return;
    case UnaryOp::BitNot:
      LOOM_CHECK_TYPE(!is_floating(dt), name, ": expected a bool or integer dtype, got ", dtype_name(dt));
      LOOM_DISPATCH_ALL(dt, name,
                        [&] { bit_not(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), loop); });
      return;
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Square:
    case UnaryOp::Relu:
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc:
      LOOM_DISPATCH_NUMERIC(
          dt, name, [&] { unary_numeric(op, static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), loop); });
      return;
    default:
      LOOM_DISPATCH_FLOAT(
          dt, name, [&] { unary_float(op, static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), loop); });
  }
}

void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, const ElementwiseLoop& loop) {
  LOOM_CHECK_TYPE(!is_bitwise(op) || !is_floating(dt), binary_name(op), ": expected a bool or integer dtype, got ",
                  dtype_name(dt));
  LOOM_CHECK_TYPE(!is_float_only(op) || is_floating(dt), binary_name(op), ": expected a floating dtype, got ",
                  dtype_name(dt));
  if (dt == DType::Float32 && rounded_f32_dispatch(op, static_cast<float*>(out), static_cast<const float*>(a),
                                                   static_cast<const float*>(b), loop))
    return;
  if (dt == DType::Float32 && detail::f32_binary_row_op(op))  // kernels/cpu/pointwise_f32.cpp
    return detail::binary_f32(op, static_cast<float*>(out), static_cast<const float*>(a), static_cast<const float*>(b),
                              loop);
  LOOM_DISPATCH_ALL(dt, binary_name(op), [&] {
    using T = scalar_t;
    with_binary<T>(op, [&](auto f) {
      using R = decltype(f(T(), T()));
      map2(loop, static_cast<R*>(out), static_cast<const T*>(a), static_cast<const T*>(b), f);
    });
  });
}

void binary_scalar(BinaryOp op, DType dt, void* out, const void* a, double s, const ElementwiseLoop& loop) {
  LOOM_CHECK_TYPE(!is_bitwise(op) || !is_floating(dt), binary_name(op), ": expected a bool or integer dtype, got ",
                  dtype_name(dt));
  LOOM_CHECK_TYPE(!is_float_only(op) || is_floating(dt), binary_name(op), ": expected a floating dtype, got ",
                  dtype_name(dt));
  LOOM_DISPATCH_ALL(dt, binary_name(op), [&] {
    using T = scalar_t;
    const T* x = static_cast<const T*>(a);
    if (is_comparison(op) && !std::is_same_v<T, bool> && static_cast<double>(convert<T>(s)) != s) {
      // s is not a value of T (int tensor vs 2.5): compare in double, as math says.
      with_binary<double>(op, [&](auto f) {
        map1(loop, static_cast<bool*>(out), x, [f, s](T v) { return f(static_cast<double>(v), s); });
      });
      return;
    }
    const T sv = convert<T>(s);
    if constexpr (std::is_same_v<T, float>) {
      // The number as a broadcast operand (stride 0) of the tensor-tensor loop.
      ElementwiseLoop L3 = loop;
      L3.noperands = 3;
      for (int i = 0; i < L3.ndim; ++i) L3.strides[2][i] = 0;
      const float* xf = static_cast<const float*>(a);  // T is float here (not a template: no discarding)
      const float* sf = static_cast<const float*>(static_cast<const void*>(&sv));
      if (rounded_f32_dispatch(op, static_cast<float*>(out), xf, sf, L3)) return;
      if (detail::f32_binary_row_op(op)) return detail::binary_f32(op, static_cast<float*>(out), xf, sf, L3);
    }
    if (op == BinaryOp::Pow && std::is_floating_point_v<T> && s == 2.0) {
      map1(loop, static_cast<T*>(out), x, [](T v) { return v * v; });
      return;
    }
    if (op == BinaryOp::Pow && std::is_floating_point_v<T> && detail::HalfIntegerPow(s).ok) {
      pow_half_integer_loop(static_cast<T*>(out), x, detail::HalfIntegerPow(s), loop);
      return;
    }
    with_binary<T>(op, [&](auto f) {
      using R = decltype(f(T(), T()));
      map1(loop, static_cast<R*>(out), x, [f, sv](T v) { return f(v, sv); });
    });
  });
}

}  // namespace loom::kernels::cpu
