// Conv1d and Conv2d: weight [out, in/groups, *kernel], bias [out]; PyTorch's default init
// (kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))). Zero padding only.
#pragma once
#include "nn/module.h"

namespace loom::nn {

class ConvNd : public Module {
 public:
  void reset_parameters();
  std::string extra_repr() const override;
  const int64_t in_channels, out_channels;
  const Dims kernel_size, stride, padding, dilation;
  const int64_t groups;

 protected:
  ConvNd(const char* name, int64_t in, int64_t out, Dims kernel, Dims stride, Dims padding, Dims dilation,
         int64_t groups, bool bias, const TensorOptions& opts);
};

class Conv1d : public ConvNd {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1, int64_t padding = 0,
         int64_t dilation = 1, int64_t groups = 1, bool bias = true, const TensorOptions& opts = {});
  Tensor forward(const Tensor& input) const;
};

class Conv2d : public ConvNd {
 public:
  // Sizes of one element apply to both spatial dims.
  Conv2d(int64_t in_channels, int64_t out_channels, Dims kernel_size, Dims stride = {1}, Dims padding = {0},
         Dims dilation = {1}, int64_t groups = 1, bool bias = true, const TensorOptions& opts = {});
  Tensor forward(const Tensor& input) const;
};

}  // namespace loom::nn
