// grid_sample on the CPU (kernels/grid.h has the coordinate rules).
// Output positions go in blocks of 64 within an image: the block's taps are
// computed once, then each channel plane is read for the whole block (nearby
// points, so nearby memory; the loop over the block's positions is innermost). Forward: blocks in parallel. Backward:
// the input gradient in tasks of (image, block of channels), each walking its image's positions in order
// (deterministic, no two tasks write one element); the grid gradient over blocks in parallel, summing the channels.
#include <algorithm>
#include <cmath>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LOOM_GRID_AVX2 1
#endif

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"
#include "kernels/grid.h"

namespace loom::kernels::cpu {
namespace {

constexpr int kBlock = 64;  // output positions whose taps are computed together

// The taps of up to kBlock consecutive output positions of one image:
// element offsets within a plane, weights and (for the grid gradient) their
// derivatives with respect to the source x and y, validity (a tap outside
// the image reads nothing, so an inf beside it cannot turn into NaN), and
// d(source)/d(grid). Loops over a block run over q, the position, innermost.
template <typename T>
struct TapBlock {
  int32_t off[4][kBlock];  // a plane holds fewer than 2^31 elements (the front end checks)
  T w[4][kBlock], dwx[4][kBlock], dwy[4][kBlock];
  uint8_t in[4][kBlock];
  T gx[kBlock], gy[kBlock];
};

template <typename T>
void fill_block(TapBlock<T>& b, const T* grid, int len, const GridSampleParams& p) {
  for (int q = 0; q < len; ++q) {
    const T ix = grid_source(grid[2 * q], p.W, p.padding, p.align_corners, &b.gx[q]);
    const T iy = grid_source(grid[2 * q + 1], p.H, p.padding, p.align_corners, &b.gy[q]);
    if (p.mode == GridMode::Nearest) {
      const int64_t x = static_cast<int64_t>(std::nearbyint(ix)), y = static_cast<int64_t>(std::nearbyint(iy));
      const bool in = grid_inside(x, y, p.W, p.H);
      b.in[0][q] = in;
      b.off[0][q] = in ? static_cast<int32_t>(y * p.W + x) : 0;
      b.w[0][q] = T(1);
      b.dwx[0][q] = b.dwy[0][q] = T(0);
      continue;
    }
    const T fx0 = std::floor(ix), fy0 = std::floor(iy);
    const int64_t x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
    const T fx = ix - fx0, fy = iy - fy0;
    for (int k = 0; k < 4; ++k) {
      const int64_t x = x0 + (k & 1), y = y0 + (k >> 1);
      const T wx = (k & 1) ? fx : T(1) - fx, wy = (k >> 1) ? fy : T(1) - fy;
      const bool in = grid_inside(x, y, p.W, p.H);
      b.in[k][q] = in;
      b.off[k][q] = in ? static_cast<int32_t>(y * p.W + x) : 0;
      b.w[k][q] = wx * wy;
      b.dwx[k][q] = (k & 1) ? wy : -wy;
      b.dwy[k][q] = (k >> 1) ? wx : -wx;
    }
  }
}

// The value of tap k at position q in one plane: an unconditional load (a
// tap outside the image points at element 0) and a bit select, no branch.
// GCC 12 does not turn these loads into gathers, so float32 has an AVX2 path
// below with explicit masked gathers.
template <typename T>
LOOM_CPU_INLINE T tap(const TapBlock<T>& b, const T* plane, int k, int q) {
  return detail::select_bits(b.in[k][q], plane[b.off[k][q]], T(0));
}

// One plane's samples at the block's positions (compiled for AVX-512, AVX2
// and baseline x86-64).
template <typename T, int TAPS>
LOOM_CPU_CLONES void sample_row(T* dst, const T* plane, const TapBlock<T>& b, int len) {
  for (int q = 0; q < len; ++q) {
    T v = T(0);
    for (int k = 0; k < TAPS; ++k) v += tap(b, plane, k, q) * b.w[k][q];
    dst[q] = v;
  }
}

// sx += go * d(sample)/d(source x), sy likewise, for one plane.
template <typename T>
LOOM_CPU_CLONES void grid_grad_row(T* sx, T* sy, const T* go, const T* plane, const TapBlock<T>& b, int len) {
  for (int q = 0; q < len; ++q) {
    T vx = T(0), vy = T(0);
    for (int k = 0; k < 4; ++k) {
      const T v = tap(b, plane, k, q);
      vx += v * b.dwx[k][q];
      vy += v * b.dwy[k][q];
    }
    sx[q] += vx * go[q];
    sy[q] += vy * go[q];
  }
}

#ifdef LOOM_GRID_AVX2
// float32 with AVX2: eight positions at a time, each tap a masked gather
// (lanes outside the image read nothing and give 0); the products and sums
// in the scalar loop's order, so both paths give the same bits.
__attribute__((target("avx2"))) inline __m256 gather_tap(const TapBlock<float>& b, const float* plane, int k, int q) {
  const __m256i off = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&b.off[k][q]));
  const __m256i in8 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&b.in[k][q])));
  const __m256 mask = _mm256_castsi256_ps(_mm256_cmpgt_epi32(in8, _mm256_setzero_si256()));
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), plane, off, mask, 4);
}

// All channels of one image at the block's positions: eight positions at a
// time, their offsets, masks and weights held in registers across the
// channels (the loop over channels innermost).
template <int TAPS>
__attribute__((target("avx2"))) void sample_planes_avx2(float* out, const float* in, int64_t C, int64_t HW, int64_t OHW,
                                                        const TapBlock<float>& b, int len) {
  int q = 0;
  for (; q + 8 <= len; q += 8) {
    __m256i off[TAPS];
    __m256 mask[TAPS], w[TAPS];
    for (int k = 0; k < TAPS; ++k) {
      off[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&b.off[k][q]));
      const __m256i in8 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&b.in[k][q])));
      mask[k] = _mm256_castsi256_ps(_mm256_cmpgt_epi32(in8, _mm256_setzero_si256()));
      w[k] = _mm256_loadu_ps(&b.w[k][q]);
    }
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = in + c * HW;
      __m256 v = _mm256_setzero_ps();
      for (int k = 0; k < TAPS; ++k)
        v = _mm256_add_ps(
            v, _mm256_mul_ps(_mm256_mask_i32gather_ps(_mm256_setzero_ps(), plane, off[k], mask[k], 4), w[k]));
      _mm256_storeu_ps(out + c * OHW + q, v);
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    const float* plane = in + c * HW;
    for (int r = q; r < len; ++r) {
      float v = 0.0f;
      for (int k = 0; k < TAPS; ++k) v += tap(b, plane, k, r) * b.w[k][r];
      out[c * OHW + r] = v;
    }
  }
}

__attribute__((target("avx2"))) void grid_grad_row_avx2(float* sx, float* sy, const float* go, const float* plane,
                                                        const TapBlock<float>& b, int len) {
  int q = 0;
  for (; q + 8 <= len; q += 8) {
    __m256 vx = _mm256_setzero_ps(), vy = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      const __m256 v = gather_tap(b, plane, k, q);
      vx = _mm256_add_ps(vx, _mm256_mul_ps(v, _mm256_loadu_ps(&b.dwx[k][q])));
      vy = _mm256_add_ps(vy, _mm256_mul_ps(v, _mm256_loadu_ps(&b.dwy[k][q])));
    }
    const __m256 g = _mm256_loadu_ps(go + q);
    _mm256_storeu_ps(sx + q, _mm256_add_ps(_mm256_loadu_ps(sx + q), _mm256_mul_ps(vx, g)));
    _mm256_storeu_ps(sy + q, _mm256_add_ps(_mm256_loadu_ps(sy + q), _mm256_mul_ps(vy, g)));
  }
  for (; q < len; ++q) {
    float vx = 0.0f, vy = 0.0f;
    for (int k = 0; k < 4; ++k) {
      const float v = tap(b, plane, k, q);
      vx += v * b.dwx[k][q];
      vy += v * b.dwy[k][q];
    }
    sx[q] += vx * go[q];
    sy[q] += vy * go[q];
  }
}

bool has_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2");
  return ok;
}
#endif

template <typename T, int TAPS>
void forward_planes(T* out, const T* in, const TapBlock<T>& b, int len, const GridSampleParams& p, int64_t n,
                    int64_t o0) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
#ifdef LOOM_GRID_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2()) {
      sample_planes_avx2<TAPS>(out + n * p.C * OHW + o0, in + n * p.C * HW, p.C, HW, OHW, b, len);
      return;
    }
  }
#endif
  for (int64_t c = 0; c < p.C; ++c)
    sample_row<T, TAPS>(out + (n * p.C + c) * OHW + o0, in + (n * p.C + c) * HW, b, len);
}

template <typename T>
void grid_grad_planes(T* sx, T* sy, const T* gout, const T* in, const TapBlock<T>& b, int len,
                      const GridSampleParams& p, int64_t n, int64_t o0) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
#ifdef LOOM_GRID_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2()) {
      for (int64_t c = 0; c < p.C; ++c)
        grid_grad_row_avx2(sx, sy, gout + (n * p.C + c) * OHW + o0, in + (n * p.C + c) * HW, b, len);
      return;
    }
  }
#endif
  for (int64_t c = 0; c < p.C; ++c)
    grid_grad_row(sx, sy, gout + (n * p.C + c) * OHW + o0, in + (n * p.C + c) * HW, b, len);
}

template <typename T>
void forward_impl(T* out, const T* in, const T* grid, const GridSampleParams& p) {
  const int64_t OHW = p.OH * p.OW, per_image = (OHW + kBlock - 1) / kBlock, blocks = p.N * per_image;
  detail::parallel_range(blocks, p.N * OHW * p.C * 4, [&](int64_t b0, int64_t b1) {
    TapBlock<T> b;
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t n = blk / per_image, o0 = blk % per_image * kBlock;
      const int len = static_cast<int>(std::min<int64_t>(kBlock, OHW - o0));
      fill_block(b, grid + 2 * (n * OHW + o0), len, p);
      if (p.mode == GridMode::Nearest) forward_planes<T, 1>(out, in, b, len, p, n, o0);
      else forward_planes<T, 4>(out, in, b, len, p, n, o0);
    }
  });
}

template <typename T>
void backward_impl(T* gin, T* ggrid, const T* gout, const T* in, const T* grid, const GridSampleParams& p) {
  const int64_t HW = p.H * p.W, OHW = p.OH * p.OW, per_image = (OHW + kBlock - 1) / kBlock;
  const int taps = p.mode == GridMode::Nearest ? 1 : 4;
  std::fill(gin, gin + p.N * p.C * HW, T(0));
  // Input gradient: tasks of (image, channel block), each over its image's positions in order.
  const int64_t cblocks = std::max<int64_t>(1, std::min<int64_t>(p.C, pool_threads()));
  const int64_t per = (p.C + cblocks - 1) / cblocks;
  detail::parallel_range(p.N * cblocks, p.N * p.C * OHW * 4, [&](int64_t t0, int64_t t1) {
    TapBlock<T> b;
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t n = task / cblocks, c0 = task % cblocks * per, c1 = std::min(p.C, c0 + per);
      if (c0 >= c1) continue;
      for (int64_t o0 = 0; o0 < OHW; o0 += kBlock) {
        const int len = static_cast<int>(std::min<int64_t>(kBlock, OHW - o0));
        fill_block(b, grid + 2 * (n * OHW + o0), len, p);
        for (int64_t c = c0; c < c1; ++c) {
          const T* go = gout + (n * p.C + c) * OHW + o0;
          T* plane = gin + (n * p.C + c) * HW;
          for (int q = 0; q < len; ++q)
            for (int k = 0; k < taps; ++k)
              if (b.in[k][q]) plane[b.off[k][q]] += go[q] * b.w[k][q];
        }
      }
    }
  });
  if (!ggrid) return;
  if (p.mode == GridMode::Nearest) {  // piecewise constant in the grid
    std::fill(ggrid, ggrid + 2 * p.N * OHW, T(0));
    return;
  }
  detail::parallel_range(p.N * per_image, p.N * OHW * p.C * 8, [&](int64_t b0, int64_t b1) {
    TapBlock<T> b;
    T sx[kBlock], sy[kBlock];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t n = blk / per_image, o0 = blk % per_image * kBlock;
      const int len = static_cast<int>(std::min<int64_t>(kBlock, OHW - o0));
      fill_block(b, grid + 2 * (n * OHW + o0), len, p);
      std::fill(sx, sx + len, T(0));
      std::fill(sy, sy + len, T(0));
      grid_grad_planes(sx, sy, gout, in, b, len, p, n, o0);
      T* gg = ggrid + 2 * (n * OHW + o0);
      for (int q = 0; q < len; ++q) {
        gg[2 * q] = sx[q] * b.gx[q];
        gg[2 * q + 1] = sy[q] * b.gy[q];
      }
    }
  });
}

}  // namespace

void grid_sample_forward(DType dt, void* out, const void* input, const void* grid, const GridSampleParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "grid_sample", [&] {
    forward_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(input), static_cast<const scalar_t*>(grid),
                 p);
  });
}

void grid_sample_backward(DType dt, void* grad_input, void* grad_grid, const void* grad_out, const void* input,
                          const void* grid, const GridSampleParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "grid_sample_backward", [&] {
    backward_impl(static_cast<scalar_t*>(grad_input), static_cast<scalar_t*>(grad_grid),
                  static_cast<const scalar_t*>(grad_out), static_cast<const scalar_t*>(input),
                  static_cast<const scalar_t*>(grid), p);
  });
}

}  // namespace loom::kernels::cpu
