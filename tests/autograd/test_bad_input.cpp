// Regression tests for crashes and silent wrong answers found by fuzzing:
// 0-d tensors in shape ops, type promotion with 0-d tensors and empty
// tensors, writes into self-overlapping tensors, unchecked conversions,
// gradients of std / norm at zero, and size requests that overflow.
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <limits>

#include "test_util.h"

using namespace loom;
using test::check_error;
using test::error_kind;

TEST_CASE("shape ops on 0-d tensors raise instead of crashing", "[autograd][bad_input]") {
  Tensor s = scalar_tensor(1.0, TensorOptions(DType::Float32));
  CHECK(error_kind([&] { s.unbind(0); }) == ErrorKind::Index);
  check_error([&] { s.unbind(0); }, {"unbind", "no dimensions"});
  check_error([&] { s.chunk(1, 0); }, {"chunk", "1-dimensional"});
  check_error([&] { s.split(1, 0); }, {"split", "1-dimensional"});
  check_error([&] { s.split_with_sizes({1}, 0); }, {"split_with_sizes", "1-dimensional"});
  CHECK(error_kind([&] { s.unflatten(0, {1}); }) == ErrorKind::Index);
  CHECK(error_kind([&] { s.size(0); }) == ErrorKind::Index);
  CHECK(error_kind([&] { s.stride(-1); }) == ErrorKind::Index);
  check_error([&] { s.transpose(int64_t(1) << 40, -1); }, {"transpose", "Dimension out of range", "1099511627776"});
  check_error([&] { s.flatten(64); }, {"flatten", "Dimension out of range"});
  // What PyTorch accepts on a 0-d tensor still works.
  CHECK(s.transpose(0, -1).dim() == 0);
  CHECK(s.flatten(0, -1).sizes() == Shape{1});
  Tensor z = zeros({2, 2});
  check_error(
      [&] {
        z.scatter_add(1, from_vector<int64_t>({0}, {1, 1}), s);
      },
      {"scatter_add", "same number of dimensions as src", "[1, 1]"});
  check_error(
      [&] {
        z.scatter_add_(0, from_vector<int64_t>({0, 1}, {2}), ones({2, 2}));
      },
      {"scatter_add_", "same number of dimensions as self"});
  // A 1-d index with 0-d self and src is valid (as PyTorch).
  Tensor s2 = zeros({});
  s2.scatter_add_(0, from_vector<int64_t>({0}, {1}), scalar_tensor(2.0, TensorOptions(DType::Float32)));
  CHECK(s2.item<double>() == 2.0);
}

TEST_CASE("0-d tensors take part in type promotion by category", "[autograd][bad_input]") {
  Tensor b = from_vector<bool>({true, false}, {2});
  Tensor five = scalar_tensor(5, TensorOptions(DType::Int32));
  Tensor sum = b + five;
  CHECK(sum.dtype() == DType::Int32);
  test::check_close(sum, {6, 5});
  CHECK(b.maximum(five).dtype() == DType::Int32);
  // Same category: the dimensioned tensor decides.
  Tensor i32 = from_vector<int32_t>({1, 2}, {2});
  CHECK((i32 + scalar_tensor(1, TensorOptions(DType::Int64))).dtype() == DType::Int32);
  CHECK((ones({2}) + scalar_tensor(1.0, TensorOptions(DType::Float64))).dtype() == DType::Float32);
  // Higher category: the 0-d tensor's dtype.
  CHECK((i32 + scalar_tensor(1.5, TensorOptions(DType::Float64))).dtype() == DType::Float64);
  CHECK((b + scalar_tensor(1, TensorOptions(DType::Int64))).dtype() == DType::Int64);
  // Two 0-d tensors promote normally.
  CHECK((scalar_tensor(true, TensorOptions(DType::Bool)) + five).dtype() == DType::Int32);
}

TEST_CASE("cat promotes over empty tensors too", "[autograd][bad_input]") {
  Tensor r = cat({zeros({0}), from_vector<int32_t>({1, 2}, {2})});
  CHECK(r.dtype() == DType::Float32);
  test::check_close(r, {1, 2});
  CHECK(cat({zeros({0}, TensorOptions(DType::Int64)), zeros({0})}).dtype() == DType::Float32);
}

TEST_CASE("writes into a self-overlapping tensor raise", "[autograd][bad_input]") {
  Tensor x = zeros({3, 1}).expand({3, 3});
  check_error([&] { x.add_(ones({3, 3})); }, {"add_", "more than one element of the written-to tensor"});
  check_error([&] { x.copy_(ones({3, 3})); }, {"copy_", "single memory location"});
  check_error([&] { x.mul_(2.0); }, {"mul_", "single memory location"});
  check_error([&] { x.masked_fill_(ones({3, 3}).gt(0.0), 1.0); }, {"masked_fill_", "single memory location"});
  check_error(
      [&] {
        x.scatter_add_(0, zeros({1, 1}, TensorOptions(DType::Int64)), ones({1, 1}));
      },
      {"scatter_add_", "single memory location"});
  CHECK(zeros({3, 1}).expand({3, 3}).sum().item<double>() == 0.0);  // nothing was written
  // Filling writes one value everywhere: allowed, as in PyTorch.
  x.fill_(1.0);
  test::check_close(x, std::vector<double>(9, 1.0));
  // Expanding a size-1 dim to size 1 and ordinary views are fine.
  zeros({3, 1}).expand({3, 1}).add_(1.0);
  zeros({4, 4}).t().slice(0, 0, 4, 2).add_(1.0);
}

TEST_CASE("values that do not fit the dtype raise", "[autograd][bad_input]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  check_error([&] { full({2}, nan, TensorOptions(DType::Int64)); }, {"full", "cannot be converted", "int64"});
  check_error([&] { full({2}, INFINITY, TensorOptions(DType::Int32)); }, {"full", "cannot be converted"});
  check_error([&] { full({2}, Scalar(int64_t(1) << 40), TensorOptions(DType::Int32)); }, {"int32"});
  check_error([&] { full({2}, 1e300, TensorOptions(DType::Float32)); }, {"float32"});
  check_error([&] { zeros({2}, TensorOptions(DType::Int64)).fill_(nan); }, {"fill_"});
  Tensor ints = from_vector<int64_t>({1, 2}, {2});
  Tensor mask = from_vector<bool>({true, false}, {2});
  check_error([&] { ints.masked_fill(mask, nan); }, {"masked_fill", "cannot be converted"});
  check_error([&] { ints.clone().masked_fill_(mask, nan); }, {"masked_fill_", "cannot be converted"});
  check_error([&] { ints.clone().clamp_(Scalar(0.5), Scalar(1.5)); }, {"clamp_", "can't be cast", "int64"});
  check_error([&] { ints.pow(Scalar(-1)); }, {"pow", "negative integer powers"});
  check_error([&] { ints.clone().pow_(Scalar(-2)); }, {"pow_", "negative integer powers"});
  // A tensor of exponents computes, as PyTorch's: a negative power of an integer is the truncated 1 / x^n.
  CHECK(ints.pow(from_vector<int64_t>({2, -1}, {2})).dtype() == ints.dtype());
  // What fits still works: in-range values, inf into floats, any value into bool,
  // float exponents of integer tensors (a float result).
  test::check_close(full({2}, INFINITY, TensorOptions(DType::Float32)), {INFINITY, INFINITY});
  CHECK(full({1}, 7.0, TensorOptions(DType::Bool)).item<bool>());
  test::check_close(ints.masked_fill(mask, 2.5), {2, 2});
  test::check_close(ints.pow(Scalar(-1.0)), {1.0, 0.5});
  test::check_close(ints.pow(from_vector<int64_t>({2, 3}, {2})), {1, 8});
  test::check_close(ints.clone().clamp_(Scalar(0), Scalar(1)), {1, 1});
}

TEST_CASE("std, var and norm have finite gradients at zero spread", "[autograd][bad_input]") {
  auto x = from_vector<double>({1, 1, 1}, {1, 3}).requires_grad_();
  x.std({1}).sum().backward();
  test::check_close(x.grad(), {0, 0, 0});
  x.grad().zero_();
  x.var({1}).sum().backward();
  test::check_close(x.grad(), {0, 0, 0});
  for (double p : {0.5, 1.0, 1.5, 2.0, 3.0, double(INFINITY)}) {
    auto z = zeros({2, 3}, TensorOptions(DType::Float64)).requires_grad_();
    z.norm(p).backward();
    INFO("p = " << p);
    test::check_close(z.grad(), std::vector<double>(6, 0.0));
  }
  // Away from zero the gradients are unchanged (float64 finite differences).
  auto y = from_vector<double>({0.3, -1.2, 2.0, 0.7}, {2, 2}).requires_grad_();
  CHECK(autograd::gradcheck([](const TensorList& in) { return in[0].std({1}); }, {y}).ok);
  CHECK(autograd::gradcheck([](const TensorList& in) { return in[0].norm(0.5); }, {y}).ok);
  CHECK(autograd::gradcheck([](const TensorList& in) { return in[0].norm(3.0, {0}); }, {y}).ok);
}

TEST_CASE("sizes that overflow raise out-of-memory before allocating", "[autograd][bad_input]") {
  const int64_t big = int64_t(1) << 40;
  CHECK(error_kind([&] { empty({big, big}); }) == ErrorKind::OutOfMemory);
  check_error([&] { empty({big, big}); }, {"out of memory", "[1099511627776, 1099511627776]"});
  check_error([&] { empty({int64_t(1) << 62}); }, {"more than 2^63 bytes"});
  check_error([&] { zeros({big}); }, {"bytes"});
  CHECK(error_kind([&] { ones({2}).expand({big, 2}).contiguous(); }) == ErrorKind::OutOfMemory);
}

TEST_CASE("API fuzzer findings: dtypes, shapes and values as PyTorch", "[autograd][bad_input]") {
  const Tensor i32 = from_vector<int32_t>({1, 2}, {2});
  const Tensor b = from_vector<bool>({true, false}, {2});
  SECTION("alpha is applied in the result dtype and must match its category") {
    CHECK(scalar_tensor(2, TensorOptions(DType::Int64)).add(scalar_tensor(0, TensorOptions(DType::Int64)), 2).dtype() ==
          DType::Int64);
    CHECK(i32.add(b, 2).dtype() == DType::Int32);
    Tensor f = from_vector<float>({3.0f}, {1});
    test::check_close(f.sub(from_vector<int32_t>({-2147483647}, {1}), 2), {4294967297.0});
    check_error([&] { i32.add(i32, 1.5); }, {"alpha must not be a floating point number"});
    check_error([&] { i32.clone().add_(i32, 0.5); }, {"add_", "alpha"});
    check_error([&] { i32.add(i32, true); }, {"Boolean alpha"});
  }
  SECTION("subtraction and negation refuse bool tensors") {
    check_error([&] { b.sub(b); }, {"two bool tensors"});
    check_error([&] { i32.sub(Scalar(false)); }, {"with a bool tensor"});
    check_error([&] { Scalar(true) - i32; }, {"rsub"});
    check_error([&] { b.clone().sub_(Scalar(1)); }, {"sub_"});
    check_error([&] { zeros({0}, TensorOptions(DType::Bool)).neg_(); }, {"Negation"});
    check_error([&] { b.neg(); }, {"Negation"});
  }
  SECTION("in-place ops check that the result fits self's dtype") {
    check_error([&] { b.clone().pow_(scalar_tensor(2, TensorOptions(DType::Int64))); }, {"pow_", "can't be cast"});
    check_error(
        [&] {
          from_vector<int64_t>({1, 2}, {2}).clamp_(from_vector<float>({0.5f}, {1}), Tensor());
        },
        {"clamp_", "can't be cast"});
    Tensor x = from_vector<double>({1, 2, 3}, {3});
    x.pow_(from_vector<double>({2, 2, 0.5}, {3}));
    test::check_close(x, {1, 4, std::sqrt(3.0)});
    x.clamp_(from_vector<double>({2}, {1}), scalar_tensor(3.0, TensorOptions(DType::Float64)));
    test::check_close(x, {2, 3, 2});
  }
  SECTION("max/min over bool tensors are any/all") {
    CHECK(b.amax().item<bool>());
    CHECK_FALSE(b.amin().item<bool>());
    CHECK(b.amax().dtype() == DType::Bool);
    CHECK(b.max().item<bool>());
  }
  SECTION("index_select on a 0-d tensor takes exactly one index") {
    Tensor s = scalar_tensor(7.0, TensorOptions(DType::Float32));
    check_error([&] { s.index_select(0, zeros({0}, TensorOptions(DType::Int64))); }, {"Index to scalar", "0 value"});
    check_error([&] { s.index_select(0, zeros({2}, TensorOptions(DType::Int64))); }, {"only 1 value"});
    CHECK(s.index_select(0, zeros({1}, TensorOptions(DType::Int64))).item<double>() == 7.0);
  }
  SECTION("empty tensors: chunk, split, is_contiguous, matmul") {
    CHECK(zeros({0}).chunk(3).size() == 3);
    check_error([&] { zeros({0, 0}).split(-1, -1); }, {"non-negative"});
    check_error([&] { zeros({4}).split(0); }, {"split_size can only be 0"});
    CHECK(zeros({0, 0}).is_contiguous());
    CHECK(zeros({2, 0}).t().is_contiguous());
    Tensor m = zeros({1, 1, 0}).expand({1, 2, 0}).matmul(zeros({0, 3}));
    CHECK(m.sizes() == Shape{1, 2, 3});
    test::check_close(m, std::vector<double>(6, 0.0));
  }
  SECTION("masked_fill broadcasts self with the mask") {
    auto x = scalar_tensor(5.0, TensorOptions(DType::Float64)).requires_grad_();
    Tensor y = x.masked_fill(from_vector<bool>({false, true, false}, {3}), 3.0);
    CHECK(y.sizes() == Shape{3});
    test::check_close(y, {5, 3, 5});
    y.sum().backward();
    test::check_close(x.grad(), {2});
  }
  SECTION("clamp with tensor bounds promotes all three at once") {
    Tensor x = from_vector<int64_t>({-3, 0, 9}, {3});
    Tensor r = x.clamp(scalar_tensor(-1.0, TensorOptions(DType::Float64)), from_vector<float>({1, 2, 3}, {3}));
    CHECK(r.dtype() == DType::Float32);
    test::check_close(r, {-1, 0, 3});
  }
  SECTION("log_softmax keeps precision for inputs of large magnitude") {
    Tensor x = from_vector<float>({-2147483648.0f, -2147483648.0f}, {2});
    test::check_close(x.log_softmax(0), {-std::log(2.0), -std::log(2.0)});
    Tensor y = from_vector<float>({100000.0f, 100000.0f}, {1, 2});
    test::check_close(y.log_softmax(1), {-std::log(2.0), -std::log(2.0)});
  }
}
