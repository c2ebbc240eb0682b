// Every differentiable op against float64 central differences, on
// non-contiguous and broadcast inputs where the op allows them.
#include <catch2/catch_test_macros.hpp>

#include "autograd/engine.h"
#include "test_util.h"

using namespace loom;
using test::check_grad;
using test::leaf;

TEST_CASE("gradcheck: unary ops", "[autograd][grad]") {
  auto x = leaf({3, 4});
  auto pos = leaf({3, 4}, 0.5, 2.0);
  check_grad([](const TensorList& t) { return t[0].neg(); }, {x});
  check_grad([](const TensorList& t) { return t[0].abs(); }, {x});
  check_grad([](const TensorList& t) { return t[0].exp(); }, {x});
  check_grad([](const TensorList& t) { return t[0].log(); }, {pos});
  check_grad([](const TensorList& t) { return t[0].sqrt(); }, {pos});
  check_grad([](const TensorList& t) { return t[0].rsqrt(); }, {pos});
  check_grad([](const TensorList& t) { return t[0].reciprocal(); }, {pos});
  check_grad([](const TensorList& t) { return t[0].sin(); }, {x});
  check_grad([](const TensorList& t) { return t[0].cos(); }, {x});
  check_grad([](const TensorList& t) { return t[0].tanh(); }, {x});
  check_grad([](const TensorList& t) { return t[0].sigmoid(); }, {x});
  check_grad([](const TensorList& t) { return t[0].relu(); }, {x});
  check_grad([](const TensorList& t) { return t[0].gelu(); }, {x});
  check_grad([](const TensorList& t) { return t[0].gelu("tanh"); }, {x});
  check_grad([](const TensorList& t) { return t[0].silu(); }, {x});
  check_grad([](const TensorList& t) { return t[0].square(); }, {x});
  // On a transposed (non-contiguous) input.
  check_grad([](const TensorList& t) { return t[0].t().tanh(); }, {x});
}

TEST_CASE("gradcheck: binary ops with broadcasting", "[autograd][grad]") {
  auto a = leaf({3, 4});
  auto b = leaf({4});
  auto c = leaf({3, 1}, 0.5, 2.0);
  check_grad([](const TensorList& t) { return t[0] + t[1]; }, {a, b});
  check_grad([](const TensorList& t) { return t[0].add(t[1], 2.5); }, {a, b});
  check_grad([](const TensorList& t) { return t[0] - t[1]; }, {a, b});
  check_grad([](const TensorList& t) { return t[0].sub(t[1], 0.5); }, {a, b});
  check_grad([](const TensorList& t) { return t[0] * t[1]; }, {a, b});
  check_grad([](const TensorList& t) { return t[0] / t[1]; }, {a, c});
  check_grad([](const TensorList& t) { return t[0].pow(t[1]); }, {leaf({3, 4}, 0.5, 2.0), leaf({4})});
  check_grad([](const TensorList& t) { return t[0].maximum(t[1]); }, {a, b});
  check_grad([](const TensorList& t) { return t[0].minimum(t[1]); }, {a, b});
  check_grad([](const TensorList& t) { return t[0] * 3.0 + 1.0; }, {a});
  check_grad([](const TensorList& t) { return t[0] / 4.0 - 2.0; }, {a});
  check_grad([](const TensorList& t) { return 2.0 - t[0]; }, {a});
  check_grad([](const TensorList& t) { return 2.0 / t[0]; }, {c});
  check_grad([](const TensorList& t) { return t[0].pow(3.0); }, {a});
  check_grad([](const TensorList& t) { return t[0].pow(0.5); }, {c});
  check_grad([](const TensorList& t) { return where(t[0].gt(0.0), t[0], t[1]); }, {a, b});
  check_grad([](const TensorList& t) { return t[0].clamp(-0.3, 0.4); }, {a});
  check_grad([](const TensorList& t) { return t[0].clamp(std::nullopt, Scalar(0.2)); }, {a});
  check_grad([](const TensorList& t) { return t[0].masked_fill(t[0].gt(0.2), 5.0); }, {a});
}

TEST_CASE("gradcheck: reductions", "[autograd][grad]") {
  auto x = leaf({3, 4, 5});
  check_grad([](const TensorList& t) { return t[0].sum(); }, {x});
  check_grad([](const TensorList& t) { return t[0].sum({0, 2}); }, {x});
  check_grad([](const TensorList& t) { return t[0].sum({1}, true); }, {x});
  check_grad([](const TensorList& t) { return t[0].mean({-1}); }, {x});
  check_grad([](const TensorList& t) { return t[0].prod({1}); }, {leaf({3, 4}, 0.5, 1.5)});
  check_grad([](const TensorList& t) { return t[0].amax({1}); }, {x});
  check_grad([](const TensorList& t) { return t[0].amin({0, 2}, true); }, {x});
  check_grad([](const TensorList& t) { return t[0].max(); }, {x});
  check_grad([](const TensorList& t) { return t[0].max(1).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].min(2, true).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].var({1}); }, {x});
  check_grad([](const TensorList& t) { return t[0].var({}, false); }, {x});
  check_grad([](const TensorList& t) { return t[0].std({2}, true, true); }, {x});
  check_grad([](const TensorList& t) { return t[0].norm(); }, {x});
  check_grad([](const TensorList& t) { return t[0].norm(1.0, {1}); }, {x});
  check_grad([](const TensorList& t) { return t[0].norm(3.0, {2}); }, {x});
  check_grad([](const TensorList& t) { return t[0].logsumexp({1}); }, {x});
  check_grad([](const TensorList& t) { return t[0].transpose(0, 2).sum({0}); }, {x});
}

TEST_CASE("gradcheck: prod with zeros", "[autograd][grad]") {
  auto x = from_vector<double>({0.0, 2.0, 3.0, 0.0, 0.0, 4.0}, {2, 3}).requires_grad_();
  x.prod({1}).sum().backward();
  test::check_close(x.grad(), {6, 0, 0, 0, 0, 0});
}

TEST_CASE("gradcheck: views and copies", "[autograd][grad]") {
  auto x = leaf({2, 3, 4});
  check_grad([](const TensorList& t) { return t[0].view({6, 4}); }, {x});
  check_grad([](const TensorList& t) { return t[0].transpose(1, 2).reshape({2, 12}); }, {x});
  check_grad([](const TensorList& t) { return t[0].permute({2, 0, 1}); }, {x});
  check_grad([](const TensorList& t) { return t[0].narrow(2, 1, 2); }, {x});
  check_grad([](const TensorList& t) { return t[0].slice(1, 0, 3, 2); }, {x});
  check_grad([](const TensorList& t) { return t[0].select(1, 2); }, {x});
  check_grad([](const TensorList& t) { return t[0].select(2, 0).unsqueeze(1).expand({2, 5, 3}); }, {x});
  check_grad([](const TensorList& t) { return t[0].unsqueeze(0).squeeze(); }, {x});
  check_grad([](const TensorList& t) { return t[0].flatten(); }, {x});
  check_grad([](const TensorList& t) { return t[0].as_strided({3, 2}, {2, 1}, 1); }, {leaf({8})});
  check_grad([](const TensorList& t) { return t[0].t().contiguous(); }, {leaf({3, 4})});
  check_grad([](const TensorList& t) { return t[0].clone(); }, {x});
  {  // float32 rounding defeats finite differences: check the dtype round trip directly
    auto y = leaf({3});
    auto z = y.to(DType::Float32);
    CHECK(z.dtype() == DType::Float32);
    (z * 2.0f).sum().backward();
    CHECK(y.grad().dtype() == DType::Float64);
    test::check_close(y.grad(), {2, 2, 2});
  }
  check_grad([](const TensorList& t) { return cat({t[0], t[1]}, 1); }, {leaf({2, 3}), leaf({2, 2})});
  check_grad([](const TensorList& t) { return stack({t[0], t[1]}, 2); }, {leaf({2, 3}), leaf({2, 3})});
  check_grad([](const TensorList& t) { return t[0].chunk(2, 1)[1]; }, {leaf({2, 4})});
  check_grad([](const TensorList& t) { return t[0].unbind(0)[1]; }, {leaf({2, 4})});
}

TEST_CASE("gradcheck: matmul in all its forms", "[autograd][grad]") {
  check_grad([](const TensorList& t) { return t[0].matmul(t[1]); }, {leaf({3, 4}), leaf({4, 5})});
  check_grad([](const TensorList& t) { return t[0].matmul(t[1]); }, {leaf({4}), leaf({4})});
  check_grad([](const TensorList& t) { return t[0].matmul(t[1]); }, {leaf({4}), leaf({4, 3})});
  check_grad([](const TensorList& t) { return t[0].matmul(t[1]); }, {leaf({3, 4}), leaf({4})});
  check_grad([](const TensorList& t) { return t[0].matmul(t[1]); }, {leaf({2, 3, 4}), leaf({4, 5})});
  check_grad([](const TensorList& t) { return t[0].matmul(t[1]); }, {leaf({2, 1, 3, 4}), leaf({3, 4, 2})});
  check_grad([](const TensorList& t) { return t[0].bmm(t[1]); }, {leaf({2, 3, 4}), leaf({2, 4, 2})});
  check_grad([](const TensorList& t) { return t[0].t().mm(t[1].t()); }, {leaf({4, 3}), leaf({2, 4})});
}

TEST_CASE("gradcheck: softmax and indexing", "[autograd][grad]") {
  auto x = leaf({3, 5, 2});
  check_grad([](const TensorList& t) { return t[0].softmax(1); }, {x});
  check_grad([](const TensorList& t) { return t[0].softmax(-1); }, {x});
  check_grad([](const TensorList& t) { return t[0].log_softmax(1); }, {x});
  check_grad([](const TensorList& t) { return t[0].transpose(0, 1).log_softmax(0); }, {x});
  auto idx = from_vector<int64_t>({2, 0, 2, 1}, {4});
  check_grad([idx](const TensorList& t) { return t[0].index_select(1, idx); }, {x});
  auto gidx = from_vector<int64_t>({0, 2, 1, 1, 0, 2}, {3, 2});
  check_grad([gidx](const TensorList& t) { return t[0].gather(1, gidx); }, {leaf({3, 4})});
  check_grad([gidx](const TensorList& t) { return t[0].scatter_add(1, gidx, t[1]); }, {leaf({3, 4}), leaf({3, 2})});
  check_grad([](const TensorList& t) { return t[0].masked_select(t[0].gt(0.0)); }, {leaf({3, 4})});
}

TEST_CASE("gradcheck: scatter_reduce, every reduction, with and without self", "[autograd][grad]") {
  // Duplicates in every row; src wider than the index (its last column gets no gradient).
  auto idx = from_vector<int64_t>({0, 2, 0, 3, 1, 1, 1, 2, 3, 3, 0, 3}, {3, 4});
  for (const char* reduce : {"sum", "prod", "mean", "amax", "amin"})
    for (bool include_self : {true, false}) {
      INFO(reduce << " include_self " << include_self);
      check_grad([=](const TensorList& t) { return t[0].scatter_reduce(1, idx, t[1], reduce, include_self); },
                 {leaf({3, 5}), leaf({3, 5})});
      check_grad([=](const TensorList& t) { return t[0].scatter_reduce(0, idx, t[1], reduce, include_self); },
                 {leaf({4, 4}), leaf({3, 4})});
    }
  // prod with zeros in self and src: the products of the others, one zero or several.
  auto zx = from_vector<double>({0, 2, -1, 3, 0.5}, {1, 5});
  auto zs = from_vector<double>({0, 1.5, 0, -2, 0}, {1, 5});
  zx.requires_grad_(true);
  zs.requires_grad_(true);
  auto zi = from_vector<int64_t>({0, 0, 1, 1, 2}, {1, 5});
  check_grad([=](const TensorList& t) { return t[0].scatter_reduce(1, zi, t[1], "prod"); }, {zx, zs});
}

TEST_CASE("second-order gradients through scatter_reduce", "[autograd][grad]") {
  auto idx = from_vector<int64_t>({0, 2, 0, 1, 1, 1}, {2, 3});
  for (const char* reduce : {"sum", "prod", "mean", "amax"})
    check_grad(
        [=](const TensorList& t) {
          autograd::EnableGradGuard eg;
          auto y = t[0].scatter_reduce(1, idx, t[1], reduce, false).pow(2.0).sum();
          auto g = autograd::grad({y}, {t[0], t[1]}, {}, false, true);
          return cat({g[0].reshape({-1}), g[1].reshape({-1})}, 0);
        },
        {leaf({2, 3}), leaf({2, 3})});
}

TEST_CASE("second-order gradients through composed backward formulas", "[autograd][grad]") {
  auto x = leaf({3});
  check_grad(
      [](const TensorList& t) {
        autograd::EnableGradGuard eg;
        auto y = (t[0].tanh() * t[0]).sum();
        return autograd::grad({y}, {t[0]}, {}, false, true)[0];
      },
      {x});
}

TEST_CASE("second-order gradients through slices, selects, gelu and silu", "[autograd][grad]") {
  auto second = [](std::function<Tensor(const Tensor&)> f) {
    return [f](const TensorList& t) {
      autograd::EnableGradGuard eg;
      auto y = f(t[0]).sum();
      return autograd::grad({y}, {t[0]}, {}, false, true)[0];
    };
  };
  check_grad(second([](const Tensor& x) { return x.narrow(1, 1, 2).pow(3.0); }), {leaf({2, 4})});
  check_grad(
      second([](const Tensor& x) { return x.slice(0, 0, 4, 2).tanh() * x.select(1, 0).narrow(0, 1, 2).unsqueeze(1); }),
      {leaf({4, 3})});
  check_grad(second([](const Tensor& x) { return x.gelu(); }), {leaf({5})});
  check_grad(second([](const Tensor& x) { return x.gelu("tanh"); }), {leaf({5})});
  check_grad(second([](const Tensor& x) { return x.silu(); }), {leaf({5})});
}
