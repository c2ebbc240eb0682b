// Resizing (kernels/upsample.h, autograd/ops/upsample.cpp): PyTorch's values
// for nearest, nearest-exact, bilinear and bicubic (with and without align_corners,
// given scale factors, downsampling) on a small image, float64 gradchecks,
// every dtype for nearest, unbatched input, bad arguments; [cuda] the CUDA
// kernels against the CPU twins on odd shapes in every mode, forward and
// backward (nearest's backward to the bit: both sum in output order).
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/upsample.h"
#include "core/error.h"
#include "kernels/upsample.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

// x[h, w] = (4h + w)^1.5 as [1, 1, 3, 4] float64, the image the expected values were computed on.
Tensor image() { return arange(Scalar(12.0)).to(DType::Float64).reshape({1, 1, 3, 4}).pow(Scalar(1.5)); }

std::vector<double> vals(const Tensor& t) { return t.contiguous().to_vector(); }

}  // namespace

TEST_CASE("upsample: PyTorch's values for nearest, nearest-exact and bilinear", "[kernels][upsample]") {
  const Tensor x = image();
  check_close(upsample_nearest2d(x, {5, 7}).reshape({-1}).narrow(0, 0, 7),
              {0.0, 0.0, 1.0, 1.0, 2.8284271247, 2.8284271247, 5.1961524227}, 1e-9, 1e-9);
  check_close(upsample_nearest2d(x, {5, 7}, {}, true).reshape({-1}).narrow(0, 28, 7),
              {22.627416998, 22.627416998, 27.0, 31.6227766017, 31.6227766017, 36.4828726939, 36.4828726939}, 1e-9,
              1e-9);
  check_close(upsample_bilinear2d(x, {5, 7}, false).reshape({-1}).narrow(0, 7, 7),
              {3.2, 3.8686199839, 4.9384119582, 6.3239838063, 7.7865433337, 9.4722367435, 10.5257951246}, 1e-9, 1e-9);
  check_close(upsample_bilinear2d(x, {5, 7}, true).reshape({-1}).narrow(0, 7, 7),
              {4.0, 5.0450849719, 6.0901699437, 7.4264263672, 8.7626827907, 10.3104442954, 11.8582058001}, 1e-9, 1e-9);
  // scale_factor 1.7 given: the source step is 1 / 1.7, not 3 / 5.
  check_close(upsample_bilinear2d(x, {5, 6}, false, {1.7, 1.7}).reshape({-1}).narrow(0, 0, 6),
              {0.0, 0.3823529412, 0.9705882353, 2.0217680991, 3.1766220215, 4.5694016085}, 1e-9, 1e-9);
  check_close(upsample_nearest2d(x, {6, 2}, {2.3, 0.6}).reshape({-1}),
              {0, 1, 0, 1, 8, 11.1803398875, 8, 11.1803398875, 22.627416998, 27, 22.627416998, 27}, 1e-9, 1e-9);
  check_close(upsample_bilinear2d(x, {2, 2}, false).reshape({-1}),
              {2.7725424859, 7.1613670346, 21.0078238602, 29.6917681901}, 1e-9, 1e-9);
}

TEST_CASE("upsample: PyTorch's gradients, float64 gradchecks, every dtype, unbatched", "[kernels][upsample]") {
  Tensor x = image().requires_grad_(true);
  const Tensor w = arange(Scalar(35.0)).to(DType::Float64).reshape({1, 1, 5, 7});
  (upsample_bilinear2d(x, {5, 7}, false) * w).sum().backward();
  check_close(x.grad().reshape({-1}),
              {8.4571428571, 13.4428571429, 18.7, 22.4, 44.6142857143, 51.6857142857, 57.6, 60.3, 70.8571428571,
               78.4428571429, 83.7, 84.8},
              1e-9, 1e-9);
  Tensor xn = image().requires_grad_(true);
  (upsample_nearest2d(xn, {5, 7}) * w).sum().backward();
  CHECK(vals(xn.grad()) == std::vector<double>{16, 24, 32, 19, 72, 80, 88, 47, 57, 61, 65, 34});
  Tensor l = leaf({2, 3, 4, 5});
  check_grad([](const TensorList& t) { return upsample_bilinear2d(t[0], {7, 3}, false); }, {l});
  check_grad([](const TensorList& t) { return upsample_bilinear2d(t[0], {6, 9}, true); }, {l});
  check_grad([](const TensorList& t) { return upsample_nearest2d(t[0], {9, 2}, {}, true); }, {l});
  check_grad([](const TensorList& t) { return upsample_nearest2d(t[0], {2, 11}); }, {l});
  for (DType dt : {DType::Bool, DType::Int32, DType::Int64, DType::Float32}) {
    Tensor y = upsample_nearest2d(image().to(dt), {6, 8});
    CHECK(y.dtype() == dt);
    CHECK(vals(y) == vals(upsample_nearest2d(image(), {6, 8}).to(dt)));
  }
  Tensor u = upsample_bilinear2d(image().reshape({1, 3, 4}), {5, 7}, false);
  CHECK(u.sizes() == Shape{1, 5, 7});
  CHECK(vals(u) == vals(upsample_bilinear2d(image(), {5, 7}, false)));
  CHECK(upsample_nearest2d(zeros({0, 3, 4, 4}), {8, 8}).sizes() == Shape{0, 3, 8, 8});
}

TEST_CASE("upsample: PyTorch's bicubic values and gradients; gradchecks", "[kernels][upsample]") {
  const Tensor x = image();
  check_close(upsample_bicubic2d(x, {5, 7}, false).reshape({-1}).narrow(0, 7, 7),
              {1.8761920498, 2.5027508517, 3.5992139251, 4.9099416876, 6.4892983568, 8.2466325452, 9.3561433164}, 1e-9,
              1e-9);
  check_close(upsample_bicubic2d(x, {5, 7}, true).reshape({-1}).narrow(0, 7, 7),
              {2.6286796564, 3.3770524208, 4.6070768082, 5.7958628708, 7.1758854646, 8.9158739353, 10.1742107829}, 1e-9,
              1e-9);
  // scale_factor 1.7 given: the source step is 1 / 1.7; taps beyond the border repeat it.
  check_close(upsample_bicubic2d(x, {5, 6}, false, {1.7, 1.7}).reshape({-1}).narrow(0, 0, 6),
              {-0.8557062738, -0.6014644867, -0.0437723559, 0.7849015375, 2.0843246933, 3.424750133}, 1e-9, 1e-9);
  Tensor xg = image().requires_grad_(true);
  const Tensor w = arange(Scalar(35.0)).to(DType::Float64).reshape({1, 1, 5, 7});
  (upsample_bicubic2d(xg, {5, 7}, false) * w).sum().backward();
  check_close(xg.grad().reshape({-1}),
              {5.57884293, 10.9315761662, 16.379444242, 20.8701366618, 42.5080758017, 49.355212828, 55.1094402332,
               58.659271137, 74.9109857872, 82.523433309, 87.9713013848, 90.202279519},
              1e-9, 1e-9);
  Tensor l = leaf({2, 3, 4, 5});
  check_grad([](const TensorList& t) { return upsample_bicubic2d(t[0], {7, 3}, false); }, {l});
  check_grad([](const TensorList& t) { return upsample_bicubic2d(t[0], {6, 9}, true, {}); }, {l});
  check_grad([](const TensorList& t) { return upsample_bicubic2d(t[0], {9, 11}, false, {2.3, 2.4}); }, {l});
  // Twice differentiable: its backward is the adjoint resize, recorded with the resize as its gradient.
  check_grad(
      [](const TensorList& t) {
        autograd::EnableGradGuard eg;
        Tensor y = upsample_bicubic2d(t[0], {5, 6}, false).pow(2.0).sum();
        return autograd::grad({y}, {t[0]}, {}, false, true)[0];
      },
      {leaf({1, 2, 3, 4})});
  check_error([&] { upsample_bicubic2d(x.to(DType::Int64), {2, 2}, false); }, {"upsample_bicubic2d", "floating"});
}

TEST_CASE("upsample: bad arguments raise errors naming the op", "[kernels][upsample]") {
  const Tensor x = image();
  check_error([&] { upsample_nearest2d(x, {0, 3}); }, {"upsample_nearest2d", "greater than 0"});
  check_error([&] { upsample_bilinear2d(x.reshape({12}), {2, 2}, false); }, {"upsample_bilinear2d", "4D"});
  check_error([&] { upsample_bilinear2d(x.to(DType::Int64), {2, 2}, false); }, {"upsample_bilinear2d", "floating"});
  check_error([&] { upsample_nearest2d(x, {2, 2, 2}); }, {"upsample_nearest2d", "output_size"});
  check_error([&] { upsample_nearest2d(zeros({1, 1, 0, 3}), {2, 2}); }, {"upsample_nearest2d", "greater than 0"});
}

TEST_CASE("cuda upsample matches cpu: every mode, odd shapes, up and down, given scales", "[kernels][upsample][cuda]") {
  LOOM_REQUIRE_GPU();
  struct Case {
    Shape in;
    Dims out;
    std::vector<double> scales;
  };
  const std::vector<Case> cases = {{{2, 3, 5, 7}, {11, 13}, {}},
                                   {{1, 2, 17, 9}, {4, 3}, {}},
                                   {{3, 1, 6, 6}, {13, 14}, {2.3, 2.4}},
                                   {{1, 5, 1, 9}, {1, 31}, {}},
                                   {{2, 2, 33, 65}, {64, 130}, {2.0, 2.0}}};
  for (const Case& c : cases) {
    INFO("output " << c.out[0] << "x" << c.out[1]);
    Tensor x = rand(c.in, TensorOptions(DType::Float64)).requires_grad_(true);
    for (bool exact : {false, true})
      compare_gpu([&](const TensorList& t) { return upsample_nearest2d(t[0], c.out, c.scales, exact); }, {x}, 0, 0);
    for (bool align : {false, true})
      compare_gpu(
          [&](const TensorList& t) {
            return upsample_bilinear2d(t[0], c.out, align, align ? std::vector<double>{} : c.scales);
          },
          {x}, 1e-12, 1e-12);
    for (bool align : {false, true})
      compare_gpu(
          [&](const TensorList& t) {
            return upsample_bicubic2d(t[0], c.out, align, align ? std::vector<double>{} : c.scales);
          },
          {x}, 1e-12, 1e-12);
    Tensor xf = rand(c.in).requires_grad_(true);
    compare_gpu([&](const TensorList& t) { return upsample_bilinear2d(t[0], c.out, false, c.scales); }, {xf}, 1e-5,
                1e-5);
    compare_gpu([&](const TensorList& t) { return upsample_nearest2d(t[0], c.out, c.scales); },
                {randint(0, 9, c.in, TensorOptions(DType::Int32))}, 0, 0);
  }
}
