// Argument checks shared by transforms.cpp and transforms_resample.cpp (not
// part of the public API).
#pragma once
#include <array>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "multimodal/transforms.h"

namespace loom::multimodal::transforms::detail {

// x is a float image [C, H, W] or batch [B, C, H, W]; fn names the caller.
void check_images(const Tensor& x, const char* fn);

// {s} or {h, w}, positive.
std::pair<int64_t, int64_t> parse_size(const Shape& size, const char* fn);

// lo <= hi, both finite; `what` names the argument.
void check_range(const std::array<double, 2>& r, const char* fn, const char* what);

// One fill value, or one per channel of x.
void check_fill(const std::vector<double>& fill, const Tensor& x, const char* fn);

// The ranges of random_affine: degrees finite, translate fractions in
// [0, 1], scale positive, shears in (-90, 90).
void check_affine_ranges(const AffineRanges& r, const char* fn);

// random_resized_crop's scale and ratio ranges: positive, lo <= hi.
void check_resized_crop_ranges(const std::array<double, 2>& scale, const std::array<double, 2>& ratio, const char* fn);

// Applies f to every image of a batch (or to the one image) and restacks.
template <typename F>
Tensor per_image(const Tensor& x, F f) {
  if (x.dim() == 3) return f(x);
  TensorList out;
  out.reserve(x.size(0));
  for (int64_t b = 0; b < x.size(0); ++b) out.push_back(f(x.select(0, b)));
  return out.empty() ? x.clone() : stack(out);
}

// The factor ranges of color_jitter: brightness, contrast and saturation
// within [0, inf), hue within [-0.5, 0.5].
void check_jitter_ranges(const JitterRanges& r, const char* fn);

}  // namespace loom::multimodal::transforms::detail
