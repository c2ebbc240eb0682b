// Loss functions (torch.nn.functional names and argument order), implemented
// in autograd/ops/loss.cpp.
#pragma once
#include <string>
#include "core/tensor.h"

namespace loom {

// Fused cross-entropy of logits input [N, C] (or [C], or [N, C, d1, ...]) with
// int64 class targets [N] ([], [N, d1, ...]); optional class weight [C];
// targets equal to ignore_index contribute nothing; label_smoothing mixes the
// one-hot target with the uniform distribution. reduction: "mean" (weighted
// mean over non-ignored targets, as PyTorch), "sum" or "none".
// One kernel computes the loss and the per-row log-sum-exp (saved), one
// kernel computes dlogits in backward. No gradient flows to weight or target.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                     const std::string& reduction = "mean", double label_smoothing = 0.0);

}  // namespace loom
