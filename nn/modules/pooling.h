// MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (no parameters).
#pragma once
#include "nn/module.h"

namespace loom::nn {

class MaxPool2d : public Module {
 public:
  // stride {} = kernel_size, like PyTorch.
  MaxPool2d(Dims kernel_size, Dims stride = {}, Dims padding = {0}, Dims dilation = {1}, bool ceil_mode = false)
      : Module("MaxPool2d"),
        kernel_size(std::move(kernel_size)),
        stride(std::move(stride)),
        padding(std::move(padding)),
        dilation(std::move(dilation)),
        ceil_mode(ceil_mode) {}
  Tensor forward(const Tensor& input) const;
  std::string extra_repr() const override;
  const Dims kernel_size, stride, padding, dilation;
  const bool ceil_mode;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(Dims kernel_size, Dims stride = {}, Dims padding = {0}, bool ceil_mode = false,
            bool count_include_pad = true)
      : Module("AvgPool2d"),
        kernel_size(std::move(kernel_size)),
        stride(std::move(stride)),
        padding(std::move(padding)),
        ceil_mode(ceil_mode),
        count_include_pad(count_include_pad) {}
  Tensor forward(const Tensor& input) const;
  std::string extra_repr() const override;
  const Dims kernel_size, stride, padding;
  const bool ceil_mode, count_include_pad;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Dims output_size) : Module("AdaptiveAvgPool2d"), output_size(std::move(output_size)) {}
  Tensor forward(const Tensor& input) const;
  std::string extra_repr() const override;
  const Dims output_size;
};

}  // namespace loom::nn
