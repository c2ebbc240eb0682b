// Depthwise 2-D convolution on the CPU (one input channel per group, any channel multiplier), called by
// kernels/cpu/conv.cpp; not part of the kernel API.
#pragma once
#include "kernels/conv.h"

namespace loom::kernels::cpu::detail {

// Whether the direct depthwise kernels take the pass: 2-D, one input channel per group, stride 1 or 2, at
// most 64 taps; the input gradient only at stride 1 with pad <= dil (k - 1).
bool depthwise_applies(const ConvParams& p, bool grad_input);
// float32 / float64, the layouts of kernels/conv.h. bias may be null.
void depthwise_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p);
void depthwise_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p);
// grad_weight only (overwritten); the caller sums the bias gradient.
void depthwise_backward_weight(DType dt, void* grad_weight, const void* grad_out, const void* in, const ConvParams& p);

}  // namespace loom::kernels::cpu::detail
