// Activation modules: ReLU, GELU, SiLU, Sigmoid, Tanh, Softmax, and the parameterized ones of
// autograd/ops/activation.h (LeakyReLU, ELU, CELU, SELU, Softplus, Hardtanh, ReLU6, Hardsigmoid,
// Hardswish, Mish, LogSigmoid, Softsign, Tanhshrink, Hardshrink, Softshrink, Threshold) with PyTorch's
// constructor arguments, defaults and printed form.
#pragma once
#include "autograd/ops/activation.h"
#include "nn/module.h"

namespace loom::nn {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) const { return x.relu(); }
};

class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& x) const { return x.gelu(approximate); }
  std::string extra_repr() const override { return "approximate='" + approximate + "'"; }
  const std::string approximate;
};

class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& x) const { return x.silu(); }
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) const { return x.sigmoid(); }
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) const { return x.tanh(); }
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& x) const { return x.softmax(dim); }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim); }
  const int64_t dim;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) const { return leaky_relu(x, negative_slope); }
  std::string extra_repr() const override;
  const double negative_slope;
};

class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : Module("ELU"), alpha(alpha) {}
  Tensor forward(const Tensor& x) const { return elu(x, alpha); }
  std::string extra_repr() const override;
  const double alpha;
};

class CELU : public Module {
 public:
  explicit CELU(double alpha = 1.0) : Module("CELU"), alpha(alpha) {}
  Tensor forward(const Tensor& x) const { return celu(x, alpha); }
  std::string extra_repr() const override;
  const double alpha;
};

class SELU : public Module {
 public:
  SELU() : Module("SELU") {}
  Tensor forward(const Tensor& x) const { return selu(x); }
};

class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : Module("Softplus"), beta(beta), threshold(threshold) {}
  Tensor forward(const Tensor& x) const { return softplus(x, beta, threshold); }
  std::string extra_repr() const override;
  const double beta, threshold;
};

// max_val must be greater than min_val (the functional form accepts equal bounds).
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1.0, double max_val = 1.0);
  Tensor forward(const Tensor& x) const { return hardtanh(x, min_val, max_val); }
  std::string extra_repr() const override;
  const double min_val, max_val;
};

class ReLU6 : public Module {
 public:
  ReLU6() : Module("ReLU6") {}
  Tensor forward(const Tensor& x) const { return hardtanh(x, 0.0, 6.0); }
};

class Hardsigmoid : public Module {
 public:
  Hardsigmoid() : Module("Hardsigmoid") {}
  Tensor forward(const Tensor& x) const { return hardsigmoid(x); }
};

class Hardswish : public Module {
 public:
  Hardswish() : Module("Hardswish") {}
  Tensor forward(const Tensor& x) const { return hardswish(x); }
};

class Mish : public Module {
 public:
  Mish() : Module("Mish") {}
  Tensor forward(const Tensor& x) const { return mish(x); }
};

class LogSigmoid : public Module {
 public:
  LogSigmoid() : Module("LogSigmoid") {}
  Tensor forward(const Tensor& x) const { return logsigmoid(x); }
};

class Softsign : public Module {
 public:
  Softsign() : Module("Softsign") {}
  Tensor forward(const Tensor& x) const { return softsign(x); }
};

class Tanhshrink : public Module {
 public:
  Tanhshrink() : Module("Tanhshrink") {}
  Tensor forward(const Tensor& x) const { return tanhshrink(x); }
};

class Hardshrink : public Module {
 public:
  explicit Hardshrink(double lambd = 0.5) : Module("Hardshrink"), lambd(lambd) {}
  Tensor forward(const Tensor& x) const { return hardshrink(x, lambd); }
  std::string extra_repr() const override;
  const double lambd;
};

class Softshrink : public Module {
 public:
  explicit Softshrink(double lambd = 0.5) : Module("Softshrink"), lambd(lambd) {}
  Tensor forward(const Tensor& x) const { return softshrink(x, lambd); }
  std::string extra_repr() const override;
  const double lambd;
};

class Threshold : public Module {
 public:
  Threshold(double threshold, double value) : Module("Threshold"), threshold(threshold), value(value) {}
  Tensor forward(const Tensor& x) const { return loom::threshold(x, threshold, value); }
  std::string extra_repr() const override;
  const double threshold, value;
};

}  // namespace loom::nn
