// The CLIP-style dual encoders of clip.h. Each model checks its inputs itself,
// so a wrong shape or dtype is reported against the model ("ImageEncoder: ...",
// "CLIP: ...") with the offending shapes, not deep inside a convolution.
// The loss is the fused loom::clip_loss on the L2-normalised embeddings: it
// computes exp(logit_scale) a b^T and the mean of the row and column
// cross-entropies with the diagonal as labels, the SPEC loss exactly.
#include "multimodal/clip.h"

#include <cmath>
#include <utility>

#include "autograd/ops/fusion.h"
#include "autograd/ops/pool.h"
#include "nn/functional/losses.h"
#include "nn/modules/conv.h"

namespace loom::multimodal {

namespace {

constexpr int64_t kImageChannels[] = {3, 32, 64, 128, 256};
constexpr int kConvs = 4;
constexpr int kPools = 3;  // 2x2 max-pools after the first three convolutions

bool is_index_dtype(DType t) { return t == DType::Int64 || t == DType::Int32; }

}  // namespace

// ---------------------------------------------------------------- ImageEncoder

ImageEncoder::ImageEncoder(int64_t dim) : nn::Module("ImageEncoder") {
  LOOM_CHECK_VALUE(dim > 0, "ImageEncoder: dim must be positive, got ", dim);
  convs = register_module("convs", std::make_shared<nn::ModuleList>());
  for (int i = 0; i < kConvs; ++i)
    convs->push_back(std::make_shared<nn::Conv2d>(kImageChannels[i], kImageChannels[i + 1], Dims{3}, Dims{1}, Dims{1}));
  proj = register_module("proj", std::make_shared<nn::Linear>(kImageChannels[kConvs], dim));
}

Tensor ImageEncoder::forward(const Tensor& images) const {
  LOOM_CHECK(images.dim() == 4 && images.size(1) == kImageChannels[0],
             "ImageEncoder: expected images [B, 3, H, W], got shape ", images.sizes());
  // Three halvings must leave at least one pixel for the global average pool.
  LOOM_CHECK(images.size(2) >= (1 << kPools) && images.size(3) >= (1 << kPools),
             "ImageEncoder: expected images of at least 8x8 pixels, got shape ", images.sizes());
  LOOM_CHECK_TYPE(is_floating(images.dtype()), "ImageEncoder: expected floating point images, got ",
                  dtype_name(images.dtype()), " of shape ", images.sizes());
  Tensor x = images;
  for (int i = 0; i < kConvs; ++i) {
    x = convs->at<nn::Conv2d>(i)->forward(x).relu();
    if (i < kPools) x = max_pool2d(x, {2});
  }
  return proj->forward(x.mean({2, 3}));
}

// ---------------------------------------------------------------- text encoders

void TextEncoder::check_tokens(const Tensor& tokens, int64_t max_len) const {
  LOOM_CHECK(tokens.dim() == 2 && tokens.size(1) >= 1, type_name(), ": expected tokens [B, L] with L >= 1, got shape ",
             tokens.sizes());
  LOOM_CHECK_TYPE(is_index_dtype(tokens.dtype()), type_name(), ": expected int64 (or int32) tokens, got ",
                  dtype_name(tokens.dtype()), " of shape ", tokens.sizes());
  LOOM_CHECK(max_len < 0 || tokens.size(1) <= max_len, type_name(), ": tokens ", tokens.sizes(),
             " are longer than max_len ", max_len);
}

TransformerTextEncoder::TransformerTextEncoder(int64_t vocab, int64_t dim, int64_t layers, int64_t heads,
                                               int64_t max_len, bool mask_padding)
    : TextEncoder("TransformerTextEncoder"), max_len(max_len), mask_padding(mask_padding) {
  LOOM_CHECK_VALUE(max_len > 0 && layers >= 0, "TransformerTextEncoder: expected max_len > 0 and layers >= 0, got ",
                   max_len, " and ", layers);
  emb = register_module("emb", std::make_shared<nn::Embedding>(vocab, dim));
  register_parameter("pos", randn({max_len, dim}) * 0.02);
  nn::TransformerEncoderLayerOptions o;
  o.d_model = dim;
  o.nhead = heads;
  o.dim_feedforward = 4 * dim;
  o.dropout = 0.0;
  o.batch_first = true;
  o.norm_first = true;
  tr = register_module("tr", std::make_shared<nn::TransformerEncoder>(o, layers));
  proj = register_module("proj", std::make_shared<nn::Linear>(dim, dim));
}

Tensor TransformerTextEncoder::forward(const Tensor& tokens) const {
  if (!mask_padding) {
    check_tokens(tokens, max_len);
    Tensor x = emb->forward(tokens) + param("pos").narrow(0, 0, tokens.size(1));
    return proj->forward(tr->forward(x).mean({1}));
  }
  TextSequence s = forward_sequence(tokens);
  Tensor keep = s.padding_mask.logical_not().to(s.states.dtype()).unsqueeze(2);  // [B, L, 1]
  // clamp: a sample of padding alone divides zeros by 1, not by 0.
  return proj->forward((s.states * keep).sum({1}) / keep.sum({1}).clamp(1.0));
}

TextSequence TransformerTextEncoder::forward_sequence(const Tensor& tokens) const {
  check_tokens(tokens, max_len);
  Tensor x = emb->forward(tokens) + param("pos").narrow(0, 0, tokens.size(1));
  Tensor pad = mask_padding ? tokens.eq(0) : zeros(tokens.sizes(), TensorOptions(DType::Bool, tokens.device()));
  return {tr->forward(x, {}, mask_padding ? pad : Tensor()), pad};
}

LSTMTextEncoder::LSTMTextEncoder(int64_t vocab, int64_t dim) : TextEncoder("LSTMTextEncoder") {
  emb = register_module("emb", std::make_shared<nn::Embedding>(vocab, dim));
  lstm = register_module("lstm", std::make_shared<nn::LSTM>(dim, dim, 1, true, /*batch_first=*/true));
  proj = register_module("proj", std::make_shared<nn::Linear>(dim, dim));
}

Tensor LSTMTextEncoder::forward(const Tensor& tokens) const {
  check_tokens(tokens);
  Tensor h_n = lstm->forward(emb->forward(tokens)).h_n;  // [layers, B, dim]
  return proj->forward(h_n.select(0, h_n.size(0) - 1));
}

TextSequence LSTMTextEncoder::forward_sequence(const Tensor& tokens) const {
  check_tokens(tokens);
  return {lstm->forward(emb->forward(tokens)).output,
          zeros(tokens.sizes(), TensorOptions(DType::Bool, tokens.device()))};
}

// ---------------------------------------------------------------- CLIP

CLIP::CLIP(const std::string& text) : nn::Module("CLIP") {
  LOOM_CHECK_VALUE(text == "transformer" || text == "lstm",
                   "CLIP: text encoder must be \"transformer\" or \"lstm\", got \"", text, "\"");
  register_parameter("logit_scale", full({}, std::log(1.0 / 0.07)));
  img = register_module("img", std::make_shared<ImageEncoder>());
  if (text == "transformer") txt = register_module<TextEncoder>("txt", std::make_shared<TransformerTextEncoder>());
  else txt = register_module<TextEncoder>("txt", std::make_shared<LSTMTextEncoder>());
}

Tensor CLIP::forward(const Tensor& images, const Tensor& tokens) const {
  LOOM_CHECK(images.dim() >= 1 && tokens.dim() >= 1 && images.size(0) == tokens.size(0) && images.size(0) > 0,
             "CLIP: expected images [B, 3, H, W] and tokens [B, L] with the same B >= 1, got images ", images.sizes(),
             " and tokens ", tokens.sizes());
  namespace F = nn::functional;
  Tensor a = F::normalize(encode_image(images), 2.0, 1), b = F::normalize(encode_text(tokens), 2.0, 1);
  return clip_loss(a, b, param("logit_scale"));
}

}  // namespace loom::multimodal
