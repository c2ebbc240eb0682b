// Float64 references of the registry's spatial ops (core/ops.toml, `ref`): 2-D and 3-D convolution and
// transposed convolution, 2-D pooling (windowed and adaptive), upsampling (nearest, bilinear, bicubic),
// padding, grid_sample and affine_grid, in loops. Included at the end of op_references.h, whose helpers (values,
// from) they use.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "op_references.h"

namespace loom::ref {

// 3-D convolution of x [N, C, D, H, W] with w [O, C / groups, KD, KH, KW], plus b [O], in loops.
inline Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& b, const Dims& st, const Dims& pd, const Dims& dl,
                     int64_t groups) {
  const int64_t N = x.size(0), C = x.size(1), D = x.size(2), H = x.size(3), W = x.size(4);
  const int64_t O = w.size(0), Cg = w.size(1), KD = w.size(2), KH = w.size(3), KW = w.size(4), Og = O / groups;
  const int64_t OD = (D + 2 * pd[0] - dl[0] * (KD - 1) - 1) / st[0] + 1;
  const int64_t OH = (H + 2 * pd[1] - dl[1] * (KH - 1) - 1) / st[1] + 1;
  const int64_t OW = (W + 2 * pd[2] - dl[2] * (KW - 1) - 1) / st[2] + 1;
  const Values vx = values(x), vw = values(w), vb = b.defined() ? values(b) : Values(O, 0.0);
  Values out(static_cast<size_t>(N * O * OD * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t od = 0; od < OD; ++od)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            double acc = vb[o];
            const int64_t g = o / Og;
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t kd = 0; kd < KD; ++kd)
                for (int64_t kh = 0; kh < KH; ++kh)
                  for (int64_t kw = 0; kw < KW; ++kw) {
                    const int64_t id = od * st[0] - pd[0] + kd * dl[0], ih = oh * st[1] - pd[1] + kh * dl[1],
                                  iw = ow * st[2] - pd[2] + kw * dl[2];
                    if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    acc += vx[(((n * C + g * Cg + c) * D + id) * H + ih) * W + iw] *
                           vw[(((o * Cg + c) * KD + kd) * KH + kh) * KW + kw];
                  }
            out[(((n * O + o) * OD + od) * OH + oh) * OW + ow] = acc;
          }
  return from(out, {N, O, OD, OH, OW});
}

// Transposed 3-D convolution of x [N, C, D, H, W] with w [C, O / groups, KD, KH, KW]: every input value
// spreads w into the output at (d·stride − pad + kd·dil, ...); plus b [O].
inline Tensor conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& b, const Dims& st, const Dims& pd,
                               const Dims& op, int64_t groups, const Dims& dl) {
  const int64_t N = x.size(0), C = x.size(1), D = x.size(2), H = x.size(3), W = x.size(4);
  const int64_t Og = w.size(1), KD = w.size(2), KH = w.size(3), KW = w.size(4), O = Og * groups, Cg = C / groups;
  const int64_t OD = (D - 1) * st[0] - 2 * pd[0] + dl[0] * (KD - 1) + op[0] + 1;
  const int64_t OH = (H - 1) * st[1] - 2 * pd[1] + dl[1] * (KH - 1) + op[1] + 1;
  const int64_t OW = (W - 1) * st[2] - 2 * pd[2] + dl[2] * (KW - 1) + op[2] + 1;
  const Values vx = values(x), vw = values(w), vb = b.defined() ? values(b) : Values(O, 0.0);
  Values out(static_cast<size_t>(N * O * OD * OH * OW), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t ww = 0; ww < W; ++ww)
            for (int64_t o = 0; o < Og; ++o)
              for (int64_t kd = 0; kd < KD; ++kd)
                for (int64_t kh = 0; kh < KH; ++kh)
                  for (int64_t kw = 0; kw < KW; ++kw) {
                    const int64_t zd = d * st[0] - pd[0] + kd * dl[0], zh = h * st[1] - pd[1] + kh * dl[1],
                                  zw = ww * st[2] - pd[2] + kw * dl[2];
                    if (zd < 0 || zd >= OD || zh < 0 || zh >= OH || zw < 0 || zw >= OW) continue;
                    const int64_t oc = (c / Cg) * Og + o;
                    out[(((n * O + oc) * OD + zd) * OH + zh) * OW + zw] +=
                        vx[(((n * C + c) * D + d) * H + h) * W + ww] *
                        vw[(((c * Og + o) * KD + kd) * KH + kh) * KW + kw];
                  }
  const int64_t plane = OD * OH * OW;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc)
      for (int64_t e = 0; e < plane; ++e) out[(n * O + oc) * plane + e] += vb[oc];
  return from(out, {N, O, OD, OH, OW});
}

// 2-D convolution of x [N, C, H, W] with w [O, C / groups, KH, KW]: the 3-D one on a depth of 1.
inline Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Dims& stride, const Dims& pad,
                     const Dims& dil, int64_t groups) {
  return ref::conv3d(x.unsqueeze(2), w.unsqueeze(2), b, {1, stride[0], stride[1]}, {0, pad[0], pad[1]},
                     {1, dil[0], dil[1]}, groups)
      .squeeze(2);
}

// Transposed 2-D convolution of x [N, C, H, W] with w [C, O / groups, KH, KW]: the 3-D one on a depth of 1.
inline Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, const Dims& stride, const Dims& pad,
                               const Dims& out_pad, int64_t groups, const Dims& dil) {
  return ref::conv_transpose3d(x.unsqueeze(2), w.unsqueeze(2), b, {1, stride[0], stride[1]}, {0, pad[0], pad[1]},
                               {0, out_pad[0], out_pad[1]}, groups, {1, dil[0], dil[1]})
      .squeeze(2);
}

// Pooling of x [N, C, H, W] over windows k with stride s and padding p (floor mode):
// the maximum, or the mean (over the window with its padding when count_pad).
inline Tensor pool2d(const Tensor& x, const Dims& k, const Dims& s, const Dims& p, bool max, bool count_pad = true) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OH = (H + 2 * p[0] - k[0]) / s[0] + 1, OW = (W + 2 * p[1] - k[1]) / s[1] + 1;
  const Values vx = values(x);
  Values out(static_cast<size_t>(N * C * OH * OW));
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t count = 0;
        for (int64_t kh = 0; kh < k[0]; ++kh)
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            const int64_t ih = oh * s[0] - p[0] + kh, iw = ow * s[1] - p[1] + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              count += count_pad;
              continue;
            }
            const double v = vx[(nc * H + ih) * W + iw];
            best = std::max(best, v);
            sum += v;
            ++count;
          }
        out[(nc * OH + oh) * OW + ow] = max ? best : sum / static_cast<double>(count);
      }
  return from(out, {N, C, OH, OW});
}

// Adaptive pooling of x [N, C, H, W] to [OH, OW] in double, window [floor(i·H/OH), ceil((i+1)·H/OH)):
// the mean of each window, or (max) its maximum.
inline Tensor adaptive_pool2d(const Tensor& x, const Dims& size, bool max) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = size[0], OW = size[1];
  const Values vx = values(x);
  Values out(static_cast<size_t>(N * C * OH * OW));
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
        const int64_t w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        double sum = 0, best = -std::numeric_limits<double>::infinity();
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            sum += vx[(nc * H + h) * W + w];
            best = std::max(best, vx[(nc * H + h) * W + w]);
          }
        out[(nc * OH + oh) * OW + ow] = max ? best : sum / static_cast<double>((h1 - h0) * (w1 - w0));
      }
  return from(out, {N, C, OH, OW});
}
inline Tensor adaptive_avg_pool2d(const Tensor& x, const Dims& size) { return adaptive_pool2d(x, size, false); }
inline Tensor adaptive_max_pool2d(const Tensor& x, const Dims& size) { return adaptive_pool2d(x, size, true); }

// Resizing x [N, C, H, W] to [OH, OW] in double: nearest takes floor(o·H/OH); bilinear
// samples s = o·(H−1)/(OH−1) (align_corners) or max((o + ½)·H/OH − ½, 0) between
// floor(s) and the next pixel (clamped to the last).
inline Tensor upsample2d(const Tensor& x, const Dims& size, bool bilinear, bool align_corners) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = size[0], OW = size[1];
  const Values vx = values(x);
  auto coord = [&](int64_t o, int64_t in, int64_t out) {
    if (!bilinear) return std::floor(static_cast<double>(o) * in / out);
    if (align_corners) return out > 1 ? static_cast<double>(o) * (in - 1) / (out - 1) : 0.0;
    return std::max((o + 0.5) * in / out - 0.5, 0.0);
  };
  Values out(static_cast<size_t>(N * C * OH * OW));
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const double sh = coord(oh, H, OH), sw = coord(ow, W, OW);
        const int64_t h0 = std::min<int64_t>(static_cast<int64_t>(sh), H - 1), h1 = std::min<int64_t>(h0 + 1, H - 1);
        const int64_t w0 = std::min<int64_t>(static_cast<int64_t>(sw), W - 1), w1 = std::min<int64_t>(w0 + 1, W - 1);
        const double lh = bilinear ? sh - h0 : 0, lw = bilinear ? sw - w0 : 0;
        auto at = [&](int64_t h, int64_t w) { return vx[(nc * H + h) * W + w]; };
        out[(nc * OH + oh) * OW + ow] =
            (1 - lh) * ((1 - lw) * at(h0, w0) + lw * at(h0, w1)) + lh * ((1 - lw) * at(h1, w0) + lw * at(h1, w1));
      }
  return from(out, {N, C, OH, OW});
}

// torch's upsample_bicubic2d of x [N, C, H, W] (no scale factors given).
inline Tensor upsample_bicubic2d(const Tensor& x, const Dims& size, bool align_corners) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = size[0], OW = size[1];
  const Values vx = values(x);
  const double A = -0.75;
  auto kernel = [&](double d) {  // the cubic convolution kernel at distance |d| < 2
    d = std::fabs(d);
    return d <= 1 ? ((A + 2) * d - (A + 3)) * d * d + 1 : ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
  };
  auto source = [&](int64_t o, int64_t in, int64_t out) {
    if (align_corners) return out > 1 ? double(o) * double(in - 1) / double(out - 1) : 0.0;
    return (o + 0.5) * double(in) / double(out) - 0.5;
  };
  Values out(static_cast<size_t>(N * C * OH * OW));
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const double sh = source(oh, H, OH), sw = source(ow, W, OW);
        const int64_t h = std::min<int64_t>(int64_t(std::floor(sh)), H - 1),
                      w = std::min<int64_t>(int64_t(std::floor(sw)), W - 1);
        const double th = std::min(std::max(sh - double(h), 0.0), 1.0),
                     tw = std::min(std::max(sw - double(w), 0.0), 1.0);
        double v = 0;
        for (int i = -1; i <= 2; ++i)
          for (int j = -1; j <= 2; ++j) {
            const int64_t hh = std::min(std::max<int64_t>(h + i, 0), H - 1),
                          ww = std::min(std::max<int64_t>(w + j, 0), W - 1);
            v += kernel(double(i) - th) * kernel(double(j) - tw) * vx[(nc * H + hh) * W + ww];
          }
        out[(nc * OH + oh) * OW + ow] = v;
      }
  return from(out, {N, C, OH, OW});
}

// torch.nn.functional.grid_sample on [N, C, H, W] at grid [N, OH, OW, 2]:
// padding 0 zeros, 1 border, 2 reflection; bilinear or nearest.
inline double grid_coord(double g, int64_t size, int padding, bool align_corners) {
  double x = align_corners ? (g + 1) / 2 * double(size - 1) : ((g + 1) * double(size) - 1) / 2;
  const double hi = double(size - 1);
  if (padding == 2) {  // reflect about the pixel centers (align_corners) or borders
    const double lo2 = align_corners ? 0 : -1, hi2 = align_corners ? 2 * hi : 2 * double(size) - 1;
    if (lo2 == hi2) {
      x = 0;
    } else {
      const double lo = lo2 / 2, span = (hi2 - lo2) / 2;
      double d = std::fabs(x - lo);
      const double flips = std::floor(d / span), extra = d - flips * span;
      x = std::fmod(flips, 2.0) == 0 ? extra + lo : span - extra + lo;
    }
  }
  if (padding >= 1) x = std::min(std::max(x, 0.0), hi);
  return x;
}

inline Tensor grid_sample(const Tensor& x, const Tensor& grid, bool nearest, int padding, bool align_corners) {
  const Values v = values(x), g = values(grid);
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = grid.size(1), OW = grid.size(2);
  Values out(static_cast<size_t>(N * C * OH * OW));
  auto at = [&](int64_t n, int64_t c, int64_t yy, int64_t xx) {
    return xx < 0 || xx >= W || yy < 0 || yy >= H ? 0.0 : v[((n * C + c) * H + yy) * W + xx];
  };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t q = (n * OH + i) * OW + j;
        const double ix = grid_coord(g[2 * q], W, padding, align_corners);
        const double iy = grid_coord(g[2 * q + 1], H, padding, align_corners);
        for (int64_t c = 0; c < C; ++c) {
          double r;
          if (nearest) {
            r = at(n, c, int64_t(std::nearbyint(iy)), int64_t(std::nearbyint(ix)));
          } else {
            const int64_t x0 = int64_t(std::floor(ix)), y0 = int64_t(std::floor(iy));
            const double fx = ix - double(x0), fy = iy - double(y0);
            r = at(n, c, y0, x0) * (1 - fx) * (1 - fy) + at(n, c, y0, x0 + 1) * fx * (1 - fy) +
                at(n, c, y0 + 1, x0) * (1 - fx) * fy + at(n, c, y0 + 1, x0 + 1) * fx * fy;
          }
          out[static_cast<size_t>(((n * C + c) * OH + i) * OW + j)] = r;
        }
      }
  return from(out, {N, C, OH, OW});
}

// torch.nn.functional.affine_grid for theta [N, 2, 3] and an H x W output.
inline Tensor affine_grid(const Tensor& theta, int64_t H, int64_t W, bool align_corners) {
  const Values t = values(theta);
  const int64_t N = theta.size(0);
  auto coord = [&](int64_t i, int64_t n) {
    if (n <= 1) return 0.0;
    const double c = -1 + 2 * double(i) / double(n - 1);
    return align_corners ? c : c * double(n - 1) / double(n);
  };
  Values out;
  for (int64_t b = 0; b < N; ++b)
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) {
        const double x = coord(j, W), y = coord(i, H);
        for (int r = 0; r < 2; ++r)
          out.push_back(t[b * 6 + r * 3] * x + t[b * 6 + r * 3 + 1] * y + t[b * 6 + r * 3 + 2]);
      }
  return from(out, {N, H, W, 2});
}

// torch.nn.functional.pad of x by pad = {left, right of the last dim, of the one before, ...}: output index o
// of a padded dim reads o - left reflected (as often as needed), clamped (replicate) or wrapped (circular);
// constant: `value` outside the input.
inline Tensor pad(const Tensor& x, const Dims& pad, const std::string& mode, double value = 0) {
  const Shape in = x.sizes();
  Shape out = in;
  const size_t nd = in.size(), k = pad.size() / 2;
  Dims left(nd, 0);
  for (size_t j = 0; j < k; ++j) {
    left[nd - 1 - j] = pad[2 * j];
    out[nd - 1 - j] += pad[2 * j] + pad[2 * j + 1];
  }
  const Values v = values(x);
  Values r(static_cast<size_t>(numel(out)));
  for (int64_t e = 0; e < numel(out); ++e) {
    int64_t rem = e, src = 0, stride = 1;
    bool outside = false;
    for (int64_t d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
      const int64_t o = rem % out[d], n = in[d];
      rem /= out[d];
      int64_t i = o - left[d];
      if (mode == "reflect") {
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      } else if (mode == "replicate") {
        i = std::min(std::max<int64_t>(i, 0), n - 1);
      } else if (mode == "circular") {
        i = ((i % n) + n) % n;
      } else if (i < 0 || i >= n) {
        outside = true;
      }
      src += i * stride;
      stride *= n;
    }
    r[static_cast<size_t>(e)] = outside ? value : v[static_cast<size_t>(src)];
  }
  return from(r, out);
}

}  // namespace loom::ref
