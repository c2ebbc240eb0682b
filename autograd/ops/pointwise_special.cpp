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

#define LOOM_SPECIAL_POLYNOMIAL(fn, kernel, node)                                      \
  Tensor fn(const Tensor& input, const Tensor& n) {                                    \
    return special_polynomial(kernels::BinaryOp::kernel, Op::fn, #fn, node, input, n); \
  }
LOOM_SPECIAL_POLYNOMIAL(chebyshev_polynomial_t, ChebyshevT, "SpecialChebyshevPolynomialTBackward0")
LOOM_SPECIAL_POLYNOMIAL(chebyshev_polynomial_u, ChebyshevU, "SpecialChebyshevPolynomialUBackward0")
LOOM_SPECIAL_POLYNOMIAL(chebyshev_polynomial_v, ChebyshevV, "SpecialChebyshevPolynomialVBackward0")
LOOM_SPECIAL_POLYNOMIAL(chebyshev_polynomial_w, ChebyshevW, "SpecialChebyshevPolynomialWBackward0")
LOOM_SPECIAL_POLYNOMIAL(shifted_chebyshev_polynomial_t, ShiftedChebyshevT,
                        "SpecialShiftedChebyshevPolynomialTBackward0")
LOOM_SPECIAL_POLYNOMIAL(shifted_chebyshev_polynomial_u, ShiftedChebyshevU,
                        "SpecialShiftedChebyshevPolynomialUBackward0")
LOOM_SPECIAL_POLYNOMIAL(shifted_chebyshev_polynomial_v, ShiftedChebyshevV,
                        "SpecialShiftedChebyshevPolynomialVBackward0")
LOOM_SPECIAL_POLYNOMIAL(shifted_chebyshev_polynomial_w, ShiftedChebyshevW,
                        "SpecialShiftedChebyshevPolynomialWBackward0")
LOOM_SPECIAL_POLYNOMIAL(hermite_polynomial_h, HermiteH, "SpecialHermitePolynomialHBackward0")
LOOM_SPECIAL_POLYNOMIAL(hermite_polynomial_he, HermiteHe, "SpecialHermitePolynomialHeBackward0")
LOOM_SPECIAL_POLYNOMIAL(laguerre_polynomial_l, LaguerreL, "SpecialLaguerrePolynomialLBackward0")
LOOM_SPECIAL_POLYNOMIAL(legendre_polynomial_p, LegendreP, "SpecialLegendrePolynomialPBackward0")
#undef LOOM_SPECIAL_POLYNOMIAL

}  // namespace loom
