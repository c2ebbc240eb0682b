// nn/functional/losses.h: values against hand formulas on random inputs for
// every reduction, float64 gradchecks, and the errors for bad shapes.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "nn/functional/functional.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "nn/modules/loss.h"
#include "test_util.h"

using namespace loom;
namespace F = loom::nn::functional;
using loom::test::check_close;
using loom::test::check_grad;
using loom::test::error_kind;
using loom::test::leaf;

namespace {

const TensorOptions f64(DType::Float64);

// Reduces a hand-computed per-element loss like PyTorch.
std::vector<double> reduce(const std::vector<double>& v, const std::string& reduction) {
  if (reduction == "none") return v;
  double s = 0;
  for (double x : v) s += x;
  return {reduction == "sum" ? s : s / static_cast<double>(v.size())};
}

// Checks a pointwise loss of (input, target) against f for every reduction.
void check_pointwise(const std::function<Tensor(const Tensor&, const Tensor&, const std::string&)>& loss,
                     const std::function<double(double, double)>& f, const Tensor& x, const Tensor& y) {
  std::vector<double> xv = x.to_vector(), yv = y.to_vector(), ref;
  for (size_t i = 0; i < xv.size(); ++i) ref.push_back(f(xv[i], yv[i]));
  for (std::string r : {"none", "mean", "sum"}) {
    INFO("reduction " << r);
    Tensor out = loss(x, y, r);
    if (r == "none") CHECK(out.sizes() == x.sizes());
    else CHECK(out.dim() == 0);
    check_close(out, reduce(ref, r), 1e-10, 1e-8);
  }
}

}  // namespace

TEST_CASE("regression losses match their formulas", "[nn][losses]") {
  manual_seed(1);
  Tensor x = randn({4, 5}, f64), y = randn({4, 5}, f64);
  check_pointwise([](auto& a, auto& b, auto& r) { return F::mse_loss(a, b, r); },
                  [](double a, double b) { return (a - b) * (a - b); }, x, y);
  check_pointwise([](auto& a, auto& b, auto& r) { return F::l1_loss(a, b, r); },
                  [](double a, double b) { return std::fabs(a - b); }, x, y);
  for (double beta : {1.0, 0.5}) {
    check_pointwise([beta](auto& a, auto& b, auto& r) { return F::smooth_l1_loss(a, b, r, beta); },
                    [beta](double a, double b) {
                      double d = std::fabs(a - b);
                      return d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
                    },
                    x, y);
  }
  check_pointwise([](auto& a, auto& b, auto& r) { return F::smooth_l1_loss(a, b, r, 0.0); },
                  [](double a, double b) { return std::fabs(a - b); }, x, y);
  check_pointwise([](auto& a, auto& b, auto& r) { return F::huber_loss(a, b, r, 0.7); },
                  [](double a, double b) {
                    double d = std::fabs(a - b);
                    return d < 0.7 ? 0.5 * d * d : 0.7 * (d - 0.35);
                  },
                  x, y);
  // Broadcast target.
  Tensor yb = randn({5}, f64);
  check_close(F::mse_loss(x, yb), F::mse_loss(x, yb.expand({4, 5}).contiguous()), 1e-12, 1e-10);
}

TEST_CASE("binary cross-entropy forms match their formulas", "[nn][losses]") {
  manual_seed(2);
  Tensor p = rand({3, 4}, f64) * 0.98 + 0.01, y = rand({3, 4}, f64);
  check_pointwise([](auto& a, auto& b, auto& r) { return F::binary_cross_entropy(a, b, {}, r); },
                  [](double a, double b) { return -(b * std::log(a) + (1 - b) * std::log(1 - a)); }, p, y);
  Tensor w = rand({4}, f64);
  std::vector<double> wv = w.to_vector();
  {
    Tensor out = F::binary_cross_entropy(p, y, w, "none");
    auto pv = p.to_vector(), yv = y.to_vector();
    std::vector<double> ref;
    for (size_t i = 0; i < pv.size(); ++i)
      ref.push_back(-wv[i % 4] * (yv[i] * std::log(pv[i]) + (1 - yv[i]) * std::log(1 - pv[i])));
    check_close(out, ref, 1e-10, 1e-8);
  }
  // log clamped to -100 at 0 and 1.
  Tensor edge = from_vector<double>({0.0, 1.0}, {2});
  check_close(F::binary_cross_entropy(edge, from_vector<double>({1.0, 0.0}, {2}), {}, "none"), {100.0, 100.0});

  Tensor x = randn({3, 4}, f64) * 3.0;
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  check_pointwise([](auto& a, auto& b, auto& r) { return F::binary_cross_entropy_with_logits(a, b, {}, r); },
                  [&](double a, double b) { return -(b * std::log(sig(a)) + (1 - b) * std::log(1 - sig(a))); }, x, y);
  Tensor pw = rand({4}, f64) * 3.0;
  std::vector<double> pwv = pw.to_vector();
  {
    Tensor out = F::binary_cross_entropy_with_logits(x, y, w, "none", pw);
    auto xv = x.to_vector(), yv = y.to_vector();
    std::vector<double> ref;
    for (size_t i = 0; i < xv.size(); ++i)
      ref.push_back(-wv[i % 4] * (pwv[i % 4] * yv[i] * std::log(sig(xv[i])) + (1 - yv[i]) * std::log(1 - sig(xv[i]))));
    check_close(out, ref, 1e-10, 1e-8);
  }
  // Stable for large logits; gradient sigmoid(x) - y also at x = 0.
  Tensor big = from_vector<double>({-1000.0, 1000.0, 0.0}, {3}).requires_grad_(true);
  Tensor t = from_vector<double>({1.0, 0.0, 0.25}, {3});
  Tensor l = F::binary_cross_entropy_with_logits(big, t, {}, "sum");
  check_close(l, {1000.0 + 1000.0 + std::log(2.0)}, 1e-9, 1e-12);
  l.backward();
  check_close(big.grad(), {-1.0, 1.0, 0.25});
}

TEST_CASE("nll_loss matches its formula with weights and ignore_index", "[nn][losses]") {
  manual_seed(3);
  const int64_t N = 6, C = 4;
  Tensor logp = randn({N, C}, f64).log_softmax(1);
  Tensor target = from_vector<int64_t>({0, 3, 1, -100, 2, 3}, {N});
  Tensor w = rand({C}, f64) + 0.5;
  auto lv = logp.to_vector(), wv = w.to_vector();
  std::vector<int64_t> tv = {0, 3, 1, -100, 2, 3};
  std::vector<double> none, none_w;
  double wsum = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (tv[i] == -100) {
      none.push_back(0);
      none_w.push_back(0);
      continue;
    }
    none.push_back(-lv[i * C + tv[i]]);
    none_w.push_back(-wv[tv[i]] * lv[i * C + tv[i]]);
    wsum += wv[tv[i]];
  }
  check_close(F::nll_loss(logp, target, {}, -100, "none"), none, 1e-12, 1e-10);
  check_close(F::nll_loss(logp, target, w, -100, "none"), none_w, 1e-12, 1e-10);
  double s = 0, sw = 0;
  for (int i = 0; i < N; ++i) s += none[i], sw += none_w[i];
  check_close(F::nll_loss(logp, target, {}, -100, "sum"), {s}, 1e-12, 1e-10);
  check_close(F::nll_loss(logp, target), {s / 5.0}, 1e-12, 1e-10);
  check_close(F::nll_loss(logp, target, w), {sw / wsum}, 1e-12, 1e-10);
  // cross_entropy == nll_loss(log_softmax) (weighted mean too).
  Tensor logits = randn({N, C}, f64);
  check_close(F::cross_entropy(logits, target, w), F::nll_loss(logits.log_softmax(1), target, w), 1e-10, 1e-8);
  // [N, C, d] and [C] inputs.
  Tensor l3 = randn({2, C, 3}, f64).log_softmax(1);
  Tensor t3 = from_vector<int64_t>({0, 1, 2, 3, 0, 1}, {2, 3});
  Tensor ref3 = F::nll_loss(l3.permute({0, 2, 1}).reshape({6, C}), t3.flatten(), {}, -100, "none").view({2, 3});
  check_close(F::nll_loss(l3, t3, {}, -100, "none"), ref3, 1e-12, 1e-10);
  Tensor one = F::nll_loss(logp.select(0, 0), scalar_tensor(Scalar(int64_t(2)), TensorOptions(DType::Int64)));
  check_close(one, {-lv[2]}, 1e-12, 1e-10);
}

TEST_CASE("cosine_embedding_loss and kl_div match their formulas", "[nn][losses]") {
  manual_seed(4);
  const int64_t N = 5, D = 3;
  Tensor a = randn({N, D}, f64), b = randn({N, D}, f64);
  Tensor y = from_vector<int64_t>({1, -1, 1, -1, -1}, {N});
  auto av = a.to_vector(), bv = b.to_vector();
  std::vector<double> ref;
  const double margin = 0.1;
  std::vector<int> yv = {1, -1, 1, -1, -1};
  for (int64_t i = 0; i < N; ++i) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t j = 0; j < D; ++j) {
      dot += av[i * D + j] * bv[i * D + j];
      na += av[i * D + j] * av[i * D + j];
      nb += bv[i * D + j] * bv[i * D + j];
    }
    double cos = dot / std::sqrt(na * nb);
    ref.push_back(yv[i] == 1 ? 1 - cos : std::max(0.0, cos - margin));
  }
  for (std::string r : {"none", "mean", "sum"})
    check_close(F::cosine_embedding_loss(a, b, y, margin, r), reduce(ref, r), 1e-10, 1e-8);
  // float targets and 1-D inputs.
  check_close(F::cosine_embedding_loss(a, b, y.to(DType::Float64), margin, "none"), ref, 1e-10, 1e-8);
  check_close(F::cosine_embedding_loss(a.select(0, 1), b.select(0, 1), y.select(0, 1), margin, "none"), {ref[1]}, 1e-10,
              1e-8);

  Tensor logq = randn({3, 4}, f64).log_softmax(1);
  Tensor p = randn({3, 4}, f64).softmax(1);
  p = p.masked_fill(from_vector<int64_t>({1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {3, 4}).ne(Scalar(0)), 0.0);
  auto qv = logq.to_vector(), pv = p.to_vector();
  std::vector<double> kl, kl_log;
  for (size_t i = 0; i < qv.size(); ++i) {
    kl.push_back(pv[i] > 0 ? pv[i] * (std::log(pv[i]) - qv[i]) : 0.0);
    kl_log.push_back(pv[i] > 0 ? pv[i] * (std::log(pv[i]) - qv[i]) : 0.0);
  }
  for (std::string r : {"none", "mean", "sum"}) check_close(F::kl_div(logq, p, r), reduce(kl, r), 1e-10, 1e-8);
  double s = reduce(kl, "sum")[0];
  check_close(F::kl_div(logq, p, "batchmean"), {s / 3.0}, 1e-10, 1e-8);
  Tensor logp = randn({3, 4}, f64).log_softmax(1);
  auto lpv = logp.to_vector();
  std::vector<double> ref_log;
  for (size_t i = 0; i < qv.size(); ++i) ref_log.push_back(std::exp(lpv[i]) * (lpv[i] - qv[i]));
  check_close(F::kl_div(logq, logp, "none", true), ref_log, 1e-10, 1e-8);
}

TEST_CASE("normalize and cosine_similarity", "[nn][losses]") {
  manual_seed(5);
  Tensor x = randn({3, 4}, f64);
  auto xv = x.to_vector();
  std::vector<double> ref(12);
  for (int i = 0; i < 3; ++i) {
    double n = 0;
    for (int j = 0; j < 4; ++j) n += xv[i * 4 + j] * xv[i * 4 + j];
    for (int j = 0; j < 4; ++j) ref[i * 4 + j] = xv[i * 4 + j] / std::sqrt(n);
  }
  check_close(F::normalize(x), ref, 1e-12, 1e-10);
  check_close(F::normalize(zeros({2, 3}, f64)), std::vector<double>(6, 0.0));
  Tensor y = randn({3, 4}, f64);
  Tensor cs = F::cosine_similarity(x, y);
  check_close(cs, (F::normalize(x) * F::normalize(y)).sum({1}), 1e-12, 1e-10);
  CHECK(F::cosine_similarity(x, y.select(0, 0), 1).sizes() == Shape{3});
}

TEST_CASE("loss gradients (float64 gradcheck)", "[nn][losses][grad]") {
  manual_seed(6);
  for (std::string r : {"none", "mean", "sum"}) {
    INFO("reduction " << r);
    check_grad([r](const TensorList& t) { return F::mse_loss(t[0], t[1], r); }, {leaf({3, 4}), leaf({3, 4})});
    check_grad([r](const TensorList& t) { return F::l1_loss(t[0], t[1], r); }, {leaf({3, 4}), leaf({3, 4})});
    check_grad([r](const TensorList& t) { return F::smooth_l1_loss(t[0], t[1], r, 0.5); },
               {leaf({3, 4}), leaf({3, 4})});
    check_grad([r](const TensorList& t) { return F::huber_loss(t[0], t[1], r, 0.5); }, {leaf({3, 4}), leaf({3, 4})});
    check_grad([r](const TensorList& t) { return F::binary_cross_entropy(t[0], t[1], t[2], r); },
               {leaf({3, 4}, 0.05, 0.95), leaf({3, 4}, 0, 1), leaf({4}, 0.5, 1.5)});
    check_grad([r](const TensorList& t) { return F::binary_cross_entropy_with_logits(t[0], t[1], t[2], r, t[3]); },
               {leaf({3, 4}, -3, 3), leaf({3, 4}, 0, 1), leaf({4}, 0.5, 1.5), leaf({4}, 0.5, 3)});
    Tensor target = from_vector<int64_t>({1, 0, -100, 2}, {4});
    Tensor w = rand({3}, f64) + 0.5;
    check_grad([&](const TensorList& t) { return F::nll_loss(t[0], target, w, -100, r); }, {leaf({4, 3})});
    Tensor y = from_vector<int64_t>({1, -1, -1, 1}, {4});
    check_grad([&](const TensorList& t) { return F::cosine_embedding_loss(t[0], t[1], y, -0.5, r); },
               {leaf({4, 3}), leaf({4, 3})});
    check_grad([r](const TensorList& t) { return F::kl_div(t[0], t[1], r); }, {leaf({3, 4}), leaf({3, 4}, 0.1, 1)});
    check_grad([r](const TensorList& t) { return F::kl_div(t[0], t[1], r, true); }, {leaf({3, 4}), leaf({3, 4})});
  }
  check_grad([](const TensorList& t) { return F::normalize(t[0]); }, {leaf({3, 4})});
  check_grad([](const TensorList& t) { return F::cosine_similarity(t[0], t[1], 1); }, {leaf({3, 4}), leaf({3, 4})});
}

TEST_CASE("loss errors name the loss and the shapes", "[nn][losses][errors]") {
  Tensor x = randn({3, 4}), y5 = randn({3, 5});
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_kind([&] { F::mse_loss(x, y5); }) == ErrorKind::Runtime);
  std::string m = message([&] { F::mse_loss(x, y5); });
  CHECK(m.find("mse_loss") != std::string::npos);
  CHECK(m.find("[3, 4]") != std::string::npos);
  CHECK(m.find("[3, 5]") != std::string::npos);
  CHECK(error_kind([&] { F::l1_loss(x, x, "avg"); }) == ErrorKind::Value);
  CHECK(message([&] { F::l1_loss(x, x, "avg"); }).find("avg is not a valid value for reduction") != std::string::npos);
  CHECK(error_kind([&] { F::binary_cross_entropy(x.sigmoid(), randn({4})); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::binary_cross_entropy(x, x); }) == ErrorKind::Runtime);  // values outside [0, 1]
  CHECK(error_kind([&] { F::binary_cross_entropy_with_logits(x, randn({3, 1})); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::binary_cross_entropy_with_logits(x, x, {}, "mean", randn({3})); }) == ErrorKind::Runtime);
  Tensor t = from_vector<int64_t>({0, 1, 2}, {3});
  CHECK(error_kind([&] { F::nll_loss(x, from_vector<int64_t>({0, 1}, {2})); }) == ErrorKind::Runtime);
  CHECK(message([&] { F::nll_loss(x, from_vector<int64_t>({0, 1}, {2})); }).find("[3]") != std::string::npos);
  CHECK(error_kind([&] { F::nll_loss(x, t.to(DType::Float32)); }) == ErrorKind::Type);
  CHECK(error_kind([&] { F::nll_loss(x, from_vector<int64_t>({0, 1, 4}, {3})); }) == ErrorKind::Index);
  CHECK(error_kind([&] { F::nll_loss(x, t, randn({3})); }) == ErrorKind::Runtime);
  CHECK(error_kind([&] { F::cosine_embedding_loss(x, y5, t); }) == ErrorKind::Runtime);
  CHECK(error_kind([&] { F::cosine_embedding_loss(x, x, randn({4})); }) == ErrorKind::Runtime);
  CHECK(error_kind([&] { F::kl_div(x, x, "batch"); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::smooth_l1_loss(x, x, "mean", -1.0); }) == ErrorKind::Value);
}

TEST_CASE("functional.h forwards the ops under PyTorch's names", "[nn][functional]") {
  manual_seed(7);
  Tensor x = randn({2, 3, 5, 5});
  check_close(F::relu(x), x.relu());
  check_close(F::softmax(x, 1), x.softmax(1));
  Tensor w = randn({4, 3, 3, 3});
  Tensor y = F::conv2d(x, w, {}, {1}, {1});
  CHECK(y.sizes() == Shape{2, 4, 5, 5});
  CHECK(F::max_pool2d(y, {2}).sizes() == Shape{2, 4, 2, 2});
  CHECK(F::adaptive_avg_pool2d(y, {1, 1}).sizes() == Shape{2, 4, 1, 1});
  Tensor h = F::linear(F::adaptive_avg_pool2d(y, {1, 1}).flatten(1), randn({3, 4}), randn({3}));
  CHECK(h.sizes() == Shape{2, 3});
  CHECK(F::layer_norm(h, {3}).sizes() == Shape{2, 3});
  CHECK(F::dropout(h, 0.5, false).to_vector() == h.to_vector());
  CHECK(F::one_hot(from_vector<int64_t>({0, 2}, {2}), 3).sizes() == Shape{2, 3});
  Tensor q = randn({1, 2, 4, 8});
  CHECK(F::scaled_dot_product_attention(q, q, q).sizes() == q.sizes());
}

TEST_CASE("loss modules call the functional forms; weights are buffers", "[nn][losses][modules]") {
  manual_seed(8);
  Tensor x = randn({4, 3}, f64), y = randn({4, 3}, f64);
  check_close(nn::MSELoss().forward(x, y), F::mse_loss(x, y), 1e-12, 1e-12);
  check_close(nn::MSELoss("sum").forward(x, y), F::mse_loss(x, y, "sum"), 1e-12, 1e-12);
  check_close(nn::L1Loss("none").forward(x, y), F::l1_loss(x, y, "none"), 1e-12, 1e-12);
  check_close(nn::SmoothL1Loss("mean", 0.3).forward(x, y), F::smooth_l1_loss(x, y, "mean", 0.3), 1e-12, 1e-12);
  check_close(nn::HuberLoss("sum", 0.3).forward(x, y), F::huber_loss(x, y, "sum", 0.3), 1e-12, 1e-12);
  Tensor t = from_vector<int64_t>({0, 2, 1, -100}, {4});
  Tensor w = rand({3}, f64) + 0.5;
  nn::CrossEntropyLoss ce(w, -100, "mean", 0.1);
  check_close(ce.forward(x, t), F::cross_entropy(x, t, w, -100, "mean", 0.1), 1e-12, 1e-12);
  REQUIRE(ce.state_dict().size() == 1);
  CHECK(ce.state_dict()[0].first == "weight");
  CHECK(nn::CrossEntropyLoss().state_dict().empty());
  CHECK(nn::CrossEntropyLoss().parameters().empty());
  nn::NLLLoss nll(w, 1, "sum");
  Tensor t1 = from_vector<int64_t>({0, 2, 1, 1}, {4});
  check_close(nll.forward(x.log_softmax(1), t1), F::nll_loss(x.log_softmax(1), t1, w, 1, "sum"), 1e-12, 1e-12);
  Tensor p = x.sigmoid(), q = rand({4, 3}, f64);
  check_close(nn::BCELoss(w).forward(p, q), F::binary_cross_entropy(p, q, w), 1e-12, 1e-12);
  Tensor pw = rand({3}, f64) + 1.0;
  nn::BCEWithLogitsLoss bl({}, "none", pw);
  check_close(bl.forward(x, q), F::binary_cross_entropy_with_logits(x, q, {}, "none", pw), 1e-12, 1e-12);
  REQUIRE(bl.state_dict().size() == 1);
  CHECK(bl.state_dict()[0].first == "pos_weight");
  Tensor s = from_vector<int64_t>({1, -1, 1, -1}, {4});
  check_close(nn::CosineEmbeddingLoss(0.2).forward(x, y, s), F::cosine_embedding_loss(x, y, s, 0.2), 1e-12, 1e-12);
  Tensor lq = x.log_softmax(1), lp = y.log_softmax(1);
  check_close(nn::KLDivLoss("batchmean", true).forward(lq, lp), F::kl_div(lq, lp, "batchmean", true), 1e-12, 1e-12);
  Tensor lt = randn({6, 2, 4}, f64).log_softmax(2), tg = from_vector<int64_t>({1, 3, 3, 2, 0, 0}, {2, 3});
  Tensor il = from_vector<int64_t>({6, 4}, {2}), tl = from_vector<int64_t>({3, 1}, {2});
  nn::CTCLoss ctc(0, "sum", true);
  check_close(ctc.forward(lt, tg, il, tl), F::ctc_loss(lt, tg, Dims{6, 4}, Dims{3, 1}, 0, "sum", true), 1e-12, 1e-12);
  check_close(ctc.forward(lt, tg, Dims{6, 4}, Dims{3, 1}), ctc.forward(lt, tg, il, tl), 1e-12, 1e-12);
  CHECK(ctc.state_dict().empty());
  CHECK(nn::MSELoss().type_name() == "MSELoss");
  CHECK(error_kind([&] { nn::MSELoss("avg").forward(x, y); }) == ErrorKind::Value);
}

TEST_CASE("loss gradients differentiate again (gradcheck of the gradient)", "[nn][losses][grad]") {
  manual_seed(9);
  // d loss / d input built with create_graph, checked by finite differences.
  auto grad_of = [](std::function<Tensor(const Tensor&)> loss) {
    return [loss](const TensorList& t) {
      autograd::EnableGradGuard eg;  // gradcheck's finite differences run under no_grad
      Tensor l = loss(t[0]);
      return autograd::grad({l}, {t[0]}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    };
  };
  Tensor y = rand({3, 4}, f64), pw = rand({4}, f64) + 1.0;
  check_grad(grad_of([&](const Tensor& x) { return F::binary_cross_entropy_with_logits(x, y, {}, "sum", pw); }),
             {leaf({3, 4}, -3, 3)});
  check_grad(grad_of([&](const Tensor& x) { return F::binary_cross_entropy(x, y, {}, "mean"); }),
             {leaf({3, 4}, 0.1, 0.9)});
  check_grad(grad_of([&](const Tensor& x) { return F::mse_loss(x, y, "sum"); }), {leaf({3, 4})});
  Tensor yl = randn({3, 4}, f64).log_softmax(1);
  check_grad(grad_of([&](const Tensor& x) { return F::kl_div(x.log_softmax(1), yl, "batchmean", true); }),
             {leaf({3, 4})});
  Tensor b = randn({3, 4}, f64), s = from_vector<int64_t>({1, -1, 1}, {3});
  check_grad(grad_of([&](const Tensor& x) { return F::cosine_embedding_loss(x, b, s, -0.9, "sum"); }), {leaf({3, 4})});
}

TEST_CASE("distance and margin losses: gradients, second order and errors", "[nn][losses][grad]") {
  manual_seed(12);
  Tensor signs = from_vector<double>({1, -1, -1, 1, 1}, {5});
  Tensor cls = from_vector<int64_t>({0, 2, 3, 2, 1}, {5});
  Tensor y01 = rand({5, 4}, f64).gt(Scalar(0.5)).to(DType::Float64);
  Tensor counts = from_vector<double>({0, 1, 2, 3.5, 7}, {5}).unsqueeze(1).expand({5, 4}).contiguous();
  Tensor w4 = rand({4}, f64) + 0.5;
  for (std::string r : {"none", "mean", "sum"}) {
    INFO("reduction " << r);
    check_grad([](const TensorList& t) { return F::pairwise_distance(t[0], t[1], 3.0); }, {leaf({5, 4}), leaf({4})});
    check_grad([&](const TensorList& t) { return F::margin_ranking_loss(t[0], t[1], signs, 0.2, r); },
               {leaf({5}), leaf({5})});
    check_grad([r](const TensorList& t) { return F::triplet_margin_loss(t[0], t[1], t[2], 1.5, 2.0, 1e-6, true, r); },
               {leaf({5, 4}), leaf({5, 4}), leaf({5, 4})});
    check_grad([&](const TensorList& t) { return F::hinge_embedding_loss(t[0], signs, 0.5, r); }, {leaf({5})});
    check_grad([&](const TensorList& t) { return F::soft_margin_loss(t[0], signs.unsqueeze(1) * t[1], r); },
               {leaf({5, 4}, -4, 4), leaf({5, 4})});
    check_grad([&](const TensorList& t) { return F::multilabel_soft_margin_loss(t[0], y01, w4, r); }, {leaf({5, 4})});
    check_grad([&](const TensorList& t) { return F::multi_margin_loss(t[0], cls, 2, 0.8, w4, r); }, {leaf({5, 4})});
    check_grad([&](const TensorList& t) { return F::poisson_nll_loss(t[0], counts, true, true, 1e-8, r); },
               {leaf({5, 4})});
    check_grad([&](const TensorList& t) { return F::poisson_nll_loss(t[0], counts, false, false, 1e-8, r); },
               {leaf({5, 4}, 0.5, 2)});
    check_grad([r](const TensorList& t) { return F::gaussian_nll_loss(t[0], t[1], t[2], true, 1e-6, r); },
               {leaf({5, 4}), leaf({5, 4}), leaf({5}, 0.2, 1)});
  }
  // Composed of differentiable ops: the gradients differentiate again.
  auto grad_of = [](std::function<Tensor(const Tensor&)> loss) {
    return [loss](const TensorList& t) {
      autograd::EnableGradGuard eg;
      Tensor l = loss(t[0]);
      return autograd::grad({l}, {t[0]}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    };
  };
  Tensor p = randn({5, 4}, f64), n = randn({5, 4}, f64);
  check_grad(grad_of([&](const Tensor& a) { return F::triplet_margin_loss(a, p, n, 3.0, 2.0, 1e-6, true, "sum"); }),
             {leaf({5, 4})});
  check_grad(grad_of([&](const Tensor& x) { return F::multilabel_soft_margin_loss(x, y01, {}, "sum"); }),
             {leaf({5, 4})});
  check_grad(grad_of([&](const Tensor& x) { return F::gaussian_nll_loss(p, n, x, false, 1e-6, "sum"); }),
             {leaf({5, 4}, 0.2, 1)});
  // A value check of each against its formula on one point.
  Tensor a = from_vector<double>({0, 0}, {1, 2}), b = from_vector<double>({3, 4}, {1, 2});
  check_close(F::pairwise_distance(a, b, 2.0, 0.0), std::vector<double>{5.0}, 1e-12, 1e-12);
  check_close(F::triplet_margin_loss(a, a, b, 1.0, 2.0, 0.0), std::vector<double>{0.0}, 1e-12, 1e-12);
  check_close(F::triplet_margin_loss(a, b, a, 1.0, 2.0, 0.0), std::vector<double>{6.0}, 1e-12, 1e-12);
  check_close(F::soft_margin_loss(from_vector<double>({0.0}, {1}), from_vector<double>({1.0}, {1})),
              std::vector<double>{std::log(2.0)}, 1e-12, 1e-12);
  Tensor x3 = from_vector<double>({1.0, 2.0, 0.5}, {1, 3});
  // class 0 (x = 1): max(0, 1 - 1 + 2) + max(0, 1 - 1 + 0.5), over C = 3
  check_close(F::multi_margin_loss(x3, from_vector<int64_t>({0}, {1})),
              std::vector<double>{(std::max(0.0, 1 - 1 + 2.0) + std::max(0.0, 1 - 1 + 0.5)) / 3}, 1e-12, 1e-12);
  // Errors: the loss's name, ValueError / RuntimeError / IndexError / TypeError as PyTorch.
  Tensor x = randn({3, 4});
  CHECK(error_kind([&] { F::triplet_margin_loss(x, x, randn({4})); }) == ErrorKind::Runtime);
  CHECK(error_kind([&] { F::triplet_margin_loss(x, x, x, 0.0); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::margin_ranking_loss(x, x, randn({3})); }) == ErrorKind::Runtime);
  CHECK(error_kind([&] { F::pairwise_distance(x, randn({2, 4})); }) == ErrorKind::Runtime);
  CHECK(error_kind([&] { F::pairwise_distance(x, x, -1.0); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::multi_margin_loss(x, from_vector<int64_t>({0, 1, 2}, {3}), 3); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::multi_margin_loss(x, from_vector<int64_t>({0, 1, 4}, {3})); }) == ErrorKind::Index);
  CHECK(error_kind([&] { F::multi_margin_loss(x, randn({3})); }) == ErrorKind::Type);
  CHECK(error_kind([&] { F::gaussian_nll_loss(x, x, rand({3, 4}).neg()); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::gaussian_nll_loss(x, x, rand({3, 3})); }) == ErrorKind::Value);
  CHECK(error_kind([&] { F::soft_margin_loss(x, x, "avg"); }) == ErrorKind::Value);
}
