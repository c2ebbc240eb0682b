// Image transforms of transforms.h. Crops, pads and flips are views, copies
// and index_select of the input, so they work on any device; their results
// never share memory with the input.
#include "multimodal/transforms.h"

#include <cmath>
#include <utility>

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

namespace {

void check_images(const Tensor& x, const char* fn) {
  LOOM_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), fn,
             ": expected an image [C, H, W] or a batch [B, C, H, W], got shape ", x.defined() ? x.sizes() : Shape{});
  LOOM_CHECK_TYPE(x.is_floating_point(), fn, ": expected a float32 or float64 image, got ", dtype_name(x.dtype()),
                  " of shape ", x.sizes());
}

// {s} or {h, w}, positive.
std::pair<int64_t, int64_t> parse_size(const Shape& size, const char* fn) {
  LOOM_CHECK_VALUE(size.size() == 1 || size.size() == 2, fn, ": size must be {s} or {h, w}, got ", size);
  const int64_t h = size[0], w = size.back();
  LOOM_CHECK_VALUE(h > 0 && w > 0, fn, ": size must be positive, got ", size);
  return {h, w};
}

// Applies f to every image of a batch (or to the one image) and restacks.
template <typename F>
Tensor per_image(const Tensor& x, F f) {
  if (x.dim() == 3) return f(x);
  TensorList out;
  out.reserve(x.size(0));
  for (int64_t b = 0; b < x.size(0); ++b) out.push_back(f(x.select(0, b)));
  return out.empty() ? x.clone() : stack(out);
}

Tensor window(const Tensor& img, int64_t top, int64_t left, int64_t h, int64_t w) {
  const Tensor v = img.narrow(-2, top, h).narrow(-1, left, w);
  // A window covering the whole image is already contiguous, and contiguous()
  // would hand back the input's own memory.
  return v.is_contiguous() ? v.clone() : v.contiguous();
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

Tensor horizontal_flip(const Tensor& x) {
  check_images(x, "transforms::horizontal_flip");
  const int64_t W = x.size(-1);
  return x.index_select(x.dim() - 1, arange(Scalar(W - 1), Scalar(int64_t{-1}), Scalar(int64_t{-1})).to(x.device()));
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
  LOOM_CHECK_VALUE(p >= 0.0 && p <= 1.0, "transforms::random_horizontal_flip: p must be in [0, 1], got ", p);
  return per_image(x, [&](const Tensor& img) { return uniform_real(gen) < p ? horizontal_flip(img) : img.clone(); });
}

Transform compose(std::vector<Transform> steps) {
  for (size_t i = 0; i < steps.size(); ++i)
    LOOM_CHECK_VALUE(static_cast<bool>(steps[i]), "transforms::compose: step ", i, " is an empty function");
  return [steps = std::move(steps)](const Tensor& x, Generator& gen) {
    Tensor y = x;
    for (const Transform& t : steps) y = t(y, gen);
    return y;
  };
}

}  // namespace transforms

}  // namespace loom::multimodal
