// The configurable models of multimodal/models.h: shapes for each encoder
// configuration and fusion, padding invariance of the text encoders, errors
// naming the model and the bad value, gradients reaching both encoders (and
// float64 gradchecks of the feature-map fusions), modality dropout, the
// attention maps of cross-attention, a VQA model that memorises a toy mapping,
// the dual encoder (and CLIP as one configuration of it) and the combined loss.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops/fusion.h"
#include "multimodal/models.h"
#include "nn/functional/losses.h"
#include "nn/optim/adam.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;

namespace {

constexpr int64_t M = VGGEncoder::kPool;

std::vector<std::string> keys(const nn::Module& m) {
  std::vector<std::string> out;
  for (auto& kv : m.state_dict()) out.push_back(kv.first);
  return out;
}

bool has_key(const nn::Module& m, const std::string& k) {
  for (auto& s : keys(m))
    if (s == k) return true;
  return false;
}

Tensor ids(const std::vector<int64_t>& v, int64_t B) { return from_vector(v, {B, int64_t(v.size()) / B}); }

// True when some parameter under `prefix` got a gradient with a nonzero entry.
bool has_nonzero_grad(const nn::Module& m, const std::string& prefix) {
  for (auto& kv : m.named_parameters())
    if (kv.first.rfind(prefix, 0) == 0 && kv.second.grad().defined() && kv.second.grad().abs().sum().item<double>() > 0)
      return true;
  return false;
}

std::shared_ptr<VGGEncoder> small_vgg(int64_t dim = 16) {
  return std::make_shared<VGGEncoder>(std::vector<int64_t>{8, M, 16, M}, 3, dim);
}

std::shared_ptr<TextEncoder> small_rnn(int64_t dim = 16) {
  return std::make_shared<RNNTextEncoder>(50, 8, 12, 1, "lstm", false, dim);
}

const char* kFusions[] = {"concat", "gated", "film", "bilinear", "cross_attention", "late"};

}  // namespace

TEST_CASE("models VGGEncoder: shapes, children and configurations", "[multimodal][models]") {
  manual_seed(0);
  VGGEncoder e({8, 8, M, 16, M}, 3, 24);
  Tensor x = randn({2, 3, 16, 12});
  CHECK(e.forward_features(x).sizes() == Shape{2, 16, 4, 3});
  CHECK(e.forward(x).sizes() == Shape{2, 24});
  CHECK(e.channels == 16);
  // torchvision's numbering: conv, norm, act per block, then the pool; convs before a BatchNorm have no bias.
  CHECK(has_key(e, "features.0.weight"));
  CHECK_FALSE(has_key(e, "features.0.bias"));
  CHECK(has_key(e, "features.1.running_mean"));
  CHECK(has_key(e, "features.3.weight"));
  CHECK(has_key(e, "proj.weight"));
  CHECK(e.extra_repr().find("spec=[8, 8, M, 16, M]") != std::string::npos);

  VGGEncoder plain({4, M, 6}, 1, 5, "none", "gelu", "max");
  CHECK(has_key(plain, "features.0.bias"));
  Tensor g = randn({3, 1, 7, 9});
  CHECK(plain.forward_features(g).sizes() == Shape{3, 6, 3, 4});
  // pool = "max": forward is proj of the spatial max of the feature map.
  Tensor f = plain.forward_features(g);
  test::check_close(plain.forward(g), plain.proj->forward(f.amax({2, 3})));
}

TEST_CASE("models VGGEncoder: bad configurations and inputs name the model and the value", "[multimodal][models]") {
  using loom::test::check_error;
  check_error([] { VGGEncoder({8, -3}); }, {"VGGEncoder", "entry 1", "-3"});
  check_error([] { VGGEncoder({M, M}); }, {"VGGEncoder", "no convolution"});
  check_error([] { VGGEncoder(std::vector<int64_t>{}); }, {"VGGEncoder", "no convolution"});
  check_error([] { VGGEncoder({8}, 3, 16, "layer"); }, {"VGGEncoder", "norm", "layer"});
  check_error([] { VGGEncoder({8}, 3, 16, "batch", "tanh"); }, {"VGGEncoder", "act", "tanh"});
  check_error([] { VGGEncoder({8}, 3, 16, "batch", "relu", "sum"); }, {"VGGEncoder", "pool", "sum"});
  check_error([] { VGGEncoder({8}, 0, 16); }, {"VGGEncoder", "in_channels"});
  CHECK(test::error_kind([] { VGGEncoder({8}, 3, 16, "layer"); }) == ErrorKind::Value);
  VGGEncoder e({4, M, 4, M, 4, M});
  check_error([&] { e.forward(randn({2, 3, 4, 16})); }, {"VGGEncoder", "8x8", "[2, 3, 4, 16]"});
  check_error([&] { e.forward(randn({2, 1, 16, 16})); }, {"VGGEncoder", "[2, 1, 16, 16]"});
}

TEST_CASE("models RNNTextEncoder: configurations, padding invariance and masks", "[multimodal][models]") {
  manual_seed(1);
  Tensor full = ids({5, 7, 9, 3, 0, 0, 0, 0, /**/ 4, 4, 0, 2, 8, 6, 0, 0}, 2);  // right-padded; a 0 inside row 1
  Tensor trimmed = ids({5, 7, 9, 3, 0, 0, /**/ 4, 4, 0, 2, 8, 6}, 2);
  for (const char* cell : {"lstm", "gru"})
    for (bool bidir : {false, true})
      for (const char* pool : {"last", "mean"}) {
        INFO(cell << " bidirectional " << bidir << " pool " << pool);
        RNNTextEncoder e(20, 6, 5, 2, cell, bidir, 7, pool);
        const int64_t D = bidir ? 2 : 1;
        CHECK(e.dim() == 7);
        CHECK(e.sequence_dim() == 5 * D);
        Tensor y = e.forward(full);
        CHECK(y.sizes() == Shape{2, 7});
        // Padding past the last token changes nothing, whatever its amount.
        test::check_close(y, e.forward(trimmed), 1e-5, 1e-4);
        TextSequence s = e.forward_sequence(full);
        CHECK(s.states.sizes() == Shape{2, 8, 5 * D});
        CHECK(s.padding_mask.to(DType::Int64).to_vector() ==
              std::vector<double>{0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1});
        CHECK(s.states.select(0, 0).narrow(0, 4, 4).abs().sum().item<double>() == 0);
        // A row of padding alone pools to zeros: proj sees 0 and returns its bias.
        test::check_close(e.forward(zeros({1, 3}, TensorOptions(DType::Int64))).select(0, 0), e.proj->bias());
      }
  RNNTextEncoder e;
  CHECK(has_key(e, "rnn.weight_ih_l0"));
  CHECK(has_key(e, "emb.weight"));
  // padding_idx 0: the padding row of the embedding is zero.
  CHECK(e.emb->param("weight").select(0, 0).abs().sum().item<double>() == 0);
}

TEST_CASE("models RNNTextEncoder: bad configurations name the model and the value", "[multimodal][models]") {
  using loom::test::check_error;
  check_error([] { RNNTextEncoder(10, 8, 8, 1, "rnn"); }, {"RNNTextEncoder", "cell", "rnn"});
  check_error([] { RNNTextEncoder(10, 8, 8, 1, "lstm", false, 8, "max"); }, {"RNNTextEncoder", "pool", "max"});
  check_error([] { RNNTextEncoder(10, 8, 8, 0); }, {"RNNTextEncoder", "layers", "0"});
  check_error([] { RNNTextEncoder(0, 8, 8); }, {"RNNTextEncoder", "vocab"});
  RNNTextEncoder e(10, 4, 4, 1);
  check_error([&] { e.forward(randn({2, 3})); }, {"RNNTextEncoder", "float32"});
  check_error([] { make_text_encoder(TextEncoderConfig{"cnn"}); }, {"text encoder", "cnn"});
}

TEST_CASE("models TransformerTextEncoder: mask_padding and forward_sequence", "[multimodal][models]") {
  manual_seed(2);
  TransformerTextEncoder masked(30, 16, 1, 2, 12, true), plain(30, 16, 1, 2, 12);
  Tensor full = ids({5, 7, 9, 0, 0, 0, /**/ 4, 4, 2, 8, 6, 0}, 2),
         trimmed = ids({5, 7, 9, 0, 0, /**/ 4, 4, 2, 8, 6}, 2);
  masked.load_state_dict(plain.state_dict());
  test::check_close(masked.forward(full), masked.forward(trimmed), 1e-5, 1e-4);
  TextSequence s = masked.forward_sequence(full);
  CHECK(s.states.sizes() == Shape{2, 6, 16});
  CHECK(s.padding_mask.to(DType::Int64).to_vector() == std::vector<double>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1});
  // Without mask_padding every position is a token (the SPEC fixture), and the mask says so.
  CHECK(plain.forward_sequence(full).padding_mask.to(DType::Int64).sum().item<int64_t>() == 0);
  test::check_close(plain.forward(full), plain.proj->forward(plain.forward_sequence(full).states.mean({1})));
  // A sample of padding alone stays finite.
  CHECK(std::isfinite(masked.forward(zeros({1, 4}, TensorOptions(DType::Int64))).sum().item<double>()));
}

TEST_CASE("models VQAModel: every fusion gives [B, answers] and trains both encoders", "[multimodal][models]") {
  manual_seed(3);
  const int64_t B = 3, A = 5;
  Tensor images = randn({B, 3, 8, 8});
  Tensor tokens = ids({3, 4, 5, 6, 0, /**/ 7, 8, 0, 0, 0, /**/ 9, 9, 9, 9, 9}, B);
  for (const char* fusion : kFusions) {
    INFO(fusion);
    VQAModel model(small_vgg(), small_rnn(), fusion, 16, A, 0.1, 0.0, 2);
    Tensor logits = model.forward(images, tokens);
    CHECK(logits.sizes() == Shape{B, A});
    nn::functional::cross_entropy(logits, from_vector<int64_t>({0, 1, 4}, {B})).backward();
    CHECK(has_nonzero_grad(model, "img."));
    CHECK(has_nonzero_grad(model, "txt."));
    CHECK(model.last_attention().defined() == (std::string(fusion) == "cross_attention"));
  }
  // Transformer text and GRU / bidirectional configurations through the config structs.
  ImageEncoderConfig ic;
  ic.spec = {8, M};
  ic.dim = 12;
  ic.norm = "none";
  for (const char* type : {"transformer", "gru"}) {
    INFO(type);
    TextEncoderConfig tc;
    tc.type = type;
    tc.vocab = 20;
    tc.dim = 8;
    tc.hidden = 6;
    tc.embed_dim = 4;
    tc.bidirectional = true;
    tc.max_len = 8;
    tc.heads = 2;
    for (const char* fusion : {"gated", "cross_attention"}) {
      VQAModel model(ic, tc, fusion, 8, 3, 0.0, 0.0, 2);
      CHECK(model.forward(images, tokens).sizes() == Shape{B, 3});
    }
  }
}

TEST_CASE("models VQAModel: cross-attention weights are kept and sum to 1 over the image cells",
          "[multimodal][models]") {
  manual_seed(4);
  VQAModel model(small_vgg(), small_rnn(), "cross_attention", 16, 4, 0.0, 0.0, 4);
  Tensor images = randn({2, 3, 12, 8}), tokens = ids({1, 2, 3, 0, /**/ 4, 5, 6, 7}, 2);
  model.forward(images, tokens);
  Tensor w = model.last_attention();
  CHECK(w.sizes() == Shape{2, 4, 4, 3 * 2});  // [B, heads, L, h w]: 12x8 halved twice
  CHECK_FALSE(w.requires_grad());
  test::check_close(w.sum({3}), ones({2, 4, 4}), 1e-5);
  CHECK(w.min().item<double>() >= 0);
}

TEST_CASE("models VQAModel: float64 gradients of the map fusions match finite differences", "[multimodal][models]") {
  manual_seed(13);
  Tensor tokens = ids({3, 4, 0, /**/ 5, 6, 7}, 2);
  for (const char* fusion : {"film", "cross_attention"}) {
    INFO(fusion);
    VQAModel model(std::make_shared<VGGEncoder>(std::vector<int64_t>{3, M}, 3, 4, "none"), small_rnn(6), fusion, 4, 3,
                   0.0, 0.0, 2);
    model.to(DType::Float64);
    test::check_grad([&](const TensorList& in) { return model.forward(in[0], tokens); }, {test::leaf({2, 3, 4, 4})});
  }
}

TEST_CASE("models VQAModel: fourier cell positions make cross-attention see where a cell is", "[multimodal][models]") {
  manual_seed(21);
  Tensor tokens = ids({3, 4, 0, /**/ 5, 6, 7}, 2);
  Tensor map = randn({2, 16, 3, 4});  // a feature map [B, C, h, w]
  Tensor flipped = map.index_select(3, from_vector(std::vector<int64_t>{3, 2, 1, 0}, {4}));
  for (const char* position : {"none", "fourier"}) {
    INFO(position);
    VQAModel model(small_vgg(), small_rnn(), "cross_attention", 16, 4, 0.0, 0.0, 2, position);
    model.eval();
    CHECK(has_key(model, "pos_proj.weight") == (std::string(position) == "fourier"));
    const TextSequence seq = model.txt->forward_sequence(tokens);
    const Tensor a = model.classify({map, seq.states, seq.padding_mask});
    const Tensor b = model.classify({flipped, seq.states, seq.padding_mask});
    // Attention over cells is blind to their order unless the cells carry their position.
    const double diff = (a - b).abs().max().item<double>();
    if (std::string(position) == "none") CHECK(diff < 1e-5);
    else CHECK(diff > 1e-3);
  }
  VQAModel model(std::make_shared<VGGEncoder>(std::vector<int64_t>{3, M}, 3, 4, "none"), small_rnn(6),
                 "cross_attention", 4, 3, 0.0, 0.0, 2, "fourier");
  model.to(DType::Float64);
  test::check_grad([&](const TensorList& in) { return model.forward(in[0], tokens); }, {test::leaf({2, 3, 4, 6})});
  CHECK(model.repr().find("position=fourier") != std::string::npos);
}

TEST_CASE("models VQAModel: bad configurations and inputs name the model and the value", "[multimodal][models]") {
  using loom::test::check_error;
  check_error([] { VQAModel(small_vgg(), small_rnn(), "sum"); }, {"VQAModel", "sum", "cross_attention"});
  check_error([] { VQAModel(small_vgg(), small_rnn(), "cross_attention", 10, 4, 0.0, 0.0, 4); },
              {"VQAModel", "heads 4", "hidden 10"});
  check_error([] { VQAModel(small_vgg(), small_rnn(), "concat", 16, 0); }, {"VQAModel", "num_answers"});
  check_error([] { VQAModel(small_vgg(), small_rnn(), "concat", 16, 4, 1.5); }, {"VQAModel", "dropout", "1.5"});
  check_error([] { VQAModel(small_vgg(), small_rnn(), "concat", 16, 4, 0.0, -0.1); },
              {"VQAModel", "modality_dropout", "-0.1"});
  check_error([] { VQAModel(small_vgg(), nullptr); }, {"VQAModel", "null"});
  check_error([] { VQAModel(small_vgg(), small_rnn(), "cross_attention", 16, 4, 0.0, 0.0, 4, "rope"); },
              {"VQAModel", "position", "rope", "fourier"});
  check_error([] { VQAModel(small_vgg(), small_rnn(), "concat", 16, 4, 0.0, 0.0, 4, "fourier"); },
              {"VQAModel", "fourier", "cross_attention", "concat"});
  VQAModel model(small_vgg(), small_rnn());
  check_error([&] { model.forward(randn({2, 3, 8, 8}), ids({1, 2, 3}, 3)); }, {"VQAModel", "[2, 3, 8, 8]", "[3, 1]"});
}

TEST_CASE("models modality dropout: one modality per sample in training, none in eval", "[multimodal][models]") {
  manual_seed(5);
  VQAModel model(small_vgg(), small_rnn(), "concat", 16, 4, 0.0, /*modality_dropout=*/1.0);
  const int64_t B = 8;
  Tensor images = randn({B, 3, 8, 8}), tokens = randint(1, 50, {B, 6});
  JointFeatures f = model.encode(images, tokens);
  int image_dropped = 0, text_dropped = 0;
  for (int64_t b = 0; b < B; ++b) {
    const bool zi = f.image.select(0, b).abs().sum().item<double>() == 0;
    const bool zt = f.text.select(0, b).abs().sum().item<double>() == 0;
    CHECK(zi != zt);  // p = 1: exactly one of the two
    image_dropped += zi;
    text_dropped += zt;
  }
  CHECK(image_dropped + text_dropped == B);
  model.eval();
  JointFeatures e = model.encode(images, tokens);
  CHECK(e.image.abs().sum({1}).min().item<double>() > 0);
  CHECK(e.text.abs().sum({1}).min().item<double>() > 0);
  // Maps and sequences are zeroed whole as well (cross_attention reads the feature map and the states).
  VQAModel ca(small_vgg(), small_rnn(), "cross_attention", 16, 4, 0.0, 1.0, 2);
  JointFeatures c = ca.encode(images, tokens);
  for (int64_t b = 0; b < B; ++b)
    CHECK((c.image.select(0, b).abs().sum().item<double>() == 0) !=
          (c.text.select(0, b).abs().sum().item<double>() == 0));
  // The rates: p per sample, image and text equally likely, never both.
  auto [ki, kt] = modality_dropout_masks(20000, 0.3, TensorOptions(DType::Float32));
  const double di = 1 - ki.mean().item<double>(), dt = 1 - kt.mean().item<double>();
  CHECK(std::abs(di + dt - 0.3) < 0.02);
  CHECK(std::abs(di - dt) < 0.02);
  CHECK((ki + kt).min().item<double>() >= 1);
  auto [ni, nt] = modality_dropout_masks(100, 0.0, TensorOptions(DType::Float32));
  CHECK(ni.min().item<double>() == 1);
  CHECK(nt.min().item<double>() == 1);
  loom::test::check_error([] { modality_dropout_masks(4, 1.5, {}); }, {"modality_dropout_masks", "1.5"});
}

TEST_CASE("models VQAModel: learns a 4-example toy mapping in 50 steps", "[multimodal][models]") {
  for (const char* fusion : {"concat", "cross_attention"}) {
    INFO(fusion);
    manual_seed(6);
    VQAModel model(small_vgg(), small_rnn(), fusion, 32, 4, 0.0, 0.0, 2);
    // Answer = f(image, question): two images x two questions, four distinct answers.
    Tensor pics = randn({2, 3, 8, 8});
    Tensor images = stack({pics.select(0, 0), pics.select(0, 0), pics.select(0, 1), pics.select(0, 1)});
    Tensor tokens = ids({3, 4, 5, 0, /**/ 6, 7, 0, 0, /**/ 3, 4, 5, 0, /**/ 6, 7, 0, 0}, 4);
    Tensor answers = from_vector<int64_t>({0, 1, 2, 3}, {4});
    auto o = optim::AdamW::default_options();
    o.lr = 1e-2;
    optim::AdamW opt(model.parameters(), o);
    double loss = 0;
    for (int step = 0; step < 50; ++step) {
      opt.zero_grad();
      Tensor l = nn::functional::cross_entropy(model.forward(images, tokens), answers);
      l.backward();
      opt.step();
      loss = l.item<double>();
    }
    INFO("final loss " << loss);
    CHECK(loss < 0.1);
    model.eval();
    CHECK(model.forward(images, tokens).argmax(1).to_vector() == std::vector<double>{0, 1, 2, 3});
  }
}

TEST_CASE("models DualEncoder: normalised embeddings, clamped scale, a loss that decreases", "[multimodal][models]") {
  manual_seed(7);
  DualEncoder model(small_vgg(24), small_rnn(20), 16);
  CHECK(keys(model).front() == "logit_scale");
  CHECK(has_key(model, "img_proj.weight"));
  CHECK_FALSE(has_key(model, "img_proj.bias"));
  const int64_t B = 6;
  Tensor images = randn({B, 3, 8, 8}), tokens = randint(1, 50, {B, 5});
  Tensor a = model.encode_image(images), b = model.encode_text(tokens);
  CHECK(a.sizes() == Shape{B, 16});
  test::check_close(a.norm(2.0, {1}), ones({B}), 1e-5);
  test::check_close(b.norm(2.0, {1}), ones({B}), 1e-5);
  CHECK(std::abs(model.logit_scale().item<double>() - std::log(1 / 0.07)) < 1e-6);
  CHECK(model.logits(images, tokens.narrow(0, 0, 4)).sizes() == Shape{B, 4});
  test::check_close(model.forward(images, tokens), clip_loss(a, b, model.param("logit_scale")), 1e-5);

  auto o = optim::AdamW::default_options();
  o.lr = 3e-3;
  optim::AdamW opt(model.parameters(), o);
  double first = 0, last = 0;
  for (int step = 0; step < 25; ++step) {
    opt.zero_grad();
    Tensor l = model.forward(images, tokens);
    l.backward();
    opt.step();
    (step == 0 ? first : last) = l.item<double>();
  }
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.5 * first);

  // The clamp: a scale above 100 is used as 100.
  {
    autograd::NoGradGuard ng;
    model.param("logit_scale").fill_(10.0);
  }
  CHECK(std::abs(model.logit_scale().item<double>() - std::log(100.0)) < 1e-6);
}

TEST_CASE("models DualEncoder: CLIP(\"transformer\") is one configuration of it", "[multimodal][models]") {
  manual_seed(8);
  CLIP clip("transformer");
  DualEncoder dual(std::make_shared<ImageEncoder>(256), std::make_shared<TransformerTextEncoder>(), 0);
  CHECK(keys(dual) == keys(clip));
  dual.load_state_dict(clip.state_dict());
  Tensor images = randn({3, 3, 8, 8}), tokens = randint(0, 1000, {3, 32});
  CHECK(std::abs(dual.forward(images, tokens).item<double>() - clip.forward(images, tokens).item<double>()) < 1e-6);
}

TEST_CASE("models DualEncoder: bad configurations name the model and the value", "[multimodal][models]") {
  using loom::test::check_error;
  check_error([] { DualEncoder(small_vgg(24), small_rnn(20), 0); }, {"DualEncoder", "embed_dim = 0", "24", "20"});
  check_error([] { DualEncoder(small_vgg(), small_rnn(), 8, -1.0); }, {"DualEncoder", "temperature", "-1"});
  check_error([] { DualEncoder(small_vgg(), nullptr, 8); }, {"DualEncoder", "null"});
  DualEncoder d(small_vgg(), small_rnn(), 8);
  check_error(
      [&] {
        d.forward(randn({2, 3, 8, 8}), randint(1, 9, {3, 4}));
      },
      {"DualEncoder", "[2, 3, 8, 8]", "[3, 4]"});
}

TEST_CASE("models MultimodalLoss: weighted parts, missing inputs", "[multimodal][models]") {
  namespace F = nn::functional;
  manual_seed(9);
  const int64_t B = 5;
  MultimodalLossInputs in;
  in.logits = randn({B, 3});
  in.targets = from_vector<int64_t>({0, 1, 2, 1, 0}, {B});
  in.image = randn({B, 8});
  in.text = randn({B, 8});
  in.image_view = in.image + randn({B, 8}) * 0.1;
  in.text_view = in.text + randn({B, 8}) * 0.1;
  MultimodalLoss loss(1.0, 0.5, 0.25, 0.1);
  MultimodalLossOutput out = loss.forward(in);
  Tensor s = full({}, std::log(10.0));
  auto c = [&](const Tensor& a, const Tensor& b) {
    return clip_loss(F::normalize(a, 2.0, 1), F::normalize(b, 2.0, 1), s).item<double>();
  };
  const double task = F::cross_entropy(in.logits, in.targets).item<double>();
  const double inter = c(in.image, in.text);
  const double intra = 0.5 * (c(in.image, in.image_view) + c(in.text, in.text_view));
  CHECK(std::abs(out.task.item<double>() - task) < 1e-5);
  CHECK(std::abs(out.inter.item<double>() - inter) < 1e-5);
  CHECK(std::abs(out.intra.item<double>() - intra) < 1e-5);
  CHECK(std::abs(out.total.item<double>() - (task + 0.5 * inter + 0.25 * intra)) < 1e-5);
  // A given logit_scale replaces the temperature; a weight of 0 leaves its term out.
  in.logit_scale = full({}, 0.0);
  MultimodalLossOutput only = MultimodalLoss(0.0, 1.0, 0.0).forward(in);
  CHECK(only.task.item<double>() == 0);
  CHECK(only.intra.item<double>() == 0);
  CHECK(std::abs(
            only.total.item<double>() -
            clip_loss(F::normalize(in.image, 2.0, 1), F::normalize(in.text, 2.0, 1), in.logit_scale).item<double>()) <
        1e-5);

  using loom::test::check_error;
  check_error([] { MultimodalLoss(0, 0, 0); }, {"MultimodalLoss", "not all 0"});
  check_error([] { MultimodalLoss(1, -1, 0); }, {"MultimodalLoss", "inter -1"});
  MultimodalLossInputs task_only;
  task_only.logits = in.logits;
  task_only.targets = in.targets;
  check_error([&] { loss.forward(task_only); }, {"MultimodalLoss", "inter", "image and text"});
  MultimodalLossInputs bad = in;
  bad.text = randn({B, 7});
  check_error([&] { MultimodalLoss(0, 1, 0).forward(bad); }, {"MultimodalLoss", "[5, 8]", "[5, 7]"});
}

TEST_CASE("models: VQAModel and DualEncoder steps on CUDA match the CPU", "[multimodal][models][cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  auto compare = [&](nn::Module& cpu_model, nn::Module& gpu_model,
                     const std::function<Tensor(nn::Module&, Device)>& loss) {
    gpu_model.load_state_dict(cpu_model.state_dict());
    gpu_model.to(gpu);
    Tensor lc = loss(cpu_model, Device()), lg = loss(gpu_model, gpu);
    CHECK(std::abs(lg.item<double>() - lc.item<double>()) < 1e-4);
    lc.backward();
    lg.backward();
    auto pc = cpu_model.named_parameters(), pg = gpu_model.named_parameters();
    REQUIRE(pc.size() == pg.size());
    for (size_t i = 0; i < pc.size(); ++i) {
      INFO(pc[i].first);
      // Parameters a fusion leaves unused (the encoder's proj for "film") get no gradient on either device.
      REQUIRE(pg[i].second.grad().defined() == pc[i].second.grad().defined());
      if (pc[i].second.grad().defined()) test::check_close(pg[i].second.grad().cpu(), pc[i].second.grad(), 1e-4, 1e-3);
    }
  };
  manual_seed(12);
  Tensor images = randn({4, 3, 8, 8}), tokens = ids({3, 4, 5, 0, 6, 7, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}, 4);
  Tensor answers = from_vector<int64_t>({0, 1, 2, 3}, {4});
  for (const char* fusion : kFusions) {
    INFO(fusion);
    VQAModel c(small_vgg(), small_rnn(), fusion, 16, 4, 0.0, 0.0, 2),
        g(small_vgg(), small_rnn(), fusion, 16, 4, 0.0, 0.0, 2);
    compare(c, g, [&](nn::Module& m, Device d) {
      return nn::functional::cross_entropy(static_cast<VQAModel&>(m).forward(images.to(d), tokens.to(d)),
                                           answers.to(d));
    });
  }
  DualEncoder c(small_vgg(), small_rnn(), 8), g(small_vgg(), small_rnn(), 8);
  compare(c, g,
          [&](nn::Module& m, Device d) { return static_cast<DualEncoder&>(m).forward(images.to(d), tokens.to(d)); });
}
