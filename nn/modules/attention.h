// MultiheadAttention with torch.nn's parameters (in_proj_weight [3E, E], in_proj_bias [3E], out_proj.weight/bias),
// init (xavier_uniform_, zero biases) and masks: key_padding_mask [N, S] and attn_mask [L, S] or [N*H, L, S],
// bool (true = masked out) or additive float.
#pragma once
#include <memory>

#include "nn/module.h"
#include "nn/modules/linear.h"

namespace loom::nn {

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0.0, bool bias = true,
                     bool batch_first = false, const TensorOptions& opts = {});
  // Returns {output, weights}. need_weights: the softmax is computed explicitly and the weights are returned,
  // averaged over heads ([N, L, S]) when average_attn_weights, else [N, H, L, S]; otherwise
  // scaled_dot_product_attention runs and weights is undefined. Inputs [L, N, E] ([N, L, E] with batch_first).
  std::pair<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& key_padding_mask = {}, bool need_weights = true,
                                    const Tensor& attn_mask = {}, bool average_attn_weights = true) const;
  void reset_parameters();
  const int64_t embed_dim, num_heads, head_dim;
  const double dropout;
  const bool batch_first;
  std::shared_ptr<Linear> out_proj;
};

}  // namespace loom::nn
