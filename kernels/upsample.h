// Resizing kernels (F.interpolate): the contract of kernels/cpu/upsample.cpp
// and kernels/cuda/upsample.cu (see kernels/contract.h). Layout [N, C, H, W]
// contiguous, seen as NC planes [H, W] -> [OH, OW].
//
// Source coordinates follow PyTorch exactly, in the precision PyTorch uses:
// - nearest: ih = min(floor(oh * r), H - 1) with r a float (oh when OH == H,
//   oh / 2 when OH == 2 H, as PyTorch's CPU kernel); nearest-exact:
//   min(floor((oh + 0.5) * r), H - 1);
// - bilinear: with align_corners s = oh * r, else s = max((oh + 0.5) * r - 0.5, 0)
//   (in the input's dtype, float for float32); h0 = floor(s), h1 = h0 + 1
//   clamped to H - 1, weights 1 - (s - h0) and s - h0.
// - bicubic: s as bilinear but not clamped at 0; h = min(floor(s), H - 1),
//   t = s - h clamped to [0, 1]; taps h - 1 .. h + 2 clamped to [0, H - 1]
//   with the cubic convolution weights of A = -0.75 (PyTorch's, Keys').
// r is the source step per output pixel (upsample_scale): H / OH, or
// 1 / scale_factor when the caller gave one; with align_corners
// (H - 1) / (OH - 1), 0 when OH == 1.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/contract.h"

#if defined(__CUDACC__)
#define LOOM_UPSAMPLE_HD __host__ __device__ __forceinline__
#else
#define LOOM_UPSAMPLE_HD inline
#endif

namespace loom::kernels {

enum class UpsampleMode : int8_t { Nearest, NearestExact, Bilinear, Bicubic };

struct UpsampleParams {
  int64_t NC = 1, H = 1, W = 1, OH = 1, OW = 1;
  double rh = 1, rw = 1;  // upsample_scale of each dim
  bool align_corners = false;
  UpsampleMode mode = UpsampleMode::Nearest;
};

// The source step per output pixel: PyTorch's area_pixel_compute_scale.
inline double upsample_scale(int64_t in, int64_t out, bool align_corners, double scale_factor) {
  if (align_corners) return out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  if (scale_factor > 0) return 1.0 / scale_factor;
  return static_cast<double>(in) / static_cast<double>(out);
}

// PyTorch's CPU nearest keeps two shortcuts, out == in and out == 2 in, that
// a given scale factor can make differ from the formula; both twins keep them.
LOOM_UPSAMPLE_HD int64_t nearest_source(int64_t o, float r, int64_t in, int64_t out, bool exact) {
  if (!exact && out == in) return o;
  if (!exact && out == 2 * in) return o >> 1;
  const float s = exact ? (static_cast<float>(o) + 0.5f) * r : static_cast<float>(o) * r;
  const int64_t i = static_cast<int64_t>(floorf(s));
  return i < in - 1 ? i : in - 1;
}

// The two source taps of output o and the weight of the second.
template <typename T>
LOOM_UPSAMPLE_HD void linear_taps(int64_t o, T r, int64_t in, bool align_corners, int64_t* i0, int64_t* i1, T* w1) {
  T s = align_corners ? r * static_cast<T>(o) : r * (static_cast<T>(o) + T(0.5)) - T(0.5);
  if (s < T(0)) s = T(0);
  const int64_t a = static_cast<int64_t>(s);
  *i0 = a;
  *i1 = a < in - 1 ? a + 1 : a;
  *w1 = s - static_cast<T>(a);
}

// The cubic convolution kernel (A = -0.75) at |x| <= 1 and at 1 < |x| < 2.
template <typename T>
LOOM_UPSAMPLE_HD T cubic_near(T x) {
  constexpr T A = T(-0.75);
  return ((A + T(2)) * x - (A + T(3))) * x * x + T(1);
}
template <typename T>
LOOM_UPSAMPLE_HD T cubic_far(T x) {
  constexpr T A = T(-0.75);
  return ((A * x - T(5) * A) * x + T(8) * A) * x - T(4) * A;
}

// The four source taps of output o (clamped into [0, in - 1]) and their weights.
template <typename T>
LOOM_UPSAMPLE_HD void cubic_taps(int64_t o, T r, int64_t in, bool align_corners, int64_t* idx, T* w) {
  const T s = align_corners ? r * static_cast<T>(o) : r * (static_cast<T>(o) + T(0.5)) - T(0.5);
  int64_t i = static_cast<int64_t>(std::floor(s));
  if (i > in - 1) i = in - 1;
  T t = s - static_cast<T>(i);
  t = t < T(0) ? T(0) : (t > T(1) ? T(1) : t);
  w[0] = cubic_far(t + T(1));
  w[1] = cubic_near(t);
  w[2] = cubic_near(T(1) - t);
  w[3] = cubic_far(T(2) - t);
  for (int k = 0; k < 4; ++k) {
    const int64_t j = i - 1 + k;
    idx[k] = j < 0 ? 0 : (j > in - 1 ? in - 1 : j);
  }
}

namespace cpu {

// Nearest modes take every dtype, Bilinear and Bicubic float32 / float64.
void upsample2d_forward(DType dt, void* out, const void* in, const UpsampleParams& p);
// grad_in (overwritten) gets grad_out summed back onto the source pixels;
// float32 / float64. Deterministic: each plane is summed in output order.
void upsample2d_backward(DType dt, void* grad_in, const void* grad_out, const UpsampleParams& p);

}  // namespace cpu

namespace cuda {

// A thread per output element.
void upsample2d_forward(DType dt, void* out, const void* in, const UpsampleParams& p, cudaStream_t stream);
// Nearest: a thread per input element sums the run of outputs that read it
// (deterministic, no atomics). Bilinear: a thread per output element adds its
// four weighted taps with atomicAdd into the zeroed grad_in (the order of the
// additions is not fixed, as in PyTorch); Bicubic likewise with sixteen.
void upsample2d_backward(DType dt, void* grad_in, const void* grad_out, const UpsampleParams& p, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
