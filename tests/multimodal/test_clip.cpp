// The CLIP-style dual encoders of multimodal/clip.h: parameter counts and
// state_dict names as PyTorch's torch_reference.py models produce them, shapes,
// the fused loss against one composed by hand, memorisation of a few pairs
// with AdamW, and the errors for bad input.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/ops/loss.h"
#include "multimodal/clip.h"
#include "nn/functional/losses.h"
#include "nn/optim/adam.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;

namespace {

std::vector<std::string> keys(const nn::Module& m) {
  std::vector<std::string> out;
  for (auto& kv : m.state_dict()) out.push_back(kv.first);
  return out;
}

const std::vector<std::string> kImageKeys = {
    "img.convs.0.weight", "img.convs.0.bias",   "img.convs.1.weight", "img.convs.1.bias", "img.convs.2.weight",
    "img.convs.2.bias",   "img.convs.3.weight", "img.convs.3.bias",   "img.proj.weight",  "img.proj.bias"};

std::vector<std::string> transformer_keys() {
  std::vector<std::string> k = {"logit_scale"};
  k.insert(k.end(), kImageKeys.begin(), kImageKeys.end());
  k.push_back("txt.pos");
  k.push_back("txt.emb.weight");
  for (const char* layer : {"txt.tr.layers.0.", "txt.tr.layers.1."})
    for (const char* name : {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                             "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                             "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"})
      k.push_back(std::string(layer) + name);
  k.push_back("txt.proj.weight");
  k.push_back("txt.proj.bias");
  return k;
}

std::vector<std::string> lstm_keys() {
  std::vector<std::string> k = {"logit_scale"};
  k.insert(k.end(), kImageKeys.begin(), kImageKeys.end());
  for (const char* name : {"txt.emb.weight", "txt.lstm.weight_ih_l0", "txt.lstm.weight_hh_l0", "txt.lstm.bias_ih_l0",
                           "txt.lstm.bias_hh_l0", "txt.proj.weight", "txt.proj.bias"})
    k.push_back(name);
  return k;
}

Tensor tokens(int64_t B, int64_t L) { return randint(0, 1000, {B, L}); }

// The SPEC loss composed from generic ops on the model's own embeddings.
double reference_loss(const CLIP& model, const Tensor& images, const Tensor& toks) {
  namespace F = nn::functional;
  Tensor a = F::normalize(model.encode_image(images), 2.0, 1);
  Tensor b = F::normalize(model.encode_text(toks), 2.0, 1);
  Tensor logits = a.matmul(b.t()) * model.param("logit_scale").exp();
  Tensor labels = arange(images.size(0), TensorOptions(DType::Int64));
  return ((cross_entropy(logits, labels) + cross_entropy(logits.t(), labels)) * 0.5).item<double>();
}

}  // namespace

TEST_CASE("multimodal CLIP: parameter counts of SPEC.md", "[multimodal]") {
  CHECK(CLIP("transformer").num_parameters() == 2363713);
  CHECK(CLIP("lstm").num_parameters() == 1302337);
  CHECK(ImageEncoder().num_parameters() == 454208);
}

TEST_CASE("multimodal CLIP: state_dict keys and shapes as PyTorch's", "[multimodal]") {
  CLIP tr("transformer"), ls("lstm");
  CHECK(keys(tr) == transformer_keys());
  CHECK(keys(ls) == lstm_keys());
  auto sd = tr.state_dict();
  auto shape_of = [&](const std::string& k) {
    for (auto& kv : sd)
      if (kv.first == k) return kv.second.sizes();
    FAIL("missing key " << k);
    return Shape{};
  };
  CHECK(shape_of("logit_scale") == Shape{});
  CHECK(shape_of("img.convs.0.weight") == Shape{32, 3, 3, 3});
  CHECK(shape_of("img.convs.3.weight") == Shape{256, 128, 3, 3});
  CHECK(shape_of("txt.pos") == Shape{32, 256});
  CHECK(shape_of("txt.tr.layers.1.self_attn.in_proj_weight") == Shape{768, 256});
  CHECK(shape_of("txt.tr.layers.0.linear1.weight") == Shape{1024, 256});
  CHECK(std::abs(tr.logit_scale().item<double>() - std::log(1 / 0.07)) < 1e-6);
  // pos ~ N(0, 0.02^2): 8192 draws put the sample std well within 10 %.
  const double s = std::sqrt(tr.txt->param("pos").pow(2.0).mean().item<double>());
  CHECK(s > 0.018);
  CHECK(s < 0.022);
  // A checkpoint of one model loads into a fresh one by name (strict) and gives the same loss.
  CLIP copy("transformer");
  copy.load_state_dict(sd);
  Tensor images = randn({3, 3, 8, 8}), toks = tokens(3, 32);
  CHECK(copy.forward(images, toks).item<double>() == tr.forward(images, toks).item<double>());
}

TEST_CASE("multimodal CLIP: embedding and loss shapes; loss equals the composed reference", "[multimodal]") {
  manual_seed(3);
  for (const char* text : {"transformer", "lstm"}) {
    INFO(text);
    CLIP model(text);
    const int64_t B = 5;
    Tensor images = randn({B, 3, 16, 12});
    for (int64_t L : {32, 7}) {
      Tensor toks = tokens(B, L);
      CHECK(model.encode_image(images).sizes() == Shape{B, 256});
      CHECK(model.encode_text(toks).sizes() == Shape{B, 256});
      Tensor loss = model.forward(images, toks);
      CHECK(loss.dim() == 0);
      CHECK(std::abs(loss.item<double>() - reference_loss(model, images, toks)) < 1e-5);
    }
    model.forward(images, tokens(B, 32)).backward();
    for (auto& kv : model.named_parameters()) {
      INFO(kv.first);
      CHECK(kv.second.grad().defined());
    }
  }
}

TEST_CASE("multimodal CLIP: AdamW memorises 8 random pairs", "[multimodal]") {
  for (const char* text : {"transformer", "lstm"}) {
    INFO(text);
    manual_seed(7);
    CLIP model(text);
    auto o = optim::AdamW::default_options();
    o.lr = 1e-3;
    optim::AdamW opt(model.parameters(), o);
    Tensor images = randn({8, 3, 16, 16}), toks = tokens(8, 16);
    double first = 0, last = 0;
    for (int step = 0; step < 20; ++step) {
      opt.zero_grad();
      Tensor loss = model.forward(images, toks);
      loss.backward();
      opt.step();
      (step == 0 ? first : last) = loss.item<double>();
    }
    INFO("loss " << first << " -> " << last);
    CHECK(last < 0.25 * first);
  }
}

TEST_CASE("multimodal CLIP: bad input raises loom::Error naming the model and the shapes", "[multimodal]") {
  CLIP tr("transformer"), ls("lstm");
  Tensor images = randn({2, 3, 16, 16}), toks = tokens(2, 8);
  loom::test::check_error([&] { tr.forward(randn({2, 1, 16, 16}), toks); }, {"ImageEncoder", "[2, 1, 16, 16]"});
  loom::test::check_error([&] { tr.forward(randn({2, 3, 4, 4}), toks); }, {"ImageEncoder", "[2, 3, 4, 4]"});
  loom::test::check_error([&] { tr.forward(images, randn({2, 8})); }, {"TransformerTextEncoder", "float32", "[2, 8]"});
  loom::test::check_error([&] { ls.forward(images, randn({2, 8})); }, {"LSTMTextEncoder", "float32", "[2, 8]"});
  loom::test::check_error([&] { tr.forward(images, tokens(2, 33)); },
                          {"TransformerTextEncoder", "[2, 33]", "max_len 32"});
  loom::test::check_error([&] { ls.forward(images, tokens(2, 8).view({16})); }, {"CLIP", "[16]"});
  loom::test::check_error([&] { tr.forward(images, tokens(3, 8)); }, {"CLIP", "[2, 3, 16, 16]", "[3, 8]"});
  loom::test::check_error([&] { CLIP("gru"); }, {"CLIP", "gru"});
}

TEST_CASE("multimodal CLIP: a training step on CUDA matches the CPU", "[multimodal][cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  for (const char* text : {"transformer", "lstm"}) {
    INFO(text);
    manual_seed(11);
    CLIP cpu_model(text), gpu_model(text);
    gpu_model.load_state_dict(cpu_model.state_dict());
    gpu_model.to(gpu);
    Tensor images = randn({4, 3, 16, 16}), toks = tokens(4, 9);
    Tensor lc = cpu_model.forward(images, toks), lg = gpu_model.forward(images.to(gpu), toks.to(gpu));
    CHECK(std::abs(lg.item<double>() - lc.item<double>()) < 1e-4);
    lc.backward();
    lg.backward();
    auto pc = cpu_model.named_parameters(), pg = gpu_model.named_parameters();
    REQUIRE(pc.size() == pg.size());
    for (size_t i = 0; i < pc.size(); ++i) {
      INFO(pc[i].first);
      REQUIRE(pg[i].first == pc[i].first);
      test::check_close(pg[i].second.grad().cpu(), pc[i].second.grad(), 1e-4, 1e-3);
    }
  }
}
