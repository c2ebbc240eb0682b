// Direct convolution kernels for few input channels (the RGB first layer,
// C <= 4), forward and backward to the input. The whole weight sits in shared
// memory and each thread owns one pixel, coalesced along ow. Forward: an
// output pixel, 32 output channels at a time in registers, the weight read as
// [crs][K] broadcasts. Backward to the input: an input pixel, its C <= 4
// channels in registers, looping over the (kout, r, s) taps that reach it.
// The implicit GEMM (conv.cu) would waste most of its tile on C*R*S = 27 or
// on Cg = 3 columns. The per-pixel bodies are host+device so that they can be
// emulated on the host.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_internal.h"

namespace loom::kernels::cuda {
namespace {

#define LOOM_HD __host__ __device__

constexpr int kFewK = 32;       // output channels per pass, in registers
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
__global__ void __launch_bounds__(kFewThreads) conv_few_channels_kernel(T* out, const T* in, const T* w,
                                                                         const T* bias, ConvParams p) {
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
__global__ void __launch_bounds__(kFewThreads) conv_few_channels_dgrad_kernel(T* gin, const T* gout, const T* w,
                                                                               ConvParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* ws = reinterpret_cast<T*>(smem_raw);
  for (int i = threadIdx.x; i < int(p.K * p.crs()); i += blockDim.x) ws[i] = w[i];
  __syncthreads();
  const int64_t m = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m < p.N * p.H * p.W) few_channels_dgrad_pixel(gin, gout, ws, p, m);
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
    conv_few_channels_kernel<T><<<unsigned((M + kFewThreads - 1) / kFewThreads), kFewThreads,
                                  sizeof(T) * p.K * p.crs(), stream>>>(
        static_cast<T*>(out), static_cast<const T*>(in), static_cast<const T*>(w), static_cast<const T*>(bias), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void conv_few_backward_input(DType dt, void* gin, const void* gout, const void* w, const ConvParams& p,
                             cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    using T = scalar_t;
    const int64_t M = p.N * p.H * p.W;
    conv_few_channels_dgrad_kernel<T><<<unsigned((M + kFewThreads - 1) / kFewThreads), kFewThreads,
                                        sizeof(T) * p.K * p.crs(), stream>>>(
        static_cast<T*>(gin), static_cast<const T*>(gout), static_cast<const T*>(w), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
