// The activation kernels (kernels/activation.h): the float32 CPU kernel (the vectorized *_fast math)
// against the float64 one over a wide sweep, the float64 backward against a central difference of the
// float64 forward, PyTorch's values at the kinks and at the special values, the same bits for a strided
// view as for its contiguous copy, and [cuda] the CUDA kernels against their CPU twins on random inputs,
// special values and odd shapes, contiguous and strided. Without a device the [cuda] test SKIPs with a
// reason.
#include <catch2/catch_test_macros.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

namespace kcpu = loom::kernels::cpu;

struct Case {
  ActivationOp op;
  ActivationParams p;
  const char* name;
  // The kinks, where the derivative jumps (skipped by the finite differences).
  std::vector<double> kinks;
};

const Case kCases[] = {
    {ActivationOp::LeakyRelu, {0.2}, "leaky_relu", {0}},
    {ActivationOp::Elu, {1.0, 1.0, 1.0}, "elu", {0}},
    {ActivationOp::Elu, {0.7, 1.0507, 0.5}, "elu (scale, input_scale)", {0}},
    {ActivationOp::Softplus, {1.0, 20.0}, "softplus", {20}},
    {ActivationOp::Softplus, {2.0, 3.0}, "softplus (beta 2, threshold 3)", {1.5}},
    {ActivationOp::Hardtanh, {-1.0, 2.0}, "hardtanh", {-1, 2}},
    {ActivationOp::Hardsigmoid, {}, "hardsigmoid", {-3, 3}},
    {ActivationOp::Hardswish, {}, "hardswish", {-3, 3}},
    {ActivationOp::Mish, {}, "mish", {}},
    {ActivationOp::LogSigmoid, {}, "logsigmoid", {}},
    {ActivationOp::Softsign, {}, "softsign", {}},
    {ActivationOp::Tanhshrink, {}, "tanhshrink", {}},
    {ActivationOp::Hardshrink, {0.5}, "hardshrink", {-0.5, 0.5}},
    {ActivationOp::Softshrink, {0.5}, "softshrink", {-0.5, 0.5}},
    {ActivationOp::Threshold, {0.5, -3.0}, "threshold", {0.5}},
    {ActivationOp::NanToNum, {0.5, 7.0, -7.0}, "nan_to_num", {}},
    {ActivationOp::Huber, {1.0, 1.0, 1.0}, "huber", {-1, 1}},
    {ActivationOp::Huber, {0.5, 2.0, 1.0}, "smooth_l1 (beta 0.5)", {-0.5, 0.5}},
};

template <typename T>
std::vector<T> forward(const Case& c, const std::vector<T>& x) {
  std::vector<T> y(x.size());
  kcpu::activation(c.op, dtype_of<T>::value, y.data(), x.data(), c.p, contiguous_loop(int64_t(x.size()), 2));
  return y;
}

template <typename T>
std::vector<T> backward(const Case& c, const std::vector<T>& g, const std::vector<T>& x) {
  std::vector<T> d(x.size());
  kcpu::activation_backward(c.op, dtype_of<T>::value, d.data(), g.data(), x.data(), c.p,
                            contiguous_loop(int64_t(x.size()), 3));
  return d;
}

// -60 .. 60 at a relative step, both signs, and the neighbourhood of 0.
std::vector<double> sweep() {
  std::vector<double> v;
  for (double x = 1e-6; x < 60; x *= 1.0123) {
    v.push_back(x);
    v.push_back(-x);
  }
  for (double x = -4; x <= 4; x += 0.0317) v.push_back(x);
  return v;
}

}  // namespace

TEST_CASE("cpu float32 activations follow the float64 kernel over -60..60", "[kernels]") {
  const std::vector<double> xs = sweep();
  std::vector<float> xf(xs.begin(), xs.end()), gf(xs.size(), 1.0f);
  std::vector<double> xd(xf.begin(), xf.end()), gd(xs.size(), 1.0);
  for (const Case& c : kCases) {
    INFO(c.name);
    const auto yf = forward(c, xf), df = backward(c, gf, xf);
    const auto yd = forward(c, xd), dd = backward(c, gd, xd);
    int bad = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      // A few float ulps of the result, or of x where the result is a difference of values of x's size
      // (tanhshrink, softshrink); a gradient that is a sum of terms of size 1 + |x| (mish, hardswish)
      // near its zero, a few ulps of those.
      const double ax = std::fabs(xd[i]);
      const double ty = 8e-7 * std::fabs(yd[i]) + 4e-7 * ax + 1e-37;
      const double td = 8e-7 * std::fabs(dd[i]) + 1.2e-7 * (1 + std::min(ax, 8.0));
      if (std::fabs(yf[i] - yd[i]) > ty || std::fabs(df[i] - dd[i]) > td) {
        if (++bad <= 3)
          UNSCOPED_INFO("x = " << xd[i] << ": f32 " << yf[i] << " / " << df[i] << ", f64 " << yd[i] << " / " << dd[i]);
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("cpu float64 activation backward matches central differences of the forward", "[kernels]") {
  std::vector<double> xs;
  for (double x = -30; x <= 30; x += 0.173) xs.push_back(x);
  for (const Case& c : kCases) {
    INFO(c.name);
    std::vector<double> x;
    for (double v : xs) {
      bool near_kink = false;
      for (double k : c.kinks) near_kink = near_kink || std::fabs(v - k) < 1e-3;
      if (!near_kink) x.push_back(v);
    }
    const double h = 1e-6;
    std::vector<double> xp(x), xm(x), g(x.size(), 1.0);
    for (size_t i = 0; i < x.size(); ++i) xp[i] += h, xm[i] -= h;
    const auto yp = forward(c, xp), ym = forward(c, xm), d = backward(c, g, x);
    int bad = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double fd = (yp[i] - ym[i]) / (2 * h);
      if (!is_close(d[i], fd, 1e-6, 1e-6) && ++bad <= 3)
        UNSCOPED_INFO("x = " << x[i] << ": backward " << d[i] << ", central difference " << fd);
    }
    CHECK(bad == 0);
    // The gradient scales with g.
    std::vector<double> g3(x.size(), -3.0);
    const auto d3 = backward(c, g3, x);
    for (size_t i = 0; i < x.size(); ++i) CHECK(is_close(d3[i], -3.0 * d[i], 1e-15, 0));
  }
}

TEST_CASE("cpu activations: PyTorch's values at the kinks and at the special values", "[kernels]") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  auto at = [](const Case& c, std::vector<double> x) { return forward(c, x); };
  auto grad_at = [](const Case& c, std::vector<double> x) {
    return backward(c, std::vector<double>(x.size(), 1.0), x);
  };
  auto find = [](const char* name) -> const Case& {
    for (const Case& c : kCases)
      if (std::string(c.name) == name) return c;
    FAIL("no case " << name);
    return kCases[0];
  };
  // Gradients at the kinks (PyTorch's <op>_backward).
  CHECK(grad_at(find("leaky_relu"), {0.0}) == std::vector<double>{0.2});
  CHECK(grad_at(find("elu"), {0.0}) == std::vector<double>{1.0});
  CHECK(grad_at(find("hardtanh"), {-1.0, 2.0, 0.0}) == std::vector<double>{0.0, 0.0, 1.0});
  CHECK(grad_at(find("hardsigmoid"), {-3.0, 3.0, 0.0}) == std::vector<double>{0.0, 0.0, 1.0 / 6});
  CHECK(grad_at(find("hardswish"), {-3.0, 3.0, 3.5, -3.5}) == std::vector<double>{-0.5, 1.5, 1.0, 0.0});
  CHECK(grad_at(find("hardshrink"), {-0.5, 0.5, 0.7}) == std::vector<double>{0.0, 0.0, 1.0});
  CHECK(grad_at(find("softshrink"), {-0.5, 0.5, -0.7}) == std::vector<double>{0.0, 0.0, 1.0});
  CHECK(grad_at(find("threshold"), {0.5, 0.6}) == std::vector<double>{0.0, 1.0});
  // Values at the thresholds and the infinities.
  CHECK(at(find("threshold"), {0.5, 0.6, -inf}) == std::vector<double>{-3.0, 0.6, -3.0});
  CHECK(at(find("hardshrink"), {-0.5, 0.5, -inf}) == std::vector<double>{0.0, 0.0, -inf});
  CHECK(at(find("softshrink"), {inf, -inf, 0.25}) == std::vector<double>{inf, -inf, 0.0});
  CHECK(at(find("hardtanh"), {-inf, inf}) == std::vector<double>{-1.0, 2.0});
  CHECK(at(find("leaky_relu"), {-inf, inf}) == std::vector<double>{-inf, inf});
  CHECK(at(find("elu"), {-inf, inf}) == std::vector<double>{-1.0, inf});
  CHECK(at(find("softplus"), {-inf, inf, 30.0}) == std::vector<double>{0.0, inf, 30.0});
  CHECK(at(find("mish"), {inf, 50.0}) == std::vector<double>{inf, 50.0});
  CHECK(at(find("logsigmoid"), {-inf, inf}) == std::vector<double>{-inf, 0.0});
  CHECK(std::isnan(at(find("hardswish"), {-inf})[0]));  // -inf * 0, as PyTorch's
  CHECK(at(find("hardswish"), {inf}) == std::vector<double>{inf});
  CHECK(std::isnan(at(find("mish"), {-inf})[0]));
  CHECK(at(find("tanhshrink"), {inf, -inf}) == std::vector<double>{inf, -inf});
  // Large inputs give finite gradients where the functions saturate.
  for (const char* name : {"elu", "softplus", "mish", "logsigmoid", "softsign"}) {
    INFO(name);
    for (double d : grad_at(find(name), {-1000.0, 1000.0, -90.0, 90.0})) CHECK(std::isfinite(d));
  }
  // huber / smooth_l1 at and around the joint (PyTorch: the line from |d| = delta on, slopes +-ls there).
  CHECK(at(find("huber"), {1.0, -1.0, 0.5, -3.0, inf}) == std::vector<double>{0.5, 0.5, 0.125, 2.5, inf});
  CHECK(grad_at(find("huber"), {1.0, -1.0, 0.5, -3.0, 0.0}) == std::vector<double>{1.0, -1.0, 0.5, -1.0, 0.0});
  CHECK(at(find("smooth_l1 (beta 0.5)"), {0.5, 0.25, -2.0}) == std::vector<double>{0.25, 0.0625, 1.75});
  CHECK(grad_at(find("smooth_l1 (beta 0.5)"), {0.5, 0.25, -2.0}) == std::vector<double>{1.0, 0.5, -1.0});
  CHECK(std::isnan(grad_at(find("huber"), {nan})[0]));
  // nan_to_num: the replacements, both precisions (float32's largest finite value as posinf), the gradient
  // only where x is finite.
  CHECK(at(find("nan_to_num"), {nan, inf, -inf, -0.0, 2.5}) == std::vector<double>{0.5, 7.0, -7.0, 0.0, 2.5});
  CHECK(grad_at(find("nan_to_num"), {nan, inf, -inf, 1e308, -2.0}) == std::vector<double>{0, 0, 0, 1, 1});
  {
    const float big = std::numeric_limits<float>::max();
    std::vector<float> y(4), x{NAN, INFINITY, -INFINITY, -1.5f};
    kcpu::activation(ActivationOp::NanToNum, DType::Float32, y.data(), x.data(), {0.0, big, -big},
                     contiguous_loop(4, 2));
    CHECK(y == std::vector<float>{0.0f, big, -big, -1.5f});
  }
  // NaN propagates through every other forward, in both precisions.
  for (const Case& c : kCases) {
    if (c.op == ActivationOp::NanToNum) continue;
    INFO(c.name);
    CHECK(std::isnan(at(c, {nan})[0]));
    CHECK(std::isnan(forward(c, std::vector<float>{NAN})[0]));
  }
}

TEST_CASE("cpu float32 activations give the same bits for a strided view as for its contiguous copy", "[kernels]") {
  std::mt19937 rng(5);
  const Shape shape{D0, D1, D2};
  const auto x = random_vec<float>(N3, rng, -12, 12), g = random_vec<float>(N3, rng, -2, 2);
  // x stored transposed: xt[k, j, i] = x[i, j, k].
  std::vector<float> xt(N3), gt(N3);
  const Shape tst = transposed_strides(shape, 0, 2), cst = contiguous_strides(shape);
  for_each_index(shape, {cst, tst}, [&](int64_t, const std::vector<int64_t>& off) {
    xt[off[1]] = x[off[0]];
    gt[off[1]] = g[off[0]];
  });
  for (const Case& c : kCases) {
    INFO(c.name);
    const auto y = forward(c, x), d = backward(c, g, x);
    std::vector<float> ys(N3), ds(N3);
    kcpu::activation(c.op, DType::Float32, ys.data(), xt.data(), c.p, make_loop(shape, {cst, tst}));
    kcpu::activation_backward(c.op, DType::Float32, ds.data(), gt.data(), xt.data(), c.p,
                              make_loop(shape, {cst, tst, tst}));
    CHECK(std::memcmp(y.data(), ys.data(), sizeof(float) * N3) == 0);
    CHECK(std::memcmp(d.data(), ds.data(), sizeof(float) * N3) == 0);
  }
}

TEST_CASE("activation kernels reject integer and bool dtypes", "[kernels]") {
  std::vector<int32_t> x(4), y(4);
  CHECK_THROWS_AS(kcpu::activation(ActivationOp::Mish, DType::Int32, y.data(), x.data(), {}, contiguous_loop(4, 2)),
                  Error);
  CHECK_THROWS_AS(kcpu::activation_backward(ActivationOp::Mish, DType::Bool, y.data(), x.data(), x.data(), {},
                                            contiguous_loop(4, 3)),
                  Error);
}

#ifdef LOOM_WITH_CUDA
namespace kc = loom::kernels::cuda;
#endif

TEST_CASE("cuda activation kernels match cpu on random inputs, special values and odd shapes", "[cuda]") {
  LOOM_REQUIRE_GPU();
#ifdef LOOM_WITH_CUDA
  std::mt19937 rng(11);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    // Contiguous runs of odd lengths (the vector path's tail, a start off the 16-byte alignment) and the
    // strided space of test_kernel_util.h.
    struct Space {
      ElementwiseLoop fwd, bwd;
      int64_t n, offset;
    };
    const std::vector<Space> spaces = {
        {contiguous_loop(1, 2), contiguous_loop(1, 3), 1, 0},
        {contiguous_loop(4099, 2), contiguous_loop(4099, 3), 4099, 0},
        {contiguous_loop(1027, 2), contiguous_loop(1027, 3), 1027, 1},
        {strided_loop(2), strided_loop(3), N3, 0}};  // backward: g transposed, x broadcast
    for (const Space& s : spaces) {
      const ElementwiseLoop& bwd = s.bwd;
      const int64_t len = s.n + s.offset;
      auto x = random_vec<T>(len, rng, -25, 25), g = random_vec<T>(len, rng, -2, 2);
      const T specials[] = {T(0), -T(0), T(NAN), T(INFINITY), -T(INFINITY), T(3), T(-3), T(0.5), T(-0.5), T(1e-30)};
      if (len > 200)
        for (size_t i = 0; i < std::size(specials); ++i) x[s.offset + i * 13] = specials[i];
      auto dx = to_device(x), dg = to_device(g);
      DevBuf<T> dy(len);
      for (const Case& c : kCases) {
        INFO(c.name << ", " << s.n << " elements");
        std::vector<T> ref(len), got;
        kcpu::activation(c.op, dt, ref.data() + s.offset, x.data() + s.offset, c.p, s.fwd);
        kc::activation(c.op, dt, dy.get() + s.offset, dx.get() + s.offset, c.p, s.fwd, stream());
        got = to_host<T>(dy, len);
        check_close(std::vector<T>(got.begin() + s.offset, got.end()),
                    std::vector<T>(ref.begin() + s.offset, ref.end()), twin_tol<T>(), twin_tol<T>(),
                    std::string("forward ") + c.name);
        kcpu::activation_backward(c.op, dt, ref.data() + s.offset, g.data() + s.offset, x.data() + s.offset, c.p, bwd);
        kc::activation_backward(c.op, dt, dy.get() + s.offset, dg.get() + s.offset, dx.get() + s.offset, c.p, bwd,
                                stream());
        got = to_host<T>(dy, len);
        check_close(std::vector<T>(got.begin() + s.offset, got.end()),
                    std::vector<T>(ref.begin() + s.offset, ref.end()), twin_tol<T>(), twin_tol<T>(),
                    std::string("backward ") + c.name);
      }
    }
  };
  run(float{});
  run(double{});
#endif
}
