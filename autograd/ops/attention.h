// Fused scaled-dot-product attention (PyTorch's F.scaled_dot_product_attention).
#pragma once
#include <optional>

#include "core/tensor.h"

namespace loom {

// softmax(q k^T * scale + mask) v, fused: the [Lq, Lk] weights never exist in
// memory (kernels/attention.h).
//   q [B,H,Lq,D] (or [B,Lq,D]), k [B,H,Lk,D], v [B,H,Lk,Dv] -> [B,H,Lq,Dv];
//   float32 or float64, all on one device.
//   attn_mask: broadcastable to [B,H,Lq,Lk]; bool (true = attend) or floating
//     (added to the scores; converted to q's dtype). Read through broadcast
//     strides, so a key-padding mask [B,1,1,Lk] is never expanded. The mask
//     gets no gradient.
//   dropout_p: dropout on the attention weights (always applied when > 0, as
//     PyTorch's functional does); the keep mask comes from the Philox stream
//     (philox_reserve) and is regenerated in backward, never stored.
//   is_causal: top-left aligned lower-triangular mask (key j visible to query
//     i iff j <= i); may be combined with attn_mask.
//   scale: defaults to 1/sqrt(D).
// A query row whose keys are all masked gives an output of 0 and zero
// gradients (PyTorch gives NaN). On CUDA D and Dv must be at most 128.
// Double backward (create_graph) is not supported.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask = {},
                                    double dropout_p = 0.0, bool is_causal = false, std::optional<double> scale = {});

}  // namespace loom
