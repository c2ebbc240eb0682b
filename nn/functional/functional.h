// loom::nn::functional: the differentiable ops of autograd/ under
// torch.nn.functional's names, argument order and defaults (inline forwarding
// functions), plus the losses of nn/functional/losses.h. A PyTorch user's
//   F.relu(x); F.conv2d(x, w, b, 1, 1); F.cross_entropy(logits, y)
// reads in C++ as
//   namespace F = loom::nn::functional;
//   F::relu(x); F::conv2d(x, w, b, {1}, {1}); F::cross_entropy(logits, y);
#pragma once
#include <optional>
#include <string>

#include "autograd/ops/attention.h"
#include "autograd/ops/conv.h"
#include "autograd/ops/dropout.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/fusion.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/pool.h"
#include "core/tensor.h"
#include "nn/functional/losses.h"

namespace loom::nn::functional {

// ---- activations ----
inline Tensor relu(const Tensor& input) { return input.relu(); }
inline Tensor gelu(const Tensor& input, const std::string& approximate = "none") { return input.gelu(approximate); }
inline Tensor silu(const Tensor& input) { return input.silu(); }
inline Tensor sigmoid(const Tensor& input) { return input.sigmoid(); }
inline Tensor tanh(const Tensor& input) { return input.tanh(); }
inline Tensor softmax(const Tensor& input, int64_t dim) { return input.softmax(dim); }
inline Tensor log_softmax(const Tensor& input, int64_t dim) { return input.log_softmax(dim); }

// ---- linear, convolution, pooling ----
inline Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {}) {
  return loom::linear(input, weight, bias);
}
inline Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, int64_t stride = 1,
                     int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1) {
  return loom::conv1d(input, weight, bias, stride, padding, dilation, groups);
}
inline Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, const Dims& stride = {1},
                     const Dims& padding = {0}, const Dims& dilation = {1}, int64_t groups = 1) {
  return loom::conv2d(input, weight, bias, stride, padding, dilation, groups);
}
inline Tensor max_pool2d(const Tensor& input, const Dims& kernel_size, const Dims& stride = {},
                         const Dims& padding = {0}, const Dims& dilation = {1}, bool ceil_mode = false) {
  return loom::max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
}
inline Tensor avg_pool2d(const Tensor& input, const Dims& kernel_size, const Dims& stride = {},
                         const Dims& padding = {0}, bool ceil_mode = false, bool count_include_pad = true) {
  return loom::avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad);
}
inline Tensor adaptive_avg_pool2d(const Tensor& input, const Dims& output_size) {
  return loom::adaptive_avg_pool2d(input, output_size);
}

// ---- normalization, dropout, embedding ----
inline Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                         const Tensor& bias = {}, double eps = 1e-5) {
  return loom::layer_norm(input, normalized_shape, weight, bias, eps);
}
inline Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                         const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                         double momentum = 0.1, double eps = 1e-5) {
  return loom::batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps);
}
inline Tensor dropout(const Tensor& input, double p = 0.5, bool training = true) {
  return loom::dropout(input, p, training);
}
inline Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx = std::nullopt) {
  return loom::embedding(input, weight, padding_idx);
}
inline Tensor one_hot(const Tensor& tensor, int64_t num_classes = -1) { return loom::one_hot(tensor, num_classes); }

// ---- attention ----
inline Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                           const Tensor& attn_mask = {}, double dropout_p = 0.0, bool is_causal = false,
                                           std::optional<double> scale = {}) {
  return loom::scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale);
}

// Losses, normalize and cosine_similarity: nn/functional/losses.h.

}  // namespace loom::nn::functional
