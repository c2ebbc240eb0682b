// loom::nn::functional: the differentiable ops of autograd/ under
// torch.nn.functional's names, argument order and defaults (the free-function
// ops themselves, brought in by using-declarations, and one-line forwarders
// for the Tensor methods), plus the losses of nn/functional/losses.h. A PyTorch user's
//   F.relu(x); F.conv2d(x, w, b, 1, 1); F.cross_entropy(logits, y)
// reads in C++ as
//   namespace F = loom::nn::functional;
//   F::relu(x); F::conv2d(x, w, b, {1}, {1}); F::cross_entropy(logits, y);
#pragma once
#include <optional>
#include <string>

#include "autograd/ops/activation.h"
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
inline Tensor relu6(const Tensor& input) { return loom::hardtanh(input, 0.0, 6.0); }
// leaky_relu, elu, celu, selu, softplus, hardtanh, hardsigmoid, hardswish, mish, logsigmoid, softsign,
// tanhshrink, hardshrink, softshrink, threshold: autograd/ops/activation.h.
using loom::celu;
using loom::elu;
using loom::hardshrink;
using loom::hardsigmoid;
using loom::hardswish;
using loom::hardtanh;
using loom::leaky_relu;
using loom::logsigmoid;
using loom::mish;
using loom::selu;
using loom::softplus;
using loom::softshrink;
using loom::softsign;
using loom::tanhshrink;
using loom::threshold;

// ---- the free-function ops, the same functions with the same defaults ----
// linear (with its fused activation), convolution, pooling, normalization,
// dropout, embedding, one_hot and attention: declared once, in
// autograd/ops/<family>.h and core/tensor.h.
using loom::adaptive_avg_pool2d;
using loom::avg_pool2d;
using loom::batch_norm;
using loom::conv1d;
using loom::conv2d;
using loom::dropout;
using loom::embedding;
using loom::layer_norm;
using loom::linear;
using loom::max_pool2d;
using loom::one_hot;
using loom::scaled_dot_product_attention;

// Losses, normalize and cosine_similarity: nn/functional/losses.h.

}  // namespace loom::nn::functional
