// CPU pooling kernels against references written here (windows enumerated
// directly, gradients by the chain rule per window), on odd shapes with
// stride, padding, dilation and ceil_mode.
#include <catch2/catch_test_macros.hpp>

#include <array>
#include <cmath>
#include <vector>

#include "kernels/pool.h"
#include "test_util.h"

using loom::DType;
using loom::kernels::PoolParams;
namespace kc = loom::kernels::cpu;
using loom::test::check_close;

namespace {

PoolParams make(int64_t NC, int64_t H, int64_t W, int64_t k, int64_t s, int64_t pad, int64_t dil, bool ceil) {
  PoolParams p{};
  p.NC = NC, p.H = H, p.W = W, p.kh = k, p.kw = k, p.stride_h = s, p.stride_w = s;
  p.pad_h = pad, p.pad_w = pad, p.dil_h = dil, p.dil_w = dil;
  p.OH = loom::kernels::pool_out_size(H, k, s, pad, dil, ceil);
  p.OW = loom::kernels::pool_out_size(W, k, s, pad, dil, ceil);
  return p;
}

}  // namespace

TEST_CASE("pool_out_size follows PyTorch (ceil_mode)", "[pool]") {
  CHECK(loom::kernels::pool_out_size(7, 2, 2, 0, 1, false) == 3);
  CHECK(loom::kernels::pool_out_size(7, 2, 2, 0, 1, true) == 4);
  CHECK(loom::kernels::pool_out_size(5, 2, 2, 1, 1, true) == 3);  // last window would start in the padding
  CHECK(loom::kernels::pool_out_size(5, 3, 1, 1, 2, false) == 3);
}

TEST_CASE("max_pool2d CPU kernels match a reference", "[pool]") {
  // The first two take the 2x2 / stride-2 fast path (odd sizes: a row and a column left over).
  for (const auto& p :
       {make(3, 7, 9, 2, 2, 0, 1, false), make(2, 8, 10, 2, 2, 0, 1, false), make(3, 7, 9, 2, 2, 0, 1, true),
        make(2, 7, 9, 3, 2, 1, 1, true), make(2, 8, 6, 3, 1, 1, 2, false), make(1, 5, 5, 5, 3, 2, 1, true)}) {
    auto x = loom::test::random_doubles(p.NC * p.H * p.W, -1, 1, 5);
    auto go = loom::test::random_doubles(p.NC * p.OH * p.OW, -1, 1, 6);
    std::vector<double> out(p.NC * p.OH * p.OW), gin(x.size(), 3.0), ref(out.size()), rgin(x.size(), 0.0);
    std::vector<int64_t> idx(out.size());
    kc::max_pool2d_forward(DType::Float64, out.data(), idx.data(), x.data(), p);
    kc::max_pool2d_backward(DType::Float64, gin.data(), go.data(), idx.data(), p);
    for (int64_t c = 0; c < p.NC; ++c)
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          double best = -INFINITY;
          int64_t arg = -1;
          for (int64_t i = 0; i < p.kh; ++i)
            for (int64_t j = 0; j < p.kw; ++j) {
              int64_t ih = oh * p.stride_h - p.pad_h + i * p.dil_h, iw = ow * p.stride_w - p.pad_w + j * p.dil_w;
              if (ih < 0 || iw < 0 || ih >= p.H || iw >= p.W) continue;
              if (x[(c * p.H + ih) * p.W + iw] > best) best = x[(c * p.H + ih) * p.W + iw], arg = ih * p.W + iw;
            }
          const int64_t o = (c * p.OH + oh) * p.OW + ow;
          ref[o] = best;
          CHECK(idx[o] == arg);
          rgin[c * p.H * p.W + arg] += go[o];
        }
    check_close(out, ref, 1e-12, 1e-12);
    check_close(gin, rgin, 1e-12, 1e-12);
  }
}

TEST_CASE("max_pool2d 2x2 fast path: float32 rows wide enough for the vector loop, ties and NaN", "[pool]") {
  // 35 outputs a row (two 16-wide AVX-512 steps and a tail), an odd row and column left over;
  // values on a coarse grid (many ties) and some NaN: the first maximum / the first NaN wins.
  PoolParams p = make(3, 9, 71, 2, 2, 0, 1, false);
  auto xd = loom::test::random_doubles(p.NC * p.H * p.W, -2, 2, 11);
  std::vector<float> x(xd.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 37 == 5 ? NAN : std::round(float(xd[i]));
  const int64_t n = p.NC * p.OH * p.OW;
  std::vector<float> out(n), go(n), gin(x.size(), 7.f), rgin(x.size(), 0.f);
  for (int64_t o = 0; o < n; ++o) go[o] = float(o % 13) - 6.f;
  std::vector<int64_t> idx(n);
  kc::max_pool2d_forward(DType::Float32, out.data(), idx.data(), x.data(), p);
  kc::max_pool2d_backward(DType::Float32, gin.data(), go.data(), idx.data(), p);
  int mismatches = 0;
  for (int64_t c = 0; c < p.NC; ++c)
    for (int64_t oh = 0; oh < p.OH; ++oh)
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const float* xc = x.data() + c * p.H * p.W;
        float best = 0.f;
        int64_t arg = -1;
        for (int64_t ih = 2 * oh; ih < 2 * oh + 2; ++ih)
          for (int64_t iw = 2 * ow; iw < 2 * ow + 2; ++iw) {
            const float v = xc[ih * p.W + iw];
            if (arg >= 0 && std::isnan(best)) continue;
            if (arg < 0 || std::isnan(v) || v > best) best = v, arg = ih * p.W + iw;
          }
        const int64_t o = (c * p.OH + oh) * p.OW + ow;
        const bool same = std::isnan(best) ? std::isnan(out[o]) : out[o] == best;
        mismatches += !same || idx[o] != arg;
        rgin[c * p.H * p.W + arg] += go[o];
      }
  CHECK(mismatches == 0);
  CHECK(gin == rgin);
}

TEST_CASE("max_pool2d propagates NaN", "[pool]") {
  PoolParams p = make(1, 2, 2, 2, 2, 0, 1, false);
  std::vector<double> x = {1.0, NAN, 3.0, 2.0}, out(1);
  std::vector<int64_t> idx(1);
  kc::max_pool2d_forward(DType::Float64, out.data(), idx.data(), x.data(), p);
  CHECK(std::isnan(out[0]));
  CHECK(idx[0] == 1);
  // the first NaN wins, and ties keep the first maximum
  std::vector<float> xf = {NAN, 5.0f, NAN, 1.0f, 2.0f, 2.0f, 2.0f, 1.0f}, of(2);
  PoolParams q = make(2, 2, 2, 2, 2, 0, 1, false);
  std::vector<int64_t> idf(2);
  kc::max_pool2d_forward(DType::Float32, of.data(), idf.data(), xf.data(), q);
  CHECK(std::isnan(of[0]));
  CHECK(idf[0] == 0);
  CHECK(of[1] == 2.0f);
  CHECK(idf[1] == 0);
}

TEST_CASE("max_pool2d_values: the values of max_pool2d_forward without indices", "[pool]") {
  // Strides 1, 2 and 3 (the three tap loops), padding, dilation, ceil_mode, windows wider than the
  // plane, 1-D pools (kh = 1, H = 1) and rows long enough for 16-wide vectors; NaN, -inf and ties.
  std::vector<PoolParams> params;
  for (int64_t k : {1, 2, 3, 5})
    for (int64_t s : {1, 2, 3})
      for (int64_t dil : {1, 2})
        for (bool ceil : {false, true}) {
          const int64_t pad = (k / 2 + s) % (k / 2 + 1);
          params.push_back(make(3, 7 + k, 45 + s, k, s, pad, dil, ceil));
        }
  PoolParams one_d = make(4, 1, 1030, 2, 2, 0, 1, false);
  one_d.kh = 1, one_d.stride_h = 1, one_d.OH = 1;
  params.push_back(one_d);
  one_d.kw = 3, one_d.stride_w = 1, one_d.pad_w = 1;
  one_d.OW = loom::kernels::pool_out_size(1030, 3, 1, 1, 1, false);
  params.push_back(one_d);
  int checked = 0;
  for (const auto& p : params) {
    if (p.OH <= 0 || p.OW <= 0) continue;
    auto xd = loom::test::random_doubles(p.NC * p.H * p.W, -3, 3, 17);
    std::vector<float> xf(xd.size());
    for (size_t i = 0; i < xd.size(); ++i) {
      xd[i] = i % 53 == 7 ? NAN : (i % 31 == 3 ? -INFINITY : std::round(xd[i] * 2) / 2);
      xf[i] = float(xd[i]);
    }
    const int64_t n = p.NC * p.OH * p.OW;
    std::vector<double> vd(n, 9.0), rd(n);
    std::vector<float> vf(n, 9.f), rf(n);
    std::vector<int64_t> idx(n);
    kc::max_pool2d_values(DType::Float64, vd.data(), xd.data(), p);
    kc::max_pool2d_forward(DType::Float64, rd.data(), idx.data(), xd.data(), p);
    kc::max_pool2d_values(DType::Float32, vf.data(), xf.data(), p);
    kc::max_pool2d_forward(DType::Float32, rf.data(), idx.data(), xf.data(), p);
    int bad = 0;
    for (int64_t o = 0; o < n; ++o) {
      bad += std::isnan(rd[o]) ? !std::isnan(vd[o]) : vd[o] != rd[o];
      bad += std::isnan(rf[o]) ? !std::isnan(vf[o]) : vf[o] != rf[o];
    }
    INFO("k " << p.kh << "x" << p.kw << " stride " << p.stride_w << " pad " << p.pad_w << " dil " << p.dil_w << " out "
              << p.OH << "x" << p.OW);
    CHECK(bad == 0);
    ++checked;
  }
  CHECK(checked >= 40);
}

TEST_CASE("avg_pool2d CPU kernels match a reference", "[pool]") {
  for (bool include_pad : {true, false})
    for (const auto& p : {make(3, 7, 9, 2, 2, 0, 1, false), make(2, 7, 9, 3, 2, 1, 1, true),
                          make(2, 6, 5, 3, 1, 1, 1, false), make(1, 5, 5, 4, 3, 2, 1, true)}) {
      auto x = loom::test::random_doubles(p.NC * p.H * p.W, -1, 1, 7);
      auto go = loom::test::random_doubles(p.NC * p.OH * p.OW, -1, 1, 8);
      std::vector<double> out(p.NC * p.OH * p.OW), gin(x.size(), 3.0), ref(out.size()), rgin(x.size(), 0.0);
      kc::avg_pool2d_forward(DType::Float64, out.data(), x.data(), p, include_pad);
      kc::avg_pool2d_backward(DType::Float64, gin.data(), go.data(), p, include_pad);
      for (int64_t c = 0; c < p.NC; ++c)
        for (int64_t oh = 0; oh < p.OH; ++oh)
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            double s = 0;
            int64_t inside = 0, padded = 0;
            for (int64_t i = 0; i < p.kh; ++i)
              for (int64_t j = 0; j < p.kw; ++j) {
                int64_t ih = oh * p.stride_h - p.pad_h + i, iw = ow * p.stride_w - p.pad_w + j;
                if (ih < p.H + p.pad_h && iw < p.W + p.pad_w) ++padded;  // PyTorch clips at the far padding
                if (ih < 0 || iw < 0 || ih >= p.H || iw >= p.W) continue;
                s += x[(c * p.H + ih) * p.W + iw];
                ++inside;
              }
            const double div = include_pad ? padded : inside;
            const int64_t o = (c * p.OH + oh) * p.OW + ow;
            ref[o] = s / div;
            for (int64_t i = 0; i < p.kh; ++i)
              for (int64_t j = 0; j < p.kw; ++j) {
                int64_t ih = oh * p.stride_h - p.pad_h + i, iw = ow * p.stride_w - p.pad_w + j;
                if (ih < 0 || iw < 0 || ih >= p.H || iw >= p.W) continue;
                rgin[(c * p.H + ih) * p.W + iw] += go[o] / div;
              }
          }
      check_close(out, ref, 1e-12, 1e-12);
      check_close(gin, rgin, 1e-12, 1e-12);
    }
}

TEST_CASE("adaptive_avg_pool2d CPU kernels match a reference", "[pool]") {
  // {9, 45, 1, 1} and {6, 70, 2, 1}: windows 32+ wide take the lane sums (whole lanes and a tail).
  for (auto [H, W, OH, OW] : std::vector<std::array<int64_t, 4>>{
           {7, 9, 3, 4}, {5, 5, 1, 1}, {4, 6, 4, 6}, {3, 5, 5, 7}, {9, 45, 1, 1}, {6, 70, 2, 1}}) {
    PoolParams p{};
    p.NC = 3, p.H = H, p.W = W, p.OH = OH, p.OW = OW;
    auto x = loom::test::random_doubles(p.NC * H * W, -1, 1, 9);
    auto go = loom::test::random_doubles(p.NC * OH * OW, -1, 1, 10);
    std::vector<double> out(p.NC * OH * OW), gin(x.size(), 3.0), ref(out.size()), rgin(x.size(), 0.0);
    kc::adaptive_avg_pool2d_forward(DType::Float64, out.data(), x.data(), p);
    kc::adaptive_avg_pool2d_backward(DType::Float64, gin.data(), go.data(), p);
    for (int64_t c = 0; c < p.NC; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t h0 = int64_t(std::floor(double(oh) * H / OH)), h1 = int64_t(std::ceil(double(oh + 1) * H / OH));
          int64_t w0 = int64_t(std::floor(double(ow) * W / OW)), w1 = int64_t(std::ceil(double(ow + 1) * W / OW));
          double s = 0, n = double((h1 - h0) * (w1 - w0));
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += x[(c * H + ih) * W + iw];
          const int64_t o = (c * OH + oh) * OW + ow;
          ref[o] = s / n;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) rgin[(c * H + ih) * W + iw] += go[o] / n;
        }
    check_close(out, ref, 1e-12, 1e-12);
    check_close(gin, rgin, 1e-12, 1e-12);
  }
}

TEST_CASE("adaptive_max_pool2d CPU kernels match a reference", "[pool]") {
  for (auto [H, W, OH, OW] :
       std::vector<std::array<int64_t, 4>>{{7, 9, 3, 4}, {5, 5, 1, 1}, {4, 6, 4, 6}, {3, 5, 5, 7}, {7, 9, 10, 13}}) {
    PoolParams p{};
    p.NC = 3, p.H = H, p.W = W, p.OH = OH, p.OW = OW;
    auto x = loom::test::random_doubles(p.NC * H * W, -1, 1, 11);
    for (size_t i = 0; i < x.size(); i += 5) x[i] = std::round(x[i]);  // ties among -1, 0, 1: the first wins
    auto go = loom::test::random_doubles(p.NC * OH * OW, -1, 1, 12);
    std::vector<double> out(p.NC * OH * OW), gin(x.size(), 3.0), ref(out.size()), rgin(x.size(), 0.0);
    std::vector<int64_t> idx(out.size()), ridx(out.size());
    kc::adaptive_max_pool2d_forward(DType::Float64, out.data(), idx.data(), x.data(), p);
    kc::adaptive_max_pool2d_backward(DType::Float64, gin.data(), go.data(), idx.data(), p);
    for (int64_t c = 0; c < p.NC; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t h0 = int64_t(std::floor(double(oh) * H / OH)), h1 = int64_t(std::ceil(double(oh + 1) * H / OH));
          int64_t w0 = int64_t(std::floor(double(ow) * W / OW)), w1 = int64_t(std::ceil(double(ow + 1) * W / OW));
          double best = -INFINITY;
          int64_t arg = -1;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw)
              if (x[(c * H + ih) * W + iw] > best) best = x[(c * H + ih) * W + iw], arg = ih * W + iw;
          const int64_t o = (c * OH + oh) * OW + ow;
          ref[o] = best, ridx[o] = arg;
          rgin[c * H * W + arg] += go[o];
        }
    check_close(out, ref, 0, 0);
    CHECK(idx == ridx);
    check_close(gin, rgin, 1e-12, 1e-12);
  }
  // NaN: the first NaN of the window wins.
  PoolParams p{};
  p.NC = 1, p.H = 1, p.W = 5, p.OH = 1, p.OW = 2;
  std::vector<double> x = {1.0, NAN, 3.0, NAN, 2.0}, out(2);
  std::vector<int64_t> idx(2);
  kc::adaptive_max_pool2d_forward(DType::Float64, out.data(), idx.data(), x.data(), p);
  CHECK(std::isnan(out[0]));
  CHECK(std::isnan(out[1]));
  CHECK(idx == std::vector<int64_t>{1, 3});
  // The whole plane as one window (its own path): the first NaN, else the first maximum.
  p.OW = 1;
  for (int64_t n : {5, 21}) {
    std::vector<double> v(size_t(n), 0.5), o(1);
    std::vector<int64_t> i(1);
    p.W = n;
    v[3] = 2.0, v[size_t(n) - 1] = 2.0;
    kc::adaptive_max_pool2d_forward(DType::Float64, o.data(), i.data(), v.data(), p);
    CHECK(o[0] == 2.0);
    CHECK(i[0] == 3);
    v[size_t(n) - 2] = NAN, v[size_t(n) - 1] = NAN;
    kc::adaptive_max_pool2d_forward(DType::Float64, o.data(), i.data(), v.data(), p);
    CHECK(std::isnan(o[0]));
    CHECK(i[0] == n - 2);
  }
}
