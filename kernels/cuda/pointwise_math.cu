// The less common elementwise math on CUDA, one element per thread: trigonometric, hyperbolic, rounding,
// log1p/expm1/log2/log10/exp2, erf/erfc/lgamma and the special functions (digamma, trigamma, erfinv, the
// Bessel and Airy functions, erfcx) among the unary ops; pow, hypot, atan2, the rounded divisions and
// remainders, copysign, logaddexp(2), prelu, xlogy, xlog1py, the bitwise ops and shifts, the incomplete gamma
// functions and the orthogonal polynomials among the binary ones; lerp, addcmul and addcdiv (ternary());
// tril and triu (tri()).
// unary(), binary() and binary_scalar() of pointwise.cu call these for every op that is not one of their
// vectorized ones (activations, their gradients, + - * /, max, min).
//
// Each family is one device function per dtype that is not inlined, and the kernels call it: inlined,
// every one of these ops was compiled again into each vectorized, tail and strided instantiation of the
// generic map for each architecture, most of the library's build time. The ops are bound by arithmetic
// more than by memory traffic, so scalar loads through OffsetCalc and a call per element cost little.
// Semantics are the CPU twin's (kernels/cpu/pointwise.cpp; the special functions share
// kernels/special_math.h with it): integers give x // 0 = 0 and x % 0 = x (unchecked on CUDA, as in
// PyTorch), min // -1 wraps, exact integer powers; float quotients are rebuilt from the exact fmod
// remainder.
#include <cmath>
#include <type_traits>

#include "kernels/convert.h"
#include "kernels/cuda/common.cuh"
#include "kernels/int_pow.h"
#include "kernels/pointwise.h"
#include "kernels/special_math.h"

#if defined(__CUDACC__)
#define LOOM_MATH_CALL __device__ __noinline__
#else
#define LOOM_MATH_CALL __device__
#endif

namespace loom::kernels::cuda {

namespace {

// ---- unary (floating dtypes) ----

LOOM_MATH_CALL double unary_special_d(UnaryOp op, double x) {
  switch (op) {
    case UnaryOp::Digamma: return digamma_d(x);
    case UnaryOp::Trigamma: return trigamma_d(x);
    case UnaryOp::Erfinv: return erfinv_d(x);
    case UnaryOp::I0: return i0_d(x);
    case UnaryOp::I0e: return i0e_d(x);
    case UnaryOp::I1: return i1_d(x);
    case UnaryOp::I1e: return i1e_d(x);
    case UnaryOp::Erfcx: return erfcx_d(x);
    case UnaryOp::BesselJ0: return bessel_j0_d(x);
    case UnaryOp::BesselJ1: return bessel_j1_d(x);
    case UnaryOp::BesselY0: return bessel_y0_d(x);
    case UnaryOp::BesselY1: return bessel_y1_d(x);
    case UnaryOp::BesselK0: return bessel_k0_d(x);
    case UnaryOp::BesselK1: return bessel_k1_d(x);
    case UnaryOp::BesselK0e: return bessel_k0e_d(x);
    case UnaryOp::BesselK1e: return bessel_k1e_d(x);
    case UnaryOp::SphericalBesselJ0: return spherical_bessel_j0_d(x);
    case UnaryOp::AiryAi: return airy_ai_d(x);
    default: return NAN;  // not a special function (unary_math checks on the host)
  }
}

template <typename T>
LOOM_MATH_CALL T unary_math_t(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::Sin: return sin(x);
    case UnaryOp::Cos: return cos(x);
    case UnaryOp::Floor: return floor(x);
    case UnaryOp::Ceil: return ceil(x);
    case UnaryOp::Round: return rint(x);  // half to even, as nearbyint on the CPU
    case UnaryOp::Trunc: return trunc(x);
    case UnaryOp::Log1p: return log1p(x);
    case UnaryOp::Expm1: return expm1(x);
    case UnaryOp::Log2: return log2(x);
    case UnaryOp::Log10: return log10(x);
    case UnaryOp::Exp2: return exp2(x);
    case UnaryOp::Tan: return tan(x);
    case UnaryOp::Asin: return asin(x);
    case UnaryOp::Acos: return acos(x);
    case UnaryOp::Atan: return atan(x);
    case UnaryOp::Sinh: return sinh(x);
    case UnaryOp::Cosh: return cosh(x);
    case UnaryOp::Erf: return erf(x);
    case UnaryOp::Erfc: return erfc(x);
    case UnaryOp::Lgamma: return lgamma(x);
    case UnaryOp::Logit: return log(x / (T(1) - x));
    default: return T(unary_special_d(op, double(x)));
  }
}

bool unary_math_op(UnaryOp op) {
  switch (op) {
    case UnaryOp::Sin:
    case UnaryOp::Cos:
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc:
    case UnaryOp::Log1p:
    case UnaryOp::Expm1:
    case UnaryOp::Log2:
    case UnaryOp::Log10:
    case UnaryOp::Exp2:
    case UnaryOp::Tan:
    case UnaryOp::Asin:
    case UnaryOp::Acos:
    case UnaryOp::Atan:
    case UnaryOp::Sinh:
    case UnaryOp::Cosh:
    case UnaryOp::Erf:
    case UnaryOp::Erfc:
    case UnaryOp::Lgamma:
    case UnaryOp::Logit: return true;
    default: return is_special(op);
  }
}

template <typename T>
struct UnaryMathF {
  T* out;
  const T* in;
  UnaryOp op;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    out[off[0]] = unary_math_t(op, in[off[1]]);
  }
};

// ---- binary ----

template <typename T>
__device__ T floordiv_(T a, T b) {
  if constexpr (is_int_v<T>) {
    if (b == 0) return T(0);
    if (b == -1) return wsub(T(0), a);
    const T q = T(a / b);
    return (T(a % b) != 0 && ((a < 0) != (b < 0))) ? T(q - 1) : q;
  } else {
    if (b == T(0)) return a / b;
    const T r = fmod(a, b);
    T q = (a - r) / b;
    if (r != T(0) && ((r < T(0)) != (b < T(0)))) q -= T(1);
    if (q == T(0)) return copysign(T(0), a / b);
    const T f = floor(q);
    return q - f > T(0.5) ? f + T(1) : f;
  }
}
template <typename T>
__device__ T fmod_(T a, T b) {
  if constexpr (is_int_v<T>) return b == 0 ? a : b == -1 ? T(0) : T(a % b);
  else return fmod(a, b);
}
template <typename T>
__device__ T remainder_(T a, T b) {
  const T r = fmod_(a, b);
  if constexpr (is_int_v<T>) {
    if (b == 0) return a;
    return (r != 0 && ((r < 0) != (b < 0))) ? T(r + b) : r;
  } else {
    return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? r + b : r;
  }
}
template <typename T>
__device__ T truncdiv_(T a, T b) {
  if constexpr (is_int_v<T>) return b == 0 ? T(0) : b == -1 ? wsub(T(0), a) : T(a / b);
  else return trunc(a / b);
}

// a << b, a >> b: past the width 0, or the sign for >> (the CPU twin's rule).
template <typename T>
__device__ T shift_(BinaryOp op, T a, T b) {
  constexpr T kBits = T(sizeof(T) * 8);
  if (op == BinaryOp::Shl) return b < 0 || b >= kBits ? T(0) : T(std::make_unsigned_t<T>(a) << b);
  return b < 0 || b >= kBits ? T(a < 0 ? -1 : 0) : T(a >> b);
}

LOOM_MATH_CALL double gammainc_any(bool lower, double a, double x) { return incomplete_gamma(a, x, lower); }

// The ops each dtype class admits (the host rejects the others: check_binary in pointwise.cu).
template <typename T>
LOOM_MATH_CALL T binary_math_t(BinaryOp op, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return op == BinaryOp::BitAnd ? (a && b) : op == BinaryOp::BitOr ? (a || b) : (a != b);
  } else if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case BinaryOp::Pow: return pow(a, b);
      case BinaryOp::RPow: return pow(b, a);
      case BinaryOp::Hypot: return hypot(a, b);
      case BinaryOp::Atan2: return atan2(a, b);
      case BinaryOp::Copysign: return copysign(a, b);
      case BinaryOp::LogAddExp: return logaddexp_t(a, b);
      case BinaryOp::LogAddExp2: return logaddexp2_t(a, b);
      case BinaryOp::Prelu: return a > T(0) ? a : a * b;
      case BinaryOp::Xlogy: return xlogy_t(a, b);
      case BinaryOp::Xlog1py: return xlog1py_t(a, b);
      case BinaryOp::FloorDiv: return floordiv_(a, b);
      case BinaryOp::TruncDiv: return truncdiv_(a, b);
      case BinaryOp::Remainder: return remainder_(a, b);
      case BinaryOp::Fmod: return fmod_(a, b);
      case BinaryOp::Gammainc:
      case BinaryOp::Gammaincc: return T(gammainc_any(op == BinaryOp::Gammainc, double(a), double(b)));
      default: return polynomial_d(op, a, b);  // is_polynomial(op)
    }
  } else {
    switch (op) {
      case BinaryOp::Pow: return int_pow(a, b);
      case BinaryOp::RPow: return int_pow(b, a);
      case BinaryOp::FloorDiv: return floordiv_(a, b);
      case BinaryOp::TruncDiv: return truncdiv_(a, b);
      case BinaryOp::Remainder: return remainder_(a, b);
      case BinaryOp::Fmod: return fmod_(a, b);
      case BinaryOp::BitAnd: return T(a & b);
      case BinaryOp::BitOr: return T(a | b);
      case BinaryOp::BitXor: return T(a ^ b);
      default: return shift_(op, a, b);  // Shl, Shr
    }
  }
}

bool binary_math_op(BinaryOp op) {
  switch (op) {
    case BinaryOp::Pow:
    case BinaryOp::RPow:
    case BinaryOp::Hypot:
    case BinaryOp::Atan2:
    case BinaryOp::Copysign:
    case BinaryOp::LogAddExp:
    case BinaryOp::LogAddExp2:
    case BinaryOp::Prelu:
    case BinaryOp::Xlogy:
    case BinaryOp::Xlog1py:
    case BinaryOp::FloorDiv:
    case BinaryOp::TruncDiv:
    case BinaryOp::Remainder:
    case BinaryOp::Fmod: return true;
    default: return is_bitwise(op) || is_shift(op) || is_special(op);
  }
}

// out = op(a, b) with b a tensor (offsets[2]) or, when b is null, the scalar s.
template <typename T>
struct BinaryMathF {
  T* out;
  const T* a;
  const T* b;
  T s;
  BinaryOp op;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    out[off[0]] = binary_math_t(op, a[off[1]], b ? b[off[2]] : s);
  }
};

// out = lerp / addcmul / addcdiv of a, b and c (offsets[3]), or with the weight s when c is null (lerp).
template <typename T>
LOOM_MATH_CALL T ternary_math_t(TernaryOp op, T a, T b, T c, T s) {
  if constexpr (std::is_floating_point_v<T>) {
    if (op == TernaryOp::Lerp) return lerp_t(a, b, c);
    if (op == TernaryOp::Addcdiv) return a + s * (b / c);
  }
  return wadd(a, wmul(wmul(s, b), c));  // Addcmul
}

template <typename T>
struct TernaryMathF {
  T* out;
  const T* a;
  const T* b;
  const T* c;
  T s;
  TernaryOp op;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    out[off[0]] = ternary_math_t(op, a[off[1]], b[off[2]], c ? c[off[3]] : s, s);
  }
};

template <typename T, typename index_t>
__global__ void tri_kernel(T* __restrict__ out, const T* in, index_t total, index_t M, index_t N, int64_t k,
                           bool lower) {
  for (index_t idx = blockIdx.x * index_t(blockDim.x) + threadIdx.x; idx < total;
       idx += index_t(gridDim.x) * blockDim.x) {
    const index_t j = idx % N, i = (idx / N) % M;
    const int64_t d = int64_t(j) - int64_t(i);
    const bool keep = lower ? d <= k : d >= k;
    out[idx] = keep ? in[idx] : T(0);
  }
}

}  // namespace

void unary_math(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop, cudaStream_t stream) {
  LOOM_CHECK(unary_math_op(op), "unary_math: op ", static_cast<int>(op), " is one of pointwise.cu's vectorized ops");
  LOOM_DISPATCH_FLOAT(dt, "unary", [&] {
    launch_offsets<2>(loop, UnaryMathF<scalar_t>{static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), op},
                      stream);
  });
}

void binary_math(BinaryOp op, DType dt, void* out, const void* a, const void* b, double s, const ElementwiseLoop& loop,
                 cudaStream_t stream) {
  LOOM_CHECK(binary_math_op(op), "binary_math: op ", static_cast<int>(op), " is one of pointwise.cu's vectorized ops");
  LOOM_DISPATCH_ALL(dt, "binary", [&] {
    BinaryMathF<scalar_t> f{static_cast<scalar_t*>(out), static_cast<const scalar_t*>(a),
                            static_cast<const scalar_t*>(b), convert<scalar_t>(s), op};
    if (b) launch_offsets<3>(loop, f, stream);
    else launch_offsets<2>(loop, f, stream);
  });
}

void ternary(TernaryOp op, DType dt, void* out, const void* a, const void* b, const void* c, double s,
             const ElementwiseLoop& loop, cudaStream_t stream) {
  const char* name = op == TernaryOp::Lerp ? "lerp" : op == TernaryOp::Addcmul ? "addcmul" : "addcdiv";
  LOOM_CHECK_TYPE(op == TernaryOp::Addcmul ? dt != DType::Bool : is_floating(dt), name, ": expected a ",
                  op == TernaryOp::Addcmul ? "numeric" : "floating", " dtype, got ", dtype_name(dt));
  LOOM_DISPATCH_NUMERIC(dt, name, [&] {
    TernaryMathF<scalar_t> f{static_cast<scalar_t*>(out),
                             static_cast<const scalar_t*>(a),
                             static_cast<const scalar_t*>(b),
                             static_cast<const scalar_t*>(c),
                             convert<scalar_t>(s),
                             op};
    if (c) launch_offsets<4>(loop, f, stream);
    else launch_offsets<3>(loop, f, stream);
  });
}

void tri(DType dt, void* out, const void* in, int64_t B, int64_t M, int64_t N, int64_t k, bool lower,
         cudaStream_t stream) {
  const int64_t total = B * M * N;
  if (total <= 0) return;
  LOOM_DISPATCH_ALL(dt, lower ? "tril" : "triu", [&] {
    using T = scalar_t;
    dispatch_index(total < (int64_t(1) << 30), [&](auto tag) {  // headroom for idx + the grid stride
      using index_t = decltype(tag);
      tri_kernel<T, index_t><<<grid_for(total), kThreads, 0, stream>>>(
          static_cast<T*>(out), static_cast<const T*>(in), static_cast<index_t>(total), static_cast<index_t>(M),
          static_cast<index_t>(N), k, lower);
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

}  // namespace loom::kernels::cuda
