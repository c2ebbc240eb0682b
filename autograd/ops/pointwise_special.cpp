// The special functions of torch.special beyond the ones in autograd/ops/pointwise.cpp: the derivatives of
// the Bessel functions J1 and Y1 (the others are one-liners in core/ops.toml), and the front ends of the
// orthogonal polynomials chebyshev_polynomial_t ... legendre_polynomial_p (kernels/special_polynomials.h):
// binary ops of x = input and the degree n, broadcasting, with PyTorch's type promotion (integer and bool
// operands give the default float dtype). PyTorch 2.15 defines no derivative for the polynomials, e^x K0,
// e^x K1, j0 and Ai; loom's backward for them raises a RuntimeError naming the function rather than
// letting a zero gradient through.
#include <cmath>
#include <string>

#include "autograd/ops/pointwise.h"

#include "autograd/ops/common.h"
#include "core/ops_functions.h"

namespace loom {
namespace pointwise {

// j0(x) - y / x, 1/2 at 0 (PyTorch's value there).
Tensor bessel_j1_derivative(const Tensor& x, const Tensor& y) {
  const Tensor zero = x.eq(0.0);
  return where(zero, 0.5, x.bessel_j0() - y / where(zero, 1.0, x));
}

// y0(x) - y / x, +inf at 0 (PyTorch's value there; the formula gives -inf + inf).
Tensor bessel_y1_derivative(const Tensor& x, const Tensor& y) {
  const Tensor zero = x.eq(0.0);
  return where(zero, INFINITY, x.bessel_y0() - y / where(zero, 1.0, x));
}

Tensor not_differentiable(const char* op) {
  LOOM_THROW(ErrorKind::Runtime, op,
             ": the derivative is not implemented (PyTorch 2.15 defines none: its result does not require grad); "
             "detach the input, or compute this function under no_grad");
}

}  // namespace pointwise

namespace {
Tensor special_polynomial(kernels::BinaryOp op, Op id, const char* name, const char* node, const Tensor& input,
                          const Tensor& n) {
  DType rt = pointwise::binary_result_type(name, input, n);
  if (!is_floating(rt)) rt = default_dtype();
  const std::string op_name = name;
  return pointwise::binary(op, id, name, input, n, rt, node, false, false,
                           [op_name](const Tensor&, const Tensor&, const Tensor&, const Tensor&) -> TensorList {
                             pointwise::not_differentiable(op_name.c_str());
                           });
}
}  // namespace

Tensor chebyshev_polynomial_t(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ChebyshevT, Op::chebyshev_polynomial_t, "chebyshev_polynomial_t",
                            "SpecialChebyshevPolynomialTBackward0", input, n);
}
Tensor chebyshev_polynomial_u(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ChebyshevU, Op::chebyshev_polynomial_u, "chebyshev_polynomial_u",
                            "SpecialChebyshevPolynomialUBackward0", input, n);
}
Tensor chebyshev_polynomial_v(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ChebyshevV, Op::chebyshev_polynomial_v, "chebyshev_polynomial_v",
                            "SpecialChebyshevPolynomialVBackward0", input, n);
}
Tensor chebyshev_polynomial_w(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ChebyshevW, Op::chebyshev_polynomial_w, "chebyshev_polynomial_w",
                            "SpecialChebyshevPolynomialWBackward0", input, n);
}
Tensor shifted_chebyshev_polynomial_t(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ShiftedChebyshevT, Op::shifted_chebyshev_polynomial_t,
                            "shifted_chebyshev_polynomial_t", "SpecialShiftedChebyshevPolynomialTBackward0", input, n);
}
Tensor shifted_chebyshev_polynomial_u(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ShiftedChebyshevU, Op::shifted_chebyshev_polynomial_u,
                            "shifted_chebyshev_polynomial_u", "SpecialShiftedChebyshevPolynomialUBackward0", input, n);
}
Tensor shifted_chebyshev_polynomial_v(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ShiftedChebyshevV, Op::shifted_chebyshev_polynomial_v,
                            "shifted_chebyshev_polynomial_v", "SpecialShiftedChebyshevPolynomialVBackward0", input, n);
}
Tensor shifted_chebyshev_polynomial_w(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::ShiftedChebyshevW, Op::shifted_chebyshev_polynomial_w,
                            "shifted_chebyshev_polynomial_w", "SpecialShiftedChebyshevPolynomialWBackward0", input, n);
}
Tensor hermite_polynomial_h(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::HermiteH, Op::hermite_polynomial_h, "hermite_polynomial_h",
                            "SpecialHermitePolynomialHBackward0", input, n);
}
Tensor hermite_polynomial_he(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::HermiteHe, Op::hermite_polynomial_he, "hermite_polynomial_he",
                            "SpecialHermitePolynomialHeBackward0", input, n);
}
Tensor laguerre_polynomial_l(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::LaguerreL, Op::laguerre_polynomial_l, "laguerre_polynomial_l",
                            "SpecialLaguerrePolynomialLBackward0", input, n);
}
Tensor legendre_polynomial_p(const Tensor& input, const Tensor& n) {
  return special_polynomial(kernels::BinaryOp::LegendreP, Op::legendre_polynomial_p, "legendre_polynomial_p",
                            "SpecialLegendrePolynomialPBackward0", input, n);
}

}  // namespace loom
