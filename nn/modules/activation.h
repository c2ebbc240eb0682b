// Activation modules: ReLU, GELU, SiLU, Sigmoid, Tanh, Softmax.
#pragma once
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

}  // namespace loom::nn
