// Scans and sorts (kernels/sort.h, autograd/ops/sort.cpp): NaN order, stable
// ties, every dtype, 0-d and empty inputs, scans along inner and outer dims,
// cumprod's gradient at zeros, float64 gradchecks, bad arguments; [cuda] the
// CUDA kernels against the CPU twins on odd shapes: warp- and block-per-line
// scans, column scans, shared-memory sorts and the global merge path of
// lines longer than kSortTile.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "core/error.h"
#include "kernels/sort.h"
#include "test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

Tensor vec(const std::vector<double>& v, DType dt = DType::Float32) {
  return from_vector(v, {static_cast<int64_t>(v.size())}).to(dt);
}

Tensor mat(const std::vector<double>& v, const Shape& shape) { return from_vector(v, shape); }

std::string shape_str(const Shape& s) {
  std::string out;
  for (int64_t d : s) out += std::to_string(d) + " ";
  return out;
}

std::vector<double> vals(const Tensor& t) { return t.contiguous().to_vector(); }

// NaN-aware equality of two value lists.
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

}  // namespace

TEST_CASE("sort: NaN last ascending and first descending, ties stable, every dtype", "[kernels][sort]") {
  Tensor x = vec({3, kNaN, 1, 3, -2, kNaN, 1});
  auto [v, i] = x.sort();
  CHECK(same(vals(v), {-2, 1, 1, 3, 3, kNaN, kNaN}));
  CHECK(vals(i) == std::vector<double>{4, 2, 6, 0, 3, 1, 5});
  auto [vd, id] = x.sort(0, true);
  CHECK(same(vals(vd), {kNaN, kNaN, 3, 3, 1, 1, -2}));
  CHECK(vals(id) == std::vector<double>{1, 5, 0, 3, 2, 6, 4});
  for (DType dt : {DType::Bool, DType::Int32, DType::Int64, DType::Float64}) {
    Tensor y = vec({1, 0, 1, 0, 1}, dt);
    auto [sv, si] = y.sort(0, true);
    CHECK(sv.dtype() == dt);
    CHECK(si.dtype() == DType::Int64);
    CHECK(vals(sv) == std::vector<double>{1, 1, 1, 0, 0});
    CHECK(vals(si) == std::vector<double>{0, 2, 4, 1, 3});
  }
  CHECK(vals(x.argsort(0, true)) == std::vector<double>{1, 5, 0, 3, 2, 6, 4});
}

TEST_CASE("sort and topk along any dim of a non-contiguous input, 0-d and empty", "[kernels][sort]") {
  Tensor x = mat({5, 1, 4, 2, 6, 0, 3, 7, 9, 8, 2, 1}, {3, 4}).t();  // [4, 3], transposed
  auto [v0, i0] = x.sort(0);
  CHECK(v0.sizes() == Shape{4, 3});
  CHECK(v0.is_contiguous());
  CHECK(vals(v0) == std::vector<double>{1, 0, 1, 2, 3, 2, 4, 6, 8, 5, 7, 9});
  CHECK(vals(i0) == std::vector<double>{1, 1, 3, 3, 2, 2, 2, 0, 1, 0, 3, 0});
  auto [t1, j1] = x.topk(2, 1);
  CHECK(t1.sizes() == Shape{4, 2});
  CHECK(vals(t1) == std::vector<double>{9, 6, 8, 1, 4, 3, 7, 2});
  CHECK(vals(j1) == std::vector<double>{2, 1, 2, 0, 0, 1, 1, 0});
  auto [s1, k1] = x.topk(3, 0, false);
  CHECK(vals(s1) == std::vector<double>{1, 0, 1, 2, 3, 2, 4, 6, 8});
  CHECK(vals(k1) == std::vector<double>{1, 1, 3, 3, 2, 2, 2, 0, 1});
  auto [z, zi] = scalar_tensor(Scalar(2.5), {}).sort();
  CHECK(z.dim() == 0);
  CHECK(z.item<double>() == 2.5);
  CHECK(zi.item<int64_t>() == 0);
  CHECK(x.topk(0, 1).first.sizes() == Shape{4, 0});
  CHECK(zeros({0, 3}).sort(0).first.sizes() == Shape{0, 3});
  CHECK(zeros({2, 0}).cumsum(1).sizes() == Shape{2, 0});
  CHECK(scalar_tensor(Scalar(3.0), {}).cumsum(0).item<double>() == 3.0);
}

TEST_CASE("cumsum / cumprod: dtypes, dims, reverse gradient", "[kernels][sort]") {
  Tensor x = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(vals(x.cumsum(1)) == std::vector<double>{1, 3, 6, 4, 9, 15});
  CHECK(vals(x.cumsum(0)) == std::vector<double>{1, 2, 3, 5, 7, 9});
  CHECK(vals(x.cumprod(-1)) == std::vector<double>{1, 2, 6, 4, 20, 120});
  CHECK(x.to(DType::Int32).cumsum(0).dtype() == DType::Int64);
  CHECK(x.to(DType::Bool).cumprod(0).dtype() == DType::Int64);
  CHECK(x.cumsum(1, DType::Float64).dtype() == DType::Float64);
  Tensor i32 = x.to(DType::Int64).cumsum(1, DType::Int32);
  CHECK(i32.dtype() == DType::Int32);
  CHECK(vals(i32) == std::vector<double>{1, 3, 6, 4, 9, 15});
  // int64 sums are exact past 2^53.
  Tensor big = mat({0, 0}, {2}).to(DType::Int64) + Scalar(int64_t(1) << 60);
  CHECK(big.cumsum(0).to_vector()[1] == static_cast<double>(int64_t(1) << 61));
  CHECK(error_kind([&] { x.cumsum(2); }) == ErrorKind::Index);
  CHECK(error_kind([&] { x.cumsum(0, DType::Bool); }) == ErrorKind::Type);
  Tensor l = leaf({3, 4});
  Tensor g = mat({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
  l.cumsum(1).backward(g);
  CHECK(vals(l.grad()) == std::vector<double>{10, 9, 7, 4, 26, 21, 15, 8, 42, 33, 23, 12});
}

TEST_CASE("cumprod gradient is exact with zeros in the input", "[kernels][sort]") {
  for (auto xs : std::vector<std::vector<double>>{{2, 0, 3, 4}, {0, 2, 0, 5}, {1.5, -2, 0.5, 0}, {0, 0, 0, 0}}) {
    Tensor x = vec(xs, DType::Float64).requires_grad_(true);
    Tensor g = vec({0.5, -1, 2, 1.5}, DType::Float64);
    x.cumprod(0).backward(g);
    // d/dx_k of sum_j g_j prod_{i<=j} x_i, term by term.
    std::vector<double> want(4, 0.0);
    for (int k = 0; k < 4; ++k)
      for (int j = k; j < 4; ++j) {
        double p = g.to_vector()[j];
        for (int i = 0; i <= j; ++i)
          if (i != k) p *= xs[i];
        want[k] += p;
      }
    check_close(x.grad(), want, 1e-12, 1e-12);
  }
}

TEST_CASE("logcumsumexp: no overflow, -inf identity, +inf and NaN, reverse scans, inner dims", "[kernels][sort]") {
  // Against log(sum(exp)) in long double from the running maximum.
  auto want = [](const std::vector<double>& v) {
    std::vector<double> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      double m = -INFINITY;
      for (size_t j = 0; j <= i; ++j) m = std::max(m, v[j]);
      if (std::isinf(m)) {
        out[i] = m;
        continue;
      }
      long double sum = 0;
      for (size_t j = 0; j <= i; ++j) sum += std::exp(static_cast<long double>(v[j]) - m);
      out[i] = m + static_cast<double>(std::log(sum));
    }
    return out;
  };
  const std::vector<double> v = {800.0, -3.0, 801.5, -INFINITY, 0.25, -750.0, 802.0};
  for (DType dt : {DType::Float64, DType::Float32}) {
    const double tol = dt == DType::Float64 ? 1e-12 : 1e-5;
    check_close(vec(v, dt).logcumsumexp(0).to(DType::Float64), want(v), tol, tol);
  }
  CHECK(same(vals(vec({-INFINITY, -INFINITY, 2.0}, DType::Float64).logcumsumexp(0)), {-INFINITY, -INFINITY, 2.0}));
  CHECK(same(vals(vec({1.0, INFINITY, 2.0}, DType::Float64).logcumsumexp(0)), {1.0, INFINITY, INFINITY}));
  CHECK(same(vals(vec({1.0, kNaN, 2.0}, DType::Float64).logcumsumexp(0)), {1.0, kNaN, kNaN}));
  // Along an outer dim (inner > 1) equals along the last dim of the transpose.
  Tensor x = randn({6, 300}, TensorOptions(DType::Float64)) * Scalar(30.0);
  check_close(x.logcumsumexp(0), x.t().contiguous().logcumsumexp(1).t(), 1e-12, 1e-12);
  // The reverse scan, as the gradient uses it: the flipped forward scan.
  std::vector<double> r(v.rbegin(), v.rend()), wr = want(r), got(v.size());
  std::vector<double> out(v.size());
  kernels::cpu::scan(kernels::ScanOp::LogSumExp, DType::Float64, out.data(), nullptr, v.data(),
                     kernels::Lines{1, static_cast<int64_t>(v.size()), 1}, true);
  for (size_t i = 0; i < v.size(); ++i) got[i] = out[v.size() - 1 - i];
  check_close(got, wr, 1e-12, 1e-12);
  CHECK_THROWS_AS(vec({1, 2}, DType::Int64).logcumsumexp(0), Error);
  CHECK(error_kind([&] { x.logcumsumexp(2); }) == ErrorKind::Index);
}

TEST_CASE("cummax / cummin: latest index on ties, NaN wins and stays, bool", "[kernels][sort]") {
  Tensor x = vec({1, 3, 2, 3, kNaN, 5, kNaN, 0});
  auto [v, i] = x.cummax(0);
  CHECK(same(vals(v), {1, 3, 3, 3, kNaN, kNaN, kNaN, kNaN}));
  CHECK(vals(i) == std::vector<double>{0, 1, 1, 3, 4, 4, 6, 6});
  auto [m, mi] = vec({2, 1, 1, 3}).cummin(0);
  CHECK(vals(m) == std::vector<double>{2, 1, 1, 1});
  CHECK(vals(mi) == std::vector<double>{0, 1, 2, 2});
  auto [b, bi] = vec({0, 1, 0, 1}, DType::Bool).cummax(0);
  CHECK(b.dtype() == DType::Bool);
  CHECK(vals(b) == std::vector<double>{0, 1, 1, 1});
  CHECK(vals(bi) == std::vector<double>{0, 1, 1, 3});
}

TEST_CASE("scans and sorts pass float64 gradchecks", "[kernels][sort][autograd]") {
  Tensor x = leaf({3, 5}, -2, 2);
  check_grad([](const TensorList& t) { return t[0].cumsum(1); }, {x});
  check_grad([](const TensorList& t) { return t[0].cumsum(0, DType::Float64) * t[0]; }, {x});
  check_grad([](const TensorList& t) { return t[0].cumprod(1); }, {x});
  check_grad([](const TensorList& t) { return t[0].cummax(0).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].cummin(1).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].sort(0, true).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].topk(2, 1).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].topk(2, 0, false).first; }, {x});
  check_grad([](const TensorList& t) { return t[0].logcumsumexp(1); }, {x});
  check_grad([](const TensorList& t) { return t[0].logcumsumexp(0) * t[0]; }, {x});
  // cumsum's gradient is differentiable again: f = sum_j c_j^2 with c = cumsum(y) has
  // df/dy_k = 2 sum_{j>=k} c_j, whose sum has gradient 2 sum_{j>=m} (j + 1) in y_m.
  Tensor y = leaf({4});
  Tensor c = y.cumsum(0);
  Tensor gy = autograd::grad({(c * c).sum()}, {y}, {}, true, true)[0];
  Tensor ggy = autograd::grad({gy.sum()}, {y})[0];
  check_close(ggy, std::vector<double>{20, 18, 14, 8}, 1e-12, 1e-12);
}

TEST_CASE("topk and sort: bad arguments raise errors naming the op", "[kernels][sort]") {
  Tensor x = zeros({2, 3});
  check_error([&] { x.topk(4, 1); }, {"topk", "out of range"});
  check_error([&] { x.topk(-1); }, {"topk"});
  CHECK(error_kind([&] { x.sort(2); }) == ErrorKind::Index);
  CHECK(error_kind([&] { x.cummax(-3); }) == ErrorKind::Index);
  CHECK(error_kind([&] { x.argsort(5); }) == ErrorKind::Index);
}

TEST_CASE("cpu sort and scan kernels: long lines, several threads' worth", "[kernels][sort]") {
  const int64_t n = 100003;
  Tensor x = randn({2, n});
  auto [v, i] = x.sort(1);
  const auto sv = vals(v), si = vals(i), xv = vals(x);
  bool ordered = true, consistent = true;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t k = 0; k < n; ++k) {
      if (k > 0 && sv[r * n + k - 1] > sv[r * n + k]) ordered = false;
      if (xv[r * n + static_cast<int64_t>(si[r * n + k])] != sv[r * n + k]) consistent = false;
    }
  CHECK(ordered);
  CHECK(consistent);
  check_close(x.cumsum(1).select(1, n - 1), x.sum({1}), 1e-2, 1e-4);
}

TEST_CASE("searchsorted: binary search against counting, shared and per-row boundaries, NaN, every dtype",
          "[kernels][sort]") {
  // Rows of n sorted boundaries with ties (integers in [0, 6)), values in [-1, 7) with NaN among floats.
  for (int64_t n : {0, 1, 2, 7, 64, 1000}) {
    for (DType dt : {DType::Int32, DType::Int64, DType::Float32, DType::Float64}) {
      INFO("n " << n << " dtype " << dtype_name(dt));
      Tensor b = randint(0, 6, {3, n}, TensorOptions(DType::Float64)).sort(1).first;
      Tensor v = randint(-1, 7, {3, 11}, TensorOptions(DType::Float64));
      const bool fl = is_floating(dt);
      if (fl) v = v.masked_fill(v.eq(Scalar(3.0)), Scalar(kNaN));
      const auto bv = vals(b), vv = vals(v);
      for (bool right : {false, true}) {
        for (bool shared : {false, true}) {
          Tensor bs = shared ? b.select(0, 1).contiguous() : b;
          auto got = vals(searchsorted(bs.to(dt), v.to(dt), right).to(DType::Float64));
          std::vector<double> want(vv.size());
          for (size_t k = 0; k < vv.size(); ++k) {
            const size_t row = shared ? size_t(n) : k / 11 * size_t(n);
            double c = 0;
            for (int64_t i = 0; i < n; ++i) {
              const double x = bv[row + i];
              c += std::isnan(vv[k]) ? 1.0 : (right ? x <= vv[k] : x < vv[k]);  // NaN goes past everything
            }
            want[k] = c;
          }
          CHECK(same(got, want));
        }
      }
    }
  }
  // Mixed dtypes compare in the promoted type: 2.5 among integer boundaries.
  CHECK(vals(searchsorted(vec({1, 2, 3}, DType::Int64), vec({2.5}))) == std::vector<double>{2});
  CHECK(searchsorted(vec({1, 2, 3}), vec({2.5})).dtype() == DType::Int64);
  // Enough values for several threads, all in one shared row.
  Tensor big = rand({200000});
  Tensor edges = vec({0.1, 0.2, 0.5, 0.9});
  auto idx = vals(searchsorted(edges, big, true).to(DType::Float64)), bv = vals(big);
  int64_t bad = 0;
  for (size_t k = 0; k < bv.size(); ++k)
    bad += idx[k] != (bv[k] >= 0.1) + (bv[k] >= 0.2) + (bv[k] >= 0.5) + (bv[k] >= 0.9);
  CHECK(bad == 0);
  // Bad input.
  CHECK_THROWS_WITH(searchsorted(vec({1}).sum(), vec({1})), Catch::Matchers::ContainsSubstring("positive dimension"));
  CHECK_THROWS_WITH(searchsorted(mat({1, 2, 3, 4}, {2, 2}), vec({1, 2}, DType::Float64)),
                    Catch::Matchers::ContainsSubstring("first N-1 dimensions"));
  CHECK_THROWS_AS(searchsorted(vec({1}, DType::Bool), vec({1}, DType::Bool)), loom::Error);
}

// ---- CUDA against the CPU twins ----

TEST_CASE("cuda scans match cpu: warp and block lines, columns, every dtype", "[kernels][sort][cuda]") {
  LOOM_REQUIRE_GPU();
  for (Shape shape : std::vector<Shape>{{7, 37}, {3, 1001}, {2, 3000, 3}, {5, 257}, {1}, {9, 4, 33}}) {
    for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
      INFO("shape " << shape_str(shape) << " dim " << dim);
      Tensor x = rand(shape, TensorOptions(DType::Float64)) + Scalar(0.5);
      x.requires_grad_(true);
      compare_gpu([dim](const TensorList& t) { return t[0].cumsum(dim); }, {x}, 1e-9, 1e-9);
      compare_gpu([dim](const TensorList& t) { return t[0].cumprod(dim); }, {x}, 1e-9, 1e-9);
      // Gradients of cummax meet in scatter_add's atomics: equal up to the order of the additions.
      compare_gpu([dim](const TensorList& t) { return t[0].cummax(dim).first; }, {x}, 1e-12, 1e-12);
      compare_gpu([dim](const TensorList& t) { return t[0].cummin(dim).second.to(DType::Float64); }, {x}, 0, 0);
      Tensor xi = randint(0, 4, shape, TensorOptions(DType::Int32));
      compare_gpu([dim](const TensorList& t) { return t[0].cumsum(dim); }, {xi}, 0, 0);
      compare_gpu([dim](const TensorList& t) { return t[0].cummax(dim).second; }, {xi}, 0, 0);
      compare_gpu([dim](const TensorList& t) { return t[0].cummin(dim).first; }, {xi.to(DType::Bool)}, 0, 0);
      compare_gpu([dim](const TensorList& t) { return t[0].cumsum(dim); }, {rand(shape)}, 1e-4, 1e-4);
      Tensor xl = (randn(shape, TensorOptions(DType::Float64)) * Scalar(20.0)).requires_grad_(true);
      compare_gpu([dim](const TensorList& t) { return t[0].logcumsumexp(dim); }, {xl}, 1e-9, 1e-9);
      compare_gpu([dim](const TensorList& t) { return t[0].logcumsumexp(dim); }, {randn(shape) * Scalar(20.0)}, 1e-4,
                  1e-4);
    }
  }
}

TEST_CASE("cuda searchsorted matches cpu: shared and per-row boundaries, ties, NaN", "[kernels][sort][cuda]") {
  LOOM_REQUIRE_GPU();
  for (int64_t n : {1, 5, 1000}) {
    INFO("n " << n);
    Tensor b = randint(0, 9, {7, n}, TensorOptions(DType::Float64)).sort(1).first;
    Tensor v = randint(-1, 10, {7, 333}, TensorOptions(DType::Float64));
    Tensor vn = v.masked_fill(v.eq(Scalar(4.0)), Scalar(kNaN)).to(DType::Float32);
    for (bool right : {false, true}) {
      compare_gpu([right](const TensorList& t) { return searchsorted(t[0], t[1], right); }, {b, v}, 0, 0);
      compare_gpu([right](const TensorList& t) { return searchsorted(t[0], t[1], right); },
                  {b.select(0, 2).contiguous().to(DType::Float32), vn}, 0, 0);
      compare_gpu([right](const TensorList& t) { return searchsorted(t[0], t[1], right); },
                  {b.to(DType::Int32), v.to(DType::Int64)}, 0, 0);
    }
  }
}

TEST_CASE("cuda sorts match cpu: shared-memory lines, the global merge path, NaN and ties", "[kernels][sort][cuda]") {
  LOOM_REQUIRE_GPU();
  for (Shape shape : std::vector<Shape>{{1, 1}, {13, 5}, {3, 1000}, {2, 2049}, {1, 5000}, {300, 17}}) {
    INFO("shape " << shape_str(shape));
    Tensor x = randn(shape, TensorOptions(DType::Float64));
    Tensor ties = randint(0, 3, shape, TensorOptions(DType::Int64));
    Tensor nans = x.masked_fill(x.gt(Scalar(1.0)), Scalar(kNaN)).to(DType::Float32);
    for (bool desc : {false, true}) {
      compare_gpu([desc](const TensorList& t) { return t[0].sort(-1, desc).first; }, {x.requires_grad_(true)}, 0, 0);
      compare_gpu([desc](const TensorList& t) { return t[0].sort(-1, desc).second; }, {ties}, 0, 0);
      compare_gpu([desc](const TensorList& t) { return t[0].argsort(-1, desc); }, {nans}, 0, 0);
      compare_gpu([desc](const TensorList& t) { return t[0].argsort(0, desc); }, {ties.to(DType::Bool)}, 0, 0);
      const int64_t k = std::min<int64_t>(3, shape.back());
      compare_gpu([desc, k](const TensorList& t) { return t[0].topk(k, -1, desc).second; }, {ties.to(DType::Int32)}, 0,
                  0);
    }
  }
}
