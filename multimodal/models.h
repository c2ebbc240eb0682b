// Configurable multimodal models built from the encoders of clip.h and the
// fusion modules of fusion.h:
//   VGGEncoder      images -> [B, dim] from a VGG-style spec ({32, 32, M, 64, M});
//                   forward_features gives the last feature map [B, C, h, w]
//   RNNTextEncoder  padded tokens -> [B, dim] through an Embedding and an LSTM or GRU
//   VQAModel        image + question -> answer logits [B, num_answers], fusion by name
//                   ("concat", "gated", "film", "bilinear", "cross_attention", "late")
//   DualEncoder     any image encoder + any text encoder + projections to a shared
//                   space, trained with the symmetric contrastive loss (CLIP)
//   MultimodalLoss  w_task task + w_inter image-text contrastive + w_intra two-view
//                   contrastive within each modality
// Token id 0 is padding for every encoder built here (WordTokenizer's <pad>).
// Constructors check their configuration and raise loom::Error (ValueError)
// naming the model and the bad value; forwards check shapes, naming the model.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "multimodal/clip.h"
#include "multimodal/fusion.h"
#include "nn/containers.h"
#include "nn/modules/rnn.h"

namespace loom::multimodal {

// ---------------------------------------------------------------- image encoder

// A VGG-style convolutional encoder. spec lists the blocks in order: a
// positive entry c is a 3x3 convolution (padding 1) to c channels followed by
// the norm ("batch": BatchNorm2d, whose shift makes the convolution's own bias
// redundant, so it has none; "none": a convolution with bias) and the
// activation ("relu" or "gelu", the exact erf form); kPool (-1, "M" in
// Python) is a 2x2 max-pool. forward ends with a global pool over the last
// feature map ("avg" or "max") and Linear(C, dim). Children: `features` (a
// Sequential numbered like torchvision's VGG: features.0 conv, features.1
// norm, ...) and `proj`. Images must be at least 2^(number of pools) pixels
// on each side.
class VGGEncoder : public nn::Module {
 public:
  static constexpr int64_t kPool = -1;
  explicit VGGEncoder(std::vector<int64_t> spec = {32, 32, kPool, 64, kPool, 128, kPool}, int64_t in_channels = 3,
                      int64_t dim = 256, const std::string& norm = "batch", const std::string& act = "relu",
                      const std::string& pool = "avg");
  Tensor forward(const Tensor& images) const;           // [B, in_channels, H, W] -> [B, dim]
  Tensor forward_features(const Tensor& images) const;  // -> [B, channels, H / 2^pools, W / 2^pools]
  Tensor project(const Tensor& features) const;         // global pool + proj: [B, channels, h, w] -> [B, dim]
  Tensor global_pool(const Tensor& features) const;     // the mean or max over h, w: -> [B, channels]
  std::string extra_repr() const override;
  const std::vector<int64_t> spec;
  const int64_t in_channels, dim;
  const int64_t channels;  // of the last feature map
  const std::string norm, act, pool;
  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> proj;

 private:
  int64_t pools_ = 0;
};

// ---------------------------------------------------------------- text encoder

// Embedding(vocab, embed_dim, padding_idx 0) -> `layers` batch-first LSTM or
// GRU layers (cell "lstm" | "gru"), bidirectional or not, -> Linear(D hidden,
// dim) (D = 2 when bidirectional). Tokens are right-padded with 0: a sample's
// length is one past its last non-zero token (a 0 before that is read as a
// token), and the recurrence stops there as with packed sequences, so
// padding never changes the result. pool picks the vector that proj sees:
//   "last"  the state after the last valid step (for the reverse direction:
//           after reading back to the first token), concatenated over directions
//   "mean"  the mean of the outputs over the valid steps
// A sample of padding alone pools to zeros. Children: `emb`, `rnn`
// (torch.nn names: rnn.weight_ih_l0, ...), `proj`.
class RNNTextEncoder : public TextEncoder {
 public:
  RNNTextEncoder(int64_t vocab = 1000, int64_t embed_dim = 128, int64_t hidden = 256, int64_t layers = 1,
                 const std::string& cell = "lstm", bool bidirectional = false, int64_t dim = 256,
                 const std::string& pool = "last");
  Tensor forward(const Tensor& tokens) const override;
  // states [B, L, D hidden] (zeros at padding), padding_mask [B, L] true past each length.
  TextSequence forward_sequence(const Tensor& tokens) const override;
  int64_t dim() const override { return proj->out_features; }
  int64_t sequence_dim() const override { return rnn->hidden_size * (rnn->bidirectional ? 2 : 1); }
  std::string extra_repr() const override;
  const std::string cell, pool;
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::RNNBase> rnn;  // nn::LSTM or nn::GRU
  std::shared_ptr<nn::Linear> proj;

 private:
  RnnOutput run(const Tensor& tokens, Tensor* lengths) const;
};

// ---------------------------------------------------------------- configurations

// The arguments of VGGEncoder, for building models from one value.
struct ImageEncoderConfig {
  std::vector<int64_t> spec = {32, 32, VGGEncoder::kPool, 64, VGGEncoder::kPool, 128, VGGEncoder::kPool};
  int64_t in_channels = 3, dim = 256;
  std::string norm = "batch", act = "relu", pool = "avg";
};

// type "lstm" or "gru": RNNTextEncoder(vocab, embed_dim, hidden, layers, type,
// bidirectional, dim, pool). type "transformer": TransformerTextEncoder(vocab,
// dim, layers, heads, max_len, mask_padding = true) (its width is dim;
// embed_dim, hidden, bidirectional and pool do not apply).
struct TextEncoderConfig {
  std::string type = "lstm";
  int64_t vocab = 1000, dim = 256, layers = 1;
  int64_t embed_dim = 128, hidden = 256;
  bool bidirectional = false;
  std::string pool = "last";
  int64_t heads = 4, max_len = 32;
};

std::shared_ptr<VGGEncoder> make_image_encoder(const ImageEncoderConfig& config);
std::shared_ptr<TextEncoder> make_text_encoder(const TextEncoderConfig& config);

// ---------------------------------------------------------------- modality dropout

// Per-sample keep masks {image, text}, float [batch] of 0 / 1 with opts'
// dtype and device: each sample loses one modality with probability p, the
// image or the text with equal odds, never both (a sample with nothing left
// teaches nothing). Zeroed features are not rescaled: at test time a missing
// modality is fed as zeros, which is what training then looks like.
std::pair<Tensor, Tensor> modality_dropout_masks(int64_t batch, double p, const TensorOptions& opts);

// ---------------------------------------------------------------- VQA

// What VQAModel's fusion reads, after modality dropout.
struct JointFeatures {
  Tensor image;              // [B, image dim], or the feature map [B, C, h, w] for "film" and "cross_attention"
  Tensor text;               // [B, text dim], or the states [B, L, H] for "cross_attention"
  Tensor text_padding_mask;  // [B, L] bool, "cross_attention" only
};

// Image + question -> answer logits [B, num_answers]. The image encoder's
// vector (forward) or last feature map and the text encoder's vector or
// per-token states meet in the fusion named by `fusion`:
//   "concat"           ConcatFusion(dim_i, dim_t, hidden) of the two vectors
//   "gated"            GatedFusion(hidden) of image_proj(v_i), text_proj(v_t)
//   "film"             FiLM(C, dim_t): the question scales and shifts each channel of
//                      the feature map, then ReLU and the encoder's global pool -> [B, C]
//   "bilinear"         BilinearPooling(dim_i, dim_t, rank = hidden, out = hidden)
//   "cross_attention"  question tokens (text_proj to hidden) attend over the h w cells
//                      of the feature map (image_proj to hidden) in a
//                      CrossAttentionFusion(hidden, heads) layer; the mean over
//                      the valid tokens -> [B, hidden]. last_attention() keeps the
//                      attention weights of the last forward, [B, heads, L, h w]
//                      (each row sums to 1 over the cells).
//   "late"             img_head(v_i) and txt_head(v_t), each an MLP to answer
//                      logits, mixed by LateFusion (starts as their mean)
// then (all but "late") `classifier`: Linear(F, hidden), ReLU, Dropout(dropout),
// Linear(hidden, num_answers). position (cross_attention only): "none", the
// cells carry no position, so the attention knows what is in a cell but not
// where it is; "fourier", each cell adds pos_proj(f) to its key and value,
// f the sines and cosines of pi k x and pi k y (k = 1..4) at the cell's
// centre (x, y in (0, 1)), which works at any feature-map size. "film" and
// "cross_attention" read the image encoder's feature map, so its `proj` gets
// no gradient there; "cross_attention" reads the token states, so neither
// does the text encoder's `proj`.
// modality_dropout p: in training mode each sample loses its image or its
// text features with probability p (modality_dropout_masks); eval mode never
// drops. Children: `img`, `txt`, then image_proj / text_proj where used,
// `fuse`, `classifier` or img_head / txt_head.
class VQAModel : public nn::Module {
 public:
  VQAModel(std::shared_ptr<VGGEncoder> image_encoder, std::shared_ptr<TextEncoder> text_encoder,
           const std::string& fusion = "concat", int64_t hidden = 256, int64_t num_answers = 10, double dropout = 0.0,
           double modality_dropout = 0.0, int64_t heads = 4, const std::string& position = "none");
  VQAModel(const ImageEncoderConfig& image, const TextEncoderConfig& text, const std::string& fusion = "concat",
           int64_t hidden = 256, int64_t num_answers = 10, double dropout = 0.0, double modality_dropout = 0.0,
           int64_t heads = 4, const std::string& position = "none");
  // images [B, C, H, W] float, tokens [B, L] int64 -> logits [B, num_answers].
  Tensor forward(const Tensor& images, const Tensor& tokens) const;
  // The two halves of forward: the features the fusion reads, and fusion + classifier.
  JointFeatures encode(const Tensor& images, const Tensor& tokens) const;
  Tensor classify(const JointFeatures& features) const;
  // "cross_attention": the weights of the last forward (detached); undefined before one and for other fusions.
  Tensor last_attention() const { return last_attention_; }
  std::string extra_repr() const override;
  const std::string fusion;
  const int64_t hidden, num_answers, heads;
  const double dropout, modality_dropout;
  const std::string position;
  std::shared_ptr<VGGEncoder> img;
  std::shared_ptr<TextEncoder> txt;
  std::shared_ptr<nn::Linear> image_proj, text_proj;   // "gated", "cross_attention"
  std::shared_ptr<nn::Linear> pos_proj;                // "cross_attention" with position "fourier"
  nn::ModulePtr fuse;                                  // the fusion module of fusion.h
  std::shared_ptr<nn::Sequential> classifier;          // all but "late"
  std::shared_ptr<nn::Sequential> img_head, txt_head;  // "late"

 private:
  void check_inputs(const Tensor& images, const Tensor& tokens) const;
  mutable Tensor last_attention_;
};

// PyTorch-style alias: a joint image-text classifier is this model whatever the task.
using JointModel = VQAModel;

// ---------------------------------------------------------------- dual encoder

// CLIP with any encoders: a = normalize(img_proj(img(images))), b =
// normalize(txt_proj(txt(tokens))), loss = clip_loss(a, b, logit_scale) (the
// fused op of autograd/ops/fusion.h). img_proj and txt_proj are bias-free
// Linear maps to embed_dim; embed_dim = 0 leaves them out (the encoders must
// then agree on their width). logit_scale is a 0-d parameter, init
// ln(1 / temperature), used clamped to at most ln(max_scale) (CLIP's 100) so
// that the logits cannot blow up; the clamp passes no gradient while active.
// Registration order is logit_scale, img, txt[, img_proj, txt_proj], so
// DualEncoder(ImageEncoder(256), TransformerTextEncoder(), 0) has CLIP's
// state_dict keys and shapes and loads a CLIP("transformer") checkpoint.
class DualEncoder : public nn::Module {
 public:
  // image_encoder: any module mapping images to [B, image_dim].
  DualEncoder(nn::AnyModule image_encoder, int64_t image_dim, std::shared_ptr<TextEncoder> text_encoder,
              int64_t embed_dim = 256, double temperature = 0.07, double max_scale = 100.0);
  DualEncoder(std::shared_ptr<VGGEncoder> image_encoder, std::shared_ptr<TextEncoder> text_encoder,
              int64_t embed_dim = 256, double temperature = 0.07, double max_scale = 100.0);
  DualEncoder(std::shared_ptr<ImageEncoder> image_encoder, std::shared_ptr<TextEncoder> text_encoder,
              int64_t embed_dim = 256, double temperature = 0.07, double max_scale = 100.0);
  DualEncoder(const ImageEncoderConfig& image, const TextEncoderConfig& text, int64_t embed_dim = 256,
              double temperature = 0.07, double max_scale = 100.0);
  Tensor forward(const Tensor& images, const Tensor& tokens) const;  // the scalar loss
  Tensor encode_image(const Tensor& images) const;                   // L2-normalised [B, embed]
  Tensor encode_text(const Tensor& tokens) const;                    // L2-normalised [B, embed]
  Tensor logits(const Tensor& images, const Tensor& tokens) const;   // scale a b^T, [B_images, B_texts]
  Tensor logit_scale() const;                                        // the clamped log scale (0-d)
  std::string extra_repr() const override;
  const int64_t image_dim, embed_dim;
  const double max_scale;
  nn::ModulePtr img;
  std::shared_ptr<TextEncoder> txt;
  std::shared_ptr<nn::Linear> img_proj, txt_proj;  // null when embed_dim = 0

 private:
  std::function<Tensor(const Tensor&)> image_forward_;
  void check_pair(const Tensor& images, const Tensor& tokens) const;
};

// ---------------------------------------------------------------- loss

// One loss from the three signals of multimodal training:
//   total = task * cross_entropy(logits, targets)
//         + inter * clip_loss(normalize(image), normalize(text))
//         + intra * (clip_loss(normalize(image), normalize(image_view))
//                    + clip_loss(normalize(text), normalize(text_view))) / (views given)
// inter pulls each image towards its own text and away from the batch's other
// texts; intra does the same between two views (augmentations) of one
// modality, keeping each encoder consistent under augmentation (SimCLR's
// objective with CLIP's symmetric form). The contrastive terms use
// logit_scale when given (e.g. DualEncoder::logit_scale()), else the fixed
// ln(1 / temperature). A term with weight 0 is not computed and its part is a
// 0-d zero; a term with a positive weight needs its inputs.
struct MultimodalLossOutput {
  Tensor total, task, inter, intra;  // 0-d; the parts unweighted
};

struct MultimodalLossInputs {
  Tensor logits, targets;        // task: [B, C] float, [B] int64
  Tensor image, text;            // inter (and intra anchors): [B, E]
  Tensor image_view, text_view;  // intra: a second view of image and / or text, [B, E]
  Tensor logit_scale;            // optional 0-d or [1] log scale
};

class MultimodalLoss : public nn::Module {
 public:
  MultimodalLoss(double task = 1.0, double inter = 1.0, double intra = 0.0, double temperature = 0.07);
  MultimodalLossOutput forward(const MultimodalLossInputs& in) const;
  std::string extra_repr() const override;
  const double task, inter, intra, temperature;
};

}  // namespace loom::multimodal
