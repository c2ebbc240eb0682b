// The backward engine: accumulation, retain_graph, hooks, grad(), version
// counters, no-grad, custom functions, deep graphs.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/node.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("gradients accumulate into leaves with +=", "[autograd]") {
  auto x = from_vector<double>({1, 2, 3}, {3}).requires_grad_();
  auto y = (x * x).sum();
  y.backward();
  test::check_close(x.grad(), {2, 4, 6});
  (x * 3.0).sum().backward();
  test::check_close(x.grad(), {5, 7, 9});
  CHECK(x.is_leaf());
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn()->name() == "SumBackward1");
}

TEST_CASE("a tensor used twice gets both contributions", "[autograd]") {
  auto x = from_vector<double>({2}, {1}).requires_grad_();
  auto y = x * x + x.exp() * x;  // d/dx = 2x + e^x x + e^x
  y.sum().backward();
  double e = std::exp(2.0);
  test::check_close(x.grad(), {4 + e * 2 + e});
}

TEST_CASE("backward needs retain_graph to run twice", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto y = (x.exp() * x).sum();
  y.backward({}, true);
  auto g1 = x.grad().to_vector();
  y.backward();
  test::check_close(x.grad(), {2 * g1[0], 2 * g1[1]});
  CHECK_THROWS_WITH(y.backward(), ContainsSubstring("second time"));
}

TEST_CASE("backward with an explicit gradient and errors for non-scalars", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto y = x * 3.0;
  CHECK_THROWS_WITH(y.backward(), ContainsSubstring("scalar outputs"));
  y.backward(from_vector<double>({1, 10}, {2}));
  test::check_close(x.grad(), {3, 30});
  CHECK_THROWS_WITH(ones({2}).backward(), ContainsSubstring("does not require grad"));
  CHECK_THROWS(ones({2}, DType::Int64).requires_grad_());
}

TEST_CASE("a chain of 100,000 ops backpropagates without stack overflow", "[autograd]") {
  auto x = from_vector<float>({1.0f}, {1}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y + 0.0;
  y.sum().backward();
  test::check_close(x.grad(), {1.0});
}

// Freeing a deep graph must not recurse through node destructors: a chain
// whose nodes also save their inputs (mul) links each node to the next both
// through its edge and through a saved tensor's grad_fn.
TEST_CASE("a graph of 1,000,000 ops is freed without stack overflow", "[autograd]") {
  auto x = from_vector<float>({1.0f}, {1}).requires_grad_();
  SECTION("dropped without backward") {
    Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y * 1.00001;
    y = Tensor();
  }
  SECTION("dropped after backward") {
    Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y + 0.0;
    y.sum().backward();
    test::check_close(x.grad(), {1.0});
  }
  SECTION("saved inputs chain the nodes too") {
    auto w = from_vector<float>({1.0f}, {1}).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 300000; ++i) y = y * w;
  }
  CHECK(x.requires_grad());
}

TEST_CASE("autograd::grad returns gradients without touching .grad", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto w = from_vector<double>({3, 4}, {2}).requires_grad_();
  auto y = (x * w).sum();
  auto g = autograd::grad({y}, {x, w});
  test::check_close(g[0], {3, 4});
  test::check_close(g[1], {1, 2});
  CHECK_FALSE(x.grad().defined());
  auto unused = from_vector<double>({1}, {1}).requires_grad_();
  auto y2 = (x * 2.0).sum();
  CHECK_THROWS_WITH(autograd::grad({y2}, {unused}), ContainsSubstring("not have been used"));
  auto y3 = (x * 2.0).sum();
  auto g3 = autograd::grad({y3}, {unused}, {}, false, false, true);
  CHECK_FALSE(g3[0].defined());
  // Gradients of intermediate tensors.
  auto h = x * 3.0;
  auto z = (h * h).sum();
  test::check_close(autograd::grad({z}, {h})[0], {6, 12});
}

TEST_CASE("create_graph gives second derivatives", "[autograd]") {
  auto x = from_vector<double>({1.5, -2}, {2}).requires_grad_();
  auto y = (x * x * x).sum();
  auto g = autograd::grad({y}, {x}, {}, false, true)[0];  // 3x^2
  test::check_close(g, {6.75, 12});
  auto gg = autograd::grad({g.sum()}, {x})[0];  // 6x
  test::check_close(gg, {9, -12});
}

TEST_CASE("no_grad builds no graph", "[autograd]") {
  auto x = ones({2}).requires_grad_();
  {
    autograd::NoGradGuard ng;
    auto y = x * 2;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  CHECK((x * 2).requires_grad());
  CHECK_FALSE(x.detach().requires_grad());
  CHECK(x.detach().storage() == x.storage());
}

TEST_CASE("modifying a saved tensor in place raises at backward", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto h = x * 2.0;
  auto y = (h * h).sum();  // saves h
  h.add_(1.0);
  CHECK_THROWS_WITH(y.backward(), ContainsSubstring("modified by an inplace operation"));
  CHECK_THROWS_WITH(x.add_(1.0), ContainsSubstring("leaf Variable that requires grad"));
  {
    autograd::NoGradGuard ng;
    x.add_(1.0);  // an optimizer step is fine
  }
  test::check_close(x, {2, 3});
}

TEST_CASE("in-place ops on non-leaves keep the graph correct", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto h = x * 3.0;
  h.mul_(x);  // h = 3x^2
  h.add_(x);  // 3x^2 + x
  h.sum().backward();
  test::check_close(x.grad(), {7, 13});
  auto a = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto b = zeros({2}, DType::Float64);
  b.copy_(a * 5.0);
  b.sum().backward();
  test::check_close(a.grad(), {5, 5});
}

TEST_CASE("tensor hooks see and can replace gradients", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  std::vector<double> seen;
  x.register_hook([&](const Tensor& g) {
    seen = g.to_vector();
    return Tensor();
  });
  auto h = x * 2.0;
  auto id = h.register_hook([](const Tensor& g) { return g * 10.0; });
  h.sum().backward({}, true);
  CHECK(seen == std::vector<double>{20, 20});
  test::check_close(x.grad(), {20, 20});
  h.remove_hook(id);
  x.set_grad(Tensor());
  h.sum().backward();
  test::check_close(x.grad(), {2, 2});
  CHECK_THROWS(ones({1}).register_hook([](const Tensor& g) { return g; }));
}

TEST_CASE("retain_grad keeps gradients of non-leaves", "[autograd]") {
  auto x = from_vector<double>({1, 2}, {2}).requires_grad_();
  auto h = x * 2.0;
  h.retain_grad();
  (h * h).sum().backward();
  test::check_close(h.grad(), {4, 8});
  CHECK_FALSE((x * 2.0).grad().defined());
}

namespace {
struct ScaledSquare : autograd::Function<ScaledSquare> {
  static TensorList forward(autograd::FunctionCtx& ctx, const TensorList& in) {
    ctx.save_for_backward({in[0]});
    ctx.data["scale"] = 3.0;
    return {in[0] * in[0] * 3.0, in[0].argmax()};
  }
  static TensorList backward(autograd::FunctionCtx& ctx, const TensorList& g) {
    auto x = ctx.saved_tensors()[0];
    double s = std::any_cast<double>(ctx.data["scale"]);
    return {g[0] * x * (2.0 * s)};
  }
  static std::string name() { return "ScaledSquareBackward"; }
};
}  // namespace

TEST_CASE("custom C++ functions are differentiable", "[autograd]") {
  auto x = from_vector<double>({1, -2, 0.5}, {3}).requires_grad_();
  auto out = ScaledSquare::apply({x});
  CHECK(out[0].grad_fn()->name() == "ScaledSquareBackward");
  CHECK_FALSE(out[1].requires_grad());
  out[0].sum().backward();
  test::check_close(x.grad(), {6, -12, 3});
  test::check_grad([](const TensorList& in) { return ScaledSquare::apply(in)[0]; }, {test::leaf({4})});
}

TEST_CASE("gradcheck catches a wrong backward", "[autograd]") {
  struct Wrong : autograd::Function<Wrong> {
    static TensorList forward(autograd::FunctionCtx& ctx, const TensorList& in) {
      ctx.save_for_backward({in[0]});
      return {in[0] * in[0]};
    }
    static TensorList backward(autograd::FunctionCtx& ctx, const TensorList& g) {
      return {g[0] * ctx.saved_tensors()[0]};  // missing the factor 2
    }
  };
  auto r = autograd::gradcheck([](const TensorList& in) { return Wrong::apply(in)[0]; }, {test::leaf({3})});
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.message, ContainsSubstring("mismatch"));
}

TEST_CASE("anomaly mode: NaN gradients name their node, failures are reported with the forward's trace",
          "[autograd][anomaly]") {
  std::vector<std::string> reports;
  int captures = 0;
  autograd::set_anomaly_hooks(
      [&] { return "forward #" + std::to_string(++captures); },
      [&](const std::string& name, const std::string& trace) { reports.push_back(name + " | " + trace); });
  struct Reset {
    ~Reset() {
      autograd::set_anomaly_enabled(false);
      autograd::set_anomaly_hooks(nullptr, nullptr);
    }
  } reset;
  Tensor x = from_vector<float>({0.0f, 1.0f}, {2}).requires_grad_(true);
  (x / x).sum().backward();  // off: the NaN passes silently, as in PyTorch
  CHECK(captures == 0);
  autograd::set_anomaly_enabled(true);
  CHECK(autograd::anomaly_enabled());
  CHECK(autograd::anomaly_check_nan());
  Tensor y = (x / x).sum();
  CHECK(captures == 3);  // DivBackward0, SumBackward0 and the AccumulateGrad of x
  CHECK_THROWS_WITH(y.backward(), ContainsSubstring("Function 'DivBackward0' returned nan values in its 1th output"));
  REQUIRE(reports.size() == 1);
  CHECK(reports[0] == "DivBackward0 | forward #1");
  // check_nan off: the same graph runs through.
  autograd::set_anomaly_enabled(true, false);
  x.set_grad(Tensor());
  (x / x).sum().backward();
  CHECK(reports.size() == 1);
  // A correct backward is unaffected.
  autograd::set_anomaly_enabled(true);
  Tensor z = from_vector<float>({1.0f, 2.0f}, {2}).requires_grad_(true);
  (z * z).sum().backward();
  test::check_close(z.grad(), {2, 4});
}
