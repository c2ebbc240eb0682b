// CUDA resizing (kernels/upsample.h); CPU twin kernels/cpu/upsample.cpp.
// Forward: a thread per output element (grid-stride, consecutive threads on
// consecutive output columns: coalesced writes, and reads from one or two
// input rows that neighbouring threads share through L1/L2). The source
// taps are recomputed per element from the same host/device functions as
// the CPU's tables, so both twins pick the same pixels.
// Nearest backward: a thread per input element sums the rectangle of outputs
// that read it. The outputs reading input i form one run [o(i), o(i + 1)),
// o(i) the first output whose source is >= i, found from the estimate i / r
// and corrected by a step or two; no atomics, a fixed order. Bilinear
// backward: grad_in is zeroed, then a thread per output element adds its four
// weighted taps with atomicAdd (the order of additions varies, as PyTorch's);
// bicubic the same with its sixteen taps.
// Padding: forward a thread per output element, its source found dim by dim (pad_source); backward, one
// dim at a time, a thread per grad_in element summing the outputs that read it (pad_readers), in order.
#include "kernels/convert.h"
#include "kernels/cuda/common.cuh"
#include "kernels/upsample.h"

namespace loom::kernels::cuda {

namespace {

template <typename T, UpsampleMode kMode>
__global__ void upsample2d_forward_kernel(T* __restrict__ out, const T* __restrict__ in, UpsampleParams p) {
  const int64_t total = p.NC * p.OH * p.OW;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = e % p.OW, t = e / p.OW, oh = t % p.OH, plane = t / p.OH;
    const T* x = in + plane * p.H * p.W;
    if constexpr (kMode == UpsampleMode::Bicubic) {
      int64_t ih[4], iw[4];
      T wy[4], wx[4];
      cubic_taps<T>(oh, static_cast<T>(p.rh), p.H, p.align_corners, ih, wy);
      cubic_taps<T>(ow, static_cast<T>(p.rw), p.W, p.align_corners, iw, wx);
      T v = T(0);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const T* r = x + ih[i] * p.W;
        v += wy[i] * (r[iw[0]] * wx[0] + r[iw[1]] * wx[1] + r[iw[2]] * wx[2] + r[iw[3]] * wx[3]);
      }
      out[e] = v;
    } else if constexpr (kMode == UpsampleMode::Bilinear) {
      int64_t h0, h1, w0, w1;
      T lh, lw;
      linear_taps<T>(oh, static_cast<T>(p.rh), p.H, p.align_corners, &h0, &h1, &lh);
      linear_taps<T>(ow, static_cast<T>(p.rw), p.W, p.align_corners, &w0, &w1, &lw);
      const T kh = T(1) - lh, kw = T(1) - lw;
      out[e] =
          kh * (kw * x[h0 * p.W + w0] + lw * x[h0 * p.W + w1]) + lh * (kw * x[h1 * p.W + w0] + lw * x[h1 * p.W + w1]);
    } else {
      constexpr bool exact = kMode == UpsampleMode::NearestExact;
      const int64_t ih = nearest_source(oh, static_cast<float>(p.rh), p.H, p.OH, exact);
      const int64_t iw = nearest_source(ow, static_cast<float>(p.rw), p.W, p.OW, exact);
      out[e] = x[ih * p.W + iw];
    }
  }
}

// The first output whose nearest source is >= i (out when none is).
__device__ int64_t first_reader(int64_t i, float r, int64_t in, int64_t out, bool exact) {
  if (!exact && out == in) return i;  // nearest_source's shortcuts
  if (!exact && out == 2 * in) return 2 * i;
  int64_t o = r > 0 ? static_cast<int64_t>(static_cast<float>(i) / r) : 0;
  o = o < 0 ? 0 : (o > out ? out : o);
  while (o > 0 && nearest_source(o - 1, r, in, out, exact) >= i) --o;
  while (o < out && nearest_source(o, r, in, out, exact) < i) ++o;
  return o;
}

template <typename T, bool kExact>
__global__ void upsample2d_nearest_backward_kernel(T* __restrict__ gi, const T* __restrict__ go, UpsampleParams p) {
  const int64_t total = p.NC * p.H * p.W;
  const float rh = static_cast<float>(p.rh), rw = static_cast<float>(p.rw);
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t iw = e % p.W, t = e / p.W, ih = t % p.H, plane = t / p.H;
    const int64_t oh0 = first_reader(ih, rh, p.H, p.OH, kExact), oh1 = first_reader(ih + 1, rh, p.H, p.OH, kExact);
    const int64_t ow0 = first_reader(iw, rw, p.W, p.OW, kExact), ow1 = first_reader(iw + 1, rw, p.W, p.OW, kExact);
    const T* dy = go + plane * p.OH * p.OW;
    T acc = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow) acc += dy[oh * p.OW + ow];
    gi[e] = acc;
  }
}

template <typename T>
__global__ void upsample2d_bilinear_backward_kernel(T* __restrict__ gi, const T* __restrict__ go, UpsampleParams p) {
  const int64_t total = p.NC * p.OH * p.OW;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = e % p.OW, t = e / p.OW, oh = t % p.OH, plane = t / p.OH;
    int64_t h0, h1, w0, w1;
    T lh, lw;
    linear_taps<T>(oh, static_cast<T>(p.rh), p.H, p.align_corners, &h0, &h1, &lh);
    linear_taps<T>(ow, static_cast<T>(p.rw), p.W, p.align_corners, &w0, &w1, &lw);
    const T kh = T(1) - lh, kw = T(1) - lw, g = go[e];
    T* d = gi + plane * p.H * p.W;
    atomicAdd(d + h0 * p.W + w0, kh * kw * g);
    atomicAdd(d + h0 * p.W + w1, kh * lw * g);
    atomicAdd(d + h1 * p.W + w0, lh * kw * g);
    atomicAdd(d + h1 * p.W + w1, lh * lw * g);
  }
}

template <typename T>
__global__ void upsample2d_bicubic_backward_kernel(T* __restrict__ gi, const T* __restrict__ go, UpsampleParams p) {
  const int64_t total = p.NC * p.OH * p.OW;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t ow = e % p.OW, t = e / p.OW, oh = t % p.OH, plane = t / p.OH;
    int64_t ih[4], iw[4];
    T wy[4], wx[4];
    cubic_taps<T>(oh, static_cast<T>(p.rh), p.H, p.align_corners, ih, wy);
    cubic_taps<T>(ow, static_cast<T>(p.rw), p.W, p.align_corners, iw, wx);
    const T g = go[e];
    T* d = gi + plane * p.H * p.W;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const T gy = wy[i] * g;
#pragma unroll
      for (int j = 0; j < 4; ++j) atomicAdd(d + ih[i] * p.W + iw[j], gy * wx[j]);
    }
  }
}

template <typename T>
__global__ void pad_forward_kernel(T* __restrict__ out, const T* __restrict__ in, PadParams p, int64_t total, T value) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t src = pad_source_offset(p, p.ndim, e, 1);
    out[e] = src < 0 ? value : in[src];
  }
}

template <typename T>
__global__ void pad_backward_dim_kernel(T* __restrict__ gi, const T* __restrict__ go, int64_t outer, int64_t out,
                                        int64_t n, int64_t inner, int64_t left, PadMode mode) {
  const int64_t total = outer * n * inner;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t k = e % inner, t = e / inner, i = t % n, q = t / n;
    const T* base = go + q * out * inner + k;
    T acc = T(0);
    pad_readers(i, left, n, out, mode, [&](int64_t o) { acc += base[o * inner]; });
    gi[e] = acc;
  }
}

}  // namespace

void pad_forward(DType dt, void* out, const void* in, const PadParams& p, cudaStream_t stream) {
  int64_t total = 1;
  for (int d = 0; d < p.ndim; ++d) total *= p.out_sizes[d];
  if (total == 0) return;
  LOOM_DISPATCH_ALL(dt, "pad", [&] {
    pad_forward_kernel<scalar_t><<<grid_for(total), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p, total, convert<scalar_t>(p.value));
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void pad_backward_dim(DType dt, void* grad_in, const void* grad_out, int64_t outer, int64_t out, int64_t n,
                      int64_t inner, int64_t left, PadMode mode, cudaStream_t stream) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "pad_backward", [&] {
    pad_backward_dim_kernel<scalar_t><<<grid_for(total), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), outer, out, n, inner, left, mode);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void upsample2d_forward(DType dt, void* out, const void* in, const UpsampleParams& p, cudaStream_t stream) {
  const int64_t total = p.NC * p.OH * p.OW;
  if (total == 0) return;
  if (p.mode == UpsampleMode::Bicubic) {
    LOOM_DISPATCH_FLOAT(dt, "upsample_bicubic2d", [&] {
      upsample2d_forward_kernel<scalar_t, UpsampleMode::Bicubic>
          <<<grid_for(total), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p);
      LOOM_CUDA_KERNEL_CHECK();
    });
    return;
  }
  if (p.mode == UpsampleMode::Bilinear) {
    LOOM_DISPATCH_FLOAT(dt, "upsample_bilinear2d", [&] {
      upsample2d_forward_kernel<scalar_t, UpsampleMode::Bilinear>
          <<<grid_for(total), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p);
      LOOM_CUDA_KERNEL_CHECK();
    });
    return;
  }
  LOOM_DISPATCH_ALL(dt, "upsample_nearest2d", [&] {
    if (p.mode == UpsampleMode::NearestExact)
      upsample2d_forward_kernel<scalar_t, UpsampleMode::NearestExact>
          <<<grid_for(total), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p);
    else
      upsample2d_forward_kernel<scalar_t, UpsampleMode::Nearest>
          <<<grid_for(total), kThreads, 0, stream>>>(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void upsample2d_backward(DType dt, void* grad_in, const void* grad_out, const UpsampleParams& p, cudaStream_t stream) {
  const int64_t in_total = p.NC * p.H * p.W, out_total = p.NC * p.OH * p.OW;
  if (in_total == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "upsample2d_backward", [&] {
    auto* gi = static_cast<scalar_t*>(grad_in);
    const auto* go = static_cast<const scalar_t*>(grad_out);
    if (p.mode == UpsampleMode::Bilinear || p.mode == UpsampleMode::Bicubic) {
      LOOM_CUDA_CHECK(cudaMemsetAsync(gi, 0, static_cast<size_t>(in_total) * sizeof(scalar_t), stream));
      if (out_total == 0) return;
      if (p.mode == UpsampleMode::Bicubic)
        upsample2d_bicubic_backward_kernel<scalar_t><<<grid_for(out_total), kThreads, 0, stream>>>(gi, go, p);
      else upsample2d_bilinear_backward_kernel<scalar_t><<<grid_for(out_total), kThreads, 0, stream>>>(gi, go, p);
    } else if (p.mode == UpsampleMode::NearestExact) {
      upsample2d_nearest_backward_kernel<scalar_t, true><<<grid_for(in_total), kThreads, 0, stream>>>(gi, go, p);
    } else {
      upsample2d_nearest_backward_kernel<scalar_t, false><<<grid_for(in_total), kThreads, 0, stream>>>(gi, go, p);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
