// The float32 unary ops the CPU vectorizes with the functions of kernels/cpu/branchless.h (exp, log,
// sin, tanh, erf, the activations and their gradients...; atan2 and hypot), called by unary(), binary() and
// binary_scalar() of kernels/cpu/pointwise.cpp;
// not part of the kernel API.
#pragma once
#include "kernels/loops.h"

namespace loom::kernels::cpu::detail {

// Whether unary_f32 computes `op`.
bool f32_row_op(UnaryOp op);
// out = op(in) over the loop (operand 0 the output, 1 the input), float32, for f32_row_op(op).
void unary_f32(UnaryOp op, float* out, const float* in, const ElementwiseLoop& loop);
// Whether binary_f32 computes `op` (atan2, hypot).
bool f32_binary_row_op(BinaryOp op);
// out = a op b over the loop (operands 0 out, 1 a, 2 b; a stride 0 broadcasts), float32, for
// f32_binary_row_op(op).
void binary_f32(BinaryOp op, float* out, const float* a, const float* b, const ElementwiseLoop& loop);

}  // namespace loom::kernels::cpu::detail
