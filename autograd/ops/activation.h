// The activations of torch.nn.functional that take parameters or would otherwise be composed of several
// elementwise ops (autograd/ops/activation.cpp): one kernel for the forward and one for the backward
// (kernels/activation.h). PyTorch's names, argument orders, defaults and gradients, the gradients
// differentiable again (create_graph). Floating inputs (float32, float64), except where noted; other
// dtypes raise NotImplemented naming the op, as PyTorch.
#pragma once
#include <optional>

#include "core/ops.h"
#include "core/tensor.h"

namespace loom {

// input where input > 0, else negative_slope * input.
Tensor leaky_relu(const Tensor& input, double negative_slope = 0.01);
// input where input > 0, else alpha * (exp(input) - 1).
Tensor elu(const Tensor& input, double alpha = 1.0);
// input where input > 0, else alpha * (exp(input / alpha) - 1); alpha != 0.
Tensor celu(const Tensor& input, double alpha = 1.0);
// scale * elu(input, alpha) with the self-normalizing constants alpha = 1.6732632..., scale = 1.0507009...
Tensor selu(const Tensor& input);
// log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold.
Tensor softplus(const Tensor& input, double beta = 1.0, double threshold = 20.0);
// input clamped to [min_val, max_val] (min_val <= max_val); the gradient is 1 strictly inside, 0 elsewhere.
// Integer inputs too (clamped in their dtype, no gradient); bool raises.
Tensor hardtanh(const Tensor& input, double min_val = -1.0, double max_val = 1.0);
// min(max(input + 3, 0), 6) / 6.
Tensor hardsigmoid(const Tensor& input);
// input * hardsigmoid(input).
Tensor hardswish(const Tensor& input);
// input * tanh(softplus(input)).
Tensor mish(const Tensor& input);
// log(sigmoid(input)) = -softplus(-input), without overflow.
Tensor logsigmoid(const Tensor& input);
// input / (1 + |input|); integer inputs give float32 (the default dtype), bool raises.
Tensor softsign(const Tensor& input);
// input - tanh(input); integer inputs give float32 (the default dtype), bool raises.
Tensor tanhshrink(const Tensor& input);
// input where |input| > lambd, else 0.
Tensor hardshrink(const Tensor& input, double lambd = 0.5);
// input - lambd above lambd, input + lambd below -lambd, else 0; lambd >= 0.
Tensor softshrink(const Tensor& input, double lambd = 0.5);
// input where input > threshold, else value. Integer inputs too (value converted to their dtype, no
// gradient); bool raises.
Tensor threshold(const Tensor& input, double threshold, double value);
// NaN replaced by nan, +inf by posinf and -inf by neginf (by default the dtype's largest and lowest finite
// values); the gradient passes where input is finite. Integer and bool inputs: a copy.
Tensor nan_to_num(const Tensor& input, double nan = 0.0, std::optional<double> posinf = std::nullopt,
                  std::optional<double> neginf = std::nullopt);

// The elementwise part of huber_loss and smooth_l1_loss (autograd/ops/loss.cpp) on a floating difference
// d: 0.5 d^2 square_scale where |d| < delta, else (|d| - 0.5 delta) line_scale; one kernel each way, the
// backward node named `node`, the op `id` in the profiler.
Tensor huber_elementwise(Op id, const char* name, const char* node, const Tensor& d, double delta, double square_scale,
                         double line_scale);

}  // namespace loom
