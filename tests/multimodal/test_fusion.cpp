// The fusion modules of multimodal/fusion.h: parameter names and shapes, the
// Linear-style init (same draws as nn::Linear), forwards against compositions
// of generic ops written here (cat, matmul, sigmoid, softmax, a hand-made
// multi-head attention and layer norm) in float32, float64 gradchecks of every
// parameter and input, errors for bad input, and a gated-fusion model learning
// XOR, which no model linear in [a; b] can.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops/loss.h"
#include "multimodal/fusion.h"
#include "nn/init.h"
#include "nn/optim/adam.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;
using test::check_close;
using test::check_grad;

namespace {

using NamedShapes = std::vector<std::pair<std::string, Shape>>;

NamedShapes named_shapes(const nn::Module& m) {
  NamedShapes out;
  for (auto& kv : m.named_parameters()) out.emplace_back(kv.first, kv.second.sizes());
  return out;
}

// Non-trivial values everywhere (zero biases and unit LayerNorm weights would hide mistakes).
void randomize(nn::Module& m) {
  for (Tensor p : m.parameters()) nn::init::uniform_(p, -0.8, 0.8);
}

std::vector<double> values(const Tensor& t) { return t.to_vector(); }

// torch.nn.MultiheadAttention (batch-first, no masks other than an additive [B, Lk] one) from matmuls and softmax.
Tensor mha_ref(const nn::MultiheadAttention& m, const Tensor& x, const Tensor& ctx, const Tensor& additive_mask) {
  const int64_t E = m.embed_dim, H = m.num_heads, hd = E / H, B = x.size(0), Lq = x.size(1), Lk = ctx.size(1);
  const Tensor& W = m.param("in_proj_weight");
  const Tensor& c = m.param("in_proj_bias");
  auto split_heads = [&](const Tensor& t, int64_t i, int64_t L) {
    Tensor p = matmul(t, W.narrow(0, i * E, E).t()) + c.narrow(0, i * E, E);  // [B, L, E]
    return p.reshape({B, L, H, hd}).permute({0, 2, 1, 3});                    // [B, H, L, hd]
  };
  Tensor q = split_heads(x, 0, Lq), k = split_heads(ctx, 1, Lk), v = split_heads(ctx, 2, Lk);
  Tensor s = matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(hd)));
  if (additive_mask.defined()) s = s + additive_mask.reshape({B, 1, 1, Lk});
  Tensor o = matmul(s.softmax(-1), v).permute({0, 2, 1, 3}).reshape({B, Lq, E});
  return matmul(o, m.out_proj->param("weight").t()) + m.out_proj->param("bias");
}

Tensor layer_norm_ref(const nn::LayerNorm& n, const Tensor& x) {
  Tensor mu = x.mean({-1}, true);
  Tensor var = (x - mu).square().mean({-1}, true);
  return (x - mu) / (var + 1e-5).sqrt() * n.param("weight") + n.param("bias");
}

Tensor cross_attention_ref(const CrossAttentionFusion& m, const Tensor& x, const Tensor& ctx,
                           const Tensor& additive_mask = {}) {
  Tensor y = layer_norm_ref(*m.norm1, x + mha_ref(*m.attn, x, ctx, additive_mask));
  if (!m.ff1) return y;
  Tensor h = (matmul(y, m.ff1->param("weight").t()) + m.ff1->param("bias")).relu();
  return layer_norm_ref(*m.norm2, y + matmul(h, m.ff2->param("weight").t()) + m.ff2->param("bias"));
}

// Gradcheck of module.forward over both inputs and every parameter (the module must already be float64).
template <typename M>
void check_module_grad(const M& m, const Tensor& in1, const Tensor& in2) {
  TensorList inputs = {in1, in2};
  for (auto& p : m.parameters()) inputs.push_back(p);
  check_grad([&m](const TensorList& t) { return m.forward(t[0], t[1]); }, inputs);
}

const TensorOptions kF64(DType::Float64);

}  // namespace

TEST_CASE("multimodal fusion: parameter names and shapes", "[multimodal]") {
  CHECK(named_shapes(ConcatFusion(3, 4, 5)) == NamedShapes{{"weight", {5, 7}}, {"bias", {5}}});
  CHECK(named_shapes(ConcatFusion(3, 4, 5, 6)) ==
        NamedShapes{{"fc1.weight", {6, 7}}, {"fc1.bias", {6}}, {"fc2.weight", {5, 6}}, {"fc2.bias", {5}}});
  CHECK(named_shapes(GatedFusion(4)) == NamedShapes{{"weight", {4, 8}}, {"bias", {4}}});
  CHECK(named_shapes(FiLM(3, 5)) == NamedShapes{{"weight", {6, 5}}, {"bias", {6}}});
  CHECK(named_shapes(BilinearPooling(3, 4, 6, 2)) == NamedShapes{{"U", {6, 3}}, {"V", {6, 4}}, {"P", {2, 6}}});
  CHECK(named_shapes(LateFusion()) == NamedShapes{{"mix", {2}}});
  const NamedShapes attn_norm1 = {
      {"attn.in_proj_weight", {24, 8}}, {"attn.in_proj_bias", {24}}, {"attn.out_proj.weight", {8, 8}},
      {"attn.out_proj.bias", {8}},      {"norm1.weight", {8}},       {"norm1.bias", {8}}};
  NamedShapes full = attn_norm1;
  for (auto kv : NamedShapes{{"ff1.weight", {32, 8}},
                             {"ff1.bias", {32}},
                             {"ff2.weight", {8, 32}},
                             {"ff2.bias", {8}},
                             {"norm2.weight", {8}},
                             {"norm2.bias", {8}}})
    full.push_back(kv);
  CHECK(named_shapes(CrossAttentionFusion(8, 2)) == full);  // ff_dim defaults to 4 dim
  CHECK(named_shapes(CrossAttentionFusion(8, 2, 8, 0)) == attn_norm1);
  CrossAttentionFusion ca(8, 2, -1, 5);
  CHECK(ca.ff_dim == 5);
  CHECK(ca.ff1->param("weight").sizes() == Shape{5, 8});
  CHECK(ca.attn->batch_first);
}

TEST_CASE("multimodal fusion: init is torch.nn.Linear's (same draws), FiLM starts at gamma = 1", "[multimodal]") {
  auto same_as_linear = [](const nn::Module& m, const char* w, const char* b, int64_t in, int64_t out) {
    manual_seed(21);
    nn::Linear ref(in, out);
    CHECK(values(m.param(w)) == values(ref.param("weight")));
    if (b) CHECK(values(m.param(b)) == values(ref.param("bias")));
  };
  manual_seed(21);
  ConcatFusion cf(3, 4, 5);
  same_as_linear(cf, "weight", "bias", 7, 5);
  manual_seed(21);
  GatedFusion gf(4);
  same_as_linear(gf, "weight", "bias", 8, 4);
  manual_seed(21);
  FiLM film(3, 5);
  same_as_linear(film, "weight", nullptr, 5, 6);
  CHECK(values(film.param("bias")) == std::vector<double>{1, 1, 1, 0, 0, 0});
  // With a zero condition FiLM is the identity at init.
  Tensor x = randn({2, 3});
  CHECK(values(film.forward(x, zeros({2, 5}))) == values(x));

  manual_seed(22);
  BilinearPooling bp(3, 4, 6, 2);
  manual_seed(22);
  nn::Linear u(3, 6, false), v(4, 6, false), p(6, 2, false);
  CHECK(values(bp.param("U")) == values(u.param("weight")));
  CHECK(values(bp.param("V")) == values(v.param("weight")));
  CHECK(values(bp.param("P")) == values(p.param("weight")));

  LateFusion lf;
  CHECK(values(lf.weights()) == std::vector<double>{0.5, 0.5});
  Tensor la = randn({3, 4}), lb = randn({3, 4});
  check_close(lf.forward(la, lb), (la + lb) * 0.5, 1e-6, 1e-6);

  CrossAttentionFusion ca(8, 2);
  CHECK(values(ca.attn->param("in_proj_bias")) == std::vector<double>(24, 0.0));
  CHECK(values(ca.norm1->param("weight")) == std::vector<double>(8, 1.0));
  // kaiming_uniform_(a = sqrt(5)) on [32, 8]: bound 1 / sqrt(8).
  CHECK(ca.ff1->param("weight").abs().max().item<double>() <= 1.0 / std::sqrt(8.0));
}

TEST_CASE("multimodal fusion: forwards equal compositions of generic ops (float32)", "[multimodal]") {
  manual_seed(31);
  const int64_t B = 5;
  Tensor a = randn({B, 3}), b = randn({B, 4});

  SECTION("ConcatFusion == Linear on cat([a, b], 1), with and without the hidden layer") {
    ConcatFusion flat(3, 4, 6);
    randomize(flat);
    Tensor ab = cat({a, b}, 1);
    check_close(flat.forward(a, b), matmul(ab, flat.param("weight").t()) + flat.param("bias"), 1e-5, 1e-5);
    ConcatFusion mlp(3, 4, 6, 7);
    randomize(mlp);
    Tensor h = (matmul(ab, mlp.fc1->param("weight").t()) + mlp.fc1->param("bias")).relu();
    check_close(mlp.forward(a, b), matmul(h, mlp.fc2->param("weight").t()) + mlp.fc2->param("bias"), 1e-5, 1e-5);
  }
  SECTION("GatedFusion == sigmoid(cat W^T + c) a + (1 - g) b") {
    GatedFusion m(4);
    randomize(m);
    Tensor a4 = randn({B, 4});
    Tensor g = (matmul(cat({a4, b}, 1), m.param("weight").t()) + m.param("bias")).sigmoid();
    check_close(m.forward(a4, b), g * a4 + (1.0 - g) * b, 1e-5, 1e-5);
  }
  SECTION("FiLM == gamma x + beta with [gamma | beta] = cond W^T + c") {
    FiLM m(3, 4);
    randomize(m);
    Tensor p = matmul(b, m.param("weight").t()) + m.param("bias");
    check_close(m.forward(a, b), p.narrow(1, 0, 3) * a + p.narrow(1, 3, 3), 1e-5, 1e-5);
  }
  SECTION("BilinearPooling == ((a U^T) * (b V^T)) P^T") {
    BilinearPooling m(3, 4, 6, 2);
    randomize(m);
    Tensor ref = matmul(matmul(a, m.param("U").t()) * matmul(b, m.param("V").t()), m.param("P").t());
    check_close(m.forward(a, b), ref, 1e-5, 1e-5);
  }
  SECTION("LateFusion == softmax(mix)-weighted sum") {
    LateFusion m;
    randomize(m);
    Tensor la = randn({B, 3}), e = m.param("mix").exp();
    Tensor w = e / e.sum();
    check_close(m.forward(la, a), la * w.select(0, 0) + a * w.select(0, 1), 1e-5, 1e-5);
    test::check_close(m.weights().sum().item<double>(), 1.0, 0, test::kTightRtol);
  }
  SECTION("CrossAttentionFusion == hand-made attention + LayerNorm (+ feed-forward)") {
    Tensor x = randn({2, 3, 8}), ctx = randn({2, 5, 8});
    for (int64_t ff : {-1, 0}) {
      INFO("ff_dim " << ff);
      CrossAttentionFusion m(8, 2, 8, ff);
      randomize(m);
      Tensor y = m.forward(x, ctx);
      CHECK(y.sizes() == Shape{2, 3, 8});
      check_close(y, cross_attention_ref(m, x, ctx), 1e-5, 1e-5);
      // The same layer from loom's own modules, composed by hand.
      Tensor h = m.norm1->forward(x + m.attn->forward(x, ctx, ctx).first);
      if (m.ff1) h = m.norm2->forward(h + m.ff2->forward(m.ff1->forward(h).relu()));
      check_close(y, h, 1e-5, 1e-5);
    }
  }
}

TEST_CASE("multimodal fusion: CrossAttentionFusion padding mask", "[multimodal]") {
  manual_seed(32);
  CrossAttentionFusion m(4, 2, -1, 6);
  randomize(m);
  Tensor x = randn({2, 3, 4}), ctx = randn({2, 5, 4});
  Tensor pad = zeros({2, 5}, TensorOptions(DType::Bool));
  pad.narrow(0, 0, 1).narrow(1, 3, 2).fill_(true);  // sample 0: the last two context tokens are padding
  pad.narrow(0, 1, 1).narrow(1, 1, 1).fill_(true);  // sample 1: token 1
  Tensor additive = zeros({2, 5}).masked_fill(pad, -std::numeric_limits<double>::infinity());
  Tensor y = m.forward(x, ctx, pad);
  check_close(y, cross_attention_ref(m, x, ctx, additive), 1e-5, 1e-5);
  check_close(m.forward(x, ctx, additive), y, 1e-6, 1e-6);  // an additive float mask means the same
  // What sits under the padding cannot change the output.
  Tensor ctx2 = ctx.clone();
  ctx2.narrow(0, 0, 1).narrow(1, 3, 2).fill_(100.0);
  ctx2.narrow(0, 1, 1).narrow(1, 1, 1).fill_(-7.0);
  check_close(m.forward(x, ctx2, pad), y, 1e-6, 1e-6);
  // A sample whose context is all padding reads nothing from it: finite, and independent of that context.
  pad.narrow(0, 1, 1).fill_(true);
  Tensor y_all = m.forward(x, ctx, pad);
  for (double v : values(y_all)) CHECK(std::isfinite(v));
  check_close(m.forward(x, ctx2, pad), y_all, 1e-6, 1e-6);
}

TEST_CASE("multimodal fusion: float64 gradcheck of every parameter and input", "[multimodal]") {
  manual_seed(41);
  auto leaf = [](const Shape& s) { return test::leaf(s); };
  {
    ConcatFusion m(2, 3, 2);
    m.to(DType::Float64);
    check_module_grad(m, leaf({3, 2}), leaf({3, 3}));
    ConcatFusion mlp(2, 3, 2, 4);
    mlp.to(DType::Float64);
    check_module_grad(mlp, leaf({3, 2}), leaf({3, 3}));
  }
  {
    GatedFusion m(3);
    m.to(DType::Float64);
    check_module_grad(m, leaf({2, 3}), leaf({2, 3}));
  }
  {
    FiLM m(3, 2);
    m.to(DType::Float64);
    check_module_grad(m, leaf({2, 3}), leaf({2, 2}));
  }
  {
    BilinearPooling m(2, 3, 4, 2);
    m.to(DType::Float64);
    check_module_grad(m, leaf({3, 2}), leaf({3, 3}));
  }
  {
    LateFusion m;
    m.to(DType::Float64);
    randomize(m);
    check_module_grad(m, leaf({2, 3}), leaf({2, 3}));
  }
  for (int64_t ff : {3, 0}) {
    INFO("CrossAttentionFusion ff_dim " << ff);
    CrossAttentionFusion m(4, 2, -1, ff);
    m.to(DType::Float64);
    randomize(m);
    check_module_grad(m, leaf({2, 2, 4}), leaf({2, 3, 4}));
  }
}

TEST_CASE("multimodal fusion: bad input raises errors naming the module and the shapes", "[multimodal]") {
  ConcatFusion cf(3, 4, 5);
  loom::test::check_error(
      [&] {
        cf.forward(randn({2, 3}), randn({2, 5}));
      },
      {"ConcatFusion", "expected b of shape [B, 4]", "[2, 5]"});
  loom::test::check_error(
      [&] {
        cf.forward(randn({2, 3}), randn({3, 4}));
      },
      {"ConcatFusion", "[2, 3]", "[3, 4]", "same batch size"});
  loom::test::check_error(
      [&] {
        cf.forward(randn({2, 1, 3}), randn({2, 4}));
      },
      {"ConcatFusion", "expected a of shape [B, 3]", "[2, 1, 3]"});
  loom::test::check_error(
      [&] {
        cf.forward(randn({2, 3}, kF64), randn({2, 4}));
      },
      {"ConcatFusion", "float32", "float64"});

  GatedFusion gf(4);
  loom::test::check_error(
      [&] {
        gf.forward(randn({2, 4}), randn({2, 3}));
      },
      {"GatedFusion", "expected b of shape [B, 4]", "[2, 3]"});
  loom::test::check_error(
      [&] {
        gf.forward(randn({2, 4}), randn({5, 4}));
      },
      {"GatedFusion", "[2, 4]", "[5, 4]", "same batch size"});
  loom::test::check_error([&] { gf.forward(randn({4}), randn({4})); },
                          {"GatedFusion", "expected a of shape [B, 4]", "[4]"});

  FiLM film(3, 5);
  loom::test::check_error(
      [&] {
        film.forward(randn({2, 3}), randn({2, 4}));
      },
      {"FiLM", "expected cond of shape [B, 5]", "[2, 4]"});
  loom::test::check_error(
      [&] {
        film.forward(randn({2, 3}), randn({1, 5}));
      },
      {"FiLM", "[2, 3]", "[1, 5]", "same batch size"});
  loom::test::check_error(
      [&] {
        film.forward(randn({2, 3, 1}), randn({2, 5}));
      },
      {"FiLM", "expected x of shape [B, 3]"});

  BilinearPooling bp(3, 4, 6, 2);
  loom::test::check_error(
      [&] {
        bp.forward(randn({2, 2}), randn({2, 4}));
      },
      {"BilinearPooling", "expected a of shape [B, 3]", "[2, 2]"});
  loom::test::check_error([&] { bp.forward(randn({2, 3}), randn({3, 4})); }, {"BilinearPooling", "same batch size"});
  loom::test::check_error([&] { bp.forward(randn({2, 3}), randn({2, 4, 1})); }, {"BilinearPooling", "[2, 4, 1]"});

  LateFusion lf;
  loom::test::check_error(
      [&] {
        lf.forward(randn({2, 3}), randn({2, 4}));
      },
      {"LateFusion", "same shape [B, C]", "[2, 3]", "[2, 4]"});
  loom::test::check_error([&] { lf.forward(randn({6}), randn({6})); }, {"LateFusion", "[B, C]", "[6]"});
  loom::test::check_error(
      [&] {
        lf.forward(randn({2, 3}), randn({2, 3}, kF64));
      },
      {"LateFusion", "logits_b", "float64"});

  CrossAttentionFusion ca(4, 2);
  Tensor x = randn({2, 3, 4}), ctx = randn({2, 5, 4});
  loom::test::check_error(
      [&] {
        ca.forward(randn({2, 3, 5}), ctx);
      },
      {"CrossAttentionFusion", "expected x of shape [B, Lq, 4]", "[2, 3, 5]"});
  loom::test::check_error(
      [&] {
        ca.forward(x, randn({3, 5, 4}));
      },
      {"CrossAttentionFusion", "[2, 3, 4]", "[3, 5, 4]", "same batch size"});
  loom::test::check_error(
      [&] {
        ca.forward(x, randn({5, 4}));
      },
      {"CrossAttentionFusion", "expected context", "[5, 4]"});
  loom::test::check_error(
      [&] {
        ca.forward(x, ctx, zeros({2, 4}, TensorOptions(DType::Bool)));
      },
      {"CrossAttentionFusion", "context_padding_mask of shape [2, 5]", "[2, 4]"});
  loom::test::check_error(
      [&] {
        ca.forward(x, ctx, zeros({2, 5}, TensorOptions(DType::Int64)));
      },
      {"CrossAttentionFusion", "context_padding_mask", "int64"});

  loom::test::check_error([] { CrossAttentionFusion(4, 2, 6); },
                          {"CrossAttentionFusion", "kdim 6", "project the context"});
  loom::test::check_error([] { CrossAttentionFusion(6, 4); }, {"CrossAttentionFusion", "divisible"});
  loom::test::check_error([] { GatedFusion(0); }, {"GatedFusion", "positive"});
  loom::test::check_error([] { ConcatFusion(3, 4, 5, -1); }, {"ConcatFusion", "hidden >= 0"});
}

TEST_CASE("multimodal fusion: GatedFusion + Linear learns XOR of two modalities", "[multimodal]") {
  // Each modality carries one bit as a noisy embedding; the label is their XOR.
  // Any model linear in [a; b] scores a sum f(bit_a) + g(bit_b), which cannot
  // represent XOR; the gate multiplies the modalities and can.
  manual_seed(51);
  const int64_t N = 64, D = 4;
  Tensor bit_a = randint(0, 2, {N}), bit_b = randint(0, 2, {N});
  Tensor label = bit_a.ne(bit_b).to(DType::Int64);
  Tensor a = randn({2, D}).index_select(0, bit_a) + randn({N, D}) * 0.1;
  Tensor b = randn({2, D}).index_select(0, bit_b) + randn({N, D}) * 0.1;

  auto train = [&](const nn::Module& fusion, const std::function<Tensor()>& fused) {
    nn::Linear head(D, 2);
    TensorList params = fusion.parameters();
    for (auto& p : head.parameters()) params.push_back(p);
    optim::AdamOptions o;
    o.lr = 0.05;
    optim::Adam opt(params, o);
    Tensor loss;
    for (int step = 0; step < 200; ++step) {
      opt.zero_grad();
      loss = cross_entropy(head.forward(fused()), label);
      loss.backward();
      opt.step();
    }
    Tensor logits = head.forward(fused());
    const double accuracy = logits.argmax(1).eq(label).to(DType::Float64).mean().item<double>();
    return std::make_pair(cross_entropy(logits, label).item<double>(), accuracy);
  };

  GatedFusion gated(D);
  auto [gated_loss, gated_acc] = train(gated, [&] { return gated.forward(a, b); });
  INFO("gated fusion: loss " << gated_loss << ", accuracy " << gated_acc);
  CHECK(gated_acc == 1.0);
  CHECK(gated_loss < 0.05);

  ConcatFusion linear_only(D, D, D);
  auto [linear_loss, linear_acc] = train(linear_only, [&] { return linear_only.forward(a, b); });
  INFO("linear fusion: loss " << linear_loss << ", accuracy " << linear_acc);
  CHECK(linear_acc < 0.9);
  CHECK(linear_loss > 0.3);
}
