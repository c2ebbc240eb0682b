// Direct convolution kernels for few input channels (the RGB first layer,
// C <= 4), all three passes. The implicit GEMM (conv.cu) would waste most of
// its tile on C*R*S = 27 or on Cg = 3 columns.
// Forward and backward to the input: the whole weight sits in shared memory
// and each thread owns one pixel, coalesced along ow. Forward: an output
// pixel, 32 output channels at a time in registers, the weight read as
// [crs][K] broadcasts. Backward to the input: an input pixel, its C <= 4
// channels in registers, looping over the (kout, r, s) taps that reach it.
// The per-pixel bodies are host+device so that they can be emulated on the
// host.
// Weight gradient: a warp owns 4 output channels (float; 2 for double) x 16
// taps (c, r, s) in 64 registers and streams output pixels, one per lane (gout and input loads
// coalesced along ow; the taps' offsets are shared-memory broadcasts, the
// bounds checks only run for windows that cross the border); the 8 warps of a block
// take 32 channels, blockIdx.y the tap chunk, blockIdx.x a slice of the
// pixels (enough slices for four waves). Lanes are summed by shuffles and each
// slice's partial gradient goes to a workspace, summed in slice order by
// conv.cu's split-sum kernel: deterministic.
#include <algorithm>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_internal.h"

namespace loom::kernels::cuda {
namespace {

#define LOOM_HD __host__ __device__

constexpr int kFewK = 32;  // output channels per pass, in registers
constexpr int kFewThreads = 128;
constexpr int kFewMaxC = 4;
constexpr int kFewSmem = 48 * 1024;

// ws: the weight as [C*R*S][K]. m: output pixel (n, oh, ow).
template <typename T>
LOOM_HD void few_channels_forward_pixel(T* out, const T* in, const T* ws, const T* bias, const ConvParams& p,
                                        int64_t m) {
  const int K = int(p.K), OHW = int(p.OH * p.OW);
  const int n = int(m / OHW), ohw = int(m - int64_t(n) * OHW), oh = ohw / int(p.OW), ow = ohw - oh * int(p.OW);
  const int ih0 = oh * int(p.stride_h) - int(p.pad_h), iw0 = ow * int(p.stride_w) - int(p.pad_w);
  const T* x = in + int64_t(n) * p.C * p.H * p.W;
  T* y = out + int64_t(n) * K * OHW + ohw;
  for (int k0 = 0; k0 < K; k0 += kFewK) {
    T acc[kFewK];
#pragma unroll
    for (int j = 0; j < kFewK; ++j) acc[j] = (bias && k0 + j < K) ? bias[k0 + j] : T(0);
    for (int c = 0; c < int(p.C); ++c)
      for (int r = 0; r < int(p.R); ++r) {
        const int ih = ih0 + r * int(p.dil_h);
        if (ih < 0 || ih >= int(p.H)) continue;
        for (int s = 0; s < int(p.S); ++s) {
          const int iw = iw0 + s * int(p.dil_w);
          if (iw < 0 || iw >= int(p.W)) continue;
          const T v = x[(int64_t(c) * p.H + ih) * p.W + iw];
          const T* wr = ws + ((c * int(p.R) + r) * int(p.S) + s) * K + k0;
#pragma unroll
          for (int j = 0; j < kFewK; ++j)
            if (k0 + j < K) acc[j] += v * wr[j];
        }
      }
#pragma unroll
    for (int j = 0; j < kFewK; ++j)
      if (k0 + j < K) y[int64_t(k0 + j) * OHW] = acc[j];
  }
}

// ws: the weight as stored, [K][C][R][S]. m: input pixel (n, h, w).
template <typename T>
LOOM_HD void few_channels_dgrad_pixel(T* gin, const T* gout, const T* ws, const ConvParams& p, int64_t m) {
  const int HW = int(p.H * p.W), OHW = int(p.OH * p.OW), C = int(p.C), RS = int(p.R * p.S);
  const int n = int(m / HW), hw = int(m - int64_t(n) * HW), h = hw / int(p.W), x = hw - h * int(p.W);
  const T* g = gout + int64_t(n) * p.K * OHW;
  T acc[kFewMaxC];
#pragma unroll
  for (int c = 0; c < kFewMaxC; ++c) acc[c] = T(0);
  for (int r = 0; r < int(p.R); ++r) {
    const int th = h + int(p.pad_h) - r * int(p.dil_h);
    if (th < 0) continue;
    const int oh = th / int(p.stride_h);
    if (oh * int(p.stride_h) != th || oh >= int(p.OH)) continue;
    for (int s = 0; s < int(p.S); ++s) {
      const int tw = x + int(p.pad_w) - s * int(p.dil_w);
      if (tw < 0) continue;
      const int ow = tw / int(p.stride_w);
      if (ow * int(p.stride_w) != tw || ow >= int(p.OW)) continue;
      const T* gk = g + oh * int(p.OW) + ow;
      const T* wk = ws + r * int(p.S) + s;
      for (int k = 0; k < int(p.K); ++k) {
        const T v = gk[int64_t(k) * OHW];
#pragma unroll
        for (int c = 0; c < kFewMaxC; ++c)
          if (c < C) acc[c] += v * wk[(k * C + c) * RS];
      }
    }
  }
#pragma unroll
  for (int c = 0; c < kFewMaxC; ++c)
    if (c < C) gin[(int64_t(n) * C + c) * HW + hw] = acc[c];
}

template <typename T>
__global__ void __launch_bounds__(kFewThreads)
    conv_few_channels_kernel(T* out, const T* in, const T* w, const T* bias, ConvParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* ws = reinterpret_cast<T*>(smem_raw);
  const int K = int(p.K), CRS = int(p.crs());
  for (int i = threadIdx.x; i < K * CRS; i += blockDim.x) {
    const int k = i / CRS, crs = i - k * CRS;
    ws[crs * K + k] = w[i];
  }
  __syncthreads();
  const int64_t m = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m < p.N * p.OH * p.OW) few_channels_forward_pixel(out, in, ws, bias, p, m);
}

template <typename T>
__global__ void __launch_bounds__(kFewThreads)
    conv_few_channels_dgrad_kernel(T* gin, const T* gout, const T* w, ConvParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* ws = reinterpret_cast<T*>(smem_raw);
  for (int i = threadIdx.x; i < int(p.K * p.crs()); i += blockDim.x) ws[i] = w[i];
  __syncthreads();
  const int64_t m = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m < p.N * p.H * p.W) few_channels_dgrad_pixel(gin, gout, ws, p, m);
}

// Output channels per warp (float: 4 x 16 accumulators, offsets in 16 more).
constexpr int kWgTaps = 16;  // taps per block
constexpr int kWgWarps = 8;
constexpr int kWgMinPixels = 2048;  // per slice

template <typename T>
__global__ void __launch_bounds__(kWgWarps * 32, 1)
    conv_few_wgrad_kernel(T* parts, const T* gout, const T* in, ConvParams p, int64_t pixels_per_slice) {
  constexpr int kWgKT = sizeof(T) == 4 ? 4 : 2;
  // Each tap's row and column offset in the window and its input offset from
  // the window's origin (c*H*W + dr*W + ds); read as broadcasts.
  __shared__ int s_r[kWgTaps], s_s[kWgTaps], s_off[kWgTaps];
  const int CRS = int(p.crs()), RS = int(p.R * p.S), tap0 = blockIdx.y * kWgTaps;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int k0 = (blockIdx.z * kWgWarps + warp) * kWgKT;
  const int H = int(p.H), W = int(p.W), OW = int(p.OW), K = int(p.K);
  if (threadIdx.x < kWgTaps) {
    const int t = min(tap0 + int(threadIdx.x), CRS - 1), c = t / RS, rs = t % RS;
    s_r[threadIdx.x] = (rs / int(p.S)) * int(p.dil_h);
    s_s[threadIdx.x] = (rs % int(p.S)) * int(p.dil_w);
    s_off[threadIdx.x] = c * H * W + s_r[threadIdx.x] * W + s_s[threadIdx.x];
  }
  __syncthreads();
  const int ext_h = (int(p.R) - 1) * int(p.dil_h), ext_w = (int(p.S) - 1) * int(p.dil_w);
  T acc[kWgKT][kWgTaps];
#pragma unroll
  for (int j = 0; j < kWgKT; ++j)
#pragma unroll
    for (int t = 0; t < kWgTaps; ++t) acc[j][t] = T(0);

  const int64_t M = p.N * p.OH * p.OW, OHW = p.OH * p.OW;
  const int64_t mbeg = int64_t(blockIdx.x) * pixels_per_slice, mend = min(M, mbeg + pixels_per_slice);
  if (k0 < K) {
    for (int64_t m = mbeg + lane; m < mend; m += 32) {
      const int64_t n = m / OHW;
      const int ohw = int(m - n * OHW), oh = ohw / OW, ow = ohw - oh * OW;
      T g[kWgKT];
#pragma unroll
      for (int j = 0; j < kWgKT; ++j) g[j] = k0 + j < K ? gout[(n * K + k0 + j) * OHW + ohw] : T(0);
      const int ih0 = oh * int(p.stride_h) - int(p.pad_h), iw0 = ow * int(p.stride_w) - int(p.pad_w);
      const T* x = in + n * p.C * p.H * p.W + int64_t(ih0) * W + iw0;
      if (ih0 >= 0 && iw0 >= 0 && ih0 + ext_h < H && iw0 + ext_w < W) {
#pragma unroll
        for (int t = 0; t < kWgTaps; ++t) {
          const T v = x[s_off[t]];
#pragma unroll
          for (int j = 0; j < kWgKT; ++j) acc[j][t] += g[j] * v;
        }
      } else {
#pragma unroll
        for (int t = 0; t < kWgTaps; ++t) {
          const int ih = ih0 + s_r[t], iw = iw0 + s_s[t];
          const T v = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[s_off[t]] : T(0);
#pragma unroll
          for (int j = 0; j < kWgKT; ++j) acc[j][t] += g[j] * v;
        }
      }
    }
  }
  // Sum over the lanes; lane t then writes tap t of both channels.
#pragma unroll
  for (int j = 0; j < kWgKT; ++j)
#pragma unroll
    for (int t = 0; t < kWgTaps; ++t) acc[j][t] = warp_reduce(acc[j][t], SumOp{});
  T* dst = parts + int64_t(blockIdx.x) * K * CRS;
#pragma unroll
  for (int j = 0; j < kWgKT; ++j) {
    T mine = T(0);
#pragma unroll
    for (int t = 0; t < kWgTaps; ++t)
      if (lane == t) mine = acc[j][t];
    if (k0 + j < K && tap0 + lane < CRS) dst[int64_t(k0 + j) * CRS + tap0 + lane] = mine;
  }
}

// Channels per block of the weight gradient.
int64_t few_wgrad_channels(size_t elem) { return (elem == 4 ? 4 : 2) * kWgWarps; }

// Pixel slices of the weight gradient: four waves of blocks (one resident
// per SM: the kernel keeps 16 loads in flight per warp in ~200 registers),
// each slice at least kWgMinPixels long.
int64_t few_wgrad_slices(const ConvParams& p, size_t elem, int sms) {
  const int64_t M = p.N * p.OH * p.OW, kb = few_wgrad_channels(elem);
  const int64_t others = ((p.crs() + kWgTaps - 1) / kWgTaps) * ((p.K + kb - 1) / kb);
  int64_t slices = (4 * int64_t(sms) + others - 1) / others;
  slices = std::min<int64_t>(slices, std::max<int64_t>(1, M / kWgMinPixels));
  return std::max<int64_t>(1, std::min<int64_t>(slices, 65535));
}

}  // namespace

bool conv_few_channels(const ConvParams& p, size_t elem) {
  return p.groups == 1 && p.C <= kFewMaxC && int64_t(elem) * p.K * p.crs() <= kFewSmem;
}

void conv_few_forward(DType dt, void* out, const void* in, const void* w, const void* bias, const ConvParams& p,
                      cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d", [&] {
    using T = scalar_t;
    const int64_t M = p.N * p.OH * p.OW;
    conv_few_channels_kernel<T>
        <<<unsigned((M + kFewThreads - 1) / kFewThreads), kFewThreads, sizeof(T) * p.K * p.crs(), stream>>>(
            static_cast<T*>(out), static_cast<const T*>(in), static_cast<const T*>(w), static_cast<const T*>(bias), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void conv_few_backward_input(DType dt, void* gin, const void* gout, const void* w, const ConvParams& p,
                             cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    using T = scalar_t;
    const int64_t M = p.N * p.H * p.W;
    conv_few_channels_dgrad_kernel<T>
        <<<unsigned((M + kFewThreads - 1) / kFewThreads), kFewThreads, sizeof(T) * p.K * p.crs(), stream>>>(
            static_cast<T*>(gin), static_cast<const T*>(gout), static_cast<const T*>(w), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

size_t conv_few_wgrad_workspace(const ConvParams& p, size_t elem, int sms) {
  const int64_t slices = few_wgrad_slices(p, elem, sms);
  return slices > 1 ? size_t(slices * p.K * p.crs()) * elem : 0;
}

void conv_few_backward_weight(DType dt, void* gw, const void* gout, const void* in, const ConvParams& p,
                              void* workspace, int sms, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    using T = scalar_t;
    const int64_t M = p.N * p.OH * p.OW, slices = few_wgrad_slices(p, sizeof(T), sms);
    const int64_t per = (M + slices - 1) / slices, kb = few_wgrad_channels(sizeof(T));
    dim3 grid(unsigned(slices), unsigned((p.crs() + kWgTaps - 1) / kWgTaps), unsigned((p.K + kb - 1) / kb));
    T* parts = slices > 1 ? static_cast<T*>(workspace) : static_cast<T*>(gw);
    conv_few_wgrad_kernel<T>
        <<<grid, kWgWarps * 32, 0, stream>>>(parts, static_cast<const T*>(gout), static_cast<const T*>(in), p, per);
    LOOM_CUDA_KERNEL_CHECK();
    if (slices > 1) conv_split_sum(dt, gw, parts, p.K * p.crs(), int(slices), stream);
  });
}

}  // namespace loom::kernels::cuda
