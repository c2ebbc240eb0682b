// Image transforms on float tensors [C, H, W] or batches [B, C, H, W], named
// after torchvision.transforms (v2) and its functional module: the crops,
// flips, resizes, rotations, affine warps and colour adjustments of an
// augmentation pipeline, as functions and as Transform objects that compose.
//
// Crops, pads, flips and normalize are composed from loom's tensor ops
// (narrow, index_select, copy_), so they run on the tensor's device. The
// resampling ones (resize, rotate, affine, resized crops) and the colour
// adjustments loop on the host in the image's dtype and return the result on
// the input's device: they are data transforms, no gradient flows through
// them. No result shares memory with its input.
//
// Randomness: a Generator (std::mt19937_64) owned by the caller. The engine's
// output is fixed by the C++ standard, and uniform_int / uniform_real below
// replace std::uniform_*_distribution (whose results differ between standard
// libraries), so a seed gives the same augmentation everywhere.
// generator_from_global() seeds one from loom's global RNG, so manual_seed()
// makes those reproducible too. In a batch each image draws its own
// parameters, in index order, so image b of a batch gets what it would get
// alone after images 0..b-1 (torchvision draws once for the whole batch).
#pragma once
#include <array>
#include <functional>
#include <random>
#include <vector>

#include "core/tensor.h"

namespace loom::multimodal {

using Generator = std::mt19937_64;

// A generator seeded from loom's global CPU random stream (advancing it).
Generator generator_from_global();
// A generator for seed and a path of keys (DataLoader: {epoch} for the order,
// {epoch, index} for a sample's augmentation); different keys give unrelated
// streams.
Generator derive_generator(uint64_t seed, const std::vector<uint64_t>& keys = {});
// Uniform in [0, n) without modulo bias; n >= 1.
uint64_t uniform_int(Generator& gen, uint64_t n);
// Uniform in [0, 1) with 53 random bits.
double uniform_real(Generator& gen);

namespace transforms {

// How rotate, affine and the resizes read between pixels. torchvision's
// rotations and affine warps default to nearest; loom's to bilinear.
enum class Interpolation { Nearest, Bilinear };

// ---------------------------------------------------------------- fixed

// (x - mean[c]) / std[c] per channel, in x's dtype; mean and std hold C values
// (or one for every channel) and std must be non-zero.
Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std);

// The height x width window whose top-left pixel is (top, left); the parts
// outside the image are zeros (torchvision's F.crop).
Tensor crop(const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width);

// The central size = {h, w} (or {s} for s x s) window. Where H - h is odd the
// window starts at floor((H - h) / 2) (torchvision rounds that half to even).
// Unlike torchvision, a crop larger than the image raises.
Tensor center_crop(const Tensor& x, const Shape& size);

// Resizes H x W to size = {h, w} (or {s}) by nearest neighbour with
// F.interpolate(mode="nearest")'s index rule: src = min(floor(dst * H / h), H - 1).
Tensor resize_nearest(const Tensor& x, const Shape& size);

// Resizes H x W to size = {h, w} (or {s} for s x s) by bilinear interpolation
// with half-pixel centres (F.interpolate's align_corners=False). When
// shrinking, the triangle filter is widened by the scale factor so that every
// input pixel contributes (antialias=True in torchvision, Pillow's BILINEAR):
// a 1000-pixel photo shrunk to 64 does not alias.
Tensor resize_bilinear(const Tensor& x, const Shape& size);

// torchvision's Resize: size = {h, w} exactly; size = {s} brings the shorter
// side to s and the longer to floor(s * long / short), keeping the aspect.
Tensor resize(const Tensor& x, const Shape& size, Interpolation mode = Interpolation::Bilinear);

// Mirrors the last (width) dimension / the height dimension.
Tensor horizontal_flip(const Tensor& x);
Tensor vertical_flip(const Tensor& x);

// Rotates each image by `degrees` counter-clockwise about its centre, keeping
// its size; pixels that come from outside the image are `fill` (one value or
// one per channel), blended at the border as torchvision does. Multiples of
// 90 degrees use exact sines, so rotate(x, 90) equals rot90 of a square image.
Tensor rotate(const Tensor& x, double degrees, const std::vector<double>& fill = {0.0},
              Interpolation mode = Interpolation::Bilinear);

// An affine warp about the image centre (torchvision's F.affine): a point p
// of the input (centre-relative, y down) lands at
//   translate + scale * R(angle) * ShearY(shear[1]) * ShearX(shear[0]) * p,
// with R counter-clockwise on screen, ShearX moving x by tan(sx) * y and
// ShearY moving y by tan(sy) * x. translate is in pixels {x, y}; whole
// pixels shift the image exactly. Angles are in degrees, shears in (-90, 90).
Tensor affine(const Tensor& x, double angle, std::array<double, 2> translate, double scale,
              std::array<double, 2> shear = {0.0, 0.0}, const std::vector<double>& fill = {0.0},
              Interpolation mode = Interpolation::Bilinear);

// torchvision's colour adjustments for images in [0, 1], the result clamped to
// [0, 1]: brightness blends with black, contrast with the mean grey level of
// the image, saturation with each pixel's grey (0.2989 R + 0.587 G + 0.114 B);
// factor 0 gives black / flat grey / greyscale, 1 the image. Hue rotates the
// hue in HSV by factor (in [-0.5, 0.5]) turns. Contrast, saturation and hue
// take 1 or 3 channels; one channel has no saturation or hue to change.
Tensor adjust_brightness(const Tensor& x, double factor);
Tensor adjust_contrast(const Tensor& x, double factor);
Tensor adjust_saturation(const Tensor& x, double factor);
Tensor adjust_hue(const Tensor& x, double factor);

// ---------------------------------------------------------------- random

// Pads each side of H and W with `padding` zeros, then takes a size window at
// a uniformly drawn top (drawn first) and left corner.
Tensor random_crop(const Tensor& x, const Shape& size, int64_t padding, Generator& gen);

// Mirrors each image with probability p (one uniform_real draw per image).
Tensor random_horizontal_flip(const Tensor& x, double p, Generator& gen);
Tensor random_vertical_flip(const Tensor& x, double p, Generator& gen);

// rotate() by an angle drawn uniformly from [degrees[0], degrees[1]] per image.
Tensor random_rotation(const Tensor& x, std::array<double, 2> degrees, Generator& gen,
                       const std::vector<double>& fill = {0.0}, Interpolation mode = Interpolation::Bilinear);

// torchvision's RandomAffine ranges. Per image, in this order: the angle from
// degrees; the shift from [-translate[0] W, translate[0] W] (then y with H),
// rounded to whole pixels; the zoom from scale; the shear from shear[0..1]
// (x) and shear[2..3] (y).
struct AffineRanges {
  std::array<double, 2> degrees{0.0, 0.0};
  std::array<double, 2> translate{0.0, 0.0};  // the largest shift as a fraction of W and of H
  std::array<double, 2> scale{1.0, 1.0};
  std::array<double, 4> shear{0.0, 0.0, 0.0, 0.0};
};
Tensor random_affine(const Tensor& x, const AffineRanges& ranges, Generator& gen,
                     const std::vector<double>& fill = {0.0}, Interpolation mode = Interpolation::Bilinear);

// torchvision's RandomResizedCrop: per image, up to ten tries draw an area
// (a fraction of H W from scale) and an aspect ratio (log-uniform in ratio);
// the first window that fits is placed uniformly and resized to size
// ({s} is s x s). When none fits, the central crop clamped to ratio is used.
Tensor random_resized_crop(const Tensor& x, const Shape& size, std::array<double, 2> scale, std::array<double, 2> ratio,
                           Generator& gen, Interpolation mode = Interpolation::Bilinear);

// The factor ranges of ColorJitter; {1, 1} (hue {0, 0}) leaves that property
// alone. Per image: a random order of the four adjustments, then a factor for
// each one whose range is not trivial, brightness, contrast, saturation, hue.
struct JitterRanges {
  std::array<double, 2> brightness{1.0, 1.0};
  std::array<double, 2> contrast{1.0, 1.0};
  std::array<double, 2> saturation{1.0, 1.0};
  std::array<double, 2> hue{0.0, 0.0};
};
// torchvision's amounts: b, c, s >= 0 give factors in [max(0, 1 - v), 1 + v];
// hue in [0, 0.5] gives [-hue, hue].
JitterRanges jitter_ranges(double brightness, double contrast, double saturation, double hue);
Tensor color_jitter(const Tensor& x, const JitterRanges& ranges, Generator& gen);
Tensor color_jitter(const Tensor& x, double brightness, double contrast, double saturation, double hue, Generator& gen);

// ---------------------------------------------------------------- composing

// A transform as DataLoader applies it to each sample; compose() chains them
// left to right, sharing the generator. A transform a DataLoader runs with
// workers is called from several threads at once: the ones here are.
using Transform = std::function<Tensor(const Tensor&, Generator&)>;
Transform compose(std::vector<Transform> steps);

// The transforms above as objects in torchvision's names. Each checks its
// arguments when built (the error names the class and the value) and is a
// Transform, so they compose:
//
//   Compose augment({RandomRotation(15), RandomAffine(0, {0.1, 0.1}, {0.9, 1.1}),
//                    RandomHorizontalFlip(0.5), ColorJitter(0.2, 0.2, 0.2, 0),
//                    Normalize({0.5}, {0.25})});
//   Generator gen = derive_generator(/*seed=*/0);
//   Tensor y = augment(x, gen);
class Compose {
 public:
  Compose(std::vector<Transform> steps);
  Tensor operator()(const Tensor& x, Generator& gen) const { return chain_(x, gen); }

 private:
  Transform chain_;
};

// An angle in [-degrees, degrees], or in the range given.
class RandomRotation {
 public:
  RandomRotation(double degrees, std::vector<double> fill = {0.0}, Interpolation mode = Interpolation::Bilinear);
  RandomRotation(std::array<double, 2> degrees, std::vector<double> fill = {0.0},
                 Interpolation mode = Interpolation::Bilinear);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  std::array<double, 2> degrees_;
  std::vector<double> fill_;
  Interpolation mode_;
};

// degrees as RandomRotation; translate {a, b}: shifts up to a W and b H;
// scale {lo, hi}: zoom; shear s: an x shear in [-s, s] degrees.
class RandomAffine {
 public:
  RandomAffine(double degrees, std::array<double, 2> translate = {0.0, 0.0}, std::array<double, 2> scale = {1.0, 1.0},
               double shear = 0.0, std::vector<double> fill = {0.0}, Interpolation mode = Interpolation::Bilinear);
  RandomAffine(AffineRanges ranges, std::vector<double> fill = {0.0}, Interpolation mode = Interpolation::Bilinear);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  AffineRanges ranges_;
  std::vector<double> fill_;
  Interpolation mode_;
};

class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& x, Generator& gen) const { return random_horizontal_flip(x, p_, gen); }

 private:
  double p_;
};

class RandomVerticalFlip {
 public:
  explicit RandomVerticalFlip(double p = 0.5);
  Tensor operator()(const Tensor& x, Generator& gen) const { return random_vertical_flip(x, p_, gen); }

 private:
  double p_;
};

class RandomResizedCrop {
 public:
  explicit RandomResizedCrop(Shape size, std::array<double, 2> scale = {0.08, 1.0},
                             std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0},
                             Interpolation mode = Interpolation::Bilinear);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  Shape size_;
  std::array<double, 2> scale_, ratio_;
  Interpolation mode_;
};

class RandomCrop {
 public:
  explicit RandomCrop(Shape size, int64_t padding = 0);
  Tensor operator()(const Tensor& x, Generator& gen) const { return random_crop(x, size_, padding_, gen); }

 private:
  Shape size_;
  int64_t padding_;
};

class CenterCrop {
 public:
  explicit CenterCrop(Shape size);
  Tensor operator()(const Tensor& x, Generator&) const { return center_crop(x, size_); }

 private:
  Shape size_;
};

class Resize {
 public:
  explicit Resize(Shape size, Interpolation mode = Interpolation::Bilinear);
  Tensor operator()(const Tensor& x, Generator&) const { return resize(x, size_, mode_); }

 private:
  Shape size_;
  Interpolation mode_;
};

class ColorJitter {
 public:
  explicit ColorJitter(double brightness = 0.0, double contrast = 0.0, double saturation = 0.0, double hue = 0.0);
  explicit ColorJitter(JitterRanges ranges);
  Tensor operator()(const Tensor& x, Generator& gen) const { return color_jitter(x, ranges_, gen); }

 private:
  JitterRanges ranges_;
};

class Normalize {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor operator()(const Tensor& x, Generator&) const { return normalize(x, mean_, std_); }

 private:
  std::vector<double> mean_, std_;
};

}  // namespace transforms

}  // namespace loom::multimodal
