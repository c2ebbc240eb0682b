// Pointwise ops that PyTorch users know as compositions and loom runs as one kernel each, with their backward
// nodes: lerp, addcmul, addcdiv (three broadcast operands, kernels::TernaryOp) and tril / triu (kernels tri).
#include <functional>
#include <string>

#include "autograd/ops/common.h"
#include "autograd/ops/pointwise.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

// ---- lerp, addcmul, addcdiv: one kernel over three broadcast operands ----
namespace {

// The kernel on a, b and c (undefined: lerp's weight s) converted to dt, broadcast together.
Tensor ternary_raw(kernels::TernaryOp op, const char* name, const Tensor& a, const Tensor& b, const Tensor& c, double s,
                   DType dt) {
  LOOM_CHECK(a.defined() && b.defined(), name, ": undefined tensor argument");
  ops::check_same_device(name, {&a, &b, &c});
  Shape shape = ops::broadcast_named(name, a.sizes(), b.sizes());
  if (c.defined()) shape = ops::broadcast_named(name, shape, c.sizes());
  Tensor ca = a.dtype() == dt ? a : a.detach().to(dt);
  Tensor cb = b.dtype() == dt ? b : b.detach().to(dt);
  Tensor cc = !c.defined() || c.dtype() == dt ? c : c.detach().to(dt);
  Tensor out = empty(shape, TensorOptions(dt, a.device()));
  if (out.numel() > 0) {
    auto loop = cc.defined() ? ops::make_loop(shape, {&out, &ca, &cb, &cc}) : ops::make_loop(shape, {&out, &ca, &cb});
    const void* pc = cc.defined() ? cc.data_ptr() : nullptr;
    LOOM_DEVICE_DISPATCH(out.device(),
                         ops::kc::ternary(op, dt, out.data_ptr(), ca.data_ptr(), cb.data_ptr(), pc, s, loop),
                         ops::kg::ternary(op, dt, out.data_ptr(), ca.data_ptr(), cb.data_ptr(), pc, s, loop,
                                          ops::stream_of(out.device())));
  }
  return out;
}

using TernaryGrad = std::function<TensorList(const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& c)>;

// Attaches the node: grad gets g and the inputs saved (save_a, save_b: a and b; c whenever defined; the others
// come undefined; c undefined for lerp's number weight) and returns one gradient per input, summed to its
// shape here.
void attach_ternary(const char* node, const Tensor& a, const Tensor& b, const Tensor& c, Tensor& y, bool save_a,
                    bool save_b, TernaryGrad grad) {
  if (!is_floating(y.dtype()) || !autograd::any_requires_grad({&a, &b, &c})) return;
  SavedTensor sa = save_a ? SavedTensor(a) : SavedTensor(), sb = save_b ? SavedTensor(b) : SavedTensor();
  SavedTensor sc = c.defined() ? SavedTensor(c) : SavedTensor();
  const Shape ash = a.sizes(), bsh = b.sizes(), csh = c.defined() ? c.sizes() : Shape{};
  const DType adt = a.dtype(), bdt = b.dtype(), cdt = c.defined() ? c.dtype() : adt;
  const bool ra = a.requires_grad(), rb = b.requires_grad(), rc = c.defined() && c.requires_grad();
  const bool has_c = c.defined();
  std::string nn = node;
  auto n = std::make_shared<LambdaNode>(node, [=](const TensorList& g) {
    const char* nm = nn.c_str();
    TensorList r = grad(g[0], sa.unpack(nm), sb.unpack(nm), has_c ? sc.unpack(nm) : Tensor());
    TensorList out{ra && r[0].defined() ? ops::grad_for(r[0], ash, adt) : Tensor(),
                   rb && r[1].defined() ? ops::grad_for(r[1], bsh, bdt) : Tensor()};
    if (has_c) out.push_back(rc && r[2].defined() ? ops::grad_for(r[2], csh, cdt) : Tensor());
    return out;
  });
  if (has_c) autograd::attach(n, {a, b, c}, y);
  else autograd::attach(n, {a, b}, y);
}

void check_value(DType result, const Scalar& value, const char* op) {
  LOOM_CHECK(!value.is_floating() || is_floating(result), op,
             ": For integral input tensors, argument value must not be a floating point number (result dtype ",
             dtype_name(result), ")");
}

}  // namespace

Tensor Tensor::lerp(const Tensor& end, const Tensor& weight) const {
  OpScope scope(Op::lerp, {this, &end, &weight});
  LOOM_CHECK(weight.defined(), "lerp: weight is undefined");
  const DType dt = ops::result_type({this, &end, &weight});
  LOOM_CHECK_TYPE(is_floating(dt), "lerp: expected floating point tensors, got ", dtype_name(dtype()), ", ",
                  end.defined() ? dtype_name(end.dtype()) : "undefined", " and ", dtype_name(weight.dtype()));
  Tensor y = ternary_raw(kernels::TernaryOp::Lerp, "lerp", *this, end, weight, 0.0, dt);
  attach_ternary("LerpBackward1", *this, end, weight, y, true, true,
                 [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& w) {
                   return TensorList{g * (1.0 - w), g * w, g * (b - a)};
                 });
  return y;
}

Tensor Tensor::lerp(const Tensor& end, const Scalar& weight) const {
  OpScope scope(Op::lerp, {this, &end});
  LOOM_CHECK(end.defined(), "lerp: end is undefined");
  const DType dt = ops::result_type({this, &end});
  LOOM_CHECK_TYPE(is_floating(dt), "lerp: expected floating point tensors, got ", dtype_name(dtype()), " and ",
                  dtype_name(end.dtype()));
  const double w = weight.to_double();
  Tensor y = ternary_raw(kernels::TernaryOp::Lerp, "lerp", *this, end, Tensor(), w, dt);
  attach_ternary("LerpBackward0", *this, end, Tensor(), y, false, false,
                 [w](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) {
                   return TensorList{g * (1.0 - w), g * w};
                 });
  return y;
}

Tensor Tensor::addcmul(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) const {
  OpScope scope(Op::addcmul, {this, &tensor1, &tensor2});
  LOOM_CHECK(tensor1.defined() && tensor2.defined(), "addcmul: undefined tensor argument");
  const DType dt = ops::result_type({this, &tensor1, &tensor2});
  LOOM_CHECK_TYPE(dt != DType::Bool, "addcmul: not implemented for bool tensors");
  check_value(dt, value, "addcmul");
  const double v = value.to_double();
  Tensor y = ternary_raw(kernels::TernaryOp::Addcmul, "addcmul", *this, tensor1, tensor2, v, dt);
  attach_ternary("AddcmulBackward0", *this, tensor1, tensor2, y, false, true,
                 [v](const Tensor& g, const Tensor&, const Tensor& t1, const Tensor& t2) {
                   return TensorList{g, g * t2 * v, g * t1 * v};
                 });
  return y;
}

Tensor Tensor::addcdiv(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) const {
  OpScope scope(Op::addcdiv, {this, &tensor1, &tensor2});
  LOOM_CHECK(tensor1.defined() && tensor2.defined(), "addcdiv: undefined tensor argument");
  const DType dt = ops::result_type({this, &tensor1, &tensor2});
  LOOM_CHECK(is_floating(tensor1.dtype()) || is_floating(tensor2.dtype()),
             "addcdiv: Integer division with addcdiv is no longer supported, and in a future release addcdiv will "
             "perform a true division of tensor1 and tensor2 (got ",
             dtype_name(tensor1.dtype()), " and ", dtype_name(tensor2.dtype()), ")");
  LOOM_CHECK_TYPE(is_floating(dt), "addcdiv: expected floating point tensors, got ", dtype_name(dt));
  const double v = value.to_double();
  Tensor y = ternary_raw(kernels::TernaryOp::Addcdiv, "addcdiv", *this, tensor1, tensor2, v, dt);
  attach_ternary("AddcdivBackward0", *this, tensor1, tensor2, y, false, true,
                 [v](const Tensor& g, const Tensor&, const Tensor& t1, const Tensor& t2) {
                   return TensorList{g, g * v / t2, -(g * v) * t1 / (t2 * t2)};
                 });
  return y;
}

// ---- tril, triu ----
namespace {

Tensor tri_op(const Tensor& x, int64_t k, bool lower) {
  const char* name = lower ? "tril" : "triu";
  OpScope scope(lower ? Op::tril : Op::triu, {&x});
  LOOM_CHECK(x.dim() >= 2, name, ": input tensor must have at least 2 dimensions, got shape ", x.sizes());
  const int64_t M = x.size(-2), N = x.size(-1);
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) {
    const Tensor src = x.detach().contiguous();
    const int64_t B = out.numel() / (M * N);
    LOOM_DEVICE_DISPATCH(
        out.device(), ops::kc::tri(x.dtype(), out.data_ptr(), src.data_ptr(), B, M, N, k, lower),
        ops::kg::tri(x.dtype(), out.data_ptr(), src.data_ptr(), B, M, N, k, lower, ops::stream_of(out.device())));
  }
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<LambdaNode>(lower ? "TrilBackward0" : "TriuBackward0", [k, lower](const TensorList& g) {
      return TensorList{tri_op(g[0], k, lower)};
    });
    autograd::attach(n, {x}, out);
  }
  return out;
}

}  // namespace

Tensor Tensor::tril(int64_t diagonal) const { return tri_op(*this, diagonal, true); }
Tensor Tensor::triu(int64_t diagonal) const { return tri_op(*this, diagonal, false); }

}  // namespace loom
