// Normalization layers as functions (PyTorch's torch.nn.functional names and
// argument order). Implemented in autograd/ops/norm.cpp.
#pragma once
#include "core/tensor.h"

namespace loom {

// Normalizes over the trailing dims `normalized_shape` of input:
// (x - mean) / sqrt(var + eps) * weight + bias (biased variance); weight and
// bias, when defined, have shape normalized_shape.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// input [N, C, *]. training: normalizes with the batch statistics over N and
// the spatial dims, and (when defined) updates running_mean / running_var in
// place under no-grad with `momentum` (running_var takes the unbiased batch
// variance, as PyTorch). Evaluation: normalizes with the running statistics.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight = {},
                  const Tensor& bias = {}, bool training = false, double momentum = 0.1, double eps = 1e-5);

// input [N, C, *] with C divisible by num_groups: each sample's channels are
// split into num_groups groups, each normalized over its channels and spatial
// dims (biased variance), then weight[c] and bias[c] ([C], when defined).
// Implemented in autograd/ops/norm_group.cpp.
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

}  // namespace loom
