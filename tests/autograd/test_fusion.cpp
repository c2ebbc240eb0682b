// Fusion front ends (linear, linear2, gated_fusion, film, bilinear_pool,
// clip_loss): values against compositions of loom ops (cat, matmul, sigmoid,
// log_softmax), errors, float64 gradchecks for every input (first order, and
// second order through the create_graph path), and [cuda] CUDA-vs-CPU
// forward + backward comparisons on odd shapes.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/ops/fusion.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::check_close;
using test::check_grad;
using test::compare_gpu;
using test::leaf;

namespace {

Tensor gated_ref(const Tensor& a, const Tensor& b, const Tensor& W, const Tensor& c) {
  Tensor g = (matmul(cat({a, b}, 1), W.t()) + c).sigmoid();
  return g * a + (1.0 - g) * b;
}

Tensor film_ref(const Tensor& a, const Tensor& b, const Tensor& W, const Tensor& c) {
  const int64_t D = a.size(1);
  Tensor p = matmul(b, W.t()) + c;
  return p.narrow(1, 0, D) * a + p.narrow(1, D, D);
}

Tensor clip_ref(const Tensor& img, const Tensor& txt, const Tensor& ls) {
  const int64_t N = img.size(0);
  Tensor L = matmul(img, txt.t()) * ls.exp();
  Tensor idx = arange(N);
  Tensor lr = L.log_softmax(1).gather(1, idx.unsqueeze(1)).mean();
  Tensor lc = L.t().log_softmax(1).gather(1, idx.unsqueeze(1)).mean();
  return (lr + lc) * -0.5;
}

Tensor normed(const Shape& s) {
  Tensor x = randn(s, TensorOptions(DType::Float64));
  x = x / x.norm(2.0, {1}, true);
  return x.detach().requires_grad_(true);
}

const Device kGPU("cuda:0");

// A fixed gradient seed that does not depend on the inputs.
Tensor seed_like(const Tensor& y) {
  return (arange(0, y.numel(), 1, TensorOptions(DType::Float64)) * 0.3 - 0.4).view(y.sizes());
}

Tensor fleaf(const Shape& s, double scale = 1.0) { return (randn(s) * scale).detach().requires_grad_(true); }

}  // namespace

TEST_CASE("linear2 matches cat + matmul", "[fusion]") {
  manual_seed(1);
  Tensor a = randn({5, 3}), b = randn({5, 4}), W = randn({6, 7}), c = randn({6});
  check_close(linear2(a, b, W, c), matmul(cat({a, b}, 1), W.t()) + c);
  check_close(linear2(a, b, W), matmul(cat({a, b}, 1), W.t()));
  Tensor a3 = randn({2, 3, 3}), b3 = randn({2, 3, 4});
  check_close(linear2(a3, b3, W, c), matmul(cat({a3, b3}, -1), W.t()) + c);
  CHECK_THROWS_WITH(linear2(a, b, randn({6, 8})), ContainsSubstring("linear2: weight"));
  CHECK_THROWS_WITH(linear2(a, randn({4, 4}), W), ContainsSubstring("same leading dims"));
}

TEST_CASE("linear2 gradcheck", "[fusion]") {
  manual_seed(2);
  check_grad([](const TensorList& t) { return linear2(t[0], t[1], t[2], t[3]); },
             {leaf({4, 3}), leaf({4, 2}), leaf({5, 5}), leaf({5})});
  check_grad([](const TensorList& t) { return linear2(t[0], t[1], t[2]); }, {leaf({3, 2}), leaf({3, 3}), leaf({2, 5})});
}

TEST_CASE("gated_fusion matches the composition", "[fusion]") {
  manual_seed(3);
  Tensor a = randn({6, 5}), b = randn({6, 5}), W = randn({5, 10}), c = randn({5});
  check_close(gated_fusion(a, b, W, c), gated_ref(a, b, W, c));
  CHECK_THROWS_WITH(gated_fusion(a, b, randn({5, 9}), c), ContainsSubstring("gated_fusion: expected weight"));
  CHECK_THROWS_WITH(gated_fusion(a, randn({6, 4}), W, c), ContainsSubstring("same shape"));
  CHECK_THROWS_WITH(gated_fusion(a, b, W, randn({4})), ContainsSubstring("expected bias"));
  CHECK_THROWS_WITH(gated_fusion(a, b.to(DType::Float64), W, c), ContainsSubstring("dtype"));
}

TEST_CASE("gated_fusion gradcheck", "[fusion]") {
  manual_seed(4);
  auto f = [](const TensorList& t) { return gated_fusion(t[0], t[1], t[2], t[3]); };
  check_grad(f, {leaf({4, 3}), leaf({4, 3}), leaf({3, 6}), leaf({3})});
  // Second order (create_graph path).
  check_grad(
      [&](const TensorList& t) {
        autograd::EnableGradGuard eg;  // gradcheck evaluates f under no-grad for the numeric Jacobian
        Tensor y = f(t);
        return autograd::grad({y}, {t[0], t[2]}, {ones_like(y)}, true, true)[1];
      },
      {leaf({3, 2}), leaf({3, 2}), leaf({2, 4}), leaf({2})});
  // Only some inputs need grad.
  Tensor a = leaf({3, 2}), b = randn({3, 2}, TensorOptions(DType::Float64));
  Tensor W = randn({2, 4}, TensorOptions(DType::Float64)), c = randn({2}, TensorOptions(DType::Float64));
  gated_fusion(a, b, W, c).sum().backward();
  Tensor a2 = a.detach().requires_grad_(true);
  gated_ref(a2, b, W, c).sum().backward();
  check_close(a.grad(), a2.grad(), 1e-10, 1e-10);
}

TEST_CASE("film matches the composition", "[fusion]") {
  manual_seed(5);
  Tensor a = randn({4, 3}), b = randn({4, 5}), W = randn({6, 5}), c = randn({6});
  check_close(film(a, b, W, c), film_ref(a, b, W, c));
  CHECK_THROWS_WITH(film(a, b, randn({6, 4}), c), ContainsSubstring("film: expected weight"));
  CHECK_THROWS_WITH(film(a, randn({3, 5}), W, c), ContainsSubstring("batch size"));
}

TEST_CASE("film gradcheck", "[fusion]") {
  manual_seed(6);
  auto f = [](const TensorList& t) { return film(t[0], t[1], t[2], t[3]); };
  check_grad(f, {leaf({3, 4}), leaf({3, 2}), leaf({8, 2}), leaf({8})});
  check_grad(
      [&](const TensorList& t) {
        autograd::EnableGradGuard eg;  // gradcheck evaluates f under no-grad for the numeric Jacobian
        Tensor y = f(t);
        return autograd::grad({y}, {t[1]}, {seed_like(y)}, true, true)[0];
      },
      {leaf({2, 2}), leaf({2, 3}), leaf({4, 3}), leaf({4})});
}

TEST_CASE("bilinear_pool matches the composition and gradchecks", "[fusion]") {
  manual_seed(7);
  Tensor a = randn({4, 3}), b = randn({4, 5}), U = randn({6, 3}), V = randn({6, 5}), P = randn({2, 6});
  check_close(bilinear_pool(a, b, U, V, P), matmul(matmul(a, U.t()) * matmul(b, V.t()), P.t()), 1e-4, 1e-4);
  CHECK_THROWS_WITH(bilinear_pool(a, b, U, randn({5, 5}), P), ContainsSubstring("bilinear_pool: expected V"));
  check_grad([](const TensorList& t) { return bilinear_pool(t[0], t[1], t[2], t[3], t[4]); },
             {leaf({3, 2}), leaf({3, 4}), leaf({5, 2}), leaf({5, 4}), leaf({3, 5})});
}

TEST_CASE("clip_loss matches log_softmax cross-entropies", "[fusion]") {
  manual_seed(8);
  for (int64_t N : {1, 2, 7, 33}) {
    INFO("N = " << N);
    Tensor img = normed({N, 5}).detach(), txt = normed({N, 5}).detach();
    Tensor ls = full({}, 2.3, TensorOptions(DType::Float64));
    check_close(clip_loss(img, txt, ls), clip_ref(img, txt, ls), 1e-10, 1e-10);
    Tensor imgf = img.to(DType::Float32), txtf = txt.to(DType::Float32), lsf = ls.to(DType::Float32);
    check_close(clip_loss(imgf, txtf, lsf), clip_ref(img, txt, ls), 1e-5, 1e-5);
  }
  Tensor x = randn({3, 4});
  CHECK_THROWS_WITH(clip_loss(x, randn({3, 5}), zeros({})), ContainsSubstring("same shape"));
  CHECK_THROWS_WITH(clip_loss(x, x, zeros({2})), ContainsSubstring("one-element"));
}

TEST_CASE("clip_loss gradcheck", "[fusion]") {
  manual_seed(9);
  auto f = [](const TensorList& t) { return clip_loss(t[0], t[1], t[2]); };
  check_grad(f, {normed({5, 3}), normed({5, 3}), leaf({}, 0.5, 1.5)});
  check_grad(f, {normed({1, 2}), normed({1, 2}), leaf({1}, 0.5, 1.5)});
  check_grad(
      [&](const TensorList& t) {
        autograd::EnableGradGuard eg;  // gradcheck evaluates f under no-grad for the numeric Jacobian
        Tensor y = f(t);
        return autograd::grad({y}, {t[0]}, {}, true, true)[0];
      },
      {normed({3, 2}), normed({3, 2}), leaf({}, 0.5, 1.0)});
}

TEST_CASE("linear with fused epilogues matches the composition", "[fusion]") {
  manual_seed(10);
  Tensor x = randn({2, 3, 5}), W = randn({4, 5}), c = randn({4});
  check_close(linear(x, W, c), matmul(x, W.t()) + c);
  check_close(linear(x, W), matmul(x, W.t()));
  check_close(linear(x, W, c, "relu"), (matmul(x, W.t()) + c).relu());
  check_close(linear(x, W, c, "gelu"), (matmul(x, W.t()) + c).gelu("tanh"));
  check_close(linear(x, W, {}, "gelu"), matmul(x, W.t()).gelu("tanh"));
  CHECK_THROWS_WITH(linear(x, W, c, "tanh"), ContainsSubstring("linear: activation"));
  CHECK_THROWS_WITH(linear(x, randn({4, 4})), ContainsSubstring("cannot be multiplied"));
}

TEST_CASE("linear gradcheck", "[fusion]") {
  manual_seed(11);
  for (const char* act : {"none", "relu", "gelu"}) {
    INFO(act);
    std::string a = act;
    check_grad([a](const TensorList& t) { return linear(t[0], t[1], t[2], a); },
               {leaf({2, 3, 4}), leaf({5, 4}), leaf({5})});
    check_grad([a](const TensorList& t) { return linear(t[0], t[1], Tensor(), a); }, {leaf({3, 4}), leaf({2, 4})});
    // Second order (create_graph path).
    check_grad(
        [a](const TensorList& t) {
          autograd::EnableGradGuard eg;
          Tensor y = linear(t[0], t[1], t[2], a);
          return autograd::grad({y}, {t[1]}, {ones_like(y)}, true, true)[0];
        },
        {leaf({3, 4}), leaf({2, 4}), leaf({2})});
  }
}

TEST_CASE("CUDA fusion ops match the CPU", "[fusion][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(12);
  for (int64_t D : {1, 7, 64, 129}) {
    INFO("D = " << D);
    compare_gpu([](const TensorList& t) { return gated_fusion(t[0], t[1], t[2], t[3]); },
                {fleaf({37, D}), fleaf({37, D}), fleaf({D, 2 * D}, 0.2), fleaf({D})}, 2e-4, 2e-4);
    compare_gpu([](const TensorList& t) { return film(t[0], t[1], t[2], t[3]); },
                {fleaf({19, D}), fleaf({19, 13}), fleaf({2 * D, 13}, 0.3), fleaf({2 * D})}, 2e-4, 2e-4);
    compare_gpu([](const TensorList& t) { return linear2(t[0], t[1], t[2], t[3]); },
                {fleaf({11, D}), fleaf({11, 5}), fleaf({9, D + 5}, 0.3), fleaf({9})}, 2e-4, 2e-4);
    compare_gpu([](const TensorList& t) { return bilinear_pool(t[0], t[1], t[2], t[3], t[4]); },
                {fleaf({9, D}), fleaf({9, 6}), fleaf({17, D}, 0.3), fleaf({17, 6}, 0.3), fleaf({5, 17}, 0.3)}, 5e-4,
                5e-4);
  }
  for (int64_t N : {1, 5, 33, 257}) {
    INFO("N = " << N);
    auto nf = [](const Shape& s) {
      Tensor x = randn(s);
      return (x / x.norm(2.0, {1}, true)).detach().requires_grad_(true);
    };
    compare_gpu([](const TensorList& t) { return clip_loss(t[0], t[1], t[2]); },
                {nf({N, 24}), nf({N, 24}), full({}, 2.0).requires_grad_(true)}, 1e-4, 1e-4);
  }
  for (const char* act : {"none", "relu", "gelu"}) {
    std::string a = act;
    for (int64_t O : {1, 8, 33}) {
      INFO(act << " O = " << O);
      compare_gpu([a](const TensorList& t) { return linear(t[0], t[1], t[2], a); },
                  {fleaf({3, 7, 19}), fleaf({O, 19}, 0.3), fleaf({O})}, 2e-4, 2e-4);
      compare_gpu([a](const TensorList& t) { return linear(t[0], t[1], Tensor(), a); },
                  {fleaf({13, 16}), fleaf({O, 16}, 0.3)}, 2e-4, 2e-4);
    }
  }
  // Offset (misaligned) bias and weight views: the unfused fallback and the
  // alignment preferences.
  compare_gpu([](const TensorList& t) { return linear(t[0], t[1].narrow(0, 1, 8), t[2].narrow(0, 1, 8), "relu"); },
              {fleaf({10, 12}), fleaf({9, 12}, 0.3), fleaf({9})}, 2e-4, 2e-4);
  // float64 linear takes the cuBLAS + epilogue-kernel path.
  compare_gpu([](const TensorList& t) { return linear(t[0], t[1], t[2], "gelu"); },
              {leaf({5, 6}), leaf({4, 6}), leaf({4})}, 1e-10, 1e-10);
}
