// Resizing kernels (F.interpolate) and padding (F.pad): the contract of kernels/cpu/upsample.cpp,
// kernels/cpu/pad.cpp and kernels/cuda/upsample.cu (see kernels/contract.h). Resizing: layout
// [N, C, H, W] contiguous, seen as NC planes [H, W] -> [OH, OW]. Padding: at the end of this file.
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
#include "kernels/loops.h"

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

// ---- padding (F.pad) ----
// A contiguous input of `ndim` dims padded by left[d] before and out_sizes[d] - in_sizes[d] - left[d]
// after each dim d into a contiguous output. Output index o of dim d reads source pad_source(o - left[d]):
// Constant: none outside [0, n) (the output is `value`; negative pads crop); Reflect: mirrored without
// repeating the edge (pads < n); Replicate: the edge repeated; Circular: wrapped around (pads <= n).
enum class PadMode : int8_t { Constant, Reflect, Replicate, Circular };

struct PadParams {
  int ndim = 1;
  int64_t in_sizes[kMaxDims] = {1}, out_sizes[kMaxDims] = {1}, left[kMaxDims] = {0};
  PadMode mode = PadMode::Constant;
  double value = 0;
};

// The source index of output o of a dim of n elements padded by `left` before it; -1 for none (Constant).
LOOM_UPSAMPLE_HD int64_t pad_source(int64_t o, int64_t left, int64_t n, PadMode m) {
  int64_t i = o - left;
  switch (m) {
    case PadMode::Reflect: i = i < 0 ? -i : i; return i >= n ? 2 * (n - 1) - i : i;
    case PadMode::Replicate: return i < 0 ? 0 : (i >= n ? n - 1 : i);
    case PadMode::Circular: return i < 0 ? i + n : (i >= n ? i - n : i);
    default: return i < 0 || i >= n ? -1 : i;
  }
}

// The source offset of output position `index` of dims [0, ndim) of p (row-major over out_sizes), with
// `stride` the source elements per step of dim ndim - 1; -1 when the output is `value` (Constant).
LOOM_UPSAMPLE_HD int64_t pad_source_offset(const PadParams& p, int ndim, int64_t index, int64_t stride) {
  int64_t src = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t s = pad_source(index % p.out_sizes[d], p.left[d], p.in_sizes[d], p.mode);
    if (s < 0) return -1;
    index /= p.out_sizes[d];
    src += s * stride;
    stride *= p.in_sizes[d];
  }
  return src;
}

// The outputs o (in increasing order, at most three, or the run [first, last] of an edge under Replicate) of
// a dim of `out` elements that read source i: f(o) for each. The adjoint of pad_source, for the backward.
template <typename F>
LOOM_UPSAMPLE_HD void pad_readers(int64_t i, int64_t left, int64_t n, int64_t out, PadMode m, F f) {
  const int64_t direct = i + left;
  if (m == PadMode::Replicate) {
    const int64_t lo = i == 0 ? 0 : direct, hi = i == n - 1 ? out - 1 : direct;
    for (int64_t o = lo; o <= hi; ++o) f(o);
    return;
  }
  if (m == PadMode::Reflect && i >= 1 && i <= left) f(left - i);
  if (m == PadMode::Circular && direct - n >= 0) f(direct - n);
  if (direct >= 0 && direct < out) f(direct);
  if (m == PadMode::Reflect && i <= n - 2 && left + 2 * (n - 1) - i < out) f(left + 2 * (n - 1) - i);
  if (m == PadMode::Circular && direct + n < out) f(direct + n);
}

namespace cpu {

// Every dtype (value converted as copy does).
void pad_forward(DType dt, void* out, const void* in, const PadParams& p);
// The adjoint along one dim: grad_in [outer, n, inner] (overwritten) gets, for each source i, the sum of
// grad_out [outer, out, inner] over the outputs that read i, in increasing order (deterministic);
// float32 / float64.
void pad_backward_dim(DType dt, void* grad_in, const void* grad_out, int64_t outer, int64_t out, int64_t n,
                      int64_t inner, int64_t left, PadMode mode);

// Nearest modes take every dtype, Bilinear and Bicubic float32 / float64.
void upsample2d_forward(DType dt, void* out, const void* in, const UpsampleParams& p);
// grad_in (overwritten) gets grad_out summed back onto the source pixels;
// float32 / float64. Deterministic: each plane is summed in output order.
void upsample2d_backward(DType dt, void* grad_in, const void* grad_out, const UpsampleParams& p);

}  // namespace cpu

namespace cuda {

// A thread per output element.
void pad_forward(DType dt, void* out, const void* in, const PadParams& p, cudaStream_t stream);
// A thread per grad_in element, summing its readers in order (no atomics).
void pad_backward_dim(DType dt, void* grad_in, const void* grad_out, int64_t outer, int64_t out, int64_t n,
                      int64_t inner, int64_t left, PadMode mode, cudaStream_t stream);

// A thread per output element.
void upsample2d_forward(DType dt, void* out, const void* in, const UpsampleParams& p, cudaStream_t stream);
// Nearest: a thread per input element sums the run of outputs that read it
// (deterministic, no atomics). Bilinear: a thread per output element adds its
// four weighted taps with atomicAdd into the zeroed grad_in (the order of the
// additions is not fixed, as in PyTorch); Bicubic likewise with sixteen.
void upsample2d_backward(DType dt, void* grad_in, const void* grad_out, const UpsampleParams& p, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
