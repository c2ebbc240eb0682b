// grid_sample on CUDA (kernels/grid.h has the coordinate rules). A thread
// per output position (n, oh, ow) computes the source point once and loops
// over the channels: the forward reads the taps of each plane; the backward
// adds the weighted output gradient into the (zeroed) input gradient with
// atomicAdd and sums the grid gradient over the channels in registers.
#include "kernels/cuda/common.cuh"
#include "kernels/grid.h"

namespace loom::kernels::cuda {
namespace {

template <typename T>
struct Taps {
  int64_t off[4];
  T w[4], dwx[4], dwy[4];
  T gx, gy;
  bool in[4];
  int n;
};

template <typename T>
__device__ Taps<T> taps_at(const T* g, const GridSampleParams& p) {
  Taps<T> t;
  const T ix = grid_source(g[0], p.W, p.padding, p.align_corners, &t.gx);
  const T iy = grid_source(g[1], p.H, p.padding, p.align_corners, &t.gy);
  if (p.mode == GridMode::Nearest) {
    const int64_t x = static_cast<int64_t>(nearbyint(ix)), y = static_cast<int64_t>(nearbyint(iy));
    const bool in = grid_inside(x, y, p.W, p.H);
    t.n = 1;
    t.in[0] = in;
    t.off[0] = in ? y * p.W + x : 0;
    t.w[0] = in ? T(1) : T(0);
    t.dwx[0] = t.dwy[0] = T(0);
    return t;
  }
  const T fx0 = floor(ix), fy0 = floor(iy);
  const int64_t x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
  const T fx = ix - fx0, fy = iy - fy0;
  t.n = 4;
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const int64_t x = x0 + (k & 1), y = y0 + (k >> 1);
    const T wx = (k & 1) ? fx : T(1) - fx, wy = (k >> 1) ? fy : T(1) - fy;
    const bool in = grid_inside(x, y, p.W, p.H);
    t.in[k] = in;
    t.off[k] = in ? y * p.W + x : 0;
    t.w[k] = in ? wx * wy : T(0);
    t.dwx[k] = in ? ((k & 1) ? wy : -wy) : T(0);
    t.dwy[k] = in ? ((k >> 1) ? wx : -wx) : T(0);
  }
  return t;
}

template <typename T>
__global__ void grid_forward_kernel(T* out, const T* in, const T* grid, GridSampleParams p) {
  const int64_t OHW = p.OH * p.OW, HW = p.H * p.W, positions = p.N * OHW;
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < positions;
       q += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t n = q / OHW, o = q % OHW;
    const Taps<T> t = taps_at(grid + 2 * q, p);
    const T* src = in + n * p.C * HW;
    T* dst = out + n * p.C * OHW + o;
    for (int64_t c = 0; c < p.C; ++c, src += HW, dst += OHW) {
      T v = T(0);
#pragma unroll
      for (int k = 0; k < 4; ++k)  // unrolled, so the taps stay in registers
        if (k < t.n && t.in[k]) v += src[t.off[k]] * t.w[k];
      *dst = v;
    }
  }
}

template <typename T>
__global__ void grid_backward_kernel(T* gin, T* ggrid, const T* gout, const T* in, const T* grid, GridSampleParams p) {
  const int64_t OHW = p.OH * p.OW, HW = p.H * p.W, positions = p.N * OHW;
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < positions;
       q += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t n = q / OHW, o = q % OHW;
    const Taps<T> t = taps_at(grid + 2 * q, p);
    const T* src = in + n * p.C * HW;
    const T* go = gout + n * p.C * OHW + o;
    T* dst = gin + n * p.C * HW;
    T sx = T(0), sy = T(0);
    for (int64_t c = 0; c < p.C; ++c, src += HW, go += OHW, dst += HW) {
      const T g = *go;
      T vx = T(0), vy = T(0);
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        if (k >= t.n) break;
        if (!t.in[k]) continue;
        atomicAdd(dst + t.off[k], g * t.w[k]);
        vx += src[t.off[k]] * t.dwx[k];
        vy += src[t.off[k]] * t.dwy[k];
      }
      sx += vx * g;
      sy += vy * g;
    }
    if (ggrid) {
      ggrid[2 * q] = sx * t.gx;
      ggrid[2 * q + 1] = sy * t.gy;
    }
  }
}

}  // namespace

void grid_sample_forward(DType dt, void* out, const void* input, const void* grid, const GridSampleParams& p,
                         cudaStream_t stream) {
  const int64_t positions = p.N * p.OH * p.OW;
  if (positions <= 0 || p.C <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "grid_sample", [&] {
    grid_forward_kernel<<<grid_for(positions), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), static_cast<const scalar_t*>(input), static_cast<const scalar_t*>(grid), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void grid_sample_backward(DType dt, void* grad_input, void* grad_grid, const void* grad_out, const void* input,
                          const void* grid, const GridSampleParams& p, cudaStream_t stream) {
  const int64_t positions = p.N * p.OH * p.OW;
  if (positions <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "grid_sample_backward", [&] {
    grid_backward_kernel<<<grid_for(positions), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(grad_input), static_cast<scalar_t*>(grad_grid), static_cast<const scalar_t*>(grad_out),
        static_cast<const scalar_t*>(input), static_cast<const scalar_t*>(grid), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
