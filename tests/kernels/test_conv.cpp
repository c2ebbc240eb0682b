// CPU convolution kernels against a direct 7-loop reference written here, on
// odd shapes with stride, padding, dilation and groups (float64 and float32).
// The CUDA kernels against the CPU twin: tests/autograd/test_conv.cpp [cuda].
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <vector>

#include "kernels/conv.h"
#include "test_kernel_util.h"

using loom::DType;
using loom::kernels::ConvParams;
namespace kc = loom::kernels::cpu;

namespace {

ConvParams make(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t sh, int64_t sw,
                int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G) {
  ConvParams p{};
  p.N = N, p.C = C, p.H = H, p.W = W, p.K = K, p.R = R, p.S = S;
  p.stride_h = sh, p.stride_w = sw, p.pad_h = ph, p.pad_w = pw, p.dil_h = dh, p.dil_w = dw, p.groups = G;
  p.OH = loom::kernels::conv_out_size(H, R, sh, ph, dh);
  p.OW = loom::kernels::conv_out_size(W, S, sw, pw, dw);
  return p;
}

// Calls f(n, k, oh, ow, c, r, s, input offset) for every in-range tap.
template <typename F>
void each_tap(const ConvParams& p, F&& f) {
  const int64_t Cg = p.C / p.groups, Kg = p.K / p.groups;
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t k = 0; k < p.K; ++k)
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow)
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t r = 0; r < p.R; ++r)
              for (int64_t s = 0; s < p.S; ++s) {
                const int64_t ih = oh * p.stride_h - p.pad_h + r * p.dil_h;
                const int64_t iw = ow * p.stride_w - p.pad_w + s * p.dil_w;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                const int64_t ci = (k / Kg) * Cg + c;
                f(n, k, oh, ow, c, r, s, ((n * p.C + ci) * p.H + ih) * p.W + iw);
              }
}

struct Ref {
  std::vector<double> out, gin, gw, gb;
};

Ref reference(const ConvParams& p, const std::vector<double>& x, const std::vector<double>& w,
              const std::vector<double>& b, const std::vector<double>& go) {
  const int64_t Cg = p.C / p.groups;
  Ref r;
  r.out.assign(p.N * p.K * p.OH * p.OW, 0.0);
  r.gin.assign(x.size(), 0.0);
  r.gw.assign(w.size(), 0.0);
  r.gb.assign(p.K, 0.0);
  each_tap(p, [&](int64_t n, int64_t k, int64_t oh, int64_t ow, int64_t c, int64_t rr, int64_t s, int64_t xi) {
    const int64_t oi = ((n * p.K + k) * p.OH + oh) * p.OW + ow, wi = ((k * Cg + c) * p.R + rr) * p.S + s;
    r.out[oi] += w[wi] * x[xi];
    r.gin[xi] += w[wi] * go[oi];
    r.gw[wi] += x[xi] * go[oi];
  });
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t k = 0; k < p.K; ++k)
      for (int64_t i = 0; i < p.OH * p.OW; ++i) {
        r.out[(n * p.K + k) * p.OH * p.OW + i] += b[k];
        r.gb[k] += go[(n * p.K + k) * p.OH * p.OW + i];
      }
  return r;
}

template <typename T>
void check_case(const ConvParams& p, double tol) {
  const int64_t Cg = p.C / p.groups;
  auto x = loom::test::random_doubles(p.N * p.C * p.H * p.W, -1, 1, 1);
  auto w = loom::test::random_doubles(p.K * Cg * p.R * p.S, -1, 1, 2);
  auto b = loom::test::random_doubles(p.K, -1, 1, 3);
  auto go = loom::test::random_doubles(p.N * p.K * p.OH * p.OW, -1, 1, 4);
  Ref ref = reference(p, x, w, b, go);
  auto X = loom::test::cast_vec<T>(x), Wt = loom::test::cast_vec<T>(w), B = loom::test::cast_vec<T>(b),
       GO = loom::test::cast_vec<T>(go);
  std::vector<T> out(ref.out.size(), T(7)), gin(x.size(), T(7)), gw(w.size(), T(7)), gb(p.K, T(7));
  const DType dt = loom::dtype_of<T>::value;
  kc::conv2d_forward(dt, out.data(), X.data(), Wt.data(), B.data(), p);
  kc::conv2d_backward_input(dt, gin.data(), GO.data(), Wt.data(), p);
  kc::conv2d_backward_weight(dt, gw.data(), gb.data(), GO.data(), X.data(), p);
  loom::test::check_close(out, ref.out, tol, tol, "out");
  loom::test::check_close(gin, ref.gin, tol, tol, "grad input");
  loom::test::check_close(gw, ref.gw, tol, tol, "grad weight");
  loom::test::check_close(gb, ref.gb, tol, tol, "grad bias");
}

const std::vector<ConvParams>& cases() {
  static const std::vector<ConvParams> c = {
      make(2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1),      // 3x3 same padding
      make(3, 4, 11, 6, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2),     // stride, dilation, groups, non-square kernel
      make(1, 6, 5, 5, 6, 3, 3, 2, 2, 2, 2, 2, 2, 6),      // depthwise, padding > kernel reach
      make(2, 5, 4, 7, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1),      // pointwise: no im2col
      make(2, 4, 6, 6, 4, 1, 1, 2, 2, 0, 0, 1, 1, 2),      // 1x1 with stride
      make(1, 2, 1, 13, 3, 1, 4, 1, 3, 0, 2, 1, 1, 1),     // conv1d as [N, C, 1, L]
      make(2, 3, 5, 5, 2, 5, 5, 1, 1, 0, 0, 1, 1, 1),      // kernel = input
      make(3, 64, 40, 37, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2),   // several row slabs per sample (slab path)
      make(4, 64, 23, 41, 6, 3, 2, 2, 3, 1, 0, 1, 1, 1),   // slabs with strides
      make(4, 16, 20, 19, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // slabs: 21 output channels (tiles of 8 and a ragged one)
      make(9, 64, 5, 6, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1),    // small images: weight-gradient blocks span samples
      make(8, 3, 16, 13, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),   // 3 input channels: the weight gradient on the tiles
      // Stride 1 with 16+ channels per group and at most 1/8 junk columns: the three passes without the
      // column matrix (tap_conv, backward_weight_taps): kernels 3x5 and 2x3, unequal and zero pads,
      // dilation, groups, ragged panels; and shapes just outside (narrow images: the slabs).
      make(4, 32, 6, 40, 24, 3, 5, 1, 1, 0, 2, 1, 1, 1),  // 3x5, pads (0, 2)
      make(2, 48, 5, 50, 32, 2, 3, 1, 1, 1, 0, 2, 1, 2),  // 2x3, dilation (2, 1), 2 groups
      make(4, 16, 4, 64, 16, 3, 3, 1, 1, 3, 3, 1, 1, 1),  // pad 3 > 2: the input gradient takes the slabs
      make(4, 16, 5, 60, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1),  // dilation 2
      make(4, 16, 3, 1, 17, 3, 1, 1, 1, 0, 0, 1, 1, 1),   // a 1 x 1 output
      make(5, 20, 33, 31, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // several slabs per sample
      make(4, 32, 9, 14, 24, 3, 5, 1, 1, 0, 2, 1, 1, 1),  // 4 junk columns in 18: the slabs
      // Depthwise (one input channel per group, kernels/cpu/conv_depthwise.cpp): stride 1 and 2, a channel
      // multiplier, dilation, unequal pads, 7x7, rows longer than the 64-output runs, one input channel.
      make(3, 8, 9, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8),    // rows of 70
      make(2, 6, 11, 13, 12, 7, 7, 1, 1, 3, 3, 1, 1, 6),  // multiplier 2, 7x7
      make(2, 4, 10, 9, 4, 3, 2, 1, 1, 2, 0, 2, 1, 4),    // dilation (2, 1), pads (2, 0)
      make(2, 5, 12, 15, 10, 3, 3, 2, 2, 1, 1, 1, 1, 5),  // stride 2, multiplier 2
      make(3, 1, 8, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),     // one input channel, no groups
      // Stride 2 with 16+ channels per group (the slabs: a phase-split tap path ran no faster there), odd and
      // even widths, 5x5, dilation, groups, strides (1, 2).
      make(4, 16, 9, 34, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1),
      make(4, 32, 11, 41, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1),
      make(2, 48, 13, 40, 32, 5, 5, 2, 2, 2, 2, 1, 1, 2),
      make(4, 16, 12, 48, 16, 3, 3, 2, 2, 2, 2, 2, 2, 1),
      make(4, 16, 10, 50, 16, 3, 3, 1, 2, 1, 1, 1, 1, 1),
      // Depthwise at stride 2 (phase planes): a multiplier, 5x5, odd sizes, strides (2, 1), dilation 3.
      make(2, 6, 13, 17, 12, 5, 5, 2, 2, 2, 2, 1, 1, 6),
      make(2, 4, 11, 20, 4, 3, 3, 2, 1, 1, 1, 1, 1, 4),
      make(2, 4, 15, 19, 4, 3, 3, 2, 2, 3, 3, 3, 3, 4),
      // The input gradient at stride 2 by input phases: 1x1 (three phases get no tap: zeros), 2x2 with pads
      // (0, 1) and a multiplier, strides (1, 2) with a row padding beyond the kernel's reach.
      make(2, 3, 9, 10, 3, 1, 1, 2, 2, 0, 0, 1, 1, 3),
      make(2, 4, 8, 11, 8, 2, 2, 2, 2, 0, 1, 1, 1, 4),
      make(1, 3, 7, 12, 3, 3, 3, 1, 2, 4, 0, 1, 1, 3),
  };
  return c;
}

}  // namespace

TEST_CASE("conv2d CPU kernels match a direct reference (float64)", "[conv]") {
  for (const auto& p : cases()) check_case<double>(p, 1e-10);
}

TEST_CASE("conv2d CPU kernels match a direct reference (float32)", "[conv]") {
  for (const auto& p : cases()) check_case<float>(p, 1e-4);
}

TEST_CASE("conv2d CPU weight gradient with an infinite input keeps finite sums finite", "[conv]") {
  // The tap path would read the inf in a junk column (inf * 0): such inputs take the slabs.
  const ConvParams p = make(4, 16, 4, 64, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  std::vector<float> x(size_t(p.N * p.C * p.H * p.W), 0.5f), go(size_t(p.N * p.K * p.OH * p.OW), 1.0f);
  std::vector<float> gw(size_t(p.K * p.C * 9));
  x[size_t(2 * p.W)] = INFINITY;  // sample 0, channel 0, row 2, column 0
  kc::conv2d_backward_weight(DType::Float32, gw.data(), nullptr, go.data(), x.data(), p);
  // Tap s = 2 never reads column 0 at a valid position: gw[k][0][r][2] stays finite; s = 0 reads it.
  for (int64_t k = 0; k < p.K; ++k) {
    CHECK(std::isfinite(gw[size_t((k * p.C + 0) * 9 + 1 * 3 + 2)]));
    CHECK(std::isinf(gw[size_t((k * p.C + 0) * 9 + 1 * 3 + 0)]));
  }
}

TEST_CASE("conv2d CPU kernels on a large batch", "[conv]") {
  // Row slabs in the forward pass and both backward passes.
  check_case<float>(make(5, 64, 64, 64, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1e-3);
}
