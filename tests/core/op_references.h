// Float64 references for the registry's general ops (core/ops.toml, `ref`):
// plain loops over host values, or compositions of ops that the harness
// checks on their own (the pointwise ops and reductions). Slow and obvious
// on purpose; inputs are float64 CPU tensors (index inputs keep their dtype).
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loom::ref {

using Values = std::vector<double>;

inline Tensor from(const Values& v, const Shape& shape) { return from_vector(v, shape); }

inline Values values(const Tensor& x) { return x.detach().contiguous().to_vector(); }

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// f on each value of x.
inline Tensor map(const Tensor& x, const std::function<double(double)>& f) {
  Values v = values(x);
  for (double& e : v) e = f(e);
  return from(v, x.sizes());
}

// f on each pair of values of a and b, broadcast.
inline Tensor map2(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  const Shape s = broadcast_shapes(a.sizes(), b.sizes());
  const Values va = values(a.expand(s)), vb = values(b.expand(s));
  Values out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = f(va[i], vb[i]);
  return from(out, s);
}

// f on each triple of values of a, b and c, broadcast.
inline Tensor map3(const Tensor& a, const Tensor& b, const Tensor& c,
                   const std::function<double(double, double, double)>& f) {
  const Shape s = broadcast_shapes(broadcast_shapes(a.sizes(), b.sizes()), c.sizes());
  const Values va = values(a.expand(s)), vb = values(b.expand(s)), vc = values(c.expand(s));
  Values out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = f(va[i], vb[i], vc[i]);
  return from(out, s);
}

// Each slice of x along dim (its values in order) turned by f into out_len values,
// which take dim's place; with out_len 1 and keep false, dim is removed.
inline Tensor along(const Tensor& x, int64_t dim, int64_t out_len, const std::function<Values(const Values&)>& f,
                    bool keep = true) {
  const int64_t nd = x.dim();
  if (dim < 0) dim += nd;
  const Shape& s = x.sizes();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= s[d];
  for (int64_t d = dim + 1; d < nd; ++d) inner *= s[d];
  const int64_t n = s[dim];
  const Values v = values(x);
  Values out(static_cast<size_t>(outer * out_len * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Values slice(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) slice[k] = v[(o * n + k) * inner + i];
      const Values r = f(slice);
      for (int64_t k = 0; k < out_len; ++k) out[(o * out_len + k) * inner + i] = r[k];
    }
  Shape os = s;
  os[dim] = out_len;
  if (!keep && out_len == 1) os.erase(os.begin() + dim);
  return from(out, os);
}

inline Values softmax_values(const Values& v) {
  const double m = *std::max_element(v.begin(), v.end());
  Values e(v.size());
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) sum += e[i] = std::exp(v[i] - m);
  for (double& x : e) x /= sum;
  return e;
}

inline Tensor softmax(const Tensor& x, int64_t dim) { return along(x, dim, x.size(dim), softmax_values); }

inline Tensor log_softmax(const Tensor& x, int64_t dim) {
  return along(x, dim, x.size(dim), [](const Values& v) {
    Values s = softmax_values(v);
    for (double& e : s) e = std::log(e);
    return s;
  });
}

// The index of the first maximum (largest) or minimum of each slice along dim.
inline Tensor arg_extreme(const Tensor& x, int64_t dim, bool largest, bool keepdim = false) {
  return along(
      x, dim, 1,
      [largest](const Values& v) {
        size_t best = 0;
        for (size_t i = 1; i < v.size(); ++i)
          if (largest ? v[i] > v[best] : v[i] < v[best]) best = i;
        return Values{static_cast<double>(best)};
      },
      keepdim);
}

// Running sums / products of each slice along dim (as float64).
inline Tensor cumulative(const Tensor& x, int64_t dim, bool product) {
  return along(x.to(DType::Float64), dim, x.size(dim), [product](const Values& v) {
    Values out(v.size());
    double acc = product ? 1.0 : 0.0;
    for (size_t i = 0; i < v.size(); ++i) out[i] = acc = product ? acc * v[i] : acc + v[i];
    return out;
  });
}

// log(cumsum(exp(x))) along dim, in long double from the running maximum.
inline Tensor log_cumulative(const Tensor& x, int64_t dim) {
  return along(x.to(DType::Float64), dim, x.size(dim), [](const Values& v) {
    Values out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      double m = v[0];
      for (size_t j = 0; j <= i; ++j) m = std::max(m, v[j]);
      long double s = 0;
      for (size_t j = 0; j <= i; ++j) s += std::exp(static_cast<long double>(v[j]) - m);
      out[i] = m + static_cast<double>(std::log(s));
    }
    return out;
  });
}

// Running maxima (minima) along dim and, with `index`, their positions: the
// latest on ties (no NaN in the samples).
inline Tensor cum_extreme(const Tensor& x, int64_t dim, bool largest, bool index) {
  return along(x.to(DType::Float64), dim, x.size(dim), [=](const Values& v) {
    Values out(v.size());
    size_t best = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (largest ? v[i] >= v[best] : v[i] <= v[best]) best = i;
      out[i] = index ? static_cast<double>(best) : v[best];
    }
    return out;
  });
}

// The stable sort of each slice along dim: the first k values (index false)
// or their positions (index true).
inline Tensor sorted(const Tensor& x, int64_t dim, bool descending, bool index, int64_t k = -1) {
  if (k < 0) k = x.size(dim);
  return along(x.to(DType::Float64), dim, k, [=](const Values& v) {
    std::vector<size_t> order(v.size());
    for (size_t i = 0; i < v.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return descending ? v[a] > v[b] : v[a] < v[b]; });
    Values out(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) out[i] = index ? static_cast<double>(order[i]) : v[order[i]];
    return out;
  });
}

// searchsorted by counting: for each value, the boundaries of its row below it (right: not above it); rows
// are the last dim of b (1-D b: one row for every value). Boundaries sorted, values without NaN.
inline Tensor searchsorted(const Tensor& b, const Tensor& v, bool right) {
  const Values bv = values(b), vv = values(v);
  const int64_t n = b.size(-1), m = b.dim() == 1 ? v.numel() : v.size(-1);
  Values out(vv.size());
  for (size_t k = 0; k < vv.size(); ++k) {
    const size_t row = b.dim() == 1 ? 0 : k / static_cast<size_t>(m) * static_cast<size_t>(n);
    double c = 0;
    for (int64_t i = 0; i < n; ++i) c += right ? bv[row + i] <= vv[k] : bv[row + i] < vv[k];
    out[k] = c;
  }
  return from(out, v.sizes());
}

// The moments of each slice along dim: variance with `correction` (1: unbiased).
inline Tensor var(const Tensor& x, int64_t dim, double correction, bool keepdim = false, bool sqrt = false) {
  return along(
      x, dim, 1,
      [=](const Values& v) {
        double mean = 0, ss = 0;
        for (double e : v) mean += e;
        mean /= static_cast<double>(v.size());
        for (double e : v) ss += (e - mean) * (e - mean);
        const double r = ss / (static_cast<double>(v.size()) - correction);
        return Values{sqrt ? std::sqrt(r) : r};
      },
      keepdim);
}

inline Tensor norm(const Tensor& x, double p, int64_t dim, bool keepdim = false) {
  return along(
      x, dim, 1,
      [p](const Values& v) {
        double s = 0;
        for (double e : v) s += std::pow(std::fabs(e), p);
        return Values{std::pow(s, 1.0 / p)};
      },
      keepdim);
}

// a [..., n, k] times b [k, m] or [..., k, m] (the same leading dims), in loops.
inline Tensor matmul(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  const int64_t batch = a.numel() / (n * k);
  const bool shared_b = b.dim() == 2;
  const Values va = values(a), vb = values(b);
  Values out(static_cast<size_t>(batch * n * m), 0.0);
  for (int64_t q = 0; q < batch; ++q)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l) s += va[(q * n + i) * k + l] * vb[((shared_b ? 0 : q) * k + l) * m + j];
        out[(q * n + i) * m + j] = s;
      }
  Shape os = a.sizes();
  os.back() = m;
  return from(out, os);
}

// x [..., in] times weight [out, in] transposed, plus bias [out] when defined.
inline Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = {}) {
  Tensor y = ref::matmul(x, w.t().contiguous());
  return b.defined() ? map2(y, b, [](double u, double v) { return u + v; }) : y;
}

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

// Group norm of x [N, C, *]: groups of C / G channels normalized over their values, then w[c], b[c].
inline Tensor group_norm(const Tensor& x, int64_t G, const Tensor& w, const Tensor& b, double eps) {
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C), D = C / G * S;
  Values v = values(x);
  const Values vw = values(w), vb = values(b);
  for (int64_t grp = 0; grp < N * G; ++grp) {
    double mean = 0, ss = 0;
    for (int64_t j = 0; j < D; ++j) mean += v[grp * D + j];
    mean /= static_cast<double>(D);
    for (int64_t j = 0; j < D; ++j) ss += (v[grp * D + j] - mean) * (v[grp * D + j] - mean);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
    for (int64_t j = 0; j < D; ++j) {
      const int64_t c = (grp % G) * (C / G) + j / S;
      v[grp * D + j] = (v[grp * D + j] - mean) * inv * vw[c] + vb[c];
    }
  }
  return from(v, x.sizes());
}

// Layer norm of x over its last dim, then weight and bias (when defined).
inline Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  Tensor y = along(x, -1, x.size(-1), [eps](const Values& v) {
    double mean = 0, ss = 0;
    for (double e : v) mean += e;
    mean /= static_cast<double>(v.size());
    for (double e : v) ss += (e - mean) * (e - mean);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(v.size()) + eps);
    Values out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = (v[i] - mean) * inv;
    return out;
  });
  if (w.defined()) y = map2(y, w, [](double u, double v) { return u * v; });
  if (b.defined()) y = map2(y, b, [](double u, double v) { return u + v; });
  return y;
}

// Mean cross-entropy of logits [N, C] with class targets [N].
inline Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  const Tensor lp = ref::log_softmax(logits, 1);
  const Values v = values(lp), t = values(target);
  const int64_t N = logits.size(0), C = logits.size(1);
  double s = 0;
  for (int64_t n = 0; n < N; ++n) s -= v[n * C + static_cast<int64_t>(t[n])];
  return from({s / static_cast<double>(N)}, {});
}

// NLL loss of log-probabilities x [N, C, K] at targets [N, K] (weight [C] or undefined), loops in double.
inline Tensor nll_loss(const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore,
                       const std::string& reduction) {
  const Values v = values(x), t = values(target), w = weight.defined() ? values(weight) : Values();
  const int64_t N = x.size(0), C = x.size(1), K = x.numel() / (N * C);
  Values loss(N * K, 0.0);
  double lsum = 0, wsum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t c = static_cast<int64_t>(t[n * K + k]);
      if (c == ignore) continue;
      const double wt = w.empty() ? 1.0 : w[c];
      loss[n * K + k] = -wt * v[(n * C + c) * K + k];
      lsum += loss[n * K + k];
      wsum += wt;
    }
  if (reduction == "sum") return from({lsum}, {});
  if (reduction == "mean") return from({lsum / wsum}, {});
  return from(loss, target.sizes());
}

// tril (lower) / triu of the last two dims of x: 0 where j - i > k (lower) or j - i < k (upper).
inline Tensor tri(const Tensor& x, int64_t k, bool lower) {
  Values v = values(x);
  const int64_t M = x.size(-2), N = x.size(-1);
  for (size_t e = 0; e < v.size(); ++e) {
    const int64_t j = static_cast<int64_t>(e) % N, i = static_cast<int64_t>(e) / N % M;
    if (lower ? j - i > k : j - i < k) v[e] = 0.0;
  }
  return from(v, x.sizes());
}

// Rows of weight [V, D] picked by index (any shape): [..., D].
inline Tensor embedding(const Tensor& index, const Tensor& weight) {
  const Values idx = values(index), w = values(weight);
  const int64_t D = weight.size(1);
  Values out;
  for (double i : idx) {
    const int64_t r = static_cast<int64_t>(i);
    out.insert(out.end(), w.begin() + r * D, w.begin() + (r + 1) * D);
  }
  Shape s = index.sizes();
  s.push_back(D);
  return from(out, s);
}

// x [R, C] indexed along dim by a 1-d index.
inline Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const Values idx = values(index), v = values(x);
  const int64_t R = x.size(0), C = x.size(1), K = static_cast<int64_t>(idx.size());
  Values out;
  for (int64_t i = 0; i < (dim == 0 ? K : R); ++i)
    for (int64_t j = 0; j < (dim == 0 ? C : K); ++j)
      out.push_back(dim == 0 ? v[static_cast<int64_t>(idx[i]) * C + j] : v[i * C + static_cast<int64_t>(idx[j])]);
  return from(out, dim == 0 ? Shape{K, C} : Shape{R, K});
}

// torch.gather on 2-d x along dim with a 2-d index.
inline Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const Values idx = values(index), v = values(x);
  const int64_t C = x.size(1), IR = index.size(0), IC = index.size(1);
  Values out(idx.size());
  for (int64_t i = 0; i < IR; ++i)
    for (int64_t j = 0; j < IC; ++j) {
      const int64_t k = static_cast<int64_t>(idx[i * IC + j]);
      out[i * IC + j] = dim == 0 ? v[k * C + j] : v[i * C + k];
    }
  return from(out, index.sizes());
}

// torch.scatter_add on 2-d x along dim: x plus src added at index.
inline Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const Values idx = values(index), s = values(src);
  Values out = values(x);
  const int64_t C = x.size(1), IR = index.size(0), IC = index.size(1), SC = src.size(1);
  for (int64_t i = 0; i < IR; ++i)
    for (int64_t j = 0; j < IC; ++j) {
      const int64_t k = static_cast<int64_t>(idx[i * IC + j]);
      out[dim == 0 ? k * C + j : i * C + k] += s[i * SC + j];
    }
  if (x.dtype() == DType::Bool)  // bool addition is or
    for (double& v : out) v = v != 0;
  return from(out, x.sizes());
}

// torch.scatter_reduce on 2-d x along dim: each element of x named by the
// index reduced with the src values sent to it (and itself, include_self).
inline Tensor scatter_reduce(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                             const std::string& reduce, bool include_self = true) {
  const Values idx = values(index), s = values(src);
  Values out = values(x);
  const int64_t C = x.size(1), IR = index.size(0), IC = index.size(1), SC = src.size(1);
  std::vector<Values> sent(out.size());
  for (int64_t i = 0; i < IR; ++i)
    for (int64_t j = 0; j < IC; ++j) {
      const int64_t k = static_cast<int64_t>(idx[i * IC + j]);
      sent[dim == 0 ? k * C + j : i * C + k].push_back(s[i * SC + j]);
    }
  const bool integral = !is_floating(x.dtype()), boolean = x.dtype() == DType::Bool;
  for (size_t p = 0; p < out.size(); ++p) {
    if (sent[p].empty()) continue;
    Values v = sent[p];
    if (include_self) v.push_back(out[p]);
    double r = reduce == "prod" ? 1.0 : 0.0;
    if (reduce == "amax") r = -std::numeric_limits<double>::infinity();
    if (reduce == "amin") r = std::numeric_limits<double>::infinity();
    for (double e : v) {
      if (reduce == "sum" || reduce == "mean") r += e;
      else if (reduce == "prod") r *= e;
      else if (reduce == "amax") r = std::isnan(e) || std::isnan(r) ? NAN : std::max(r, e);
      else r = std::isnan(e) || std::isnan(r) ? NAN : std::min(r, e);
    }
    if (reduce == "mean") r = integral ? std::floor(r / double(v.size())) : r / double(v.size());
    if (boolean) r = r != 0;
    out[p] = r;
  }
  return from(out, x.sizes());
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

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// A tensor of shape out whose element at each index is the value of x at the
// row-major position src(index) (views, copies and concatenations).
inline Tensor index_map(const Tensor& x, const Shape& out, const std::function<int64_t(const Shape& index)>& src) {
  const Values v = values(x);
  const int64_t n = numel(out);
  Values r(static_cast<size_t>(n));
  Shape idx(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i;
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    r[i] = v[static_cast<size_t>(src(idx))];
  }
  return from(r, out);
}

// The row-major position of index in shape.
inline int64_t offset(const Shape& shape, const Shape& index) {
  int64_t o = 0;
  for (size_t d = 0; d < shape.size(); ++d) o = o * shape[d] + index[d];
  return o;
}

// x with its dims in the order dims.
inline Tensor permute(const Tensor& x, const Dims& dims) {
  Shape out;
  for (int64_t d : dims) out.push_back(x.size(d));
  const Shape in = x.sizes();
  return index_map(x, out, [&](const Shape& idx) {
    Shape src(in.size());
    for (size_t k = 0; k < dims.size(); ++k) src[dims[k]] = idx[k];
    return offset(in, src);
  });
}

// a and b (2-d, or 3-d with dim 1 for stack) joined along dim 1: cat of [R, A] and [R, B].
inline Tensor cat_cols(const Tensor& a, const Tensor& b) {
  const int64_t R = a.size(0), A = a.size(1), B = b.size(1);
  const Values va = values(a), vb = values(b);
  Values out;
  for (int64_t r = 0; r < R; ++r) {
    out.insert(out.end(), va.begin() + r * A, va.begin() + (r + 1) * A);
    out.insert(out.end(), vb.begin() + r * B, vb.begin() + (r + 1) * B);
  }
  return from(out, {R, A + B});
}

// One AdamW step (PyTorch's formulas) then one SGD step with momentum 0.9,
// no dampening, nesterov, weight decay 0.01 and lr 0.1 on copies of p, from the
// gradient g, moments m, v and momentum buffer m: [p_adamw; m'; v'; p_sgd; buf'].
inline Tensor optim_steps(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, int64_t step) {
  const Values vp = values(p), vg = values(g), vm = values(m), vv = values(v);
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  const double c1 = 1 - std::pow(b1, static_cast<double>(step)), c2 = 1 - std::pow(b2, static_cast<double>(step));
  Values pa(vp.size()), ma(vp.size()), va(vp.size()), ps(vp.size()), bs(vp.size());
  for (size_t i = 0; i < vp.size(); ++i) {
    ma[i] = b1 * vm[i] + (1 - b1) * vg[i];
    va[i] = b2 * vv[i] + (1 - b2) * vg[i] * vg[i];
    pa[i] = vp[i] * (1 - lr * wd) - (lr / c1) * ma[i] / (std::sqrt(va[i]) / std::sqrt(c2) + eps);
    const double d = vg[i] + wd * vp[i];
    bs[i] = 0.9 * vm[i] + d;
    ps[i] = vp[i] - 0.1 * (d + 0.9 * bs[i]);
  }
  Values out;
  for (const Values* part : {&pa, &ma, &va, &ps, &bs}) out.insert(out.end(), part->begin(), part->end());
  Shape s = p.sizes();
  s[0] *= 5;
  return from(out, s);
}

// The indices [n, ndim] (int64) of the nonzero values of x, in row-major order.
inline Tensor nonzero(const Tensor& x) {
  const Values v = values(x);
  const Shape& s = x.sizes();
  Values out;
  int64_t n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == 0) continue;
    ++n;
    Values idx(s.size());
    int64_t rem = static_cast<int64_t>(i);
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      idx[d] = static_cast<double>(rem % s[d]);
      rem /= s[d];
    }
    out.insert(out.end(), idx.begin(), idx.end());
  }
  return from(out, {n, static_cast<int64_t>(s.size())}).to(DType::Int64);
}

// Batch norm in training mode of x [N, C, ...]: each channel over N and the
// spatial dims with the biased variance, then weight and bias [C].
inline Tensor batch_norm_train(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C);
  const Values v = values(x), vw = values(w), vb = values(b);
  Values out(v.size());
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0, ss = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) mean += v[(n * C + c) * S + i];
    mean /= static_cast<double>(N * S);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) ss += std::pow(v[(n * C + c) * S + i] - mean, 2);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(N * S) + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t j = (n * C + c) * S + i;
        out[j] = (v[j] - mean) * inv * vw[c] + vb[c];
      }
  }
  return from(out, x.sizes());
}

// softmax(q k^T scale + mask) v over [..., L, E] (the same leading dims);
// causal: key j visible to query i iff j <= i.
inline Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const int64_t Lq = q.size(-2), Lk = k.size(-2);
  Values mask(static_cast<size_t>(Lq * Lk));
  for (int64_t i = 0; i < Lq; ++i)
    for (int64_t j = 0; j < Lk; ++j)
      mask[i * Lk + j] = causal && j > i ? -std::numeric_limits<double>::infinity() : 0.0;
  Tensor s = ref::matmul(q, k.transpose(-2, -1).contiguous());
  s = map2(s, from(mask, {Lq, Lk}), [scale](double a, double m) { return a * scale + m; });
  return ref::matmul(ref::softmax(s, -1), v);
}

// Mean cross-entropy of logits [N, C] against the classes 0..N-1, both ways, halved: CLIP's loss.
inline Tensor clip_loss(const Tensor& img, const Tensor& txt, const Tensor& logit_scale) {
  const double scale = std::exp(values(logit_scale)[0]);
  const Tensor logits = map(ref::matmul(img, txt.t().contiguous()), [scale](double v) { return v * scale; });
  const int64_t N = img.size(0);
  Values labels(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) labels[i] = static_cast<double>(i);
  const Tensor target = from(labels, {N});
  const double a = values(ref::cross_entropy(logits, target))[0];
  const double b = values(ref::cross_entropy(logits.t().contiguous(), target))[0];
  return from({(a + b) / 2}, {});
}

}  // namespace loom::ref

#include "op_references_nn.h"  // recurrent cells, the CTC loss, embedding bags
