// Elementwise kernels: the common unary and binary math (activations and
// their gradients, exp, log, sqrt, + - * /, max, min), comparisons, where,
// clamp, masked_fill, dtype-converting copy, fill, arange, linspace. The
// other math ops (trigonometric, rounding, the special functions, pow,
// rounded divisions, bitwise ops, shifts) are in pointwise_math.cu.
//
// Two paths (map() of kernels/cuda/map.cuh). When every operand is contiguous (one dim, stride 1) a thread
// maps 4 consecutive elements with one vector load/store per operand (16
// bytes for float) when the pointers are aligned, then a scalar tail; any
// other loop (strided views, broadcasts with stride 0) goes through
// OffsetCalc, one element per thread in a grid-stride loop. The op is a
// runtime switch inside one functor per dtype class rather than a template
// parameter: the branch is uniform across the grid and costs nothing next to
// memory traffic, and it keeps the number of instantiations (and nvcc time)
// small. Float-only math on integer dtypes and bitwise ops on floating
// dtypes are rejected on the host.
// Integer semantics follow the CPU twins exactly: wrapping arithmetic,
// x / 0 = 0; float -> int conversion saturates with NaN -> 0.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/convert.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/map.cuh"
#include "kernels/pointwise.h"

namespace loom::kernels::cuda {

namespace {

// ---- unary ----

constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kGeluK = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kGeluC = 0.044715;

template <typename T>
struct UnaryFloatF {
  UnaryOp op;
  __device__ T operator()(T x) const {
    switch (op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Abs: return fabs(x);
      case UnaryOp::Sign: return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);  // sign(NaN) = 0, as PyTorch
      case UnaryOp::Exp: return exp(x);
      case UnaryOp::Log: return log(x);
      case UnaryOp::Sqrt: return sqrt(x);
      case UnaryOp::Rsqrt: return T(1) / sqrt(x);
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Tanh: return tanh(x);
      case UnaryOp::Sigmoid: return T(1) / (T(1) + exp(-x));
      case UnaryOp::Relu: return x < T(0) ? T(0) : x;  // NaN passes through
      case UnaryOp::GeluErf: return T(0.5) * x * (T(1) + erf(x * T(kSqrt1_2)));
      case UnaryOp::GeluTanh: return T(0.5) * x * (T(1) + tanh(T(kGeluK) * (x + T(kGeluC) * x * x * x)));
      case UnaryOp::Silu: return x / (T(1) + exp(-x));
      case UnaryOp::Square: return x * x;
      case UnaryOp::GeluErfGrad:
        return T(0.5) * (T(1) + erf(x * T(kSqrt1_2))) + x * T(kInvSqrt2Pi) * exp(T(-0.5) * x * x);
      case UnaryOp::GeluTanhGrad: {
        T t = tanh(T(kGeluK) * (x + T(kGeluC) * x * x * x));
        return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * T(kGeluK) * (T(1) + T(3 * kGeluC) * x * x);
      }
      case UnaryOp::SiluGrad: {
        T s = T(1) / (T(1) + exp(-x));
        return s * (T(1) + x * (T(1) - s));
      }
      default: return x;  // the other ops go to unary_math
    }
  }
};

template <typename T>
struct UnaryIntF {
  UnaryOp op;
  __device__ T operator()(T x) const {
    switch (op) {
      case UnaryOp::Neg: return wsub(T(0), x);
      case UnaryOp::Abs: return x < 0 ? wsub(T(0), x) : x;
      case UnaryOp::Sign: return x > 0 ? T(1) : x < 0 ? T(-1) : T(0);
      case UnaryOp::Relu: return x < 0 ? T(0) : x;
      case UnaryOp::Square: return wmul(x, x);
      default: return x;  // Floor, Ceil, Round, Trunc: integers are integral
    }
  }
};

template <typename T>
struct LogicalNotF {
  __device__ bool operator()(T x) const { return !(x != T(0)); }
};

// Bool and integer T only (floating dtypes are rejected on the host).
template <typename T>
struct BitNotF {
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) return !x;
    else return T(~x);
  }
};

// The floating unary ops vectorized here (UnaryFloatF); unary_math (pointwise_math.cu) has the others.
bool vectorized(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal:
    case UnaryOp::Tanh:
    case UnaryOp::Sigmoid:
    case UnaryOp::Relu:
    case UnaryOp::GeluErf:
    case UnaryOp::GeluTanh:
    case UnaryOp::Silu:
    case UnaryOp::Square:
    case UnaryOp::GeluErfGrad:
    case UnaryOp::GeluTanhGrad:
    case UnaryOp::SiluGrad: return true;
    default: return false;
  }
}

bool int_unary_ok(UnaryOp op) {
  return op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Sign || op == UnaryOp::Relu ||
         op == UnaryOp::Square || op == UnaryOp::Floor || op == UnaryOp::Ceil || op == UnaryOp::Round ||
         op == UnaryOp::Trunc;
}

// ---- binary ----

// The binary ops vectorized here; binary_math (pointwise_math.cu) has the others.
bool vectorized(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::RSub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::RDiv:
    case BinaryOp::Maximum:
    case BinaryOp::Minimum:
    case BinaryOp::ReluGrad: return true;
    default: return is_comparison(op) || is_activation_backward(op);
  }
}

// The activations' backward (is_activation_backward): g times the derivative, the derivative written as
// UnaryFloatF's gradient ops.
template <typename T>
__device__ T activation_backward(BinaryOp op, T g, T v) {
  switch (op) {
    case BinaryOp::SigmoidBackward: return g * (T(1) - v) * v;
    case BinaryOp::TanhBackward: return g * (T(1) - v * v);
    case BinaryOp::SiluBackward: {
      T s = T(1) / (T(1) + exp(-v));
      return g * (s * (T(1) + v * (T(1) - s)));
    }
    case BinaryOp::GeluErfBackward:
      return g * (T(0.5) * (T(1) + erf(v * T(kSqrt1_2))) + v * T(kInvSqrt2Pi) * exp(T(-0.5) * v * v));
    case BinaryOp::GeluTanhBackward: {
      T t = tanh(T(kGeluK) * (v + T(kGeluC) * v * v * v));
      return g * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * T(kGeluK) * (T(1) + T(3 * kGeluC) * v * v));
    }
    default: return T(0);
  }
}

template <typename T>
struct BinaryF {
  BinaryOp op;
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      // Add, Maximum: or; Mul, Minimum: and (the others are rejected on the host).
      return op == BinaryOp::Add || op == BinaryOp::Maximum ? (a || b) : (a && b);
    } else {
      switch (op) {
        case BinaryOp::Add: return wadd(a, b);
        case BinaryOp::Sub: return wsub(a, b);
        case BinaryOp::RSub: return wsub(b, a);
        case BinaryOp::Mul: return wmul(a, b);
        case BinaryOp::Div: return div(a, b);
        case BinaryOp::RDiv: return div(b, a);
        case BinaryOp::Maximum: return (a != a || a > b) ? a : b;  // NaN propagates
        case BinaryOp::Minimum: return (a != a || a < b) ? a : b;
        case BinaryOp::ReluGrad: return b <= T(0) ? T(0) : a;
        default:
          if constexpr (std::is_floating_point_v<T>) return activation_backward(op, a, b);
          return T(0);  // not vectorized(op): binary_math
      }
    }
  }
  __device__ static T div(T a, T b) {
    if constexpr (std::is_integral_v<T>) return b == 0 ? T(0) : b == -1 ? wsub(T(0), a) : T(a / b);
    else return a / b;
  }
};

template <typename T>
struct CompareF {
  BinaryOp op;
  __device__ bool operator()(T a, T b) const {
    switch (op) {
      case BinaryOp::Eq: return a == b;
      case BinaryOp::Ne: return a != b;
      case BinaryOp::Lt: return a < b;
      case BinaryOp::Le: return a <= b;
      case BinaryOp::Gt: return a > b;
      default: return a >= b;
    }
  }
};

// Binds the scalar operand so a binary functor becomes unary.
template <typename F, typename T>
struct BindScalar {
  F f;
  T s;
  __device__ auto operator()(T a) const { return f(a, s); }
};

template <typename T>
T scalar_as(double v) {
  return convert<T>(v);
}

// Comparison of an integer tensor with a scalar it cannot represent (2.5).
template <typename T>
struct CompareDoubleF {
  BinaryOp op;
  double s;
  __device__ bool operator()(T a) const { return CompareF<double>{op}(static_cast<double>(a), s); }
};

template <typename T>
struct SquareF {
  __device__ T operator()(T a) const { return a * a; }
};

void check_binary(BinaryOp op, DType dt, const char* name) {
  if (is_comparison(op)) return;
  if (is_float_only(op)) {
    LOOM_CHECK_TYPE(is_floating(dt), name, ": expected a floating dtype, got ", dtype_name(dt));
    return;
  }
  if (is_bitwise(op)) {
    LOOM_CHECK_TYPE(!is_floating(dt), name, ": bitwise op ", static_cast<int>(op),
                    " expects a bool or integer dtype, got ", dtype_name(dt));
    return;
  }
  if (is_shift(op)) {
    LOOM_CHECK_TYPE(!is_floating(dt) && dt != DType::Bool, name, ": shifts expect an integer dtype, got ",
                    dtype_name(dt));
    return;
  }
  if (dt == DType::Bool)
    LOOM_CHECK_TYPE(op == BinaryOp::Add || op == BinaryOp::Mul || op == BinaryOp::Maximum || op == BinaryOp::Minimum,
                    name, ": arithmetic op ", static_cast<int>(op), " is not supported for bool");
}

// ---- the rest ----

template <typename T>
struct ClampF {
  bool has_lo, has_hi;
  T lo, hi;
  __device__ T operator()(T x) const {
    // A NaN x stays (its comparisons are false); a NaN bound gives NaN (lo != lo), as PyTorch.
    if (has_lo && (x < lo || lo != lo)) x = lo;
    if (has_hi && (x > hi || hi != hi)) x = hi;
    return x;
  }
};

template <typename T>
struct ConstF {
  T v;
  __device__ T operator()() const { return v; }
};

template <typename T>
struct WhereF {
  T* out;
  const bool* cond;
  const T* a;
  const T* b;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    out[off[0]] = cond[off[1]] ? a[off[2]] : b[off[3]];
  }
};

template <typename T>
struct MaskedFillF {
  T* out;
  const bool* mask;
  T value;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    if (mask[off[1]]) out[off[0]] = value;
  }
};

template <typename D, typename S>
struct CopyF {
  D* dst;
  const S* src;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    dst[off[0]] = convert<D>(src[off[1]]);
  }
};

// a + b * c with the product rounded before the sum, as the CPU twin
// computes it (host code has no FMA): nvcc would otherwise contract it into
// one fused multiply-add and the last bit would differ from the CPU.
__device__ __forceinline__ double add_mul_exact(double a, double b, double c) { return __dadd_rn(a, __dmul_rn(b, c)); }

template <typename T>
__global__ void arange_kernel(T* out, int64_t n, double start, double step) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = convert<T>(add_mul_exact(start, static_cast<double>(i), step));
}

// The first half steps up from start, the second down from end (as the CPU
// twin and PyTorch do): both ends exact, values symmetric.
template <typename T>
__global__ void linspace_kernel(T* out, int64_t n, double start, double end) {
  double step = n > 1 ? (end - start) / static_cast<double>(n - 1) : 0.0;
  int64_t half = n / 2;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = convert<T>(n == 1 || i < half ? add_mul_exact(start, step, static_cast<double>(i))
                                           : add_mul_exact(end, -step, static_cast<double>(n - 1 - i)));
}

}  // namespace

void unary(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop, cudaStream_t stream) {
  if (op == UnaryOp::LogicalNot) {
    LOOM_DISPATCH_ALL(dt, "logical_not", [&] {
      map<1>(loop, static_cast<bool*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(nullptr),
             LogicalNotF<scalar_t>{}, stream);
    });
    return;
  }
  if (op == UnaryOp::BitNot) {
    LOOM_CHECK_TYPE(!is_floating(dt), "bitwise_not on CUDA expects a bool or integer dtype, got ", dtype_name(dt));
    LOOM_DISPATCH_ALL(dt, "bitwise_not", [&] {
      if constexpr (!std::is_floating_point_v<scalar_t>)
        map<1>(loop, static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in),
               static_cast<const scalar_t*>(nullptr), BitNotF<scalar_t>{}, stream);
    });
    return;
  }
  if (is_floating(dt) && !vectorized(op)) {
    unary_math(op, dt, out, in, loop, stream);
    return;
  }
  if (is_floating(dt)) {
    LOOM_DISPATCH_FLOAT(dt, "unary", [&] {
      map<1>(loop, static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(nullptr),
             UnaryFloatF<scalar_t>{op}, stream);
    });
    return;
  }
  LOOM_CHECK_TYPE(is_integral(dt) && int_unary_ok(op), "unary op ", static_cast<int>(op),
                  " on CUDA expects a floating dtype, got ", dtype_name(dt));
  if (dt == DType::Int32)
    map<1>(loop, static_cast<int32_t*>(out), static_cast<const int32_t*>(in), static_cast<const int32_t*>(nullptr),
           UnaryIntF<int32_t>{op}, stream);
  else
    map<1>(loop, static_cast<int64_t*>(out), static_cast<const int64_t*>(in), static_cast<const int64_t*>(nullptr),
           UnaryIntF<int64_t>{op}, stream);
}

void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, const ElementwiseLoop& loop,
            cudaStream_t stream) {
  check_binary(op, dt, "binary");
  if (!vectorized(op)) {
    binary_math(op, dt, out, a, b, 0.0, loop, stream);
    return;
  }
  LOOM_DISPATCH_ALL(dt, "binary", [&] {
    auto pa = static_cast<const scalar_t*>(a);
    auto pb = static_cast<const scalar_t*>(b);
    if (is_comparison(op)) map<2>(loop, static_cast<bool*>(out), pa, pb, CompareF<scalar_t>{op}, stream);
    else map<2>(loop, static_cast<scalar_t*>(out), pa, pb, BinaryF<scalar_t>{op}, stream);
  });
}

void binary_scalar(BinaryOp op, DType dt, void* out, const void* a, double s, const ElementwiseLoop& loop,
                   cudaStream_t stream) {
  check_binary(op, dt, "binary_scalar");
  if (!vectorized(op) && !(op == BinaryOp::Pow && is_floating(dt) && s == 2.0)) {  // x ** 2: SquareF below
    binary_math(op, dt, out, a, nullptr, s, loop, stream);
    return;
  }
  LOOM_DISPATCH_ALL(dt, "binary_scalar", [&] {
    auto pa = static_cast<const scalar_t*>(a);
    auto none = static_cast<const scalar_t*>(nullptr);
    scalar_t sv = scalar_as<scalar_t>(s);
    if constexpr (!std::is_same_v<scalar_t, bool>) {
      if (is_comparison(op) && static_cast<double>(sv) != s) {
        map<1>(loop, static_cast<bool*>(out), pa, none, CompareDoubleF<scalar_t>{op, s}, stream);
        return;
      }
      if (op == BinaryOp::Pow && std::is_floating_point_v<scalar_t> && s == 2.0) {
        map<1>(loop, static_cast<scalar_t*>(out), pa, none, SquareF<scalar_t>{}, stream);
        return;
      }
    }
    if (is_comparison(op))
      map<1>(loop, static_cast<bool*>(out), pa, none, BindScalar<CompareF<scalar_t>, scalar_t>{{op}, sv}, stream);
    else map<1>(loop, static_cast<scalar_t*>(out), pa, none, BindScalar<BinaryF<scalar_t>, scalar_t>{{op}, sv}, stream);
  });
}

void where(DType dt, void* out, const bool* cond, const void* a, const void* b, const ElementwiseLoop& loop,
           cudaStream_t stream) {
  LOOM_DISPATCH_ALL(dt, "where", [&] {
    launch_offsets<4>(loop,
                      WhereF<scalar_t>{static_cast<scalar_t*>(out), cond, static_cast<const scalar_t*>(a),
                                       static_cast<const scalar_t*>(b)},
                      stream);
  });
}

void clamp(DType dt, void* out, const void* in, bool has_lo, double lo, bool has_hi, double hi,
           const ElementwiseLoop& loop, cudaStream_t stream) {
  LOOM_DISPATCH_NUMERIC(dt, "clamp", [&] {
    // Integer bounds are the integers within [lo, hi].
    double l = has_lo ? (std::is_integral_v<scalar_t> ? std::ceil(lo) : lo) : 0;
    double h = has_hi ? (std::is_integral_v<scalar_t> ? std::floor(hi) : hi) : 0;
    ClampF<scalar_t> f{has_lo, has_hi, scalar_as<scalar_t>(l), scalar_as<scalar_t>(h)};
    map<1>(loop, static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(nullptr),
           f, stream);
  });
}

void masked_fill(DType dt, void* out, const bool* mask, double value, const ElementwiseLoop& loop,
                 cudaStream_t stream) {
  LOOM_DISPATCH_ALL(dt, "masked_fill", [&] {
    launch_offsets<2>(loop, MaskedFillF<scalar_t>{static_cast<scalar_t*>(out), mask, scalar_as<scalar_t>(value)},
                      stream);
  });
}

void copy(DType dst_dt, void* dst, DType src_dt, const void* src, const ElementwiseLoop& loop, cudaStream_t stream) {
  if (loop.numel <= 0) return;
  if (dst_dt == src_dt && loop.contiguous(0) && loop.contiguous(1)) {
    LOOM_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(loop.numel) * itemsize(dst_dt),
                                    cudaMemcpyDeviceToDevice, stream));
    return;
  }
  LOOM_DISPATCH_ALL(dst_dt, "copy", [&] {
    using D = scalar_t;
    LOOM_DISPATCH_ALL(src_dt, "copy", [&] {
      launch_offsets<2>(loop, CopyF<D, scalar_t>{static_cast<D*>(dst), static_cast<const scalar_t*>(src)}, stream);
    });
  });
}

void fill(DType dt, void* out, double value, const ElementwiseLoop& loop, cudaStream_t stream) {
  LOOM_DISPATCH_ALL(dt, "fill", [&] {
    map<0>(loop, static_cast<scalar_t*>(out), static_cast<const scalar_t*>(nullptr),
           static_cast<const scalar_t*>(nullptr), ConstF<scalar_t>{scalar_as<scalar_t>(value)}, stream);
  });
}

void arange(DType dt, void* out, int64_t n, double start, double step, cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_NUMERIC(dt, "arange", [&] {
    arange_kernel<<<grid_for(n), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), n, start, step);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void linspace(DType dt, void* out, int64_t n, double start, double end, cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_NUMERIC(dt, "linspace", [&] {
    linspace_kernel<<<grid_for(n), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), n, start, end);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
