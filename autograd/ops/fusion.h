// Multimodal fusion ops and the linear layer with a fused epilogue
// (implemented in autograd/ops/fusion.cpp; kernels in kernels/{cpu,cuda}/fusion).
// All are differentiable in every tensor argument; float32 or float64.
#pragma once
#include <string>

#include "core/tensor.h"

namespace loom {

// input [*, In], weight [Out, In], bias [Out] (optional) -> [*, Out]:
// act(input weight^T + bias). activation: "none", "relu" or "gelu"; "gelu" is
// the tanh approximation (what cuBLASLt's GELU epilogue computes, as
// torch.nn.functional.gelu(x, approximate="tanh")). CUDA float32: one
// cublasLtMatmul with the bias / activation epilogue.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              const std::string& activation = "none");

// [a; b] weight^T + bias for a [*, Da], b [*, Db] (same leading dims) and
// weight [Out, Da + Db], without concatenating: a W_a^T + b W_b^T on column
// slices of the weight, both GEMMs accumulating into one output.
Tensor linear2(const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias = {});

// Gated fusion of a, b [B, D] with weight [D, 2D], bias [D]:
// g = sigmoid(linear2(a, b, weight, bias)); out = g a + (1 - g) b.
Tensor gated_fusion(const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias);

// FiLM of a [B, D] conditioned on b [B, Db] with weight [2D, Db], bias [2D]:
// [gamma | beta] = b weight^T + bias; out = gamma a + beta.
Tensor film(const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias);

// Low-rank bilinear pooling: ((a U^T) * (b V^T)) P^T for a [B, Da], b [B, Db],
// U [R, Da], V [R, Db], P [O, R] -> [B, O].
Tensor bilinear_pool(const Tensor& a, const Tensor& b, const Tensor& U, const Tensor& V, const Tensor& P);

// Symmetric contrastive (CLIP / InfoNCE) loss of img, txt [N, E] (assumed L2
// normalised) with logit_scale a one-element tensor holding log(scale):
// logits = exp(logit_scale) img txt^T;
// loss = (cross_entropy(logits, arange(N)) + cross_entropy(logits^T, arange(N))) / 2.
// Returns a 0-d tensor. No host synchronisation on the GPU.
Tensor clip_loss(const Tensor& img, const Tensor& txt, const Tensor& logit_scale);

}  // namespace loom
