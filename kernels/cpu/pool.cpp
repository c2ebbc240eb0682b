// Pooling on the CPU: planes [H, W] in parallel over N*C (loom's pool); each
// plane is owned by one task, so the backward scatters need no atomics.
// Semantics and layouts: kernels/pool.h.
#include "kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

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
// two input rows per output row and no bounds checks. Same tie and NaN rules as
// the general loop (first maximum in row-major window order; the first NaN
// wins), taken as a tree: the better of (a, b), of (c, d), then of the two
// (the rule is associative). Selects only, so the loop vectorizes; compiled for
// AVX-512, AVX2 and baseline x86-64 (LOOM_CPU_CLONES).
template <typename T>
LOOM_CPU_INLINE void max_fwd_2x2_plane(T* y, int64_t* id, const T* x, int64_t OH, int64_t OW, int64_t W) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* r0 = x + 2 * oh * W;
    const T* r1 = r0 + W;
    T* yr = y + oh * OW;
    int64_t* ir = id + oh * OW;
    const int64_t base = 2 * oh * W;
    for (int64_t ow = 0; ow < OW; ++ow) {
      const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      // take the right one: the left is not NaN and the right is larger or NaN.
      const bool tb = (a == a) & ((b > a) | (b != b));
      const bool td = (c == c) & ((d > c) | (d != d));
      const T m0 = select_bits(tb, b, a), m1 = select_bits(td, d, c);
      const bool t1 = (m0 == m0) & ((m1 > m0) | (m1 != m1));
      yr[ow] = select_bits(t1, m1, m0);
      const int64_t o0 = int64_t(tb), o1 = W + int64_t(td);
      ir[ow] = base + 2 * ow + select_bits(t1, o1, o0);
    }
  }
}
LOOM_CPU_CLONES void max_fwd_2x2_f32(float* y, int64_t* id, const float* x, int64_t OH, int64_t OW, int64_t W) {
  max_fwd_2x2_plane<float>(y, id, x, OH, OW, W);
}
LOOM_CPU_CLONES void max_fwd_2x2_f64(double* y, int64_t* id, const double* x, int64_t OH, int64_t OW, int64_t W) {
  max_fwd_2x2_plane<double>(y, id, x, OH, OW, W);
}
// The 2x2 window with stride 2, no padding, no dilation (floor mode).
inline bool is_2x2(const PoolParams& p) {
  return p.kh == 2 && p.kw == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 && p.dil_h == 1 &&
         p.dil_w == 1 && 2 * p.OH <= p.H && 2 * p.OW <= p.W;
}

template <typename T>
void max_fwd_2x2(T* y, int64_t* id, const T* x, const PoolParams& p) {
  if constexpr (std::is_same_v<T, float>) max_fwd_2x2_f32(y, id, x, p.OH, p.OW, p.W);
  else max_fwd_2x2_f64(y, id, x, p.OH, p.OW, p.W);
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
  const bool fast2x2 = is_2x2(p);
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

// The maxima alone, for a forward no gradient will go through (no int64 index per output: half the
// bytes written for float, and each tap a plain vector max). A row's outputs start at -inf; each tap of
// the window then updates the run of outputs whose input column is in bounds, unit stride and stride 2
// (the common windows) as their own loops so that the loads vectorize. A NaN in a window makes its
// output NaN, as max_fwd (whose NaN is the window's first; here it may be another NaN of the window).
template <typename T>
LOOM_CPU_INLINE void max_tap(T* __restrict__ y, const T* __restrict__ x, int64_t lo, int64_t hi, int64_t sw) {
  const auto step = [](T v, T b) { return select_bits((v > b) | (v != v), v, b); };
  if (sw == 1) {
    for (int64_t ow = lo; ow < hi; ++ow) y[ow] = step(x[ow], y[ow]);
  } else if (sw == 2) {
    for (int64_t ow = lo; ow < hi; ++ow) y[ow] = step(x[2 * ow], y[ow]);
  } else {
    for (int64_t ow = lo; ow < hi; ++ow) y[ow] = step(x[ow * sw], y[ow]);
  }
}
template <typename T>
LOOM_CPU_INLINE void max_values_plane(T* __restrict__ y, const T* __restrict__ x, const PoolParams& p) {
  const int64_t OW = p.OW, W = p.W, sw = p.stride_w;
  if (is_2x2(p)) {  // two input rows per output row, the four taps at once
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const T* r0 = x + 2 * oh * W;
      const T* r1 = r0 + W;
      T* yr = y + oh * OW;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        const T m0 = select_bits((b > a) | (b != b), b, a), m1 = select_bits((d > c) | (d != d), d, c);
        yr[ow] = select_bits((m1 > m0) | (m1 != m1), m1, m0);
      }
    }
    return;
  }
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    T* yr = y + oh * OW;
    for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = T(-INFINITY);
    const int64_t h0 = oh * p.stride_h - p.pad_h;
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t ih = h0 + i * p.dil_h;
      if (ih < 0 || ih >= p.H) continue;
      for (int64_t j = 0; j < p.kw; ++j) {
        const int64_t shift = j * p.dil_w - p.pad_w;  // iw = ow * sw + shift
        const int64_t lo = std::min(OW, shift >= 0 ? 0 : (-shift + sw - 1) / sw);
        const int64_t hi = W - shift <= 0 ? 0 : std::min(OW, (W - shift + sw - 1) / sw);
        if (lo < hi) max_tap(yr, x + ih * W + shift, lo, hi, sw);
      }
    }
  }
}
LOOM_CPU_CLONES void max_values_f32(float* y, const float* x, const PoolParams& p) { max_values_plane(y, x, p); }
LOOM_CPU_CLONES void max_values_f64(double* y, const double* x, const PoolParams& p) { max_values_plane(y, x, p); }

template <typename T>
void max_values(T* out, const T* in, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, OHW * p.kh * p.kw, [&](int64_t c) {
    if constexpr (std::is_same_v<T, float>) max_values_f32(out + c * OHW, in + c * HW, p);
    else max_values_f64(out + c * OHW, in + c * HW, p);
  });
}

// The 2x2, stride-2 window's backward: each input belongs to at most one
// window, so every input of a full window is written once (g or 0) and no
// zero fill is needed but for a last odd row or column.
template <typename T>
LOOM_CPU_INLINE void max_bwd_2x2_plane(T* gi, const T* go, const int64_t* id, int64_t H, int64_t W, int64_t OH,
                                       int64_t OW) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    T* r0 = gi + 2 * oh * W;
    T* r1 = r0 + W;
    const T* g = go + oh * OW;
    const int64_t* ir = id + oh * OW;
    const int64_t base = 2 * oh * W;
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t k = ir[ow] - base - 2 * ow;  // 0, 1, W or W + 1
      const T v = g[ow], z = T(0);
      r0[2 * ow] = select_bits(k == 0, v, z);
      r0[2 * ow + 1] = select_bits(k == 1, v, z);
      r1[2 * ow] = select_bits(k == W, v, z);
      r1[2 * ow + 1] = select_bits(k == W + 1, v, z);
    }
    for (int64_t iw = 2 * OW; iw < W; ++iw) r0[iw] = r1[iw] = T(0);
  }
  std::fill(gi + 2 * OH * W, gi + H * W, T(0));
}
LOOM_CPU_CLONES void max_bwd_2x2_f32(float* gi, const float* go, const int64_t* id, int64_t H, int64_t W, int64_t OH,
                                     int64_t OW) {
  max_bwd_2x2_plane<float>(gi, go, id, H, W, OH, OW);
}
LOOM_CPU_CLONES void max_bwd_2x2_f64(double* gi, const double* go, const int64_t* id, int64_t H, int64_t W, int64_t OH,
                                     int64_t OW) {
  max_bwd_2x2_plane<double>(gi, go, id, H, W, OH, OW);
}

template <typename T>
void max_bwd(T* gin, const T* gout, const int64_t* idx, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, HW + OHW, [&](int64_t c) {
    T* gi = gin + c * HW;
    const T* go = gout + c * OHW;
    const int64_t* id = idx + c * OHW;
    if (is_2x2(p)) {
      if constexpr (std::is_same_v<T, float>) max_bwd_2x2_f32(gi, go, id, p.H, p.W, p.OH, p.OW);
      else max_bwd_2x2_f64(gi, go, id, p.H, p.W, p.OH, p.OW);
      return;
    }
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

// The sum of a rows x cols window (row stride `stride`) in double, in 16 lanes (the vector clones): a
// global average pool sums whole planes, where one running sum would wait on each add.
template <typename T>
LOOM_CPU_CLONES double window_sum(const T* x, int64_t rows, int64_t cols, int64_t stride) {
  constexpr int kLanes = 16;
  double acc[kLanes] = {};
  for (int64_t r = 0; r < rows; ++r) {
    const T* q = x + r * stride;
    int64_t i = 0;
    for (; i + kLanes <= cols; i += kLanes) {
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(q[i + l]);
    }
    for (int l = 0; i < cols; ++i, ++l) acc[l] += static_cast<double>(q[i]);
  }
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

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
        if (w1 - w0 >= 32) {
          const double s = window_sum(x + h0 * p.W + w0, h1 - h0, w1 - w0, p.W);
          y[oh * p.OW + ow] = static_cast<T>(s / double((h1 - h0) * (w1 - w0)));
        } else {  // narrow windows: a plain loop in T (the lanes would cost more than they save)
          T s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += x[ih * p.W + iw];
          y[oh * p.OW + ow] = s / T((h1 - h0) * (w1 - w0));
        }
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

// Adaptive max: the windows of adaptive_fwd, max_fwd's rule (the first
// maximum in row-major order, the first NaN over everything). Each window row
// is reduced on its own, then merged into the output row's running maximum
// (an earlier row keeps a tie); selects, not branches (v > best is a coin
// toss on real data: 32 x 256 x 14 x 14 to 4 x 4 took 6.6 ms with branches).
// The whole plane (output 1 x 1: a global max, a text CNN's maximum over
// time): the maximum by eight independent select chains, then the first
// element equal to it (or the first NaN, if there is one).
template <typename T>
void global_max_plane(T* y, int64_t* id, const T* x, int64_t n) {
  constexpr int kAcc = 8;
  T m[kAcc];
  bool nan = false;
  for (int k = 0; k < kAcc; ++k) m[k] = x[0];
  int64_t i = 0;
  for (; i + kAcc <= n; i += kAcc)
    for (int k = 0; k < kAcc; ++k) {
      const T v = x[i + k];
      m[k] = select_bits(v > m[k], v, m[k]);
      nan |= v != v;
    }
  for (; i < n; ++i) {
    m[0] = select_bits(x[i] > m[0], x[i], m[0]);
    nan |= x[i] != x[i];
  }
  T best = m[0];
  for (int k = 1; k < kAcc; ++k) best = select_bits(m[k] > best, m[k], best);
  int64_t arg = 0;
  if (nan) {
    while (x[arg] == x[arg]) ++arg;
    best = x[arg];
  } else {
    while (x[arg] != best) ++arg;
  }
  *y = best, *id = arg;
}

template <typename T>
void adaptive_max_fwd(T* out, int64_t* idx, const T* in, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  if (OHW == 1) {
    for_planes(p, HW, [&](int64_t c) { global_max_plane(out + c, idx + c, in + c * HW, HW); });
    return;
  }
  std::vector<int64_t> ws(size_t(p.OW)), we(size_t(p.OW));
  for (int64_t ow = 0; ow < p.OW; ++ow)
    ws[size_t(ow)] = start_index(ow, p.OW, p.W), we[size_t(ow)] = end_index(ow, p.OW, p.W);
  for_planes(p, HW + OHW, [&](int64_t c) {
    const T* x = in + c * HW;
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      T* yr = out + c * OHW + oh * p.OW;
      int64_t* ir = idx + c * OHW + oh * p.OW;
      const int64_t h0 = start_index(oh, p.OH, p.H), h1 = end_index(oh, p.OH, p.H);
      for (int64_t ih = h0; ih < h1; ++ih) {
        const T* xr = x + ih * p.W;
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const int64_t w0 = ws[size_t(ow)], w1 = we[size_t(ow)];
          T b = xr[w0];
          int64_t a = ih * p.W + w0;
          for (int64_t iw = w0 + 1; iw < w1; ++iw) {
            const T v = xr[iw];
            const bool take = (v > b) | ((v != v) & (b == b));
            b = select_bits(take, v, b);
            a = select_bits(take, ih * p.W + iw, a);
          }
          if (ih == h0) {
            yr[ow] = b, ir[ow] = a;
          } else {
            const T B = yr[ow];
            const bool take = (b > B) | ((b != b) & (B == B));
            yr[ow] = select_bits(take, b, B);
            ir[ow] = select_bits(take, a, ir[ow]);
          }
        }
      }
    }
  });
}

// Windows may overlap (H % OH != 0): the plane's owner adds every output's
// gradient at its index, outputs in row-major order.
template <typename T>
void adaptive_max_bwd(T* gin, const T* gout, const int64_t* idx, const PoolParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
  for_planes(p, HW + OHW, [&](int64_t c) {
    T* gi = gin + c * HW;
    const T* go = gout + c * OHW;
    const int64_t* id = idx + c * OHW;
    std::fill(gi, gi + HW, T(0));
    for (int64_t o = 0; o < OHW; ++o) gi[id[o]] += go[o];
  });
}

}  // namespace

void adaptive_max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_max_pool2d", [&] {
    adaptive_max_fwd(static_cast<scalar_t*>(out), indices, static_cast<const scalar_t*>(in), p);
  });
}
void adaptive_max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices,
                                  const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_max_pool2d_backward", [&] {
    adaptive_max_bwd(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), indices, p);
  });
}

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d",
                      [&] { max_fwd(static_cast<scalar_t*>(out), indices, static_cast<const scalar_t*>(in), p); });
}
void max_pool2d_values(DType dt, void* out, const void* in, const PoolParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d",
                      [&] { max_values(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p); });
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
