// The host loops of transforms.h: the antialiased bilinear resize, rotations
// and affine warps (inverse mapping with bilinear or nearest sampling), the
// resized crops, and the colour adjustments.
//
// Coordinates: pixel (i, j) covers [j, j + 1) x [i, i + 1) and is sampled at
// its centre (j + 0.5, i + 0.5); the image centre is (W / 2, H / 2). A warp
// maps each output pixel's centre back into the input and reads there, so
// every output pixel is written once. These are the conventions of
// F.grid_sample(align_corners=False) that torchvision's affine uses, under
// which a whole-pixel shift or a quarter turn of a square image reads pixel
// centres exactly.
#include <algorithm>
#include <cmath>
#include <utility>

#include "multimodal/transforms.h"
#include "multimodal/transforms_util.h"

namespace loom::multimodal::transforms {

namespace detail {

void check_affine_ranges(const AffineRanges& r, const char* fn) {
  check_range(r.degrees, fn, "degrees");
  for (double t : r.translate)
    LOOM_CHECK_VALUE(t >= 0.0 && t <= 1.0, fn, ": translate must be fractions in [0, 1], got {", r.translate[0], ", ",
                     r.translate[1], "}");
  check_range(r.scale, fn, "scale");
  LOOM_CHECK_VALUE(r.scale[0] > 0.0, fn, ": scale must be positive, got {", r.scale[0], ", ", r.scale[1], "}");
  check_range({r.shear[0], r.shear[1]}, fn, "shear (x)");
  check_range({r.shear[2], r.shear[3]}, fn, "shear (y)");
  for (double s : r.shear)
    LOOM_CHECK_VALUE(std::fabs(s) < 90.0, fn, ": shear angles must be in (-90, 90) degrees, got ", s);
}

void check_resized_crop_ranges(const std::array<double, 2>& scale, const std::array<double, 2>& ratio, const char* fn) {
  check_range(scale, fn, "scale");
  check_range(ratio, fn, "ratio");
  LOOM_CHECK_VALUE(scale[0] > 0.0 && ratio[0] > 0.0, fn, ": scale and ratio must be positive, got scale {", scale[0],
                   ", ", scale[1], "} and ratio {", ratio[0], ", ", ratio[1], "}");
}

void check_jitter_ranges(const JitterRanges& r, const char* fn) {
  check_range(r.brightness, fn, "brightness");
  check_range(r.contrast, fn, "contrast");
  check_range(r.saturation, fn, "saturation");
  check_range(r.hue, fn, "hue");
  for (const auto* range : {&r.brightness, &r.contrast, &r.saturation})
    LOOM_CHECK_VALUE((*range)[0] >= 0.0, fn, ": brightness, contrast and saturation factors must be >= 0, got {",
                     (*range)[0], ", ", (*range)[1], "}");
  LOOM_CHECK_VALUE(r.hue[0] >= -0.5 && r.hue[1] <= 0.5, fn, ": hue factors must be in [-0.5, 0.5], got {", r.hue[0],
                   ", ", r.hue[1], "}");
}

}  // namespace detail

using detail::check_images;
using detail::parse_size;

namespace {

// ---------------------------------------------------------------- host buffers

// A contiguous host copy of x's images as [N, C, H, W] (N = 1 for an image),
// which the loops below write in place; done() puts it back in x's shape on
// x's device.
struct HostImages {
  Tensor data;
  int64_t N, C, H, W;
  explicit HostImages(const Tensor& x) : N(x.dim() == 4 ? x.size(0) : 1), C(x.size(-3)), H(x.size(-2)), W(x.size(-1)) {
    data = empty({N, C, H, W}, TensorOptions(x.dtype()));
    data.reshape(x.sizes()).copy_(x.detach());
  }
  Tensor done(const Tensor& x) const { return data.reshape(x.sizes()).to(x.device()); }
};

// ---------------------------------------------------------------- bilinear resize

// For each output index, the first input index and the weights of the inputs
// that feed it (a triangle of radius max(scale, 1) around the output pixel's
// centre mapped into the input, renormalised where it is cut by an edge).
struct Taps {
  std::vector<int64_t> first, count;
  std::vector<double> weights;  // out x width, row i starts at i * width
  int64_t width = 0;
};

Taps make_taps(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double radius = std::max(scale, 1.0);
  Taps t;
  t.width = static_cast<int64_t>(std::ceil(radius)) * 2 + 1;
  t.first.resize(out);
  t.count.resize(out);
  t.weights.assign(static_cast<size_t>(out * t.width), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const double centre = (static_cast<double>(i) + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(centre - radius + 0.5)));
    const int64_t hi = std::min<int64_t>(in, static_cast<int64_t>(std::floor(centre + radius + 0.5)));
    double* w = t.weights.data() + i * t.width;
    double sum = 0.0;
    for (int64_t x = lo; x < hi; ++x) {
      w[x - lo] = std::max(0.0, 1.0 - std::fabs((static_cast<double>(x) + 0.5 - centre) / radius));
      sum += w[x - lo];
    }
    for (int64_t k = 0; k < hi - lo; ++k) w[k] /= sum;
    t.first[i] = lo;
    t.count[i] = hi - lo;
  }
  return t;
}

// planes of [rows, in] -> [rows, out] along the last axis with stride 1, or
// along the rows when `vertical` (input [in, cols] -> [out, cols]).
template <typename T>
void resample(const T* src, T* dst, int64_t planes, int64_t rows, int64_t cols, const Taps& t, bool vertical) {
  const int64_t out = static_cast<int64_t>(t.first.size());
  for (int64_t p = 0; p < planes; ++p) {
    const T* s = src + p * rows * cols;
    if (vertical) {
      T* d = dst + p * out * cols;
      for (int64_t i = 0; i < out; ++i) {
        const double* w = t.weights.data() + i * t.width;
        for (int64_t x = 0; x < cols; ++x) {
          double acc = 0.0;
          for (int64_t k = 0; k < t.count[i]; ++k) acc += w[k] * s[(t.first[i] + k) * cols + x];
          d[i * cols + x] = static_cast<T>(acc);
        }
      }
    } else {
      T* d = dst + p * rows * out;
      for (int64_t y = 0; y < rows; ++y) {
        const T* row = s + y * cols;
        for (int64_t i = 0; i < out; ++i) {
          const double* w = t.weights.data() + i * t.width;
          double acc = 0.0;
          for (int64_t k = 0; k < t.count[i]; ++k) acc += w[k] * row[t.first[i] + k];
          d[y * out + i] = static_cast<T>(acc);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- warps

// Maps an output pixel back into the input: p_in = m (p_out - t), both
// relative to the image centre.
struct Warp {
  double m00, m01, m10, m11, tx, ty;
};

// cos and sin of an angle in degrees, exact at multiples of 90.
std::pair<double, double> cos_sin(double degrees) {
  double r = std::fmod(degrees, 360.0);
  if (r < 0) r += 360.0;
  if (r == 0.0) return {1.0, 0.0};
  if (r == 90.0) return {0.0, 1.0};
  if (r == 180.0) return {-1.0, 0.0};
  if (r == 270.0) return {0.0, -1.0};
  const double rad = degrees * (M_PI / 180.0);
  return {std::cos(rad), std::sin(rad)};
}

// The inverse of translate + scale R(angle) ShearY ShearX (transforms.h):
// (ShearY ShearX)^-1 R^-1 / scale, with R = [[c, s], [-s, c]] counter-clockwise
// on screen (y points down).
Warp make_warp(double angle, double tx, double ty, double scale, double shear_x, double shear_y) {
  const auto [c, s] = cos_sin(angle);
  const double kx = std::tan(shear_x * (M_PI / 180.0)), ky = std::tan(shear_y * (M_PI / 180.0));
  Warp w;
  w.m00 = ((1.0 + kx * ky) * c - kx * s) / scale;
  w.m01 = (-(1.0 + kx * ky) * s - kx * c) / scale;
  w.m10 = (s - ky * c) / scale;
  w.m11 = (c + ky * s) / scale;
  w.tx = tx;
  w.ty = ty;
  return w;
}

// One image [C, H, W]. A bilinear tap outside the image reads fill, which
// blends fill into the border as torchvision's mask does.
template <typename T>
void warp_image(const T* src, T* dst, int64_t C, int64_t H, int64_t W, const Warp& w, const std::vector<double>& fill,
                Interpolation mode) {
  const double cx = 0.5 * static_cast<double>(W), cy = 0.5 * static_cast<double>(H);
  const int64_t plane = H * W;
  auto fill_of = [&](int64_t c) { return fill.size() == 1 ? fill[0] : fill[c]; };
  for (int64_t i = 0; i < H; ++i) {
    for (int64_t j = 0; j < W; ++j) {
      const double ox = static_cast<double>(j) + 0.5 - cx - w.tx, oy = static_cast<double>(i) + 0.5 - cy - w.ty;
      const double sx = w.m00 * ox + w.m01 * oy + cx - 0.5, sy = w.m10 * ox + w.m11 * oy + cy - 0.5;
      T* d = dst + i * W + j;
      if (mode == Interpolation::Nearest) {
        const double rx = std::nearbyint(sx), ry = std::nearbyint(sy);
        const bool inside = rx >= 0.0 && rx < static_cast<double>(W) && ry >= 0.0 && ry < static_cast<double>(H);
        const int64_t at = inside ? static_cast<int64_t>(ry) * W + static_cast<int64_t>(rx) : 0;
        for (int64_t c = 0; c < C; ++c) d[c * plane] = inside ? src[c * plane + at] : static_cast<T>(fill_of(c));
        continue;
      }
      const double fx = std::floor(sx), fy = std::floor(sy);
      // No tap inside (this also catches NaN coordinates): all fill.
      if (!(fx >= -1.0 && fx < static_cast<double>(W) && fy >= -1.0 && fy < static_cast<double>(H))) {
        for (int64_t c = 0; c < C; ++c) d[c * plane] = static_cast<T>(fill_of(c));
        continue;
      }
      const auto x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
      const double ax = sx - fx, ay = sy - fy;
      const int64_t xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
      const double wx[2] = {1.0 - ax, ax}, wy[2] = {1.0 - ay, ay};
      for (int64_t c = 0; c < C; ++c) {
        double acc = 0.0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            const bool inside = ys[a] >= 0 && ys[a] < H && xs[b] >= 0 && xs[b] < W;
            const double v = inside ? static_cast<double>(src[c * plane + ys[a] * W + xs[b]]) : fill_of(c);
            acc += wy[a] * wx[b] * v;
          }
        d[c * plane] = static_cast<T>(acc);
      }
    }
  }
}

// Warps image n of x by warp_of(n) (called in image order, so random
// parameters are drawn in index order).
template <typename F>
Tensor warp_images(const Tensor& x, const std::vector<double>& fill, Interpolation mode, F warp_of) {
  const HostImages src(x);
  Tensor out = empty_like(src.data);
  const int64_t per = src.C * src.H * src.W;
  LOOM_DISPATCH_FLOAT(x.dtype(), "transforms::affine", [&] {
    const scalar_t* s = src.data.data_ptr<scalar_t>();
    scalar_t* d = out.data_ptr<scalar_t>();
    for (int64_t n = 0; n < src.N; ++n)
      warp_image(s + n * per, d + n * per, src.C, src.H, src.W, warp_of(n), fill, mode);
  });
  return out.reshape(x.sizes()).to(x.device());
}

void check_warp_args(const Tensor& x, const std::vector<double>& fill, double angle, double scale, const char* fn) {
  check_images(x, fn);
  detail::check_fill(fill, x, fn);
  LOOM_CHECK_VALUE(std::isfinite(angle), fn, ": the angle must be finite, got ", angle);
  LOOM_CHECK_VALUE(scale > 0.0 && std::isfinite(scale), fn, ": scale must be positive, got ", scale);
}

double uniform_in(Generator& gen, const std::array<double, 2>& r) { return r[0] + (r[1] - r[0]) * uniform_real(gen); }

// ---------------------------------------------------------------- colour

constexpr double kRed = 0.2989, kGreen = 0.587, kBlue = 0.114;  // torchvision's rgb_to_grayscale

void check_colour_channels(const Tensor& x, const char* fn) {
  LOOM_CHECK(x.size(-3) == 1 || x.size(-3) == 3, fn, ": expected 1 or 3 channels, got an image of shape ", x.sizes());
}

void check_factor(double f, const char* fn) {
  LOOM_CHECK_VALUE(f >= 0.0 && std::isfinite(f), fn, ": the factor must be >= 0, got ", f);
}

template <typename T>
T clamp01(double v) {
  return static_cast<T>(std::min(1.0, std::max(0.0, v)));
}

// In place on one image [C, H, W] of p = H W pixels per channel.
template <typename T>
void brightness(T* img, int64_t C, int64_t p, double f) {
  for (int64_t i = 0; i < C * p; ++i) img[i] = clamp01<T>(f * img[i]);
}

template <typename T>
double grey(const T* img, int64_t C, int64_t p, int64_t i) {
  return C == 1 ? static_cast<double>(img[i]) : kRed * img[i] + kGreen * img[p + i] + kBlue * img[2 * p + i];
}

template <typename T>
void contrast(T* img, int64_t C, int64_t p, double f) {
  double mean = 0.0;
  for (int64_t i = 0; i < p; ++i) mean += grey(img, C, p, i);
  mean = p > 0 ? mean / static_cast<double>(p) : 0.0;
  for (int64_t i = 0; i < C * p; ++i) img[i] = clamp01<T>(f * img[i] + (1.0 - f) * mean);
}

template <typename T>
void saturation(T* img, int64_t C, int64_t p, double f) {
  if (C == 1) return;
  for (int64_t i = 0; i < p; ++i) {
    const double g = grey(img, C, p, i);
    for (int64_t c = 0; c < 3; ++c) img[c * p + i] = clamp01<T>(f * img[c * p + i] + (1.0 - f) * g);
  }
}

template <typename T>
void hue(T* img, int64_t C, int64_t p, double f) {
  if (C == 1) return;
  for (int64_t i = 0; i < p; ++i) {
    const double r = img[i], g = img[p + i], b = img[2 * p + i];
    const double mx = std::max({r, g, b}), mn = std::min({r, g, b}), delta = mx - mn;
    const double v = mx, s = mx > 0.0 ? delta / mx : 0.0;
    double h = 0.0;
    if (delta > 0.0) {
      if (mx == r) {
        h = (g - b) / delta;
      } else if (mx == g) {
        h = (b - r) / delta + 2.0;
      } else {
        h = (r - g) / delta + 4.0;
      }
      h /= 6.0;
    }
    h += f;
    h -= std::floor(h);
    const double h6 = h * 6.0;
    const double sector = std::floor(h6), frac = h6 - sector;
    const double pp = v * (1.0 - s), q = v * (1.0 - s * frac), t = v * (1.0 - s * (1.0 - frac));
    double rgb[3];
    switch (static_cast<int>(sector) % 6) {
      case 0: rgb[0] = v, rgb[1] = t, rgb[2] = pp; break;
      case 1: rgb[0] = q, rgb[1] = v, rgb[2] = pp; break;
      case 2: rgb[0] = pp, rgb[1] = v, rgb[2] = t; break;
      case 3: rgb[0] = pp, rgb[1] = q, rgb[2] = v; break;
      case 4: rgb[0] = t, rgb[1] = pp, rgb[2] = v; break;
      default: rgb[0] = v, rgb[1] = pp, rgb[2] = q; break;
    }
    for (int64_t c = 0; c < 3; ++c) img[c * p + i] = static_cast<T>(rgb[c]);
  }
}

enum Adjustment { kBrightness, kContrast, kSaturation, kHue };

template <typename T>
void adjust(Adjustment a, T* img, int64_t C, int64_t p, double f) {
  switch (a) {
    case kBrightness: brightness(img, C, p, f); break;
    case kContrast: contrast(img, C, p, f); break;
    case kSaturation: saturation(img, C, p, f); break;
    case kHue: hue(img, C, p, f); break;
  }
}

// Runs f(image pointer, C, H W, n) on a host copy of each image of x, in order.
template <typename F>
Tensor map_images(const Tensor& x, const char* fn, F f) {
  HostImages h(x);
  const int64_t p = h.H * h.W;
  LOOM_DISPATCH_FLOAT(x.dtype(), fn, [&] {
    scalar_t* d = h.data.data_ptr<scalar_t>();
    for (int64_t n = 0; n < h.N; ++n) f(d + n * h.C * p, h.C, p, n);
  });
  return h.done(x);
}

Tensor adjust_one(const Tensor& x, double factor, Adjustment a, const char* fn) {
  check_images(x, fn);
  if (a != kBrightness) check_colour_channels(x, fn);
  if (a == kHue) {
    LOOM_CHECK_VALUE(factor >= -0.5 && factor <= 0.5, fn, ": the factor must be in [-0.5, 0.5], got ", factor);
  } else {
    check_factor(factor, fn);
  }
  return map_images(x, fn, [&](auto* img, int64_t C, int64_t p, int64_t) { adjust(a, img, C, p, factor); });
}

}  // namespace

// ---------------------------------------------------------------- resize

Tensor resize_bilinear(const Tensor& x, const Shape& size) {
  LOOM_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4),
             "resize_bilinear: expected images [C, H, W] or [B, C, H, W], got shape ",
             x.defined() ? x.sizes() : Shape{});
  LOOM_CHECK_TYPE(x.is_floating_point(), "resize_bilinear: expected float images, got ", dtype_name(x.dtype()),
                  " (convert integer pixels with x.to(Float32) / 255)");
  LOOM_CHECK_VALUE((size.size() == 1 || size.size() == 2) && size[0] > 0 && size.back() > 0,
                   "resize_bilinear: size must be {h, w} or {s} with positive entries, got ", size);
  const int64_t h = size[0], w = size.back();
  const int64_t H = x.size(-2), W = x.size(-1);
  LOOM_CHECK(H > 0 && W > 0, "resize_bilinear: cannot resize an empty image of shape ", x.sizes());
  Shape out_shape = x.sizes();
  out_shape[out_shape.size() - 2] = h;
  out_shape.back() = w;
  const int64_t planes = x.numel() / (H * W);
  Tensor src = x.detach().cpu().contiguous();
  Tensor mid = (W == w) ? src : empty({planes, H, w}, TensorOptions(x.dtype()));
  Tensor out = (H == h) ? mid : empty({planes, h, w}, TensorOptions(x.dtype()));
  LOOM_DISPATCH_FLOAT(x.dtype(), "resize_bilinear", [&] {
    if (W != w) resample(src.data_ptr<scalar_t>(), mid.data_ptr<scalar_t>(), planes, H, W, make_taps(W, w), false);
    if (H != h) resample(mid.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), planes, H, w, make_taps(H, h), true);
  });
  if (out.data_ptr() == src.data_ptr()) out = src.clone();
  return out.reshape(out_shape).to(x.device());
}

// ---------------------------------------------------------------- warps

Tensor rotate(const Tensor& x, double degrees, const std::vector<double>& fill, Interpolation mode) {
  check_warp_args(x, fill, degrees, 1.0, "transforms::rotate");
  const Warp w = make_warp(degrees, 0.0, 0.0, 1.0, 0.0, 0.0);
  return warp_images(x, fill, mode, [&](int64_t) { return w; });
}

Tensor affine(const Tensor& x, double angle, std::array<double, 2> translate, double scale, std::array<double, 2> shear,
              const std::vector<double>& fill, Interpolation mode) {
  const char* fn = "transforms::affine";
  check_warp_args(x, fill, angle, scale, fn);
  LOOM_CHECK_VALUE(std::isfinite(translate[0]) && std::isfinite(translate[1]), fn, ": translate must be finite, got {",
                   translate[0], ", ", translate[1], "}");
  for (double s : shear)
    LOOM_CHECK_VALUE(std::fabs(s) < 90.0, fn, ": shear angles must be in (-90, 90) degrees, got {", shear[0], ", ",
                     shear[1], "}");
  const Warp w = make_warp(angle, translate[0], translate[1], scale, shear[0], shear[1]);
  return warp_images(x, fill, mode, [&](int64_t) { return w; });
}

Tensor random_rotation(const Tensor& x, std::array<double, 2> degrees, Generator& gen, const std::vector<double>& fill,
                       Interpolation mode) {
  const char* fn = "transforms::random_rotation";
  check_warp_args(x, fill, 0.0, 1.0, fn);
  detail::check_range(degrees, fn, "degrees");
  return warp_images(x, fill, mode, [&](int64_t) { return make_warp(uniform_in(gen, degrees), 0, 0, 1, 0, 0); });
}

Tensor random_affine(const Tensor& x, const AffineRanges& r, Generator& gen, const std::vector<double>& fill,
                     Interpolation mode) {
  const char* fn = "transforms::random_affine";
  check_warp_args(x, fill, 0.0, 1.0, fn);
  detail::check_affine_ranges(r, fn);
  const double max_dx = r.translate[0] * static_cast<double>(x.size(-1));
  const double max_dy = r.translate[1] * static_cast<double>(x.size(-2));
  return warp_images(x, fill, mode, [&](int64_t) {
    const double angle = uniform_in(gen, r.degrees);
    // torchvision rounds the shift to whole pixels (half to even, as Python's round).
    const double tx = std::nearbyint(uniform_in(gen, {-max_dx, max_dx}));
    const double ty = std::nearbyint(uniform_in(gen, {-max_dy, max_dy}));
    const double scale = uniform_in(gen, r.scale);
    const double sx = uniform_in(gen, {r.shear[0], r.shear[1]});
    const double sy = uniform_in(gen, {r.shear[2], r.shear[3]});
    return make_warp(angle, tx, ty, scale, sx, sy);
  });
}

Tensor random_resized_crop(const Tensor& x, const Shape& size, std::array<double, 2> scale, std::array<double, 2> ratio,
                           Generator& gen, Interpolation mode) {
  const char* fn = "transforms::random_resized_crop";
  check_images(x, fn);
  parse_size(size, fn);
  detail::check_resized_crop_ranges(scale, ratio, fn);
  const int64_t H = x.size(-2), W = x.size(-1);
  LOOM_CHECK(H > 0 && W > 0, fn, ": cannot crop an empty image of shape ", x.sizes());
  const Shape out_size = {size[0], size.back()};
  const std::array<double, 2> log_ratio = {std::log(ratio[0]), std::log(ratio[1])};
  const double area = static_cast<double>(H) * static_cast<double>(W);
  return detail::per_image(x, [&](const Tensor& img) {
    int64_t top = -1, left = 0, h = H, w = W;
    for (int attempt = 0; attempt < 10 && top < 0; ++attempt) {
      const double target = area * uniform_in(gen, scale);
      const double aspect = std::exp(uniform_in(gen, log_ratio));
      const auto cw = static_cast<int64_t>(std::nearbyint(std::sqrt(target * aspect)));
      const auto ch = static_cast<int64_t>(std::nearbyint(std::sqrt(target / aspect)));
      if (cw > 0 && cw <= W && ch > 0 && ch <= H) {
        h = ch;
        w = cw;
        top = static_cast<int64_t>(uniform_int(gen, static_cast<uint64_t>(H - h + 1)));
        left = static_cast<int64_t>(uniform_int(gen, static_cast<uint64_t>(W - w + 1)));
      }
    }
    if (top < 0) {
      // torchvision's fallback: the whole image, cut to the nearest allowed aspect ratio.
      const double in_ratio = static_cast<double>(W) / static_cast<double>(H);
      if (in_ratio < ratio[0]) {
        w = W;
        h = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(W / ratio[0])));
      } else if (in_ratio > ratio[1]) {
        h = H;
        w = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(H * ratio[1])));
      }
      top = (H - h) / 2;
      left = (W - w) / 2;
    }
    const Tensor window = img.narrow(-2, top, h).narrow(-1, left, w);
    return mode == Interpolation::Nearest ? resize_nearest(window, out_size) : resize_bilinear(window, out_size);
  });
}

// ---------------------------------------------------------------- colour

Tensor adjust_brightness(const Tensor& x, double factor) {
  return adjust_one(x, factor, kBrightness, "transforms::adjust_brightness");
}
Tensor adjust_contrast(const Tensor& x, double factor) {
  return adjust_one(x, factor, kContrast, "transforms::adjust_contrast");
}
Tensor adjust_saturation(const Tensor& x, double factor) {
  return adjust_one(x, factor, kSaturation, "transforms::adjust_saturation");
}
Tensor adjust_hue(const Tensor& x, double factor) { return adjust_one(x, factor, kHue, "transforms::adjust_hue"); }

JitterRanges jitter_ranges(double brightness, double contrast, double saturation, double hue) {
  const char* fn = "transforms::ColorJitter";
  auto around_one = [&](double v, const char* what) {
    LOOM_CHECK_VALUE(v >= 0.0 && std::isfinite(v), fn, ": ", what, " must be >= 0, got ", v);
    return std::array<double, 2>{std::max(0.0, 1.0 - v), 1.0 + v};
  };
  LOOM_CHECK_VALUE(hue >= 0.0 && hue <= 0.5, fn, ": hue must be in [0, 0.5], got ", hue);
  return JitterRanges{around_one(brightness, "brightness"),
                      around_one(contrast, "contrast"),
                      around_one(saturation, "saturation"),
                      {-hue, hue}};
}

Tensor color_jitter(const Tensor& x, const JitterRanges& r, Generator& gen) {
  const char* fn = "transforms::color_jitter";
  check_images(x, fn);
  detail::check_jitter_ranges(r, fn);
  const std::array<double, 2>* ranges[4] = {&r.brightness, &r.contrast, &r.saturation, &r.hue};
  const double neutral[4] = {1.0, 1.0, 1.0, 0.0};
  bool active[4];
  for (int a = 0; a < 4; ++a) active[a] = (*ranges[a])[0] != neutral[a] || (*ranges[a])[1] != neutral[a];
  if (active[kContrast] || active[kSaturation] || active[kHue]) check_colour_channels(x, fn);
  return map_images(x, fn, [&](auto* img, int64_t C, int64_t p, int64_t) {
    int order[4] = {kBrightness, kContrast, kSaturation, kHue};
    for (uint64_t i = 4; i > 1; --i) std::swap(order[i - 1], order[uniform_int(gen, i)]);
    double factor[4] = {1.0, 1.0, 1.0, 0.0};
    for (int a = 0; a < 4; ++a)
      if (active[a]) factor[a] = uniform_in(gen, *ranges[a]);
    for (int a : order)
      if (active[a]) adjust(static_cast<Adjustment>(a), img, C, p, factor[a]);
  });
}

Tensor color_jitter(const Tensor& x, double brightness, double contrast, double saturation, double hue,
                    Generator& gen) {
  return color_jitter(x, jitter_ranges(brightness, contrast, saturation, hue), gen);
}

}  // namespace loom::multimodal::transforms
