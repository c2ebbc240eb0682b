// Elementwise ops: unary, binary (broadcasting, type promotion, scalar
// operands), where, clamp, masked_fill and the in-place forms. Backward
// formulas are compositions of these same ops, so they are differentiable
// again (create_graph); gelu and silu use one fused derivative kernel unless
// create_graph asks for a differentiable composition.
#include <cmath>
#include <functional>

#include "autograd/ops/pointwise.h"

#include "autograd/ops/common.h"
#include "core/ops_functions.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace ops {

void run_unary(UnaryOp op, const Tensor& out, const Tensor& in) {
  if (out.numel() == 0) return;
  auto loop = make_loop(out.sizes(), {&out, &in});
  LOOM_DEVICE_DISPATCH(out.device(), kc::unary(op, in.dtype(), out.data_ptr(), in.data_ptr(), loop),
                       kg::unary(op, in.dtype(), out.data_ptr(), in.data_ptr(), loop, stream_of(out.device())));
}

void run_binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  if (out.numel() == 0) return;
  auto loop = make_loop(out.sizes(), {&out, &a, &b});
  LOOM_DEVICE_DISPATCH(
      out.device(), kc::binary(op, a.dtype(), out.data_ptr(), a.data_ptr(), b.data_ptr(), loop),
      kg::binary(op, a.dtype(), out.data_ptr(), a.data_ptr(), b.data_ptr(), loop, stream_of(out.device())));
}

void run_binary_scalar(BinaryOp op, const Tensor& out, const Tensor& a, double s) {
  if (out.numel() == 0) return;
  auto loop = make_loop(out.sizes(), {&out, &a});
  LOOM_DEVICE_DISPATCH(
      out.device(), kc::binary_scalar(op, a.dtype(), out.data_ptr(), a.data_ptr(), s, loop),
      kg::binary_scalar(op, a.dtype(), out.data_ptr(), a.data_ptr(), s, loop, stream_of(out.device())));
}

// The gradient for `input` from a broadcast result gradient.
Tensor grad_for(const Tensor& g, const Shape& shape, DType dt) {
  Tensor r = autograd::sum_to(g, shape);
  return r.dtype() == dt ? r : r.to(dt);
}

}  // namespace ops

// Shared with autograd/ops/pointwise_division.cpp (declared in autograd/ops/pointwise.h).
namespace pointwise {

using ops::grad_for;
using ops::run_binary;
using ops::run_binary_scalar;
using ops::run_unary;

const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Abs: return "abs";
    case UnaryOp::Sign: return "sign";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Rsqrt: return "rsqrt";
    case UnaryOp::Reciprocal: return "reciprocal";
    case UnaryOp::Sin: return "sin";
    case UnaryOp::Cos: return "cos";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::GeluErf: return "gelu";
    case UnaryOp::GeluTanh: return "gelu";
    case UnaryOp::Silu: return "silu";
    case UnaryOp::Square: return "square";
    case UnaryOp::LogicalNot: return "logical_not";
    case UnaryOp::Floor: return "floor";
    case UnaryOp::Ceil: return "ceil";
    case UnaryOp::Round: return "round";
    case UnaryOp::Trunc: return "trunc";
    case UnaryOp::Log1p: return "log1p";
    case UnaryOp::Expm1: return "expm1";
    case UnaryOp::Log2: return "log2";
    case UnaryOp::Log10: return "log10";
    case UnaryOp::Exp2: return "exp2";
    case UnaryOp::Tan: return "tan";
    case UnaryOp::Asin: return "asin";
    case UnaryOp::Acos: return "acos";
    case UnaryOp::Atan: return "atan";
    case UnaryOp::Sinh: return "sinh";
    case UnaryOp::Cosh: return "cosh";
    case UnaryOp::Erf: return "erf";
    case UnaryOp::Erfc: return "erfc";
    case UnaryOp::Lgamma: return "lgamma";
    case UnaryOp::Digamma: return "digamma";
    case UnaryOp::Trigamma: return "trigamma";
    case UnaryOp::Erfinv: return "erfinv";
    case UnaryOp::I0: return "i0";
    case UnaryOp::I0e: return "i0e";
    case UnaryOp::I1: return "i1";
    case UnaryOp::I1e: return "i1e";
    case UnaryOp::Erfcx: return "erfcx";
    case UnaryOp::BesselJ0: return "bessel_j0";
    case UnaryOp::BesselJ1: return "bessel_j1";
    case UnaryOp::BesselY0: return "bessel_y0";
    case UnaryOp::BesselY1: return "bessel_y1";
    case UnaryOp::BesselK0: return "modified_bessel_k0";
    case UnaryOp::BesselK1: return "modified_bessel_k1";
    case UnaryOp::BesselK0e: return "scaled_modified_bessel_k0";
    case UnaryOp::BesselK1e: return "scaled_modified_bessel_k1";
    case UnaryOp::SphericalBesselJ0: return "spherical_bessel_j0";
    case UnaryOp::AiryAi: return "airy_ai";
    default: return "unary";
  }
}

bool float_only(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Relu:
    case UnaryOp::Square:
    case UnaryOp::LogicalNot:
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc: return false;
    default: return true;
  }
}

// Computes op(x) without autograd, promoting integer inputs of float-only ops.
Tensor unary_raw(UnaryOp op, const Tensor& x) {
  Tensor in = x;
  if (float_only(op) && !is_floating(x.dtype())) in = x.to(default_dtype());
  LOOM_CHECK_TYPE(op == UnaryOp::LogicalNot || in.dtype() != DType::Bool, unary_name(op),
                  ": not implemented for bool tensors (shape ", x.sizes(), ")");
  DType out_dt = op == UnaryOp::LogicalNot ? DType::Bool : in.dtype();
  Tensor out = empty(x.sizes(), TensorOptions(out_dt, x.device()));
  run_unary(op, out, in);
  return out;
}

using UnaryGrad = std::function<Tensor(const Tensor& g, const Tensor& x, const Tensor& y)>;

Tensor unary(UnaryOp op, Op id, const Tensor& x, const char* node, bool save_x, bool save_y, UnaryGrad grad) {
  OpScope scope(id, {&x});
  Tensor y = unary_raw(op, x);
  if (grad && is_floating(y.dtype()) && autograd::any_requires_grad({&x})) {
    SavedTensor sx = save_x ? SavedTensor(x) : SavedTensor();
    SavedTensor sy = save_y ? SavedTensor(y, true) : SavedTensor();
    std::string name = node;
    auto n = std::make_shared<LambdaNode>(node, [sx, sy, grad, name](const TensorList& g) {
      return TensorList{grad(g[0], sx.unpack(name.c_str()), sy.unpack(name.c_str()))};
    });
    autograd::attach(n, {x}, y);
  }
  return y;
}

using ops::result_type;  // shared with autograd/ops/bitwise.cpp

DType binary_result_type(const char*, const Tensor& a, const Tensor& b) { return result_type({&a, &b}); }

// PyTorch refuses `-` on bool tensors (it is not a logical operation).
void check_no_bool_sub(bool a_bool, bool b_bool, const char* op) {
  LOOM_CHECK(!(a_bool && b_bool), op,
             ": Subtraction, the `-` operator, with two bool tensors is not supported. Use "
             "the `^` or `logical_xor()` operator instead.");
  LOOM_CHECK(!a_bool && !b_bool, op,
             ": Subtraction, the `-` operator, with a bool tensor is not supported. If you "
             "are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
}

// alpha of add/sub: an integer (or bool, for bool results) unless the result is floating.
void check_alpha(DType result, const Scalar& alpha, const char* op) {
  LOOM_CHECK(!alpha.is_floating() || is_floating(result), op,
             ": For integral input tensors, argument alpha must not be a floating point number (result dtype ",
             dtype_name(result), ")");
  LOOM_CHECK(!alpha.is_bool() || result == DType::Bool, op, ": Boolean alpha only supported for Boolean results.");
}

Tensor binary_raw(BinaryOp op, const char* name, const Tensor& a, const Tensor& b, DType compute) {
  ops::check_same_device(name, {&a, &b});
  const Shape shape = a.sizes() == b.sizes() ? a.sizes() : ops::broadcast_named(name, a.sizes(), b.sizes());
  Tensor ca = a.dtype() == compute ? a : a.detach().to(compute);
  Tensor cb = b.dtype() == compute ? b : b.detach().to(compute);
  DType out_dt = kernels::is_comparison(op) ? DType::Bool : compute;
  Tensor out = empty(shape, TensorOptions(out_dt, a.device()));
  run_binary(op, out, ca, cb);
  return out;
}

Tensor binary_scalar_raw(BinaryOp op, const Tensor& a, const Scalar& s, DType compute) {
  // An int64 beyond 2^53 as an exact 0-d tensor (a double would round it).
  if (!s.exact_as_double() && compute == DType::Int64)
    return binary_raw(op, "binary", a, full({}, s, TensorOptions(compute, a.device())), compute);
  Tensor ca = a.dtype() == compute ? a : a.detach().to(compute);
  DType out_dt = kernels::is_comparison(op) ? DType::Bool : compute;
  Tensor out = empty(a.sizes(), TensorOptions(out_dt, a.device()));
  run_binary_scalar(op, out, ca, s.to_double());
  return out;
}

Tensor binary(BinaryOp op, Op id, const char* name, const Tensor& a, const Tensor& b, DType compute, const char* node,
              bool save_inputs, bool save_y, BinaryGrad grad) {
  OpScope scope(id, {&a, &b});
  Tensor y = binary_raw(op, name, a, b, compute);
  if (grad && is_floating(y.dtype()) && autograd::any_requires_grad({&a, &b})) {
    SavedTensor sa = save_inputs ? SavedTensor(a) : SavedTensor();
    SavedTensor sb = save_inputs ? SavedTensor(b) : SavedTensor();
    SavedTensor sy = save_y ? SavedTensor(y, true) : SavedTensor();
    Shape ash = a.sizes(), bsh = b.sizes();
    DType adt = a.dtype(), bdt = b.dtype();
    bool ra = a.requires_grad(), rb = b.requires_grad();
    std::string nn = node;
    auto n = std::make_shared<LambdaNode>(node, [=](const TensorList& g) {
      TensorList r = grad(g[0], sa.unpack(nn.c_str()), sb.unpack(nn.c_str()), sy.unpack(nn.c_str()));
      return TensorList{ra && r[0].defined() ? grad_for(r[0], ash, adt) : Tensor(),
                        rb && r[1].defined() ? grad_for(r[1], bsh, bdt) : Tensor()};
    });
    autograd::attach(n, {a, b}, y);
  }
  return y;
}

Tensor binary_scalar(BinaryOp op, Op id, const Tensor& a, const Scalar& s, DType compute, const char* node, bool save_a,
                     bool save_y, ScalarGrad grad) {
  OpScope scope(id, {&a});
  Tensor y = binary_scalar_raw(op, a, s, compute);
  if (grad && is_floating(y.dtype()) && autograd::any_requires_grad({&a})) {
    SavedTensor sa = save_a ? SavedTensor(a) : SavedTensor();
    SavedTensor sy = save_y ? SavedTensor(y, true) : SavedTensor();
    DType adt = a.dtype();
    std::string nn = node;
    auto n = std::make_shared<LambdaNode>(node, [=](const TensorList& g) {
      Tensor r = grad(g[0], sa.unpack(nn.c_str()), sy.unpack(nn.c_str()));
      return TensorList{r.dtype() == adt ? r : r.to(adt)};
    });
    autograd::attach(n, {a}, y);
  }
  return y;
}

DType div_type(DType t) { return is_floating(t) ? t : default_dtype(); }

// An integer result has no value for a negative scalar power (PyTorch raises too). A tensor of exponents
// is not scanned (no host sync): as in PyTorch, each negative power gives the truncated 1 / x^n (int_pow).
void check_integer_pow(DType result, bool negative_exponent, const char* op) {
  LOOM_CHECK(is_floating(result) || !negative_exponent, op,
             ": Integers to negative integer powers are not allowed (result dtype ", dtype_name(result), ")");
}

// In place: self <- f(self). Without autograd the kernel writes into self;
// with autograd the result is computed out of place from a clone (so the
// values saved for backward stay intact) and its graph moved onto self.
Tensor& inplace(Tensor& self, const char* op, DType result_dt, std::initializer_list<const Tensor*> others,
                const std::function<void()>& direct, const std::function<Tensor(const Tensor&)>& functional) {
  ops::check_no_internal_overlap(self, op);
  LOOM_CHECK(dtype_category(result_dt) <= dtype_category(self.dtype()), op, ": result type ", dtype_name(result_dt),
             " can't be cast to the desired output type ", dtype_name(self.dtype()));
  bool track = autograd::grad_enabled() && self.requires_grad();
  for (const Tensor* o : others) track = track || (autograd::grad_enabled() && o->defined() && o->requires_grad());
  if (!track) {
    direct();
    self.bump_version();
    return self;
  }
  ops::check_inplace(self, op);
  Tensor r = functional(self.requires_grad() ? self.clone() : self.detach());
  ops::copy_raw(self, r, false);
  self.bump_version();
  ops::rebase_history(self, r);
  return self;
}

// trigamma's backward would need polygamma(2, x), which loom does not have: say so, rather than give
// digamma a second derivative of zero.
Tensor trigamma_backward(const Tensor& g, const Tensor& x) {
  (void)g;
  LOOM_THROW(ErrorKind::NotImplemented, "the derivative of trigamma (polygamma(2, x)) of a tensor of shape ", x.sizes(),
             " is not implemented: digamma is differentiable once only");
}

// d/dx of y = i1(x) (scaled: y = i1e(x)): i0(x) - y / x (i0e(x) - y (sign(x) + 1 / x)), 1/2 at 0.
Tensor bessel_i1_derivative(const Tensor& x, const Tensor& y, bool scaled) {
  const Tensor zero = x.eq(0.0), safe = where(zero, 1.0, x);
  const Tensor d = scaled ? x.i0e() - y * (x.sign() + safe.reciprocal()) : x.i0() - y / safe;
  return where(zero, 0.5, d);
}

// relu's backward: g where y = relu(x) > 0, else 0 (PyTorch's threshold_backward at 0;
// a NaN in y lets g through). One fused kernel; under create_graph the same through
// where(), differentiable in g.
Tensor relu_backward(const Tensor& g, const Tensor& y) {
  if (!autograd::grad_enabled() && g.dtype() == y.dtype() && g.sizes() == y.sizes())
    return binary_raw(BinaryOp::ReluGrad, "relu", g, y.detach(), g.dtype());
  return where(y.le(0.0), 0.0, g);
}

// The activations' backward in one fused kernel (PyTorch's sigmoid_backward, tanh_backward,
// silu_backward, gelu_backward: BinaryOp::SigmoidBackward...) when nothing records it; under
// create_graph `composed`, built from differentiable ops.
Tensor activation_backward(BinaryOp op, const Tensor& g, const Tensor& v, const std::function<Tensor()>& composed) {
  if (!autograd::grad_enabled() && g.dtype() == v.dtype() && g.sizes() == v.sizes() && is_floating(g.dtype()))
    return binary_raw(op, "activation_backward", g, v.detach(), g.dtype());
  return composed();
}

Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  return activation_backward(BinaryOp::SigmoidBackward, g, y, [&] { return g * (1.0 - y) * y; });
}

Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  return activation_backward(BinaryOp::TanhBackward, g, y, [&] { return g * (1.0 - y * y); });
}

}  // namespace pointwise

using namespace pointwise;

// ---- unary ---- (the plain ones are generated from core/ops.toml: see the end of this file)
Tensor Tensor::neg() const {
  LOOM_CHECK(dtype() != DType::Bool,
             "neg: Negation, the `-` operator, on a bool tensor is not supported. If you are "
             "trying to invert a mask, use the `~` or `logical_not()` operator instead.");
  return unary(UnaryOp::Neg, Op::neg, *this, "NegBackward0", false, false,
               [](const Tensor& g, const Tensor&, const Tensor&) { return g.neg(); });
}
Tensor Tensor::gelu(const std::string& approximate) const {
  LOOM_CHECK_VALUE(approximate == "none" || approximate == "tanh", "gelu: approximate must be 'none' or 'tanh', got '",
                   approximate, "'");
  bool tanh_form = approximate == "tanh";
  UnaryOp d = tanh_form ? UnaryOp::GeluTanhGrad : UnaryOp::GeluErfGrad;
  return unary(tanh_form ? UnaryOp::GeluTanh : UnaryOp::GeluErf, Op::gelu, *this, "GeluBackward0", true, false,
               [d, tanh_form](const Tensor& g, const Tensor& x, const Tensor&) {
                 if (!autograd::grad_enabled() && g.dtype() == x.dtype() && g.sizes() == x.sizes())
                   return binary_raw(tanh_form ? BinaryOp::GeluTanhBackward : BinaryOp::GeluErfBackward, "gelu", g,
                                     x.detach(), g.dtype());  // one fused kernel
                 if (!autograd::grad_enabled()) return g * unary_raw(d, x.detach());
                 // create_graph: the derivative composed from differentiable ops.
                 if (tanh_form) {
                   const double c = 0.7978845608028654, k = 0.044715;
                   Tensor t = ((x + x.pow(3.0) * k) * c).tanh();
                   return g * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * (x.square() * (3 * k) + 1.0) * (0.5 * c));
                 }
                 // Phi(x) = gelu(x) / x (1/2 at 0), phi(x) = exp(-x^2/2) / sqrt(2 pi).
                 Tensor phi_cdf = where(x.eq(0.0), 0.5, x.gelu() / where(x.eq(0.0), 1.0, x));
                 return g * (phi_cdf + x * (x.square() * -0.5).exp() * 0.3989422804014327);
               });
}
Tensor Tensor::silu() const {
  return unary(UnaryOp::Silu, Op::silu, *this, "SiluBackward0", true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) {
                 if (!autograd::grad_enabled() && g.dtype() == x.dtype() && g.sizes() == x.sizes())
                   return binary_raw(BinaryOp::SiluBackward, "silu", g, x.detach(), g.dtype());  // one fused kernel
                 if (!autograd::grad_enabled()) return g * unary_raw(UnaryOp::SiluGrad, x.detach());
                 Tensor sg = x.sigmoid();  // create_graph: s (1 + x (1 - s))
                 return g * sg * (x * (1.0 - sg) + 1.0);
               });
}

// ---- binary, tensor-tensor ----
Tensor Tensor::add(const Tensor& o, const Scalar& alpha) const {
  const DType rt = binary_result_type("add", *this, o);
  check_alpha(rt, alpha, "add");
  // alpha * other in the result dtype (an int32 other times 2 must not wrap when the result is float).
  if (alpha.to_double() != 1.0) return add(o.to(rt).mul(alpha));
  return binary(BinaryOp::Add, Op::add, "add", *this, o, rt, "AddBackward0", false, false,
                [](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) {
                  return TensorList{g, g};
                });
}
Tensor Tensor::sub(const Tensor& o, const Scalar& alpha) const {
  check_no_bool_sub(dtype() == DType::Bool, o.dtype() == DType::Bool, "sub");
  const DType rt = binary_result_type("sub", *this, o);
  check_alpha(rt, alpha, "sub");
  if (alpha.to_double() != 1.0) return sub(o.to(rt).mul(alpha));
  return binary(BinaryOp::Sub, Op::sub, "sub", *this, o, rt, "SubBackward0", false, false,
                [](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) {
                  return TensorList{g, g.neg()};
                });
}
Tensor Tensor::mul(const Tensor& o) const {
  return binary(BinaryOp::Mul, Op::mul, "mul", *this, o, binary_result_type("mul", *this, o), "MulBackward0", true,
                false, [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                  return TensorList{g * b, g * a};
                });
}
Tensor Tensor::div(const Tensor& o) const {
  return binary(BinaryOp::Div, Op::div, "div", *this, o, div_type(binary_result_type("div", *this, o)), "DivBackward0",
                true, false, [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                  return TensorList{g / b, -(g * a) / (b * b)};
                });
}
Tensor Tensor::pow(const Tensor& e) const {
  DType rt = binary_result_type("pow", *this, e);
  return binary(BinaryOp::Pow, Op::pow, "pow", *this, e, rt, "PowBackward1", true, true,
                [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& y) {
                  // d/da = b a^(b-1); d/db = a^b log a, taken as 0 where a == 0 and b >= 0.
                  Tensor ga = g * b * a.pow(b - 1.0);
                  Tensor gb = g * where(a.eq(0.0).mul(b.ge(0.0)).to(DType::Bool), zeros_like(y), y * a.log());
                  return TensorList{ga, gb};
                });
}
namespace {
TensorList minmax_grad(const Tensor& g, const Tensor& a, const Tensor& b, bool is_max) {
  // Ties split the gradient evenly, as PyTorch does.
  Tensor win_a = is_max ? a.gt(b) : a.lt(b);
  Tensor tie = a.eq(b);
  Tensor wa = win_a.to(g.dtype()) + tie.to(g.dtype()) * 0.5;
  return TensorList{g * wa, g * (1.0 - wa)};
}
}  // namespace
Tensor Tensor::maximum(const Tensor& o) const {
  return binary(BinaryOp::Maximum, Op::maximum, "maximum", *this, o, binary_result_type("maximum", *this, o),
                "MaximumBackward0", true, false, [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                  return minmax_grad(g, a, b, true);
                });
}
Tensor Tensor::minimum(const Tensor& o) const {
  return binary(BinaryOp::Minimum, Op::minimum, "minimum", *this, o, binary_result_type("minimum", *this, o),
                "MinimumBackward0", true, false, [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                  return minmax_grad(g, a, b, false);
                });
}

#define LOOM_COMPARE(name, OPV)                                                                                       \
  Tensor Tensor::name(const Tensor& o) const {                                                                        \
    return binary(BinaryOp::OPV, Op::compare, #name, *this, o, binary_result_type(#name, *this, o), "", false, false, \
                  nullptr);                                                                                           \
  }                                                                                                                   \
  Tensor Tensor::name(const Scalar& s) const {                                                                        \
    return binary_scalar(BinaryOp::OPV, Op::compare, *this, s, promote_with_scalar(dtype(), s), "", false, false,     \
                         nullptr);                                                                                    \
  }
LOOM_COMPARE(eq, Eq)
LOOM_COMPARE(ne, Ne)
LOOM_COMPARE(lt, Lt)
LOOM_COMPARE(le, Le)
LOOM_COMPARE(gt, Gt)
LOOM_COMPARE(ge, Ge)
#undef LOOM_COMPARE

// ---- binary, tensor-scalar ----
Tensor Tensor::add(const Scalar& s) const {
  return binary_scalar(BinaryOp::Add, Op::add, *this, s, promote_with_scalar(dtype(), s), "AddBackward1", false, false,
                       [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
}
Tensor Tensor::sub(const Scalar& s) const {
  check_no_bool_sub(dtype() == DType::Bool, s.is_bool(), "sub");
  return binary_scalar(BinaryOp::Sub, Op::sub, *this, s, promote_with_scalar(dtype(), s), "SubBackward1", false, false,
                       [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
}
Tensor Tensor::mul(const Scalar& s) const {
  return binary_scalar(BinaryOp::Mul, Op::mul, *this, s, promote_with_scalar(dtype(), s), "MulBackward1", false, false,
                       [s](const Tensor& g, const Tensor&, const Tensor&) { return g * s; });
}
Tensor Tensor::div(const Scalar& s) const {
  return binary_scalar(BinaryOp::Div, Op::div, *this, s, div_type(promote_with_scalar(dtype(), s)), "DivBackward1",
                       false, false, [s](const Tensor& g, const Tensor&, const Tensor&) { return g / s; });
}
Tensor Tensor::pow(const Scalar& e) const {
  double p = e.to_double();
  check_integer_pow(promote_with_scalar(dtype(), e), p < 0, "pow");
  return binary_scalar(BinaryOp::Pow, Op::pow, *this, e, promote_with_scalar(dtype(), e), "PowBackward0", true, false,
                       [p](const Tensor& g, const Tensor& a, const Tensor&) {
                         if (p == 0.0) return zeros_like(g);
                         return g * a.pow(p - 1.0) * p;
                       });
}

Tensor operator-(const Tensor& a) { return a.neg(); }
Tensor operator+(const Tensor& a, const Tensor& b) { return a.add(b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return a.sub(b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return a.mul(b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return a.div(b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return a.add(b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return a.sub(b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return a.mul(b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return a.div(b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return b.add(a); }
Tensor operator*(const Scalar& a, const Tensor& b) { return b.mul(a); }
Tensor operator-(const Scalar& s, const Tensor& b) {
  check_no_bool_sub(s.is_bool(), b.dtype() == DType::Bool, "rsub");
  return binary_scalar(BinaryOp::RSub, Op::sub, b, s, promote_with_scalar(b.dtype(), s), "RsubBackward1", false, false,
                       [](const Tensor& g, const Tensor&, const Tensor&) { return g.neg(); });
}
Tensor operator/(const Scalar& s, const Tensor& b) {
  return binary_scalar(BinaryOp::RDiv, Op::div, b, s, div_type(promote_with_scalar(b.dtype(), s)), "DivBackward0", true,
                       false, [s](const Tensor& g, const Tensor& x, const Tensor&) {
                         return -(g * s) / (x * x);  // d(s/x)/dx = -s/x^2
                       });
}
Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }

// ---- where, clamp, masked_fill ----
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  OpScope scope(Op::where, {&cond, &a, &b});
  LOOM_CHECK_TYPE(cond.dtype() == DType::Bool,
                  "where: expected condition to be a boolean tensor, but got a tensor with dtype ",
                  dtype_name(cond.dtype()));
  ops::check_same_device("where", {&cond, &a, &b});
  DType dt = binary_result_type("where", a, b);
  Shape shape = ops::broadcast_named("where", ops::broadcast_named("where", cond.sizes(), a.sizes()), b.sizes());
  Tensor ca = a.dtype() == dt ? a : a.detach().to(dt);
  Tensor cb = b.dtype() == dt ? b : b.detach().to(dt);
  Tensor out = empty(shape, TensorOptions(dt, a.device()));
  if (out.numel() > 0) {
    auto loop = ops::make_loop(shape, {&out, &cond, &ca, &cb});
    const bool* c = static_cast<const bool*>(cond.data_ptr());
    LOOM_DEVICE_DISPATCH(
        out.device(), ops::kc::where(dt, out.data_ptr(), c, ca.data_ptr(), cb.data_ptr(), loop),
        ops::kg::where(dt, out.data_ptr(), c, ca.data_ptr(), cb.data_ptr(), loop, ops::stream_of(out.device())));
  }
  if (is_floating(dt) && autograd::any_requires_grad({&a, &b})) {
    SavedTensor sc(cond);
    Shape ash = a.sizes(), bsh = b.sizes();
    DType adt = a.dtype(), bdt = b.dtype();
    auto n = std::make_shared<LambdaNode>("WhereBackward0", [=](const TensorList& g) {
      Tensor c = sc.unpack("WhereBackward0");
      Tensor z = zeros({}, TensorOptions(g[0].dtype(), g[0].device()));
      return TensorList{grad_for(where(c, g[0], z), ash, adt), grad_for(where(c, z, g[0]), bsh, bdt)};
    });
    autograd::attach(n, {a, b}, out);
  }
  return out;
}
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  return where(cond, a, scalar_tensor(b, TensorOptions(promote_with_scalar(a.dtype(), b), a.device())));
}
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  return where(cond, scalar_tensor(a, TensorOptions(promote_with_scalar(b.dtype(), a), b.device())), b);
}

Tensor Tensor::clamp(std::optional<Scalar> lo, std::optional<Scalar> hi) const {
  OpScope scope(Op::clamp, {this});
  LOOM_CHECK(lo || hi, "clamp: At least one of 'min' or 'max' must not be None");
  DType dt = dtype();
  if (lo) dt = promote_with_scalar(dt, *lo);
  if (hi) dt = promote_with_scalar(dt, *hi);
  if (dt == DType::Int64 && ((lo && !lo->exact_as_double()) || (hi && !hi->exact_as_double()))) {
    // int64 bounds beyond 2^53 as exact 0-d tensors (no gradient: the result is an integer)
    auto bound = [&](const std::optional<Scalar>& b) {
      return b ? full({}, *b, TensorOptions(dt, device())) : Tensor();
    };
    return detach().clamp(bound(lo), bound(hi));
  }
  Tensor in = dt == dtype() ? *this : detach().to(dt);
  Tensor out = empty(sizes(), TensorOptions(dt, device()));
  double l = lo ? lo->to_double() : 0, h = hi ? hi->to_double() : 0;
  if (out.numel() > 0) {
    auto loop = ops::make_loop(sizes(), {&out, &in});
    LOOM_DEVICE_DISPATCH(device(),
                         ops::kc::clamp(dt, out.data_ptr(), in.data_ptr(), lo.has_value(), l, hi.has_value(), h, loop),
                         ops::kg::clamp(dt, out.data_ptr(), in.data_ptr(), lo.has_value(), l, hi.has_value(), h, loop,
                                        ops::stream_of(device())));
  }
  if (is_floating(dt) && autograd::any_requires_grad({this})) {
    SavedTensor sx(*this);
    bool has_lo = lo.has_value(), has_hi = hi.has_value();
    DType xdt = dtype();
    auto n = std::make_shared<LambdaNode>("ClampBackward1", [=](const TensorList& g) {
      Tensor x = sx.unpack("ClampBackward1");
      Tensor keep = ones_like(x, TensorOptions(DType::Bool, x.device()));
      if (has_lo) keep = keep.mul(x.ge(l)).to(DType::Bool);
      if (has_hi) keep = keep.mul(x.le(h)).to(DType::Bool);
      return TensorList{grad_for(g[0] * keep.to(g[0].dtype()), x.sizes(), xdt)};
    });
    autograd::attach(n, {*this}, out);
  }
  return out;
}

Tensor Tensor::clamp(const Tensor& lo, const Tensor& hi) const {
  LOOM_CHECK(lo.defined() || hi.defined(), "clamp: At least one of 'min' or 'max' must not be None");
  // The result type of all three at once: clamping in two steps would let a
  // 0-d bound raise the dtype that the other (dimensioned) bound fixes.
  const DType rt = result_type({this, &lo, &hi});
  auto cast = [rt](const Tensor& t) { return t.dtype() == rt ? t : t.to(rt); };
  Tensor r = cast(*this);
  if (lo.defined()) r = r.maximum(cast(lo));
  if (hi.defined()) r = r.minimum(cast(hi));
  return r;
}

Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const {
  OpScope scope(Op::masked_fill, {this, &mask});
  LOOM_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_fill only supports boolean masks, but got mask with dtype ",
                  dtype_name(mask.dtype()));
  ops::check_same_device("masked_fill", {this, &mask});
  check_scalar_fits(value, dtype(), "masked_fill");
  // Out of place, self is broadcast with the mask too (as in PyTorch).
  const Shape shape = ops::broadcast_named("masked_fill", sizes(), mask.sizes());
  Tensor out = detach().expand(shape).clone();
  if (!value.exact_as_double() && dtype() == DType::Int64) {  // exact, through where (no gradient: int64)
    return where(mask, full({}, value, TensorOptions(dtype(), device())), out);
  }
  if (out.numel() > 0) {
    auto loop = ops::make_loop(shape, {&out, &mask});
    const bool* m = static_cast<const bool*>(mask.data_ptr());
    double v = value.to_double();
    LOOM_DEVICE_DISPATCH(device(), ops::kc::masked_fill(dtype(), out.data_ptr(), m, v, loop),
                         ops::kg::masked_fill(dtype(), out.data_ptr(), m, v, loop, ops::stream_of(device())));
  }
  if (autograd::any_requires_grad({this})) {
    SavedTensor sm(mask);
    Shape in_shape = sizes();
    auto n = std::make_shared<LambdaNode>("MaskedFillBackward0", [sm, in_shape](const TensorList& g) {
      return TensorList{autograd::sum_to(g[0].masked_fill(sm.unpack("MaskedFillBackward0"), 0.0), in_shape)};
    });
    autograd::attach(n, {*this}, out);
  }
  return out;
}

// ---- in place ----
namespace pointwise {
DType common_type(const Tensor& self, const Tensor& o) { return binary_result_type("inplace", self, o); }
Tensor as_type(const Tensor& t, DType dt) { return t.dtype() == dt ? t : t.detach().to(dt); }

Tensor& inplace_tensor(Tensor& self, const char* op, BinaryOp bop, const Tensor& o, bool div_like,
                       const std::function<Tensor(const Tensor&)>& functional) {
  DType rt = common_type(self, o);
  if (div_like) rt = div_type(rt);
  return inplace(
      self, op, rt, {&o},
      [&] {
        ops::check_same_device(op, {&self, &o});
        LOOM_CHECK(broadcast_shapes(self.sizes(), o.sizes()) == self.sizes(), op, ": output with shape ", self.sizes(),
                   " doesn't match the broadcast shape ", broadcast_shapes(self.sizes(), o.sizes()));
        // As PyTorch: computed in the common dtype, then cast into self (an int32 base
        // with an int64 exponent must not see the exponent truncated to int32).
        if (rt == self.dtype()) run_binary(bop, self, self, as_type(o, rt));
        else ops::copy_raw(self, binary_raw(bop, op, self.detach(), o.detach(), rt), false);
      },
      functional);
}

Tensor& inplace_scalar(Tensor& self, const char* op, BinaryOp bop, const Scalar& v, bool div_like,
                       const std::function<Tensor(const Tensor&)>& functional) {
  DType rt = promote_with_scalar(self.dtype(), v);
  if (div_like) rt = div_type(rt);
  return inplace(
      self, op, rt, {},
      [&] {
        if (!v.exact_as_double() && rt == DType::Int64)  // exact, as binary_scalar_raw
          run_binary(bop, self, self, full({}, v, TensorOptions(rt, self.device())));
        else run_binary_scalar(bop, self, self, v.to_double());
      },
      functional);
}

}  // namespace pointwise

Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) {
  check_alpha(common_type(*this, o), alpha, "add_");
  if (alpha.to_double() != 1.0) return add_(o.to(common_type(*this, o)).mul(alpha));
  return inplace_tensor(*this, "add_", BinaryOp::Add, o, false, [&](const Tensor& s) { return s.add(o); });
}
Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) {
  check_no_bool_sub(dtype() == DType::Bool, o.dtype() == DType::Bool, "sub_");
  check_alpha(common_type(*this, o), alpha, "sub_");
  if (alpha.to_double() != 1.0) return sub_(o.to(common_type(*this, o)).mul(alpha));
  return inplace_tensor(*this, "sub_", BinaryOp::Sub, o, false, [&](const Tensor& s) { return s.sub(o); });
}
Tensor& Tensor::mul_(const Tensor& o) {
  return inplace_tensor(*this, "mul_", BinaryOp::Mul, o, false, [&](const Tensor& s) { return s.mul(o); });
}
Tensor& Tensor::div_(const Tensor& o) {
  return inplace_tensor(*this, "div_", BinaryOp::Div, o, true, [&](const Tensor& s) { return s.div(o); });
}
Tensor& Tensor::add_(const Scalar& v) {
  return inplace_scalar(*this, "add_", BinaryOp::Add, v, false, [&](const Tensor& s) { return s.add(v); });
}
Tensor& Tensor::sub_(const Scalar& v) {
  check_no_bool_sub(dtype() == DType::Bool, v.is_bool(), "sub_");
  return inplace_scalar(*this, "sub_", BinaryOp::Sub, v, false, [&](const Tensor& s) { return s.sub(v); });
}
Tensor& Tensor::mul_(const Scalar& v) {
  return inplace_scalar(*this, "mul_", BinaryOp::Mul, v, false, [&](const Tensor& s) { return s.mul(v); });
}
Tensor& Tensor::div_(const Scalar& v) {
  return inplace_scalar(*this, "div_", BinaryOp::Div, v, true, [&](const Tensor& s) { return s.div(v); });
}
Tensor& Tensor::pow_(const Scalar& e) {
  check_integer_pow(promote_with_scalar(dtype(), e), e.to_double() < 0, "pow_");
  return inplace_scalar(*this, "pow_", BinaryOp::Pow, e, false, [&](const Tensor& s) { return s.pow(e); });
}
Tensor& Tensor::pow_(const Tensor& e) {
  return inplace_tensor(*this, "pow_", BinaryOp::Pow, e, false, [&](const Tensor& s) { return s.pow(e); });
}
Tensor& Tensor::clamp_(const Tensor& lo, const Tensor& hi) {
  return inplace(
      *this, "clamp_", result_type({this, &lo, &hi}), {&lo, &hi},
      [&] { ops::copy_raw(*this, detach().clamp(lo, hi), false); }, [&](const Tensor& s) { return s.clamp(lo, hi); });
}
Tensor& Tensor::clamp_(std::optional<Scalar> lo, std::optional<Scalar> hi) {
  DType rt = dtype();
  if (lo) rt = promote_with_scalar(rt, *lo);
  if (hi) rt = promote_with_scalar(rt, *hi);
  return inplace(
      *this, "clamp_", rt, {}, [&] { ops::copy_raw(*this, detach().clamp(lo, hi), false); },
      [&](const Tensor& s) { return s.clamp(lo, hi); });
}
Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) {
  return inplace(
      *this, "masked_fill_", dtype(), {},
      [&] {
        LOOM_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_fill_ only supports boolean masks, but got ",
                        dtype_name(mask.dtype()));
        LOOM_CHECK(broadcast_shapes(sizes(), mask.sizes()) == sizes(), "masked_fill_: mask of shape ", mask.sizes(),
                   " cannot be broadcast to ", sizes());
        check_scalar_fits(value, dtype(), "masked_fill_");
        if (!value.exact_as_double() && dtype() == DType::Int64) {  // exact, as masked_fill
          ops::copy_raw(*this, where(mask, full({}, value, TensorOptions(dtype(), device())), detach()), false);
          return;
        }
        auto loop = ops::make_loop(sizes(), {this, &mask});
        const bool* m = static_cast<const bool*>(mask.data_ptr());
        double v = value.to_double();
        if (numel() > 0)
          LOOM_DEVICE_DISPATCH(device(), ops::kc::masked_fill(dtype(), data_ptr(), m, v, loop),
                               ops::kg::masked_fill(dtype(), data_ptr(), m, v, loop, ops::stream_of(device())));
      },
      [&](const Tensor& s) { return s.masked_fill(mask, value); });
}
Tensor& Tensor::relu_() {
  return inplace(
      *this, "relu_", dtype(), {}, [&] { run_unary(UnaryOp::Relu, *this, *this); },
      [](const Tensor& s) { return s.relu(); });
}
Tensor& Tensor::neg_() {
  LOOM_CHECK(dtype() != DType::Bool,
             "neg_: Negation, the `-` operator, on a bool tensor is not supported. If you "
             "are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
  return inplace(
      *this, "neg_", dtype(), {}, [&] { run_unary(UnaryOp::Neg, *this, *this); },
      [](const Tensor& s) { return s.neg(); });
}
Tensor& Tensor::exp_() {
  LOOM_CHECK_TYPE(is_floating(dtype()), "exp_: result type Float can't be cast to the desired output type ",
                  dtype_name(dtype()));
  return inplace(
      *this, "exp_", dtype(), {}, [&] { run_unary(UnaryOp::Exp, *this, *this); },
      [](const Tensor& s) { return s.exp(); });
}

// ---- front ends generated from the registry (ops with a `kernel` in core/ops.toml) ----
// ---- the regularized incomplete gamma functions: a gradient for x only, as PyTorch ----
namespace {
Tensor incomplete_gamma(BinaryOp op, Op id, const char* name, const char* node, const Tensor& a, const Tensor& x,
                        bool lower) {
  const DType rt = binary_result_type(name, a, x);
  LOOM_CHECK_TYPE(rt == DType::Float32 || rt == DType::Float64, name, ": not supported for dtype ", dtype_name(rt),
                  " (supported: float32, float64)");
  const bool input_grad = a.requires_grad();
  const std::string op_name = name;
  return binary(op, id, name, a, x, rt, node, true, false,
                [input_grad, op_name, lower](const Tensor& g, const Tensor& a, const Tensor& x, const Tensor&) {
                  if (input_grad)
                    LOOM_THROW(ErrorKind::NotImplemented, op_name,
                               ": the derivative for 'input' is not implemented (only 'other' has a gradient)");
                  // dP/dx = x^(a-1) e^-x / Gamma(a); (a - 1) log x is 0 at a = 1, x = 0.
                  const Tensor log_x = where(a.eq(1.0), 0.0, (a - 1.0) * x.log());
                  const Tensor d = g * (log_x - x - a.lgamma()).exp();
                  return TensorList{Tensor(), lower ? d : d.neg()};
                });
}
}  // namespace

Tensor gammainc(const Tensor& input, const Tensor& other) {
  return incomplete_gamma(BinaryOp::Gammainc, Op::gammainc, "gammainc", "IgammaBackward0", input, other, true);
}
Tensor gammaincc(const Tensor& input, const Tensor& other) {
  return incomplete_gamma(BinaryOp::Gammaincc, Op::gammaincc, "gammaincc", "IgammacBackward0", input, other, false);
}

#include "autograd/pointwise_generated.inc"

}  // namespace loom
