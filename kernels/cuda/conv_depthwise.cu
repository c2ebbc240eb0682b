// Depthwise and channel-multiplier convolutions (groups == C, so Cg == 1; any
// Kg = K / C; R*S <= 25), all three passes. Output channel k reads input
// channel k / Kg only:
//   out[n,k,oh,ow] = bias[k] + sum_{r,s} w[k,0,r,s] * in[n,k/Kg,oh*sh-ph+r*dh,ow*sw-pw+s*dw]
// Layouts: in [N, C, H, W], w [K, 1, R, S], out [N, K, OH, OW], contiguous.
// A GEMM would reduce over only R*S, so these are direct, memory-bound
// kernels: planes streamed once, coalesced along rows, the plane's R*S
// weights in registers, one load and one FMA per tap, and no bounds checks
// for windows inside the image.
// - forward: a thread per output pixel of an (n, k) plane; blockIdx.x tiles
//   the plane, blockIdx.y loops over planes (output plane n*K + k reads input
//   plane (n*K + k) / Kg); with many blocks a thread takes up to 4 pixels of
//   its plane, so that its weight loads are amortized.
// - backward to the input: a thread per input pixel of an (n, c) plane
//   gathers over the Kg channels c*Kg + j and the taps that reach it (stride
//   1 inside: the forward with negated offsets). Each element written once.
// - weight gradient: a block per (pixel slice, k); each thread keeps the tap
//   sums in registers (predicated, unrolled), a butterfly of warp shuffles
//   leaves tap t's warp sum in lane t, and the warps meet in shared memory in
//   a fixed order. Slices write [slices][K][R*S] partials that conv_split_sum
//   adds in slice order. Both backward passes are deterministic.
// 3x3 (and 5x5 in float) windows get their taps at compile time; the others
// read the taps' offsets from a table in shared memory. Index math within a
// plane is 32-bit (divisions by multiply-high), plane offsets are 64-bit.
#include <algorithm>
#include <climits>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_internal.h"

namespace loom::kernels::cuda {
namespace {

constexpr int kMaxTaps = 25;
constexpr int kDwThreads = 256;     // most threads of a forward / backward-input block
constexpr int kDwMinBlocks = 8192;  // per-thread pixel batching only above this many blocks
constexpr int kWgThreads = 256;
constexpr int kWgWaveBlocks = 4;        // weight-gradient blocks per SM in a wave (registers allow 2 to 4)
constexpr int64_t kWgMinPixels = 2048;  // per slice

// n / d for 0 <= n < 2^31 by a multiply-high (Granlund-Montgomery).
struct FastDiv {
  unsigned mul = 1, shift = 0;
  FastDiv() = default;
  explicit FastDiv(int d) {
    while ((uint64_t(1) << shift) < uint64_t(d)) ++shift;
    mul = unsigned(((uint64_t(1) << 32) * ((uint64_t(1) << shift) - uint64_t(d))) / uint64_t(d) + 1);
  }
  __device__ __forceinline__ int operator()(int n) const {
    return int((__umulhi(unsigned(n), mul) + unsigned(n)) >> shift);
  }
};

// ConvParams in 32 bits, plus the dividers.
struct DwShape {
  int H, W, OH, OW, R, S, sh, sw, ph, pw, dh, dw;
  int C, K, Kg, HW, OHW;
  FastDiv div_w, div_ow, div_ohw, div_sh, div_sw;
};

DwShape make_shape(const ConvParams& p) {
  DwShape d;
  d.H = int(p.H), d.W = int(p.W), d.OH = int(p.OH), d.OW = int(p.OW), d.R = int(p.R), d.S = int(p.S);
  d.sh = int(p.stride_h), d.sw = int(p.stride_w), d.ph = int(p.pad_h), d.pw = int(p.pad_w);
  d.dh = int(p.dil_h), d.dw = int(p.dil_w);
  d.C = int(p.C), d.K = int(p.K), d.Kg = int(p.K / p.C), d.HW = int(p.H * p.W), d.OHW = int(p.OH * p.OW);
  d.div_w = FastDiv(std::max(d.W, 1)), d.div_ow = FastDiv(std::max(d.OW, 1));
  d.div_ohw = FastDiv(std::max(d.OHW, 1)), d.div_sh = FastDiv(d.sh), d.div_sw = FastDiv(d.sw);
  return d;
}

// The taps t = r*S + s of the window: row offset dr = r*dh, column offset
// ds = s*dw and element offset dr*pitch + ds. KR, KS > 0: the window is
// KR x KS, known at compile time; 0: any R*S <= 25, the offsets read from
// `tab` in shared memory at each use (volatile: hoisted, the 75 of them
// would cost as many registers).
template <int KR, int KS>
struct Taps {
  static constexpr int kN = KR > 0 ? KR* KS : kMaxTaps;
  int dh, dw, pitch, n;
  const volatile int* tab;
  __device__ __forceinline__ bool has(int t) const { return KR > 0 || t < n; }
  __device__ __forceinline__ int dr(int t) const {
    if constexpr (KR > 0) return (t / KS) * dh;
    else return tab[t];
  }
  __device__ __forceinline__ int ds(int t) const {
    if constexpr (KR > 0) return (t % KS) * dw;
    else return tab[kMaxTaps + t];
  }
  // p + sign * off(t). Row and column steps added separately: in this form
  // ptxas fits the float 5x5 kernels without spills.
  template <typename T>
  __device__ __forceinline__ const T* at(const T* p, int t, int sign = 1) const {
    if constexpr (KR > 0) return p + sign * dr(t) * pitch + sign * ds(t);
    else return p + sign * tab[2 * kMaxTaps + t];
  }
};

// Every thread of the block calls this (it synchronizes for the table).
template <int KR, int KS>
__device__ Taps<KR, KS> make_taps(const DwShape& d, int pitch, int* tab) {
  if constexpr (KR == 0) {
    const int t = threadIdx.x;
    if (t < d.R * d.S) {
      const int r = t / d.S, s = t - r * d.S;
      tab[t] = r * d.dh;
      tab[kMaxTaps + t] = s * d.dw;
      tab[2 * kMaxTaps + t] = r * d.dh * pitch + s * d.dw;
    }
    __syncthreads();
  }
  return Taps<KR, KS>{d.dh, d.dw, pitch, d.R * d.S, tab};
}

template <typename T, int KR, int KS>
__global__ void __launch_bounds__(kDwThreads)
    conv_depthwise_forward_kernel(T* __restrict__ out, const T* __restrict__ in, const T* __restrict__ w,
                                  const T* __restrict__ bias, DwShape d, int planes) {
  using TapsT = Taps<KR, KS>;
  __shared__ int tab[3 * kMaxTaps];
  const TapsT tp = make_taps<KR, KS>(d, d.W, tab);
  const int ext_h = (d.R - 1) * d.dh, ext_w = (d.S - 1) * d.dw;
  for (int plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const int k = plane % d.K;
    T wr[TapsT::kN];
#pragma unroll
    for (int t = 0; t < TapsT::kN; ++t) wr[t] = tp.has(t) ? w[int64_t(k) * tp.n + t] : T(0);
    const T b = bias ? bias[k] : T(0);
    const T* x = in + int64_t(plane / d.Kg) * d.HW;
    T* y = out + int64_t(plane) * d.OHW;
    for (int pix = blockIdx.x * blockDim.x + threadIdx.x; pix < d.OHW; pix += gridDim.x * blockDim.x) {
      const int oh = d.div_ow(pix), ow = pix - oh * d.OW;
      const int ih0 = oh * d.sh - d.ph, iw0 = ow * d.sw - d.pw;
      const T* xp = x + (ih0 * d.W + iw0);  // the window's origin, maybe in the padding
      T acc = b;
      if (ih0 >= 0 && iw0 >= 0 && ih0 + ext_h < d.H && iw0 + ext_w < d.W) {
#pragma unroll
        for (int t = 0; t < TapsT::kN; ++t)
          if (tp.has(t)) acc += wr[t] * *tp.at(xp, t);
      } else {
#pragma unroll
        for (int t = 0; t < TapsT::kN; ++t) {
          if (!tp.has(t)) continue;
          const int ih = ih0 + tp.dr(t), iw = iw0 + tp.ds(t);
          if (unsigned(ih) < unsigned(d.H) && unsigned(iw) < unsigned(d.W)) acc += wr[t] * *tp.at(xp, t);
        }
      }
      y[pix] = acc;
    }
  }
}

// KG1: one output channel per input channel, its weights in registers for
// the whole plane; else the Kg channels' weights are reloaded per pixel (L1
// broadcasts) and the taps are walked once per channel.
template <typename T, int KR, int KS, bool KG1>
__global__ void __launch_bounds__(kDwThreads)
    conv_depthwise_dgrad_kernel(T* __restrict__ gin, const T* __restrict__ gout, const T* __restrict__ w, DwShape d,
                                int planes) {
  using TapsT = Taps<KR, KS>;
  __shared__ int tab[3 * kMaxTaps];
  const TapsT tp = make_taps<KR, KS>(d, d.OW, tab);
  const int ext_h = (d.R - 1) * d.dh, ext_w = (d.S - 1) * d.dw;
  const bool unit = d.sh == 1 && d.sw == 1;
  for (int plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const T* wk = w + int64_t(plane % d.C) * d.Kg * tp.n;
    const T* g = gout + int64_t(plane) * d.Kg * d.OHW;  // channel c*Kg of image n: (n*C + c)*Kg
    T* y = gin + int64_t(plane) * d.HW;
    T wr[TapsT::kN];
#pragma unroll
    for (int t = 0; t < TapsT::kN; ++t) wr[t] = KG1 && tp.has(t) ? wk[t] : T(0);
    for (int pix = blockIdx.x * blockDim.x + threadIdx.x; pix < d.HW; pix += gridDim.x * blockDim.x) {
      const int h = d.div_w(pix), x = pix - h * d.W;
      const int th0 = h + d.ph, tw0 = x + d.pw;  // oh*sh + r*dh == th0
      const bool inside = unit && th0 - ext_h >= 0 && tw0 - ext_w >= 0 && th0 < d.OH && tw0 < d.OW;
      const int base = th0 * d.OW + tw0;
      T acc = T(0);
      const T* gj = g;
      for (int j = 0; j < (KG1 ? 1 : d.Kg); ++j, gj += d.OHW) {
        const T* gp = gj + base;
        if constexpr (!KG1) {
#pragma unroll
          for (int t = 0; t < TapsT::kN; ++t) wr[t] = tp.has(t) ? wk[j * tp.n + t] : T(0);
        }
        if (inside) {
#pragma unroll
          for (int t = 0; t < TapsT::kN; ++t)
            if (tp.has(t)) acc += wr[t] * *tp.at(gp, t, -1);
        } else {
#pragma unroll
          for (int t = 0; t < TapsT::kN; ++t) {
            if (!tp.has(t)) continue;
            const int th = th0 - tp.dr(t), tw = tw0 - tp.ds(t);
            if (th < 0 || tw < 0) continue;
            const int oh = d.div_sh(th), ow = d.div_sw(tw);
            if (oh * d.sh == th && ow * d.sw == tw && oh < d.OH && ow < d.OW) acc += wr[t] * gj[oh * d.OW + ow];
          }
        }
      }
      y[pix] = acc;
    }
  }
}

// After this, lane t (t < kN) holds the warp's sum of a[t]: a reduce-scatter
// butterfly (each step halves the live values and exchanges the other half),
// then plain xor steps over the lanes that hold the same tap. A fixed order:
// deterministic.
template <typename T, int kN>
__device__ __forceinline__ T warp_reduce_taps(T (&a)[kN]) {
  constexpr int kLog = kN <= 1 ? 0 : kN <= 2 ? 1 : kN <= 4 ? 2 : kN <= 8 ? 3 : kN <= 16 ? 4 : 5, P = 1 << kLog;
  const int lane = threadIdx.x % kWarp;
  T v[P];
#pragma unroll
  for (int i = 0; i < P; ++i) v[i] = i < kN ? a[i] : T(0);
#pragma unroll
  for (int step = 1; step <= kLog; ++step) {
    const int h = P >> step;
    const bool upper = lane & h;
#pragma unroll
    for (int i = 0; i < P / 2; ++i) {
      if (i >= h) break;
      const T send = upper ? v[i] : v[i + h], keep = upper ? v[i + h] : v[i];
      v[i] = keep + __shfl_xor_sync(0xffffffffu, send, h);
    }
  }
#pragma unroll
  for (int o = P; o < kWarp; o *= 2) v[0] += __shfl_xor_sync(0xffffffffu, v[0], o);
  return v[0];
}

template <typename T, int KR, int KS>
__global__ void __launch_bounds__(kWgThreads)
    conv_depthwise_wgrad_kernel(T* __restrict__ parts, const T* __restrict__ gout, const T* __restrict__ in, DwShape d,
                                int64_t M, int64_t per_slice) {
  using TapsT = Taps<KR, KS>;
  constexpr int kN = TapsT::kN, kWarps = kWgThreads / kWarp;
  __shared__ int tab[3 * kMaxTaps];
  __shared__ T warp_sums[kWarps][kMaxTaps];
  const TapsT tp = make_taps<KR, KS>(d, d.W, tab);
  const int ext_h = (d.R - 1) * d.dh, ext_w = (d.S - 1) * d.dw;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t mbeg = int64_t(blockIdx.x) * per_slice, mend = min(M, mbeg + per_slice);
  for (int k = blockIdx.y; k < d.K; k += gridDim.y) {
    const int c = k / d.Kg;
    T acc[kN];
#pragma unroll
    for (int t = 0; t < kN; ++t) acc[t] = T(0);
    // (n, ohw) of pixel m, advanced by blockDim.x without 64-bit divisions.
    int64_t n = (mbeg + threadIdx.x) / max(d.OHW, 1);
    int ohw = int(mbeg + threadIdx.x - n * d.OHW);
    for (int64_t m = mbeg + threadIdx.x; m < mend; m += blockDim.x) {
      const int oh = d.div_ow(ohw), ow = ohw - oh * d.OW;
      const T g = gout[(n * d.K + k) * d.OHW + ohw];
      const T* x = in + (n * d.C + c) * d.HW;
      const int ih0 = oh * d.sh - d.ph, iw0 = ow * d.sw - d.pw;
      const T* xp = x + (ih0 * d.W + iw0);
      if (ih0 >= 0 && iw0 >= 0 && ih0 + ext_h < d.H && iw0 + ext_w < d.W) {
#pragma unroll
        for (int t = 0; t < kN; ++t)
          if (tp.has(t)) acc[t] += g * *tp.at(xp, t);
      } else {
#pragma unroll
        for (int t = 0; t < kN; ++t) {
          if (!tp.has(t)) continue;
          const int ih = ih0 + tp.dr(t), iw = iw0 + tp.ds(t);
          if (unsigned(ih) < unsigned(d.H) && unsigned(iw) < unsigned(d.W)) acc[t] += g * *tp.at(xp, t);
        }
      }
      ohw += blockDim.x;
      const int q = d.div_ohw(ohw);
      n += q;
      ohw -= q * d.OHW;
    }
    const T mine = warp_reduce_taps<T, kN>(acc);
    if (lane < kN) warp_sums[warp][lane] = mine;
    __syncthreads();
    const int t = threadIdx.x;
    if (t < kN && tp.has(t)) {
      T s = warp_sums[0][t];
#pragma unroll
      for (int i = 1; i < kWarps; ++i) s += warp_sums[i][t];
      parts[(int64_t(blockIdx.x) * d.K + k) * tp.n + t] = s;
    }
    __syncthreads();
  }
}

// f(KR, KS): 3x3 (and 5x5 in float) get compile-time taps, other windows
// (0, 0) the table. A double 5x5 would need 50 registers for the weights
// plus 25 for the hoisted offsets; it spills.
template <typename T, typename F>
void dispatch_taps(const DwShape& d, F&& f) {
  using I3 = std::integral_constant<int, 3>;
  using I5 = std::integral_constant<int, 5>;
  using I0 = std::integral_constant<int, 0>;
  if (d.R == 3 && d.S == 3) return f(I3{}, I3{});
  if constexpr (sizeof(T) == 4)
    if (d.R == 5 && d.S == 5) return f(I5{}, I5{});
  f(I0{}, I0{});
}

// A plane of `pixels` split evenly over blocks of at most kDwThreads (a
// multiple of 32, at least 64); each thread takes up to 4 pixels of a plane
// when the grid is large anyway.
struct PlaneGrid {
  dim3 grid;
  int threads;
};
PlaneGrid plane_grid(int64_t pixels, int64_t planes) {
  const int64_t chunks = (pixels + kDwThreads - 1) / kDwThreads;
  int threads = int((pixels + chunks - 1) / chunks);
  threads = std::max(64, std::min(kDwThreads, (threads + kWarp - 1) / kWarp * kWarp));
  int64_t per_thread = 1;
  auto blocks_x = [&](int64_t ppt) { return (pixels + threads * ppt - 1) / (threads * ppt); };
  while (per_thread < 4 && blocks_x(per_thread * 2) * planes >= kDwMinBlocks &&
         blocks_x(per_thread * 2) < blocks_x(per_thread))
    per_thread *= 2;
  return {dim3(unsigned(blocks_x(per_thread)), unsigned(std::min<int64_t>(planes, 65535))), threads};
}

int64_t wgrad_slices(const ConvParams& p, int sms) {
  const int64_t M = p.N * p.OH * p.OW, target = 2 * int64_t(std::max(sms, 1)) * kWgWaveBlocks;
  int64_t slices = (target + p.K - 1) / std::max<int64_t>(p.K, 1);
  slices = std::min(slices, std::max<int64_t>(1, M / kWgMinPixels));
  return std::max<int64_t>(1, std::min<int64_t>(slices, 65535));
}

}  // namespace

bool conv_depthwise_applies(const ConvParams& p) {
  const int64_t lim = INT_MAX / 4;
  if (p.C < 1 || p.groups != p.C || p.K % p.C != 0 || p.R < 1 || p.S < 1 || p.R * p.S > kMaxTaps) return false;
  if (p.stride_h < 1 || p.stride_w < 1 || p.dil_h < 1 || p.dil_w < 1 || p.pad_h < 0 || p.pad_w < 0) return false;
  if (p.N < 0 || p.OH < 1 || p.OW < 1 || p.H < 0 || p.W < 0) return false;
  const int64_t params[] = {
      p.H,      p.W, p.OH, p.OW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, (p.R - 1) * p.dil_h, (p.S - 1) * p.dil_w,
      p.N * p.K};
  for (int64_t v : params)
    if (v >= lim) return false;
  // 32-bit offsets within a plane, the padding around it included.
  const int64_t hh = p.H + 2 * p.pad_h + 2, ww = std::max(p.W, p.OW) + 2 * p.pad_w + 2;
  return hh * ww < lim && p.OH * p.OW < lim;
}

void conv_depthwise_forward(DType dt, void* out, const void* in, const void* w, const void* bias, const ConvParams& p,
                            cudaStream_t stream) {
  const int64_t planes = p.N * p.K, pixels = p.OH * p.OW;
  if (planes <= 0 || pixels <= 0) return;
  const DwShape d = make_shape(p);
  const PlaneGrid pg = plane_grid(pixels, planes);
  LOOM_DISPATCH_FLOAT(dt, "conv2d (depthwise)", [&] {
    using T = scalar_t;
    dispatch_taps<T>(d, [&](auto kr, auto ks) {
      conv_depthwise_forward_kernel<T, decltype(kr)::value, decltype(ks)::value>
          <<<pg.grid, pg.threads, 0, stream>>>(static_cast<T*>(out), static_cast<const T*>(in),
                                               static_cast<const T*>(w), static_cast<const T*>(bias), d, int(planes));
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

void conv_depthwise_backward_input(DType dt, void* gin, const void* gout, const void* w, const ConvParams& p,
                                   cudaStream_t stream) {
  const int64_t planes = p.N * p.C, pixels = p.H * p.W;
  if (planes <= 0 || pixels <= 0) return;
  const DwShape d = make_shape(p);
  const PlaneGrid pg = plane_grid(pixels, planes);
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input (depthwise)", [&] {
    using T = scalar_t;
    dispatch_taps<T>(d, [&](auto kr, auto ks) {
      constexpr int KR = decltype(kr)::value, KS = decltype(ks)::value;
      auto launch = [&](auto kernel) {
        kernel<<<pg.grid, pg.threads, 0, stream>>>(static_cast<T*>(gin), static_cast<const T*>(gout),
                                                   static_cast<const T*>(w), d, int(planes));
        LOOM_CUDA_KERNEL_CHECK();
      };
      if (d.Kg == 1) launch(conv_depthwise_dgrad_kernel<T, KR, KS, true>);
      else launch(conv_depthwise_dgrad_kernel<T, KR, KS, false>);
    });
  });
}

size_t conv_depthwise_wgrad_workspace(const ConvParams& p, size_t elem, int sms) {
  const int64_t slices = wgrad_slices(p, sms);
  return slices > 1 ? size_t(slices * p.K * p.R * p.S) * elem : 0;
}

void conv_depthwise_backward_weight(DType dt, void* gw, const void* gout, const void* in, const ConvParams& p,
                                    void* workspace, int sms, cudaStream_t stream) {
  if (p.K <= 0) return;
  const DwShape d = make_shape(p);
  const int64_t M = p.N * p.OH * p.OW, slices = wgrad_slices(p, sms);
  const int64_t per = std::max<int64_t>(1, (M + slices - 1) / slices);
  const dim3 grid(unsigned(slices), unsigned(std::min<int64_t>(p.K, 65535)));
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight (depthwise)", [&] {
    using T = scalar_t;
    T* parts = slices > 1 ? static_cast<T*>(workspace) : static_cast<T*>(gw);
    dispatch_taps<T>(d, [&](auto kr, auto ks) {
      conv_depthwise_wgrad_kernel<T, decltype(kr)::value, decltype(ks)::value>
          <<<grid, kWgThreads, 0, stream>>>(parts, static_cast<const T*>(gout), static_cast<const T*>(in), d, M, per);
      LOOM_CUDA_KERNEL_CHECK();
    });
    if (slices > 1) conv_split_sum(dt, gw, parts, p.K * p.R * p.S, int(slices), stream);
  });
}

}  // namespace loom::kernels::cuda
