// The fusion modules of fusion.h. The vector modules own [out, in] weight
// matrices and hand them to the fused ops of autograd/ops/fusion.h (linear2,
// gated_fusion, film, bilinear_pool), which never build the concatenation
// [a; b] in memory. Their weights are taken from a freshly built nn::Linear of
// the matching shape, so the init is torch.nn.Linear's by construction (and
// consumes the same random draws). Inputs are checked here, before any op runs,
// so errors name the module and both input shapes rather than an op's
// argument names.
#include "multimodal/fusion.h"

#include <string>

#include "autograd/node.h"
#include "autograd/ops/fusion.h"

namespace loom::multimodal {

namespace {

// Registers `weight` [out, in] and `bias` [out] initialised as nn::Linear(in, out) initialises its own.
void register_linear(nn::Module& m, int64_t in, int64_t out) {
  nn::Linear init(in, out);
  m.register_parameter("weight", init.weight());
  m.register_parameter("bias", init.bias());
}

// The weight [out, in] of a bias-free nn::Linear(in, out).
Tensor linear_weight(int64_t in, int64_t out) { return nn::Linear(in, out, false).weight(); }

void check_like(const nn::Module& m, const char* name, const Tensor& t, const Tensor& like) {
  LOOM_CHECK_TYPE(t.dtype() == like.dtype(), m.type_name(), ": expected ", name, " of dtype ", dtype_name(like.dtype()),
                  " (the module's), got ", dtype_name(t.dtype()), " of shape ", t.sizes());
  LOOM_CHECK(t.device() == like.device(), m.type_name(), ": expected ", name, " on ", like.device().str(),
             " (the module's device), got ", t.device().str());
}

// t must be [B, features] with the dtype and device of `like` (a parameter).
void check_rows(const nn::Module& m, const char* name, const Tensor& t, int64_t features, const Tensor& like) {
  LOOM_CHECK(t.defined(), m.type_name(), ": ", name, " is undefined");
  LOOM_CHECK(t.dim() == 2 && t.size(1) == features, m.type_name(), ": expected ", name, " of shape [B, ", features,
             "], got ", t.sizes());
  check_like(m, name, t, like);
}

void check_batch(const nn::Module& m, const char* na, const Tensor& a, const char* nb, const Tensor& b) {
  LOOM_CHECK(a.size(0) == b.size(0), m.type_name(), ": ", na, " ", a.sizes(), " and ", nb, " ", b.sizes(),
             " must have the same batch size");
}

}  // namespace

// ---------------------------------------------------------------- ConcatFusion

ConcatFusion::ConcatFusion(int64_t da, int64_t db, int64_t o, int64_t h)
    : nn::Module("ConcatFusion"), dim_a(da), dim_b(db), out(o), hidden(h) {
  LOOM_CHECK_VALUE(da > 0 && db > 0 && o > 0 && h >= 0,
                   "ConcatFusion: expected positive dim_a, dim_b, out and hidden >= 0, got ", da, ", ", db, ", ", o,
                   ", ", h);
  if (h == 0) {
    register_linear(*this, da + db, o);
  } else {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(da + db, h));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(h, o));
  }
}

Tensor ConcatFusion::forward(const Tensor& a, const Tensor& b) const {
  const Tensor& w = fc1 ? fc1->param("weight") : param("weight");
  check_rows(*this, "a", a, dim_a, w);
  check_rows(*this, "b", b, dim_b, w);
  check_batch(*this, "a", a, "b", b);
  if (!fc1) return linear2(a, b, w, param("bias"));
  return fc2->forward(linear2(a, b, w, fc1->param("bias")).relu());
}

std::string ConcatFusion::extra_repr() const {
  return "dim_a=" + std::to_string(dim_a) + ", dim_b=" + std::to_string(dim_b) + ", out=" + std::to_string(out) +
         ", hidden=" + std::to_string(hidden);
}

// ---------------------------------------------------------------- GatedFusion

GatedFusion::GatedFusion(int64_t d) : nn::Module("GatedFusion"), dim(d) {
  LOOM_CHECK_VALUE(d > 0, "GatedFusion: dim must be positive, got ", d);
  register_linear(*this, 2 * d, d);
}

Tensor GatedFusion::forward(const Tensor& a, const Tensor& b) const {
  const Tensor& w = param("weight");
  check_rows(*this, "a", a, dim, w);
  check_rows(*this, "b", b, dim, w);
  check_batch(*this, "a", a, "b", b);
  return gated_fusion(a, b, w, param("bias"));
}

std::string GatedFusion::extra_repr() const { return "dim=" + std::to_string(dim); }

// ---------------------------------------------------------------- FiLM

FiLM::FiLM(int64_t d, int64_t c) : nn::Module("FiLM"), dim(d), cond_dim(c) {
  LOOM_CHECK_VALUE(d > 0 && c > 0, "FiLM: dim and cond_dim must be positive, got ", d, " and ", c);
  register_linear(*this, c, 2 * d);
  autograd::NoGradGuard ng;
  Tensor& bias = param("bias");
  bias.narrow(0, 0, d).fill_(1.0);
  bias.narrow(0, d, d).zero_();
}

Tensor FiLM::forward(const Tensor& x, const Tensor& cond) const {
  const Tensor& w = param("weight");
  check_rows(*this, "x", x, dim, w);
  check_rows(*this, "cond", cond, cond_dim, w);
  check_batch(*this, "x", x, "cond", cond);
  return film(x, cond, w, param("bias"));
}

std::string FiLM::extra_repr() const { return "dim=" + std::to_string(dim) + ", cond_dim=" + std::to_string(cond_dim); }

// ---------------------------------------------------------------- BilinearPooling

BilinearPooling::BilinearPooling(int64_t da, int64_t db, int64_t r, int64_t o)
    : nn::Module("BilinearPooling"), dim_a(da), dim_b(db), rank(r), out(o) {
  LOOM_CHECK_VALUE(da > 0 && db > 0 && r > 0 && o > 0,
                   "BilinearPooling: dim_a, dim_b, rank and out must be positive, got ", da, ", ", db, ", ", r, ", ",
                   o);
  register_parameter("U", linear_weight(da, r));
  register_parameter("V", linear_weight(db, r));
  register_parameter("P", linear_weight(r, o));
}

Tensor BilinearPooling::forward(const Tensor& a, const Tensor& b) const {
  const Tensor& U = param("U");
  check_rows(*this, "a", a, dim_a, U);
  check_rows(*this, "b", b, dim_b, U);
  check_batch(*this, "a", a, "b", b);
  return bilinear_pool(a, b, U, param("V"), param("P"));
}

std::string BilinearPooling::extra_repr() const {
  return "dim_a=" + std::to_string(dim_a) + ", dim_b=" + std::to_string(dim_b) + ", rank=" + std::to_string(rank) +
         ", out=" + std::to_string(out);
}

// ---------------------------------------------------------------- LateFusion

LateFusion::LateFusion() : nn::Module("LateFusion") { register_parameter("mix", zeros({2})); }

Tensor LateFusion::weights() const { return param("mix").softmax(0); }

Tensor LateFusion::forward(const Tensor& logits_a, const Tensor& logits_b) const {
  const Tensor& mix = param("mix");
  LOOM_CHECK(logits_a.defined() && logits_b.defined(), "LateFusion: logits_a and logits_b must be defined");
  LOOM_CHECK(logits_a.dim() == 2 && logits_b.sizes() == logits_a.sizes(),
             "LateFusion: expected logits_a and logits_b of the same shape [B, C], got ", logits_a.sizes(), " and ",
             logits_b.sizes());
  check_like(*this, "logits_a", logits_a, mix);
  check_like(*this, "logits_b", logits_b, mix);
  Tensor w = weights();
  return logits_a * w.select(0, 0) + logits_b * w.select(0, 1);
}

// ---------------------------------------------------------------- CrossAttentionFusion

CrossAttentionFusion::CrossAttentionFusion(int64_t d, int64_t h, int64_t kdim, int64_t ff)
    : nn::Module("CrossAttentionFusion"), dim(d), heads(h), ff_dim(ff == -1 ? 4 * d : ff) {
  LOOM_CHECK_VALUE(d > 0 && h > 0 && d % h == 0,
                   "CrossAttentionFusion: expected positive dim and heads with dim divisible by heads, got dim ", d,
                   " and heads ", h);
  // nn::MultiheadAttention has no kdim / vdim: keys and values are projected from embed_dim features.
  LOOM_CHECK_VALUE(kdim == -1 || kdim == d, "CrossAttentionFusion: kdim ", kdim, " differs from dim ", d,
                   ", but the attention projects keys and values from dim features only; project the context to ", d,
                   " features first (or pass kdim = -1)");
  LOOM_CHECK_VALUE(ff >= -1, "CrossAttentionFusion: ff_dim must be -1 (4 dim), 0 (no feed-forward) or positive, got ",
                   ff);
  attn = register_module("attn", std::make_shared<nn::MultiheadAttention>(d, h, 0.0, true, true));
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(Shape{d}));
  if (ff_dim > 0) {
    ff1 = register_module("ff1", std::make_shared<nn::Linear>(d, ff_dim));
    ff2 = register_module("ff2", std::make_shared<nn::Linear>(ff_dim, d));
    norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(Shape{d}));
  }
}

Tensor CrossAttentionFusion::forward(const Tensor& x, const Tensor& context, const Tensor& mask) const {
  LOOM_CHECK(x.defined() && context.defined(), "CrossAttentionFusion: x and context must be defined");
  LOOM_CHECK(x.dim() == 3 && x.size(2) == dim, "CrossAttentionFusion: expected x of shape [B, Lq, ", dim, "], got ",
             x.sizes());
  LOOM_CHECK(context.dim() == 3 && context.size(2) == dim && context.size(1) >= 1,
             "CrossAttentionFusion: expected context of shape [B, Lk, ", dim, "] with Lk >= 1, got ", context.sizes());
  check_batch(*this, "x", x, "context", context);
  const Tensor& w = attn->param("in_proj_weight");
  check_like(*this, "x", x, w);
  check_like(*this, "context", context, w);
  if (mask.defined()) {
    LOOM_CHECK(mask.dim() == 2 && mask.size(0) == context.size(0) && mask.size(1) == context.size(1),
               "CrossAttentionFusion: expected context_padding_mask of shape [", context.size(0), ", ", context.size(1),
               "] (context ", context.sizes(), "), got ", mask.sizes());
    LOOM_CHECK_TYPE(mask.dtype() == DType::Bool || is_floating(mask.dtype()),
                    "CrossAttentionFusion: expected a bool or floating context_padding_mask, got ",
                    dtype_name(mask.dtype()));
    LOOM_CHECK(mask.device() == x.device(), "CrossAttentionFusion: expected context_padding_mask on ", x.device().str(),
               ", got ", mask.device().str());
  }
  Tensor y = norm1->forward(x + attn->forward(x, context, context, mask, false).first);
  if (!ff1) return y;
  // ReLU as the fused epilogue of the first feed-forward GEMM.
  Tensor hidden = linear(y, ff1->param("weight"), ff1->param("bias"), "relu");
  return norm2->forward(y + ff2->forward(hidden));
}

std::string CrossAttentionFusion::extra_repr() const {
  return "dim=" + std::to_string(dim) + ", heads=" + std::to_string(heads) + ", ff_dim=" + std::to_string(ff_dim);
}

}  // namespace loom::multimodal
