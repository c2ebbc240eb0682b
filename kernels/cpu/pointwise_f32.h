// The float32 unary ops the CPU vectorizes with the functions of kernels/cpu/branchless.h (exp, log,
// sin, tanh, erf, the activations and their gradients...), called by unary() of kernels/cpu/pointwise.cpp;
// not part of the kernel API.
#pragma once
#include "kernels/loops.h"

namespace loom::kernels::cpu::detail {

// Whether unary_f32 computes `op`.
bool f32_row_op(UnaryOp op);
// out = op(in) over the loop (operand 0 the output, 1 the input), float32, for f32_row_op(op).
void unary_f32(UnaryOp op, float* out, const float* in, const ElementwiseLoop& loop);

}  // namespace loom::kernels::cpu::detail
