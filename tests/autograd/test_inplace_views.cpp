// In-place ops through views under autograd: the base's history takes the
// write (CopySlices), views made earlier follow the base, and the forbidden
// cases raise. Gradients checked numerically in float64.
#include <catch2/catch_test_macros.hpp>

#include "autograd/engine.h"
#include "core/error.h"
#include "core/tensor.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

TEST_CASE("in-place writes through views reach the base's gradient", "[autograd][grad]") {
  // x[1] = a[0] * 3, then x[:, 2] *= a[:, 1]: overwritten elements get no gradient.
  check_grad(
      [](const TensorList& t) {
        Tensor x = t[0] * 1.0;
        x.select(0, 1).copy_(t[1].select(0, 0) * 3.0);
        x.select(1, 2).mul_(t[1].select(1, 1));
        return x * x;
      },
      {leaf({3, 4}), leaf({3, 4})});
  // A loop filling a tensor that did not require grad.
  check_grad(
      [](const TensorList& t) {
        Tensor out = zeros({3, 4}, TensorOptions(DType::Float64));
        for (int64_t c = 0; c < 4; ++c) out.select(1, c).copy_((t[0].select(1, c) * double(c + 1)).tanh());
        return out.exp();
      },
      {leaf({3, 4})});
  // A view made before the base changed in place reads the new values.
  check_grad(
      [](const TensorList& t) {
        Tensor x = t[0] * 1.0;
        Tensor h = x.narrow(0, 1, 2);
        x.mul_(t[1]);
        return h * h;
      },
      {leaf({3, 4}), leaf({3, 4})});
  // A strided (transposed) view of a view.
  check_grad(
      [](const TensorList& t) {
        Tensor x = t[0] * 1.0;
        x.t().narrow(0, 1, 2).add_(t[1].t().narrow(0, 0, 2));
        x.t().select(0, 3).fill_(0.5);
        return x.sin();
      },
      {leaf({3, 4}), leaf({3, 4})});
}

TEST_CASE("writing a requires-grad value into a plain tensor's view makes it require grad", "[autograd]") {
  Tensor a = ones({2}, TensorOptions(DType::Float64)).requires_grad_(true);
  Tensor z = zeros({4}, TensorOptions(DType::Float64));
  z.narrow(0, 1, 2).copy_(a * 2.0);
  REQUIRE(z.requires_grad());
  REQUIRE(z.grad_fn()->name() == "CopySlices");
  z.sum().backward();
  CHECK(a.grad().to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("in-place ops on leaf views and on split pieces raise under autograd", "[autograd]") {
  Tensor w = ones({3}).requires_grad_(true);
  CHECK_THROWS_AS(w.narrow(0, 0, 2).mul_(2.0), Error);
  Tensor b = ones({3, 2}).requires_grad_(true) * 1.0;
  CHECK_THROWS_AS(b.unbind(0)[1].mul_(2.0), Error);
  CHECK_THROWS_AS(b.split(1, 1)[0].fill_(1.0), Error);
  {
    autograd::NoGradGuard ng;
    w.narrow(0, 0, 2).mul_(2.0);
    b.unbind(0)[1].mul_(2.0);
  }
  CHECK(w.detach().to_vector() == std::vector<double>{2, 2, 1});
}

TEST_CASE("in-place views take the view's geometry and history", "[autograd][grad]") {
  Tensor x = arange(6, TensorOptions(DType::Float64)).view({2, 1, 3});
  const uint64_t v0 = x.version();
  Tensor& same = x.squeeze_(1);
  CHECK(&same == &x);
  CHECK(x.sizes() == Shape{2, 3});
  CHECK(x.version() == v0 + 1);
  x.t_();
  CHECK(x.sizes() == Shape{3, 2});
  CHECK(x.strides() == Shape{1, 3});
  x.unsqueeze_(0).transpose_(0, 2);
  CHECK(x.sizes() == Shape{2, 3, 1});
  x.as_strided_({2, 2}, {1, 2}, 1);
  CHECK(x.to_vector() == std::vector<double>{1, 3, 2, 4});
  CHECK_THROWS_AS(zeros({2, 3, 4}).t_(), Error);
  CHECK_THROWS_AS(zeros({2, 3}).squeeze_(4), Error);

  // A non-leaf: the gradient flows through the transpose; a view of it made
  // before follows the new history.
  check_grad(
      [](const TensorList& t) {
        Tensor y = t[0] * 2.0;
        Tensor u = y.select(0, 1);
        y.t_().unsqueeze_(1).squeeze_(1);
        return (y * t[1]).sum() + (u * u).sum();
      },
      {leaf({2, 3}), leaf({3, 2})});

  // The rules of in-place ops: a leaf requiring grad, a view of one, and a
  // node that saved the tensor with its old shape.
  Tensor w = ones({2, 3}, TensorOptions(DType::Float64)).requires_grad_(true);
  CHECK_THROWS_AS(w.t_(), Error);
  CHECK_THROWS_AS(w.select(0, 0).unsqueeze_(0), Error);
  Tensor y = w * 1.0;
  Tensor z = y * y;
  y.t_();
  CHECK_THROWS_AS(z.sum().backward(), Error);
  {
    autograd::NoGradGuard ng;
    w.t_();
  }
  CHECK(w.sizes() == Shape{3, 2});
  CHECK(w.is_leaf());
}
