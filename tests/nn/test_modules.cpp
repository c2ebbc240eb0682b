// Each module against its functional composition, PyTorch's parameter names/shapes/default init, gradchecks.
#include <cmath>

#include "autograd/ops/conv.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/fusion.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/pool.h"

#include "nn/nn.h"
#include "test_util.h"

using namespace loom;
using namespace loom::nn;

namespace {
std::vector<std::pair<std::string, Shape>> shapes(const Module& m) {
  std::vector<std::pair<std::string, Shape>> out;
  for (auto& kv : m.state_dict()) out.emplace_back(kv.first, kv.second.sizes());
  return out;
}
const TensorOptions f64(DType::Float64);
}  // namespace

TEST_CASE("Linear: names, init bounds, forward, gradcheck", "[nn]") {
  manual_seed(1);
  Linear lin(64, 32);
  CHECK(shapes(lin) == std::vector<std::pair<std::string, Shape>>{{"weight", {32, 64}}, {"bias", {32}}});
  double bound = 1.0 / std::sqrt(64.0);  // kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(in), 1/sqrt(in))
  CHECK(lin.weight().abs().max().item<double>() <= bound);
  CHECK(lin.weight().abs().max().item<double>() > 0.9 * bound);
  CHECK(lin.bias().abs().max().item<double>() <= bound);
  Tensor x = randn({5, 64});
  test::check_close(lin.forward(x), x.matmul(lin.weight().t()) + lin.bias(), 1e-5);
  CHECK_THROWS_AS(lin.forward(randn({5, 63})), Error);
  CHECK(Linear(3, 4, false).state_dict().size() == 1);

  Linear small(3, 2, true, f64);
  Tensor xi = test::leaf({4, 3});
  test::check_grad([&](const TensorList& in) { return small.forward(in[0]); }, {xi});
  auto params = small.parameters();
  test::check_grad([&](const TensorList& in) { return loom::linear(xi.detach(), in[0], in[1]); }, params);
}

TEST_CASE("Bilinear: names, forward against the einsum", "[nn]") {
  Bilinear bl(3, 4, 2, true, f64);
  CHECK(shapes(bl) == std::vector<std::pair<std::string, Shape>>{{"weight", {2, 3, 4}}, {"bias", {2}}});
  Tensor a = randn({5, 3}, f64), b = randn({5, 4}, f64);
  Tensor y = bl.forward(a, b);
  REQUIRE(y.sizes() == Shape{5, 2});
  auto W = bl.param("weight").to_vector(), B = bl.param("bias").to_vector();
  auto av = a.to_vector(), bv = b.to_vector();
  std::vector<double> ref(10);
  for (int n = 0; n < 5; ++n)
    for (int o = 0; o < 2; ++o) {
      double s = B[o];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) s += av[n * 3 + i] * W[(o * 3 + i) * 4 + j] * bv[n * 4 + j];
      ref[n * 2 + o] = s;
    }
  test::check_close(y, ref, 1e-10);
  Tensor ai = test::leaf({2, 3}), bi = test::leaf({2, 4});
  test::check_grad([&](const TensorList& in) { return bl.forward(in[0], in[1]); }, {ai, bi});
}

TEST_CASE("Conv1d/Conv2d: names, shapes, init, forward, gradcheck", "[nn]") {
  Conv2d conv(4, 6, {3}, {1}, {1}, {1}, 2);
  CHECK(shapes(conv) == std::vector<std::pair<std::string, Shape>>{{"weight", {6, 2, 3, 3}}, {"bias", {6}}});
  double bound = 1.0 / std::sqrt(2.0 * 9);
  CHECK(conv.param("weight").abs().max().item<double>() <= bound);
  CHECK(conv.param("bias").abs().max().item<double>() <= bound);
  Tensor x = randn({2, 4, 5, 5});
  test::check_close(conv.forward(x), loom::conv2d(x, conv.param("weight"), conv.param("bias"), {1}, {1}, {1}, 2));
  CHECK(conv.extra_repr() == "4, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=2");

  Conv1d c1(2, 3, 3, 2, 1, 1, 1, true, f64);
  CHECK(shapes(c1) == std::vector<std::pair<std::string, Shape>>{{"weight", {3, 2, 3}}, {"bias", {3}}});
  Tensor xi = test::leaf({1, 2, 7});
  test::check_grad([&](const TensorList& in) { return c1.forward(in[0]); }, {xi});
  Conv2d c2(1, 2, {2, 3}, {1}, {0}, {1}, 1, false, f64);
  CHECK(c2.state_dict().size() == 1);
  Tensor x2 = test::leaf({1, 1, 4, 4});
  test::check_grad([&](const TensorList& in) { return c2.forward(in[0]); }, {x2});
}

TEST_CASE("LayerNorm: names, init, forward, gradcheck", "[nn]") {
  LayerNorm ln({4}, 1e-5, true, true, f64);
  CHECK(shapes(ln) == std::vector<std::pair<std::string, Shape>>{{"weight", {4}}, {"bias", {4}}});
  CHECK(ln.param("weight").sum().item<double>() == 4.0);
  CHECK(ln.param("bias").abs().sum().item<double>() == 0.0);
  CHECK(ln.extra_repr() == "(4,), eps=1e-05, elementwise_affine=True");
  Tensor x = randn({3, 4}, f64);
  Tensor mu = x.mean({-1}, true), var = x.var({-1}, false, true);
  test::check_close(ln.forward(x), (x - mu) / (var + 1e-5).sqrt(), 1e-10);
  init::normal_(ln.param("weight"));
  init::normal_(ln.param("bias"));
  Tensor xi = test::leaf({2, 4});
  test::check_grad([&](const TensorList& in) { return ln.forward(in[0]); }, {xi});
  CHECK(LayerNorm({2, 3}, 1e-5, false).state_dict().empty());
}

TEST_CASE("BatchNorm: buffers, running stats, train/eval", "[nn]") {
  BatchNorm1d bn(3, 1e-5, 0.1, true, true, f64);
  CHECK(shapes(bn) ==
        std::vector<std::pair<std::string, Shape>>{
            {"weight", {3}}, {"bias", {3}}, {"running_mean", {3}}, {"running_var", {3}}, {"num_batches_tracked", {}}});
  CHECK(bn.state_dict()[4].second.dtype() == DType::Int64);
  CHECK(bn.named_parameters().size() == 2);
  Tensor x = randn({8, 3}, f64) * 2 + 1;
  Tensor y = bn.forward(x);
  Tensor mu = x.mean({0}), var_b = x.var({0}, false), var_u = x.var({0}, true);
  test::check_close(y, (x - mu) / (var_b + 1e-5).sqrt(), 1e-8);
  test::check_close(bn.buffer("running_mean"), mu * 0.1, 1e-10);
  test::check_close(bn.buffer("running_var"), var_u * 0.1 + 0.9, 1e-10);
  CHECK(bn.buffer("num_batches_tracked").item<int64_t>() == 1);
  bn.eval();
  Tensor rm = bn.buffer("running_mean").clone(), rv = bn.buffer("running_var").clone();
  test::check_close(bn.forward(x), (x - rm) / (rv + 1e-5).sqrt(), 1e-8);
  CHECK(bn.buffer("num_batches_tracked").item<int64_t>() == 1);

  BatchNorm2d bn2(2);
  CHECK_THROWS_AS(bn2.forward(randn({2, 2, 3})), Error);
  Tensor x4 = randn({2, 2, 3, 3});
  test::check_close(bn2.forward(x4), loom::batch_norm(x4, Tensor(), Tensor(), {}, {}, true), 1e-5);
  BatchNorm1d cma(2, 1e-5, std::nullopt);
  cma.forward(randn({4, 2}));
  Tensor xb = randn({4, 2});
  cma.forward(xb);
  CHECK(cma.buffer("num_batches_tracked").item<int64_t>() == 2);
}

TEST_CASE("Embedding, Dropout, activations, Flatten, Identity, pools", "[nn]") {
  manual_seed(3);
  Embedding emb(1000, 64, 0);
  CHECK(shapes(emb) == std::vector<std::pair<std::string, Shape>>{{"weight", {1000, 64}}});
  CHECK(emb.weight().select(0, 0).abs().sum().item<double>() == 0.0);
  test::check_close(emb.weight().std().item<double>(), 1.0, 0, 0.03);
  Tensor idx = from_vector<int64_t>({1, 5, 0, 7}, {2, 2});
  test::check_close(emb.forward(idx), loom::embedding(idx, emb.weight()));
  CHECK(Embedding(10, 3, -1).padding_idx == 9);

  Dropout d(0.5);
  Tensor x = ones({1000});
  Tensor y = d.forward(x);
  double kept = y.ne(0.0).sum().item<double>();
  CHECK(kept > 400);
  CHECK(kept < 600);
  CHECK(y.max().item<double>() == 2.0);  // 1 / (1 - 0.5) is exact
  d.eval();
  test::check_close(d.forward(x), x);
  CHECK_THROWS_AS(Dropout(1.5), Error);

  Tensor z = randn({2, 3, 4});
  test::check_close(ReLU().forward(z), z.relu());
  test::check_close(GELU("tanh").forward(z), z.gelu("tanh"));
  test::check_close(SiLU().forward(z), z.silu());
  test::check_close(Sigmoid().forward(z), z.sigmoid());
  test::check_close(Tanh().forward(z), z.tanh());
  test::check_close(Softmax(1).forward(z), z.softmax(1));
  CHECK(Flatten().forward(z).sizes() == Shape{2, 12});
  CHECK(Flatten(0, 1).forward(z).sizes() == Shape{6, 4});
  CHECK(Identity().forward(z).is_same(z));
  CHECK_THROWS_AS(GELU("bad"), Error);

  Tensor im = randn({1, 2, 6, 6});
  test::check_close(MaxPool2d({2}).forward(im), loom::max_pool2d(im, {2}));
  test::check_close(AvgPool2d({3}, {1}, {1}).forward(im), loom::avg_pool2d(im, {3}, {1}, {1}));
  CHECK(AdaptiveAvgPool2d({1, 1}).forward(im).sizes() == Shape{1, 2, 1, 1});
  test::check_close(AdaptiveAvgPool2d({1}).forward(im).flatten(), im.mean({2, 3}).flatten());
  CHECK(MaxPool2d({2}).extra_repr() == "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False");
}

TEST_CASE("Modules: a small CNN trains one step end to end", "[nn]") {
  manual_seed(4);
  Sequential net{std::make_shared<Conv2d>(1, 4, Dims{3}, Dims{1}, Dims{1}),
                 std::make_shared<BatchNorm2d>(4),
                 std::make_shared<ReLU>(),
                 std::make_shared<MaxPool2d>(Dims{2}),
                 std::make_shared<Flatten>(),
                 std::make_shared<Linear>(4 * 4 * 4, 3)};
  std::vector<std::string> expected = {
      "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
      "5.weight", "5.bias"};
  std::vector<std::string> got;
  for (auto& kv : net.state_dict()) got.push_back(kv.first);
  CHECK(got == expected);
  Tensor x = randn({2, 1, 8, 8});
  Tensor loss = net.forward(x).square().mean();
  loss.backward();
  for (auto& p : net.parameters()) CHECK(p.grad().defined());
}

TEST_CASE("LSTM/GRU/cells: PyTorch parameter names, shapes, init, forward", "[nn]") {
  LSTM lstm(3, 4, 2, true, true, 0.0, true);
  std::vector<std::string> names;
  for (auto& kv : lstm.state_dict()) names.push_back(kv.first);
  CHECK(names == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                          "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                                          "bias_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1",
                                          "bias_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
                                          "bias_ih_l1_reverse", "bias_hh_l1_reverse"});
  CHECK(lstm.param("weight_ih_l1").sizes() == Shape{16, 8});
  for (auto& p : lstm.parameters()) CHECK(p.abs().max().item<double>() <= 0.5);
  Tensor x = randn({2, 5, 3});
  auto o = lstm.forward(x);
  CHECK(o.output.sizes() == Shape{2, 5, 8});
  CHECK(o.h_n.sizes() == Shape{4, 2, 4});
  CHECK(o.c_n.sizes() == Shape{4, 2, 4});
  test::check_close(o.output.select(1, 4).narrow(1, 0, 4), o.h_n.select(0, 2));

  LSTMCell cell(3, 4);
  LSTM one(3, 4, 1, true, true);
  one.load_state_dict({{"weight_ih_l0", cell.param("weight_ih")},
                       {"weight_hh_l0", cell.param("weight_hh")},
                       {"bias_ih_l0", cell.param("bias_ih")},
                       {"bias_hh_l0", cell.param("bias_hh")}});
  auto [h1, c1] = cell.forward(x.select(1, 0));
  auto o1 = one.forward(x.narrow(1, 0, 1));
  test::check_close(o1.h_n.select(0, 0), h1);
  test::check_close(o1.c_n.select(0, 0), c1);

  GRU gru(3, 4, 2, true, false, 0.5);
  auto g = gru.forward(randn({5, 2, 3}));  // training with dropout: layer by layer
  CHECK(g.output.sizes() == Shape{5, 2, 4});
  CHECK(g.h_n.sizes() == Shape{2, 2, 4});
  GRUCell gc(3, 4, false);
  CHECK(gc.state_dict().size() == 2);
  CHECK(gc.forward(randn({2, 3})).sizes() == Shape{2, 4});

  for (const char* nl : {"tanh", "relu"}) {
    RNN rnn(3, 4, 2, nl, true, true, 0.0, true);
    CHECK(rnn.param("weight_ih_l1_reverse").sizes() == Shape{4, 8});
    auto r = rnn.forward(x);
    CHECK(r.output.sizes() == Shape{2, 5, 8});
    CHECK(r.h_n.sizes() == Shape{4, 2, 4});
    CHECK_FALSE(r.c_n.defined());
    // the last layer's forward direction ends where its output does
    test::check_close(r.output.select(1, 4).narrow(1, 0, 4), r.h_n.select(0, 2));
    // one step of a one-layer RNN is its cell
    RNNCell rc(3, 4, true, nl);
    RNN r1(3, 4, 1, nl, true, true);
    r1.load_state_dict({{"weight_ih_l0", rc.param("weight_ih")},
                        {"weight_hh_l0", rc.param("weight_hh")},
                        {"bias_ih_l0", rc.param("bias_ih")},
                        {"bias_hh_l0", rc.param("bias_hh")}});
    Tensor h = rc.forward(x.select(1, 0));
    test::check_close(r1.forward(x.narrow(1, 0, 1)).h_n.select(0, 0), h);
    if (std::string(nl) == "relu") CHECK(h.min().item<double>() >= 0.0);
  }
  CHECK_THROWS_AS(RNN(3, 4, 1, "sigmoid"), Error);
}

TEST_CASE("MultiheadAttention and TransformerEncoder: names, masks, weights path == sdpa path", "[nn]") {
  const int64_t E = 8, H = 2;
  MultiheadAttention mha(E, H, 0.0, true, true);
  std::vector<std::string> names;
  for (auto& kv : mha.state_dict()) names.push_back(kv.first);
  CHECK(names == std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"});
  CHECK(mha.param("in_proj_bias").abs().sum().item<double>() == 0.0);
  CHECK(mha.param("in_proj_weight").abs().max().item<double>() <= std::sqrt(6.0 / (E + 3 * E)));
  Tensor x = randn({2, 5, E});
  Tensor kpm = from_vector<int64_t>({0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, {2, 5}).ne(0);
  Tensor causal = ones({5, 5}).matmul(ones({5, 5})).gt(100.0);  // all false
  auto [ow, w] = mha.forward(x, x, x, kpm, true, causal);
  auto [of, none] = mha.forward(x, x, x, kpm, false, causal);
  CHECK_FALSE(none.defined());
  REQUIRE(w.sizes() == Shape{2, 5, 5});
  test::check_close(ow, of, 1e-5);
  CHECK(w.select(0, 1).narrow(1, 3, 2).abs().sum().item<double>() == 0.0);
  test::check_close(w.sum({-1}), ones({2, 5}), 1e-6);

  TransformerEncoderLayerOptions o;
  o.d_model = E;
  o.nhead = H;
  o.dim_feedforward = 16;
  o.dropout = 0.0;
  o.batch_first = true;
  TransformerEncoder enc(o, 2, true);
  names.clear();
  for (auto& kv : enc.state_dict()) names.push_back(kv.first);
  REQUIRE(names.size() == 26);
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 12) ==
        std::vector<std::string>{"layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                                 "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias",
                                 "layers.0.linear1.weight", "layers.0.linear1.bias", "layers.0.linear2.weight",
                                 "layers.0.linear2.bias", "layers.0.norm1.weight", "layers.0.norm1.bias",
                                 "layers.0.norm2.weight", "layers.0.norm2.bias"});
  CHECK(names.back() == "norm.bias");
  auto layer = enc.layers->at<TransformerEncoderLayer>(0);
  Tensor y = layer->forward(x, {}, kpm);
  Tensor h = layer->norm1->forward(x + layer->self_attn->forward(x, x, x, kpm, false).first);
  Tensor ref = layer->norm2->forward(h + layer->linear2->forward(layer->linear1->forward(h).relu()));
  test::check_close(y, ref, 1e-5);
  Tensor out = enc.forward(x, {}, kpm);
  out.sum().backward();
  for (auto& p : enc.parameters()) CHECK(p.grad().defined());
}

TEST_CASE("nn: the parameterized activation modules and their functional forms", "[nn]") {
  namespace F = loom::nn::functional;
  Tensor z = randn({2, 3, 4}) * 4.0;
  test::check_close(LeakyReLU(0.2).forward(z), F::leaky_relu(z, 0.2));
  test::check_close(ELU(0.5).forward(z), F::elu(z, 0.5));
  test::check_close(CELU(2.0).forward(z), F::celu(z, 2.0));
  test::check_close(SELU().forward(z), F::selu(z));
  test::check_close(Softplus(2.0, 3.0).forward(z), F::softplus(z, 2.0, 3.0));
  test::check_close(Hardtanh(-0.5, 2.0).forward(z), F::hardtanh(z, -0.5, 2.0));
  test::check_close(ReLU6().forward(z), F::relu6(z));
  test::check_close(ReLU6().forward(z), z.clamp(std::optional<Scalar>(0.0), std::optional<Scalar>(6.0)));
  test::check_close(Hardsigmoid().forward(z), F::hardsigmoid(z));
  test::check_close(Hardswish().forward(z), z * F::hardsigmoid(z));
  test::check_close(Mish().forward(z), z * F::softplus(z).tanh());
  test::check_close(LogSigmoid().forward(z), F::logsigmoid(z));
  test::check_close(LogSigmoid().forward(z), z.sigmoid().log(), 1e-5, 1e-6);
  test::check_close(Softsign().forward(z), z / (z.abs() + 1.0));
  test::check_close(Tanhshrink().forward(z), z - z.tanh());
  test::check_close(Hardshrink(1.0).forward(z), F::hardshrink(z, 1.0));
  test::check_close(Softshrink(1.0).forward(z), F::softshrink(z, 1.0));
  test::check_close(Threshold(0.1, 20.0).forward(z), F::threshold(z, 0.1, 20.0));
  CHECK(LeakyReLU().extra_repr() == "negative_slope=0.01");
  CHECK(ELU().extra_repr() == "alpha=1.0");
  CHECK(Softplus().extra_repr() == "beta=1.0, threshold=20.0");
  CHECK(Hardtanh().extra_repr() == "min_val=-1.0, max_val=1.0");
  CHECK(Hardshrink().extra_repr() == "0.5");
  CHECK(Threshold(0.1, 20.0).extra_repr() == "threshold=0.1, value=20.0");
  CHECK(LeakyReLU(1e-5).extra_repr() == "negative_slope=1e-05");
  CHECK(Softshrink(0.25).extra_repr() == "0.25");
  CHECK(CELU(-2.5).extra_repr() == "alpha=-2.5");
  CHECK(Mish().extra_repr().empty());
  CHECK_THROWS_AS(Hardtanh(1.0, 1.0), Error);
  CHECK_THROWS_AS(F::celu(z, 0.0), Error);
  CHECK_THROWS_AS(F::softshrink(z, -1.0), Error);
  CHECK_THROWS_AS(F::mish(z.to(DType::Int64)), Error);
}
