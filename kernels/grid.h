// Sampling images at given points (F.grid_sample): the contract of
// kernels/cpu/grid.cpp and kernels/cuda/grid.cu (see kernels/contract.h).
// input [N, C, H, W] and grid [N, OH, OW, 2] contiguous; grid[n, h, w] holds
// (x, y) in [-1, 1] (-1: the left / top edge); out [N, C, OH, OW].
//
// The source coordinate follows PyTorch's grid sampler exactly: unnormalize
// (align_corners: (g + 1) / 2 * (size - 1), else ((g + 1) * size - 1) / 2),
// then the padding mode (border: clip to [0, size - 1]; reflection: reflect
// about the edges, the pixel centers with align_corners else the pixel
// borders, then clip), then a coordinate that is not finite or beyond the int
// range goes to -100 (out of bounds). Bilinear reads the four neighbours with
// the usual weights, nearest the nearest pixel (halves to even); pixels out
// of bounds read 0. The coordinate's derivative with respect to g (0 where
// clipped) scales the grid gradient.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/contract.h"

#if defined(__CUDACC__)
#define LOOM_GRID_HD __host__ __device__ __forceinline__
#else
#define LOOM_GRID_HD inline
#endif

namespace loom::kernels {

enum class GridMode : int8_t { Bilinear, Nearest };
enum class GridPadding : int8_t { Zeros, Border, Reflection };

struct GridSampleParams {
  int64_t N = 1, C = 1, H = 1, W = 1, OH = 1, OW = 1;
  GridMode mode = GridMode::Bilinear;
  GridPadding padding = GridPadding::Zeros;
  bool align_corners = false;
};

// x clipped to [0, size - 1]; *d: 1 inside, 0 where clipped.
template <typename T>
LOOM_GRID_HD T grid_clip(T x, int64_t size, T* d) {
  const T hi = static_cast<T>(size - 1);
  if (x <= T(0)) {
    *d = T(0);
    return T(0);
  }
  if (x >= hi) {
    *d = T(0);
    return hi;
  }
  *d = T(1);
  return x;
}

// x reflected into [twice_lo / 2, twice_hi / 2]; *d: +1 or -1.
template <typename T>
LOOM_GRID_HD T grid_reflect(T x, int64_t twice_lo, int64_t twice_hi, T* d) {
  if (twice_lo == twice_hi) {
    *d = T(0);
    return T(0);
  }
  const T lo = static_cast<T>(twice_lo) / 2, span = static_cast<T>(twice_hi - twice_lo) / 2;
  x -= lo;
  T sign = T(1);
  if (x < T(0)) {
    sign = T(-1);
    x = -x;
  }
  const T extra = std::fmod(x, span);
  if (std::fmod(std::floor(x / span), T(2)) == T(0)) {  // an even number of flips
    *d = sign;
    return extra + lo;
  }
  *d = -sign;
  return span - extra + lo;
}

// The source coordinate of normalized g along a dim of `size`, and its
// derivative d(coordinate)/d(g) in *d.
template <typename T>
LOOM_GRID_HD T grid_source(T g, int64_t size, GridPadding padding, bool align_corners, T* d) {
  T x, dx;
  if (align_corners) {
    x = (g + T(1)) / T(2) * static_cast<T>(size - 1);
    dx = static_cast<T>(size - 1) / T(2);
  } else {
    x = ((g + T(1)) * static_cast<T>(size) - T(1)) / T(2);
    dx = static_cast<T>(size) / T(2);
  }
  T dc = T(1), dr = T(1);
  if (padding == GridPadding::Border) {
    x = grid_clip(x, size, &dc);
  } else if (padding == GridPadding::Reflection) {
    if (x - x == T(0))  // finite (an infinity or NaN stays NaN, out of bounds below)
      x = align_corners ? grid_reflect(x, 0, 2 * (size - 1), &dr) : grid_reflect(x, -1, 2 * size - 1, &dr);
    else x = x - x;
    x = grid_clip(x, size, &dc);
  }
  *d = dx * dr * dc;
  // Not finite, or beyond the int range: out of bounds (PyTorch's safe_downgrade_to_int_range).
  if (!(x > T(-2147483648.0) && x < T(2147483646.0))) x = T(-100);
  return x;
}

LOOM_GRID_HD bool grid_inside(int64_t x, int64_t y, int64_t W, int64_t H) { return x >= 0 && x < W && y >= 0 && y < H; }

namespace cpu {

// float32 / float64.
void grid_sample_forward(DType dt, void* out, const void* input, const void* grid, const GridSampleParams& p);
// grad_input (overwritten) and grad_grid (overwritten; may be null when not
// wanted) from grad_out. Deterministic: grad_input is summed per image and
// channel block in output order.
void grid_sample_backward(DType dt, void* grad_input, void* grad_grid, const void* grad_out, const void* input,
                          const void* grid, const GridSampleParams& p);

}  // namespace cpu

namespace cuda {

// A thread per output position (n, oh, ow), looping over the channels.
void grid_sample_forward(DType dt, void* out, const void* input, const void* grid, const GridSampleParams& p,
                         cudaStream_t stream);
// A thread per output position: atomicAdd into grad_input, which the caller
// zeroes (the order of the additions is not fixed, as in PyTorch); the grid
// gradient summed over the channels in the thread.
void grid_sample_backward(DType dt, void* grad_input, void* grad_grid, const void* grad_out, const void* input,
                          const void* grid, const GridSampleParams& p, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
