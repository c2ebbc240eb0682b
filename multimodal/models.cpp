// The configurable models of models.h. Two of the fusions need more than the
// [B, D] forms of fusion.h, and are applied here with the fusion module's own
// parameters:
//   FiLM on a feature map: gamma and beta [B, C] come from the module's
//     weight and bias exactly as film() computes them, and broadcast over h, w.
//   Cross-attention keeping its weights: CrossAttentionFusion::forward runs
//     the fused attention, which never materialises the weights; VQAModel
//     runs the same layer through the module's children with need_weights.
#include "multimodal/models.h"

#include <cmath>
#include <sstream>
#include <utility>

#include "autograd/ops/fusion.h"
#include "nn/functional/losses.h"
#include "nn/modules/activation.h"
#include "nn/modules/batchnorm.h"
#include "nn/modules/conv.h"
#include "nn/modules/dropout.h"
#include "nn/modules/pooling.h"

namespace loom::multimodal {

namespace {

namespace F = nn::functional;

// The channel count of the last convolution of a VGG spec, checking each entry.
int64_t vgg_channels(const std::vector<int64_t>& spec) {
  int64_t c = 0;
  for (size_t i = 0; i < spec.size(); ++i) {
    LOOM_CHECK_VALUE(spec[i] > 0 || spec[i] == VGGEncoder::kPool, "VGGEncoder: spec entry ", i, " is ", spec[i],
                     "; expected a channel count > 0 or -1 (\"M\", a 2x2 max-pool)");
    if (spec[i] > 0) c = spec[i];
  }
  LOOM_CHECK_VALUE(c > 0, "VGGEncoder: spec ", spec, " has no convolution; expected at least one channel count");
  return c;
}

bool one_of(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

Tensor row_mask(const Tensor& m, int64_t dims) {  // [B] -> [B, 1, ...] with `dims` dimensions in all
  Shape s(static_cast<size_t>(dims), 1);
  s[0] = m.size(0);
  return m.reshape(s);
}

}  // namespace

// ---------------------------------------------------------------- VGGEncoder

VGGEncoder::VGGEncoder(std::vector<int64_t> spec_in, int64_t in, int64_t d, const std::string& norm_in,
                       const std::string& act_in, const std::string& pool_in)
    : nn::Module("VGGEncoder"),
      spec(std::move(spec_in)),
      in_channels(in),
      dim(d),
      channels(vgg_channels(spec)),
      norm(norm_in),
      act(act_in),
      pool(pool_in) {
  LOOM_CHECK_VALUE(in > 0 && d > 0, "VGGEncoder: in_channels and dim must be positive, got ", in, " and ", d);
  LOOM_CHECK_VALUE(one_of(norm, {"batch", "none"}), "VGGEncoder: norm must be \"batch\" or \"none\", got \"", norm,
                   "\"");
  LOOM_CHECK_VALUE(one_of(act, {"relu", "gelu"}), "VGGEncoder: act must be \"relu\" or \"gelu\", got \"", act, "\"");
  LOOM_CHECK_VALUE(one_of(pool, {"avg", "max"}), "VGGEncoder: pool must be \"avg\" or \"max\", got \"", pool, "\"");
  features = register_module("features", std::make_shared<nn::Sequential>());
  int64_t c = in;
  for (int64_t v : spec) {
    if (v == kPool) {
      features->push_back(std::make_shared<nn::MaxPool2d>(Dims{2}));
      ++pools_;
      continue;
    }
    const bool bn = norm == "batch";
    features->push_back(std::make_shared<nn::Conv2d>(c, v, Dims{3}, Dims{1}, Dims{1}, Dims{1}, 1, !bn));
    if (bn) features->push_back(std::make_shared<nn::BatchNorm2d>(v));
    if (act == "relu") features->push_back(std::make_shared<nn::ReLU>());
    else features->push_back(std::make_shared<nn::GELU>());
    c = v;
  }
  proj = register_module("proj", std::make_shared<nn::Linear>(channels, d));
}

Tensor VGGEncoder::forward_features(const Tensor& images) const {
  LOOM_CHECK(images.defined() && images.dim() == 4 && images.size(1) == in_channels, "VGGEncoder: expected images [B, ",
             in_channels, ", H, W], got shape ", images.defined() ? images.sizes() : Shape{});
  const int64_t min_side = int64_t(1) << pools_;
  LOOM_CHECK(images.size(2) >= min_side && images.size(3) >= min_side, "VGGEncoder: ", pools_,
             " 2x2 max-pools need images of at least ", min_side, "x", min_side, " pixels, got shape ", images.sizes());
  LOOM_CHECK_TYPE(is_floating(images.dtype()), "VGGEncoder: expected floating point images, got ",
                  dtype_name(images.dtype()), " of shape ", images.sizes());
  return features->forward(images);
}

Tensor VGGEncoder::global_pool(const Tensor& f) const {
  LOOM_CHECK(f.defined() && f.dim() == 4 && f.size(1) == channels, "VGGEncoder: expected a feature map [B, ", channels,
             ", h, w], got shape ", f.defined() ? f.sizes() : Shape{});
  return pool == "avg" ? f.mean({2, 3}) : f.amax({2, 3});
}

Tensor VGGEncoder::project(const Tensor& f) const { return proj->forward(global_pool(f)); }

Tensor VGGEncoder::forward(const Tensor& images) const { return project(forward_features(images)); }

std::string VGGEncoder::extra_repr() const {
  std::string s = "spec=[";
  for (size_t i = 0; i < spec.size(); ++i) s += (i ? ", " : "") + (spec[i] == kPool ? "M" : std::to_string(spec[i]));
  return s + "], in_channels=" + std::to_string(in_channels) + ", dim=" + std::to_string(dim) + ", norm=" + norm +
         ", act=" + act + ", pool=" + pool;
}

// ---------------------------------------------------------------- RNNTextEncoder

RNNTextEncoder::RNNTextEncoder(int64_t vocab, int64_t embed_dim, int64_t hidden, int64_t layers,
                               const std::string& cell_in, bool bidirectional, int64_t d, const std::string& pool_in)
    : TextEncoder("RNNTextEncoder"), cell(cell_in), pool(pool_in) {
  LOOM_CHECK_VALUE(vocab > 0 && embed_dim > 0 && hidden > 0 && d > 0,
                   "RNNTextEncoder: vocab, embed_dim, hidden and dim must be positive, got ", vocab, ", ", embed_dim,
                   ", ", hidden, ", ", d);
  LOOM_CHECK_VALUE(layers >= 1, "RNNTextEncoder: layers must be at least 1, got ", layers);
  LOOM_CHECK_VALUE(one_of(cell, {"lstm", "gru"}), "RNNTextEncoder: cell must be \"lstm\" or \"gru\", got \"", cell,
                   "\"");
  LOOM_CHECK_VALUE(one_of(pool, {"last", "mean"}), "RNNTextEncoder: pool must be \"last\" or \"mean\", got \"", pool,
                   "\"");
  emb = register_module("emb", std::make_shared<nn::Embedding>(vocab, embed_dim, int64_t(0)));
  if (cell == "lstm")
    rnn = register_module<nn::RNNBase>(
        "rnn", std::make_shared<nn::LSTM>(embed_dim, hidden, layers, true, /*batch_first=*/true, 0.0, bidirectional));
  else
    rnn = register_module<nn::RNNBase>(
        "rnn", std::make_shared<nn::GRU>(embed_dim, hidden, layers, true, /*batch_first=*/true, 0.0, bidirectional));
  proj = register_module("proj", std::make_shared<nn::Linear>(sequence_dim(), d));
}

RnnOutput RNNTextEncoder::run(const Tensor& tokens, Tensor* lengths) const {
  check_tokens(tokens);
  const int64_t L = tokens.size(1);
  // One past the last non-zero token: the largest position (1-based) holding a token.
  Tensor pos = arange(1, L + 1, 1, TensorOptions(DType::Int64, tokens.device()));
  *lengths = (tokens.ne(0).to(DType::Int64) * pos).amax({1});
  Tensor x = emb->forward(tokens);
  if (cell == "lstm")
    return lstm(x, {}, {}, rnn->flat_weights(), rnn->bias, rnn->num_layers, rnn->bidirectional, true, *lengths);
  return gru(x, {}, rnn->flat_weights(), rnn->bias, rnn->num_layers, rnn->bidirectional, true, *lengths);
}

TextSequence RNNTextEncoder::forward_sequence(const Tensor& tokens) const {
  Tensor lengths;
  RnnOutput o = run(tokens, &lengths);
  Tensor pos = arange(0, tokens.size(1), 1, TensorOptions(DType::Int64, tokens.device()));
  return {o.output, pos.unsqueeze(0).ge(lengths.unsqueeze(1))};
}

Tensor RNNTextEncoder::forward(const Tensor& tokens) const {
  Tensor lengths;
  RnnOutput o = run(tokens, &lengths);
  if (pool == "mean") {
    // The outputs are zero past each length, so the sum runs over the valid steps only.
    Tensor n = lengths.clamp(int64_t(1)).to(o.output.dtype()).unsqueeze(1);
    return proj->forward(o.output.sum({1}) / n);
  }
  const int64_t last = rnn->num_layers - 1;
  if (!rnn->bidirectional) return proj->forward(o.h_n.select(0, last));
  return proj->forward(cat({o.h_n.select(0, 2 * last), o.h_n.select(0, 2 * last + 1)}, 1));
}

std::string RNNTextEncoder::extra_repr() const { return "cell=" + cell + ", pool=" + pool; }

// ---------------------------------------------------------------- configurations

std::shared_ptr<VGGEncoder> make_image_encoder(const ImageEncoderConfig& c) {
  return std::make_shared<VGGEncoder>(c.spec, c.in_channels, c.dim, c.norm, c.act, c.pool);
}

std::shared_ptr<TextEncoder> make_text_encoder(const TextEncoderConfig& c) {
  if (c.type == "transformer")
    return std::make_shared<TransformerTextEncoder>(c.vocab, c.dim, c.layers, c.heads, c.max_len, true);
  LOOM_CHECK_VALUE(one_of(c.type, {"lstm", "gru"}),
                   "text encoder: type must be \"lstm\", \"gru\" or \"transformer\", got \"", c.type, "\"");
  return std::make_shared<RNNTextEncoder>(c.vocab, c.embed_dim, c.hidden, c.layers, c.type, c.bidirectional, c.dim,
                                          c.pool);
}

// ---------------------------------------------------------------- modality dropout

std::pair<Tensor, Tensor> modality_dropout_masks(int64_t batch, double p, const TensorOptions& opts) {
  LOOM_CHECK_VALUE(p >= 0 && p <= 1, "modality_dropout_masks: p must be in [0, 1], got ", p);
  LOOM_CHECK_VALUE(batch >= 0, "modality_dropout_masks: batch must be >= 0, got ", batch);
  const TensorOptions o(opts.dtype, opts.device);
  Tensor drop = rand({batch}, o).lt(p).to(opts.dtype);
  Tensor image_side = rand({batch}, o).lt(0.5).to(opts.dtype);
  return {1.0 - drop * image_side, 1.0 - drop * (1.0 - image_side)};
}

// ---------------------------------------------------------------- VQAModel

namespace {

// Linear(in, hidden), ReLU, Dropout(p), Linear(hidden, out).
std::shared_ptr<nn::Sequential> mlp(int64_t in, int64_t hidden, int64_t out, double p) {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(std::make_shared<nn::Linear>(in, hidden));
  s->push_back(std::make_shared<nn::ReLU>());
  s->push_back(std::make_shared<nn::Dropout>(p));
  s->push_back(std::make_shared<nn::Linear>(hidden, out));
  return s;
}

// FiLM of a feature map x [B, C, h, w] by cond [B, Dc] with the module's parameters.
Tensor film_map(const FiLM& m, const Tensor& x, const Tensor& cond) {
  LOOM_CHECK(
      x.dim() == 4 && x.size(1) == m.dim && cond.dim() == 2 && cond.size(1) == m.cond_dim && cond.size(0) == x.size(0),
      "VQAModel: FiLM expected a feature map [B, ", m.dim, ", h, w] and a condition [B, ", m.cond_dim, "], got ",
      x.sizes(), " and ", cond.sizes());
  Tensor gb = linear(cond, m.param("weight"), m.param("bias"));  // [B, 2C]: gamma | beta
  Tensor gamma = gb.narrow(1, 0, m.dim).unsqueeze(2).unsqueeze(3);
  Tensor beta = gb.narrow(1, m.dim, m.dim).unsqueeze(2).unsqueeze(3);
  return x * gamma + beta;
}

constexpr int64_t kFourier = 4;  // frequencies per axis of VQAModel's "fourier" cell positions

// [h w, 4 kFourier]: sin(pi k x), cos(pi k x), sin(pi k y), cos(pi k y), k =
// 1..kFourier, at the centre (x, y) in (0, 1) of each cell of an h x w map
// (row-major, as flatten(2) orders the cells). Made on opts' device.
Tensor fourier_positions(int64_t h, int64_t w, const TensorOptions& opts) {
  const TensorOptions o(opts.dtype, opts.device);
  const Tensor k = arange(1, kFourier + 1, 1, o) * 3.14159265358979323846;                   // [K]
  const Tensor ys = ((arange(0, h, 1, o) + 0.5) * (1.0 / h)).unsqueeze(1) * k.unsqueeze(0);  // [h, K]
  const Tensor xs = ((arange(0, w, 1, o) + 0.5) * (1.0 / w)).unsqueeze(1) * k.unsqueeze(0);  // [w, K]
  const Tensor fx = cat({xs.sin(), xs.cos()}, 1).unsqueeze(0).expand({h, w, 2 * kFourier});
  const Tensor fy = cat({ys.sin(), ys.cos()}, 1).unsqueeze(1).expand({h, w, 2 * kFourier});
  return cat({fx, fy}, 2).reshape({h * w, 4 * kFourier});
}

// CrossAttentionFusion::forward (no context mask), also returning the
// attention weights [B, heads, Lq, Lk].
std::pair<Tensor, Tensor> cross_attend(const CrossAttentionFusion& f, const Tensor& x, const Tensor& ctx) {
  LOOM_CHECK(x.dim() == 3 && ctx.dim() == 3 && x.size(2) == f.dim && ctx.size(2) == f.dim && x.size(0) == ctx.size(0),
             "VQAModel: cross-attention expected queries [B, L, ", f.dim, "] and context [B, cells, ", f.dim, "], got ",
             x.sizes(), " and ", ctx.sizes());
  auto [a, w] = f.attn->forward(x, ctx, ctx, {}, /*need_weights=*/true, {}, /*average_attn_weights=*/false);
  Tensor y = f.norm1->forward(x + a);
  if (f.ff1) y = f.norm2->forward(y + f.ff2->forward(f.ff1->forward(y).relu()));
  return {y, w};
}

}  // namespace

VQAModel::VQAModel(const ImageEncoderConfig& image, const TextEncoderConfig& text, const std::string& fusion,
                   int64_t hidden, int64_t num_answers, double dropout, double modality_dropout, int64_t heads,
                   const std::string& position)
    : VQAModel(make_image_encoder(image), make_text_encoder(text), fusion, hidden, num_answers, dropout,
               modality_dropout, heads, position) {}

VQAModel::VQAModel(std::shared_ptr<VGGEncoder> ie, std::shared_ptr<TextEncoder> te, const std::string& fusion_in,
                   int64_t hidden_in, int64_t answers, double p, double md, int64_t heads_in,
                   const std::string& position_in)
    : nn::Module("VQAModel"),
      fusion(fusion_in),
      hidden(hidden_in),
      num_answers(answers),
      heads(heads_in),
      dropout(p),
      modality_dropout(md),
      position(position_in) {
  LOOM_CHECK_VALUE(ie && te, "VQAModel: the image and text encoders must be given (got a null encoder)");
  LOOM_CHECK_VALUE(one_of(fusion, {"concat", "gated", "film", "bilinear", "cross_attention", "late"}),
                   "VQAModel: unknown fusion \"", fusion,
                   "\"; expected \"concat\", \"gated\", \"film\", \"bilinear\", \"cross_attention\" or \"late\"");
  LOOM_CHECK_VALUE(hidden > 0 && num_answers > 0, "VQAModel: hidden and num_answers must be positive, got ", hidden,
                   " and ", num_answers);
  LOOM_CHECK_VALUE(dropout >= 0 && dropout < 1, "VQAModel: dropout must be in [0, 1), got ", dropout);
  LOOM_CHECK_VALUE(modality_dropout >= 0 && modality_dropout <= 1, "VQAModel: modality_dropout must be in [0, 1], got ",
                   modality_dropout);
  LOOM_CHECK_VALUE(fusion != "cross_attention" || (heads > 0 && hidden % heads == 0),
                   "VQAModel: cross_attention needs heads > 0 dividing hidden, got heads ", heads, " and hidden ",
                   hidden);
  LOOM_CHECK_VALUE(position == "none" || position == "fourier", "VQAModel: unknown position \"", position,
                   "\"; expected \"none\" or \"fourier\"");
  LOOM_CHECK_VALUE(position == "none" || fusion == "cross_attention", "VQAModel: position \"", position,
                   "\" needs fusion \"cross_attention\", got \"", fusion, "\"");
  img = register_module("img", std::move(ie));
  txt = register_module("txt", std::move(te));
  const int64_t di = img->dim, dt = txt->dim();
  int64_t fused = hidden;
  if (fusion == "concat") {
    fuse = register_module("fuse", std::make_shared<ConcatFusion>(di, dt, hidden));
  } else if (fusion == "gated") {
    image_proj = register_module("image_proj", std::make_shared<nn::Linear>(di, hidden));
    text_proj = register_module("text_proj", std::make_shared<nn::Linear>(dt, hidden));
    fuse = register_module("fuse", std::make_shared<GatedFusion>(hidden));
  } else if (fusion == "film") {
    fuse = register_module("fuse", std::make_shared<FiLM>(img->channels, dt));
    fused = img->channels;
  } else if (fusion == "bilinear") {
    fuse = register_module("fuse", std::make_shared<BilinearPooling>(di, dt, hidden, hidden));
  } else if (fusion == "cross_attention") {
    image_proj = register_module("image_proj", std::make_shared<nn::Linear>(img->channels, hidden));
    text_proj = register_module("text_proj", std::make_shared<nn::Linear>(txt->sequence_dim(), hidden));
    fuse = register_module("fuse", std::make_shared<CrossAttentionFusion>(hidden, heads));
    if (position == "fourier")
      pos_proj = register_module("pos_proj", std::make_shared<nn::Linear>(4 * kFourier, hidden));
  } else {  // late
    fuse = register_module("fuse", std::make_shared<LateFusion>());
    img_head = register_module("img_head", mlp(di, hidden, num_answers, dropout));
    txt_head = register_module("txt_head", mlp(dt, hidden, num_answers, dropout));
    return;
  }
  classifier = register_module("classifier", mlp(fused, hidden, num_answers, dropout));
}

void VQAModel::check_inputs(const Tensor& images, const Tensor& tokens) const {
  LOOM_CHECK(images.defined() && tokens.defined() && images.dim() == 4 && tokens.dim() == 2 &&
                 images.size(0) == tokens.size(0) && images.size(0) > 0,
             "VQAModel: expected images [B, C, H, W] and tokens [B, L] with the same B >= 1, got images ",
             images.defined() ? images.sizes() : Shape{}, " and tokens ", tokens.defined() ? tokens.sizes() : Shape{});
}

JointFeatures VQAModel::encode(const Tensor& images, const Tensor& tokens) const {
  check_inputs(images, tokens);
  JointFeatures f;
  if (fusion == "film" || fusion == "cross_attention") f.image = img->forward_features(images);
  else f.image = img->forward(images);
  if (fusion == "cross_attention") {
    TextSequence s = txt->forward_sequence(tokens);
    f.text = s.states;
    f.text_padding_mask = s.padding_mask;
  } else {
    f.text = txt->forward(tokens);
  }
  if (is_training() && modality_dropout > 0) {
    auto [keep_image, keep_text] =
        modality_dropout_masks(images.size(0), modality_dropout, TensorOptions(f.image.dtype(), f.image.device()));
    f.image = f.image * row_mask(keep_image, f.image.dim());
    f.text = f.text * row_mask(keep_text, f.text.dim());
  }
  return f;
}

Tensor VQAModel::classify(const JointFeatures& f) const {
  LOOM_CHECK(f.image.defined() && f.text.defined(), "VQAModel: classify needs both image and text features");
  if (fusion == "late") {
    auto& late = static_cast<const LateFusion&>(*fuse);
    return late.forward(img_head->forward(f.image), txt_head->forward(f.text));
  }
  Tensor z;
  if (fusion == "concat") {
    z = static_cast<const ConcatFusion&>(*fuse).forward(f.image, f.text);
  } else if (fusion == "gated") {
    z = static_cast<const GatedFusion&>(*fuse).forward(image_proj->forward(f.image), text_proj->forward(f.text));
  } else if (fusion == "bilinear") {
    z = static_cast<const BilinearPooling&>(*fuse).forward(f.image, f.text);
  } else if (fusion == "film") {
    z = img->global_pool(film_map(static_cast<const FiLM&>(*fuse), f.image, f.text).relu());
  } else {  // cross_attention
    LOOM_CHECK(f.image.dim() == 4, "VQAModel: cross_attention expected a feature map [B, C, h, w], got ",
               f.image.sizes());
    Tensor cells = image_proj->forward(f.image.flatten(2).transpose(1, 2));  // [B, h w, hidden]
    if (pos_proj)
      cells = cells + pos_proj->forward(fourier_positions(f.image.size(2), f.image.size(3),
                                                          TensorOptions(cells.dtype(), cells.device())));
    auto [y, w] = cross_attend(static_cast<const CrossAttentionFusion&>(*fuse), text_proj->forward(f.text), cells);
    last_attention_ = w.detach();
    if (f.text_padding_mask.defined()) {
      Tensor keep = f.text_padding_mask.logical_not().to(y.dtype()).unsqueeze(2);  // [B, L, 1]
      z = (y * keep).sum({1}) / keep.sum({1}).clamp(1.0);
    } else {
      z = y.mean({1});
    }
  }
  return classifier->forward(z);
}

Tensor VQAModel::forward(const Tensor& images, const Tensor& tokens) const { return classify(encode(images, tokens)); }

std::string VQAModel::extra_repr() const {
  return "fusion=" + fusion + ", hidden=" + std::to_string(hidden) + ", num_answers=" + std::to_string(num_answers) +
         ", dropout=" + fmt(dropout) + ", modality_dropout=" + fmt(modality_dropout) +
         (position == "none" ? "" : ", position=" + position);
}

// ---------------------------------------------------------------- DualEncoder

DualEncoder::DualEncoder(nn::AnyModule ie, int64_t idim, std::shared_ptr<TextEncoder> te, int64_t E, double T,
                         double max_scale_in)
    : nn::Module("DualEncoder"), image_dim(idim), embed_dim(E), max_scale(max_scale_in) {
  LOOM_CHECK_VALUE(ie.module && ie.forward && te,
                   "DualEncoder: the image and text encoders must be given (got a null "
                   "encoder)");
  LOOM_CHECK_VALUE(image_dim > 0 && embed_dim >= 0, "DualEncoder: expected image_dim > 0 and embed_dim >= 0, got ",
                   image_dim, " and ", embed_dim);
  LOOM_CHECK_VALUE(T > 0 && max_scale > 0, "DualEncoder: temperature and max_scale must be positive, got ", T, " and ",
                   max_scale);
  LOOM_CHECK_VALUE(embed_dim > 0 || image_dim == te->dim(),
                   "DualEncoder: embed_dim = 0 (no projections) needs "
                   "encoders of the same width, got image ",
                   image_dim, " and text ", te->dim());
  register_parameter("logit_scale", full({}, std::log(1.0 / T)));
  img = register_module("img", ie.module);
  image_forward_ = std::move(ie.forward);
  txt = register_module("txt", std::move(te));
  if (embed_dim > 0) {
    img_proj = register_module("img_proj", std::make_shared<nn::Linear>(image_dim, embed_dim, false));
    txt_proj = register_module("txt_proj", std::make_shared<nn::Linear>(txt->dim(), embed_dim, false));
  }
}

DualEncoder::DualEncoder(std::shared_ptr<VGGEncoder> ie, std::shared_ptr<TextEncoder> te, int64_t E, double T,
                         double ms)
    : DualEncoder(nn::AnyModule(ie), ie ? ie->dim : 1, std::move(te), E, T, ms) {}

DualEncoder::DualEncoder(std::shared_ptr<ImageEncoder> ie, std::shared_ptr<TextEncoder> te, int64_t E, double T,
                         double ms)
    : DualEncoder(nn::AnyModule(ie), ie ? ie->proj->out_features : 1, std::move(te), E, T, ms) {}

DualEncoder::DualEncoder(const ImageEncoderConfig& image, const TextEncoderConfig& text, int64_t E, double T, double ms)
    : DualEncoder(make_image_encoder(image), make_text_encoder(text), E, T, ms) {}

Tensor DualEncoder::logit_scale() const { return param("logit_scale").clamp(std::nullopt, std::log(max_scale)); }

Tensor DualEncoder::encode_image(const Tensor& images) const {
  Tensor z = image_forward_(images);
  LOOM_CHECK(z.dim() == 2 && z.size(1) == image_dim, "DualEncoder: the image encoder (", img->type_name(),
             ") returned shape ", z.sizes(), ", expected [B, ", image_dim, "]");
  return F::normalize(img_proj ? img_proj->forward(z) : z, 2.0, 1);
}

Tensor DualEncoder::encode_text(const Tensor& tokens) const {
  Tensor z = txt->forward(tokens);
  return F::normalize(txt_proj ? txt_proj->forward(z) : z, 2.0, 1);
}

void DualEncoder::check_pair(const Tensor& images, const Tensor& tokens) const {
  LOOM_CHECK(images.defined() && tokens.defined() && images.dim() >= 1 && tokens.dim() >= 1 &&
                 images.size(0) == tokens.size(0) && images.size(0) > 0,
             "DualEncoder: expected images [B, C, H, W] and tokens [B, L] with the same B >= 1, got images ",
             images.defined() ? images.sizes() : Shape{}, " and tokens ", tokens.defined() ? tokens.sizes() : Shape{});
}

Tensor DualEncoder::forward(const Tensor& images, const Tensor& tokens) const {
  check_pair(images, tokens);
  return clip_loss(encode_image(images), encode_text(tokens), logit_scale());
}

Tensor DualEncoder::logits(const Tensor& images, const Tensor& tokens) const {
  return encode_image(images).matmul(encode_text(tokens).t()) * logit_scale().exp();
}

std::string DualEncoder::extra_repr() const {
  return "image_dim=" + std::to_string(image_dim) + ", embed_dim=" + std::to_string(embed_dim);
}

// ---------------------------------------------------------------- MultimodalLoss

MultimodalLoss::MultimodalLoss(double w_task, double w_inter, double w_intra, double T)
    : nn::Module("MultimodalLoss"), task(w_task), inter(w_inter), intra(w_intra), temperature(T) {
  LOOM_CHECK_VALUE(task >= 0 && inter >= 0 && intra >= 0 && task + inter + intra > 0,
                   "MultimodalLoss: weights must be >= 0 and not all 0, got task ", task, ", inter ", inter, ", intra ",
                   intra);
  LOOM_CHECK_VALUE(temperature > 0, "MultimodalLoss: temperature must be positive, got ", temperature);
}

MultimodalLossOutput MultimodalLoss::forward(const MultimodalLossInputs& in) const {
  const Tensor* ref = nullptr;
  for (const Tensor* t : {&in.logits, &in.image, &in.text, &in.image_view, &in.text_view})
    if (!ref && t->defined()) ref = t;
  LOOM_CHECK(ref, "MultimodalLoss: no inputs given");
  const TensorOptions o(ref->dtype(), ref->device());
  Tensor scale = in.logit_scale.defined() ? in.logit_scale : full({}, std::log(1.0 / temperature), o);
  auto contrast = [&](const char* term, const char* na, const Tensor& a, const char* nb, const Tensor& b) {
    LOOM_CHECK(a.dim() == 2 && b.sizes() == a.sizes() && a.size(0) > 0, "MultimodalLoss: the ", term, " term expected ",
               na, " and ", nb, " of the same shape [B, E], got ", a.sizes(), " and ", b.sizes());
    return clip_loss(F::normalize(a, 2.0, 1), F::normalize(b, 2.0, 1), scale);
  };
  MultimodalLossOutput out;
  out.task = out.inter = out.intra = zeros({}, o);
  out.total = zeros({}, o);
  if (task > 0) {
    LOOM_CHECK(in.logits.defined() && in.targets.defined(), "MultimodalLoss: the task term (weight ", task,
               ") needs logits and targets");
    out.task = F::cross_entropy(in.logits, in.targets);
    out.total = out.total + out.task * task;
  }
  if (inter > 0) {
    LOOM_CHECK(in.image.defined() && in.text.defined(), "MultimodalLoss: the inter term (weight ", inter,
               ") needs image and text embeddings");
    out.inter = contrast("inter", "image", in.image, "text", in.text);
    out.total = out.total + out.inter * inter;
  }
  if (intra > 0) {
    const bool img_views = in.image.defined() && in.image_view.defined();
    const bool txt_views = in.text.defined() && in.text_view.defined();
    LOOM_CHECK(img_views || txt_views, "MultimodalLoss: the intra term (weight ", intra,
               ") needs image and image_view, or text and text_view");
    if (img_views) out.intra = contrast("intra", "image", in.image, "image_view", in.image_view);
    if (txt_views) out.intra = out.intra + contrast("intra", "text", in.text, "text_view", in.text_view);
    if (img_views && txt_views) out.intra = out.intra * 0.5;
    out.total = out.total + out.intra * intra;
  }
  return out;
}

std::string MultimodalLoss::extra_repr() const {
  return "task=" + fmt(task) + ", inter=" + fmt(inter) + ", intra=" + fmt(intra) + ", temperature=" + fmt(temperature);
}

}  // namespace loom::multimodal
