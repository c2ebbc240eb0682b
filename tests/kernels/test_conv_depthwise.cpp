// The depthwise / channel-multiplier CUDA convolution kernels
// (kernels/cuda/conv_depthwise.cu) against the CPU twin
// (kernels/conv.h) on random inputs: compile-time 3x3 and 5x5 windows
// and table-driven ones (1x3, 7x1, 2x3, 3x7), stride, padding, dilation,
// channel multipliers, odd sizes, bias or none, the weight gradient in one
// slice and in several, float32 and float64. Outputs start as NaN, so every
// element must be written. Without a device every test SKIPs with a reason.
#include <catch2/catch_test_macros.hpp>

#include "test_util.h"

#ifdef LOOM_WITH_CUDA

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cuda/conv_internal.h"
#include "test_cuda_util.h"

using loom::DType;
using loom::kernels::ConvParams;
namespace kc = loom::kernels::cuda;
namespace kcpu = loom::kernels::cpu;
using loom::test::cast;
using loom::test::check_close;
using loom::test::random_doubles;
using loom::test::to_device;

namespace {

constexpr int kSms = 132;  // the grid the weight gradient is sized for (H200)

struct Case {
  const char* name;
  int64_t N, C, H, W, Kg, R, S, sh, sw, ph, pw, dh, dw;
  bool bias;
};

ConvParams params(const Case& c) {
  ConvParams p{};
  p.N = c.N, p.C = c.C, p.H = c.H, p.W = c.W, p.K = c.C * c.Kg, p.R = c.R, p.S = c.S;
  p.stride_h = c.sh, p.stride_w = c.sw, p.pad_h = c.ph, p.pad_w = c.pw, p.dil_h = c.dh, p.dil_w = c.dw;
  p.groups = c.C;
  p.OH = loom::kernels::conv_out_size(c.H, c.R, c.sh, c.ph, c.dh);
  p.OW = loom::kernels::conv_out_size(c.W, c.S, c.sw, c.pw, c.dw);
  return p;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"3x3 s1 p1", 2, 5, 11, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {"3x3 s2 p1", 2, 4, 15, 17, 1, 3, 3, 2, 2, 1, 1, 1, 1, false},
      {"5x5 p2 d2", 1, 3, 17, 19, 1, 5, 5, 1, 1, 2, 2, 2, 2, true},
      {"5x5 p2", 2, 3, 12, 9, 1, 5, 5, 1, 1, 2, 2, 1, 1, false},
      {"1x3 p(0,1)", 2, 3, 9, 11, 1, 1, 3, 1, 1, 0, 1, 1, 1, true},
      {"7x1 s(2,1) p(3,0)", 1, 2, 19, 7, 1, 7, 1, 2, 1, 3, 0, 1, 1, false},
      {"3x7 p(1,3) s2", 1, 2, 13, 23, 1, 3, 7, 2, 2, 1, 3, 1, 1, true},
      {"Kg=2 3x3 p1", 2, 3, 10, 7, 2, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {"Kg=3 2x3 s2 d(2,1) p(1,2)", 1, 2, 11, 9, 3, 2, 3, 2, 2, 1, 2, 2, 1, false},
      {"Kg=2 5x5 s2 p1", 1, 2, 13, 11, 2, 5, 5, 2, 2, 1, 1, 1, 1, true},
      {"3x3 p1 N=4 40x40 (sliced wgrad)", 4, 3, 40, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {"5x5 p2 N=4 40x40 Kg=2 (sliced wgrad)", 4, 2, 40, 40, 2, 5, 5, 1, 1, 2, 2, 1, 1, false},
  };
  return all;
}

template <typename T>
std::vector<T> nans(size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

// Runs the three passes of case c on the device and on the CPU twin.
template <typename T>
void check_case(const Case& c, DType dt, double tol) {
  INFO(c.name << (sizeof(T) == 8 ? " float64" : " float32"));
  const ConvParams p = params(c);
  REQUIRE(kc::conv_depthwise_applies(p));
  const size_t nx = p.N * p.C * p.H * p.W, nw = p.K * p.R * p.S, ny = p.N * p.K * p.OH * p.OW;
  const auto x = cast<T>(random_doubles(nx, -1, 1, 11));
  const auto w = cast<T>(random_doubles(nw, -1, 1, 12));
  const auto b = cast<T>(random_doubles(p.K, -1, 1, 13));
  const auto gy = cast<T>(random_doubles(ny, -1, 1, 14));
  const T* bias = c.bias ? b.data() : nullptr;

  std::vector<T> y(ny), gx(nx), gw(nw);
  kcpu::conv2d_forward(dt, y.data(), x.data(), w.data(), bias, p);
  kcpu::conv2d_backward_input(dt, gx.data(), gy.data(), w.data(), p);
  kcpu::conv2d_backward_weight(dt, gw.data(), nullptr, gy.data(), x.data(), p);

  auto dx = to_device(x), dw = to_device(w), db = to_device(b), dgy = to_device(gy);
  auto dy = to_device(nans<T>(ny)), dgx = to_device(nans<T>(nx)), dgw = to_device(nans<T>(nw));
  const auto s = loom::test::stream();
  kc::conv_depthwise_forward(dt, dy.get(), dx.get(), dw.get(), c.bias ? db.get() : nullptr, p, s);
  kc::conv_depthwise_backward_input(dt, dgx.get(), dgy.get(), dw.get(), p, s);
  const size_t ws = kc::conv_depthwise_wgrad_workspace(p, sizeof(T), kSms);
  auto work = to_device(nans<T>(ws / sizeof(T)));
  T* const wp = ws ? work.get() : nullptr;
  kc::conv_depthwise_backward_weight(dt, dgw.get(), dgy.get(), dx.get(), p, wp, kSms, s);
  {
    INFO("forward");
    check_close(dy.host(), y, tol, tol);
  }
  {
    INFO("backward to the input");
    check_close(dgx.host(), gx, tol, tol);
  }
  INFO("weight gradient");
  const auto first = dgw.host();
  check_close(first, gw, tol, tol);
  // Deterministic: a second run gives the same bits.
  kc::conv_depthwise_backward_weight(dt, dgw.get(), dgy.get(), dx.get(), p, wp, kSms, s);
  const auto second = dgw.host();
  CHECK(std::memcmp(first.data(), second.data(), nw * sizeof(T)) == 0);
}

}  // namespace

TEST_CASE("depthwise conv cuda kernels match the cpu twin (float32)", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  for (const auto& c : cases()) check_case<float>(c, DType::Float32, 2e-5);
}

TEST_CASE("depthwise conv cuda kernels match the cpu twin (float64)", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  for (const auto& c : cases()) check_case<double>(c, DType::Float64, 1e-12);
}

TEST_CASE("depthwise weight gradient: one slice for few pixels, several for many", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  // 4 * 40 * 40 output pixels: 3 slices of >= 2048 (K = 3 leaves the SMs idle otherwise).
  const ConvParams big = params(cases()[10]);
  CHECK(kc::conv_depthwise_wgrad_workspace(big, 4, kSms) == size_t(3 * big.K * 9 * 4));
  CHECK(kc::conv_depthwise_wgrad_workspace(big, 8, kSms) == size_t(3 * big.K * 9 * 8));
  // 2 * 11 * 13 output pixels: one slice, no workspace.
  CHECK(kc::conv_depthwise_wgrad_workspace(params(cases()[0]), 4, kSms) == 0);
  // Enough channels to fill two waves of 4 SMs without splitting the pixels.
  Case many = cases()[10];
  many.C = 64;
  CHECK(kc::conv_depthwise_wgrad_workspace(params(many), 4, 4) == 0);
  CHECK(kc::conv_depthwise_wgrad_workspace(params(many), 4, kSms) > 0);
}

TEST_CASE("conv_depthwise_applies: depthwise and channel multipliers with R*S <= 25 only", "[conv][cuda]") {
  LOOM_REQUIRE_GPU();
  for (const auto& c : cases()) CHECK(kc::conv_depthwise_applies(params(c)));
  Case c = cases()[0];
  ConvParams p = params(c);
  p.groups = 1;  // a dense convolution
  CHECK_FALSE(kc::conv_depthwise_applies(p));
  p = params(c);
  p.groups = 1, p.C = 1;  // one channel in: depthwise too (groups == C)
  CHECK(kc::conv_depthwise_applies(p));
  p = params(c);
  p.groups = c.C, p.C = 2 * c.C;  // Cg = 2: grouped, not depthwise
  CHECK_FALSE(kc::conv_depthwise_applies(p));
  c.R = c.S = 7, c.ph = c.pw = 3;  // R*S = 49
  CHECK_FALSE(kc::conv_depthwise_applies(params(c)));
  c.R = 5, c.S = 5, c.ph = c.pw = 2;  // R*S = 25
  CHECK(kc::conv_depthwise_applies(params(c)));
  c.R = 1, c.S = 26, c.ph = 0, c.pw = 13;  // R*S = 26
  CHECK_FALSE(kc::conv_depthwise_applies(params(c)));
}

#else

TEST_CASE("depthwise conv cuda kernels match the cpu twin", "[conv][cuda]") { LOOM_REQUIRE_GPU(); }

#endif
