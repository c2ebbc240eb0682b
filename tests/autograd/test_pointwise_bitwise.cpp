// bitwise_and/or/xor/not through the front ends: values on bool, int32 and
// int64 (random, transposed and broadcast inputs, int64 values beyond 2^53),
// PyTorch's result dtypes for 0-d tensors and scalars, the in-place forms and
// the errors for floating operands.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using test::error_kind;

namespace {

template <typename T>
std::vector<T> values(const Tensor& t) {
  Tensor c = t.contiguous();
  REQUIRE(c.dtype() == dtype_of<T>::value);
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}

// Random values over the whole range of T (bool: 0 or 1).
template <typename T>
std::vector<T> random_values(size_t n, std::mt19937_64& rng) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t r = rng();
    if constexpr (std::is_same_v<T, bool>) v[i] = r & 1;
    else v[i] = static_cast<T>(r);
  }
  return v;
}

template <typename T, typename F>
std::vector<T> ref2(const std::vector<T>& a, const std::vector<T>& b, F f) {
  std::vector<T> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = static_cast<T>(f(a[i], b[i]));
  return r;
}

Tensor ints(const std::vector<int32_t>& v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }
Tensor longs(const std::vector<int64_t>& v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }
Tensor bools(const std::vector<bool>& v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }

}  // namespace

TEST_CASE("bitwise ops match C++ on bool, int32 and int64", "[ops][bitwise]") {
  std::mt19937_64 rng(7);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    // [7, 13] transposed (non-contiguous) against [13, 7] contiguous.
    auto av = random_values<T>(7 * 13, rng), bv = random_values<T>(13 * 7, rng);
    Tensor a = from_vector(av, {7, 13}).t(), b = from_vector(bv, {13, 7});
    std::vector<T> ac = values<T>(a), bc = values<T>(b);
    CHECK(values<T>(a.bitwise_and(b)) == ref2(ac, bc, [](T x, T y) { return x & y; }));
    CHECK(values<T>(a.bitwise_or(b)) == ref2(ac, bc, [](T x, T y) { return x | y; }));
    CHECK(values<T>(a.bitwise_xor(b)) == ref2(ac, bc, [](T x, T y) { return x ^ y; }));
    CHECK(values<T>(a & b) == values<T>(a.bitwise_and(b)));
    CHECK(values<T>(a | b) == values<T>(a.bitwise_or(b)));
    CHECK(values<T>(a ^ b) == values<T>(a.bitwise_xor(b)));
    std::vector<T> nv(ac.size());
    for (size_t i = 0; i < ac.size(); ++i) {
      if constexpr (std::is_same_v<T, bool>) nv[i] = !ac[i];
      else nv[i] = static_cast<T>(~ac[i]);
    }
    CHECK(values<T>(a.bitwise_not()) == nv);
    CHECK(values<T>(~a) == nv);
    CHECK(a.bitwise_and(b).dtype() == dtype_of<T>::value);
    CHECK(a.bitwise_not().dtype() == dtype_of<T>::value);
  };
  run(bool{});
  run(int32_t{});
  run(int64_t{});
}

TEST_CASE("bitwise ops broadcast and handle empty tensors", "[ops][bitwise]") {
  Tensor a = from_vector<int32_t>({1, 2, 3, -1}, {4, 1});
  Tensor b = ints({6, 5, 12});
  Tensor r = a.bitwise_and(b);
  CHECK(r.sizes() == Shape{4, 3});
  CHECK(values<int32_t>(r) == std::vector<int32_t>{0, 1, 0, 2, 0, 0, 2, 1, 0, 6, 5, 12});
  CHECK(values<int32_t>(a ^ b) == std::vector<int32_t>{7, 4, 13, 4, 7, 14, 5, 6, 15, -7, -6, -13});
  Tensor e = zeros({0, 3}, TensorOptions(DType::Int64));
  CHECK((e | longs({1, 2, 3})).sizes() == Shape{0, 3});
  CHECK(e.bitwise_not().sizes() == Shape{0, 3});
  test::check_error([&] { b.bitwise_or(ints({1, 2})); }, {"tensor a (3)", "tensor b (2)"});
}

TEST_CASE("bitwise ops follow PyTorch's result types", "[ops][bitwise]") {
  Tensor i32 = ints({1, 2}), i64 = longs({3, 1}), b = bools({true, false});
  Tensor z64 = scalar_tensor(Scalar(int64_t(3)), TensorOptions(DType::Int64));
  Tensor z32 = scalar_tensor(Scalar(int64_t(1)), TensorOptions(DType::Int32));
  Tensor zb = scalar_tensor(Scalar(true), TensorOptions(DType::Bool));
  // The fuzz-03 case: int32 [1, 2] & [3, 1] is int32 [1, 0], not a logical result.
  CHECK(values<int32_t>(i32 & ints({3, 1})) == std::vector<int32_t>{1, 0});
  CHECK((i32 & i64).dtype() == DType::Int64);
  CHECK((b | i32).dtype() == DType::Int32);
  CHECK((b ^ b).dtype() == DType::Bool);
  // A 0-d tensor only counts when its category is higher.
  CHECK((i32 & z64).dtype() == DType::Int32);
  CHECK((z64 & i32).dtype() == DType::Int32);
  CHECK((b & z64).dtype() == DType::Int64);
  CHECK((i32 | zb).dtype() == DType::Int32);
  CHECK((z32 ^ z64).dtype() == DType::Int64);
  CHECK((z32 ^ z64).dim() == 0);
  // Scalars: an int with a bool tensor gives int64, a bool keeps bool.
  CHECK((i32 & 0).dtype() == DType::Int32);
  CHECK(values<int32_t>(i32 & 0) == std::vector<int32_t>{0, 0});
  CHECK(values<int32_t>(i32 | 4) == std::vector<int32_t>{5, 6});
  CHECK(values<int32_t>(i32 ^ -1) == std::vector<int32_t>{-2, -3});
  CHECK((b & 1).dtype() == DType::Int64);
  CHECK(values<int64_t>(b | 2) == std::vector<int64_t>{3, 2});
  CHECK((b & true).dtype() == DType::Bool);
  CHECK(values<bool>(b ^ true) == std::vector<bool>{false, true});
  CHECK(values<bool>(b.bitwise_or(false)) == std::vector<bool>{true, false});
  // int64 scalars beyond 2^53 stay exact.
  const int64_t big = (int64_t(1) << 62) + 12345, max = INT64_MAX;
  Tensor l = longs({big, -1, INT64_MIN});
  CHECK(values<int64_t>(l & max) == std::vector<int64_t>{big, max, 0});
  CHECK(values<int64_t>(l ^ big) == std::vector<int64_t>{0, ~big, INT64_MIN ^ big});
  CHECK(values<int64_t>(l | INT64_MIN) == std::vector<int64_t>{big | INT64_MIN, -1, INT64_MIN});
  CHECK(values<int64_t>(longs({0}).bitwise_or(Scalar(int64_t(9007199254740993)))) ==
        std::vector<int64_t>{9007199254740993});
}

TEST_CASE("bitwise in-place forms", "[ops][bitwise]") {
  Tensor x = ints({12, 10, -1});
  uint64_t v0 = x.version();
  x &= ints({10, 6, 5});
  CHECK(values<int32_t>(x) == std::vector<int32_t>{8, 2, 5});
  CHECK(x.version() > v0);
  x |= ints({1, 1, 2});
  CHECK(values<int32_t>(x) == std::vector<int32_t>{9, 3, 7});
  x ^= ints({9, 0, 7});
  CHECK(values<int32_t>(x) == std::vector<int32_t>{0, 3, 0});
  x.bitwise_xor_(Scalar(5)).bitwise_or_(Scalar(8)).bitwise_and_(Scalar(-2));
  CHECK(values<int32_t>(x) == std::vector<int32_t>{12, 14, 12});
  x.bitwise_not_();
  CHECK(values<int32_t>(x) == std::vector<int32_t>{-13, -15, -13});

  // int32 &= int64: the result type is int64, cast back to int32 (low 32 bits).
  Tensor y = ints({-1, 7});
  y.bitwise_and_(longs({(int64_t(1) << 40) | 0xF0, 3}));
  CHECK(y.dtype() == DType::Int32);
  CHECK(values<int32_t>(y) == std::vector<int32_t>{0xF0, 3});
  // Broadcasting the other operand; a row written through a view.
  Tensor m = zeros({2, 3}, TensorOptions(DType::Int64));
  m |= longs({1, 2, 4});
  m.select(0, 1).bitwise_xor_(Scalar(int64_t(7)));
  CHECK(values<int64_t>(m) == std::vector<int64_t>{1, 2, 4, 6, 5, 3});
  Tensor b = bools({true, false});
  b ^= bools({true, true});
  b.bitwise_or_(Scalar(false));
  CHECK(values<bool>(b) == std::vector<bool>{false, true});
  b.bitwise_not_();
  CHECK(values<bool>(b) == std::vector<bool>{true, false});
}

TEST_CASE("bitwise ops reject floating operands and bad in-place casts", "[ops][bitwise]") {
  Tensor i32 = ints({1, 2}), f = from_vector<float>({1, 2}, {2}), d = from_vector<double>({1, 2}, {2});
  test::check_error([&] { i32.bitwise_and(f); }, {"\"bitwise_and_cpu\" not implemented for 'Float'", "float32 [2]"});
  test::check_error([&] { d | i32; }, {"\"bitwise_or_cpu\" not implemented for 'Double'"});
  test::check_error([&] { i32 ^ 1.5; }, {"\"bitwise_xor_cpu\" not implemented for 'Float'", "1.5"});
  test::check_error([&] { bools({true}) & 0.5; }, {"not implemented for 'Float'"});
  test::check_error([&] { f.bitwise_not(); }, {"\"bitwise_not_cpu\" not implemented for 'Float'"});
  test::check_error([&] { ~d; }, {"not implemented for 'Double'"});
  test::check_error([&] { i32.bitwise_and_(f); }, {"\"bitwise_and_cpu\" not implemented for 'Float'"});
  test::check_error([&] { f.bitwise_or_(Scalar(1)); }, {"\"bitwise_or_cpu\" not implemented for 'Float'"});
  test::check_error([&] { f.bitwise_not_(); }, {"not implemented for 'Float'"});
  CHECK(error_kind([&] { i32.bitwise_and(f); }) == ErrorKind::Type);
  CHECK(error_kind([&] { f.bitwise_not(); }) == ErrorKind::Type);

  // In place, the result type must be castable to self's dtype.
  Tensor b = bools({true, false});
  test::check_error([&] { b &= i32; }, {"bitwise_and_", "result type Int can't be cast", "Bool"});
  test::check_error([&] { b.bitwise_or_(Scalar(1)); }, {"result type Long can't be cast", "Bool"});
  test::check_error([&] { ints({1}).bitwise_xor_(i32); }, {"output with shape [1]", "broadcast shape [2]"});
  test::check_error([&] { ints({1}).expand({3}).bitwise_not_(); }, {"bitwise_not_"});
  test::check_error([&] { i32& Scalar(int64_t(1) << 40); }, {"bitwise_and"});
  CHECK(values<bool>(b) == std::vector<bool>{true, false});  // untouched by the failed calls
}

TEST_CASE("bitwise ops on CUDA tensors match the CPU", "[cuda][bitwise]") {
  LOOM_REQUIRE_GPU();
  const Device gpu("cuda:0");
  std::mt19937_64 rng(11);
  auto same = [](const Tensor& g, const Tensor& c) {
    REQUIRE(g.device().is_cuda());
    REQUIRE(g.dtype() == c.dtype());
    REQUIRE(g.sizes() == c.sizes());
    Tensor a = g.cpu().contiguous().to(DType::Int64), b = c.contiguous().to(DType::Int64);
    CHECK(values<int64_t>(a) == values<int64_t>(b));
  };
  Tensor a64 = from_vector(random_values<int64_t>(37 * 129, rng), {37, 129});
  Tensor b64 = from_vector(random_values<int64_t>(129, rng), {129});
  Tensor a32 = from_vector(random_values<int32_t>(129 * 37, rng), {129, 37}).t();  // non-contiguous
  Tensor ab = from_vector(random_values<bool>(37 * 129, rng), {37, 129});
  Tensor z = scalar_tensor(Scalar(int64_t(-6)), TensorOptions(DType::Int64));
  Tensor ga64 = a64.to(gpu), gb64 = b64.to(gpu), ga32 = a32.to(gpu), gab = ab.to(gpu), gz = z.to(gpu);
  same(ga64 & gb64, a64 & b64);
  same(ga32 | gb64, a32 | b64);
  same(gab ^ ga32, ab ^ a32);
  same(ga32 & gz, a32 & z);
  same(gab | Scalar(3), ab | Scalar(3));
  same(gab ^ true, ab ^ true);
  same(ga64 ^ Scalar((int64_t(1) << 60) + 7), a64 ^ Scalar((int64_t(1) << 60) + 7));  // an exact 0-d operand
  same(~ga32, ~a32);
  same(~gab, ~ab);
  Tensor gx = ga64.clone(), x = a64.clone();
  gx &= gb64, x &= b64;
  gx.bitwise_or_(Scalar(int64_t(-(int64_t(1) << 55)))), x.bitwise_or_(Scalar(int64_t(-(int64_t(1) << 55))));
  gx.bitwise_not_(), x.bitwise_not_();
  same(gx, x);
  test::check_error([&] { ga64.bitwise_and(ga64.to(DType::Float32)); },
                    {"\"bitwise_and_cuda\" not implemented for 'Float'"});
}
