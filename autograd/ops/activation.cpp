// The activation front ends (autograd/ops/activation.h). The forward is one kernel
// (kernels/activation.h) on the input; the backward node saves the input and computes the input's
// gradient with one more kernel from the output's gradient and the input, as PyTorch's <op>_backward.
// Under create_graph the backward is composed of differentiable ops instead (the same formula), so the
// gradient has a gradient too.
#include "autograd/ops/activation.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "autograd/ops/common.h"
#include "kernels/activation.h"

namespace loom {

namespace {

using kernels::ActivationOp;
using kernels::ActivationParams;
using Composed = std::function<Tensor(const Tensor& g, const Tensor& x)>;

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

Tensor run_forward(ActivationOp op, const ActivationParams& p, const Tensor& x) {
  Tensor out = ops::new_empty(x.sizes(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const auto loop = ops::make_loop(out.sizes(), {&out, &x});
  LOOM_DEVICE_DISPATCH(
      x.device(), kernels::cpu::activation(op, x.dtype(), out.data_ptr(), x.data_ptr(), p, loop),
      kernels::cuda::activation(op, x.dtype(), out.data_ptr(), x.data_ptr(), p, loop, ops::stream_of(x.device())));
  return out;
}

Tensor run_backward(ActivationOp op, const ActivationParams& p, const Tensor& grad, const Tensor& x) {
  const Tensor g = grad.dtype() == x.dtype() ? grad : grad.to(x.dtype());
  Tensor out = ops::new_empty(x.sizes(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const auto loop = ops::make_loop(out.sizes(), {&out, &g, &x});
  LOOM_DEVICE_DISPATCH(
      x.device(), kernels::cpu::activation_backward(op, x.dtype(), out.data_ptr(), g.data_ptr(), x.data_ptr(), p, loop),
      kernels::cuda::activation_backward(op, x.dtype(), out.data_ptr(), g.data_ptr(), x.data_ptr(), p, loop,
                                         ops::stream_of(x.device())));
  return out;
}

void check_floating(const Tensor& input, const char* name) {
  LOOM_CHECK_KIND(is_floating(input.dtype()), ErrorKind::NotImplemented, name, ": not implemented for ",
                  dtype_name(input.dtype()), " (input of shape ", input.sizes(), "); expected float32 or float64");
}

// y = op(input) with a backward node named `node`; `composed` is the backward under create_graph.
Tensor activation(Op id, const char* name, const char* node, ActivationOp op, const ActivationParams& p,
                  const Tensor& input, Composed composed) {
  OpScope scope(id, {&input});
  check_floating(input, name);
  Tensor y = run_forward(op, p, input);
  if (autograd::any_requires_grad({&input})) {
    autograd::SavedTensor sx(input);
    const std::string nn = node;
    auto n = std::make_shared<autograd::LambdaNode>(node, [=](const TensorList& g) {
      if (!g[0].defined()) return TensorList{Tensor()};
      const Tensor x = sx.unpack(nn.c_str());
      if (autograd::grad_enabled()) return TensorList{composed(g[0], x)};
      return TensorList{run_backward(op, p, g[0], x)};
    });
    autograd::attach(n, {input}, y);
  }
  return y;
}

// elu's general form (PyTorch's elu(input, alpha, scale, input_scale)): scale x above 0,
// alpha scale (exp(input_scale x) - 1) at or below.
Tensor elu_general(Op id, const char* name, const Tensor& input, double alpha, double scale, double input_scale) {
  return activation(id, name, "EluBackward0", ActivationOp::Elu, {alpha, scale, input_scale}, input,
                    [=](const Tensor& g, const Tensor& x) {
                      const Tensor neg =
                          g * (alpha * scale * input_scale) * (where(x.lt(0.0), x, 0.0) * input_scale).exp();
                      return where(x.le(0.0), neg, g * scale);
                    });
}

}  // namespace

Tensor leaky_relu(const Tensor& input, double negative_slope) {
  return activation(Op::leaky_relu, "leaky_relu", "LeakyReluBackward0", ActivationOp::LeakyRelu, {negative_slope},
                    input, [=](const Tensor& g, const Tensor& x) { return where(x.gt(0.0), g, g * negative_slope); });
}

Tensor elu(const Tensor& input, double alpha) { return elu_general(Op::elu, "elu", input, alpha, 1.0, 1.0); }

Tensor celu(const Tensor& input, double alpha) {
  LOOM_CHECK(alpha != 0.0, "ZeroDivisionError: celu: alpha must not be 0 (input of shape ", input.sizes(), ")");
  return elu_general(Op::celu, "celu", input, alpha, 1.0, 1.0 / alpha);
}

Tensor selu(const Tensor& input) { return elu_general(Op::selu, "selu", input, kSeluAlpha, kSeluScale, 1.0); }

Tensor softplus(const Tensor& input, double beta, double threshold) {
  return activation(Op::softplus, "softplus", "SoftplusBackward0", ActivationOp::Softplus, {beta, threshold}, input,
                    [=](const Tensor& g, const Tensor& x) {
                      const Tensor bx = x * beta;
                      return where(bx.gt(threshold), g, g * bx.sigmoid());
                    });
}

Tensor hardtanh(const Tensor& input, double min_val, double max_val) {
  LOOM_CHECK_VALUE(!(min_val > max_val), "hardtanh: min_val (", min_val, ") cannot be greater than max_val (", max_val,
                   "), input of shape ", input.sizes());
  if (!is_floating(input.dtype())) {
    OpScope scope(Op::hardtanh, {&input});
    LOOM_CHECK_KIND(input.dtype() != DType::Bool, ErrorKind::NotImplemented,
                    "hardtanh: Bool inputs not supported (input of shape ", input.sizes(), ")");
    return input.clamp(Scalar(static_cast<int64_t>(std::ceil(min_val))),
                       Scalar(static_cast<int64_t>(std::floor(max_val))));
  }
  return activation(Op::hardtanh, "hardtanh", "HardtanhBackward0", ActivationOp::Hardtanh, {min_val, max_val}, input,
                    [=](const Tensor& g, const Tensor& x) { return where(x.le(min_val) | x.ge(max_val), 0.0, g); });
}

Tensor hardsigmoid(const Tensor& input) {
  return activation(Op::hardsigmoid, "hardsigmoid", "HardsigmoidBackward0", ActivationOp::Hardsigmoid, {}, input,
                    [](const Tensor& g, const Tensor& x) { return where(x.gt(-3.0) & x.lt(3.0), g / 6.0, 0.0); });
}

Tensor hardswish(const Tensor& input) {
  return activation(Op::hardswish, "hardswish", "HardswishBackward0", ActivationOp::Hardswish, {}, input,
                    [](const Tensor& g, const Tensor& x) {
                      return where(x.lt(-3.0), 0.0, where(x.le(3.0), g * (x / 3.0 + 0.5), g));
                    });
}

Tensor mish(const Tensor& input) {
  return activation(Op::mish, "mish", "MishBackward0", ActivationOp::Mish, {}, input,
                    [](const Tensor& g, const Tensor& x) {
                      const Tensor t = softplus(x).tanh(), s = x.sigmoid();
                      return g * (t + x * s * (1.0 - t * t));
                    });
}

Tensor logsigmoid(const Tensor& input) {
  return activation(Op::logsigmoid, "logsigmoid", "LogSigmoidBackward0", ActivationOp::LogSigmoid, {}, input,
                    [](const Tensor& g, const Tensor& x) { return g * x.neg().sigmoid(); });
}

Tensor softsign(const Tensor& input) {
  LOOM_CHECK_KIND(input.dtype() != DType::Bool, ErrorKind::NotImplemented,
                  "softsign: not implemented for bool (input of shape ", input.sizes(), ")");
  const Tensor x = is_floating(input.dtype()) ? input : input.to(default_dtype());
  return activation(Op::softsign, "softsign", "SoftsignBackward0", ActivationOp::Softsign, {}, x,
                    [](const Tensor& g, const Tensor& v) { return g / (v.abs() + 1.0).square(); });
}

Tensor tanhshrink(const Tensor& input) {
  LOOM_CHECK_KIND(input.dtype() != DType::Bool, ErrorKind::NotImplemented,
                  "tanhshrink: not implemented for bool (input of shape ", input.sizes(), ")");
  const Tensor x = is_floating(input.dtype()) ? input : input.to(default_dtype());
  return activation(Op::tanhshrink, "tanhshrink", "TanhshrinkBackward0", ActivationOp::Tanhshrink, {}, x,
                    [](const Tensor& g, const Tensor& v) { return g * v.tanh().square(); });
}

Tensor hardshrink(const Tensor& input, double lambd) {
  return activation(Op::hardshrink, "hardshrink", "HardshrinkBackward0", ActivationOp::Hardshrink, {lambd}, input,
                    [=](const Tensor& g, const Tensor& x) { return where(x.ge(-lambd) & x.le(lambd), 0.0, g); });
}

Tensor softshrink(const Tensor& input, double lambd) {
  LOOM_CHECK(lambd >= 0.0, "softshrink: lambda must be greater or equal to 0, but found to be ", lambd,
             " (input of shape ", input.sizes(), ")");
  return activation(Op::softshrink, "softshrink", "SoftshrinkBackward0", ActivationOp::Softshrink, {lambd}, input,
                    [=](const Tensor& g, const Tensor& x) { return where(x.ge(-lambd) & x.le(lambd), 0.0, g); });
}

Tensor threshold(const Tensor& input, double threshold, double value) {
  if (!is_floating(input.dtype())) {
    OpScope scope(Op::threshold, {&input});
    LOOM_CHECK_KIND(input.dtype() != DType::Bool, ErrorKind::NotImplemented,
                    "threshold: not implemented for bool (input of shape ", input.sizes(), ")");
    return where(input.le(threshold), Scalar(static_cast<int64_t>(value)), input);
  }
  return activation(Op::threshold, "threshold", "ThresholdBackward0", ActivationOp::Threshold, {threshold, value},
                    input, [=](const Tensor& g, const Tensor& x) { return where(x.le(threshold), 0.0, g); });
}

Tensor huber_elementwise(Op id, const char* name, const char* node, const Tensor& d, double delta, double square_scale,
                         double line_scale) {
  return activation(id, name, node, ActivationOp::Huber, {delta, square_scale, line_scale}, d,
                    [=](const Tensor& g, const Tensor& x) {
                      return where(x.abs().lt(delta), g * x * square_scale, g * x.sign() * line_scale);
                    });
}

Tensor nan_to_num(const Tensor& input, double nan, std::optional<double> posinf, std::optional<double> neginf) {
  if (!is_floating(input.dtype())) {
    OpScope scope(Op::nan_to_num, {&input});
    return input.clone();
  }
  const bool f32 = input.dtype() == DType::Float32;
  const double big = f32 ? double(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
  return activation(Op::nan_to_num, "nan_to_num", "NanToNumBackward0", ActivationOp::NanToNum,
                    {nan, posinf.value_or(big), neginf.value_or(-big)}, input, [](const Tensor& g, const Tensor& x) {
                      return where((x - x).eq(0.0), g, 0.0);
                    });  // x - x: 0 where finite
}

}  // namespace loom
