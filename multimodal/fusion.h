// Fusion modules: combine the features of two modalities (a [B, Da], b [B, Db],
// e.g. an image and a text embedding) into one representation, or let the
// tokens of one attend over the tokens of the other. Each vector module is a
// thin nn::Module over one fused op of autograd/ops/fusion.h, so the math and
// its backward live in one place and these modules add parameters, init and
// input checks:
//   ConcatFusion          [a; b] W^T + c                       (linear2: no concatenated copy)
//                         or fc2(relu([a; b] W1^T + c1))         (hidden > 0)
//   GatedFusion           g = sigmoid([a; b] W^T + c), g a + (1 - g) b
//   FiLM                  [gamma | beta] = cond W^T + c, gamma x + beta
//   BilinearPooling       ((a U^T) * (b V^T)) P^T                 (low-rank bilinear)
//   LateFusion            w = softmax(mix), w0 logits_a + w1 logits_b
//   CrossAttentionFusion  post-norm layer: y = LN1(x + MHA(x, ctx, ctx)); LN2(y + ff2(relu(ff1(y))))
// Parameter names follow PyTorch conventions (`weight`, `bias`, child modules
// as `fc1.*`, `attn.*`); weight matrices are [out, in] and get torch.nn.Linear's
// default init (kaiming_uniform_(a = sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)))
// unless a class says otherwise. Every forward checks ranks, sizes, dtype and
// device against the module and raises loom::Error naming the module.
#pragma once
#include <memory>

#include "nn/module.h"
#include "nn/modules/attention.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"

namespace loom::multimodal {

// Early fusion by concatenation. hidden = 0: one linear map of [a; b],
// parameters `weight` [out, Da + Db] and `bias` [out] (a Linear(Da + Db, out) on
// the concatenation, same init). hidden > 0: a ReLU MLP, `fc1` Linear(Da + Db,
// hidden) applied to [a; b] through linear2, then `fc2` Linear(hidden, out).
class ConcatFusion : public nn::Module {
 public:
  ConcatFusion(int64_t dim_a, int64_t dim_b, int64_t out, int64_t hidden = 0);
  Tensor forward(const Tensor& a, const Tensor& b) const;  // [B, Da], [B, Db] -> [B, out]
  std::string extra_repr() const override;
  const int64_t dim_a, dim_b, out, hidden;
  std::shared_ptr<nn::Linear> fc1, fc2;  // null when hidden = 0
};

// Gated fusion of two features of the same width: the gate decides per sample
// and per channel how much of each modality to keep. `weight` [dim, 2 dim],
// `bias` [dim], init as Linear(2 dim, dim).
class GatedFusion : public nn::Module {
 public:
  explicit GatedFusion(int64_t dim);
  Tensor forward(const Tensor& a, const Tensor& b) const;  // [B, dim], [B, dim] -> [B, dim]
  std::string extra_repr() const override;
  const int64_t dim;
};

// Feature-wise linear modulation of x by a conditioning vector. `weight`
// [2 dim, cond_dim] (rows 0..dim-1 produce gamma, the rest beta), `bias`
// [2 dim]. Init: weight as Linear(cond_dim, 2 dim); bias gamma half = 1 and
// beta half = 0, so at init gamma = 1 + cond W_gamma^T and the layer starts
// near the identity on x (a Linear-style bias would start gamma near 0 and
// mostly erase x).
class FiLM : public nn::Module {
 public:
  FiLM(int64_t dim, int64_t cond_dim);
  Tensor forward(const Tensor& x, const Tensor& cond) const;  // [B, dim], [B, cond_dim] -> [B, dim]
  std::string extra_repr() const override;
  const int64_t dim, cond_dim;
};

// Low-rank bilinear pooling (MLB / Hadamard product of projections): every
// output is a rank-`rank` bilinear form of a and b. `U` [rank, Da], `V`
// [rank, Db], `P` [out, rank], each kaiming_uniform_(a = sqrt(5)) like a
// bias-free Linear; no biases.
class BilinearPooling : public nn::Module {
 public:
  BilinearPooling(int64_t dim_a, int64_t dim_b, int64_t rank, int64_t out);
  Tensor forward(const Tensor& a, const Tensor& b) const;  // [B, Da], [B, Db] -> [B, out]
  std::string extra_repr() const override;
  const int64_t dim_a, dim_b, rank, out;
};

// Late fusion of two per-modality predictions of the same shape [B, C] (logits
// or scores from each modality's own head, which stays outside this module):
// a convex combination softmax(mix)[0] logits_a + softmax(mix)[1] logits_b.
// `mix` [2] starts at zeros, i.e. the plain mean; the softmax keeps the weights
// positive and summing to 1 whatever the optimiser does.
class LateFusion : public nn::Module {
 public:
  LateFusion();
  Tensor forward(const Tensor& logits_a, const Tensor& logits_b) const;
  Tensor weights() const;  // softmax(mix), [2]
};

// Cross-attention from the tokens of one modality (queries x) to those of the
// other (context), as a post-norm transformer layer without self-attention
// (nn::TransformerEncoderLayer with norm_first = false):
//   y = norm1(x + attn(x, context, context)),  out = norm2(y + ff2(relu(ff1(y))))
// ff_dim = -1 means 4 dim; ff_dim = 0 drops the feed-forward block (out = y,
// and ff1, ff2, norm2 do not exist). kdim = -1 means dim; nn::MultiheadAttention
// projects keys and values from embed_dim features only, so any other kdim is
// rejected (project the context to dim first). No dropout. Children: `attn`
// (batch-first MultiheadAttention, torch.nn's names and init), `norm1`, `ff1`,
// `ff2`, `norm2` (LayerNorm eps 1e-5, Linear init).
class CrossAttentionFusion : public nn::Module {
 public:
  CrossAttentionFusion(int64_t dim, int64_t heads, int64_t kdim = -1, int64_t ff_dim = -1);
  // x [B, Lq, dim], context [B, Lk, dim] -> [B, Lq, dim]. context_padding_mask
  // [B, Lk]: bool (true = padding, ignored) or an additive float mask. A sample
  // whose context is entirely padding reads nothing from it (loom's fused
  // attention returns zeros for such rows, where PyTorch gives NaN).
  Tensor forward(const Tensor& x, const Tensor& context, const Tensor& context_padding_mask = {}) const;
  std::string extra_repr() const override;
  const int64_t dim, heads, ff_dim;
  std::shared_ptr<nn::MultiheadAttention> attn;
  std::shared_ptr<nn::LayerNorm> norm1, norm2;  // norm2 null when ff_dim = 0
  std::shared_ptr<nn::Linear> ff1, ff2;         // null when ff_dim = 0
};

}  // namespace loom::multimodal
