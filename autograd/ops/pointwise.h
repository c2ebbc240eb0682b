// The front-end helpers of the pointwise family (autograd/ops/pointwise.cpp)
// that its other files share (autograd/ops/pointwise_division.cpp, pointwise_fused.cpp): a binary
// op with its backward node, on two tensors or a tensor and a number, and the
// in-place forms. Not part of loom's API.
#pragma once
#include <functional>
#include <string>

#include "autograd/node.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "kernels/pointwise.h"

namespace loom::pointwise {

using BinaryGrad = std::function<TensorList(const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& y)>;
using ScalarGrad = std::function<Tensor(const Tensor& g, const Tensor& a, const Tensor& y)>;

// The promoted dtype of a and b (PyTorch's rules).
DType binary_result_type(const char* name, const Tensor& a, const Tensor& b);
// y = a op b computed in `compute`, with a node named `node` when grad is set and an input requires grad.
Tensor binary(kernels::BinaryOp op, Op id, const char* name, const Tensor& a, const Tensor& b, DType compute,
              const char* node, bool save_inputs, bool save_y, BinaryGrad grad);
Tensor binary_scalar(kernels::BinaryOp op, Op id, const Tensor& a, const Scalar& s, DType compute, const char* node,
                     bool save_a, bool save_y, ScalarGrad grad);
// The dtype an in-place op on self with other computes in.
DType common_type(const Tensor& self, const Tensor& o);
// self <- self op o (or op v) in place; `functional` is the out-of-place form used under autograd.
Tensor& inplace_tensor(Tensor& self, const char* op, kernels::BinaryOp bop, const Tensor& o, bool div_like,
                       const std::function<Tensor(const Tensor&)>& functional);
Tensor& inplace_scalar(Tensor& self, const char* op, kernels::BinaryOp bop, const Scalar& v, bool div_like,
                       const std::function<Tensor(const Tensor&)>& functional);

// The name of a unary op (its Python method's), and whether it computes in floating point only (integer
// inputs promoted), as the unary front ends of autograd/ops/pointwise.cpp use them.
const char* unary_name(kernels::UnaryOp op);
bool float_only(kernels::UnaryOp op);

// Python's in-place unary methods (Tensor.sigmoid_, abs_, floor_...: python/loom/_inplace.py): op(self)
// written straight into self when `name` is a unary kernel's op, the result keeps self's dtype and nothing
// tracks self; returns false otherwise, for the caller's general path (the out-of-place op copied back).
bool unary_inplace_direct(Tensor& self, const std::string& name);

// The special functions' derivatives (autograd/ops/pointwise_special.cpp), used by the front ends generated
// from core/ops.toml: d/dx of y = bessel_j1(x) (1/2 at 0) and of y = bessel_y1(x) (+inf at 0), and a
// backward that raises a RuntimeError naming `op` (the functions PyTorch defines no derivative for).
Tensor bessel_j1_derivative(const Tensor& x, const Tensor& y);
Tensor bessel_y1_derivative(const Tensor& x, const Tensor& y);
[[noreturn]] Tensor not_differentiable(const char* op);

}  // namespace loom::pointwise
