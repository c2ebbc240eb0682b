// scaled_dot_product_attention: values against the composition
// softmax(q k^T * scale + mask) v in loom ops (float64), errors, gradcheck,
// dropout statistics and determinism, CUDA against CPU.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <limits>

#include "autograd/ops/attention.h"
#include "core/random.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

namespace {

const TensorOptions kF64(DType::Float64);

// The unfused reference. Fully masked rows are mapped to 0, as the fused op does.
Tensor reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal, double scale) {
  Tensor s = q.matmul(k.transpose(-1, -2)) * scale;
  const int64_t Lq = q.size(-2), Lk = k.size(-2);
  if (causal) {
    Tensor i = arange(Lq, kF64).unsqueeze(1), j = arange(Lk, kF64).unsqueeze(0);
    s = s.masked_fill(j.gt(i), -std::numeric_limits<double>::infinity());
  }
  if (mask.defined()) {
    if (mask.dtype() == DType::Bool) s = s.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
    else s = s + mask.to(s.dtype());
  }
  Tensor p = s.softmax(-1);
  p = p.masked_fill(p.ne(p), 0.0);  // NaN rows (everything masked) -> 0
  return p.matmul(v);
}

}  // namespace

TEST_CASE("sdpa matches softmax(qk^T*scale)v", "[attention]") {
  struct C {
    int64_t B, H, Lq, Lk, D, Dv;
    bool causal;
  };
  for (C c : {C{2, 3, 37, 37, 16, 16, false}, C{1, 2, 37, 129, 64, 64, false}, C{2, 1, 129, 37, 80, 80, true},
              C{1, 1, 45, 45, 128, 128, true}, C{1, 2, 5, 9, 16, 24, false}}) {
    Tensor q = randn({c.B, c.H, c.Lq, c.D}, kF64), k = randn({c.B, c.H, c.Lk, c.D}, kF64),
           v = randn({c.B, c.H, c.Lk, c.Dv}, kF64);
    Tensor y = scaled_dot_product_attention(q, k, v, {}, 0.0, c.causal);
    test::check_close(y, reference(q, k, v, {}, c.causal, 1.0 / std::sqrt(double(c.D))), 1e-10, 1e-9);
    Tensor y32 = scaled_dot_product_attention(q.to(DType::Float32), k.to(DType::Float32), v.to(DType::Float32), {}, 0.0,
                                              c.causal);
    CHECK(y32.dtype() == DType::Float32);
    test::check_close(y32, y, 1e-4, 1e-3);
  }
}

TEST_CASE("sdpa masks: bool, float, key padding, custom scale, 3-d inputs", "[attention]") {
  Tensor q = randn({2, 3, 11, 16}, kF64), k = randn({2, 3, 13, 16}, kF64), v = randn({2, 3, 13, 8}, kF64);
  SECTION("key padding [B,1,1,Lk]; a fully padded batch gives zeros") {
    Tensor pad = zeros({2, 1, 1, 13}, TensorOptions(DType::Bool));
    pad.narrow(3, 0, 9).select(0, 0).fill_(1.0);  // batch 0 keeps 9 keys, batch 1 none
    Tensor y = scaled_dot_product_attention(q, k, v, pad);
    test::check_close(y, reference(q, k, v, pad, false, 0.25), 1e-10, 1e-9);
    for (double x : y.select(0, 1).to_vector()) CHECK(x == 0.0);
  }
  SECTION("full bool mask with causal") {
    Tensor m = rand({2, 3, 11, 13}).gt(0.3);
    Tensor y = scaled_dot_product_attention(q, k, v, m, 0.0, true);
    test::check_close(y, reference(q, k, v, m, true, 0.25), 1e-10, 1e-9);
  }
  SECTION("float mask [Lq,Lk] (float32 converted) and scale") {
    Tensor m = randn({11, 13});
    Tensor y = scaled_dot_product_attention(q, k, v, m, 0.0, false, 0.7);
    test::check_close(y, reference(q, k, v, m, false, 0.7), 1e-10, 1e-9);
  }
  SECTION("3-d inputs") {
    Tensor q3 = q.select(1, 0), k3 = k.select(1, 0), v3 = v.select(1, 0);
    Tensor m = rand({2, 11, 13}).gt(0.2);
    Tensor y = scaled_dot_product_attention(q3, k3, v3, m);
    REQUIRE(y.sizes() == Shape{2, 11, 8});
    test::check_close(y, reference(q3, k3, v3, m, false, 0.25), 1e-10, 1e-9);
  }
}

TEST_CASE("sdpa errors", "[attention]") {
  Tensor q = randn({2, 3, 5, 8}), k = randn({2, 3, 6, 8}), v = randn({2, 3, 6, 4});
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, randn({2, 3, 6, 7}), v),
                    ContainsSubstring("scaled_dot_product_attention") && ContainsSubstring("embedding size"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, randn({2, 3, 5, 4})), ContainsSubstring("sequence length"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, randn({2, 2, 6, 4})), ContainsSubstring("batch dimensions"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(randn({5, 8}), randn({6, 8}), randn({6, 4})),
                    ContainsSubstring("same rank"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v, zeros({5, 7})), ContainsSubstring("broadcastable"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v, {}, 1.5), ContainsSubstring("dropout_p"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k.to(DType::Float64), v), ContainsSubstring("one dtype"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v, zeros({5, 6}, TensorOptions(DType::Int64))),
                    ContainsSubstring("attn_mask must be bool"));
}

TEST_CASE("sdpa gradcheck (float64)", "[attention]") {
  SECTION("plain, Lq != Lk") {
    Tensor q = test::leaf({1, 2, 5, 4}), k = test::leaf({1, 2, 7, 4}), v = test::leaf({1, 2, 7, 3});
    test::check_grad([](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }, {q, k, v});
  }
  SECTION("causal with key padding (a fully masked row)") {
    Tensor q = test::leaf({2, 1, 6, 4}), k = test::leaf({2, 1, 6, 4}), v = test::leaf({2, 1, 6, 4});
    Tensor pad = ones({2, 1, 1, 6}, TensorOptions(DType::Bool));
    pad.select(0, 1).narrow(2, 0, 2).fill_(0.0);  // batch 1: first two keys padded -> causal rows 0,1 empty
    test::check_grad(
        [pad](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2], pad, 0.0, true); },
        {q, k, v});
  }
  SECTION("float mask, 3-d, scale") {
    Tensor q = test::leaf({2, 5, 3}), k = test::leaf({2, 4, 3}), v = test::leaf({2, 4, 2});
    Tensor m = randn({5, 4}, kF64);
    test::check_grad(
        [m](const TensorList& x) { return scaled_dot_product_attention(x[0], x[1], x[2], m, 0.0, false, 1.3); },
        {q, k, v});
  }
  SECTION("dropout with a fixed seed: backward uses the forward's mask") {
    Tensor q = test::leaf({1, 2, 5, 4}), k = test::leaf({1, 2, 6, 4}), v = test::leaf({1, 2, 6, 3});
    test::check_grad(
        [](const TensorList& x) {
          manual_seed(42);
          return scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.3);
        },
        {q, k, v});
  }
}

TEST_CASE("sdpa dropout: same seed same output, mean preserved", "[attention]") {
  Tensor q = randn({2, 4, 64, 16}), k = randn({2, 4, 80, 16}), v = randn({2, 4, 80, 16});
  manual_seed(7);
  Tensor a = scaled_dot_product_attention(q, k, v, {}, 0.25);
  manual_seed(7);
  Tensor b = scaled_dot_product_attention(q, k, v, {}, 0.25);
  test::check_close(a, b, 0.0, 0.0);
  Tensor c = scaled_dot_product_attention(q, k, v, {}, 0.25);  // the stream moved on
  CHECK(!test::allclose(c.to_vector(), a.to_vector(), 0.0, 0.0));
  // With v = 1 every output is sum_j P_ij Z_ij, whose mean is 1.
  Tensor ones_v = ones({2, 4, 80, 16});
  double mean = scaled_dot_product_attention(q, k, ones_v, {}, 0.25).mean().item<double>();
  CHECK(std::fabs(mean - 1.0) < 0.02);
  // p = 1 drops everything.
  for (double x : scaled_dot_product_attention(q, k, v, {}, 1.0).to_vector()) CHECK(x == 0.0);
}

TEST_CASE("sdpa cuda matches cpu", "[attention][cuda]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  struct C {
    int64_t B, H, Lq, Lk, D, Dv;
    bool causal;
    int mask;
  };
  for (C c : {C{2, 3, 37, 129, 64, 64, false, 0}, C{1, 2, 129, 37, 80, 80, true, 0}, C{2, 2, 67, 67, 128, 128, true, 1},
              C{3, 2, 33, 45, 16, 32, false, 2}}) {
    Tensor q = randn({c.B, c.H, c.Lq, c.D}).requires_grad_(true), k = randn({c.B, c.H, c.Lk, c.D}).requires_grad_(true),
           v = randn({c.B, c.H, c.Lk, c.Dv}).requires_grad_(true);
    Tensor m;
    if (c.mask == 1) m = rand({c.B, 1, 1, c.Lk}).gt(0.3);
    if (c.mask == 2) m = randn({c.Lq, c.Lk});
    Tensor qg = q.detach().to(gpu).requires_grad_(true), kg = k.detach().to(gpu).requires_grad_(true),
           vg = v.detach().to(gpu).requires_grad_(true);
    Tensor yc = scaled_dot_product_attention(q, k, v, m, 0.0, c.causal);
    Tensor yg = scaled_dot_product_attention(qg, kg, vg, m.defined() ? m.to(gpu) : m, 0.0, c.causal);
    test::check_close(yg.cpu(), yc, 1e-4, 1e-3);
    Tensor g = randn(yc.sizes());
    yc.backward(g);
    yg.backward(g.to(gpu));
    test::check_close(qg.grad().cpu(), q.grad(), 1e-4, 1e-3);
    test::check_close(kg.grad().cpu(), k.grad(), 1e-4, 1e-3);
    test::check_close(vg.grad().cpu(), v.grad(), 1e-4, 1e-3);
  }
  // Dropout: the same (seed, offset) gives the same mask on both devices.
  Tensor q = randn({2, 2, 37, 32}), k = randn({2, 2, 41, 32}), v = randn({2, 2, 41, 32});
  set_rng_state(Device(DeviceType::CPU), PhiloxState{99, 0});
  set_rng_state(gpu, PhiloxState{99, 0});
  Tensor yc = scaled_dot_product_attention(q, k, v, {}, 0.2);
  Tensor yg = scaled_dot_product_attention(q.to(gpu), k.to(gpu), v.to(gpu), {}, 0.2);
  test::check_close(yg.cpu(), yc, 1e-4, 1e-3);
}
