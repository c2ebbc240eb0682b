// Activation kernels: the contract of kernels/cpu/activation.cpp and kernels/cuda/activation.cu (see
// kernels/contract.h). The activations of torch.nn.functional that take parameters or would otherwise be
// composed of several elementwise ops (leaky_relu, elu / celu / selu, softplus, hardtanh, hardsigmoid,
// hardswish, mish, logsigmoid, softsign, tanhshrink, hardshrink, softshrink, threshold; and nan_to_num and
// the elementwise part of huber_loss / smooth_l1_loss, which have their shape): one pass for
// the forward, one for the backward (the gradient of the input from the output's gradient and the
// input). Their formulas, shared by both devices, are in kernels/activation_math.h. float32 / float64.
#pragma once
#include "kernels/contract.h"
#include "kernels/loops.h"

namespace loom::kernels {

enum class ActivationOp : int8_t {
  LeakyRelu,    // a = negative_slope
  Elu,          // a = alpha, b = scale, c = input_scale (celu: 1, 1 / alpha; selu: its constants, 1)
  Softplus,     // a = beta, b = threshold
  Hardtanh,     // a = min_val, b = max_val
  Hardsigmoid,  //
  Hardswish,    //
  Mish,         //
  LogSigmoid,   //
  Softsign,     //
  Tanhshrink,   //
  Hardshrink,   // a = lambd
  Softshrink,   // a = lambd
  Threshold,    // a = threshold, b = value
  NanToNum,     // a = nan, b = posinf, c = neginf (the replacements; gradient: g where x is finite)
  Huber,        // a = delta, b = the square's scale, c = the line's (huber_loss: 1, delta; smooth_l1_loss:
                // 1 / beta, 1), on the difference input - target
};

// The op's parameters (unused ones are ignored).
struct ActivationParams {
  double a = 0, b = 0, c = 0;
};

namespace cpu {
// out = f(in). loop operands: 0 out, 1 in.
void activation(ActivationOp op, DType dt, void* out, const void* in, const ActivationParams& p,
                const ElementwiseLoop& loop);
// grad_in = grad_out * f'(x), as PyTorch's <op>_backward (its choices at the kinks). loop operands:
// 0 grad_in, 1 grad_out, 2 x.
void activation_backward(ActivationOp op, DType dt, void* grad_in, const void* grad_out, const void* x,
                         const ActivationParams& p, const ElementwiseLoop& loop);
}  // namespace cpu

namespace cuda {
void activation(ActivationOp op, DType dt, void* out, const void* in, const ActivationParams& p,
                const ElementwiseLoop& loop, cudaStream_t stream);
void activation_backward(ActivationOp op, DType dt, void* grad_in, const void* grad_out, const void* x,
                         const ActivationParams& p, const ElementwiseLoop& loop, cudaStream_t stream);
}  // namespace cuda

}  // namespace loom::kernels
