// 3-D pooling on CUDA; semantics and layouts: kernels/pool.h (volumes
// [NC, D, H, W] -> [NC, OD, OH, OW]; max saves the int64 argmax
// (id*H + ih)*W + iw within the volume).
//
// Forward: a thread per output (grid-stride), the window loops with bounds
// checks; the max keeps the CPU twin's rule (the first maximum in (d, h, w)
// order, the first NaN wins).
// Backward: a thread per input element gathers over the outputs whose windows
// cover it, in increasing output order (the order in which the CPU twin
// scatters, so the sums agree bit for bit): along each axis the covering
// outputs o = (i + pad - j*dil) / stride for the taps j whose quotient is
// exact, taken from the last tap down (increasing o). Max adds gout where the
// saved index is the element; avg adds gout / divisor. Deterministic, each
// grad_in element written once, no memset, no atomics.
// Index math is 32-bit when every count fits (pool3d_fits_int32), 64-bit
// otherwise.
#include <cstdint>
#include <initializer_list>

#include "kernels/cuda/common.cuh"
#include "kernels/pool.h"

namespace loom::kernels::cuda {
namespace {

template <typename I>
struct Geom3 {
  I NC, D, H, W, OD, OH, OW;
  I kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw;
};

template <typename I>
Geom3<I> make_geom3(const Pool3dParams& p) {
  return {I(p.NC), I(p.D),  I(p.H),  I(p.W),  I(p.OD), I(p.OH), I(p.OW), I(p.kd), I(p.kh), I(p.kw),
          I(p.sd), I(p.sh), I(p.sw), I(p.pd), I(p.ph), I(p.pw), I(p.dd), I(p.dh), I(p.dw)};
}

bool pool3d_fits_int32(const Pool3dParams& p) {
  constexpr int64_t kCount = int64_t(1) << 30, kParam = int64_t(1) << 20;
  for (int64_t v : {p.kd, p.kh, p.kw, p.sd, p.sh, p.sw, p.pd, p.ph, p.pw, p.dd, p.dh, p.dw, p.D, p.H, p.W})
    if (v > kParam) return false;
  return p.NC * p.D * p.H * p.W <= kCount && p.NC * p.OD * p.OH * p.OW <= kCount;
}

// The clipped average window along one axis: [lo, hi) and the padded extent.
template <typename I>
__device__ __forceinline__ void avg_span(I o, I stride, I pad, I k, I n, I& lo, I& hi, I& padded) {
  lo = o * stride - pad;
  hi = min(lo + k, n + pad);
  padded = hi - lo;
  lo = max(lo, I(0));
  hi = min(hi, n);
}

template <typename I>
__device__ __forceinline__ int64_t avg_divisor(const Geom3<I>& g, I od, I oh, I ow, bool include_pad, int64_t divisor,
                                               I& d0, I& d1, I& h0, I& h1, I& w0, I& w1) {
  I pdd, phh, pww;
  avg_span(od, g.sd, g.pd, g.kd, g.D, d0, d1, pdd);
  avg_span(oh, g.sh, g.ph, g.kh, g.H, h0, h1, phh);
  avg_span(ow, g.sw, g.pw, g.kw, g.W, w0, w1, pww);
  if (divisor > 0) return divisor;
  return include_pad ? int64_t(pdd) * phh * pww : int64_t(d1 - d0) * (h1 - h0) * (w1 - w0);
}

template <typename T, typename I>
__global__ void max_pool3d_forward_kernel(T* __restrict__ y, int64_t* __restrict__ idx, const T* __restrict__ x,
                                          Geom3<I> g) {
  const I n = g.NC * g.OD * g.OH * g.OW;
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < n; o += I(blockDim.x) * I(gridDim.x)) {
    const I ow = o % g.OW, t = o / g.OW, oh = t % g.OH, t2 = t / g.OH, od = t2 % g.OD, c = t2 / g.OD;
    const T* v = x + int64_t(c) * g.D * g.H * g.W;
    const I d0 = od * g.sd - g.pd, h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
    T best = T(-INFINITY);
    I arg = -1;
    for (I a = 0; a < g.kd; ++a) {
      const I id = d0 + a * g.dd;
      if (id < 0 || id >= g.D) continue;
      for (I i = 0; i < g.kh; ++i) {
        const I ih = h0 + i * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        const I row = (id * g.H + ih) * g.W;
        for (I j = 0; j < g.kw; ++j) {
          const I iw = w0 + j * g.dw;
          if (iw < 0 || iw >= g.W) continue;
          const T val = v[row + iw];
          if (arg < 0 || val > best || (val != val && best == best)) {
            best = val;
            arg = row + iw;
          }
        }
      }
    }
    y[o] = best;
    idx[o] = int64_t(arg);
  }
}

template <typename T, typename I>
__global__ void avg_pool3d_forward_kernel(T* __restrict__ y, const T* __restrict__ x, Geom3<I> g, bool include_pad,
                                          int64_t divisor) {
  const I n = g.NC * g.OD * g.OH * g.OW;
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < n; o += I(blockDim.x) * I(gridDim.x)) {
    const I ow = o % g.OW, t = o / g.OW, oh = t % g.OH, t2 = t / g.OH, od = t2 % g.OD, c = t2 / g.OD;
    const T* v = x + int64_t(c) * g.D * g.H * g.W;
    I d0, d1, h0, h1, w0, w1;
    const int64_t div = avg_divisor(g, od, oh, ow, include_pad, divisor, d0, d1, h0, h1, w0, w1);
    T s = 0;
    for (I id = d0; id < d1; ++id)
      for (I ih = h0; ih < h1; ++ih) {
        const T* row = v + (id * g.H + ih) * g.W;
        for (I iw = w0; iw < w1; ++iw) s += row[iw];
      }
    y[o] = div > 0 ? s / T(div) : T(NAN);
  }
}

// The outputs along one axis whose windows cover input position i: taps
// j = k-1 .. 0 (increasing o); -1 where tap j covers nothing.
template <typename I>
__device__ __forceinline__ I cover(I i, I j, I stride, I pad, I dil, I n_out) {
  const I t = i + pad - j * dil;
  if (t < 0 || t % stride != 0) return -1;
  const I o = t / stride;
  return o < n_out ? o : I(-1);
}

template <typename T, typename I, bool Max>
__global__ void pool3d_backward_kernel(T* __restrict__ gin, const T* __restrict__ gout, const int64_t* __restrict__ idx,
                                       Geom3<I> g, bool include_pad, int64_t divisor) {
  const I n = g.NC * g.D * g.H * g.W;
  for (I e = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); e < n; e += I(blockDim.x) * I(gridDim.x)) {
    const I w = e % g.W, t = e / g.W, h = t % g.H, t2 = t / g.H, d = t2 % g.D, c = t2 / g.D;
    const I self = (d * g.H + h) * g.W + w;
    const int64_t base = int64_t(c) * g.OD * g.OH * g.OW;
    T acc = 0;
    for (I a = g.kd - 1; a >= 0; --a) {
      const I od = cover(d, a, g.sd, g.pd, g.dd, g.OD);
      if (od < 0) continue;
      for (I i = g.kh - 1; i >= 0; --i) {
        const I oh = cover(h, i, g.sh, g.ph, g.dh, g.OH);
        if (oh < 0) continue;
        for (I j = g.kw - 1; j >= 0; --j) {
          const I ow = cover(w, j, g.sw, g.pw, g.dw, g.OW);
          if (ow < 0) continue;
          const int64_t o = base + (int64_t(od) * g.OH + oh) * g.OW + ow;
          if constexpr (Max) {
            if (idx[o] == int64_t(self)) acc += gout[o];
          } else {
            I d0, d1, h0, h1, w0, w1;
            const int64_t div = avg_divisor(g, od, oh, ow, include_pad, divisor, d0, d1, h0, h1, w0, w1);
            if (div > 0) acc += gout[o] / T(div);
          }
        }
      }
    }
    gin[e] = acc;
  }
}

template <typename F>
void with_geom3(const Pool3dParams& p, PoolIndex index, F&& f) {
  dispatch_index(index == PoolIndex::Auto && pool3d_fits_int32(p), [&](auto tag) { f(make_geom3<decltype(tag)>(p)); });
}

}  // namespace

void max_pool3d_forward(DType dt, void* out, int64_t* indices, const void* in, const Pool3dParams& p,
                        cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool3d", [&] {
    with_geom3(p, index, [&](auto g) {
      using I = decltype(g.NC);
      max_pool3d_forward_kernel<scalar_t, I><<<grid_for(p.NC * p.OD * p.OH * p.OW), kThreads, 0, stream>>>(
          static_cast<scalar_t*>(out), indices, static_cast<const scalar_t*>(in), g);
    });
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void max_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const Pool3dParams& p,
                         cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool3d_backward", [&] {
    with_geom3(p, index, [&](auto g) {
      using I = decltype(g.NC);
      pool3d_backward_kernel<scalar_t, I, true><<<grid_for(p.NC * p.D * p.H * p.W), kThreads, 0, stream>>>(
          static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), indices, g, false, 0);
    });
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void avg_pool3d_forward(DType dt, void* out, const void* in, const Pool3dParams& p, bool count_include_pad,
                        int64_t divisor, cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool3d", [&] {
    with_geom3(p, index, [&](auto g) {
      using I = decltype(g.NC);
      avg_pool3d_forward_kernel<scalar_t, I><<<grid_for(p.NC * p.OD * p.OH * p.OW), kThreads, 0, stream>>>(
          static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), g, count_include_pad, divisor);
    });
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void avg_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const Pool3dParams& p, bool count_include_pad,
                         int64_t divisor, cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool3d_backward", [&] {
    with_geom3(p, index, [&](auto g) {
      using I = decltype(g.NC);
      pool3d_backward_kernel<scalar_t, I, false><<<grid_for(p.NC * p.D * p.H * p.W), kThreads, 0, stream>>>(
          static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), nullptr, g, count_include_pad,
          divisor);
    });
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
