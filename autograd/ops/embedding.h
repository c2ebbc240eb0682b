// Embedding lookup (torch.nn.functional.embedding), autograd/ops/embedding.cpp.
#pragma once
#include <optional>
#include <string>
#include "core/tensor.h"

namespace loom {

// weight [num_embeddings, D] rows gathered at the int64 indices of input:
// output [*input.shape, D]. padding_idx (negative counts from the end, as
// PyTorch) gets no gradient. Backward scatter-adds the output gradient into
// the weight rows (atomics on CUDA, deterministic per-row ownership on CPU).
Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx = std::nullopt);

// The sum, mean or max of the embeddings of each bag
// (torch.nn.functional.embedding_bag): rows of a 2-D input [B, L], or the runs
// of a 1-D input starting at offsets [B] (int64 / int32; with
// include_last_offset one more, and the last bag still runs to the end of the
// input, as PyTorch's kernels). Entries equal to padding_idx take no part; an
// empty bag gives zeros. per_sample_weights (the input's shape, mode "sum")
// scale each entry and get a gradient. One kernel per direction
// (kernels/embedding.h): no [n, D] gather. Not differentiable twice.
Tensor embedding_bag(const Tensor& input, const Tensor& weight, const Tensor& offsets = {},
                     const std::string& mode = "mean", const Tensor& per_sample_weights = {},
                     bool include_last_offset = false, std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace loom
