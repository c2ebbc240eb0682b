// CPU pointwise kernels against naive double-precision references, on odd
// shapes, transposed / stepped / broadcast operands and every dtype; [cuda]
// every CUDA pointwise kernel against its CPU twin on random inputs with odd
// shapes (37 x 129 x 5: no tile multiples), through contiguous, strided
// (transposed) and broadcast loops, checked by |gpu - ref| <= atol + rtol *
// |ref|. Without a device the [cuda] tests SKIP with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <iterator>
#include <cstring>
#include <limits>
#include <random>
#include <vector>
#include <string>
#include "core/error.h"
#include "kernels/pointwise.h"
#include "kernels/special_math.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include <cstdint>
#include <random>
#include <vector>
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInfD = std::numeric_limits<double>::infinity();

template <typename T>
double tol() {
  return std::is_same_v<T, float> ? 2e-6 : 1e-13;
}

double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }
double silu_ref(double x) { return x / (1 + std::exp(-x)); }
double numdiff(double (*f)(double), double x) { return (f(x + 1e-6) - f(x - 1e-6)) / 2e-6; }

double unary_ref(UnaryOp op, double x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return std::fabs(x);
    case UnaryOp::Sign: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case UnaryOp::Exp: return std::exp(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Rsqrt: return 1 / std::sqrt(x);
    case UnaryOp::Reciprocal: return 1 / x;
    case UnaryOp::Sin: return std::sin(x);
    case UnaryOp::Cos: return std::cos(x);
    case UnaryOp::Tanh: return std::tanh(x);
    case UnaryOp::Sigmoid: return 1 / (1 + std::exp(-x));
    case UnaryOp::Relu: return x < 0 ? 0 : x;
    case UnaryOp::GeluErf: return gelu_ref(x);
    case UnaryOp::GeluTanh: return gelu_tanh_ref(x);
    case UnaryOp::Silu: return silu_ref(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::LogicalNot: return x == 0;
    case UnaryOp::GeluErfGrad: return numdiff(gelu_ref, x);
    case UnaryOp::GeluTanhGrad: return numdiff(gelu_tanh_ref, x);
    case UnaryOp::SiluGrad: return numdiff(silu_ref, x);
    case UnaryOp::Floor: return std::floor(x);
    case UnaryOp::Ceil: return std::ceil(x);
    case UnaryOp::Round: {  // half to even, written out
      const double f = std::floor(x), d = x - f;
      return d < 0.5 ? f : d > 0.5 ? f + 1 : (std::fmod(f, 2.0) == 0 ? f : f + 1);
    }
    case UnaryOp::Trunc: return x < 0 ? std::ceil(x) : std::floor(x);
    case UnaryOp::Log1p: return std::log1p(x);
    case UnaryOp::Expm1: return std::expm1(x);
    case UnaryOp::Log2: return std::log(x) / std::log(2.0);
    case UnaryOp::Log10: return std::log(x) / std::log(10.0);
    case UnaryOp::Exp2: return std::pow(2.0, x);
    case UnaryOp::Tan: return std::sin(x) / std::cos(x);
    case UnaryOp::Asin: return std::asin(x);
    case UnaryOp::Acos: return std::acos(x);
    case UnaryOp::Atan: return std::atan(x);
    case UnaryOp::Sinh: return (std::exp(x) - std::exp(-x)) / 2;
    case UnaryOp::Cosh: return (std::exp(x) + std::exp(-x)) / 2;
    case UnaryOp::Erf: return std::erf(x);
    case UnaryOp::Erfc: return std::erfc(x);
    case UnaryOp::Lgamma: return std::lgamma(x);
    case UnaryOp::Digamma: return digamma_d(x);
    case UnaryOp::Trigamma: return trigamma_d(x);
    case UnaryOp::Erfinv: return erfinv_d(x);
    case UnaryOp::I0: return std::cyl_bessel_i(0.0, std::fabs(x));
    case UnaryOp::I0e: return std::cyl_bessel_i(0.0, std::fabs(x)) * std::exp(-std::fabs(x));
    case UnaryOp::I1: return (x < 0 ? -1 : 1) * std::cyl_bessel_i(1.0, std::fabs(x));
    case UnaryOp::I1e: return (x < 0 ? -1 : 1) * std::cyl_bessel_i(1.0, std::fabs(x)) * std::exp(-std::fabs(x));
    case UnaryOp::Erfcx: return double(std::exp((long double)x * x) * std::erfc((long double)x));
    default: break;
  }
  return kNaN;
}

const UnaryOp kFloatUnary[] = {
    UnaryOp::Neg,    UnaryOp::Abs,     UnaryOp::Sign,        UnaryOp::Exp,          UnaryOp::Log,
    UnaryOp::Sqrt,   UnaryOp::Rsqrt,   UnaryOp::Reciprocal,  UnaryOp::Sin,          UnaryOp::Cos,
    UnaryOp::Tanh,   UnaryOp::Sigmoid, UnaryOp::Relu,        UnaryOp::GeluErf,      UnaryOp::GeluTanh,
    UnaryOp::Silu,   UnaryOp::Square,  UnaryOp::GeluErfGrad, UnaryOp::GeluTanhGrad, UnaryOp::SiluGrad,
    UnaryOp::Floor,  UnaryOp::Ceil,    UnaryOp::Round,       UnaryOp::Trunc,        UnaryOp::Log1p,
    UnaryOp::Expm1,  UnaryOp::Log2,    UnaryOp::Log10,       UnaryOp::Exp2,         UnaryOp::Tan,
    UnaryOp::Asin,   UnaryOp::Acos,    UnaryOp::Atan,        UnaryOp::Sinh,         UnaryOp::Cosh,
    UnaryOp::Erf,    UnaryOp::Erfc,    UnaryOp::Lgamma,      UnaryOp::Digamma,      UnaryOp::Trigamma,
    UnaryOp::Erfinv, UnaryOp::I0,      UnaryOp::I0e,         UnaryOp::I1,           UnaryOp::I1e,
    UnaryOp::Erfcx};

bool positive_domain(UnaryOp op) {
  return op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || op == UnaryOp::Reciprocal ||
         op == UnaryOp::Log2 || op == UnaryOp::Log10;
}

}  // namespace

TEMPLATE_TEST_CASE("cpu unary float ops match double references on strided and contiguous inputs", "[kernels]", float,
                   double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const Shape shape{7, 13, 5};
  const int64_t n = numel(shape);
  for (UnaryOp op : kFloatUnary) {
    const bool pos = positive_domain(op);
    std::vector<double> src = random_doubles(n, pos ? 0.1 : -3, 3, 11);
    std::vector<T> in = cast_vec<T>(src);
    // The input is a transposed view (dims 0 and 2 swapped in memory).
    const Shape in_st = transposed_strides(shape, 0, 2);
    std::vector<T> out(n);
    ElementwiseLoop L = make_loop(shape, {contiguous_strides(shape), in_st});
    cpu::unary(op, dt, out.data(), in.data(), L);
    std::vector<double> want(n);
    for_each_index(shape, {contiguous_strides(shape), in_st},
                   [&](int64_t i, const std::vector<int64_t>& off) { want[off[0]] = unary_ref(op, in[off[1]]); });
    const bool grad = op == UnaryOp::GeluErfGrad || op == UnaryOp::GeluTanhGrad || op == UnaryOp::SiluGrad;
    const double t = grad ? 1e-5 : 4 * tol<T>();
    check_close(out, want, t, t, "strided op " + std::to_string(int(op)));

    // Large contiguous input: the simd and OpenMP path.
    const int64_t big = 70001;
    std::vector<T> bin = cast_vec<T>(random_doubles(big, pos ? 0.1 : -3, 3, 12));
    std::vector<T> bout(big);
    cpu::unary(op, dt, bout.data(), bin.data(), make_loop({big}, {{1}, {1}}));
    std::vector<double> bwant(big);
    for (int64_t i = 0; i < big; ++i) bwant[i] = unary_ref(op, bin[i]);
    check_close(bout, bwant, t, t, "contiguous op " + std::to_string(int(op)));
  }
}

TEST_CASE("cpu unary edge cases: NaN, zero, in place", "[kernels]") {
  std::vector<double> x{kNaN, 0.0, -0.0, -2.0, kInfD, -kInfD};
  std::vector<double> out(x.size());
  ElementwiseLoop L = make_loop({6}, {{1}, {1}});
  cpu::unary(UnaryOp::Relu, DType::Float64, out.data(), x.data(), L);
  CHECK(std::isnan(out[0]));
  CHECK(out[3] == 0.0);
  CHECK(out[4] == kInfD);
  cpu::unary(UnaryOp::Sign, DType::Float64, out.data(), x.data(), L);
  CHECK(out[0] == 0.0);  // sign(NaN) = 0 and sign(-0.0) = +0.0, as PyTorch
  CHECK(out[1] == 0.0);
  CHECK((out[2] == 0.0 && !std::signbit(out[2])));
  CHECK(out[3] == -1.0);
  CHECK(out[5] == -1.0);
  cpu::unary(UnaryOp::Sigmoid, DType::Float64, out.data(), x.data(), L);
  CHECK(out[4] == 1.0);
  CHECK(out[5] == 0.0);
  // In place (out == in) is allowed.
  cpu::unary(UnaryOp::Neg, DType::Float64, x.data(), x.data(), L);
  CHECK(x[3] == 2.0);
  CHECK(x[4] == -kInfD);
}

TEMPLATE_TEST_CASE("cpu unary integer ops and logical_not", "[kernels]", int32_t, int64_t) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const Shape shape{5, 9};
  std::vector<T> in(numel(shape));
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<T>(int(i % 11) - 5);
  const Shape in_st = transposed_strides(shape, 0, 1);
  for (UnaryOp op : {UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::Square, UnaryOp::Relu, UnaryOp::Floor,
                     UnaryOp::Ceil, UnaryOp::Round, UnaryOp::Trunc}) {
    std::vector<T> out(in.size());
    cpu::unary(op, dt, out.data(), in.data(), make_loop(shape, {contiguous_strides(shape), in_st}));
    std::vector<double> want(in.size());
    for_each_index(shape, {contiguous_strides(shape), in_st},
                   [&](int64_t, const std::vector<int64_t>& off) { want[off[0]] = unary_ref(op, in[off[1]]); });
    check_close(out, want, 0, 0, "int op " + std::to_string(int(op)));
  }
  bool nots[45];
  cpu::unary(UnaryOp::LogicalNot, dt, nots, in.data(), make_loop({45}, {{1}, {1}}));
  for (int i = 0; i < 45; ++i) CHECK(nots[i] == (in[i] == 0));
  std::vector<T> out(in.size());
  CHECK_THROWS_AS(cpu::unary(UnaryOp::Exp, dt, out.data(), in.data(), make_loop({45}, {{1}, {1}})), loom::Error);
  // Wrapping instead of undefined behaviour on the most negative value.
  T mn = std::numeric_limits<T>::min(), r;
  cpu::unary(UnaryOp::Neg, dt, &r, &mn, make_loop({1}, {{1}, {1}}));
  CHECK(r == mn);
}

TEST_CASE("cpu logical_not on every dtype writes bool", "[kernels]") {
  double f[4] = {0.0, 1.5, kNaN, -0.0};
  bool b[4];
  cpu::unary(UnaryOp::LogicalNot, DType::Float64, b, f, make_loop({4}, {{1}, {1}}));
  CHECK(b[0]);
  CHECK(!b[1]);
  CHECK(!b[2]);
  CHECK(b[3]);
  bool in[3] = {true, false, true}, out[3];
  cpu::unary(UnaryOp::LogicalNot, DType::Bool, out, in, make_loop({3}, {{1}, {1}}));
  CHECK(!out[0]);
  CHECK(out[1]);
  CHECK(!out[2]);
}

namespace {

// Reference with the kernel's documented integer semantics.
double binary_ref(BinaryOp op, double a, double b, bool integer, bool single = false) {
  auto ipow = [](double x, double e) {
    if (e < 0) return x == 1 ? 1.0 : x == -1 ? (std::fmod(-e, 2) == 1 ? -1.0 : 1.0) : 0.0;
    return std::pow(x, e);
  };
  auto div = [&](double x, double y) { return integer ? (y == 0 ? 0.0 : std::trunc(x / y)) : x / y; };
  // Python's // and %, written with floor; integers: x // 0 = 0, x % 0 = x.
  auto floordiv = [&](double x, double y) { return integer && y == 0 ? 0.0 : std::floor(x / y); };
  auto rem = [&](double x, double y) { return integer && y == 0 ? x : x - std::floor(x / y) * y; };
  auto cmod = [&](double x, double y) { return integer && y == 0 ? x : x - std::trunc(x / y) * y; };
  // Float trunc division rounds the quotient to T first, as the kernel does.
  auto truncdiv = [&](double x, double y) {
    return integer ? div(x, y) : std::trunc(single ? double(float(x / y)) : x / y);
  };
  auto pw = [&](double x, double y) { return integer ? ipow(x, y) : std::pow(x, y); };
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return div(a, b);
    case BinaryOp::Pow: return pw(a, b);
    case BinaryOp::Maximum: return (std::isnan(a) || std::isnan(b)) ? kNaN : std::max(a, b);
    case BinaryOp::Minimum: return (std::isnan(a) || std::isnan(b)) ? kNaN : std::min(a, b);
    case BinaryOp::Eq: return a == b;
    case BinaryOp::Ne: return a != b;
    case BinaryOp::Lt: return a < b;
    case BinaryOp::Le: return a <= b;
    case BinaryOp::Gt: return a > b;
    case BinaryOp::Ge: return a >= b;
    case BinaryOp::RSub: return b - a;
    case BinaryOp::RDiv: return div(b, a);
    case BinaryOp::RPow: return pw(b, a);
    case BinaryOp::FloorDiv: return floordiv(a, b);
    case BinaryOp::TruncDiv: return truncdiv(a, b);
    case BinaryOp::Remainder: return rem(a, b);
    case BinaryOp::Fmod: return cmod(a, b);
    case BinaryOp::ReluGrad: return b <= 0 ? 0.0 : a;
    default: break;
  }
  return kNaN;
}

const BinaryOp kAllBinary[] = {
    BinaryOp::Add,       BinaryOp::Sub,  BinaryOp::Mul,     BinaryOp::Div,  BinaryOp::Pow,      BinaryOp::Maximum,
    BinaryOp::Minimum,   BinaryOp::Eq,   BinaryOp::Ne,      BinaryOp::Lt,   BinaryOp::Le,       BinaryOp::Gt,
    BinaryOp::Ge,        BinaryOp::RSub, BinaryOp::RDiv,    BinaryOp::RPow, BinaryOp::FloorDiv, BinaryOp::TruncDiv,
    BinaryOp::Remainder, BinaryOp::Fmod, BinaryOp::ReluGrad};

template <typename T>
std::vector<T> operand_values(size_t n, uint32_t seed, bool pow_base) {
  std::vector<double> v = random_doubles(n, std::is_integral_v<T> ? -6 : -3, std::is_integral_v<T> ? 6 : 3, seed);
  for (auto& x : v) {
    if (std::is_integral_v<T>) x = std::round(x);
    if (pow_base && std::is_floating_point_v<T>) x = std::fabs(x) + 0.5;  // real powers need x > 0
  }
  return cast_vec<T>(v);
}

// Runs one binary op on the layout described by the strides and checks it.
template <typename T>
void check_binary(BinaryOp op, const Shape& shape, const Shape& sa, const Shape& sb, int64_t na, int64_t nb,
                  const std::string& layout) {
  const DType dt = dtype_of<T>::value;
  const bool pow = op == BinaryOp::Pow || op == BinaryOp::RPow;
  std::vector<T> a = operand_values<T>(na, 21, op == BinaryOp::Pow);
  std::vector<T> b = operand_values<T>(nb, 22, op == BinaryOp::RPow);
  if (pow && std::is_integral_v<T>) {  // keep integer powers small, with some negative exponents
    for (auto& x : (op == BinaryOp::Pow ? b : a)) x = static_cast<T>(int64_t(x) % 5);
  }
  const Shape so = contiguous_strides(shape);
  const int64_t n = numel(shape);
  std::vector<double> want(n);
  const bool integer = std::is_integral_v<T>;
  for_each_index(shape, {so, sa, sb}, [&](int64_t, const std::vector<int64_t>& off) {
    want[off[0]] = binary_ref(op, a[off[1]], b[off[2]], integer, std::is_same_v<T, float>);
  });
  const ElementwiseLoop L = make_loop(shape, {so, sa, sb});
  const double t = integer ? 0 : 4 * tol<T>();
  const std::string what = std::string(dtype_name(dt)) + " op " + std::to_string(int(op)) + " " + layout;
  if (is_comparison(op)) {
    std::vector<uint8_t> out(n);
    cpu::binary(op, dt, out.data(), a.data(), b.data(), L);
    check_close(out, want, 0, 0, what);
  } else {
    std::vector<T> out(n);
    cpu::binary(op, dt, out.data(), a.data(), b.data(), L);
    check_close(out, want, t, t, what);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("cpu binary ops: contiguous, transposed, stepped and broadcast operands", "[kernels]", float, double,
                   int32_t, int64_t) {
  using T = TestType;
  const Shape shape{7, 13, 5};
  const int64_t n = numel(shape);
  for (BinaryOp op : kAllBinary) {
    check_binary<T>(op, shape, contiguous_strides(shape), contiguous_strides(shape), n, n, "contiguous");
    // a transposed, b read with a step of 2 along the last dim.
    check_binary<T>(op, shape, transposed_strides(shape, 0, 2), {13 * 10, 10, 2}, n, 2 * n, "strided");
    // b broadcast along the inner dim ([7,13,1]) and a along the middle ([7,1,5]).
    check_binary<T>(op, shape, {5, 0, 1}, {13, 1, 0}, 7 * 5, 7 * 13, "broadcast");
    // b a scalar broadcast everywhere.
    check_binary<T>(op, shape, contiguous_strides(shape), {0, 0, 0}, n, 1, "scalar");
    // Large flat input for the OpenMP path.
    check_binary<T>(op, {50003}, {1}, {1}, 50003, 50003, "large");
  }
}

// The activations' backward ops: a (the gradient) times the derivative, from the output (sigmoid, tanh) or
// the input (silu, gelu), against double references (the derivative by central differences), float32 and
// float64, contiguous and with a transposed gradient; integers are rejected.
TEST_CASE("cpu activation backward ops: gradient times the derivative", "[kernels]") {
  auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  auto deriv = [&](BinaryOp op, double v) {
    switch (op) {
      case BinaryOp::SigmoidBackward: return (1 - v) * v;  // v = sigmoid(x)
      case BinaryOp::TanhBackward: return 1 - v * v;       // v = tanh(x)
      case BinaryOp::SiluBackward: return numdiff(silu_ref, v);
      case BinaryOp::GeluErfBackward: return numdiff(gelu_ref, v);
      default: return numdiff(gelu_tanh_ref, v);
    }
  };
  const int64_t R = 7, C = 37, n = R * C;
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    std::vector<double> x = random_doubles(n, -6, 6, 31), g = random_doubles(n, -2, 2, 32);
    for (BinaryOp op : {BinaryOp::SigmoidBackward, BinaryOp::TanhBackward, BinaryOp::SiluBackward,
                        BinaryOp::GeluErfBackward, BinaryOp::GeluTanhBackward}) {
      std::vector<T> v(n), gt(n), gT(n), out(n), out2(n);
      for (int64_t i = 0; i < n; ++i) {
        v[i] = T(op == BinaryOp::SigmoidBackward ? sigmoid(x[i])
                 : op == BinaryOp::TanhBackward  ? std::tanh(x[i])
                                                 : x[i]);
        gt[i] = T(g[i]);
      }
      for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < C; ++c) gT[c * R + r] = gt[r * C + c];  // gT holds the gradient transposed
      cpu::binary(op, dt, out.data(), gt.data(), v.data(), make_loop({n}, {{1}, {1}, {1}}));
      cpu::binary(op, dt, out2.data(), gT.data(), v.data(), make_loop({R, C}, {{C, 1}, {1, R}, {C, 1}}));
      int64_t bad = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double want = double(gt[i]) * deriv(op, double(v[i]));
        bad += !is_close(double(out[i]), want, std::is_same_v<T, float> ? 1e-5 : 1e-8, 1e-6);
        bad += std::memcmp(&out[i], &out2[i], sizeof(T)) != 0;
      }
      INFO("op " << int(op) << " dtype " << dtype_name(dt));
      CHECK(bad == 0);
    }
  };
  run(float{});
  run(double{});
  int32_t ia[2] = {1, 2}, io[2];
  CHECK_THROWS_AS(cpu::binary(BinaryOp::SigmoidBackward, DType::Int32, io, ia, ia, make_loop({2}, {{1}, {1}, {1}})),
                  loom::Error);
}

TEST_CASE("cpu binary edge cases: NaN propagation, integer division by zero, bool", "[kernels]") {
  double a[3] = {kNaN, 1.0, 2.0}, b[3] = {1.0, kNaN, 3.0}, out[3];
  const ElementwiseLoop L = make_loop({3}, {{1}, {1}, {1}});
  cpu::binary(BinaryOp::Maximum, DType::Float64, out, a, b, L);
  CHECK(std::isnan(out[0]));
  CHECK(std::isnan(out[1]));
  CHECK(out[2] == 3.0);
  cpu::binary(BinaryOp::Minimum, DType::Float64, out, a, b, L);
  CHECK(std::isnan(out[0]));
  CHECK(std::isnan(out[1]));
  CHECK(out[2] == 2.0);

  int32_t ia[3] = {7, -7, std::numeric_limits<int32_t>::min()}, ib[3] = {0, 2, -1}, io[3];
  cpu::binary(BinaryOp::Div, DType::Int32, io, ia, ib, L);
  CHECK(io[0] == 0);
  CHECK(io[1] == -3);
  CHECK(io[2] == std::numeric_limits<int32_t>::min());

  bool ba[4] = {false, false, true, true}, bb[4] = {false, true, false, true}, bo[4];
  const ElementwiseLoop L4 = make_loop({4}, {{1}, {1}, {1}});
  cpu::binary(BinaryOp::Add, DType::Bool, bo, ba, bb, L4);
  CHECK((!bo[0] && bo[1] && bo[2] && bo[3]));
  cpu::binary(BinaryOp::Mul, DType::Bool, bo, ba, bb, L4);
  CHECK((!bo[0] && !bo[1] && !bo[2] && bo[3]));
  cpu::binary(BinaryOp::Lt, DType::Bool, bo, ba, bb, L4);
  CHECK((!bo[0] && bo[1] && !bo[2] && !bo[3]));
  CHECK_THROWS_AS(cpu::binary(BinaryOp::Sub, DType::Bool, bo, ba, bb, L4), loom::Error);
}

TEMPLATE_TEST_CASE("cpu binary_scalar matches the tensor-tensor reference", "[kernels]", float, double, int32_t,
                   int64_t) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const Shape shape{9, 11};
  const Shape st = transposed_strides(shape, 0, 1);
  const int64_t n = numel(shape);
  const bool integer = std::is_integral_v<T>;
  for (BinaryOp op : kAllBinary) {
    for (double s : {2.0, -3.0, 0.5}) {
      if (integer && s == 0.5 && !is_comparison(op)) continue;  // the front end promotes to float
      const bool pow = op == BinaryOp::Pow || op == BinaryOp::RPow;
      std::vector<T> a = operand_values<T>(n, 31, op == BinaryOp::Pow);
      if (op == BinaryOp::RPow && integer)
        for (auto& x : a) x = static_cast<T>(int64_t(x) % 4);
      if (pow && !integer && s < 0 && op == BinaryOp::RPow) continue;  // (-3)^x is NaN for real x
      std::vector<double> want(n);
      for_each_index(shape, {contiguous_strides(shape), st}, [&](int64_t, const std::vector<int64_t>& off) {
        want[off[0]] = binary_ref(op, a[off[1]], s, integer, std::is_same_v<T, float>);
      });
      const ElementwiseLoop L = make_loop(shape, {contiguous_strides(shape), st});
      const std::string what =
          std::string(dtype_name(dt)) + " op " + std::to_string(int(op)) + " s=" + std::to_string(s);
      if (is_comparison(op)) {
        std::vector<uint8_t> out(n);
        cpu::binary_scalar(op, dt, out.data(), a.data(), s, L);
        check_close(out, want, 0, 0, what);
      } else {
        std::vector<T> out(n);
        cpu::binary_scalar(op, dt, out.data(), a.data(), s, L);
        const double t = integer ? 0 : 4 * tol<T>();
        check_close(out, want, t, t, what);
      }
    }
  }
}

TEMPLATE_TEST_CASE("cpu where, clamp and masked_fill", "[kernels]", bool, int32_t, int64_t, float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const Shape shape{6, 7, 3};
  const int64_t n = numel(shape);
  const Shape so = contiguous_strides(shape);
  std::vector<double> av = random_doubles(n, -5, 5, 41), bv = random_doubles(7 * 3, -5, 5, 42);
  for (auto& x : av) x = std::round(x);
  for (auto& x : bv) x = std::round(x);
  Vec<T> a = cast_vec<T>(av), b = cast_vec<T>(bv);
  std::vector<uint8_t> condv(n);
  for (int64_t i = 0; i < n; ++i) condv[i] = (i * 7919) % 3 == 0;
  const bool* cond = reinterpret_cast<const bool*>(condv.data());

  // where: cond transposed, a contiguous, b broadcast over dim 0.
  const Shape sc = transposed_strides(shape, 0, 1), sb{0, 3, 1};
  Vec<T> out(n);
  cpu::where(dt, ptr<T>(out), cond, ptr<T>(a), ptr<T>(b), make_loop(shape, {so, sc, so, sb}));
  int64_t bad = 0;
  for_each_index(shape, {so, sc, so, sb}, [&](int64_t, const std::vector<int64_t>& off) {
    bad += out[off[0]] != (condv[off[1]] ? a[off[2]] : b[off[3]]);
  });
  CHECK(bad == 0);
  // where on contiguous operands (the simd path).
  Vec<T> bfull = cast_vec<T>(random_doubles(n, -5, 5, 43));
  cpu::where(dt, ptr<T>(out), cond, ptr<T>(a), ptr<T>(bfull), make_loop({n}, {{1}, {1}, {1}, {1}}));
  bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += out[i] != (condv[i] ? a[i] : bfull[i]);
  CHECK(bad == 0);

  // masked_fill on a transposed output with a broadcast mask.
  Vec<T> fillme = a;
  const Shape sm{0, 3, 1};
  cpu::masked_fill(dt, ptr<T>(fillme), cond, 1.0, make_loop(shape, {sc, sm}));
  bad = 0;
  for_each_index(shape, {sc, sm}, [&](int64_t, const std::vector<int64_t>& off) {
    bad += fillme[off[0]] != (condv[off[1]] ? store_t<T>(1) : a[off[0]]);
  });
  CHECK(bad == 0);

  if constexpr (!std::is_same_v<T, bool>) {
    Vec<T> c(n);
    cpu::clamp(dt, ptr<T>(c), ptr<T>(a), true, -2.0, true, 3.0, make_loop(shape, {so, sc}));
    bad = 0;
    for_each_index(shape, {so, sc}, [&](int64_t, const std::vector<int64_t>& off) {
      bad += c[off[0]] != std::min<T>(std::max<T>(a[off[1]], T(-2)), T(3));
    });
    CHECK(bad == 0);
    cpu::clamp(dt, ptr<T>(c), ptr<T>(a), false, 0, true, 1.0, make_loop({n}, {{1}, {1}}));
    bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += c[i] != std::min<T>(a[i], T(1));
    CHECK(bad == 0);
    // lo > hi gives hi, as PyTorch.
    cpu::clamp(dt, ptr<T>(c), ptr<T>(a), true, 4.0, true, 1.0, make_loop({n}, {{1}, {1}}));
    bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += c[i] != T(1);
    CHECK(bad == 0);
  } else {
    Vec<T> c(n);
    CHECK_THROWS_AS(cpu::clamp(dt, ptr<T>(c), ptr<T>(a), true, 0, true, 1, make_loop({n}, {{1}, {1}})), loom::Error);
  }
}

TEST_CASE("cpu clamp passes NaN through and rounds integer bounds inward", "[kernels]") {
  float x[3] = {std::nanf(""), -5.f, 5.f}, y[3];
  cpu::clamp(DType::Float32, y, x, true, -1, true, 1, make_loop({3}, {{1}, {1}}));
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == -1.f);
  CHECK(y[2] == 1.f);
  int64_t i[3] = {0, 1, 5}, o[3];
  cpu::clamp(DType::Int64, o, i, true, 0.5, true, 4.5, make_loop({3}, {{1}, {1}}));
  CHECK(o[0] == 1);
  CHECK(o[1] == 1);
  CHECK(o[2] == 4);
  // A NaN bound gives NaN everywhere, as PyTorch (min(max(x, lo), hi) with NaN-propagating max / min).
  for (int which = 0; which < 3; ++which) {
    const double nan = std::nan("");
    cpu::clamp(DType::Float32, y, x, which != 1, which == 1 ? -1.0 : nan, which != 0, which == 0 ? 1.0 : nan,
               make_loop({3}, {{1}, {1}}));
    INFO("NaN bound " << which);
    CHECK((std::isnan(y[0]) && std::isnan(y[1]) && std::isnan(y[2])));
  }
}

namespace {

template <typename D, typename S>
void check_copy_pair() {
  const Shape shape{5, 7, 3};
  const int64_t n = numel(shape);
  std::vector<double> v = random_doubles(n, -50, 50, 51);
  for (size_t i = 0; i < v.size(); i += 5) v[i] = 0;
  Vec<S> src = cast_vec<S>(v);
  if constexpr (std::is_same_v<S, bool>)
    for (int64_t i = 0; i < n; ++i) src[i] = v[i] > 0;
  auto expect = [](S x) -> double {
    if constexpr (std::is_same_v<D, bool>) return x != S(0);
    else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) return std::trunc(double(x));
    else if constexpr (std::is_same_v<D, float>) return double(float(x));
    else return double(x);
  };
  // Transposed source into a stepped destination.
  const Shape ss = transposed_strides(shape, 0, 2), sd{7 * 3 * 2, 3 * 2, 2};
  Vec<D> dst(2 * n, 0);
  cpu::copy(dtype_of<D>::value, ptr<D>(dst), dtype_of<S>::value, ptr<S>(src), make_loop(shape, {sd, ss}));
  int64_t bad = 0;
  for_each_index(shape, {sd, ss},
                 [&](int64_t, const std::vector<int64_t>& off) { bad += double(dst[off[0]]) != expect(src[off[1]]); });
  INFO(dtype_name(dtype_of<S>::value) << " -> " << dtype_name(dtype_of<D>::value));
  CHECK(bad == 0);
  // Contiguous.
  Vec<D> flat(n);
  cpu::copy(dtype_of<D>::value, ptr<D>(flat), dtype_of<S>::value, ptr<S>(src), make_loop({n}, {{1}, {1}}));
  bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += double(flat[i]) != expect(src[i]);
  CHECK(bad == 0);
}

template <typename D>
void check_copy_from_all() {
  check_copy_pair<D, bool>();
  check_copy_pair<D, int32_t>();
  check_copy_pair<D, int64_t>();
  check_copy_pair<D, float>();
  check_copy_pair<D, double>();
}

}  // namespace

TEST_CASE("cpu copy converts between every pair of dtypes on strided layouts", "[kernels]") {
  check_copy_from_all<bool>();
  check_copy_from_all<int32_t>();
  check_copy_from_all<int64_t>();
  check_copy_from_all<float>();
  check_copy_from_all<double>();
}

TEST_CASE("cpu copy: float to int saturates and maps NaN to 0; large contiguous memcpy", "[kernels]") {
  double s[4] = {kNaN, 1e30, -1e30, -2.7};
  int32_t d[4];
  cpu::copy(DType::Int32, d, DType::Float64, s, make_loop({4}, {{1}, {1}}));
  CHECK(d[0] == 0);
  CHECK(d[1] == std::numeric_limits<int32_t>::max());
  CHECK(d[2] == std::numeric_limits<int32_t>::min());
  CHECK(d[3] == -2);
  std::vector<float> big = cast_vec<float>(random_doubles(100003, -1, 1, 5)), out(100003);
  cpu::copy(DType::Float32, out.data(), DType::Float32, big.data(), make_loop({100003}, {{1}, {1}}));
  CHECK(out == big);
}

TEST_CASE("cpu fill, arange, linspace", "[kernels]") {
  const Shape shape{4, 6};
  std::vector<float> buf(48, -1.f);
  // Fill every other element of a stepped view.
  cpu::fill(DType::Float32, buf.data(), 2.5, make_loop(shape, {{12, 2}}));
  for (int i = 0; i < 48; ++i) CHECK(buf[i] == (i % 2 == 0 ? 2.5f : -1.f));
  std::vector<int64_t> ib(40000);
  cpu::fill(DType::Int64, ib.data(), 7, make_loop({40000}, {{1}}));
  CHECK(std::count(ib.begin(), ib.end(), 7) == 40000);
  bool bb[3];
  cpu::fill(DType::Bool, bb, 3.0, make_loop({3}, {{1}}));
  CHECK((bb[0] && bb[1] && bb[2]));

  std::vector<double> a(11);
  cpu::arange(DType::Float64, a.data(), 11, -1.0, 0.25);
  for (int i = 0; i < 11; ++i) CHECK(a[i] == -1.0 + 0.25 * i);
  std::vector<int32_t> ai(5);
  cpu::arange(DType::Int32, ai.data(), 5, 3, -2);
  CHECK(ai == std::vector<int32_t>{3, 1, -1, -3, -5});

  std::vector<float> l(7);
  cpu::linspace(DType::Float32, l.data(), 7, -1.0, 2.0);
  for (int i = 0; i < 7; ++i) check_close(l[i], -1.0 + 0.5 * i, 1e-6, 1e-6);
  CHECK(l[0] == -1.f);
  CHECK(l[6] == 2.f);
  std::vector<double> ld(100001);
  cpu::linspace(DType::Float64, ld.data(), 100001, 0.0, 0.3);
  CHECK(ld.back() == 0.3);
  check_close(ld[50000], 0.15, 1e-15, 1e-15);
  double one;
  cpu::linspace(DType::Float64, &one, 1, 4.0, 9.0);
  CHECK(one == 4.0);
}

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins

TEST_CASE("cuda unary matches cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(1);
  auto run = [&](auto tag, const std::vector<UnaryOp>& ops, double lo) {
    using T = decltype(tag);
    for (auto L : {contiguous_loop(N3, 2), strided_loop(2)}) {
      auto x = random_vec<T>(N3, rng, lo, 3);
      auto dx = to_device(x);
      DevBuf<T> dy(N3);
      for (UnaryOp op : ops) {
        std::vector<T> ref(N3);
        kcpu::unary(op, dtype_of<T>::value, ref.data(), x.data(), L);
        kc::unary(op, dtype_of<T>::value, dy.get(), dx.get(), L, stream());
        check_close(to_host<T>(dy, N3), ref, twin_tol<T>(), twin_tol<T>(), "unary op " + std::to_string(int(op)));
      }
      std::vector<uint8_t> ref(N3);
      kcpu::unary(UnaryOp::LogicalNot, dtype_of<T>::value, ref.data(), x.data(), L);
      kc::unary(UnaryOp::LogicalNot, dtype_of<T>::value, dy.get(), dx.get(), L, stream());
      check_close(to_host<uint8_t>(dy, N3), ref, 0, 0, "logical_not");
    }
  };
  // Every float op of the CPU tests (kFloatUnary), against the CPU twin.
  const std::vector<UnaryOp> all(std::begin(kFloatUnary), std::end(kFloatUnary));
  std::vector<UnaryOp> ints = {UnaryOp::Neg,   UnaryOp::Abs,  UnaryOp::Sign,  UnaryOp::Relu, UnaryOp::Square,
                               UnaryOp::Floor, UnaryOp::Ceil, UnaryOp::Round, UnaryOp::Trunc};
  run(float{}, all, -3);  // log/sqrt of negatives: NaN on both
  run(double{}, all, -3);
  run(int32_t{}, ints, -3);
  run(int64_t{}, ints, -3);
  CHECK_THROWS_AS(kc::unary(UnaryOp::Exp, DType::Int32, nullptr, nullptr, contiguous_loop(1, 2), stream()),
                  loom::Error);
}

TEST_CASE("cuda binary, binary_scalar, where, clamp, masked_fill match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(2);
  const std::vector<BinaryOp> ops(std::begin(kAllBinary), std::end(kAllBinary));
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (bool strided : {false, true}) {
      auto L = strided ? strided_loop(3) : contiguous_loop(N3, 3);
      auto a = random_vec<T>(N3, rng, -4, 4), b = random_vec<T>(N3, rng, -4, 4);
      auto da = to_device(a), db = to_device(b);
      DevBuf<T> dout(N3);
      for (BinaryOp op : ops) {
        std::string what = std::string(strided ? "strided" : "contig") + " binary op " + std::to_string(int(op));
        if (is_comparison(op)) {
          std::vector<uint8_t> ref(N3);
          kcpu::binary(op, dt, ref.data(), a.data(), b.data(), L);
          kc::binary(op, dt, dout.get(), da.get(), db.get(), L, stream());
          check_close(to_host<uint8_t>(dout, N3), ref, 0, 0, what);
        } else {
          std::vector<T> ref(N3);
          kcpu::binary(op, dt, ref.data(), a.data(), b.data(), L);
          kc::binary(op, dt, dout.get(), da.get(), db.get(), L, stream());
          check_close(to_host<T>(dout, N3), ref, twin_tol<T>(), twin_tol<T>(), what);
        }
      }
      auto L2 = L;
      L2.noperands = 2;
      for (BinaryOp op : ops) {
        for (double s : {2.0, 2.5, -1.0}) {
          std::string what = "binary_scalar op " + std::to_string(int(op)) + " s=" + std::to_string(s);
          if (is_comparison(op)) {
            std::vector<uint8_t> ref(N3);
            kcpu::binary_scalar(op, dt, ref.data(), a.data(), s, L2);
            kc::binary_scalar(op, dt, dout.get(), da.get(), s, L2, stream());
            check_close(to_host<uint8_t>(dout, N3), ref, 0, 0, what);
          } else {
            std::vector<T> ref(N3);
            kcpu::binary_scalar(op, dt, ref.data(), a.data(), s, L2);
            kc::binary_scalar(op, dt, dout.get(), da.get(), s, L2, stream());
            check_close(to_host<T>(dout, N3), ref, twin_tol<T>(), twin_tol<T>(), what);
          }
        }
      }
      // clamp (both, one, no bounds) over the transposed operand; floats also with a NaN bound.
      for (int bounds = 0; bounds < (std::is_floating_point_v<T> ? 6 : 4); ++bounds) {
        std::vector<T> ref(N3);
        const double lo = bounds == 4 ? std::nan("") : -1.5, hi = bounds == 5 ? std::nan("") : 2.5;
        const bool has_lo = bounds >= 4 || (bounds & 1), has_hi = bounds >= 4 || (bounds & 2);
        kcpu::clamp(dt, ref.data(), a.data(), has_lo, lo, has_hi, hi, L2);
        kc::clamp(dt, dout.get(), da.get(), has_lo, lo, has_hi, hi, L2, stream());
        check_close(to_host<T>(dout, N3), ref, 0, 0, "clamp");
      }
      // where: cond transposed, a broadcast, b contiguous.
      auto L4 = strided ? strided_loop(4) : contiguous_loop(N3, 4);
      auto cond = random_vec<bool>(N3, rng);
      auto dcond = to_device(cond);
      std::vector<T> ref(N3);
      kcpu::where(dt, ref.data(), reinterpret_cast<const bool*>(cond.data()), a.data(), b.data(), L4);
      kc::where(dt, dout.get(), reinterpret_cast<const bool*>(dcond.get()), da.get(), db.get(), L4, stream());
      check_close(to_host<T>(dout, N3), ref, 0, 0, "where");
      // masked_fill in place on a copy of b.
      auto db2 = to_device(b);
      std::vector<T> ref2 = b;
      kcpu::masked_fill(dt, ref2.data(), reinterpret_cast<const bool*>(cond.data()), 7.0, L2);
      kc::masked_fill(dt, db2.get(), reinterpret_cast<const bool*>(dcond.get()), 7.0, L2, stream());
      check_close(to_host<T>(db2, N3), ref2, 0, 0, "masked_fill");
    }
  };
  run(float{});
  run(double{});
  run(int32_t{});
  run(int64_t{});
}

TEST_CASE("cuda activation backward ops match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(12);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (bool strided : {false, true}) {
      auto L = strided ? strided_loop(3) : contiguous_loop(N3, 3);
      auto g = random_vec<T>(N3, rng, -2, 2), x = random_vec<T>(N3, rng, -6, 6), y = x;
      for (BinaryOp op : {BinaryOp::SigmoidBackward, BinaryOp::TanhBackward, BinaryOp::SiluBackward,
                          BinaryOp::GeluErfBackward, BinaryOp::GeluTanhBackward}) {
        for (size_t i = 0; i < y.size(); ++i)
          y[i] = op == BinaryOp::SigmoidBackward ? T(1 / (1 + std::exp(-double(x[i]))))
                 : op == BinaryOp::TanhBackward  ? T(std::tanh(double(x[i])))
                                                 : x[i];
        auto dg = to_device(g), dy = to_device(y);
        DevBuf<T> dout(N3);
        std::vector<T> ref(N3);
        kcpu::binary(op, dt, ref.data(), g.data(), y.data(), L);
        kc::binary(op, dt, dout.get(), dg.get(), dy.get(), L, stream());
        check_close(to_host<T>(dout, N3), ref, twin_tol<T>(), twin_tol<T>(),
                    std::string(strided ? "strided" : "contig") + " activation backward op " + std::to_string(int(op)));
      }
    }
  };
  run(float{});
  run(double{});
  DevBuf<int32_t> buf(4);
  CHECK_THROWS_AS(kc::binary(BinaryOp::TanhBackward, DType::Int32, buf.get(), buf.get(), buf.get(),
                             contiguous_loop(4, 3), stream()),
                  loom::Error);
}

TEST_CASE("cuda copy, fill, arange, linspace match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(3);
  auto L = strided_loop(2);
  auto src = random_vec<double>(N3, rng, -1e10, 1e10);
  src[5] = NAN;
  auto dsrc = to_device(src);
  DevBuf<double> dst(N3);
  auto check_copy = [&](auto tag) {
    using D = decltype(tag);
    std::vector<store_t<D>> ref(N3);
    kcpu::copy(dtype_of<D>::value, ref.data(), DType::Float64, src.data(), L);
    kc::copy(dtype_of<D>::value, dst.get(), DType::Float64, dsrc.get(), L, stream());
    check_close(to_host<store_t<D>>(dst, N3), ref, 0, 0, std::string("copy to ") + dtype_name(dtype_of<D>::value));
  };
  check_copy(float{});
  check_copy(int32_t{});
  check_copy(int64_t{});
  check_copy(bool{});
  check_copy(double{});
  // Contiguous same-dtype copy (memcpy path) and fill on a strided output.
  kc::copy(DType::Float64, dst.get(), DType::Float64, dsrc.get(), contiguous_loop(N3, 2), stream());
  check_close(to_host<double>(dst, N3), src, 0, 0, "contiguous copy");
  std::vector<float> ref(N3, 0.f);
  auto dref = to_device(ref);
  ElementwiseLoop F = strided_loop(2);
  for (int d = 0; d < 3; ++d) F.strides[0][d] = F.strides[1][d];
  F.noperands = 1;
  kcpu::fill(DType::Float32, ref.data(), 3.25, F);
  kc::fill(DType::Float32, dref.get(), 3.25, F, stream());
  check_close(to_host<float>(dref, N3), ref, 0, 0, "fill");

  for (int64_t n : {int64_t(1), int64_t(2), int64_t(1001)}) {
    std::vector<double> r1(n), r2(n);
    DevBuf<double> d(n);
    kcpu::arange(DType::Float64, r1.data(), n, -3.5, 0.25);
    kc::arange(DType::Float64, d.get(), n, -3.5, 0.25, stream());
    check_close(to_host<double>(d, n), r1, 0, 0, "arange");
    kcpu::linspace(DType::Float64, r2.data(), n, -1.0, 7.0);
    kc::linspace(DType::Float64, d.get(), n, -1.0, 7.0, stream());
    check_close(to_host<double>(d, n), r2, 0, 0, "linspace");
    std::vector<int64_t> r3(n);
    kcpu::arange(DType::Int64, r3.data(), n, 5, 3);
    kc::arange(DType::Int64, d.get(), n, 5, 3, stream());
    check_close(to_host<int64_t>(d, n), r3, 0, 0, "arange int64");
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda pointwise kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
