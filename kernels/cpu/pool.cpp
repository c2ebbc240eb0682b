// Pooling on the CPU: planes [H, W] in parallel over N*C (loom's pool); each
// plane is owned by one task, so the backward scatters need no atomics.
// Semantics and layouts: kernels/pool.h.
#include "kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

// avg_pool2d's window [h0, h1) x [w0, w1) and its divisor.
struct AvgWindow {
  int64_t h0, h1, w0, w1, div;
};
inline AvgWindow avg_window(const PoolParams& p, int64_t oh, int64_t ow, bool include_pad) {
  int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  int64_t h1 = std::min(h0 + p.kh, p.H + p.pad_h), w1 = std::min(w0 + p.kw, p.W + p.pad_w);
  const int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, p.H), w1 = std::min(w1, p.W);
  return {h0, h1, w0, w1, include_pad ? padded : (h1 - h0) * (w1 - w0)};
}

using detail::select_bits;

template <typename F>
void for_planes(const PoolParams& p, int64_t work_per_plane, F&& f) {
  detail::parallel_range(p.NC, p.NC * std::max<int64_t>(work_per_plane, 1), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) f(c);
  });
}

// The 2x2, stride-2 window of CNN downsampling, without padding or dilation:
// two input rows per output row and no bounds checks, which the compiler
// turns into branch-free selects. Same tie and NaN rules as the general loop
// (first maximum in row-major window order; the first NaN wins).
template <typename T>
void max_fwd_2x2(T* y, int64_t* id, const T* x, const PoolParams& p) {
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    const T* r0 = x + 2 * oh * p.W;
    const T* r1 = r0 + p.W;
    T* yr = y + oh * p.OW;
    int64_t* ir = id + oh * p.OW;
    const int64_t base = 2 * oh * p.W;
    for (int64_t ow = 0; ow < p.OW; ++ow) {
      const T v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
      const int64_t off[4] = {0, 1, p.W, p.W + 1};
      T best = v[0];
      int64_t arg = 0;
      bool nan = std::isnan(v[0]);
      for (int k = 1; k < 4; ++k) {
        const bool take = !nan && (v[k] > best || std::isnan(v[k]));
        best = take ? v[k] : best;
        arg = take ? off[k] : arg;
        nan = nan || std::isnan(v[k]);
      }
      yr[ow] = best;
      ir[ow] = base + 2 * ow + arg;
    }
  }
}

// One output row of the general window: the taps in row-major window order,
// each over the run of output columns whose input column is in bounds, so the
// inner loop has no bounds checks and no branches (a select per element: with
// real data v > best is a coin toss). The first maximum wins, and the first NaN.
template <typename T>
void max_fwd_row(T* y, int64_t* id, const T* x, int64_t oh, const PoolParams& p) {
  const int64_t OW = p.OW, W = p.W, sw = p.stride_w;
  for (int64_t ow = 0; ow < OW; ++ow) y[ow] = -INFINITY, id[ow] = -1;
  const int64_t h0 = oh * p.stride_h - p.pad_h;
  for (int64_t i = 0; i < p.kh; ++i) {
    const int64_t ih = h0 + i * p.dil_h;
    if (ih < 0 || ih >= p.H) continue;
    const T* xr = x + ih * W;
    for (int64_t j = 0; j < p.kw; ++j) {
      const int64_t shift = j * p.dil_w - p.pad_w;  // iw = ow * sw + shift
      // Columns with 0 <= ow * sw + shift < W.
      const int64_t lo = shift >= 0 ? 0 : (-shift + sw - 1) / sw;
      const int64_t hi = W - shift <= 0 ? 0 : std::min(OW, (W - shift + sw - 1) / sw);
      const int64_t base = ih * W + shift;
      for (int64_t ow = lo; ow < hi; ++ow) {
        const T v = xr[ow * sw + shift], b = y[ow];
        const bool take = (id[ow] < 0) | (v > b) | ((v != v) & (b == b));
        y[ow] = select_bits(take, v, b);
        id[ow] = select_bits(take, base + ow * sw, id[ow]);
      }
    }
  }
}

// One output of the general window with bounds checks (the edges of a row).
template <typename T>
void max_fwd_one(T* y, int64_t* id, const T* x, int64_t oh, int64_t ow, const PoolParams& p) {
  const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  T best = -INFINITY;
  int64_t arg = -1;
  for (int64_t i = 0; i < p.kh; ++i) {
    const int64_t ih = h0 + i * p.dil_h;
    if (ih < 0 || ih >= p.H) continue;
    for (int64_t j = 0; j < p.kw; ++j) {
      const int64_t iw = w0 + j * p.dil_w;
      if (iw < 0 || iw >= p.W) continue;
      const T v = x[ih * p.W + iw];
      const bool take = (arg < 0) | (v > best) | ((v != v) & (best == best));
      best = select_bits(take, v, best);
      arg = select_bits(take, ih * p.W + iw, arg);
    }
  }
  *y = best;
  *id = arg;
}

// An output row whose windows are all inside the plane's rows: the columns
// whose windows are inside too keep the running maximum in registers, with no
// bounds checks and no branches; the edge columns go through max_fwd_one.
template <typename T>
void max_fwd_inner_row(T* y, int64_t* id, const T* x, int64_t oh, const PoolParams& p) {
  const int64_t sw = p.stride_w, pw = p.pad_w, span = (p.kw - 1) * p.dil_w;
  // Columns with ow * sw - pw >= 0 and ow * sw - pw + span < W.
  const int64_t lo = std::min(p.OW, (pw + sw - 1) / sw);
  const int64_t hi = p.W - span + pw <= 0 ? lo : std::max(lo, std::min(p.OW, (p.W - span + pw + sw - 1) / sw));
  for (int64_t ow = 0; ow < lo; ++ow) max_fwd_one(y + ow, id + ow, x, oh, ow, p);
  const int64_t row0 = (oh * p.stride_h - p.pad_h) * p.W, dh = p.dil_h * p.W, dw = p.dil_w;
  // kLanes outputs at a time: each output's running maximum is a chain of
  // dependent selects, so independent chains side by side keep the core busy.
  constexpr int kLanes = 4;
  int64_t ow = lo;
  for (; ow + kLanes <= hi; ow += kLanes) {
    const int64_t start = row0 + ow * sw - pw;
    const T* xw = x + start;
    T best[kLanes];
    int64_t arg[kLanes];
    bool nan[kLanes];
    for (int l = 0; l < kLanes; ++l) best[l] = xw[l * sw], arg[l] = l * sw, nan[l] = best[l] != best[l];
    for (int64_t i = 0; i < p.kh; ++i)
      for (int64_t j = (i == 0); j < p.kw; ++j) {
        const int64_t off = i * dh + j * dw;
        for (int l = 0; l < kLanes; ++l) {
          const T v = xw[off + l * sw];
          const bool take = (!nan[l]) & ((v > best[l]) | (v != v));
          best[l] = select_bits(take, v, best[l]);
          arg[l] = select_bits(take, off + l * sw, arg[l]);
          nan[l] = nan[l] | (v != v);
        }
      }
    for (int l = 0; l < kLanes; ++l) y[ow + l] = best[l], id[ow + l] = start + arg[l];
  }
  for (; ow < hi; ++ow) max_fwd_one(y + ow, id + ow, x, oh, ow, p);
  for (int64_t ow = hi; ow < p.OW; ++ow) max_fwd_one(y + ow, id + ow, x, oh, ow, p);
}

template <typename T>
void max_fwd(T* out, int64_t* idx, const T* in, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  const bool fast2x2 = p.kh == 2 && p.kw == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 &&
                       p.dil_h == 1 && p.dil_w == 1 && 2 * p.OH <= p.H && 2 * p.OW <= p.W;
  for_planes(p, OHW * p.kh * p.kw, [&](int64_t c) {
    const T* x = in + c * HW;
    T* y = out + c * OHW;
    int64_t* id = idx + c * OHW;
    if (fast2x2) {
      max_fwd_2x2(y, id, x, p);
      return;
    }
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const int64_t h0 = oh * p.stride_h - p.pad_h;
      if (h0 >= 0 && h0 + (p.kh - 1) * p.dil_h < p.H) max_fwd_inner_row(y + oh * p.OW, id + oh * p.OW, x, oh, p);
      else max_fwd_row(y + oh * p.OW, id + oh * p.OW, x, oh, p);
    }
  });
}

template <typename T>
void max_bwd(T* gin, const T* gout, const int64_t* idx, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, HW + OHW, [&](int64_t c) {
    T* gi = gin + c * HW;
    const T* go = gout + c * OHW;
    const int64_t* id = idx + c * OHW;
    std::fill(gi, gi + HW, T(0));
    for (int64_t o = 0; o < OHW; ++o)
      if (id[o] >= 0) gi[id[o]] += go[o];
  });
}

// One output of avg_pool2d over its clipped window.
template <typename T>
inline T avg_one(const T* x, int64_t oh, int64_t ow, const PoolParams& p, bool include_pad) {
  const AvgWindow w = avg_window(p, oh, ow, include_pad);
  T s = 0;
  for (int64_t ih = w.h0; ih < w.h1; ++ih)
    for (int64_t iw = w.w0; iw < w.w1; ++iw) s += x[ih * p.W + iw];
  return w.div > 0 ? s / T(w.div) : T(NAN);
}

// An output row whose windows lie inside the plane's rows: the columns whose
// windows are inside too sum the whole kh x kw window, four outputs side by side
// (the same order of additions as avg_one, so the same bits); edges via avg_one.
template <typename T>
void avg_fwd_inner_row(T* y, const T* x, int64_t oh, const PoolParams& p, bool include_pad) {
  const int64_t sw = p.stride_w, pw = p.pad_w;
  const int64_t lo = std::min(p.OW, (pw + sw - 1) / sw);
  const int64_t hi = p.W - p.kw + pw < 0 ? lo : std::max(lo, std::min(p.OW, (p.W - p.kw + pw) / sw + 1));
  for (int64_t ow = 0; ow < lo; ++ow) y[ow] = avg_one(x, oh, ow, p, include_pad);
  const T* row = x + (oh * p.stride_h - p.pad_h) * p.W - pw;
  const T div = T(p.kh * p.kw);
  constexpr int kLanes = 4;
  int64_t ow = lo;
  for (; ow + kLanes <= hi; ow += kLanes) {
    T s[kLanes] = {};
    for (int64_t i = 0; i < p.kh; ++i)
      for (int64_t j = 0; j < p.kw; ++j) {
        const T* xr = row + i * p.W + j + ow * sw;
        for (int l = 0; l < kLanes; ++l) s[l] += xr[l * sw];
      }
    for (int l = 0; l < kLanes; ++l) y[ow + l] = s[l] / div;
  }
  for (; ow < p.OW; ++ow) y[ow] = avg_one(x, oh, ow, p, include_pad);
}

template <typename T>
void avg_fwd(T* out, const T* in, const PoolParams& p, bool include_pad) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, OHW * p.kh * p.kw, [&](int64_t c) {
    const T* x = in + c * HW;
    T* y = out + c * OHW;
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const int64_t h0 = oh * p.stride_h - p.pad_h;
      if (h0 >= 0 && h0 + p.kh <= p.H) {
        avg_fwd_inner_row(y + oh * p.OW, x, oh, p, include_pad);
      } else {
        for (int64_t ow = 0; ow < p.OW; ++ow) y[oh * p.OW + ow] = avg_one(x, oh, ow, p, include_pad);
      }
    }
  });
}

template <typename T>
void avg_bwd(T* gin, const T* gout, const PoolParams& p, bool include_pad) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, HW + OHW * p.kh * p.kw, [&](int64_t c) {
    T* gi = gin + c * HW;
    const T* go = gout + c * OHW;
    std::fill(gi, gi + HW, T(0));
    for (int64_t oh = 0; oh < p.OH; ++oh)
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const AvgWindow w = avg_window(p, oh, ow, include_pad);
        if (w.div <= 0) continue;
        const T g = go[oh * p.OW + ow] / T(w.div);
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) gi[ih * p.W + iw] += g;
      }
  });
}

inline int64_t start_index(int64_t o, int64_t out, int64_t in) { return (o * in) / out; }
inline int64_t end_index(int64_t o, int64_t out, int64_t in) { return ((o + 1) * in + out - 1) / out; }

template <typename T>
void adaptive_fwd(T* out, const T* in, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, HW + OHW, [&](int64_t c) {
    const T* x = in + c * HW;
    T* y = out + c * OHW;
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const int64_t h0 = start_index(oh, p.OH, p.H), h1 = end_index(oh, p.OH, p.H);
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const int64_t w0 = start_index(ow, p.OW, p.W), w1 = end_index(ow, p.OW, p.W);
        T s = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) s += x[ih * p.W + iw];
        y[oh * p.OW + ow] = s / T((h1 - h0) * (w1 - w0));
      }
    }
  });
}

template <typename T>
void adaptive_bwd(T* gin, const T* gout, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, HW + OHW, [&](int64_t c) {
    T* gi = gin + c * HW;
    const T* go = gout + c * OHW;
    std::fill(gi, gi + HW, T(0));
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const int64_t h0 = start_index(oh, p.OH, p.H), h1 = end_index(oh, p.OH, p.H);
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const int64_t w0 = start_index(ow, p.OW, p.W), w1 = end_index(ow, p.OW, p.W);
        const T g = go[oh * p.OW + ow] / T((h1 - h0) * (w1 - w0));
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) gi[ih * p.W + iw] += g;
      }
    }
  });
}

}  // namespace

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d",
                      [&] { max_fwd(static_cast<scalar_t*>(out), indices, static_cast<const scalar_t*>(in), p); });
}
void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d_backward", [&] {
    max_bwd(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), indices, p);
  });
}
void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool2d", [&] {
    avg_fwd(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p, count_include_pad);
  });
}
void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool2d_backward", [&] {
    avg_bwd(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p, count_include_pad);
  });
}
void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d",
                      [&] { adaptive_fwd(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p); });
}
void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d_backward", [&] {
    adaptive_bwd(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p);
  });
}

}  // namespace loom::kernels::cpu
