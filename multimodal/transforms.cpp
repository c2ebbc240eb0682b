// Image transforms of transforms.h made of tensor ops, the generators, and
// the Transform objects. Crops, pads and flips are views, copies and
// index_select of the input, so they work on any device; their results never
// share memory with the input. The host loops (resampling, colour) are in
// transforms_resample.cpp.
#include "multimodal/transforms.h"

#include <cmath>
#include <utility>

#include "multimodal/transforms_util.h"

#include "core/random.h"

namespace loom::multimodal {

namespace {

// splitmix64's finaliser: spreads the bits of a counter into a good seed.
uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Generator generator_from_global() {
  PhiloxState s = philox_reserve(Device(), 1);
  return Generator(mix64(s.seed ^ mix64(s.offset)));
}

Generator derive_generator(uint64_t seed, const std::vector<uint64_t>& keys) {
  uint64_t h = mix64(seed);
  for (uint64_t k : keys) h = mix64(h ^ mix64(k));
  return Generator(h);
}

uint64_t uniform_int(Generator& gen, uint64_t n) {
  LOOM_CHECK_VALUE(n >= 1, "uniform_int: n must be >= 1, got ", n);
  // Draws below 2^64 mod n would make the small results more likely: redraw them.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t r = gen();
    if (r >= threshold) return r % n;
  }
}

double uniform_real(Generator& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

namespace transforms {

namespace detail {

void check_images(const Tensor& x, const char* fn) {
  LOOM_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), fn,
             ": expected an image [C, H, W] or a batch [B, C, H, W], got shape ", x.defined() ? x.sizes() : Shape{});
  LOOM_CHECK_TYPE(x.is_floating_point(), fn, ": expected a float32 or float64 image, got ", dtype_name(x.dtype()),
                  " of shape ", x.sizes());
}

std::pair<int64_t, int64_t> parse_size(const Shape& size, const char* fn) {
  LOOM_CHECK_VALUE(size.size() == 1 || size.size() == 2, fn, ": size must be {s} or {h, w}, got ", size);
  const int64_t h = size[0], w = size.back();
  LOOM_CHECK_VALUE(h > 0 && w > 0, fn, ": size must be positive, got ", size);
  return {h, w};
}

void check_range(const std::array<double, 2>& r, const char* fn, const char* what) {
  LOOM_CHECK_VALUE(std::isfinite(r[0]) && std::isfinite(r[1]) && r[0] <= r[1], fn, ": ", what,
                   " must be a finite range {lo, hi} with lo <= hi, got {", r[0], ", ", r[1], "}");
}

void check_fill(const std::vector<double>& fill, const Tensor& x, const char* fn) {
  const auto C = static_cast<size_t>(x.size(-3));
  LOOM_CHECK_VALUE(fill.size() == 1 || fill.size() == C, fn, ": fill must hold one value or one per channel (", C,
                   ") of the image of shape ", x.sizes(), ", got ", fill.size(), " values");
}

}  // namespace detail

using detail::check_images;
using detail::check_range;
using detail::parse_size;
using detail::per_image;

namespace {

Tensor window(const Tensor& img, int64_t top, int64_t left, int64_t h, int64_t w) {
  const Tensor v = img.narrow(-2, top, h).narrow(-1, left, w);
  // A window covering the whole image is already contiguous, and contiguous()
  // would hand back the input's own memory.
  return v.is_contiguous() ? v.clone() : v.contiguous();
}

// {-v, v} for a non-negative amount v.
std::array<double, 2> symmetric(double v, const char* fn, const char* what) {
  LOOM_CHECK_VALUE(v >= 0.0 && std::isfinite(v), fn, ": ", what, " must be >= 0 (a range [-", what, ", ", what,
                   "]), got ", v);
  return {-v, v};
}

// RandomAffine's torchvision-style amounts as ranges; shear is along x only.
AffineRanges affine_ranges(double degrees, std::array<double, 2> translate, std::array<double, 2> scale, double shear) {
  const std::array<double, 2> sx = symmetric(shear, "transforms::RandomAffine", "shear");
  return AffineRanges{
      symmetric(degrees, "transforms::RandomAffine", "degrees"), translate, scale, {sx[0], sx[1], 0.0, 0.0}};
}

void check_probability(double p, const char* fn) {
  LOOM_CHECK_VALUE(p >= 0.0 && p <= 1.0, fn, ": p must be in [0, 1], got ", p);
}

}  // namespace

Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std) {
  check_images(x, "transforms::normalize");
  const int64_t C = x.size(-3);
  LOOM_CHECK(mean.size() == std.size() && (static_cast<int64_t>(mean.size()) == C || mean.size() == 1),
             "transforms::normalize: image of shape ", x.sizes(), " has ", C, " channels but mean has ", mean.size(),
             " and std ", std.size(), " values (expected ", C, " or 1 each)");
  for (double s : std) LOOM_CHECK_VALUE(s != 0.0, "transforms::normalize: std must be non-zero, got ", std);
  const Shape cshape = {static_cast<int64_t>(mean.size()), 1, 1};
  const Tensor m = from_vector(mean, cshape, x.device()).to(x.dtype());
  const Tensor s = from_vector(std, cshape, x.device()).to(x.dtype());
  return (x - m) / s;
}

Tensor crop(const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width) {
  check_images(x, "transforms::crop");
  LOOM_CHECK_VALUE(height > 0 && width > 0, "transforms::crop: height and width must be positive, got ", height, "x",
                   width);
  const int64_t H = x.size(-2), W = x.size(-1);
  if (top >= 0 && left >= 0 && top + height <= H && left + width <= W) return window(x, top, left, height, width);
  Shape shape = x.sizes();
  shape[shape.size() - 2] = height;
  shape.back() = width;
  Tensor out = zeros(shape, TensorOptions(x.dtype(), x.device()));
  // The part of the window inside the image, in image and in window coordinates.
  const int64_t r0 = std::max<int64_t>(top, 0), r1 = std::min(top + height, H);
  const int64_t c0 = std::max<int64_t>(left, 0), c1 = std::min(left + width, W);
  if (r0 < r1 && c0 < c1)
    out.narrow(-2, r0 - top, r1 - r0)
        .narrow(-1, c0 - left, c1 - c0)
        .copy_(x.narrow(-2, r0, r1 - r0).narrow(-1, c0, c1 - c0));
  return out;
}

Tensor center_crop(const Tensor& x, const Shape& size) {
  check_images(x, "transforms::center_crop");
  auto [h, w] = parse_size(size, "transforms::center_crop");
  const int64_t H = x.size(-2), W = x.size(-1);
  LOOM_CHECK(h <= H && w <= W, "transforms::center_crop: crop ", h, "x", w, " is larger than the image of shape ",
             x.sizes());
  return window(x, (H - h) / 2, (W - w) / 2, h, w);
}

Tensor resize_nearest(const Tensor& x, const Shape& size) {
  check_images(x, "transforms::resize_nearest");
  auto [h, w] = parse_size(size, "transforms::resize_nearest");
  // PyTorch's rule, in float as PyTorch computes it, so the chosen pixels match.
  auto source_index = [&](int64_t in, int64_t out) {
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    std::vector<int64_t> idx(out);
    for (int64_t i = 0; i < out; ++i)
      idx[i] = std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * scale)), in - 1);
    return from_vector(idx, {out}, x.device());
  };
  return x.index_select(x.dim() - 2, source_index(x.size(-2), h))
      .index_select(x.dim() - 1, source_index(x.size(-1), w));
}

Tensor resize(const Tensor& x, const Shape& size, Interpolation mode) {
  check_images(x, "transforms::resize");
  auto [h, w] = parse_size(size, "transforms::resize");
  if (size.size() == 1) {
    const int64_t H = x.size(-2), W = x.size(-1);
    LOOM_CHECK(H > 0 && W > 0, "transforms::resize: cannot resize an empty image of shape ", x.sizes());
    // torchvision truncates the long side: int(s * long / short).
    if (H <= W) {
      w = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(h) * static_cast<double>(W) / H));
    } else {
      h = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(w) * static_cast<double>(H) / W));
    }
  }
  return mode == Interpolation::Nearest ? resize_nearest(x, {h, w}) : resize_bilinear(x, {h, w});
}

Tensor horizontal_flip(const Tensor& x) {
  check_images(x, "transforms::horizontal_flip");
  return x.flip({-1});
}

Tensor vertical_flip(const Tensor& x) {
  check_images(x, "transforms::vertical_flip");
  return x.flip({-2});
}

Tensor random_crop(const Tensor& x, const Shape& size, int64_t padding, Generator& gen) {
  check_images(x, "transforms::random_crop");
  auto [h, w] = parse_size(size, "transforms::random_crop");
  LOOM_CHECK_VALUE(padding >= 0, "transforms::random_crop: padding must be >= 0, got ", padding);
  const int64_t H = x.size(-2) + 2 * padding, W = x.size(-1) + 2 * padding;
  LOOM_CHECK(h <= H && w <= W, "transforms::random_crop: crop ", h, "x", w, " is larger than the image of shape ",
             x.sizes(), " padded by ", padding);
  if (x.dim() == 4 && x.size(0) == 0) return empty({0, x.size(1), h, w}, TensorOptions(x.dtype(), x.device()));
  Tensor padded = x;
  if (padding > 0) {
    Shape ps = x.sizes();
    ps[ps.size() - 2] = H;
    ps[ps.size() - 1] = W;
    padded = zeros(ps, TensorOptions(x.dtype(), x.device()));
    padded.narrow(-2, padding, x.size(-2)).narrow(-1, padding, x.size(-1)).copy_(x);
  }
  // Copies of the sizes: lambdas may not capture structured bindings before C++20 (clang < 16 refuses).
  return per_image(padded, [&, h = h, w = w](const Tensor& img) {
    const int64_t top = static_cast<int64_t>(uniform_int(gen, static_cast<uint64_t>(H - h + 1)));
    const int64_t left = static_cast<int64_t>(uniform_int(gen, static_cast<uint64_t>(W - w + 1)));
    return window(img, top, left, h, w);
  });
}

Tensor random_horizontal_flip(const Tensor& x, double p, Generator& gen) {
  check_images(x, "transforms::random_horizontal_flip");
  check_probability(p, "transforms::random_horizontal_flip");
  return per_image(x, [&](const Tensor& img) { return uniform_real(gen) < p ? horizontal_flip(img) : img.clone(); });
}

Tensor random_vertical_flip(const Tensor& x, double p, Generator& gen) {
  check_images(x, "transforms::random_vertical_flip");
  check_probability(p, "transforms::random_vertical_flip");
  return per_image(x, [&](const Tensor& img) { return uniform_real(gen) < p ? vertical_flip(img) : img.clone(); });
}

// ---------------------------------------------------------------- composing

Transform compose(std::vector<Transform> steps) {
  for (size_t i = 0; i < steps.size(); ++i)
    LOOM_CHECK_VALUE(static_cast<bool>(steps[i]), "transforms::compose: step ", i, " is an empty function");
  return [steps = std::move(steps)](const Tensor& x, Generator& gen) {
    Tensor y = x;
    for (const Transform& t : steps) y = t(y, gen);
    return y;
  };
}

Compose::Compose(std::vector<Transform> steps) {
  for (size_t i = 0; i < steps.size(); ++i)
    LOOM_CHECK_VALUE(static_cast<bool>(steps[i]), "transforms::Compose: step ", i, " is an empty function");
  chain_ = compose(std::move(steps));
}

RandomRotation::RandomRotation(double degrees, std::vector<double> fill, Interpolation mode)
    : RandomRotation(symmetric(degrees, "transforms::RandomRotation", "degrees"), std::move(fill), mode) {}

RandomRotation::RandomRotation(std::array<double, 2> degrees, std::vector<double> fill, Interpolation mode)
    : degrees_(degrees), fill_(std::move(fill)), mode_(mode) {
  check_range(degrees_, "transforms::RandomRotation", "degrees");
  LOOM_CHECK_VALUE(!fill_.empty(), "transforms::RandomRotation: fill must hold at least one value");
}

Tensor RandomRotation::operator()(const Tensor& x, Generator& gen) const {
  return random_rotation(x, degrees_, gen, fill_, mode_);
}

RandomAffine::RandomAffine(double degrees, std::array<double, 2> translate, std::array<double, 2> scale, double shear,
                           std::vector<double> fill, Interpolation mode)
    : RandomAffine(affine_ranges(degrees, translate, scale, shear), std::move(fill), mode) {}

RandomAffine::RandomAffine(AffineRanges ranges, std::vector<double> fill, Interpolation mode)
    : ranges_(ranges), fill_(std::move(fill)), mode_(mode) {
  detail::check_affine_ranges(ranges_, "transforms::RandomAffine");
  LOOM_CHECK_VALUE(!fill_.empty(), "transforms::RandomAffine: fill must hold at least one value");
}

Tensor RandomAffine::operator()(const Tensor& x, Generator& gen) const {
  return random_affine(x, ranges_, gen, fill_, mode_);
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  check_probability(p, "transforms::RandomHorizontalFlip");
}

RandomVerticalFlip::RandomVerticalFlip(double p) : p_(p) { check_probability(p, "transforms::RandomVerticalFlip"); }

RandomResizedCrop::RandomResizedCrop(Shape size, std::array<double, 2> scale, std::array<double, 2> ratio,
                                     Interpolation mode)
    : size_(std::move(size)), scale_(scale), ratio_(ratio), mode_(mode) {
  parse_size(size_, "transforms::RandomResizedCrop");
  detail::check_resized_crop_ranges(scale_, ratio_, "transforms::RandomResizedCrop");
}

Tensor RandomResizedCrop::operator()(const Tensor& x, Generator& gen) const {
  return random_resized_crop(x, size_, scale_, ratio_, gen, mode_);
}

RandomCrop::RandomCrop(Shape size, int64_t padding) : size_(std::move(size)), padding_(padding) {
  parse_size(size_, "transforms::RandomCrop");
  LOOM_CHECK_VALUE(padding >= 0, "transforms::RandomCrop: padding must be >= 0, got ", padding);
}

CenterCrop::CenterCrop(Shape size) : size_(std::move(size)) { parse_size(size_, "transforms::CenterCrop"); }

Resize::Resize(Shape size, Interpolation mode) : size_(std::move(size)), mode_(mode) {
  parse_size(size_, "transforms::Resize");
}

ColorJitter::ColorJitter(double brightness, double contrast, double saturation, double hue)
    : ranges_(jitter_ranges(brightness, contrast, saturation, hue)) {}

ColorJitter::ColorJitter(JitterRanges ranges) : ranges_(ranges) {
  detail::check_jitter_ranges(ranges_, "transforms::ColorJitter");
}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
  LOOM_CHECK_VALUE(!mean_.empty() && mean_.size() == std_.size(),
                   "transforms::Normalize: mean and std must hold "
                   "the same number (>= 1) of values, got ",
                   mean_.size(), " and ", std_.size());
  for (double s : std_) LOOM_CHECK_VALUE(s != 0.0, "transforms::Normalize: std must be non-zero, got ", std_);
}

}  // namespace transforms

}  // namespace loom::multimodal
