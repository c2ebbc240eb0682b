// Bitwise and/or/xor/not on bool and integer tensors: PyTorch's bitwise_*
// and the & | ^ ~ operators (on bool they are the logical ops); the shifts
// bitwise_left_shift / bitwise_right_shift (<< and >>) on integer tensors. Operands
// promote as in every binary op: a 0-d tensor only lifts the category, a
// Python int beside a bool tensor gives int64. A floating result type raises
// TypeError as PyTorch's "not implemented for 'Float'" does. Results are
// integer or bool, so nothing here is differentiable and no node is attached.
#include <string>

#include "autograd/ops/common.h"

namespace loom {

using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// PyTorch's ScalarType names, which its "not implemented for" errors quote.
const char* torch_type_name(DType dt) {
  switch (dt) {
    case DType::Bool: return "Bool";
    case DType::Int32: return "Int";
    case DType::Int64: return "Long";
    case DType::Float32: return "Float";
    case DType::Float64: return "Double";
  }
  return "?";
}

[[noreturn]] void not_implemented(const char* op, DType result, const Device& dev, const std::string& operands) {
  std::string kernel = op;  // the in-place form shares the kernel of the out-of-place one
  if (kernel.back() == '_') kernel.pop_back();
  const bool shift = kernel.find("shift") != std::string::npos;
  LOOM_THROW(ErrorKind::Type, "\"", kernel, dev.is_cpu() ? "_cpu" : "_cuda", "\" not implemented for '",
             torch_type_name(result), "': ", op, " takes ", shift ? "integer" : "bool and integer", " tensors (got ",
             operands, ")");
}

// Whether op computes in dt: and / or / xor on bool and integers, the shifts on integers only.
bool takes(BinaryOp op, DType dt) { return !is_floating(dt) && (!kernels::is_shift(op) || dt != DType::Bool); }

std::string describe(const Tensor& t) { return detail::str(dtype_name(t.dtype()), " ", t.sizes()); }
std::string describe(const Tensor& t, const Tensor& o) { return describe(t) + " and " + describe(o); }
std::string describe(const Tensor& t, const Scalar& s) {
  return describe(t) + " and the " + (s.is_floating() ? "float" : s.is_bool() ? "bool" : "int") + " " + s.str();
}

Tensor as_type(const Tensor& t, DType dt) { return t.dtype() == dt ? t : t.to(dt); }

// out = a op s. A scalar that a double holds exactly goes to the scalar
// kernel; a larger int64 (beyond 2^53) goes in as an exact 0-d tensor.
void run_with_scalar(BinaryOp op, const Tensor& out, const Tensor& a, const Scalar& s) {
  if (s.exact_as_double()) {
    ops::run_binary_scalar(op, out, a, s.to_double());
    return;
  }
  Tensor st = empty({}, TensorOptions(out.dtype(), kCPU()));
  if (out.dtype() == DType::Int32) *static_cast<int32_t*>(st.data_ptr()) = static_cast<int32_t>(s.to_int());
  else *static_cast<int64_t*>(st.data_ptr()) = s.to_int();
  ops::run_binary(op, out, a, out.device().is_cpu() ? st : st.to(out.device()));
}

Tensor bitwise(BinaryOp op, Op id, const char* name, const Tensor& a, const Tensor& b) {
  OpScope scope(id, {&a, &b});
  ops::check_same_device(name, {&a, &b});
  const DType dt = ops::result_type({&a, &b});
  if (!takes(op, dt)) not_implemented(name, dt, a.device(), describe(a, b));
  Tensor out = empty(ops::broadcast_named(name, a.sizes(), b.sizes()), TensorOptions(dt, a.device()));
  ops::run_binary(op, out, as_type(a, dt), as_type(b, dt));
  return out;
}

Tensor bitwise(BinaryOp op, Op id, const char* name, const Tensor& a, const Scalar& s) {
  OpScope scope(id, {&a});
  const DType dt = promote_with_scalar(a.dtype(), s);
  if (!takes(op, dt)) not_implemented(name, dt, a.device(), describe(a, s));
  check_scalar_fits(s, dt, name);
  Tensor out = empty(a.sizes(), TensorOptions(dt, a.device()));
  run_with_scalar(op, out, as_type(a, dt), s);
  return out;
}

// self <- self op other. The result type must be castable to self's dtype
// (bool &= int raises); computing in self's dtype gives the same bits as
// computing in the wider one and truncating, since bitwise ops act per bit.
void check_inplace_type(const char* name, const Tensor& self, DType result) {
  LOOM_CHECK(dtype_category(result) <= dtype_category(self.dtype()), name, ": result type ", torch_type_name(result),
             " can't be cast to the desired output type ", torch_type_name(self.dtype()));
  ops::check_no_internal_overlap(self, name);
}

Tensor& bitwise_(BinaryOp op, Op id, const char* name, Tensor& self, const Tensor& o) {
  OpScope scope(id, {&self, &o});
  ops::check_same_device(name, {&self, &o});
  const DType dt = ops::result_type({&self, &o});
  if (!takes(op, dt)) not_implemented(name, dt, self.device(), describe(self, o));
  check_inplace_type(name, self, dt);
  LOOM_CHECK(broadcast_shapes(self.sizes(), o.sizes()) == self.sizes(), name, ": output with shape ", self.sizes(),
             " doesn't match the broadcast shape ", broadcast_shapes(self.sizes(), o.sizes()));
  ops::run_binary(op, self, self, as_type(o, self.dtype()));
  self.bump_version();
  return self;
}

Tensor& bitwise_(BinaryOp op, Op id, const char* name, Tensor& self, const Scalar& s) {
  OpScope scope(id, {&self});
  const DType dt = promote_with_scalar(self.dtype(), s);
  if (!takes(op, dt)) not_implemented(name, dt, self.device(), describe(self, s));
  check_inplace_type(name, self, dt);
  check_scalar_fits(s, self.dtype(), name);
  run_with_scalar(op, self, self, s);
  self.bump_version();
  return self;
}

}  // namespace

Tensor Tensor::bitwise_and(const Tensor& o) const {
  return bitwise(BinaryOp::BitAnd, Op::bitwise_and, "bitwise_and", *this, o);
}
Tensor Tensor::bitwise_and(const Scalar& s) const {
  return bitwise(BinaryOp::BitAnd, Op::bitwise_and, "bitwise_and", *this, s);
}
Tensor Tensor::bitwise_or(const Tensor& o) const {
  return bitwise(BinaryOp::BitOr, Op::bitwise_or, "bitwise_or", *this, o);
}
Tensor Tensor::bitwise_or(const Scalar& s) const {
  return bitwise(BinaryOp::BitOr, Op::bitwise_or, "bitwise_or", *this, s);
}
Tensor Tensor::bitwise_xor(const Tensor& o) const {
  return bitwise(BinaryOp::BitXor, Op::bitwise_xor, "bitwise_xor", *this, o);
}
Tensor Tensor::bitwise_xor(const Scalar& s) const {
  return bitwise(BinaryOp::BitXor, Op::bitwise_xor, "bitwise_xor", *this, s);
}

Tensor& Tensor::bitwise_and_(const Tensor& o) {
  return bitwise_(BinaryOp::BitAnd, Op::bitwise_and, "bitwise_and_", *this, o);
}
Tensor& Tensor::bitwise_and_(const Scalar& s) {
  return bitwise_(BinaryOp::BitAnd, Op::bitwise_and, "bitwise_and_", *this, s);
}
Tensor& Tensor::bitwise_or_(const Tensor& o) {
  return bitwise_(BinaryOp::BitOr, Op::bitwise_or, "bitwise_or_", *this, o);
}
Tensor& Tensor::bitwise_or_(const Scalar& s) {
  return bitwise_(BinaryOp::BitOr, Op::bitwise_or, "bitwise_or_", *this, s);
}
Tensor& Tensor::bitwise_xor_(const Tensor& o) {
  return bitwise_(BinaryOp::BitXor, Op::bitwise_xor, "bitwise_xor_", *this, o);
}
Tensor& Tensor::bitwise_xor_(const Scalar& s) {
  return bitwise_(BinaryOp::BitXor, Op::bitwise_xor, "bitwise_xor_", *this, s);
}

Tensor Tensor::bitwise_not() const {
  OpScope scope(Op::bitwise_not, {this});
  if (is_floating(dtype())) not_implemented("bitwise_not", dtype(), device(), describe(*this));
  Tensor out = empty(sizes(), TensorOptions(dtype(), device()));
  ops::run_unary(UnaryOp::BitNot, out, *this);
  return out;
}
Tensor& Tensor::bitwise_not_() {
  OpScope scope(Op::bitwise_not, {this});
  if (is_floating(dtype())) not_implemented("bitwise_not_", dtype(), device(), describe(*this));
  ops::check_no_internal_overlap(*this, "bitwise_not_");
  ops::run_unary(UnaryOp::BitNot, *this, *this);
  bump_version();
  return *this;
}

Tensor Tensor::bitwise_left_shift(const Tensor& o) const {
  return bitwise(BinaryOp::Shl, Op::bitwise_left_shift, "bitwise_left_shift", *this, o);
}
Tensor Tensor::bitwise_left_shift(const Scalar& s) const {
  return bitwise(BinaryOp::Shl, Op::bitwise_left_shift, "bitwise_left_shift", *this, s);
}
Tensor Tensor::bitwise_right_shift(const Tensor& o) const {
  return bitwise(BinaryOp::Shr, Op::bitwise_right_shift, "bitwise_right_shift", *this, o);
}
Tensor Tensor::bitwise_right_shift(const Scalar& s) const {
  return bitwise(BinaryOp::Shr, Op::bitwise_right_shift, "bitwise_right_shift", *this, s);
}
Tensor& Tensor::bitwise_left_shift_(const Tensor& o) {
  return bitwise_(BinaryOp::Shl, Op::bitwise_left_shift, "bitwise_left_shift_", *this, o);
}
Tensor& Tensor::bitwise_left_shift_(const Scalar& s) {
  return bitwise_(BinaryOp::Shl, Op::bitwise_left_shift, "bitwise_left_shift_", *this, s);
}
Tensor& Tensor::bitwise_right_shift_(const Tensor& o) {
  return bitwise_(BinaryOp::Shr, Op::bitwise_right_shift, "bitwise_right_shift_", *this, o);
}
Tensor& Tensor::bitwise_right_shift_(const Scalar& s) {
  return bitwise_(BinaryOp::Shr, Op::bitwise_right_shift, "bitwise_right_shift_", *this, s);
}

Tensor operator~(const Tensor& a) { return a.bitwise_not(); }
Tensor operator&(const Tensor& a, const Tensor& b) { return a.bitwise_and(b); }
Tensor operator|(const Tensor& a, const Tensor& b) { return a.bitwise_or(b); }
Tensor operator^(const Tensor& a, const Tensor& b) { return a.bitwise_xor(b); }
Tensor operator&(const Tensor& a, const Scalar& b) { return a.bitwise_and(b); }
Tensor operator|(const Tensor& a, const Scalar& b) { return a.bitwise_or(b); }
Tensor operator^(const Tensor& a, const Scalar& b) { return a.bitwise_xor(b); }
Tensor& operator&=(Tensor& a, const Tensor& b) { return a.bitwise_and_(b); }
Tensor& operator|=(Tensor& a, const Tensor& b) { return a.bitwise_or_(b); }
Tensor& operator^=(Tensor& a, const Tensor& b) { return a.bitwise_xor_(b); }

}  // namespace loom
