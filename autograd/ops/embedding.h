// Embedding lookup (torch.nn.functional.embedding), autograd/ops/embedding.cpp.
#pragma once
#include <optional>
#include "core/tensor.h"

namespace loom {

// weight [num_embeddings, D] rows gathered at the int64 indices of input:
// output [*input.shape, D]. padding_idx (negative counts from the end, as
// PyTorch) gets no gradient. Backward scatter-adds the output gradient into
// the weight rows (atomics on CUDA, deterministic per-row ownership on CPU).
Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace loom
