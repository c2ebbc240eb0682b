// nn::Module: registration, names (PyTorch's state_dict keys), modes, load_state_dict errors, init statistics.
#include <cmath>

#include "nn/nn.h"
#include "test_util.h"

using namespace loom;
using namespace loom::nn;

namespace {
std::vector<std::string> keys(const NamedTensors& v) {
  std::vector<std::string> out;
  for (auto& kv : v) out.push_back(kv.first);
  return out;
}

// torch: class Block(nn.Module): fc=Linear(4,8); norm=LayerNorm(8); bn=BatchNorm1d(8)
struct Block : Module {
  std::shared_ptr<Linear> fc;
  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<BatchNorm1d> bn;
  Block() : Module("Block") {
    fc = register_module("fc", std::make_shared<Linear>(4, 8));
    norm = register_module("norm", std::make_shared<LayerNorm>(Shape{8}));
    bn = register_module("bn", std::make_shared<BatchNorm1d>(8));
  }
  Tensor forward(const Tensor& x) { return bn->forward(norm->forward(fc->forward(x))); }
};

struct Net : Module {
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<Linear> head;
  Net() : Module("Net") {
    layers = register_module("layers", std::make_shared<ModuleList>());
    layers->push_back(std::make_shared<Block>());
    layers->push_back(std::make_shared<Block>());
    register_parameter("scale", ones({1}));
    register_buffer("steps", zeros({}, TensorOptions(DType::Int64)));
    head = register_module("head", std::make_shared<Linear>(8, 2, false));
  }
};
}  // namespace

TEST_CASE("Module: state_dict keys match PyTorch for a nested model", "[nn]") {
  Net net;
  // Keys PyTorch prints for the same model (parameters, then buffers, per module, in registration order).
  std::vector<std::string> expected = {"scale",
                                       "steps",
                                       "layers.0.fc.weight",
                                       "layers.0.fc.bias",
                                       "layers.0.norm.weight",
                                       "layers.0.norm.bias",
                                       "layers.0.bn.weight",
                                       "layers.0.bn.bias",
                                       "layers.0.bn.running_mean",
                                       "layers.0.bn.running_var",
                                       "layers.0.bn.num_batches_tracked",
                                       "layers.1.fc.weight",
                                       "layers.1.fc.bias",
                                       "layers.1.norm.weight",
                                       "layers.1.norm.bias",
                                       "layers.1.bn.weight",
                                       "layers.1.bn.bias",
                                       "layers.1.bn.running_mean",
                                       "layers.1.bn.running_var",
                                       "layers.1.bn.num_batches_tracked",
                                       "head.weight"};
  CHECK(keys(net.state_dict()) == expected);
  std::vector<std::string> params = {"scale",
                                     "layers.0.fc.weight",
                                     "layers.0.fc.bias",
                                     "layers.0.norm.weight",
                                     "layers.0.norm.bias",
                                     "layers.0.bn.weight",
                                     "layers.0.bn.bias",
                                     "layers.1.fc.weight",
                                     "layers.1.fc.bias",
                                     "layers.1.norm.weight",
                                     "layers.1.norm.bias",
                                     "layers.1.bn.weight",
                                     "layers.1.bn.bias",
                                     "head.weight"};
  CHECK(keys(net.named_parameters()) == params);
  CHECK(net.parameters().size() == params.size());
  CHECK(keys(net.named_parameters("", false)) == std::vector<std::string>{"scale"});
  CHECK(net.named_buffers().size() == 7);
  CHECK(net.num_parameters() == 1 + 2 * (32 + 8 + 8 + 8 + 8 + 8) + 16);
  auto mods = net.named_modules();
  REQUIRE(mods.size() == 11);
  CHECK(mods[0].first == "");
  CHECK(mods[1].first == "layers");
  CHECK(mods[2].first == "layers.0");
  CHECK(mods[3].first == "layers.0.fc");
  for (auto& p : net.parameters()) {
    CHECK(p.requires_grad());
    CHECK(p.is_leaf());
  }
}

TEST_CASE("Module: Sequential names and forward", "[nn]") {
  Sequential seq{std::make_shared<Linear>(3, 5), std::make_shared<ReLU>(), std::make_shared<Linear>(5, 2)};
  CHECK(keys(seq.state_dict()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  Tensor x = randn({4, 3});
  auto l0 = std::dynamic_pointer_cast<Linear>(seq[0]);
  auto l2 = std::dynamic_pointer_cast<Linear>(seq[2]);
  Tensor ref = l2->forward(l0->forward(x).relu());
  test::check_close(seq.forward(x), ref);
  ModuleDict d;
  d.insert("enc", std::make_shared<Linear>(2, 2));
  d.insert("dec", std::make_shared<Linear>(2, 3, false));
  CHECK(keys(d.state_dict()) == std::vector<std::string>{"enc.weight", "enc.bias", "dec.weight"});
  CHECK(d.contains("dec"));
  CHECK(d.keys() == std::vector<std::string>{"enc", "dec"});
}

TEST_CASE("Module: train/eval, zero_grad, apply, to(dtype)", "[nn]") {
  Net net;
  CHECK(net.is_training());
  net.eval();
  CHECK_FALSE(net.is_training());
  CHECK_FALSE(net.layers->at<Block>(1)->bn->is_training());
  net.train();
  CHECK(net.layers->at<Block>(0)->fc->is_training());

  Tensor x = randn({3, 4});
  Tensor y = net.layers->at<Block>(0)->forward(x).sum();
  y.backward();
  auto w = net.layers->at<Block>(0)->fc->weight();
  REQUIRE(w.grad().defined());
  net.zero_grad(false);
  CHECK(w.grad().abs().sum().item<double>() == 0.0);
  net.zero_grad();
  CHECK_FALSE(w.grad().defined());

  int count = 0;
  net.apply([&](Module& m) { count += m.type_name() == "Linear"; });
  CHECK(count == 3);

  // Already in place: the very same tensors stay (an optimizer holding them keeps working).
  auto before = net.parameters();
  net.to(Device(DeviceType::CPU));
  net.to(DType::Float32);
  auto after = net.parameters();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) CHECK(after[i].is_same(before[i]));

  net.to(DType::Float64);
  for (auto& p : net.parameters()) {
    CHECK(p.dtype() == DType::Float64);
    CHECK(p.requires_grad());
  }
  CHECK(net.state_dict()[1].second.dtype() == DType::Int64);  // integer buffers keep their dtype
  Tensor out = net.layers->at<Block>(0)->forward(randn({3, 4}, TensorOptions(DType::Float64)));
  CHECK(out.dtype() == DType::Float64);
}

TEST_CASE("Module: load_state_dict copies values and reports missing/unexpected keys", "[nn]") {
  Net a, b;
  b.load_state_dict(a.state_dict());
  auto sa = a.state_dict(), sb = b.state_dict();
  for (size_t i = 0; i < sa.size(); ++i) test::check_close(sb[i].second, sa[i].second);
  // parameters are still the module's own leaves
  CHECK_FALSE(b.parameters()[1].is_same(a.parameters()[1]));
  CHECK(b.parameters()[1].requires_grad());

  auto sd = a.state_dict();
  sd.erase(sd.begin() + 2);  // layers.0.fc.weight
  sd.emplace_back("layers.0.fc.extra", zeros({1}));
  try {
    b.load_state_dict(sd);
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("Error(s) in loading state_dict for Net") != std::string::npos);
    CHECK(msg.find("Missing key(s) in state_dict: \"layers.0.fc.weight\".") != std::string::npos);
    CHECK(msg.find("Unexpected key(s) in state_dict: \"layers.0.fc.extra\".") != std::string::npos);
  }
  auto [missing, unexpected] = b.load_state_dict(sd, false);
  CHECK(missing == std::vector<std::string>{"layers.0.fc.weight"});
  CHECK(unexpected == std::vector<std::string>{"layers.0.fc.extra"});

  auto bad = a.state_dict();
  bad[0].second = ones({2});
  try {
    b.load_state_dict(bad, false);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("size mismatch for scale: copying a param with shape [2] from checkpoint, the "
                                     "shape in current model is [1].") != std::string::npos);
  }
}

TEST_CASE("Module: registration errors and repr", "[nn]") {
  Module m("Custom");
  m.register_parameter("w", ones({2}));
  CHECK_THROWS_AS(m.register_parameter("w", ones({2})), Error);
  CHECK_THROWS_AS(m.register_buffer("a.b", ones({2})), Error);
  CHECK_THROWS_AS(m.param("nope"), Error);

  Sequential seq{std::make_shared<Linear>(3, 5), std::make_shared<ReLU>(), std::make_shared<Linear>(5, 2, false)};
  std::string expected =
      "Sequential(\n"
      "  (0): Linear(in_features=3, out_features=5, bias=True)\n"
      "  (1): ReLU()\n"
      "  (2): Linear(in_features=5, out_features=2, bias=False)\n"
      ")\n"
      "# parameters: 30";
  CHECK(seq.repr() == expected);
}

TEST_CASE("init: formulas and statistics", "[nn]") {
  manual_seed(0);
  test::check_close(init::calculate_gain("relu"), std::sqrt(2.0), 0, test::kTightRtol);
  test::check_close(init::calculate_gain("tanh"), 5.0 / 3.0, 0, test::kTightRtol);
  test::check_close(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 0.0001)), 0, test::kTightRtol);
  test::check_close(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0), 0, test::kTightRtol);
  CHECK_THROWS_AS(init::calculate_gain("nope"), Error);
  Tensor c = empty({16, 8, 3, 3});
  auto [fi, fo] = init::calculate_fan_in_and_fan_out(c);
  CHECK(fi == 72);
  CHECK(fo == 144);
  CHECK_THROWS_AS(init::calculate_fan_in_and_fan_out(empty({3})), Error);

  Tensor w = empty({256, 512});
  init::kaiming_uniform_(w, 0.0, "fan_in", "relu");
  double bound = std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(512.0);
  CHECK(w.abs().max().item<double>() <= bound);
  CHECK(w.abs().max().item<double>() > 0.99 * bound);
  test::check_close(w.std().item<double>(), bound / std::sqrt(3.0), 0, 0.02);

  init::kaiming_normal_(w, 0.0, "fan_out", "relu");
  test::check_close(w.std().item<double>(), std::sqrt(2.0 / 256.0), 0, 0.02);

  init::xavier_uniform_(w);
  double xstd = std::sqrt(2.0 / (256 + 512));
  test::check_close(w.std().item<double>(), xstd, 0, 0.02);
  CHECK(w.abs().max().item<double>() <= std::sqrt(3.0) * xstd);
  init::xavier_normal_(w, 2.0);
  test::check_close(w.std().item<double>(), 2 * xstd, 0, 0.02);

  init::normal_(w, 1.0, 0.5);
  test::check_close(w.mean().item<double>(), 1.0, 0, 0.01);
  test::check_close(w.std().item<double>(), 0.5, 0, 0.02);
  init::uniform_(w, -2.0, 3.0);
  CHECK(w.min().item<double>() >= -2.0);
  CHECK(w.max().item<double>() <= 3.0);
  test::check_close(w.mean().item<double>(), 0.5, 0.02, 0);
  init::trunc_normal_(w, 0.0, 1.0, -0.5, 0.5);
  CHECK(w.min().item<double>() >= -0.5);
  CHECK(w.max().item<double>() <= 0.5);
  test::check_close(w.std().item<double>(), 0.2838, 0, 0.03);  // std of N(0,1) cut at +-0.5
  init::constant_(w, 0.25);
  CHECK(w.sum().item<double>() == 0.25 * 256 * 512);  // float sums of 0.25s up to 2^15 are exact
  init::zeros_(w);
  CHECK(w.abs().sum().item<double>() == 0.0);
  init::ones_(w);
  CHECK(w.sum().item<double>() == 256.0 * 512);

  for (auto shape : {Shape{6, 10}, Shape{10, 6}, Shape{4, 2, 3}}) {
    Tensor q = empty(shape, TensorOptions(DType::Float64));
    init::orthogonal_(q, 1.5);
    Tensor m = q.reshape({shape[0], -1});
    int64_t r = m.size(0), cc = m.size(1);
    Tensor g = r <= cc ? m.matmul(m.t()) : m.t().matmul(m);
    int64_t n = std::min(r, cc);
    test::check_close(g, eye(n, {}, TensorOptions(DType::Float64)) * 2.25, 1e-9);
  }
}
