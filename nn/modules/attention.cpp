#include "nn/modules/attention.h"

#include <cmath>
#include <limits>

#include "autograd/ops/attention.h"
#include "autograd/ops/dropout.h"
#include "autograd/ops/fusion.h"
#include "nn/init.h"

namespace loom::nn {

MultiheadAttention::MultiheadAttention(int64_t E, int64_t H, double dropout, bool bias, bool batch_first,
                                       const TensorOptions& opts)
    : Module("MultiheadAttention"),
      embed_dim(E),
      num_heads(H),
      head_dim(H > 0 ? E / H : 0),
      dropout(dropout),
      batch_first(batch_first) {
  LOOM_CHECK_VALUE(E > 0 && H > 0, "MultiheadAttention: embed_dim and num_heads must be greater than 0, got ", E,
                   " and ", H);
  LOOM_CHECK_VALUE(E % H == 0, "MultiheadAttention: embed_dim (", E, ") must be divisible by num_heads (", H, ")");
  auto o = opts.with_requires_grad(false);
  register_parameter("in_proj_weight", empty({3 * E, E}, o));
  if (bias) register_parameter("in_proj_bias", empty({3 * E}, o));
  out_proj = register_module("out_proj", std::make_shared<Linear>(E, E, bias, opts));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  init::xavier_uniform_(param("in_proj_weight"));
  if (has_parameter("in_proj_bias")) {
    init::zeros_(param("in_proj_bias"));
    init::zeros_(out_proj->param("bias"));
  }
}

namespace {
Tensor additive(const Tensor& m, DType dt) {
  if (m.dtype() == DType::Bool)
    return zeros(m.sizes(), TensorOptions(dt, m.device())).masked_fill(m, -std::numeric_limits<double>::infinity());
  return m.to(dt);
}
}  // namespace

std::pair<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                      const Tensor& key_padding_mask, bool need_weights,
                                                      const Tensor& attn_mask, bool average) const {
  LOOM_CHECK_VALUE(query.dim() == 3 && key.dim() == 3 && value.dim() == 3,
                   "MultiheadAttention: expected 3D query, key and value, got ", query.sizes(), ", ", key.sizes(), ", ",
                   value.sizes());
  Tensor q_in = batch_first ? query.transpose(0, 1) : query;  // [L, N, E]
  Tensor k_in = batch_first ? key.transpose(0, 1) : key;
  Tensor v_in = batch_first ? value.transpose(0, 1) : value;
  const int64_t L = q_in.size(0), N = q_in.size(1), S = k_in.size(0), E = embed_dim, H = num_heads, hd = head_dim;
  LOOM_CHECK_VALUE(q_in.size(2) == E && k_in.size(2) == E && v_in.size(2) == E,
                   "MultiheadAttention: expected embedding dimension ", E, ", got ", q_in.sizes());
  const Tensor& w = param("in_proj_weight");
  Tensor b = param_or_undefined("in_proj_bias");
  auto proj = [&](const Tensor& x, int64_t i, int64_t n) {
    Tensor y = loom::linear(x, w.narrow(0, i * E, E), b.defined() ? b.narrow(0, i * E, E) : Tensor());
    return y.reshape({n, N, H, hd}).permute({1, 2, 0, 3});  // [N, H, n, hd]
  };
  Tensor q = proj(q_in, 0, L), k = proj(k_in, 1, S), v = proj(v_in, 2, S);

  Tensor mask;
  if (attn_mask.defined()) {
    Tensor m = additive(attn_mask, q.dtype());
    if (m.dim() == 2) {
      LOOM_CHECK_VALUE(m.size(0) == L && m.size(1) == S, "MultiheadAttention: 2D attn_mask must be [", L, ", ", S,
                       "], got ", m.sizes());
      mask = m.reshape({1, 1, L, S});
    } else {
      LOOM_CHECK_VALUE(m.dim() == 3 && m.size(0) == N * H && m.size(1) == L && m.size(2) == S,
                       "MultiheadAttention: 3D attn_mask must be [", N * H, ", ", L, ", ", S, "], got ", m.sizes());
      mask = m.reshape({N, H, L, S});
    }
  }
  if (key_padding_mask.defined()) {
    LOOM_CHECK_VALUE(key_padding_mask.dim() == 2 && key_padding_mask.size(0) == N && key_padding_mask.size(1) == S,
                     "MultiheadAttention: key_padding_mask must be [", N, ", ", S, "], got ", key_padding_mask.sizes());
    Tensor kpm = additive(key_padding_mask, q.dtype()).reshape({N, 1, 1, S});
    mask = mask.defined() ? mask + kpm : kpm;
  }
  const double p = is_training() ? dropout : 0.0;
  Tensor out, weights;
  if (need_weights) {
    Tensor scores = q.matmul(k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(hd)));
    if (mask.defined()) scores = scores + mask;
    Tensor attn = scores.softmax(-1);
    if (p > 0) attn = loom::dropout(attn, p, true);
    out = attn.matmul(v);
    weights = average ? attn.mean({1}) : attn;
  } else {
    out = loom::scaled_dot_product_attention(q, k, v, mask.defined() ? mask.expand({N, H, L, S}) : Tensor(), p);
  }
  out = out.permute({2, 0, 1, 3}).reshape({L, N, E});
  out = out_proj->forward(out);
  if (batch_first) out = out.transpose(0, 1);
  return {out, weights};
}

}  // namespace loom::nn
