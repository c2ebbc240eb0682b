// The augmentation transforms of multimodal/transforms.h against hand-computed
// references (quarter turns as transposes and flips, exact whole-pixel shifts,
// zoom about the centre on a linear ramp, shears, flips, colour adjustments,
// resized-crop sizes), reproducibility per seed, the Transform objects and
// their argument errors; and the DataLoader's worker threads: the same
// batches as without workers, errors naming the sample, early exits and a
// destroyed loader that neither hang nor leave threads behind.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "multimodal/data.h"
#include "multimodal/transforms.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using namespace loom::multimodal::transforms;
using Catch::Matchers::ContainsSubstring;

namespace {

// Element access to a contiguous [B, C, H, W] (or [C, H, W]) value list.
struct Pixels {
  std::vector<double> v;
  int64_t B, C, H, W;
  explicit Pixels(const Tensor& x)
      : v(x.to_vector()), B(x.dim() == 4 ? x.size(0) : 1), C(x.size(-3)), H(x.size(-2)), W(x.size(-1)) {}
  double at(int64_t b, int64_t c, int64_t r, int64_t col) const { return v[((b * C + c) * H + r) * W + col]; }
  double at(int64_t c, int64_t r, int64_t col) const { return at(0, c, r, col); }
};

// x with pixel (r, c) of channel ch replaced by f(ch, r, c): a [C, H, W] image.
Tensor image_of(int64_t C, int64_t H, int64_t W, const std::function<double(int64_t, int64_t, int64_t)>& f,
                DType dtype = DType::Float64) {
  std::vector<double> v;
  for (int64_t ch = 0; ch < C; ++ch)
    for (int64_t r = 0; r < H; ++r)
      for (int64_t c = 0; c < W; ++c) v.push_back(f(ch, r, c));
  return from_vector(v, {C, H, W}).to(dtype);
}

// numpy.rot90(x, k) over the last two dimensions of a square image: k quarter
// turns counter-clockwise.
std::vector<double> rot90(const Pixels& x, int k) {
  std::vector<double> out;
  const int64_t n = x.W;
  for (int64_t ch = 0; ch < x.C; ++ch)
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < n; ++c) {
        int64_t sr = r, sc = c;
        for (int t = 0; t < ((k % 4) + 4) % 4; ++t) {  // one turn: out[r][c] = in[c][n - 1 - r]
          const int64_t nr = sc, nc = n - 1 - sr;
          sr = nr;
          sc = nc;
        }
        out.push_back(x.at(ch, sr, sc));
      }
  return out;
}

// Runs f on another thread; a call that has not returned within `seconds`
// ends the test program with a message instead of hanging it.
void within_seconds(double seconds, const std::function<void()>& f) {
  std::packaged_task<void()> task(f);
  std::future<void> done = task.get_future();
  std::thread t(std::move(task));
  if (done.wait_for(std::chrono::duration<double>(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "test_transforms: a DataLoader call did not return within %g s (deadlock?)\n", seconds);
    std::_Exit(1);
  }
  t.join();
  done.get();
}

// The message of the loom::Error f raises, "" when it raises none. Unlike
// test::error_message it makes no assertion, so other threads may call it.
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------- geometry

TEST_CASE("transforms: quarter turns are rot90 exactly, other angles rotate about the centre",
          "[multimodal][transforms]") {
  for (int64_t n : {4, 5}) {
    const Tensor x = rand({2, n, n}, DType::Float64);
    const Pixels xp(x);
    for (Interpolation mode : {Interpolation::Bilinear, Interpolation::Nearest}) {
      CHECK(rotate(x, 90, {0.0}, mode).to_vector() == rot90(xp, 1));
      CHECK(rotate(x, 180, {0.0}, mode).to_vector() == rot90(xp, 2));
      CHECK(rotate(x, -90, {0.0}, mode).to_vector() == rot90(xp, 3));
      CHECK(rotate(x, 450, {0.0}, mode).to_vector() == rot90(xp, 1));
      CHECK(rotate(x, 0, {0.0}, mode).to_vector() == xp.v);
    }
  }
  // 30 degrees against the definition: output centre (xo, yo) reads the input
  // at (cos t xo - sin t yo, sin t xo + cos t yo), bilinearly, 0 outside.
  const int64_t H = 7, W = 9;
  const Tensor x = rand({1, H, W}, DType::Float64);
  const Pixels xp(x);
  const double t = 30.0 * M_PI / 180.0;
  const Pixels out(rotate(x, 30));
  auto px = [&](int64_t r, int64_t c) { return r >= 0 && r < H && c >= 0 && c < W ? xp.at(0, r, c) : 0.0; };
  for (int64_t r = 0; r < H; ++r)
    for (int64_t c = 0; c < W; ++c) {
      const double xo = c + 0.5 - W / 2.0, yo = r + 0.5 - H / 2.0;
      const double sx = std::cos(t) * xo - std::sin(t) * yo + W / 2.0 - 0.5;
      const double sy = std::sin(t) * xo + std::cos(t) * yo + H / 2.0 - 0.5;
      const auto c0 = static_cast<int64_t>(std::floor(sx)), r0 = static_cast<int64_t>(std::floor(sy));
      const double ax = sx - c0, ay = sy - r0;
      const double ref = (1 - ay) * ((1 - ax) * px(r0, c0) + ax * px(r0, c0 + 1)) +
                         ay * ((1 - ax) * px(r0 + 1, c0) + ax * px(r0 + 1, c0 + 1));
      CHECK(std::fabs(out.at(0, r, c) - ref) < 1e-12);
    }
  // A constant image keeps its value where the rotated source is inside and
  // takes the per-channel fill where it is wholly outside (the corners).
  const Pixels c45(rotate(ones({2, 8, 8}), 45, {0.25, -1.0}));
  CHECK(std::fabs(c45.at(0, 4, 4) - 1.0) < 1e-12);
  CHECK(c45.at(0, 0, 0) == 0.25);
  CHECK(c45.at(1, 7, 7) == -1.0);
  CHECK(rotate(rand({3, 5, 6}), 17).sizes() == Shape{3, 5, 6});
  CHECK(rotate(rand({2, 3, 5, 6}, DType::Float32), 17).dtype() == DType::Float32);
}

TEST_CASE("transforms: affine identity, whole-pixel shifts, zoom and shear about the centre",
          "[multimodal][transforms]") {
  for (DType dt : {DType::Float32, DType::Float64}) {
    const Tensor x = rand({2, 3, 6, 7}, dt);
    for (Interpolation mode : {Interpolation::Bilinear, Interpolation::Nearest})
      CHECK(affine(x, 0, {0, 0}, 1.0, {0, 0}, {0.0}, mode).to_vector() == x.to_vector());
  }
  // translate {x, y} = {2, -1}: out[r][c] = in[r + 1][c - 2], fill where that is outside.
  const Tensor x = rand({2, 5, 6}, DType::Float64);
  const Pixels xp(x);
  for (Interpolation mode : {Interpolation::Bilinear, Interpolation::Nearest}) {
    const Pixels s(affine(x, 0, {2, -1}, 1.0, {0, 0}, {-7.0}, mode));
    for (int64_t ch = 0; ch < 2; ++ch)
      for (int64_t r = 0; r < 5; ++r)
        for (int64_t c = 0; c < 6; ++c) {
          const bool inside = r + 1 < 5 && c - 2 >= 0;
          CHECK(s.at(ch, r, c) == (inside ? xp.at(ch, r + 1, c - 2) : -7.0));
        }
  }
  // Zoom 2 about the centre of a ramp value = column: pixel c reads column
  // (c + 0.5 - W/2) / 2 + W/2 - 0.5, and bilinear interpolation of a ramp is exact.
  const int64_t W = 8;
  const Tensor ramp = image_of(1, 6, W, [](int64_t, int64_t, int64_t c) { return static_cast<double>(c); });
  const Pixels zoom(affine(ramp, 0, {0, 0}, 2.0));
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t c = 0; c < W; ++c)
      CHECK(std::fabs(zoom.at(0, r, c) - ((c + 0.5 - W / 2.0) / 2.0 + W / 2.0 - 0.5)) < 1e-12);
  // Zoom 0.5 shrinks towards the centre: the middle reads columns 2 apart.
  const Pixels shrink(affine(ramp, 0, {0, 0}, 0.5));
  CHECK(std::fabs(shrink.at(0, 3, 4) - shrink.at(0, 3, 3) - 2.0) < 1e-12);
  CHECK(shrink.at(0, 0, 0) == 0.0);  // from outside: the fill
  // A shear along x moves x by tan(s) * y: rows of a row-constant image stay,
  // and a column ramp shifts by -tan(s) * y per row.
  const Tensor rows = image_of(1, 6, W, [](int64_t, int64_t r, int64_t) { return static_cast<double>(r); });
  const Pixels sheared_rows(affine(rows, 0, {0, 0}, 1.0, {20, 0}, {0.0}));
  CHECK(std::fabs(sheared_rows.at(0, 2, 4) - 2.0) < 1e-12);
  const double k = std::tan(20.0 * M_PI / 180.0);
  const Pixels sheared(affine(ramp, 0, {0, 0}, 1.0, {20, 0}));
  for (int64_t r = 1; r < 5; ++r) {
    const double yo = r + 0.5 - 3.0;
    CHECK(std::fabs(sheared.at(0, r, 4) - (4.0 - k * yo)) < 1e-12);
  }
}

TEST_CASE("transforms: flips, crops and resizes", "[multimodal][transforms]") {
  const Tensor x = rand({2, 3, 4, 5});
  const Pixels xp(x);
  const Pixels v(vertical_flip(x));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t c = 0; c < 5; ++c) CHECK(v.at(b, 1, r, c) == xp.at(b, 1, 3 - r, c));
  Generator g(1);
  CHECK(random_vertical_flip(x, 1.0, g).to_vector() == v.v);
  CHECK(random_vertical_flip(x, 0.0, g).to_vector() == xp.v);

  // crop pads with zeros outside the image.
  const Pixels cr(crop(x, -1, 3, 3, 4));
  REQUIRE(cr.H == 3);
  REQUIRE(cr.W == 4);
  CHECK(cr.at(1, 2, 0, 0) == 0.0);
  CHECK(cr.at(1, 2, 1, 0) == xp.at(1, 2, 0, 3));
  CHECK(cr.at(1, 2, 2, 1) == xp.at(1, 2, 1, 4));
  CHECK(cr.at(1, 2, 2, 2) == 0.0);
  CHECK(crop(x, 1, 1, 2, 2).to_vector() == center_crop(x, {2, 3}).narrow(-1, 0, 2).to_vector());

  // resize {s}: the shorter side becomes s, the longer floor(s * long / short).
  CHECK(resize(rand({3, 20, 30}), {10}).sizes() == Shape{3, 10, 15});
  CHECK(resize(rand({3, 30, 20}), {10}).sizes() == Shape{3, 15, 10});
  CHECK(resize(rand({1, 3, 7, 10}), {4}).sizes() == Shape{1, 3, 4, 5});
  CHECK(resize(x, {8, 10}).to_vector() == resize_bilinear(x, {8, 10}).to_vector());
  CHECK(resize(x, {8, 10}, Interpolation::Nearest).to_vector() == resize_nearest(x, {8, 10}).to_vector());
}

TEST_CASE("transforms: random resized crops have the requested size and cover the allowed windows",
          "[multimodal][transforms]") {
  const Tensor x = rand({4, 3, 20, 30});
  Generator g(3), h(3);
  const Tensor a = random_resized_crop(x, {8, 10}, {0.08, 1.0}, {3.0 / 4, 4.0 / 3}, g);
  CHECK(a.sizes() == Shape{4, 3, 8, 10});
  CHECK(a.to_vector() == random_resized_crop(x, {8, 10}, {0.08, 1.0}, {3.0 / 4, 4.0 / 3}, h).to_vector());
  CHECK(random_resized_crop(x.select(0, 0), {5}, {0.5, 0.5}, {1, 1}, g).sizes() == Shape{3, 5, 5});
  // The whole image at its own aspect: a plain resize.
  CHECK(random_resized_crop(x, {8, 12}, {1, 1}, {1.5, 1.5}, g).to_vector() == resize_bilinear(x, {8, 12}).to_vector());
  // No window of ratio 10 fits a 20 x 30 image: the central crop clamped to ratio 10 (w = 30, h = 3).
  const Tensor fallback = random_resized_crop(x, {3, 30}, {0.9, 1.0}, {10, 10}, g);
  CHECK(fallback.to_vector() == center_crop(x, {3, 30}).to_vector());
}

TEST_CASE("transforms: colour adjustments match torchvision's formulas", "[multimodal][transforms]") {
  const Tensor x = rand({3, 4, 5}, DType::Float64);
  const Pixels xp(x);
  auto grey = [&](int64_t r, int64_t c) {
    return 0.2989 * xp.at(0, r, c) + 0.587 * xp.at(1, r, c) + 0.114 * xp.at(2, r, c);
  };
  double mean = 0;
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t c = 0; c < 5; ++c) mean += grey(r, c) / 20.0;
  const Pixels b(adjust_brightness(x, 1.5)), ct(adjust_contrast(x, 0.3)), s(adjust_saturation(x, 0.4));
  for (int64_t ch = 0; ch < 3; ++ch)
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t c = 0; c < 5; ++c) {
        const double v = xp.at(ch, r, c);
        CHECK(b.at(ch, r, c) == std::min(1.0, 1.5 * v));
        CHECK(std::fabs(ct.at(ch, r, c) - std::clamp(0.3 * v + 0.7 * mean, 0.0, 1.0)) < 1e-12);
        CHECK(std::fabs(s.at(ch, r, c) - std::clamp(0.4 * v + 0.6 * grey(r, c), 0.0, 1.0)) < 1e-12);
      }
  // Hue: a third of a turn takes red to green, half a turn takes red to cyan;
  // no turn keeps the image.
  const Tensor red = image_of(3, 1, 1, [](int64_t ch, int64_t, int64_t) { return ch == 0 ? 0.8 : 0.2; });
  test::check_close(adjust_hue(red, 1.0 / 3), std::vector<double>{0.2, 0.8, 0.2}, 1e-12, 0);
  test::check_close(adjust_hue(red, 0.5), std::vector<double>{0.2, 0.8, 0.8}, 1e-12, 0);
  test::check_close(adjust_hue(x, 0.0), xp.v, 1e-12, 0);
  // One channel: no saturation or hue; contrast uses the channel itself.
  const Tensor g1 = rand({1, 3, 3}, DType::Float64);
  CHECK(adjust_saturation(g1, 0.0).to_vector() == g1.to_vector());
  CHECK(adjust_hue(g1, 0.3).to_vector() == g1.to_vector());
  const double m1 = g1.mean().item<double>();
  test::check_close(adjust_contrast(g1, 0.0), std::vector<double>(9, m1), 1e-12, 0);
}

TEST_CASE("transforms: color jitter stays within its factor ranges", "[multimodal][transforms]") {
  // Values in [0, 0.5]: brightness within [0.7, 1.3] never clamps, so each
  // image is the input times one factor in that range.
  const Tensor x = rand({32, 3, 4, 4}, DType::Float64) * 0.5 + 0.01;
  Generator g(9);
  const Tensor y = color_jitter(x, 0.3, 0, 0, 0, g);
  std::vector<double> factors;
  for (int64_t b = 0; b < 32; ++b) {
    const std::vector<double> in = x.select(0, b).to_vector(), out = y.select(0, b).to_vector();
    const double f = out[0] / in[0];
    for (size_t i = 0; i < in.size(); ++i) CHECK(std::fabs(out[i] - f * in[i]) < 1e-12);
    CHECK(f >= 0.7);
    CHECK(f <= 1.3);
    factors.push_back(f);
  }
  CHECK(*std::max_element(factors.begin(), factors.end()) - *std::min_element(factors.begin(), factors.end()) > 0.2);
  // All four at once: in [0, 1], reproducible per seed, different per seed.
  const Tensor z = rand({8, 3, 5, 5});
  Generator a(4), b(4), c(5);
  const std::vector<double> ja = color_jitter(z, 0.4, 0.4, 0.4, 0.1, a).to_vector();
  for (double v : ja) CHECK((v >= 0.0 && v <= 1.0));
  CHECK(ja == color_jitter(z, 0.4, 0.4, 0.4, 0.1, b).to_vector());
  CHECK(ja != color_jitter(z, 0.4, 0.4, 0.4, 0.1, c).to_vector());
  // Trivial ranges leave the image alone.
  CHECK(color_jitter(z, 0, 0, 0, 0, a).to_vector() == z.to_vector());
}

TEST_CASE("transforms: random transforms repeat per seed and draw per image in order", "[multimodal][transforms]") {
  const Tensor x = rand({5, 3, 9, 9});
  Compose augment({RandomRotation(15), RandomAffine(0, {0.1, 0.1}, {0.9, 1.1}), RandomHorizontalFlip(0.5),
                   RandomVerticalFlip(0.5), ColorJitter(0.2, 0.2, 0.2, 0.05), RandomResizedCrop({7}),
                   Normalize({0.5}, {0.25})});
  Generator a = derive_generator(0), b = derive_generator(0), c = derive_generator(1);
  const Tensor ya = augment(x, a);
  REQUIRE(ya.sizes() == Shape{5, 3, 7, 7});
  CHECK(ya.to_vector() == augment(x, b).to_vector());
  CHECK(ya.to_vector() != augment(x, c).to_vector());
  // Each step draws per image, so image 0 of a batch is the image alone.
  const std::vector<Transform> steps = {RandomRotation({-30, 30}), RandomAffine(10, {0.2, 0.2}, {0.8, 1.2}, 5),
                                        ColorJitter(0.3, 0.3, 0.3, 0.1), RandomResizedCrop({6, 5})};
  for (const Transform& t : steps) {
    Generator g1(2), g2(2);
    CHECK(t(x, g1).select(0, 0).to_vector() == t(x.select(0, 0), g2).to_vector());
  }
  // random_affine's shifts are whole pixels within translate * size, and with
  // no rotation, zoom or shear they move the image exactly.
  const Tensor ramp = image_of(1, 10, 10, [](int64_t, int64_t r, int64_t c) { return 100.0 * r + c; });
  AffineRanges shift;
  shift.translate = {0.2, 0.3};
  for (int i = 0; i < 20; ++i) {
    Generator g(static_cast<uint64_t>(i));
    const Pixels s(random_affine(ramp, shift, g));
    const double v = s.at(0, 5, 5);
    const double dy = 5 - std::floor(v / 100.0), dx = 5 - (v - 100.0 * std::floor(v / 100.0));
    CHECK(std::fabs(dx) <= 2.0);
    CHECK(std::fabs(dy) <= 3.0);
    CHECK(dx == std::round(dx));
  }
  // The generator a Transform gets is the one it advances.
  Generator d(6), e(6);
  const Tensor r1 = random_rotation(x, {-10, 10}, d);
  random_rotation(x, {-10, 10}, e);
  CHECK(random_rotation(x, {-10, 10}, d).to_vector() == random_rotation(x, {-10, 10}, e).to_vector());
  CHECK(r1.to_vector() != random_rotation(x, {-10, 10}, d).to_vector());
}

TEST_CASE("transforms: bad arguments raise naming the transform and the value", "[multimodal][transforms]") {
  Generator g(0);
  auto value_error = [](const std::function<void()>& f, const std::vector<std::string>& parts) {
    CHECK(test::error_kind(f) == ErrorKind::Value);
    test::check_error(f, parts);
  };
  value_error([] { RandomRotation(-5); }, {"transforms::RandomRotation", "-5"});
  value_error([] { RandomRotation({10, -10}); }, {"transforms::RandomRotation", "degrees", "10, -10"});
  value_error([] { RandomAffine(0, {1.5, 0}); }, {"transforms::RandomAffine", "translate", "1.5"});
  value_error([] { RandomAffine(0, {0, 0}, {0, 1}); }, {"transforms::RandomAffine", "scale", "{0, 1}"});
  value_error([] { RandomAffine(0, {0, 0}, {1, 1}, 95); }, {"transforms::RandomAffine", "shear", "95"});
  value_error([] { RandomHorizontalFlip(2); }, {"transforms::RandomHorizontalFlip", "2"});
  value_error([] { RandomVerticalFlip(-0.5); }, {"transforms::RandomVerticalFlip", "-0.5"});
  value_error([] { RandomResizedCrop({0}); }, {"transforms::RandomResizedCrop", "[0]"});
  value_error([] { RandomResizedCrop({8}, {0.5, 0.1}); }, {"transforms::RandomResizedCrop", "scale", "0.5, 0.1"});
  value_error([] { RandomResizedCrop({8}, {0.1, 1}, {0, 1}); }, {"transforms::RandomResizedCrop", "ratio"});
  value_error([] { RandomCrop({4}, -1); }, {"transforms::RandomCrop", "-1"});
  value_error([] { CenterCrop({4, -2}); }, {"transforms::CenterCrop", "[4, -2]"});
  value_error([] { Resize({1, 2, 3}); }, {"transforms::Resize", "[1, 2, 3]"});
  value_error([] { ColorJitter(-0.1); }, {"transforms::ColorJitter", "brightness", "-0.1"});
  value_error([] { ColorJitter(0, 0, 0, 0.7); }, {"transforms::ColorJitter", "hue", "0.7"});
  value_error([] { ColorJitter(JitterRanges{{1, 1}, {1, 1}, {1, 1}, {-0.6, 0}}); }, {"transforms::ColorJitter", "hue"});
  value_error([] { Normalize({0.5}, {0.0}); }, {"transforms::Normalize", "non-zero"});
  value_error([] { Compose({Transform()}); }, {"transforms::Compose", "step 0"});
  value_error([] { rotate(rand({3, 4, 4}), NAN); }, {"transforms::rotate", "nan"});
  value_error([] { rotate(rand({3, 4, 4}), 10, {0, 1}); }, {"transforms::rotate", "fill", "3"});
  value_error([] { affine(rand({3, 4, 4}), 0, {0, 0}, 0.0); }, {"transforms::affine", "scale", "0"});
  value_error([] { adjust_brightness(rand({3, 4, 4}), -1); }, {"transforms::adjust_brightness", "-1"});
  value_error([] { adjust_hue(rand({3, 4, 4}), 0.75); }, {"transforms::adjust_hue", "0.75"});
  value_error([&] { random_rotation(rand({3, 4, 4}), {5, 1}, g); }, {"transforms::random_rotation", "5, 1"});
  value_error([] { crop(rand({3, 4, 4}), 0, 0, 0, 2); }, {"transforms::crop", "0x2"});
  test::check_error([] { adjust_contrast(rand({2, 4, 4}), 0.5); }, {"transforms::adjust_contrast", "[2, 4, 4]"});
  test::check_error([&] { color_jitter(rand({2, 4, 4}), 0, 0.5, 0, 0, g); }, {"transforms::color_jitter", "1 or 3"});
  test::check_error([] { rotate(rand({4, 4}), 10); }, {"transforms::rotate", "[4, 4]"});
  CHECK(test::error_kind([] { affine(ones({1, 4, 4}, DType::Int64), 0, {0, 0}, 1); }) == ErrorKind::Type);
}

// ---------------------------------------------------------------- DataLoader workers

namespace {

// n images [3, 6, 6] of pseudo-random pixels; get() can sleep, fail at one
// index, and counts its calls and how many run at once.
class TestDataset : public Dataset {
 public:
  explicit TestDataset(int64_t n, int64_t sleep_ms = 0, int64_t fail_at = -1, bool loom_error = true)
      : images_(rand({n, 3, 6, 6})), sleep_ms_(sleep_ms), fail_at_(fail_at), loom_error_(loom_error) {}
  int64_t size() const override { return images_.size(0); }
  Example get(int64_t index) const override {
    const int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    ++calls_;
    if (sleep_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    --in_flight_;
    if (index == fail_at_) {
      if (loom_error_) LOOM_THROW(ErrorKind::Index, "TestDataset: bad sample");
      throw std::runtime_error("TestDataset: plain failure");
    }
    Example e;
    e.image = images_.select(0, index);
    e.label = index;
    e.caption = "sample " + std::to_string(index);
    return e;
  }
  int calls() const { return calls_; }
  int in_flight() const { return in_flight_; }
  int max_in_flight() const { return max_in_flight_; }

 private:
  Tensor images_;
  int64_t sleep_ms_, fail_at_;
  bool loom_error_;
  mutable std::atomic<int> calls_{0}, in_flight_{0}, max_in_flight_{0};
};

struct Seen {
  std::vector<std::vector<int64_t>> indices;
  std::vector<std::vector<double>> images;
  std::vector<std::string> captions;
};

Seen read_all(const DataLoader& loader) {
  Seen s;
  for (const Batch& b : loader) {
    s.indices.push_back(b.indices);
    s.images.push_back(b.images.to_vector());
    s.captions.insert(s.captions.end(), b.captions.begin(), b.captions.end());
  }
  return s;
}

}  // namespace

TEST_CASE("DataLoader workers: the same batches in the same order as without workers", "[multimodal][dataloader]") {
  auto ds = std::make_shared<TestDataset>(23);
  const Transform augment = Compose({RandomRotation(10), RandomHorizontalFlip(), ColorJitter(0.2, 0.2, 0.2, 0.02),
                                     RandomResizedCrop({5}, {0.5, 1.0})});
  std::vector<Seen> runs;
  within_seconds(60, [&] {
    for (int64_t workers : {0, 1, 3, 8}) {
      DataLoader loader(ds, 4, /*shuffle=*/true, /*seed=*/11, /*drop_last=*/false, workers);
      loader.set_transform(augment);
      for (int64_t epoch : {0, 1}) {
        loader.set_epoch(epoch);
        runs.push_back(read_all(loader));
      }
    }
  });
  REQUIRE(runs.size() == 8);
  REQUIRE(runs[0].indices.size() == 6);
  CHECK(runs[0].images[0].size() == 4 * 3 * 5 * 5);
  CHECK(runs[0].indices != runs[1].indices);  // epochs differ
  for (size_t r = 2; r < runs.size(); ++r) {
    CHECK(runs[r].indices == runs[r % 2].indices);
    CHECK(runs[r].images == runs[r % 2].images);
    CHECK(runs[r].captions == runs[r % 2].captions);
  }
  // A sample's augmentation depends on (seed, epoch, index), not on its batch:
  // batch size 1 without shuffling gives the same images.
  DataLoader single(ds, 1, false, 11);
  single.set_transform(augment);
  for (size_t b = 0; b < runs[0].indices.size(); ++b)
    for (size_t i = 0; i < runs[0].indices[b].size(); ++i) {
      const std::vector<double> alone = single.batch(runs[0].indices[b][i]).images.to_vector();
      const std::vector<double> in_batch(runs[0].images[b].begin() + static_cast<std::ptrdiff_t>(i * 75),
                                         runs[0].images[b].begin() + static_cast<std::ptrdiff_t>((i + 1) * 75));
      CHECK(alone == in_batch);
    }
  // The workers do run at once.
  auto slow = std::make_shared<TestDataset>(16, 5);
  within_seconds(60, [&] { read_all(DataLoader(slow, 2, false, 0, false, 4)); });
  CHECK(slow->max_in_flight() >= 2);
  CHECK(slow->calls() == 16);
}

TEST_CASE("DataLoader workers: an exception reaches the loop naming the sample and batch", "[multimodal][dataloader]") {
  for (int64_t workers : {0, 3}) {
    INFO("num_workers = " << workers);
    auto ds = std::make_shared<TestDataset>(40, 0, /*fail_at=*/13);
    DataLoader loader(ds, 4, false, 0, false, workers);
    int batches = 0;
    std::string message;
    ErrorKind kind = ErrorKind::Runtime;
    within_seconds(60, [&] {
      try {
        for (const Batch& b : loader) {
          (void)b;
          ++batches;
        }
      } catch (const Error& e) {
        message = e.what();
        kind = e.kind();
      }
    });
    CHECK(batches == 3);
    CHECK(kind == ErrorKind::Index);
    CHECK_THAT(message, ContainsSubstring("DataLoader: sample 13 (batch 3) failed: TestDataset: bad sample"));

    // A std::exception becomes a RuntimeError; a transform's error is named the same way.
    auto plain = std::make_shared<TestDataset>(10, 0, 6, /*loom_error=*/false);
    DataLoader plain_loader(plain, 3, false, 0, false, workers);
    within_seconds(60, [&] { message = message_of([&] { read_all(plain_loader); }); });
    CHECK_THAT(message, ContainsSubstring("sample 6 (batch 2) failed: TestDataset: plain failure"));

    DataLoader transformed(std::make_shared<TestDataset>(10), 3, true, 5, false, workers);
    transformed.set_transform(Compose({RandomRotation(5), CenterCrop({7})}));  // 7 > 6: raises in every sample
    const int64_t first = transformed.order()[0];
    within_seconds(60, [&] { message = message_of([&] { read_all(transformed); }); });
    CHECK_THAT(message, ContainsSubstring("DataLoader: sample " + std::to_string(first) +
                                          " (batch 0) failed: "
                                          "transforms::center_crop"));
  }
}

TEST_CASE("DataLoader workers: breaking early and destroying the loader stop the threads", "[multimodal][dataloader]") {
  auto ds = std::make_shared<TestDataset>(400, 2);
  int calls_after_break = 0, in_flight_after_break = -1;
  within_seconds(60, [&] {
    DataLoader loader(ds, 4, true, 1, false, 4);
    int n = 0;
    for (const Batch& b : loader) {
      (void)b;
      if (++n == 2) break;
    }
    in_flight_after_break = ds->in_flight();
    calls_after_break = ds->calls();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  CHECK(in_flight_after_break == 0);
  CHECK(ds->calls() == calls_after_break);
  // At most 2 * workers batches from the one being read (batch 1): batches 0 .. 8.
  CHECK(calls_after_break <= 9 * 4);

  // An iterator that outlives its loader: the loader's destruction stops the
  // workers, and reading on raises instead of waiting forever.
  auto slow = std::make_shared<TestDataset>(400, 2);
  std::string message;
  int calls_after_reset = 0;
  within_seconds(60, [&] {
    auto loader = std::make_unique<DataLoader>(slow, 4, false, 0, false, 3);
    DataLoader::Iterator it = loader->begin();
    (void)*it;
    loader.reset();
    calls_after_reset = slow->calls();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    message = message_of([&] {
      ++it;
      (void)*it;
    });
  });
  CHECK(slow->calls() == calls_after_reset);
  CHECK(slow->in_flight() == 0);
  CHECK_THAT(message, ContainsSubstring("destroyed"));

  // Destroying a loader whose loop never ran, or ran to the end, is immediate;
  // so is a loader with more workers than batches. Reading at end() raises.
  ErrorKind past_end = ErrorKind::Runtime;
  within_seconds(60, [&] {
    DataLoader idle(ds, 8, false, 0, false, 4);
    DataLoader small(std::make_shared<TestDataset>(3), 2, false, 0, false, 16);
    read_all(small);
    DataLoader::Iterator it = small.begin();
    ++it;
    ++it;
    try {
      (void)*it;
    } catch (const Error& e) {
      past_end = e.kind();
    }
  });
  CHECK(past_end == ErrorKind::Index);
  CHECK(test::error_kind([&] { DataLoader(ds, 2, false, 0, false, -1); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { DataLoader(ds, 2).set_num_workers(-2); }) == ErrorKind::Value);
}
