// Pooling on CUDA; semantics and layouts: kernels/pool.h (planes
// [NC, H, W] -> [NC, OH, OW]; max saves the int64 argmax ih*W + iw within the
// plane). Pooling does about one flop per byte, so these kernels are meant to
// run at DRAM bandwidth; what stood in the way was integer work (decoding a
// linear index into plane, row and column with int64 division, bounds checks).
//
// Index width: every kernel is instantiated for 32- and 64-bit index math
//   (Geom<I>). pool_fits_int32 takes 32-bit when every element count is at most
//   2^30 and every window parameter at most 2^28, so no sum the kernels form
//   reaches 2^31; a 32-bit division costs ~20 instructions, a 64-bit one ~70.
// Generic forward (max, avg, adaptive avg; any padding, dilation, ceil_mode):
//   a thread decodes its index once and produces kRun consecutive outputs
//   along ow. kRun stays small because the loads of one tap are strided by
//   kRun * stride across the warp, and a wider spread costs L1 wavefronts.
// 2x2 / stride 2 / no padding (CNN downsampling; max and avg, both passes):
//   a thread owns two adjacent outputs, i.e. a 2x4 input tile, with one
//   16-byte load or store per input row and paired output / index accesses
//   when W % 4 == 0 and every pointer is 16-byte aligned; otherwise the same
//   math on scalars. The backward needs H and W even (each input element in
//   exactly one window) and scatters gout over the tile: no memset, no atomics.
//   float max: 28 bytes per output (16 read, 4 + 8 written) for ~50
//   instructions, well below the ~8 instructions per byte an H200 can issue
//   at copy bandwidth.
// Backward gather (every other max / avg backward): one thread per kGather
//   consecutive input elements of a row sums, in row-major output order (the
//   order in which the CPU twin accumulates), over the outputs whose windows
//   cover the element: max adds gout where the saved index equals the element,
//   avg adds gout / divisor. Deterministic, each grad_in element written once.
//   cover_lo finds the first covering output without a division; when stride
//   >= window extent on both axes (Overlap = false) at most one output covers
//   an element and the loops become a single check.
// Global average pooling (adaptive to 1x1): per plane, the fewest lanes (a
//   power of two up to a warp) that leave each lane at most two loads (8x8
//   fp32: 8 lanes, 4 planes per warp), or a block over kWarpPlaneMax
//   elements; 16-byte loads when the plane allows, shuffle reductions. The
//   backward is a broadcast with 16-byte stores. Other adaptive sizes use the
//   generic forward and a gather backward.
// Adaptive max: the generic forward over the adaptive windows, saving the
//   argmax; its backward gathers like the max backward above, over the outputs
//   whose adaptive windows cover the element (they may overlap).
// Max keeps the CPU's rule: the first maximum in row-major window order wins
// and the first NaN wins over everything.
#include <cstdint>
#include <initializer_list>

#include "kernels/cuda/common.cuh"
#include "kernels/pool.h"

namespace loom::kernels::cuda {
namespace {

constexpr int kRun = 2;                  // outputs per thread, generic forward kernels
constexpr int kGather = 4;               // input elements per thread, backward gathers
constexpr int64_t kWarpPlaneMax = 2048;  // larger global-pooling planes get a block each

// PoolParams in the kernel's index type, plus each axis's last tap offset
// ext = dil * (k - 1) split by the stride (ext = q * stride + r) for cover_lo.
template <typename I>
struct Geom {
  I NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
  I ext_hq, ext_hr, ext_wq, ext_wr;
};

template <typename I>
Geom<I> make_geom(const PoolParams& p) {
  Geom<I> g{};
  g.NC = I(p.NC), g.H = I(p.H), g.W = I(p.W), g.OH = I(p.OH), g.OW = I(p.OW);
  g.kh = I(p.kh), g.kw = I(p.kw), g.sh = I(p.stride_h), g.sw = I(p.stride_w);
  g.ph = I(p.pad_h), g.pw = I(p.pad_w), g.dh = I(p.dil_h), g.dw = I(p.dil_w);
  if (p.stride_h > 0 && p.stride_w > 0) {  // windowed pools (adaptive ones have no stride)
    const int64_t eh = p.dil_h * (p.kh - 1), ew = p.dil_w * (p.kw - 1);
    g.ext_hq = I(eh / p.stride_h), g.ext_hr = I(eh % p.stride_h);
    g.ext_wq = I(ew / p.stride_w), g.ext_wr = I(ew % p.stride_w);
  }
  return g;
}

#define LOOM_POOL_LOOP(I, i, n) \
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < (n); i += I(blockDim.x) * I(gridDim.x))

// ---- 16-byte and paired accesses (the caller has checked alignment) ----

template <typename T>
struct Pair;
template <>
struct Pair<float> {
  using type = float2;
};
template <>
struct Pair<double> {
  using type = double2;
};
template <>
struct Pair<int64_t> {
  using type = longlong2;
};

template <typename T>
__device__ __forceinline__ void load2(const T* p, T (&v)[2]) {
  const typename Pair<T>::type q = *reinterpret_cast<const typename Pair<T>::type*>(p);
  v[0] = q.x, v[1] = q.y;
}
template <typename T, typename U>
__device__ __forceinline__ void store2(T* p, U a, U b) {
  typename Pair<T>::type q;
  q.x = a, q.y = b;
  *reinterpret_cast<typename Pair<T>::type*>(p) = q;
}
__device__ __forceinline__ void load4(const float* p, float (&v)[4]) {
  const float4 q = *reinterpret_cast<const float4*>(p);
  v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
}
__device__ __forceinline__ void load4(const double* p, double (&v)[4]) {
  const double2 a = reinterpret_cast<const double2*>(p)[0], b = reinterpret_cast<const double2*>(p)[1];
  v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
}
__device__ __forceinline__ void store4(float* p, const float (&v)[4]) {
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
__device__ __forceinline__ void store4(double* p, const double (&v)[4]) {
  reinterpret_cast<double2*>(p)[0] = make_double2(v[0], v[1]);
  reinterpret_cast<double2*>(p)[1] = make_double2(v[2], v[3]);
}

// ---- 2x2 / stride 2 / no padding ----

// Thread t owns outputs ow, ow + 1 (ow = 2 * (t mod pairs)) of output row
// `row` = c * OH + oh; `top` is the plane offset of their 2x4 input tile.
template <typename I>
struct Tile {
  I row, ow, top, plane;
};
template <typename I>
__device__ __forceinline__ Tile<I> tile_of(I t, I pairs, const Geom<I>& g) {
  const I row = t / pairs, ow = 2 * (t - row * pairs);
  const I c = row / g.OH, oh = row - c * g.OH;
  return {row, ow, 2 * oh * g.W + 2 * ow, c * g.H * g.W};
}

template <typename T, typename I, bool Vec, bool Max>
__global__ void pool2x2_forward_kernel(T* __restrict__ out, int64_t* __restrict__ idx, const T* __restrict__ in,
                                       Geom<I> g) {
  const I pairs = (g.OW + 1) / 2;
  LOOM_POOL_LOOP(I, t, g.NC * g.OH * pairs) {
    const Tile<I> tl = tile_of(t, pairs, g);
    const T* x = in + tl.plane + tl.top;
    const bool both = tl.ow + 1 < g.OW;  // always with Vec (W % 4 == 0)
    T a[4] = {}, b[4] = {};              // input rows 2*oh and 2*oh + 1
    if (Vec) {
      load4(x, a);
      load4(x + g.W, b);
    } else {
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (j < 2 || both) a[j] = x[j], b[j] = x[g.W + j];
    }
    T y[2];
    [[maybe_unused]] I arg[2];
#pragma unroll
    for (int k = 0; k < 2; ++k) {
      const T v[4] = {a[2 * k], a[2 * k + 1], b[2 * k], b[2 * k + 1]};
      if constexpr (Max) {
        const I off[4] = {0, 1, g.W, g.W + 1};
        T best = v[0];
        I at = 0;
#pragma unroll
        for (int j = 1; j < 4; ++j) {
          const bool take = !isnan(best) && (v[j] > best || isnan(v[j]));
          best = take ? v[j] : best;
          at = take ? off[j] : at;
        }
        y[k] = best, arg[k] = tl.top + 2 * k + at;
      } else {
        T s = 0;
#pragma unroll
        for (int j = 0; j < 4; ++j) s += v[j];
        y[k] = s / T(4);
      }
    }
    const I o = tl.row * g.OW + tl.ow;
    if (Vec) {
      store2(out + o, y[0], y[1]);
      if constexpr (Max) store2(idx + o, int64_t(arg[0]), int64_t(arg[1]));
    } else {
#pragma unroll
      for (int k = 0; k < 2; ++k) {
        if (k == 1 && !both) break;
        out[o + k] = y[k];
        if constexpr (Max) idx[o + k] = arg[k];
      }
    }
  }
}

// H == 2*OH and W == 2*OW: the tiles cover grad_in exactly once.
template <typename T, typename I, bool Vec, bool Max>
__global__ void pool2x2_backward_kernel(T* __restrict__ gin, const T* __restrict__ gout,
                                        const int64_t* __restrict__ idx, Geom<I> g) {
  const I pairs = (g.OW + 1) / 2;
  LOOM_POOL_LOOP(I, t, g.NC * g.OH * pairs) {
    const Tile<I> tl = tile_of(t, pairs, g);
    const bool both = tl.ow + 1 < g.OW;
    const I o = tl.row * g.OW + tl.ow;
    T go[2] = {};
    [[maybe_unused]] int64_t id[2] = {-1, -1};
    if (Vec) {
      load2(gout + o, go);
      if constexpr (Max) load2(idx + o, id);
    } else {
#pragma unroll
      for (int k = 0; k < 2; ++k)
        if (k == 0 || both) {
          go[k] = gout[o + k];
          if constexpr (Max) id[k] = idx[o + k];
        }
    }
    T a[4], b[4];
#pragma unroll
    for (int k = 0; k < 2; ++k) {
      if constexpr (Max) {
        const I d = I(id[k]) - (tl.top + 2 * k);  // the argmax within this output's window: 0, 1, W or W + 1
        a[2 * k] = d == 0 ? go[k] : T(0);
        a[2 * k + 1] = d == 1 ? go[k] : T(0);
        b[2 * k] = d == g.W ? go[k] : T(0);
        b[2 * k + 1] = d == g.W + 1 ? go[k] : T(0);
      } else {
        const T v = go[k] / T(4);
        a[2 * k] = a[2 * k + 1] = b[2 * k] = b[2 * k + 1] = v;
      }
    }
    T* x = gin + tl.plane + tl.top;
    if (Vec) {
      store4(x, a);
      store4(x + g.W, b);
    } else {
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (j < 2 || both) x[j] = a[j], x[g.W + j] = b[j];
    }
  }
}

// ---- generic forward ----

// Thread t owns outputs ow0 .. ow0 + kRun - 1 (those < OW) of output row
// `row` = c * OH + oh.
template <typename I>
struct Run {
  I row, c, oh, ow0;
};
template <typename I>
__device__ __forceinline__ Run<I> run_of(I t, I runs, I OH) {
  const I row = t / runs, ow0 = (t - row * runs) * kRun;
  const I c = row / OH;
  return {row, c, row - c * OH, ow0};
}

template <typename T, typename I>
__global__ void max_pool2d_forward_kernel(T* __restrict__ out, int64_t* __restrict__ idx, const T* __restrict__ in,
                                          Geom<I> g) {
  const I runs = (g.OW + kRun - 1) / kRun;
  LOOM_POOL_LOOP(I, t, g.NC * g.OH * runs) {
    const Run<I> r = run_of(t, runs, g.OH);
    const T* x = in + r.c * g.H * g.W;
    const I h0 = r.oh * g.sh - g.ph;
#pragma unroll
    for (int k = 0; k < kRun; ++k) {
      const I ow = r.ow0 + k;
      if (ow >= g.OW) break;
      const I w0 = ow * g.sw - g.pw;
      T best = T(-INFINITY);
      I arg = -1;
      for (I i = 0, ih = h0; i < g.kh; ++i, ih += g.dh) {
        if (ih < 0 || ih >= g.H) continue;
        for (I j = 0, iw = w0; j < g.kw; ++j, iw += g.dw) {
          if (iw < 0 || iw >= g.W) continue;
          const T v = x[ih * g.W + iw];
          if (!isnan(best) && (arg < 0 || v > best || isnan(v))) best = v, arg = ih * g.W + iw;
        }
      }
      out[r.row * g.OW + ow] = best;
      idx[r.row * g.OW + ow] = arg;
    }
  }
}

// avg_pool2d's window along one axis for output o: taps [lo, hi) inside the
// input, and n, its factor of the divisor (the window clipped to the padded
// input with count_include_pad, else to the input).
template <typename I>
struct Span {
  I lo, hi, n;
};
template <typename I>
__device__ __forceinline__ Span<I> avg_span(I o, I stride, I pad, I k, I size, bool include_pad) {
  const I a = o * stride - pad, b = min(a + k, size + pad);
  const I lo = max(a, I(0)), hi = min(b, size);
  return {lo, hi, include_pad ? b - a : hi - lo};
}

template <typename T, typename I>
__global__ void avg_pool2d_forward_kernel(T* __restrict__ out, const T* __restrict__ in, Geom<I> g, bool include_pad) {
  const I runs = (g.OW + kRun - 1) / kRun;
  LOOM_POOL_LOOP(I, t, g.NC * g.OH * runs) {
    const Run<I> r = run_of(t, runs, g.OH);
    const T* x = in + r.c * g.H * g.W;
    const Span<I> hs = avg_span(r.oh, g.sh, g.ph, g.kh, g.H, include_pad);
#pragma unroll
    for (int k = 0; k < kRun; ++k) {
      const I ow = r.ow0 + k;
      if (ow >= g.OW) break;
      const Span<I> ws = avg_span(ow, g.sw, g.pw, g.kw, g.W, include_pad);
      T s = 0;
      for (I ih = hs.lo; ih < hs.hi; ++ih)
        for (I iw = ws.lo; iw < ws.hi; ++iw) s += x[ih * g.W + iw];
      const I div = hs.n * ws.n;
      out[r.row * g.OW + ow] = div > 0 ? s / T(div) : T(NAN);
    }
  }
}

template <typename I>
__device__ __forceinline__ I adaptive_start(I o, I out, I in) {
  return (o * in) / out;
}
template <typename I>
__device__ __forceinline__ I adaptive_end(I o, I out, I in) {
  return ((o + 1) * in + out - 1) / out;
}

template <typename T, typename I>
__global__ void adaptive_avg_pool2d_forward_kernel(T* __restrict__ out, const T* __restrict__ in, Geom<I> g) {
  const I runs = (g.OW + kRun - 1) / kRun;
  LOOM_POOL_LOOP(I, t, g.NC * g.OH * runs) {
    const Run<I> r = run_of(t, runs, g.OH);
    const T* x = in + r.c * g.H * g.W;
    const I h0 = adaptive_start(r.oh, g.OH, g.H), h1 = adaptive_end(r.oh, g.OH, g.H);
#pragma unroll
    for (int k = 0; k < kRun; ++k) {
      const I ow = r.ow0 + k;
      if (ow >= g.OW) break;
      const I w0 = adaptive_start(ow, g.OW, g.W), w1 = adaptive_end(ow, g.OW, g.W);
      T s = 0;
      for (I ih = h0; ih < h1; ++ih)
        for (I iw = w0; iw < w1; ++iw) s += x[ih * g.W + iw];
      out[r.row * g.OW + ow] = s / T((h1 - h0) * (w1 - w0));
    }
  }
}

// ---- backward gathers ----

// Thread t owns input elements iw0 .. iw0 + kGather - 1 (those < W) of input
// row `row` = c * H + ih.
template <typename I>
struct Strip {
  I row, c, ih, iw0;
};
template <typename I>
__device__ __forceinline__ Strip<I> strip_of(I t, I strips, I H) {
  const I row = t / strips, iw0 = (t - row * strips) * kGather;
  const I c = row / H;
  return {row, c, row - c * H, iw0};
}

// The first output whose window reaches input position a = i + pad, given
// q = a / stride and r = a % stride (q is the last output starting at or
// before a): ceil((a - ext) / stride) = q - ext_q + (r > ext_r), clamped at 0.
template <typename I>
__device__ __forceinline__ I cover_lo(I q, I r, I ext_q, I ext_r) {
  return max(q - ext_q + I(r > ext_r ? 1 : 0), I(0));
}

template <typename T, typename I, bool Max, bool Overlap>
__global__ void pool2d_backward_kernel(T* __restrict__ gin, const T* __restrict__ gout, const int64_t* __restrict__ idx,
                                       Geom<I> g, bool include_pad) {
  const I strips = (g.W + kGather - 1) / kGather;
  LOOM_POOL_LOOP(I, t, g.NC * g.H * strips) {
    const Strip<I> s = strip_of(t, strips, g.H);
    const I ah = s.ih + g.ph, qh = ah / g.sh;
    const I oh_lo = cover_lo(qh, ah - qh * g.sh, g.ext_hq, g.ext_hr), oh_hi = min(qh, g.OH - 1);
    // (qw, rw) = divmod(iw + pw, sw), stepped along the strip.
    I qw = (s.iw0 + g.pw) / g.sw, rw = s.iw0 + g.pw - qw * g.sw;
    const T* go = gout + s.c * g.OH * g.OW;
    const int64_t* id = Max ? idx + s.c * g.OH * g.OW : nullptr;
    // avg: the row factor of output row oh's divisor; without overlap, one
    // output row covers the whole strip and the factor is computed once.
    auto row_n = [&](I oh) { return Max ? I(0) : avg_span(oh, g.sh, g.ph, g.kh, g.H, include_pad).n; };
    const I strip_row_n = row_n(oh_hi);
#pragma unroll
    for (int k = 0; k < kGather; ++k) {
      const I iw = s.iw0 + k;
      if (iw >= g.W) break;
      const I ow_lo = cover_lo(qw, rw, g.ext_wq, g.ext_wr), ow_hi = min(qw, g.OW - 1);
      const I pos = s.ih * g.W + iw;
      T sum = 0;
      auto add = [&](I oh, I ow, I hn) {
        const I o = oh * g.OW + ow;
        if constexpr (Max) {
          if (I(id[o]) == pos) sum += go[o];
        } else {
          sum += go[o] / T(hn * avg_span(ow, g.sw, g.pw, g.kw, g.W, include_pad).n);
        }
      };
      if constexpr (Overlap) {
        for (I oh = oh_lo; oh <= oh_hi; ++oh) {
          const I hn = row_n(oh);
          for (I ow = ow_lo; ow <= ow_hi; ++ow) add(oh, ow, hn);
        }
      } else if (oh_lo <= oh_hi && ow_lo <= ow_hi) {
        add(oh_hi, ow_hi, strip_row_n);
      }
      gin[s.row * g.W + iw] = sum;
      if (++rw == g.sw) rw = 0, ++qw;
    }
  }
}

template <typename T, typename I>
__global__ void adaptive_avg_pool2d_backward_kernel(T* __restrict__ gin, const T* __restrict__ gout, Geom<I> g) {
  const I strips = (g.W + kGather - 1) / kGather;
  LOOM_POOL_LOOP(I, t, g.NC * g.H * strips) {
    const Strip<I> s = strip_of(t, strips, g.H);
    // Outputs o with start(o) <= i < end(o).
    const I oh_lo = (s.ih * g.OH) / g.H, oh_hi = ((s.ih + 1) * g.OH - 1) / g.H;
    const T* go = gout + s.c * g.OH * g.OW;
#pragma unroll
    for (int k = 0; k < kGather; ++k) {
      const I iw = s.iw0 + k;
      if (iw >= g.W) break;
      const I ow_lo = (iw * g.OW) / g.W, ow_hi = ((iw + 1) * g.OW - 1) / g.W;
      T sum = 0;
      for (I oh = oh_lo; oh <= oh_hi; ++oh) {
        const I nh = adaptive_end(oh, g.OH, g.H) - adaptive_start(oh, g.OH, g.H);
        for (I ow = ow_lo; ow <= ow_hi; ++ow)
          sum += go[oh * g.OW + ow] / T(nh * (adaptive_end(ow, g.OW, g.W) - adaptive_start(ow, g.OW, g.W)));
      }
      gin[s.row * g.W + iw] = sum;
    }
  }
}

template <typename T, typename I>
__global__ void adaptive_max_pool2d_forward_kernel(T* __restrict__ out, int64_t* __restrict__ idx,
                                                   const T* __restrict__ in, Geom<I> g) {
  const I runs = (g.OW + kRun - 1) / kRun;
  LOOM_POOL_LOOP(I, t, g.NC * g.OH * runs) {
    const Run<I> r = run_of(t, runs, g.OH);
    const T* x = in + r.c * g.H * g.W;
    const I h0 = adaptive_start(r.oh, g.OH, g.H), h1 = adaptive_end(r.oh, g.OH, g.H);
#pragma unroll
    for (int k = 0; k < kRun; ++k) {
      const I ow = r.ow0 + k;
      if (ow >= g.OW) break;
      const I w0 = adaptive_start(ow, g.OW, g.W), w1 = adaptive_end(ow, g.OW, g.W);
      T best = x[h0 * g.W + w0];
      I arg = h0 * g.W + w0;
      for (I ih = h0; ih < h1 && !isnan(best); ++ih)
        for (I iw = w0; iw < w1; ++iw) {
          const T v = x[ih * g.W + iw];
          if (v > best || isnan(v)) {
            best = v, arg = ih * g.W + iw;
            if (isnan(v)) break;
          }
        }
      out[r.row * g.OW + ow] = best;
      idx[r.row * g.OW + ow] = arg;
    }
  }
}

template <typename T, typename I>
__global__ void adaptive_max_pool2d_backward_kernel(T* __restrict__ gin, const T* __restrict__ gout,
                                                    const int64_t* __restrict__ idx, Geom<I> g) {
  const I strips = (g.W + kGather - 1) / kGather;
  LOOM_POOL_LOOP(I, t, g.NC * g.H * strips) {
    const Strip<I> s = strip_of(t, strips, g.H);
    const I oh_lo = (s.ih * g.OH) / g.H, oh_hi = ((s.ih + 1) * g.OH - 1) / g.H;
    const T* go = gout + s.c * g.OH * g.OW;
    const int64_t* id = idx + s.c * g.OH * g.OW;
#pragma unroll
    for (int k = 0; k < kGather; ++k) {
      const I iw = s.iw0 + k;
      if (iw >= g.W) break;
      const I ow_lo = (iw * g.OW) / g.W, ow_hi = ((iw + 1) * g.OW - 1) / g.W;
      const I pos = s.ih * g.W + iw;
      T sum = 0;
      for (I oh = oh_lo; oh <= oh_hi; ++oh)
        for (I ow = ow_lo; ow <= ow_hi; ++ow)
          if (I(id[oh * g.OW + ow]) == pos) sum += go[oh * g.OW + ow];
      gin[s.row * g.W + iw] = sum;
    }
  }
}

// ---- global average pooling (adaptive to 1x1) ----

// This thread's share of the plane x[0, n): elements first, first + step, ...
// (Vec: 4-element vectors; n % 4 == 0 and x 16-byte aligned).
template <typename T, typename I, bool Vec>
__device__ __forceinline__ T strided_sum(const T* x, I n, I first, I step) {
  T s = 0;
  if constexpr (Vec) {
    for (I i = 4 * first; i < n; i += 4 * step) {
      T v[4];
      load4(x + i, v);
      s += (v[0] + v[1]) + (v[2] + v[3]);
    }
  } else {
    for (I i = first; i < n; i += step) s += x[i];
  }
  return s;
}

// 2^log2g lanes per plane, 32 >> log2g planes per warp at a time: small
// planes (8x8) would otherwise leave most lanes, and most of the memory
// parallelism, idle. Lanes of one plane reduce by xor shuffles inside their
// segment.
template <typename T, typename I, bool Vec>
__global__ void global_avg_pool_forward_warp_kernel(T* __restrict__ out, const T* __restrict__ in, I NC, I HW,
                                                    int log2g) {
  const int lane = threadIdx.x % kWarp, sub = lane & ((1 << log2g) - 1);
  const I planes = kWarp >> log2g, warps = I(blockDim.x) / kWarp;
  for (I c0 = (I(blockIdx.x) * warps + I(threadIdx.x) / kWarp) * planes; c0 < NC; c0 += warps * I(gridDim.x) * planes) {
    const I c = c0 + (lane >> log2g);
    T s = c < NC ? strided_sum<T, I, Vec>(in + c * HW, HW, I(sub), I(1) << log2g) : T(0);
    for (int o = (1 << log2g) / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (sub == 0 && c < NC) out[c] = s / T(HW);
  }
}

template <typename T, typename I, bool Vec>
__global__ void global_avg_pool_forward_block_kernel(T* __restrict__ out, const T* __restrict__ in, I NC, I HW) {
  for (I c = I(blockIdx.x); c < NC; c += I(gridDim.x)) {
    const T s = block_reduce(strided_sum<T, I, Vec>(in + c * HW, HW, I(threadIdx.x), I(blockDim.x)), SumOp{}, T(0));
    if (threadIdx.x == 0) out[c] = s / T(HW);
  }
}

template <typename T, typename I, bool Vec>
__global__ void global_avg_pool_backward_kernel(T* __restrict__ gin, const T* __restrict__ gout, I NC, I HW) {
  constexpr int kPer = Vec ? 4 : 1;  // Vec: HW % 4 == 0, so a vector never straddles two planes
  LOOM_POOL_LOOP(I, t, NC * HW / kPer) {
    const I e = t * kPer;
    const T v = gout[e / HW] / T(HW);
    if constexpr (Vec) {
      const T q[4] = {v, v, v, v};
      store4(gin + e, q);
    } else {
      gin[e] = v;
    }
  }
}

// ---- launchers ----

bool aligned16(std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

bool is_2x2(const PoolParams& p) {
  return p.kh == 2 && p.kw == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0 && p.dil_h == 1 &&
         p.dil_w == 1;
}

// f(Geom<I>) with the index width that `index` and the sizes allow.
template <typename F>
void with_geom(const PoolParams& p, PoolIndex index, F&& f) {
  dispatch_index(index == PoolIndex::Auto && pool_fits_int32(p), [&](auto tag) { f(make_geom<decltype(tag)>(p)); });
}

// The forward of max (idx != nullptr) or avg pooling: the 2x2 kernels when the
// windows tile the input from its top-left corner, else `generic`.
template <bool Max, typename T, typename I, typename Generic>
void pool_forward(T* y, int64_t* idx, const T* x, const PoolParams& p, const Geom<I>& g, Generic&& generic,
                  cudaStream_t stream) {
  if (!is_2x2(p) || 2 * p.OH > p.H || 2 * p.OW > p.W) {
    generic(grid_for(p.NC * p.OH * ((p.OW + kRun - 1) / kRun)));
  } else {
    const unsigned blocks = grid_for(p.NC * p.OH * ((p.OW + 1) / 2));
    if (p.W % 4 == 0 && aligned16({y, idx, x}))
      pool2x2_forward_kernel<T, I, true, Max><<<blocks, kThreads, 0, stream>>>(y, idx, x, g);
    else pool2x2_forward_kernel<T, I, false, Max><<<blocks, kThreads, 0, stream>>>(y, idx, x, g);
  }
  LOOM_CUDA_KERNEL_CHECK();
}

// The backward of max (idx != nullptr) or avg pooling.
template <bool Max, typename T, typename I>
void pool_backward(T* gin, const T* gout, const int64_t* idx, const PoolParams& p, const Geom<I>& g, bool include_pad,
                   cudaStream_t stream) {
  if (is_2x2(p) && p.H == 2 * p.OH && p.W == 2 * p.OW) {
    const unsigned blocks = grid_for(p.NC * p.OH * ((p.OW + 1) / 2));
    if (p.W % 4 == 0 && aligned16({gin, gout, idx}))
      pool2x2_backward_kernel<T, I, true, Max><<<blocks, kThreads, 0, stream>>>(gin, gout, idx, g);
    else pool2x2_backward_kernel<T, I, false, Max><<<blocks, kThreads, 0, stream>>>(gin, gout, idx, g);
  } else {
    const unsigned blocks = grid_for(p.NC * p.H * ((p.W + kGather - 1) / kGather));
    if (p.dil_h * (p.kh - 1) >= p.stride_h || p.dil_w * (p.kw - 1) >= p.stride_w)
      pool2d_backward_kernel<T, I, Max, true><<<blocks, kThreads, 0, stream>>>(gin, gout, idx, g, include_pad);
    else pool2d_backward_kernel<T, I, Max, false><<<blocks, kThreads, 0, stream>>>(gin, gout, idx, g, include_pad);
  }
  LOOM_CUDA_KERNEL_CHECK();
}

}  // namespace

bool pool_fits_int32(const PoolParams& p) {
  constexpr int64_t kCount = int64_t(1) << 30, kParam = int64_t(1) << 28;
  for (int64_t v : {p.kh, p.kw, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w})
    if (v > kParam) return false;
  if (p.dil_h * (p.kh - 1) > kParam || p.dil_w * (p.kw - 1) > kParam) return false;
  if (p.NC * p.H * p.W > kCount || p.NC * p.OH * p.OW > kCount) return false;
  // Now every factor is below 2^31 and these products cannot overflow.
  return (p.H + 2 * p.pad_h) * (p.W + 2 * p.pad_w) <= kCount && (p.H + 1) * p.OH <= kCount &&
         (p.W + 1) * p.OW <= kCount;
}

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p, cudaStream_t stream,
                        PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d", [&] {
    auto* y = static_cast<scalar_t*>(out);
    const auto* x = static_cast<const scalar_t*>(in);
    with_geom(p, index, [&](auto g) {
      using I = decltype(g.NC);
      pool_forward<true>(
          y, indices, x, p, g,
          [&](unsigned blocks) {
            max_pool2d_forward_kernel<scalar_t, I><<<blocks, kThreads, 0, stream>>>(y, indices, x, g);
          },
          stream);
    });
  });
}

void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p,
                         cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d_backward", [&] {
    with_geom(p, index, [&](auto g) {
      pool_backward<true>(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), indices, p, g, false,
                          stream);
    });
  });
}

void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad,
                        cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool2d", [&] {
    auto* y = static_cast<scalar_t*>(out);
    const auto* x = static_cast<const scalar_t*>(in);
    with_geom(p, index, [&](auto g) {
      using I = decltype(g.NC);
      pool_forward<false>(
          y, nullptr, x, p, g,
          [&](unsigned blocks) {
            avg_pool2d_forward_kernel<scalar_t, I><<<blocks, kThreads, 0, stream>>>(y, x, g, count_include_pad);
          },
          stream);
    });
  });
}

void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad,
                         cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool2d_backward", [&] {
    with_geom(p, index, [&](auto g) {
      pool_backward<false>(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), nullptr, p, g,
                           count_include_pad, stream);
    });
  });
}

void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, cudaStream_t stream,
                                 PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d", [&] {
    auto* y = static_cast<scalar_t*>(out);
    const auto* x = static_cast<const scalar_t*>(in);
    with_geom(p, index, [&](auto g) {
      using I = decltype(g.NC);
      const I HW = g.H * g.W;
      const bool vec = (p.H * p.W) % 4 == 0 && aligned16({x});
      if (p.OH == 1 && p.OW == 1 && p.H * p.W <= kWarpPlaneMax) {
        // The fewest lanes per plane that leave each lane at most two loads.
        const int64_t loads = vec ? p.H * p.W / 4 : p.H * p.W;
        int log2g = 0;
        while (log2g < 5 && (int64_t(2) << log2g) < loads) ++log2g;
        const unsigned blocks = grid_for(p.NC << log2g);
        if (vec)
          global_avg_pool_forward_warp_kernel<scalar_t, I, true>
              <<<blocks, kThreads, 0, stream>>>(y, x, g.NC, HW, log2g);
        else
          global_avg_pool_forward_warp_kernel<scalar_t, I, false>
              <<<blocks, kThreads, 0, stream>>>(y, x, g.NC, HW, log2g);
      } else if (p.OH == 1 && p.OW == 1) {
        const unsigned blocks = grid_for(p.NC * kThreads);
        if (vec)
          global_avg_pool_forward_block_kernel<scalar_t, I, true><<<blocks, kThreads, 0, stream>>>(y, x, g.NC, HW);
        else global_avg_pool_forward_block_kernel<scalar_t, I, false><<<blocks, kThreads, 0, stream>>>(y, x, g.NC, HW);
      } else {
        adaptive_avg_pool2d_forward_kernel<scalar_t, I>
            <<<grid_for(p.NC * p.OH * ((p.OW + kRun - 1) / kRun)), kThreads, 0, stream>>>(y, x, g);
      }
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p,
                                  cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d_backward", [&] {
    auto* gi = static_cast<scalar_t*>(grad_in);
    const auto* go = static_cast<const scalar_t*>(grad_out);
    with_geom(p, index, [&](auto g) {
      using I = decltype(g.NC);
      const I HW = g.H * g.W;
      if (p.OH == 1 && p.OW == 1) {
        if ((p.H * p.W) % 4 == 0 && aligned16({gi}))
          global_avg_pool_backward_kernel<scalar_t, I, true>
              <<<grid_for(p.NC * p.H * p.W / 4), kThreads, 0, stream>>>(gi, go, g.NC, HW);
        else
          global_avg_pool_backward_kernel<scalar_t, I, false>
              <<<grid_for(p.NC * p.H * p.W), kThreads, 0, stream>>>(gi, go, g.NC, HW);
      } else {
        adaptive_avg_pool2d_backward_kernel<scalar_t, I>
            <<<grid_for(p.NC * p.H * ((p.W + kGather - 1) / kGather)), kThreads, 0, stream>>>(gi, go, g);
      }
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

void adaptive_max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p,
                                 cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_max_pool2d", [&] {
    auto* y = static_cast<scalar_t*>(out);
    const auto* x = static_cast<const scalar_t*>(in);
    with_geom(p, index, [&](auto g) {
      using I = decltype(g.NC);
      adaptive_max_pool2d_forward_kernel<scalar_t, I>
          <<<grid_for(p.NC * p.OH * ((p.OW + kRun - 1) / kRun)), kThreads, 0, stream>>>(y, indices, x, g);
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

void adaptive_max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices,
                                  const PoolParams& p, cudaStream_t stream, PoolIndex index) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_max_pool2d_backward", [&] {
    auto* gi = static_cast<scalar_t*>(grad_in);
    const auto* go = static_cast<const scalar_t*>(grad_out);
    with_geom(p, index, [&](auto g) {
      using I = decltype(g.NC);
      adaptive_max_pool2d_backward_kernel<scalar_t, I>
          <<<grid_for(p.NC * p.H * ((p.W + kGather - 1) / kGather)), kThreads, 0, stream>>>(gi, go, indices, g);
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

}  // namespace loom::kernels::cuda
