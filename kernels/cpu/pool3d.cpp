// 3-D pooling on the CPU: volumes [D, H, W] of N*C. The forward passes run in
// parallel over (volume, output depth) pairs; the backward passes over volumes,
// each owned by one task, so their scatters need no atomics. Semantics and
// layouts: kernels/pool.h.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"
#include "kernels/pool.h"

namespace loom::kernels::cpu {
namespace {

using detail::select_bits;

// One axis of an average window: [lo, hi) clipped to the input, and its
// extent clipped to the padded input.
struct Span {
  int64_t lo, hi, padded;
};
inline Span span(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t n) {
  const int64_t lo = o * stride - pad, hi = std::min(lo + k, n + pad);
  return {std::max<int64_t>(lo, 0), std::min(hi, n), hi - lo};
}

struct AvgWindow3 {
  Span d, h, w;
  int64_t div;
};
inline AvgWindow3 avg_window(const Pool3dParams& p, int64_t od, int64_t oh, int64_t ow, bool include_pad,
                             int64_t divisor) {
  AvgWindow3 a{span(od, p.sd, p.pd, p.kd, p.D), span(oh, p.sh, p.ph, p.kh, p.H), span(ow, p.sw, p.pw, p.kw, p.W), 0};
  if (divisor > 0) a.div = divisor;
  else if (include_pad) a.div = a.d.padded * a.h.padded * a.w.padded;
  else a.div = (a.d.hi - a.d.lo) * (a.h.hi - a.h.lo) * (a.w.hi - a.w.lo);
  return a;
}

template <typename F>
void for_depth_rows(const Pool3dParams& p, int64_t work_per_row, F&& f) {
  detail::parallel_range(p.NC * p.OD, p.NC * p.OD * std::max<int64_t>(work_per_row, 1), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) f(u / p.OD, u % p.OD);
  });
}

template <typename F>
void for_volumes(const Pool3dParams& p, int64_t work_per_volume, F&& f) {
  detail::parallel_range(p.NC, p.NC * std::max<int64_t>(work_per_volume, 1), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) f(c);
  });
}

// One output row of max_pool3d. The sizes are locals (stores through y and id
// could otherwise alias the parameters and force reloads); the in-bounds tap
// ranges along D and H are found once per row. The outputs whose windows lie
// inside the row along W go 8, 4 or 2 at a time: each output's running maximum is
// a chain of compares and selects (about 20 cycles per tap), so independent
// lanes side by side keep the core busy; the edges go one by one.
template <typename T>
void max_fwd_row(T* __restrict__ y, int64_t* __restrict__ id, const T* __restrict__ x, int64_t od, int64_t oh,
                 const Pool3dParams& p) {
  const int64_t D = p.D, H = p.H, W = p.W, OW = p.OW, kd = p.kd, kh = p.kh, kw = p.kw;
  const int64_t dd = p.dd, dh = p.dh, dw = p.dw, sw = p.sw, pw = p.pw;
  const int64_t d0 = od * p.sd - p.pd, h0 = oh * p.sh - p.ph;
  // the taps [lo, hi) of a window starting at s with k taps spaced by dl that fall inside [0, n)
  const auto taps = [](int64_t s, int64_t k, int64_t dl, int64_t n, int64_t& lo, int64_t& hi) {
    lo = s >= 0 ? 0 : (-s + dl - 1) / dl;
    hi = s >= n ? 0 : std::min(k, (n - 1 - s) / dl + 1);
  };
  int64_t a0, a1, i0, i1;
  taps(d0, kd, dd, D, a0, a1);
  taps(h0, kh, dh, H, i0, i1);
  const auto one = [&](int64_t ow) {
    const int64_t w0 = ow * sw - pw;
    int64_t j0, j1;
    taps(w0, kw, dw, W, j0, j1);
    T best = -INFINITY;
    int64_t arg = -1;
    for (int64_t a = a0; a < a1; ++a)
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t row = ((d0 + a * dd) * H + h0 + i * dh) * W + w0;
        for (int64_t j = j0; j < j1; ++j) {
          const T v = x[row + j * dw];
          const bool take = (arg < 0) | (v > best) | ((v != v) & (best == best));
          best = select_bits(take, v, best);
          arg = select_bits(take, row + j * dw, arg);
        }
      }
    y[ow] = best;
    id[ow] = arg;
  };
  // outputs [lo, hi) whose windows lie inside [0, W)
  const int64_t lo = std::min(OW, (pw + sw - 1) / sw);
  const int64_t last = W - 1 - dw * (kw - 1) + pw;  // the largest window start (+ pw) inside the row
  const int64_t hi = last < 0 ? lo : std::max(lo, std::min(OW, last / sw + 1));
  int64_t ow = 0;
  for (; ow < lo; ++ow) one(ow);
  const auto block = [&](auto lanes, int64_t ow) {
    constexpr int L = decltype(lanes)::value;
    T best[L];
    int64_t arg[L];
    for (int l = 0; l < L; ++l) best[l] = -INFINITY, arg[l] = -1;
    const int64_t w0 = ow * sw - pw;
    for (int64_t a = a0; a < a1; ++a)
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t row = ((d0 + a * dd) * H + h0 + i * dh) * W + w0;
        for (int64_t j = 0; j < kw; ++j)
          for (int l = 0; l < L; ++l) {
            const int64_t at = row + j * dw + l * sw;
            const T v = x[at];
            const bool take = (arg[l] < 0) | (v > best[l]) | ((v != v) & (best[l] == best[l]));
            best[l] = select_bits(take, v, best[l]);
            arg[l] = select_bits(take, at, arg[l]);
          }
      }
    for (int l = 0; l < L; ++l) y[ow + l] = best[l], id[ow + l] = arg[l];
  };
  for (; ow + 8 <= hi; ow += 8) block(std::integral_constant<int, 8>{}, ow);
  for (; ow + 4 <= hi; ow += 4) block(std::integral_constant<int, 4>{}, ow);
  for (; ow + 2 <= hi; ow += 2) block(std::integral_constant<int, 2>{}, ow);
  for (; ow < OW; ++ow) one(ow);
}

// The 2x2x2 window with stride 2, no padding or dilation (a video network's
// downsampling): one output row from four input rows, no bounds checks, the
// eight values reduced as a tree of first-maximum picks (the rule is
// associative: the earlier one is kept unless the later one is larger or NaN
// and the earlier one is not NaN). Selects only, so the loop vectorizes;
// compiled for AVX-512, AVX2 and baseline x86-64.
template <typename T>
LOOM_CPU_INLINE void pick(T a, int64_t oa, T b, int64_t ob, T& v, int64_t& o) {
  const bool t = (a == a) & ((b > a) | (b != b));
  v = select_bits(t, b, a);
  o = select_bits(t, ob, oa);
}
template <typename T>
LOOM_CPU_INLINE void max_fwd_2x2x2_row_impl(T* y, int64_t* id, const T* x, int64_t base, int64_t HW, int64_t W,
                                            int64_t OW) {
  const T *r0 = x, *r1 = x + W, *r2 = x + HW, *r3 = x + HW + W;
  for (int64_t ow = 0; ow < OW; ++ow) {
    const int64_t c = 2 * ow;
    T v0, v1, v2, v3, u0, u1, m;
    int64_t o0, o1, o2, o3, p0, p1, o;
    pick(r0[c], 0, r0[c + 1], 1, v0, o0);
    pick(r1[c], W, r1[c + 1], W + 1, v1, o1);
    pick(r2[c], HW, r2[c + 1], HW + 1, v2, o2);
    pick(r3[c], HW + W, r3[c + 1], HW + W + 1, v3, o3);
    pick(v0, o0, v1, o1, u0, p0);
    pick(v2, o2, v3, o3, u1, p1);
    pick(u0, p0, u1, p1, m, o);
    y[ow] = m;
    id[ow] = base + c + o;
  }
}
LOOM_CPU_CLONES void max_fwd_2x2x2_f32(float* y, int64_t* id, const float* x, int64_t base, int64_t HW, int64_t W,
                                       int64_t OW) {
  max_fwd_2x2x2_row_impl<float>(y, id, x, base, HW, W, OW);
}
LOOM_CPU_CLONES void max_fwd_2x2x2_f64(double* y, int64_t* id, const double* x, int64_t base, int64_t HW, int64_t W,
                                       int64_t OW) {
  max_fwd_2x2x2_row_impl<double>(y, id, x, base, HW, W, OW);
}
inline bool is_2x2x2(const Pool3dParams& p) {
  return p.kd == 2 && p.kh == 2 && p.kw == 2 && p.sd == 2 && p.sh == 2 && p.sw == 2 && p.pd == 0 && p.ph == 0 &&
         p.pw == 0 && p.dd == 1 && p.dh == 1 && p.dw == 1 && 2 * p.OD <= p.D && 2 * p.OH <= p.H && 2 * p.OW <= p.W;
}

template <typename T>
void max_fwd(T* out, int64_t* idx, const T* in, const Pool3dParams& p) {
  const int64_t V = p.D * p.H * p.W, OHW = p.OH * p.OW, OV = p.OD * OHW;
  for_depth_rows(p, OHW * p.kd * p.kh * p.kw, [&](int64_t c, int64_t od) {
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      T* y = out + c * OV + od * OHW + oh * p.OW;
      int64_t* id = idx + c * OV + od * OHW + oh * p.OW;
      if (is_2x2x2(p)) {
        const int64_t base = (2 * od * p.H + 2 * oh) * p.W;
        if constexpr (std::is_same_v<T, float>) max_fwd_2x2x2_f32(y, id, in + c * V + base, base, p.H * p.W, p.W, p.OW);
        else max_fwd_2x2x2_f64(y, id, in + c * V + base, base, p.H * p.W, p.W, p.OW);
      } else {
        max_fwd_row(y, id, in + c * V, od, oh, p);
      }
    }
  });
}

template <typename T>
void max_bwd(T* gin, const T* gout, const int64_t* idx, const Pool3dParams& p) {
  const int64_t V = p.D * p.H * p.W, OV = p.OD * p.OH * p.OW;
  for_volumes(p, V + OV, [&](int64_t c) {
    T* gi = gin + c * V;
    const T* go = gout + c * OV;
    const int64_t* id = idx + c * OV;
    std::fill(gi, gi + V, T(0));
    for (int64_t o = 0; o < OV; ++o)
      if (id[o] >= 0) gi[id[o]] += go[o];
  });
}

template <typename T>
void avg_fwd(T* out, const T* in, const Pool3dParams& p, bool include_pad, int64_t divisor) {
  const int64_t V = p.D * p.H * p.W, OHW = p.OH * p.OW, OV = p.OD * OHW;
  for_depth_rows(p, OHW * p.kd * p.kh * p.kw, [&](int64_t c, int64_t od) {
    const T* x = in + c * V;
    T* y = out + c * OV + od * OHW;
    for (int64_t oh = 0; oh < p.OH; ++oh)
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const AvgWindow3 a = avg_window(p, od, oh, ow, include_pad, divisor);
        T s = 0;
        for (int64_t id_ = a.d.lo; id_ < a.d.hi; ++id_)
          for (int64_t ih = a.h.lo; ih < a.h.hi; ++ih) {
            const T* row = x + (id_ * p.H + ih) * p.W;
            for (int64_t iw = a.w.lo; iw < a.w.hi; ++iw) s += row[iw];
          }
        y[oh * p.OW + ow] = a.div > 0 ? s / T(a.div) : T(NAN);
      }
  });
}

template <typename T>
void avg_bwd(T* gin, const T* gout, const Pool3dParams& p, bool include_pad, int64_t divisor) {
  const int64_t V = p.D * p.H * p.W, OV = p.OD * p.OH * p.OW;
  for_volumes(p, V + OV * p.kd * p.kh * p.kw, [&](int64_t c) {
    T* gi = gin + c * V;
    const T* go = gout + c * OV;
    std::fill(gi, gi + V, T(0));
    for (int64_t od = 0; od < p.OD; ++od)
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const AvgWindow3 a = avg_window(p, od, oh, ow, include_pad, divisor);
          if (a.div <= 0) continue;
          const T g = go[(od * p.OH + oh) * p.OW + ow] / T(a.div);
          for (int64_t id_ = a.d.lo; id_ < a.d.hi; ++id_)
            for (int64_t ih = a.h.lo; ih < a.h.hi; ++ih) {
              T* row = gi + (id_ * p.H + ih) * p.W;
              for (int64_t iw = a.w.lo; iw < a.w.hi; ++iw) row[iw] += g;
            }
        }
  });
}

}  // namespace

void max_pool3d_forward(DType dt, void* out, int64_t* indices, const void* in, const Pool3dParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool3d",
                      [&] { max_fwd(static_cast<scalar_t*>(out), indices, static_cast<const scalar_t*>(in), p); });
}
void max_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const Pool3dParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool3d_backward", [&] {
    max_bwd(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), indices, p);
  });
}
void avg_pool3d_forward(DType dt, void* out, const void* in, const Pool3dParams& p, bool count_include_pad,
                        int64_t divisor) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool3d", [&] {
    avg_fwd(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p, count_include_pad, divisor);
  });
}
void avg_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const Pool3dParams& p, bool count_include_pad,
                         int64_t divisor) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool3d_backward", [&] {
    avg_bwd(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p, count_include_pad, divisor);
  });
}

}  // namespace loom::kernels::cpu
