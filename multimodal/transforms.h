// Image transforms on float tensors [C, H, W] or batches [B, C, H, W], named
// after torchvision.transforms.functional. They are composed from loom's
// tensor ops (narrow, index_select, copy_), so they run on the tensor's device
// and keep its dtype; only the random decisions are made on the host.
//
// Randomness: a Generator (std::mt19937_64) owned by the caller. The engine's
// output is fixed by the C++ standard, and uniform_int / uniform_real below
// replace std::uniform_*_distribution (whose results differ between standard
// libraries), so a seed gives the same crops and flips everywhere.
// generator_from_global() seeds one from loom's global RNG, so manual_seed()
// makes those reproducible too. In a batch each image draws its own crop or
// flip, in index order.
#pragma once
#include <functional>
#include <random>
#include <vector>

#include "core/tensor.h"

namespace loom::multimodal {

using Generator = std::mt19937_64;

// A generator seeded from loom's global CPU random stream (advancing it).
Generator generator_from_global();
// A generator for seed and a path of keys (DataLoader: {epoch} for the order,
// {epoch, batch} for augmentation); different keys give unrelated streams.
Generator derive_generator(uint64_t seed, const std::vector<uint64_t>& keys = {});
// Uniform in [0, n) without modulo bias; n >= 1.
uint64_t uniform_int(Generator& gen, uint64_t n);
// Uniform in [0, 1) with 53 random bits.
double uniform_real(Generator& gen);

namespace transforms {

// (x - mean[c]) / std[c] per channel, in x's dtype; mean and std hold C values
// (or one for every channel) and std must be non-zero.
Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std);

// The central size = {h, w} (or {s} for s x s) window. Where H - h is odd the
// window starts at floor((H - h) / 2) (torchvision rounds that half to even).
Tensor center_crop(const Tensor& x, const Shape& size);

// Resizes H x W to size = {h, w} (or {s}) by nearest neighbour with
// F.interpolate(mode="nearest")'s index rule: src = min(floor(dst * H / h), H - 1).
Tensor resize_nearest(const Tensor& x, const Shape& size);

// Mirrors the last (width) dimension.
Tensor horizontal_flip(const Tensor& x);

// Pads each side of H and W with `padding` zeros, then takes a size window at
// a uniformly drawn top (drawn first) and left corner.
Tensor random_crop(const Tensor& x, const Shape& size, int64_t padding, Generator& gen);

// Mirrors each image with probability p (one uniform_real draw per image).
Tensor random_horizontal_flip(const Tensor& x, double p, Generator& gen);

// A transform as DataLoader applies it to a batch; compose() chains them left
// to right, sharing the generator.
using Transform = std::function<Tensor(const Tensor&, Generator&)>;
Transform compose(std::vector<Transform> steps);

}  // namespace transforms

}  // namespace loom::multimodal
