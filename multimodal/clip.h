// CLIP-style dual encoders (shared/bench/SPEC.md, "End-to-end models"): an image
// encoder and a text encoder map a batch of pairs to embeddings [B, E]; the
// contrastive loss pulls each image towards its own caption and away from the
// other B - 1:
//   a = normalize(img(images)), b = normalize(txt(tokens)),
//   logits = exp(logit_scale) a b^T,
//   loss = (cross_entropy(logits, arange(B)) + cross_entropy(logits^T, arange(B))) / 2.
// Structure, parameter names and default init follow torch.nn (the classes of
// shared/bench/torch_reference.py), so a PyTorch state_dict of `CLIP` loads 1:1:
//   ImageEncoder            convs.{0..3}.{weight,bias}, proj.{weight,bias}
//   TransformerTextEncoder  pos, emb.weight, tr.layers.N.*, proj.*
//   LSTMTextEncoder         emb.weight, lstm.{weight,bias}_{ih,hh}_l0, proj.*
//   CLIP                    logit_scale, img.*, txt.*
#pragma once
#include <memory>
#include <string>
#include <utility>

#include "nn/containers.h"
#include "nn/modules/embedding.h"
#include "nn/modules/linear.h"
#include "nn/modules/rnn.h"
#include "nn/modules/transformer.h"

namespace loom::multimodal {

// images [B, 3, H, W] (H, W >= 8) -> [B, dim]: four 3x3 convolutions (pad 1)
// 3 -> 32 -> 64 -> 128 -> 256, each followed by ReLU, a 2x2 max-pool after the
// first three, the mean over H and W, then Linear(256, dim).
class ImageEncoder : public nn::Module {
 public:
  explicit ImageEncoder(int64_t dim = 256);
  Tensor forward(const Tensor& images) const;
  std::shared_ptr<nn::ModuleList> convs;
  std::shared_ptr<nn::Linear> proj;
};

// Per-token states of a text encoder, for fusion modules that attend over the
// words (multimodal/models.h), and the positions the encoder itself treated
// as padding (bool [B, L], true = padding), so that a pooling or attention on
// top can ignore the same positions.
struct TextSequence {
  Tensor states;        // [B, L, sequence_dim()]
  Tensor padding_mask;  // [B, L] bool
};

// The text side of CLIP: integer tokens [B, L] -> embeddings [B, dim].
class TextEncoder : public nn::Module {
 public:
  virtual Tensor forward(const Tensor& tokens) const = 0;
  virtual TextSequence forward_sequence(const Tensor& tokens) const = 0;
  virtual int64_t dim() const = 0;           // width of forward's output
  virtual int64_t sequence_dim() const = 0;  // width of forward_sequence's states

 protected:
  explicit TextEncoder(std::string type_name) : nn::Module(std::move(type_name)) {}
  // tokens must be [B, L] of an integer dtype with 1 <= L (<= max_len where given).
  void check_tokens(const Tensor& tokens, int64_t max_len = -1) const;
};

// Token embedding plus a learned position table `pos` [max_len, dim] (init
// N(0, 0.02^2)), `layers` pre-LayerNorm encoder layers (ReLU, feed-forward
// 4 dim, no dropout, batch-first), the mean over positions, Linear(dim, dim).
// Sequences shorter than max_len use the first L rows of `pos`.
// mask_padding = false (the SPEC fixture) reads token 0 like any other token;
// true treats it as padding: no position attends to it and the mean runs
// over the other positions only (a sample of padding alone embeds as proj's
// bias). forward_sequence returns the encoder layers' output [B, L, dim]
// (before the mean and proj) with the mask the layers used (all false
// without mask_padding).
class TransformerTextEncoder : public TextEncoder {
 public:
  TransformerTextEncoder(int64_t vocab = 1000, int64_t dim = 256, int64_t layers = 2, int64_t heads = 4,
                         int64_t max_len = 32, bool mask_padding = false);
  Tensor forward(const Tensor& tokens) const override;
  TextSequence forward_sequence(const Tensor& tokens) const override;
  int64_t dim() const override { return proj->out_features; }
  int64_t sequence_dim() const override { return emb->embedding_dim; }
  const int64_t max_len;
  const bool mask_padding;
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::TransformerEncoder> tr;
  std::shared_ptr<nn::Linear> proj;
};

// Token embedding, one batch-first LSTM layer (dim -> dim), its last hidden
// state h_n[-1], Linear(dim, dim). Every position is read as a token (the
// SPEC fixture); forward_sequence returns the LSTM's outputs [B, L, dim] and
// an all-false mask. multimodal/models.h has RNNTextEncoder for padded text.
class LSTMTextEncoder : public TextEncoder {
 public:
  LSTMTextEncoder(int64_t vocab = 1000, int64_t dim = 256);
  Tensor forward(const Tensor& tokens) const override;
  TextSequence forward_sequence(const Tensor& tokens) const override;
  int64_t dim() const override { return proj->out_features; }
  int64_t sequence_dim() const override { return lstm->hidden_size; }
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> proj;
};

// text: "transformer" or "lstm". logit_scale is a 0-d parameter initialised to
// ln(1 / 0.07) (the log of the inverse temperature, learned).
class CLIP : public nn::Module {
 public:
  explicit CLIP(const std::string& text = "transformer");
  // images [B, 3, H, W] float, tokens [B, L] int64 (or int32) -> the scalar loss.
  Tensor forward(const Tensor& images, const Tensor& tokens) const;
  // The unnormalised embeddings [B, 256].
  Tensor encode_image(const Tensor& images) const { return img->forward(images); }
  Tensor encode_text(const Tensor& tokens) const { return txt->forward(tokens); }
  Tensor& logit_scale() { return param("logit_scale"); }
  std::shared_ptr<ImageEncoder> img;
  std::shared_ptr<TextEncoder> txt;
};

}  // namespace loom::multimodal
