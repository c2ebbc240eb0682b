// Op values through the front ends against plain C++ references, on random,
// non-contiguous and broadcast inputs.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <cmath>

#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;

namespace {

// Values of `t` broadcast to `shape`, row-major.
std::vector<double> bvals(const Tensor& t, const Shape& shape) { return t.expand(shape).contiguous().to_vector(); }

template <typename F>
std::vector<double> map1(const std::vector<double>& a, F f) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = f(a[i]);
  return r;
}
template <typename F>
std::vector<double> map2(const std::vector<double>& a, const std::vector<double>& b, F f) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = f(a[i], b[i]);
  return r;
}

}  // namespace

TEST_CASE("unary ops match std:: on strided inputs", "[ops]") {
  manual_seed(1);
  for (DType dt : {DType::Float32, DType::Float64}) {
    auto base = randn({7, 13}, dt) * 2.0;
    auto x = base.t();  // non-contiguous
    auto xv = x.contiguous().to_vector();
    double tol = dt == DType::Float32 ? 1e-5 : 1e-12;
    test::check_close(x.neg(), map1(xv, [](double v) { return -v; }), tol, tol);
    test::check_close(x.abs(), map1(xv, [](double v) { return std::fabs(v); }), tol, tol);
    test::check_close(x.exp(), map1(xv, [](double v) { return std::exp(v); }), tol, tol);
    test::check_close(x.abs().log(), map1(xv, [](double v) { return std::log(std::fabs(v)); }), tol, tol);
    test::check_close(x.abs().sqrt(), map1(xv, [](double v) { return std::sqrt(std::fabs(v)); }), tol, tol);
    test::check_close(x.abs().rsqrt(), map1(xv, [](double v) { return 1 / std::sqrt(std::fabs(v)); }), tol, tol);
    test::check_close(x.sin(), map1(xv, [](double v) { return std::sin(v); }), tol, tol);
    test::check_close(x.cos(), map1(xv, [](double v) { return std::cos(v); }), tol, tol);
    test::check_close(x.tanh(), map1(xv, [](double v) { return std::tanh(v); }), tol, tol);
    test::check_close(x.sigmoid(), map1(xv, [](double v) { return 1 / (1 + std::exp(-v)); }), tol, tol);
    test::check_close(x.relu(), map1(xv, [](double v) { return v > 0 ? v : 0; }), tol, tol);
    test::check_close(x.gelu(), map1(xv, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }), tol,
                      tol);
    test::check_close(
        x.gelu("tanh"),
        map1(xv, [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); }),
        tol, tol);
    test::check_close(x.silu(), map1(xv, [](double v) { return v / (1 + std::exp(-v)); }), tol, tol);
    test::check_close(x.sign(), map1(xv, [](double v) { return (v > 0) - (v < 0); }), 0, 0);
    test::check_close(x.square(), map1(xv, [](double v) { return v * v; }), tol, tol);
    test::check_close(x.reciprocal(), map1(xv, [](double v) { return 1 / v; }), tol, tol);
  }
  auto i = from_vector<int64_t>({-3, 0, 5}, {3});
  test::check_close(i.abs(), {3, 0, 5});
  CHECK(i.abs().dtype() == DType::Int64);
  CHECK(i.exp().dtype() == DType::Float32);  // integer inputs of float ops promote
  test::check_close(i.gt(0).logical_not(), {1, 1, 0});
}

TEST_CASE("binary ops broadcast over strided operands", "[ops]") {
  manual_seed(2);
  auto a = randn({5, 1, 7}, DType::Float64);
  auto b = randn({7, 6}, DType::Float64).t().unsqueeze(0).expand({1, 6, 7});  // stride-0 and transposed
  Shape s{5, 6, 7};
  auto av = bvals(a, s), bv = bvals(b, s);
  test::check_close(a + b, map2(av, bv, [](double x, double y) { return x + y; }), 1e-12, 1e-12);
  test::check_close(a - b, map2(av, bv, [](double x, double y) { return x - y; }), 1e-12, 1e-12);
  test::check_close(a * b, map2(av, bv, [](double x, double y) { return x * y; }), 1e-12, 1e-12);
  test::check_close(a / b, map2(av, bv, [](double x, double y) { return x / y; }), 1e-12, 1e-12);
  test::check_close(a.abs().pow(b), map2(av, bv, [](double x, double y) { return std::pow(std::fabs(x), y); }), 1e-12,
                    1e-10);
  test::check_close(a.maximum(b), map2(av, bv, [](double x, double y) { return std::max(x, y); }), 0, 0);
  test::check_close(a.minimum(b), map2(av, bv, [](double x, double y) { return std::min(x, y); }), 0, 0);
  test::check_close(a.lt(b), map2(av, bv, [](double x, double y) { return double(x < y); }), 0, 0);
  test::check_close(a.ge(b), map2(av, bv, [](double x, double y) { return double(x >= y); }), 0, 0);
  test::check_close(a.eq(a), std::vector<double>(35, 1.0), 0, 0);
  test::check_close(a.add(b, 2.0), map2(av, bv, [](double x, double y) { return x + 2 * y; }), 1e-12, 1e-12);
  test::check_close(3.0 - a, map1(bvals(a, {5, 1, 7}), [](double x) { return 3 - x; }), 1e-12, 1e-12);
  test::check_close(2.0 / a, map1(bvals(a, {5, 1, 7}), [](double x) { return 2 / x; }), 1e-12, 1e-12);
  test::check_close(a.pow(2.0), map1(bvals(a, {5, 1, 7}), [](double x) { return x * x; }), 1e-12, 1e-12);
  auto ints = from_vector<int64_t>({7, -7, 9}, {3});
  test::check_close(ints * 2, {14, -14, 18});
  test::check_close(ints.pow(2), {49, 49, 81});
  CHECK(ints.pow(2).dtype() == DType::Int64);
  // Shape errors name both shapes.
  CHECK_THROWS_WITH(ones({2, 3}) + ones({4}), ContainsSubstring("[2, 3]") && ContainsSubstring("[4]"));
}

TEST_CASE("in-place ops write through views", "[ops]") {
  auto x = zeros({3, 4});
  x.select(1, 2).add_(5.0);
  x.slice(0, 1, 3).mul_(2.0);
  x.t().select(0, 0).add_(ones({3}));
  test::check_close(x, {1, 0, 5, 0, 1, 0, 10, 0, 1, 0, 10, 0});
  auto y = ones({2, 2});
  y += from_vector<float>({1, 2}, {2});
  y *= from_vector<float>({2}, {1});
  y /= from_vector<float>({4}, {1});
  y -= from_vector<float>({1}, {1});
  test::check_close(y, {0, 0.5, 0, 0.5});
  CHECK_THROWS_WITH(ones({2}).add_(ones({3, 2})), ContainsSubstring("doesn't match the broadcast shape"));
  auto r = from_vector<float>({-1, 2}, {2});
  r.relu_();
  r.neg_();
  test::check_close(r, {0, -2});
  auto c = from_vector<float>({-5, 0.5, 5}, {3});
  c.clamp_(-1, 1);
  test::check_close(c, {-1, 0.5, 1});
  c.masked_fill_(c.gt(0.0), 9.0);
  test::check_close(c, {-1, 9, 9});
}

TEST_CASE("where, clamp and masked_fill", "[ops]") {
  auto x = from_vector<double>({-2, -0.5, 0.5, 2}, {2, 2});
  test::check_close(where(x.gt(0.0), x, zeros({1}, DType::Float64)), {0, 0, 0.5, 2});
  test::check_close(where(x.gt(0.0), x, 7.0), {7, 7, 0.5, 2});
  test::check_close(x.clamp(-1, 1), {-1, -0.5, 0.5, 1});
  test::check_close(x.clamp(Scalar(0.0)), {0, 0, 0.5, 2});
  test::check_close(x.clamp(std::nullopt, Scalar(0.0)), {-2, -0.5, 0, 0});
  test::check_close(x.clamp(from_vector<double>({-1}, {1}), from_vector<double>({0, 1}, {2})), {-1, -0.5, 0, 1});
  test::check_close(x.masked_fill(from_vector<bool>({true, false}, {2}), 9.0), {9, -0.5, 9, 2});
  CHECK(test::error_kind([&] { x.masked_fill(ones({2}), 1.0); }) == ErrorKind::Type);
  CHECK(test::error_kind([&] { where(ones({2}), x, x); }) == ErrorKind::Type);
}

TEST_CASE("reductions over any dims", "[ops]") {
  manual_seed(3);
  auto x = randn({4, 5, 6}, DType::Float64).permute({2, 0, 1});  // [6, 4, 5], non-contiguous
  auto v = x.contiguous().to_vector();
  auto at = [&](int64_t i, int64_t j, int64_t k) { return v[(i * 4 + j) * 5 + k]; };
  std::vector<double> s02(4, 0), m1(6 * 5, -1e300), ss(6 * 5, 0), ms(6 * 5, 0);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k) {
        s02[j] += at(i, j, k);
        m1[i * 5 + k] = std::max(m1[i * 5 + k], at(i, j, k));
        ms[i * 5 + k] += at(i, j, k) / 4;
      }
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k) ss[i * 5 + k] += std::pow(at(i, j, k) - ms[i * 5 + k], 2) / 3;
  test::check_close(x.sum({0, 2}), s02, 1e-12, 1e-10);
  CHECK(x.sum({0, 2}, true).sizes() == Shape{1, 4, 1});
  test::check_close(x.amax({1}), m1, 0, 0);
  test::check_close(x.mean({1}), ms, 1e-12, 1e-10);
  test::check_close(x.var({1}), ss, 1e-12, 1e-10);
  test::check_close(x.std({1}), map1(ss, [](double a) { return std::sqrt(a); }), 1e-12, 1e-10);
  double total = 0, sq = 0, mx = -1e300, lse_max = -1e300;
  for (double a : v) {
    total += a;
    sq += a * a;
    mx = std::max(mx, a);
    lse_max = std::max(lse_max, a);
  }
  double lse = 0;
  for (double a : v) lse += std::exp(a - lse_max);
  test::check_close(x.sum(), {total}, 1e-10, 1e-10);
  test::check_close(x.norm(), {std::sqrt(sq)}, 1e-10, 1e-10);
  test::check_close(x.max(), {mx}, 0, 0);
  test::check_close(x.logsumexp({0, 1, 2}), {lse_max + std::log(lse)}, 1e-10, 1e-10);
  auto [vals, idx] = x.max(1);
  test::check_close(vals, m1, 0, 0);
  CHECK(idx.dtype() == DType::Int64);
  test::check_close(x.gather(1, idx.unsqueeze(1)).squeeze(1), m1, 0, 0);
  auto flat_arg = x.argmax().item<int64_t>();
  CHECK(v[flat_arg] == mx);
  // Integer sums widen to int64; prod; argmin ties pick the first.
  auto i = from_vector<int32_t>({1, 2, 3, 4}, {2, 2});
  CHECK(i.sum().dtype() == DType::Int64);
  CHECK(i.sum().item<int64_t>() == 10);
  CHECK(i.prod().item<int64_t>() == 24);
  test::check_close(from_vector<float>({3, 1, 1, 2}, {4}).argmin(), {1});
  test::check_close(from_vector<float>({1, 0, 0, 4}, {2, 2}).norm(0.0), {2});
  CHECK(test::error_kind([] { zeros({0}).max(); }) == ErrorKind::Index);
  CHECK(test::error_kind([] { arange(3).mean(); }) == ErrorKind::Type);
  CHECK(test::error_kind([&] { x.sum({0, 0}); }) == ErrorKind::Runtime);
}

TEST_CASE("matmul forms agree with a naive product", "[ops]") {
  manual_seed(4);
  auto naive = [](const Tensor& a, const Tensor& b) {  // [m,k] @ [k,n]
    auto av = a.contiguous().to_vector(), bv = b.contiguous().to_vector();
    int64_t m = a.size(0), k = a.size(1), n = b.size(1);
    std::vector<double> c(m * n, 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p)
        for (int64_t j = 0; j < n; ++j) c[i * n + j] += av[i * k + p] * bv[p * n + j];
    return c;
  };
  auto a = randn({37, 19});
  auto b = randn({19, 23});
  test::check_close(a.matmul(b), naive(a, b), 1e-4, 1e-4);
  test::check_close(a.t().contiguous().t().matmul(b.t().contiguous().t()), naive(a, b), 1e-4, 1e-4);
  auto ab = randn({3, 7, 5}, DType::Float64), bb = randn({5, 4}, DType::Float64);
  auto c = ab.matmul(bb);
  CHECK(c.sizes() == Shape{3, 7, 4});
  test::check_close(c.select(0, 2), naive(ab.select(0, 2), bb), 1e-12, 1e-10);
  auto bc = randn({2, 1, 3, 4}, DType::Float64).matmul(randn({5, 4, 2}, DType::Float64));
  CHECK(bc.sizes() == Shape{2, 5, 3, 2});
  auto v = randn({5}, DType::Float64);
  CHECK(v.matmul(v).dim() == 0);
  test::check_close(v.matmul(v), {v.square().sum().item<double>()}, 1e-12, 1e-12);
  CHECK(randn({4, 5}).matmul(randn({5})).sizes() == Shape{4});
  CHECK(randn({5}).matmul(randn({5, 3})).sizes() == Shape{3});
  auto ia = from_vector<int64_t>({1, 2, 3, 4}, {2, 2});
  test::check_close(ia.matmul(ia), {7, 10, 15, 22});
  CHECK_THROWS_WITH(randn({2, 3}).matmul(randn({4, 2})), ContainsSubstring("2x3 and 4x2"));
  CHECK_THROWS_WITH(randn({2, 3}).matmul(randn({3, 2}, DType::Float64)), ContainsSubstring("same dtype"));
  CHECK_THROWS(randn({2, 3}).mm(randn({3})));
}

TEST_CASE("softmax and log_softmax along any dim", "[ops]") {
  auto x = from_vector<double>({1, 2, 3, 1000, 1001, 1002}, {2, 3});
  double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), z = e1 + e2 + e3;
  test::check_close(x.softmax(1), {e1 / z, e2 / z, e3 / z, e1 / z, e2 / z, e3 / z}, 1e-12, 1e-10);
  test::check_close(x.log_softmax(-1).select(0, 0), {1 - std::log(z) - 0, 2 - std::log(z), 3 - std::log(z)}, 1e-12,
                    1e-10);
  auto y = randn({4, 5, 3}).softmax(1);
  test::check_close(y.sum({1}), std::vector<double>(12, 1.0), 1e-5, 1e-5);
  CHECK(test::error_kind([] { arange(3).softmax(0); }) == ErrorKind::Type);
}

TEST_CASE("indexing ops", "[ops]") {
  auto x = arange(12).reshape({3, 4}).to(DType::Float32);
  test::check_close(x.index_select(1, from_vector<int64_t>({3, 0}, {2})), {3, 0, 7, 4, 11, 8});
  test::check_close(x.index_select(0, from_vector<int32_t>({2}, {1})), {8, 9, 10, 11});
  test::check_close(x.gather(1, from_vector<int64_t>({1, 1, 0, 3, 2, 2}, {3, 2})), {1, 1, 4, 7, 10, 10});
  auto s = zeros({2, 3}).scatter_add(1, from_vector<int64_t>({0, 0, 2, 1}, {2, 2}), ones({2, 2}));
  test::check_close(s, {2, 0, 0, 0, 1, 1});
  test::check_close(x.masked_select(x.gt(8.0)), {9, 10, 11});
  auto nz = from_vector<float>({0, 1, 0, 2}, {2, 2}).nonzero();
  CHECK(nz.sizes() == Shape{2, 2});
  test::check_close(nz, {0, 1, 1, 1});
  auto oh = one_hot(from_vector<int64_t>({2, 0}, {2}), 3);
  test::check_close(oh, {0, 0, 1, 1, 0, 0});
  CHECK(one_hot(from_vector<int64_t>({4}, {1})).sizes() == Shape{1, 5});
  test::check_close(cat({ones({1, 2}), zeros({2, 2})}, 0), {1, 1, 0, 0, 0, 0});
  test::check_close(stack({arange(2), arange(2)}, 1), {0, 0, 1, 1});
  CHECK(test::error_kind([&] { x.index_select(1, from_vector<int64_t>({4}, {1})); }) == ErrorKind::Index);
  CHECK_THROWS_WITH(x.index_select(1, from_vector<int64_t>({4}, {1})), ContainsSubstring("out of bounds"));
  CHECK(test::error_kind([&] { x.gather(0, from_vector<int64_t>({-1}, {1, 1})); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { x.index_select(0, ones({1})); }) == ErrorKind::Type);
  CHECK(test::error_kind([&] { one_hot(from_vector<int64_t>({3}, {1}), 2); }) == ErrorKind::Runtime);
  CHECK_THROWS_WITH(cat({ones({1, 2}), ones({1, 3})}, 0), ContainsSubstring("Sizes of tensors must match"));
}
