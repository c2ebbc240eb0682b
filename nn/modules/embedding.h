// Embedding: weight [num_embeddings, embedding_dim] ~ N(0, 1), the padding_idx row zeroed.
#pragma once
#include <optional>

#include "nn/module.h"

namespace loom::nn {

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = std::nullopt,
            const TensorOptions& opts = {});
  Tensor forward(const Tensor& input) const;
  void reset_parameters();
  Tensor& weight() { return param("weight"); }
  std::string extra_repr() const override;
  const int64_t num_embeddings, embedding_dim;
  const std::optional<int64_t> padding_idx;  // normalised to >= 0
};

}  // namespace loom::nn
