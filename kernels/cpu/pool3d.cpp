// 3-D pooling on the CPU: volumes [D, H, W] of N*C. The forward passes run in
// parallel over (volume, output depth) pairs; the backward passes over volumes,
// each owned by one task, so their scatters need no atomics. Semantics and
// layouts: kernels/pool.h.
#include <algorithm>
#include <cmath>
#include <cstdint>

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

// One output row of max_pool3d: the sizes as locals (the stores through y and
// id could otherwise alias the parameters and force reloads), the window's
// in-bounds tap ranges found once per output instead of tested per tap.
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
  for (int64_t ow = 0; ow < OW; ++ow) {
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
  }
}

template <typename T>
void max_fwd(T* out, int64_t* idx, const T* in, const Pool3dParams& p) {
  const int64_t V = p.D * p.H * p.W, OHW = p.OH * p.OW, OV = p.OD * OHW;
  for_depth_rows(p, OHW * p.kd * p.kh * p.kw, [&](int64_t c, int64_t od) {
    for (int64_t oh = 0; oh < p.OH; ++oh)
      max_fwd_row(out + c * OV + od * OHW + oh * p.OW, idx + c * OV + od * OHW + oh * p.OW, in + c * V, od, oh, p);
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
