// Rounded division and its remainders: floor_divide (Python's //), remainder
// (Python's %), fmod (C's), div with rounding_mode "floor" or "trunc", their
// forms with a number and in place, and operator%. Results keep the promoted
// dtype (integers stay integers); an integer zero divisor raises on the CPU.
// The rounded quotients have zero gradients; the remainders pass g to input
// and -g * quotient to other, as PyTorch.
#include <string>

#include "autograd/ops/pointwise.h"

#include "autograd/ops/common.h"

namespace loom {

using kernels::BinaryOp;
using namespace pointwise;

// ---- rounded division and remainders ----
namespace {

// Integer division by zero raises on the CPU, as in PyTorch ("ZeroDivisionError").
// CUDA tensors are not checked (that would synchronize the host); their kernels
// give x // 0 = 0 and x % 0 = x.
// b is checked in the dtype it is divided in (an int64 2^32 is an int32 0).
void check_divisor(const char* op, const Tensor& a, const Tensor& b, DType compute) {
  if (is_floating(compute) || !b.device().is_cpu() || b.numel() == 0) return;
  const Tensor cb = b.dtype() == compute ? b : b.detach().to(compute);
  LOOM_CHECK(cb.eq(Scalar(int64_t(0))).sum().item<int64_t>() == 0, op,
             ": ZeroDivisionError: integer division by zero (input ", a.sizes(), " ", dtype_name(a.dtype()), ", other ",
             b.sizes(), " ", dtype_name(b.dtype()), ")");
}
void check_divisor(const char* op, const Tensor& a, const Scalar& s, DType compute) {
  LOOM_CHECK(is_floating(compute) || s.to_double() != 0.0, op, ": ZeroDivisionError: integer division by zero (input ",
             a.sizes(), " ", dtype_name(a.dtype()), ", other the number 0)");
}
void check_not_bool(const char* op, DType rt) {
  LOOM_CHECK_TYPE(rt != DType::Bool, op, ": not supported for dtype bool (supported: int32, int64, float32, float64)");
}

// The result dtype of a rounded division or remainder of a by b, after the checks.
DType rounded_type(const char* op, const Tensor& a, const Tensor& b) {
  const DType rt = binary_result_type(op, a, b);
  check_not_bool(op, rt);
  ops::check_same_device(op, {&a, &b});
  ops::broadcast_named(op, a.sizes(), b.sizes());
  check_divisor(op, a, b, rt);
  return rt;
}
DType rounded_type(const char* op, const Tensor& a, const Scalar& s) {
  const DType rt = promote_with_scalar(a.dtype(), s);
  check_not_bool(op, rt);
  check_divisor(op, a, s, rt);
  return rt;
}

TensorList zero_grads(const Tensor& g, const Tensor&, const Tensor&, const Tensor&) {
  return TensorList{zeros_like(g), zeros_like(g)};
}
Tensor zero_grad(const Tensor& g, const Tensor&, const Tensor&) { return zeros_like(g); }
Tensor pass_grad(const Tensor& g, const Tensor&, const Tensor&) { return g; }

void check_rounding_mode(const char* op, const std::string& mode) {
  LOOM_CHECK(mode == "floor" || mode == "trunc", op,
             " expected rounding_mode to be one of None, 'trunc', or 'floor' but found '", mode, "'");
}

}  // namespace

Tensor Tensor::floor_divide(const Tensor& o) const {
  return binary(BinaryOp::FloorDiv, Op::floor_divide, "floor_divide", *this, o, rounded_type("floor_divide", *this, o),
                "FloorDivideBackward0", false, false, zero_grads);
}
Tensor Tensor::floor_divide(const Scalar& s) const {
  return binary_scalar(BinaryOp::FloorDiv, Op::floor_divide, *this, s, rounded_type("floor_divide", *this, s),
                       "FloorDivideBackward0", false, false, zero_grad);
}
Tensor Tensor::remainder(const Tensor& o) const {
  return binary(BinaryOp::Remainder, Op::remainder, "remainder", *this, o, rounded_type("remainder", *this, o),
                "RemainderBackward0", true, false,
                [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                  return TensorList{g, -(g * a.floor_divide(b))};
                });
}
Tensor Tensor::remainder(const Scalar& s) const {
  return binary_scalar(BinaryOp::Remainder, Op::remainder, *this, s, rounded_type("remainder", *this, s),
                       "RemainderBackward0", false, false, pass_grad);
}
Tensor Tensor::fmod(const Tensor& o) const {
  return binary(BinaryOp::Fmod, Op::fmod, "fmod", *this, o, rounded_type("fmod", *this, o), "FmodBackward0", true,
                false, [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                  return TensorList{g, -(g * a.div(b, "trunc"))};
                });
}
Tensor Tensor::fmod(const Scalar& s) const {
  return binary_scalar(BinaryOp::Fmod, Op::fmod, *this, s, rounded_type("fmod", *this, s), "FmodBackward0", false,
                       false, pass_grad);
}
Tensor Tensor::div(const Tensor& o, const std::string& rounding_mode) const {
  check_rounding_mode("div", rounding_mode);
  if (rounding_mode == "floor") return floor_divide(o);
  return binary(BinaryOp::TruncDiv, Op::div, "div", *this, o, rounded_type("div", *this, o), "DivBackward2", false,
                false, zero_grads);
}
Tensor Tensor::div(const Scalar& s, const std::string& rounding_mode) const {
  check_rounding_mode("div", rounding_mode);
  if (rounding_mode == "floor") return floor_divide(s);
  return binary_scalar(BinaryOp::TruncDiv, Op::div, *this, s, rounded_type("div", *this, s), "DivBackward3", false,
                       false, zero_grad);
}

Tensor operator%(const Tensor& a, const Tensor& b) { return a.remainder(b); }
Tensor operator%(const Tensor& a, const Scalar& b) { return a.remainder(b); }

// ---- in place ----
namespace {
// The checks of an in-place rounded division (an empty tensor too must refuse bool).
void check_rounded_inplace(const char* op, const Tensor& self, const Tensor& o) {
  const DType rt = common_type(self, o);
  check_not_bool(op, rt);
  check_divisor(op, self, o, rt);
}
void check_rounded_inplace(const char* op, const Tensor& self, const Scalar& v) {
  const DType rt = promote_with_scalar(self.dtype(), v);
  check_not_bool(op, rt);
  check_divisor(op, self, v, rt);
}
}  // namespace

Tensor& Tensor::floor_divide_(const Tensor& o) {
  check_rounded_inplace("floor_divide_", *this, o);
  return inplace_tensor(*this, "floor_divide_", BinaryOp::FloorDiv, o, false,
                        [&](const Tensor& s) { return s.floor_divide(o); });
}
Tensor& Tensor::floor_divide_(const Scalar& v) {
  check_rounded_inplace("floor_divide_", *this, v);
  return inplace_scalar(*this, "floor_divide_", BinaryOp::FloorDiv, v, false,
                        [&](const Tensor& s) { return s.floor_divide(v); });
}
Tensor& Tensor::remainder_(const Tensor& o) {
  check_rounded_inplace("remainder_", *this, o);
  return inplace_tensor(*this, "remainder_", BinaryOp::Remainder, o, false,
                        [&](const Tensor& s) { return s.remainder(o); });
}
Tensor& Tensor::remainder_(const Scalar& v) {
  check_rounded_inplace("remainder_", *this, v);
  return inplace_scalar(*this, "remainder_", BinaryOp::Remainder, v, false,
                        [&](const Tensor& s) { return s.remainder(v); });
}
Tensor& Tensor::fmod_(const Tensor& o) {
  check_rounded_inplace("fmod_", *this, o);
  return inplace_tensor(*this, "fmod_", BinaryOp::Fmod, o, false, [&](const Tensor& s) { return s.fmod(o); });
}
Tensor& Tensor::fmod_(const Scalar& v) {
  check_rounded_inplace("fmod_", *this, v);
  return inplace_scalar(*this, "fmod_", BinaryOp::Fmod, v, false, [&](const Tensor& s) { return s.fmod(v); });
}
Tensor& Tensor::div_(const Tensor& o, const std::string& rounding_mode) {
  check_rounding_mode("div_", rounding_mode);
  if (rounding_mode == "floor") return floor_divide_(o);
  check_rounded_inplace("div_", *this, o);
  return inplace_tensor(*this, "div_", BinaryOp::TruncDiv, o, false,
                        [&](const Tensor& s) { return s.div(o, rounding_mode); });
}
Tensor& Tensor::div_(const Scalar& v, const std::string& rounding_mode) {
  check_rounding_mode("div_", rounding_mode);
  if (rounding_mode == "floor") return floor_divide_(v);
  check_rounded_inplace("div_", *this, v);
  return inplace_scalar(*this, "div_", BinaryOp::TruncDiv, v, false,
                        [&](const Tensor& s) { return s.div(v, rounding_mode); });
}
}  // namespace loom
