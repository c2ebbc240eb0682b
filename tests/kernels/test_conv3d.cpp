// conv3d / conv_transpose3d (autograd/ops/conv.cpp over the CPU convolution
// kernels with a depth, kernels/cpu/conv.cpp): values and both gradients
// against float64 loops written here, on shapes that take each of the
// kernels' schedules (whole samples, row slabs across depth slices, the
// float32 register tiles, the 1x1x1 path) with stride, padding, dilation and
// groups; the transposed convolution against the registry's reference and as
// conv3d's input gradient; float64 gradchecks, double backward, bad
// arguments; [cuda] against the CPU (the CUDA path composes 2-D convolutions
// per depth tap).
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "../core/op_references.h"
#include "autograd/engine.h"
#include "autograd/ops/conv.h"
#include "core/error.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

struct Case {
  Shape x, w;
  Dims stride, pad, dil;
  int64_t groups;
};

const std::vector<Case> kCases = {
    {{2, 4, 5, 6, 5}, {6, 2, 3, 2, 3}, {2, 1, 2}, {1, 0, 1}, {1, 2, 1}, 2},       // whole samples
    {{4, 16, 6, 10, 12}, {32, 16, 3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1},  // slabs, register tiles
    {{3, 8, 7, 9, 8}, {16, 4, 2, 3, 3}, {2, 2, 1}, {1, 1, 0}, {2, 1, 1}, 2},      // strided, dilated depth
    {{2, 8, 4, 5, 6}, {16, 8, 1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1},      // 1x1x1: no im2col
    {{3, 6, 9, 4, 5}, {12, 6, 3, 1, 1}, {1, 1, 1}, {2, 0, 0}, {2, 1, 1}, 1},      // a temporal kernel only
    {{5, 3, 6, 11, 13}, {4, 3, 3, 3, 3}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, 1},     // few channels, first layer
};

// y = conv3d(x, w, b) and, for the output gradient g, d<y, g>/dx and d<y, g>/dw, in double.
struct Ref {
  std::vector<double> y, gx, gw;
};
Ref reference(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& g, const Case& c) {
  const int64_t N = x.size(0), C = x.size(1), D = x.size(2), H = x.size(3), W = x.size(4);
  const int64_t K = w.size(0), Cg = w.size(1), KD = w.size(2), R = w.size(3), S = w.size(4), Kg = K / c.groups;
  const int64_t OD = g.size(2), OH = g.size(3), OW = g.size(4);
  const std::vector<double> vx = x.to_vector(), vw = w.to_vector(), vb = b.to_vector(), vg = g.to_vector();
  Ref r;
  r.y.assign(size_t(N * K * OD * OH * OW), 0.0);
  r.gx.assign(vx.size(), 0.0);
  r.gw.assign(vw.size(), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t od = 0; od < OD; ++od)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            const size_t o = size_t((((n * K + k) * OD + od) * OH + oh) * OW + ow);
            double acc = vb[size_t(k)];
            for (int64_t ci = 0; ci < Cg; ++ci)
              for (int64_t t = 0; t < KD; ++t)
                for (int64_t rr = 0; rr < R; ++rr)
                  for (int64_t s = 0; s < S; ++s) {
                    const int64_t id = od * c.stride[0] - c.pad[0] + t * c.dil[0];
                    const int64_t ih = oh * c.stride[1] - c.pad[1] + rr * c.dil[1];
                    const int64_t iw = ow * c.stride[2] - c.pad[2] + s * c.dil[2];
                    if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    const size_t xi = size_t((((n * C + (k / Kg) * Cg + ci) * D + id) * H + ih) * W + iw);
                    const size_t wi = size_t((((k * Cg + ci) * KD + t) * R + rr) * S + s);
                    acc += vx[xi] * vw[wi];
                    r.gx[xi] += vw[wi] * vg[o];
                    r.gw[wi] += vx[xi] * vg[o];
                  }
            r.y[o] = acc;
          }
  return r;
}

void check_case(const Case& c, DType dt) {
  INFO("x " << c.x[0] << "x" << c.x[1] << "x" << c.x[2] << "x" << c.x[3] << "x" << c.x[4] << ", w " << c.w[0] << "x"
            << c.w[1] << "x" << c.w[2] << "x" << c.w[3] << "x" << c.w[4] << ", " << dtype_name(dt));
  const TensorOptions opts(dt);
  Tensor x = randn(c.x, opts).requires_grad_(true), w = randn(c.w, opts).requires_grad_(true);
  Tensor b = randn({c.w[0]}, opts).requires_grad_(true);
  Tensor y = conv3d(x, w, b, c.stride, c.pad, c.dil, c.groups);
  Tensor g = randn(y.sizes(), opts);
  y.backward(g);
  const Ref r = reference(x.detach(), w.detach(), b.detach(), g, c);
  const double tol = dt == DType::Float64 ? 1e-10 : 2e-4;
  check_close(y.detach().reshape({-1}).to_vector(), r.y, tol, tol);
  check_close(x.grad().reshape({-1}).to_vector(), r.gx, tol, tol);
  check_close(w.grad().reshape({-1}).to_vector(), r.gw, tol, tol);
  check_close(b.grad(), g.sum({0, 2, 3, 4}), tol, tol);
}

// gradcheck's inputs as graph leaves where its numerical pass hands in plain tensors (grad mode on: the
// functions below take a gradient inside).
TensorList differentiable(const TensorList& t) {
  TensorList in;
  for (const Tensor& v : t) in.push_back(v.requires_grad() ? v : v.detach().requires_grad_(true));
  return in;
}

}  // namespace

TEST_CASE("conv3d CPU kernels match a direct reference, values and gradients", "[kernels][conv]") {
  manual_seed(7);
  for (const Case& c : kCases) {
    check_case(c, DType::Float64);
    check_case(c, DType::Float32);
  }
  // Unbatched input; padding and stride given once for the three dims.
  Tensor u = conv3d(randn({3, 5, 6, 7}), randn({4, 3, 3, 3, 3}), randn({4}), {2}, {1});
  CHECK(u.sizes() == Shape{4, 3, 3, 4});
}

TEST_CASE("conv_transpose3d matches the reference and conv3d's input gradient", "[kernels][conv]") {
  manual_seed(8);
  struct T {
    Shape x, w;
    Dims stride, pad, out_pad, dil;
    int64_t groups;
  };
  const std::vector<T> cases = {
      {{2, 4, 3, 4, 3}, {4, 3, 2, 3, 2}, {2, 1, 3}, {1, 0, 1}, {1, 0, 2}, {1, 2, 1}, 2},
      {{3, 16, 4, 6, 5}, {16, 24, 3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1},
      {{2, 8, 3, 5, 4}, {8, 8, 4, 4, 4}, {2, 2, 2}, {1, 1, 1}, {0, 1, 0}, {1, 1, 1}, 1},
  };
  for (const T& c : cases) {
    const TensorOptions f64(DType::Float64);
    Tensor x = randn(c.x, f64), w = randn(c.w, f64), b = randn({c.w[1] * c.groups}, f64);
    Tensor y = conv_transpose3d(x, w, b, c.stride, c.pad, c.out_pad, c.groups, c.dil);
    const Tensor want = ref::conv_transpose3d(x, w, b, c.stride, c.pad, c.out_pad, c.groups, c.dil);
    REQUIRE(y.sizes() == want.sizes());
    check_close(y, want, 1e-10, 1e-10);
    // The transposed convolution is conv3d's input gradient (without the bias).
    Tensor z = zeros(y.sizes(), f64).requires_grad_(true);
    Tensor gz = autograd::grad({conv3d(z, w, {}, c.stride, c.pad, c.dil, c.groups)}, {z}, {x})[0];
    check_close(conv_transpose3d(x, w, {}, c.stride, c.pad, c.out_pad, c.groups, c.dil), gz, 1e-10, 1e-10);
    Tensor y32 = conv_transpose3d(x.to(DType::Float32), w.to(DType::Float32), b.to(DType::Float32), c.stride, c.pad,
                                  c.out_pad, c.groups, c.dil);
    check_close(y32.to(DType::Float64), want, 2e-4, 2e-4);
  }
  CHECK(conv_transpose3d(randn({3, 2, 3, 4}), randn({3, 2, 2, 2, 2})).sizes() == Shape{2, 3, 4, 5});
}

TEST_CASE("conv3d and conv_transpose3d: float64 gradchecks, double backward", "[kernels][conv][autograd]") {
  manual_seed(9);
  const Case c = kCases[0];
  check_grad([&c](const TensorList& t) { return conv3d(t[0], t[1], t[2], c.stride, c.pad, c.dil, c.groups); },
             {leaf({1, 4, 4, 5, 4}), leaf(c.w), leaf({c.w[0]})});
  check_grad(
      [](const TensorList& t) {
        return conv_transpose3d(t[0], t[1], t[2], {2, 1, 2}, {1, 0, 0}, {1, 0, 1}, 2);
      },
      {leaf({1, 4, 2, 3, 3}), leaf({4, 2, 2, 3, 2}), leaf({4})});
  // Differentiable gradients (create_graph): the gradient of sum(conv3d(x, w)^2) in x and w, checked by
  // central differences of itself.
  for (int which = 0; which < 2; ++which)
    check_grad(
        [which](const TensorList& t) {
          autograd::EnableGradGuard on;
          TensorList in = differentiable(t);
          Tensor y = conv3d(in[0], in[1], {}, {2, 1, 1}, {1, 1, 0}, {1, 1, 2}, 1);
          return autograd::grad({(y * y).sum()}, {in[size_t(which)]}, {}, true, true)[0];
        },
        {leaf({1, 2, 4, 3, 5}), leaf({3, 2, 2, 2, 2})});
  check_grad(
      [](const TensorList& t) {
        autograd::EnableGradGuard on;
        TensorList in = differentiable(t);
        Tensor y = conv_transpose3d(in[0], in[1], {}, {2, 1, 1}, {1, 0, 0}, {1, 0, 0});
        return autograd::grad({(y * y).sum()}, {in[1]}, {}, true, true)[0];
      },
      {leaf({1, 2, 2, 3, 3}), leaf({2, 3, 2, 2, 2})});
}

TEST_CASE("conv3d and conv_transpose3d reject bad arguments", "[kernels][conv]") {
  const Tensor x = randn({2, 4, 5, 6, 7}), w = randn({6, 2, 3, 3, 3});
  check_error([&] { conv3d(x, w, {}, {1}, {0}, {1}, 3); }, {"conv3d", "groups"});
  check_error([&] { conv3d(x, w.narrow(1, 0, 1), {}, {1}, {0}, {1}, 2); }, {"conv3d", "channels"});
  check_error([&] { conv3d(x, w, {}, {1, 1}, {0}, {1}, 2); }, {"conv3d", "stride", "1 or 3"});
  check_error([&] { conv3d(x, randn({6, 2, 3, 3})); }, {"conv3d", "5D weight"});
  check_error([&] { conv3d(randn({2, 4, 5, 6}).unsqueeze(0).unsqueeze(0), w); }, {"conv3d", "5D (batched)"});
  check_error([&] { conv3d(x, w, {}, {1}, {0}, {4, 1, 1}, 2); }, {"conv3d", "Kernel size can't be greater"});
  check_error([&] { conv3d(x, w, randn({5}), {1}, {0}, {1}, 2); }, {"conv3d", "bias"});
  check_error([&] { conv3d(x.to(DType::Float64), w, {}, {1}, {0}, {1}, 2); }, {"conv3d", "dtype"});
  check_error(
      [&] {
        conv_transpose3d(x, randn({4, 2, 2, 2, 2}), {}, {2}, {0}, {2});
      },
      {"conv_transpose3d", "output padding"});
  check_error([&] { conv_transpose3d(x, randn({3, 2, 2, 2, 2})); }, {"conv_transpose3d", "channels"});
  check_error(
      [&] {
        conv_transpose3d(randn({1, 4, 1, 1, 1}), randn({4, 2, 1, 1, 1}), {}, {1}, {1});
      },
      {"conv_transpose3d", "too small"});
}

TEST_CASE("cuda conv3d and conv_transpose3d match the CPU", "[kernels][conv][cuda]") {
  LOOM_REQUIRE_GPU();
  manual_seed(10);
  for (const Case& c : {kCases[0], kCases[2], kCases[4]}) {
    auto f = [&c](const TensorList& t) { return conv3d(t[0], t[1], t[2], c.stride, c.pad, c.dil, c.groups); };
    compare_gpu(
        f, {randn(c.x).requires_grad_(true), randn(c.w).requires_grad_(true), randn({c.w[0]}).requires_grad_(true)},
        1e-3, 1e-3);
  }
  const TensorOptions f64(DType::Float64);
  compare_gpu(
      [](const TensorList& t) {
        return conv_transpose3d(t[0], t[1], t[2], {2, 1, 3}, {1, 0, 1}, {1, 0, 2}, 2, {1, 2, 1});
      },
      {randn({2, 4, 3, 4, 3}, f64).requires_grad_(true), randn({4, 3, 2, 3, 2}, f64).requires_grad_(true),
       randn({6}, f64).requires_grad_(true)},
      1e-9, 1e-9);
  compare_gpu([](const TensorList& t) { return conv_transpose3d(t[0], t[1], {}, {2}, {1}, {1}); },
              {randn({2, 3, 2, 3, 4}).requires_grad_(true), randn({3, 5, 3, 3, 3}).requires_grad_(true)}, 1e-3, 1e-3);
}
