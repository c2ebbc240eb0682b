// layer_norm and batch_norm front ends: values against compositions of loom
// ops, errors, float64 gradchecks (first and second order), running
// statistics, and [cuda] comparisons with the CPU on odd shapes.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "autograd/engine.h"
#include "autograd/ops/norm.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::check_close;
using test::check_grad;
using test::compare_gpu;
using test::leaf;

namespace {

Tensor ln_ref(const Tensor& x, const Dims& dims, const Tensor& w, const Tensor& b, double eps) {
  Tensor m = x.mean(dims, true);
  Tensor v = (x - m).square().mean(dims, true);
  Tensor y = (x - m) / (v + eps).sqrt();
  if (w.defined()) y = y * w;
  if (b.defined()) y = y + b;
  return y;
}

Tensor bn_ref(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& w, const Tensor& b, double eps) {
  Shape s(x.dim(), 1);
  s[1] = x.size(1);
  Tensor y = (x - mean.view(s)) / (var.view(s) + eps).sqrt();
  if (w.defined()) y = y * w.view(s);
  if (b.defined()) y = y + b.view(s);
  return y;
}

const Device kGPU("cuda:0");

Tensor fleaf(const Shape& s) { return (rand(s) * 4 - 2).detach().requires_grad_(true); }

}  // namespace

TEST_CASE("layer_norm matches the composition", "[norm]") {
  manual_seed(1);
  Tensor x = randn({3, 5, 7}) * 3 + 2;
  Tensor w = randn({7}), b = randn({7});
  check_close(layer_norm(x, {7}, w, b), ln_ref(x, {2}, w, b, 1e-5));
  check_close(layer_norm(x, {7}), ln_ref(x, {2}, {}, {}, 1e-5));
  check_close(layer_norm(x, {7}, w), ln_ref(x, {2}, w, {}, 1e-5));
  check_close(layer_norm(x, {7}, {}, b), ln_ref(x, {2}, {}, b, 1e-5));
  Tensor w2 = randn({5, 7}), b2 = randn({5, 7});
  check_close(layer_norm(x, {5, 7}, w2, b2, 1e-3), ln_ref(x, {1, 2}, w2, b2, 1e-3));
  // Non-contiguous input, a row with a large mean (two-pass variance), D = 1.
  check_close(layer_norm(x.transpose(0, 2), {3}), ln_ref(x.transpose(0, 2), {2}, {}, {}, 1e-5));
  Tensor big = randn({4, 33}) + 1000.0;
  check_close(layer_norm(big, {33}), ln_ref(big.to(DType::Float64), {1}, {}, {}, 1e-5).to(DType::Float32), 2e-3, 2e-3);
  check_close(layer_norm(randn({2, 1}), {1}), std::vector<double>{0, 0});
  CHECK(layer_norm(empty({0, 4}), {4}).sizes() == Shape{0, 4});
}

TEST_CASE("layer_norm rejects bad arguments", "[norm]") {
  Tensor x = randn({2, 3});
  CHECK_THROWS_WITH(layer_norm(x, {4}), ContainsSubstring("layer_norm") && ContainsSubstring("normalized_shape"));
  CHECK_THROWS_WITH(layer_norm(x, {3}, randn({4})), ContainsSubstring("weight of shape [3]"));
  CHECK_THROWS_WITH(layer_norm(x, {3}, {}, randn({3}, TensorOptions(DType::Float64))),
                    ContainsSubstring("bias of dtype float32"));
  CHECK_THROWS_WITH(layer_norm(x, {}), ContainsSubstring("at least one dimension"));
  CHECK_THROWS_WITH(layer_norm(ones({2, 3}, TensorOptions(DType::Int64)), {3}), ContainsSubstring("floating point"));
}

TEST_CASE("layer_norm gradcheck", "[norm]") {
  manual_seed(2);
  auto x = leaf({4, 6}), w = leaf({6}), b = leaf({6});
  check_grad([](const TensorList& t) { return layer_norm(t[0], {6}, t[1], t[2]); }, {x, w, b});
  check_grad([](const TensorList& t) { return layer_norm(t[0], {6}); }, {x});
  auto x3 = leaf({2, 3, 4}), w3 = leaf({3, 4});
  check_grad([](const TensorList& t) { return layer_norm(t[0], {3, 4}, t[1]); }, {x3, w3});
  check_grad([](const TensorList& t) { return layer_norm(t[0].transpose(0, 2), {2}, {}, t[1], 1e-2); },
             {x3, leaf({2})});
}

TEST_CASE("layer_norm double backward", "[norm]") {
  manual_seed(3);
  auto x = leaf({3, 5}), w = leaf({5}), b = leaf({5});
  Tensor g = randn({3, 5}, TensorOptions(DType::Float64));
  check_grad(
      [g](const TensorList& t) {
        autograd::EnableGradGuard eg;  // gradcheck evaluates f under no-grad for the numeric Jacobian
        Tensor y = layer_norm(t[0], {5}, t[1], t[2]);
        auto gr = autograd::grad({y}, {t[0], t[1]}, {g}, true, true);
        return gr[0].sum() * 0.5 + (gr[0] * gr[0]).sum() + (gr[1] * gr[1]).sum();
      },
      {x, w, b});
}

TEST_CASE("batch_norm training: values and running statistics", "[norm]") {
  manual_seed(4);
  Tensor x = randn({4, 3, 5}) * 2 + 1;
  Tensor w = randn({3}), b = randn({3});
  Tensor rm = zeros({3}), rv = ones({3});
  Tensor y = batch_norm(x, rm, rv, w, b, true, 0.1, 1e-5);
  Tensor mean = x.mean({0, 2}), var = x.var({0, 2}, false);
  check_close(y, bn_ref(x, mean, var, w, b, 1e-5));
  check_close(rm, (mean * 0.1).to_vector());
  check_close(rv, (ones({3}) * 0.9 + x.var({0, 2}, true) * 0.1).to_vector());
  // 2-D input [N, C] and no affine / no running stats.
  Tensor x2 = randn({6, 4});
  check_close(batch_norm(x2, {}, {}, {}, {}, true), bn_ref(x2, x2.mean({0}), x2.var({0}, false), {}, {}, 1e-5));
  // Evaluation uses the running statistics and leaves them alone.
  Tensor rm2 = randn({3}), rv2 = rand({3}) + 0.5;
  std::vector<double> before = rm2.to_vector();
  check_close(batch_norm(x, rm2, rv2, w, b, false), bn_ref(x, rm2, rv2, w, b, 1e-5));
  check_close(rm2, before, 0, 0);
}

TEST_CASE("batch_norm rejects bad arguments", "[norm]") {
  Tensor x = randn({2, 3, 4});
  CHECK_THROWS_WITH(batch_norm(x, {}, {}, {}, {}, false), ContainsSubstring("running_mean and running_var"));
  CHECK_THROWS_WITH(batch_norm(x, zeros({4}), ones({3}), {}, {}, false),
                    ContainsSubstring("running_mean of shape [3]"));
  CHECK_THROWS_WITH(batch_norm(randn({1, 3}), {}, {}, {}, {}, true), ContainsSubstring("more than 1 value"));
  CHECK_THROWS_WITH(batch_norm(randn({3}), {}, {}, {}, {}, true), ContainsSubstring("[N, C, *]"));
}

TEST_CASE("batch_norm gradcheck", "[norm]") {
  manual_seed(5);
  auto x = leaf({3, 2, 4}), w = leaf({2}), b = leaf({2});
  check_grad([](const TensorList& t) { return batch_norm(t[0], {}, {}, t[1], t[2], true); }, {x, w, b});
  Tensor rm = randn({2}, TensorOptions(DType::Float64)), rv = rand({2}, TensorOptions(DType::Float64)) + 0.5;
  check_grad([rm, rv](const TensorList& t) { return batch_norm(t[0], rm, rv, t[1], t[2], false); }, {x, w, b});
  check_grad([](const TensorList& t) { return batch_norm(t[0].transpose(0, 2), {}, {}, {}, {}, true); },
             {leaf({2, 3, 5})});
  Tensor g = randn({3, 2, 4}, TensorOptions(DType::Float64));
  check_grad(
      [g](const TensorList& t) {
        autograd::EnableGradGuard eg;  // gradcheck evaluates f under no-grad for the numeric Jacobian
        Tensor y = batch_norm(t[0], {}, {}, t[1], {}, true);
        auto gr = autograd::grad({y}, {t[0]}, {g}, true, true);
        return (gr[0] * gr[0]).sum();
      },
      {x, w});
}

TEST_CASE("CUDA layer_norm matches the CPU", "[norm][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(6);
  for (int64_t D : {1, 3, 7, 64, 100, 255, 1024, 1031, 4096}) {
    INFO("D = " << D);
    compare_gpu([D](const TensorList& t) { return layer_norm(t[0], {D}, t[1], t[2]); },
                {fleaf({37, D}), fleaf({D}), fleaf({D})});
    compare_gpu([D](const TensorList& t) { return layer_norm(t[0], {D}); }, {fleaf({5, D})});
  }
  compare_gpu([](const TensorList& t) { return layer_norm(t[0], {6, 7}, t[1]); }, {fleaf({3, 5, 6, 7}), fleaf({6, 7})});
  // Offset row pointers (misaligned for float4) through a narrow view.
  Tensor base = fleaf({9, 129});
  compare_gpu([](const TensorList& t) { return layer_norm(t[0].narrow(1, 1, 128), {128}, t[1]); },
              {base, fleaf({128})});
}

TEST_CASE("CUDA batch_norm matches the CPU", "[norm][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(7);
  compare_gpu([](const TensorList& t) { return batch_norm(t[0], {}, {}, t[1], t[2], true); },
              {fleaf({5, 3, 7, 9}), fleaf({3}), fleaf({3})});
  Tensor rm = randn({3}), rv = rand({3}) + 0.5;
  Tensor rmg = rm.to(kGPU), rvg = rv.to(kGPU);
  compare_gpu(
      [&](const TensorList& t) {
        bool gpu = t[0].is_cuda();
        return batch_norm(t[0], gpu ? rmg : rm, gpu ? rvg : rv, t[1], t[2], true, 0.2);
      },
      {fleaf({4, 3, 11}), fleaf({3}), fleaf({3})});
  check_close(rmg.cpu(), rm, 1e-5, 1e-4);
  check_close(rvg.cpu(), rv, 1e-5, 1e-4);
  // Each channel split over several blocks (workspace from the allocator),
  // float4 loads; then S = 1 (planes of C values); evaluation mode.
  compare_gpu([](const TensorList& t) { return batch_norm(t[0], {}, {}, t[1], t[2], true); },
              {fleaf({16, 4, 32, 32}), fleaf({4}), fleaf({4})});
  compare_gpu([](const TensorList& t) { return batch_norm(t[0], {}, {}, t[1], {}, true); },
              {fleaf({3000, 5}), fleaf({5})});
  compare_gpu(
      [&](const TensorList& t) {
        bool gpu = t[0].is_cuda();
        return batch_norm(t[0], gpu ? rmg : rm, gpu ? rvg : rv, t[1], t[2], false);
      },
      {fleaf({6, 3, 8, 8}), fleaf({3}), fleaf({3})});
  // A contiguous input one element into its storage: S % 4 == 0, scalar loads.
  compare_gpu(
      [](const TensorList& t) {
        return batch_norm(t[0].narrow(0, 1, 384).view({8, 3, 4, 4}), {}, {}, {}, {}, true);
      },
      {fleaf({385})});
}
