// Pooling on CUDA; semantics and layouts: kernels/cpu/pool.h.
// Forward: one thread per output element (grid-stride), consecutive threads
// on consecutive ow so the loads of a window row coalesce across the warp.
// max backward: zero the input gradient, then each output atomically adds its
// gradient at its saved argmax (windows overlap when stride < kernel).
// avg / adaptive backward: one thread per input element gathers from the
// outputs whose windows cover it (deterministic, no atomics).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/pool.h"

namespace loom::kernels::cuda {
namespace {

struct Window {
  int64_t h0, h1, w0, w1, div;
};

__device__ __forceinline__ Window avg_window(const PoolParams& p, int64_t oh, int64_t ow, bool include_pad) {
  int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  int64_t h1 = min(h0 + p.kh, p.H + p.pad_h), w1 = min(w0 + p.kw, p.W + p.pad_w);
  const int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = max(h0, int64_t(0)), w0 = max(w0, int64_t(0));
  h1 = min(h1, p.H), w1 = min(w1, p.W);
  return {h0, h1, w0, w1, include_pad ? padded : (h1 - h0) * (w1 - w0)};
}

__device__ __forceinline__ int64_t start_index(int64_t o, int64_t out, int64_t in) { return (o * in) / out; }
__device__ __forceinline__ int64_t end_index(int64_t o, int64_t out, int64_t in) {
  return ((o + 1) * in + out - 1) / out;
}

#define LOOM_GRID_LOOP(i, n) \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

template <typename T>
__global__ void max_pool2d_forward_kernel(T* out, int64_t* idx, const T* in, PoolParams p) {
  const int64_t total = p.NC * p.OH * p.OW;
  LOOM_GRID_LOOP(o, total) {
    const int64_t ow = o % p.OW, oh = (o / p.OW) % p.OH, c = o / (p.OW * p.OH);
    const T* x = in + c * p.H * p.W;
    const int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
    T best = T(-INFINITY);
    int64_t arg = -1;
    bool done = false;
    for (int64_t i = 0; i < p.kh && !done; ++i) {
      const int64_t ih = h0 + i * p.dil_h;
      if (ih < 0 || ih >= p.H) continue;
      for (int64_t j = 0; j < p.kw; ++j) {
        const int64_t iw = w0 + j * p.dil_w;
        if (iw < 0 || iw >= p.W) continue;
        const T v = x[ih * p.W + iw];
        if (arg < 0 || v > best || isnan(v)) {
          best = v, arg = ih * p.W + iw;
          if (isnan(v)) {
            done = true;
            break;
          }
        }
      }
    }
    out[o] = best;
    idx[o] = arg;
  }
}

template <typename T>
__global__ void max_pool2d_backward_kernel(T* gin, const T* gout, const int64_t* idx, PoolParams p) {
  const int64_t total = p.NC * p.OH * p.OW;
  LOOM_GRID_LOOP(o, total) {
    const int64_t c = o / (p.OH * p.OW);
    if (idx[o] >= 0) atomicAdd(gin + c * p.H * p.W + idx[o], gout[o]);
  }
}

template <typename T>
__global__ void avg_pool2d_forward_kernel(T* out, const T* in, PoolParams p, bool include_pad) {
  const int64_t total = p.NC * p.OH * p.OW;
  LOOM_GRID_LOOP(o, total) {
    const int64_t ow = o % p.OW, oh = (o / p.OW) % p.OH, c = o / (p.OW * p.OH);
    const T* x = in + c * p.H * p.W;
    const Window w = avg_window(p, oh, ow, include_pad);
    T s = 0;
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = w.w0; iw < w.w1; ++iw) s += x[ih * p.W + iw];
    out[o] = w.div > 0 ? s / T(w.div) : T(NAN);
  }
}

template <typename T>
__global__ void avg_pool2d_backward_kernel(T* gin, const T* gout, PoolParams p, bool include_pad) {
  const int64_t total = p.NC * p.H * p.W;
  LOOM_GRID_LOOP(i, total) {
    const int64_t iw = i % p.W, ih = (i / p.W) % p.H, c = i / (p.W * p.H);
    const T* go = gout + c * p.OH * p.OW;
    // Outputs whose unclipped window [o*s - pad, o*s - pad + k) holds this element.
    const int64_t oh_lo = max(int64_t(0), (ih + p.pad_h - p.kh + p.stride_h) / p.stride_h);
    const int64_t oh_hi = min(p.OH - 1, (ih + p.pad_h) / p.stride_h);
    const int64_t ow_lo = max(int64_t(0), (iw + p.pad_w - p.kw + p.stride_w) / p.stride_w);
    const int64_t ow_hi = min(p.OW - 1, (iw + p.pad_w) / p.stride_w);
    T s = 0;
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh)
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const Window w = avg_window(p, oh, ow, include_pad);
        if (w.div > 0 && ih >= w.h0 && ih < w.h1 && iw >= w.w0 && iw < w.w1) s += go[oh * p.OW + ow] / T(w.div);
      }
    gin[i] = s;
  }
}

template <typename T>
__global__ void adaptive_avg_pool2d_forward_kernel(T* out, const T* in, PoolParams p) {
  const int64_t total = p.NC * p.OH * p.OW;
  LOOM_GRID_LOOP(o, total) {
    const int64_t ow = o % p.OW, oh = (o / p.OW) % p.OH, c = o / (p.OW * p.OH);
    const T* x = in + c * p.H * p.W;
    const int64_t h0 = start_index(oh, p.OH, p.H), h1 = end_index(oh, p.OH, p.H);
    const int64_t w0 = start_index(ow, p.OW, p.W), w1 = end_index(ow, p.OW, p.W);
    T s = 0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) s += x[ih * p.W + iw];
    out[o] = s / T((h1 - h0) * (w1 - w0));
  }
}

template <typename T>
__global__ void adaptive_avg_pool2d_backward_kernel(T* gin, const T* gout, PoolParams p) {
  const int64_t total = p.NC * p.H * p.W;
  LOOM_GRID_LOOP(i, total) {
    const int64_t iw = i % p.W, ih = (i / p.W) % p.H, c = i / (p.W * p.H);
    const T* go = gout + c * p.OH * p.OW;
    // Outputs o with start(o) <= ih < end(o).
    const int64_t oh_lo = (ih * p.OH) / p.H, oh_hi = ((ih + 1) * p.OH - 1) / p.H;
    const int64_t ow_lo = (iw * p.OW) / p.W, ow_hi = ((iw + 1) * p.OW - 1) / p.W;
    T s = 0;
    for (int64_t oh = oh_lo; oh <= oh_hi && oh < p.OH; ++oh) {
      const int64_t nh = end_index(oh, p.OH, p.H) - start_index(oh, p.OH, p.H);
      for (int64_t ow = ow_lo; ow <= ow_hi && ow < p.OW; ++ow) {
        const int64_t nw = end_index(ow, p.OW, p.W) - start_index(ow, p.OW, p.W);
        s += go[oh * p.OW + ow] / T(nh * nw);
      }
    }
    gin[i] = s;
  }
}

}  // namespace

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p,
                        cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d", [&] {
    max_pool2d_forward_kernel<scalar_t><<<grid_for(p.NC * p.OH * p.OW), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), indices, static_cast<const scalar_t*>(in), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p,
                         cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "max_pool2d_backward", [&] {
    LOOM_CUDA_CHECK(cudaMemsetAsync(grad_in, 0, sizeof(scalar_t) * p.NC * p.H * p.W, stream));
    max_pool2d_backward_kernel<scalar_t><<<grid_for(p.NC * p.OH * p.OW), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), indices, p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad,
                        cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool2d", [&] {
    avg_pool2d_forward_kernel<scalar_t><<<grid_for(p.NC * p.OH * p.OW), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p, count_include_pad);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad,
                         cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "avg_pool2d_backward", [&] {
    avg_pool2d_backward_kernel<scalar_t><<<grid_for(p.NC * p.H * p.W), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p, count_include_pad);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d", [&] {
    adaptive_avg_pool2d_forward_kernel<scalar_t><<<grid_for(p.NC * p.OH * p.OW), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p,
                                  cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d_backward", [&] {
    adaptive_avg_pool2d_backward_kernel<scalar_t><<<grid_for(p.NC * p.H * p.W), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
