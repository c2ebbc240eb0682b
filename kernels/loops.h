// Descriptors that front ends hand to kernels: raw sizes and element strides,
// no Tensor. Front ends broadcast (stride 0), coalesce dimensions that are
// contiguous for every operand, and apply storage offsets to the pointers.
#pragma once
#include <cstdint>

namespace loom::kernels {

constexpr int kMaxDims = 12;
constexpr int kMaxOperands = 4;

// One iteration space shared by all operands; operand 0 is the output.
// ndim >= 1 always (a 0-d tensor is iterated as [1]). The last dim is the
// innermost (fastest) one.
struct ElementwiseLoop {
  int ndim = 1;
  int noperands = 1;
  int64_t numel = 1;
  int64_t sizes[kMaxDims] = {1};
  int64_t strides[kMaxOperands][kMaxDims] = {{0}};
  // True when every operand has stride 1 (or 0 for broadcast scalars) in a
  // single dimension: kernels take a flat fast path.
  bool contiguous(int op) const { return ndim == 1 && strides[op][0] == 1; }
};

// Reduction: out[o] = reduce_r in[o, r]. Kept dims index the output, reduced
// dims are summed over. Both lists are ordered outer to inner.
struct ReduceLoop {
  int out_ndim = 1;
  int64_t out_numel = 1;
  int64_t out_sizes[kMaxDims] = {1};
  int64_t out_strides[kMaxDims] = {0};     // strides of the output tensor
  int64_t in_out_strides[kMaxDims] = {0};  // input strides along the kept dims
  int red_ndim = 1;
  int64_t red_numel = 1;
  int64_t red_sizes[kMaxDims] = {1};
  int64_t red_strides[kMaxDims] = {0};  // input strides along the reduced dims
};

enum class UnaryOp : int8_t {
  Neg,
  Abs,
  Sign,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Reciprocal,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Relu,
  GeluErf,
  GeluTanh,
  Silu,
  Square,
  LogicalNot,
  BitNot,  // bool and integer dtypes only
  // Derivatives used by backward nodes: out = f'(x).
  GeluErfGrad,
  GeluTanhGrad,
  SiluGrad,
  // Rounding to an integral value (the identity on integer dtypes).
  Floor,
  Ceil,
  Round,  // half to even
  Trunc,
  // More floating math (integer inputs are converted to float first).
  Log1p,
  Expm1,
  Log2,
  Log10,
  Exp2,
  Tan,
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Erf,
  Erfc,
  // Special functions (kernels/special_math.h).
  Lgamma,
  Digamma,
  Trigamma,
  Erfinv,
  I0,     // modified Bessel function of the first kind, order 0
  I0e,    // I0(x) exp(-|x|)
  I1,     // order 1
  I1e,    // I1(x) exp(-|x|)
  Erfcx,  // exp(x^2) erfc(x)
  // The Bessel functions of kernels/special_bessel.h (torch.special names).
  BesselJ0,
  BesselJ1,
  BesselY0,
  BesselY1,
  BesselK0,
  BesselK1,
  BesselK0e,  // K0(x) exp(x)
  BesselK1e,  // K1(x) exp(x)
  SphericalBesselJ0,
  AiryAi,
  // log(x / (1 - x)) (PyTorch's logit without eps: -inf at 0, inf at 1, NaN outside [0, 1]).
  Logit,
};

enum class BinaryOp : int8_t {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  // Comparisons write bool.
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  // `b op a` forms for scalar-on-the-left (2 - x, 2 / x, 2 ** x).
  RSub,
  RDiv,
  RPow,
  // Bool and integer dtypes only.
  BitAnd,
  BitOr,
  BitXor,
  // Floating dtypes only.
  Hypot,
  // Rounded division and its remainders (integer and floating dtypes):
  // FloorDiv rounds the quotient down, TruncDiv toward zero; Remainder has
  // the sign of the divisor (Python's %), Fmod the sign of the dividend (C's).
  FloorDiv,
  TruncDiv,
  Remainder,
  Fmod,
  // Floating dtypes only: the angle of (other, input), as std::atan2(a, b).
  Atan2,
  // relu's backward, fused (PyTorch's threshold_backward at 0): a (the
  // gradient) where b (relu's output) > 0, else 0; NaN in b lets a through.
  ReluGrad,
  // Floating dtypes only: the regularized lower (P(a, x)) and upper (Q(a, x))
  // incomplete gamma functions of a = input, x = other.
  Gammainc,
  Gammaincc,
  // Floating dtypes only: the orthogonal polynomials of x = input, degree n = other
  // (kernels/special_polynomials.h), computed in the dtype itself.
  ChebyshevT,
  ChebyshevU,
  ChebyshevV,
  ChebyshevW,
  ShiftedChebyshevT,
  ShiftedChebyshevU,
  ShiftedChebyshevV,
  ShiftedChebyshevW,
  HermiteH,
  HermiteHe,
  LaguerreL,
  LegendreP,
  // Integer dtypes only: a << b and a >> b (arithmetic); a shift by a
  // negative amount or by the width or more gives 0 (<<) or the sign (>>).
  Shl,
  Shr,
  // Floating dtypes only: |a| with b's sign (-0.0 and -NaN count as negative), and
  // log(e^a + e^b), log2(2^a + 2^b) without overflow (kernels/special_math.h).
  Copysign,
  LogAddExp,
  LogAddExp2,
  // Floating dtypes only: a where a > 0, else a * b (prelu with b the weight; NaN gives NaN).
  Prelu,
  // Floating dtypes only: a log(b) and a log1p(b), 0 where a is 0 unless b is NaN (PyTorch's xlogy, xlog1py).
  Xlogy,
  Xlog1py,
  // Floating dtypes only: the activations' backward in one pass, a the gradient of the output (PyTorch's
  // sigmoid_backward, tanh_backward, silu_backward, gelu_backward): with b the output y,
  //   SigmoidBackward a (1 - y) y,  TanhBackward a (1 - y y);
  // with b the input x, a times the derivative (UnaryOp::SiluGrad, GeluErfGrad, GeluTanhGrad of x):
  //   SiluBackward, GeluErfBackward, GeluTanhBackward.
  SigmoidBackward,
  TanhBackward,
  SiluBackward,
  GeluErfBackward,
  GeluTanhBackward,
};
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq && op <= BinaryOp::Ge; }
// The special functions: computed in double from kernels/special_math.h (unary; Lgamma is the C library's).
inline bool is_special(UnaryOp op) { return op >= UnaryOp::Digamma && op <= UnaryOp::AiryAi; }
// Ops defined for floating dtypes only.
inline bool is_polynomial(BinaryOp op) { return op >= BinaryOp::ChebyshevT && op <= BinaryOp::LegendreP; }
inline bool is_activation_backward(BinaryOp op) {
  return op >= BinaryOp::SigmoidBackward && op <= BinaryOp::GeluTanhBackward;
}
inline bool is_float_only(BinaryOp op) {
  return op == BinaryOp::Hypot || op == BinaryOp::Atan2 || op == BinaryOp::Gammainc || op == BinaryOp::Gammaincc ||
         is_polynomial(op) || op == BinaryOp::Copysign || op == BinaryOp::LogAddExp || op == BinaryOp::LogAddExp2 ||
         op == BinaryOp::Prelu || op == BinaryOp::Xlogy || op == BinaryOp::Xlog1py || is_activation_backward(op);
}
// The binary special functions: the incomplete gamma functions and the orthogonal polynomials.
inline bool is_special(BinaryOp op) {
  return op == BinaryOp::Gammainc || op == BinaryOp::Gammaincc || is_polynomial(op);
}
inline bool is_bitwise(BinaryOp op) { return op >= BinaryOp::BitAnd && op <= BinaryOp::BitXor; }
inline bool is_shift(BinaryOp op) { return op == BinaryOp::Shl || op == BinaryOp::Shr; }

// Three tensor operands (out = f(a, b, c), with a number s), PyTorch's lerp, addcmul, addcdiv:
//   Lerp     a + c (b - a) where |c| < 0.5, else b - (b - a)(1 - c) (exact at c = 1); floating dtypes;
//            c may be absent, the weight is then s
//   Addcmul  a + s b c (integers wrap); every dtype but bool
//   Addcdiv  a + s (b / c); floating dtypes
enum class TernaryOp : int8_t { Lerp, Addcmul, Addcdiv };

enum class ReduceOp : int8_t { Sum, Mean, Prod, Max, Min, LogSumExp, Norm };

}  // namespace loom::kernels
