// CPU indexing kernels (index_select, gather, scatter_add, nonzero_flat) and
// the Philox random fills: references, bad-index positions, reproducibility.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include "core/error.h"
#include "core/philox.h"
#include "kernels/cpu/kernels.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

TEMPLATE_TEST_CASE("cpu index_select copies rows and reports bad indices", "[kernels]", bool, int32_t, int64_t, float,
                   double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const int64_t outer = 3, in_dim = 11, inner = 5;
  Vec<T> in = cast_vec<T>(random_doubles(outer * in_dim * inner, -9, 9, 1));
  const std::vector<int64_t> index{10, 0, 4, 4, 7, 1, 10};
  const int64_t n_index = index.size();
  Vec<T> out(outer * n_index * inner);
  CHECK(cpu::index_select(dt, ptr<T>(out), ptr<T>(in), index.data(), n_index, outer, in_dim, inner) == -1);
  int64_t bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n_index; ++j)
      for (int64_t i = 0; i < inner; ++i)
        bad += out[(o * n_index + j) * inner + i] != in[(o * in_dim + index[j]) * inner + i];
  CHECK(bad == 0);

  // Bad indices: the first position is returned and nothing is written.
  Vec<T> untouched(out.size(), 0);
  const std::vector<int64_t> neg{1, 2, -1, 11}, high{0, 11, -3};
  CHECK(cpu::index_select(dt, ptr<T>(untouched), ptr<T>(in), neg.data(), 4, outer, in_dim, inner) == 2);
  CHECK(cpu::index_select(dt, ptr<T>(untouched), ptr<T>(in), high.data(), 3, outer, in_dim, inner) == 1);
  CHECK(std::all_of(untouched.begin(), untouched.end(), [](auto v) { return v == 0; }));
}

TEST_CASE("cpu index_select on a large input uses every row", "[kernels]") {
  const int64_t outer = 40, in_dim = 100, inner = 64, n_index = 150;
  std::vector<float> in(outer * in_dim * inner);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float(i);
  std::vector<int64_t> index(n_index);
  for (int64_t j = 0; j < n_index; ++j) index[j] = (j * 37) % in_dim;
  std::vector<float> out(outer * n_index * inner);
  CHECK(cpu::index_select(DType::Float32, out.data(), in.data(), index.data(), n_index, outer, in_dim, inner) == -1);
  int64_t bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n_index; ++j)
      for (int64_t i = 0; i < inner; ++i)
        bad += out[(o * n_index + j) * inner + i] != in[(o * in_dim + index[j]) * inner + i];
  CHECK(bad == 0);
}

namespace {

// gather / scatter_add along `dim` of a [4, 7, 6] input with an index of shape
// [4, 5, 6] (dim 1) or [3, 7, 6] (dim 0); in is transposed to exercise strides.
struct GatherCase {
  Shape in_shape, in_strides, idx_shape;
  int dim;
};

std::vector<GatherCase> gather_cases() {
  const Shape in_shape{4, 7, 6};
  return {
      {in_shape, contiguous_strides(in_shape), {4, 5, 6}, 1},
      {in_shape, transposed_strides(in_shape, 0, 2), {3, 7, 6}, 0},
      {in_shape, contiguous_strides(in_shape), {4, 7, 2}, 2},
      {{300, 200}, {200, 1}, {300, 150}, 1},  // large: the parallel path
  };
}

}  // namespace

TEMPLATE_TEST_CASE("cpu gather against a reference, bad indices write 0", "[kernels]", bool, int32_t, int64_t, float,
                   double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  for (const GatherCase& gc : gather_cases()) {
    const int64_t in_n = numel(gc.in_shape), n = numel(gc.idx_shape);
    Vec<T> in = cast_vec<T>(random_doubles(in_n, -9, 9, 3));
    std::vector<int64_t> index(n);
    const int64_t dim_size = gc.in_shape[gc.dim];
    std::vector<double> r = random_doubles(n, 0, double(dim_size), 4);
    for (int64_t i = 0; i < n; ++i) index[i] = std::min<int64_t>(int64_t(r[i]), dim_size - 1);
    // operands over the index shape: out contiguous, in with dim stride 0, index contiguous.
    Shape in_st = gc.in_strides;
    in_st[gc.dim] = 0;
    const Shape cs = contiguous_strides(gc.idx_shape);
    const ElementwiseLoop L = make_loop(gc.idx_shape, {cs, in_st, cs});
    Vec<T> out(n);
    CHECK(cpu::gather(dt, ptr<T>(out), ptr<T>(in), index.data(), L, gc.in_strides[gc.dim], dim_size) == -1);
    int64_t bad = 0;
    for_each_index(gc.idx_shape, {cs, in_st}, [&](int64_t, const std::vector<int64_t>& off) {
      bad += out[off[0]] != in[off[1] + index[off[0]] * gc.in_strides[gc.dim]];
    });
    CHECK(bad == 0);

    // Two bad indices: the first position is returned, their outputs are 0.
    const int64_t p1 = n / 3, p2 = n - 1;
    index[p1] = dim_size;
    index[p2] = -1;
    CHECK(cpu::gather(dt, ptr<T>(out), ptr<T>(in), index.data(), L, gc.in_strides[gc.dim], dim_size) == p1);
    CHECK(out[p1] == 0);
    CHECK(out[p2] == 0);
  }
}

TEMPLATE_TEST_CASE("cpu scatter_add accumulates duplicates and rejects bad indices untouched", "[kernels]", int32_t,
                   int64_t, float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  for (const GatherCase& gc : gather_cases()) {
    const int64_t self_n = numel(gc.in_shape), n = numel(gc.idx_shape);
    std::vector<double> s0 = random_doubles(self_n, -9, 9, 5), sr = random_doubles(n, -9, 9, 6);
    for (auto& x : s0) x = std::round(x);
    for (auto& x : sr) x = std::round(x);
    Vec<T> self = cast_vec<T>(s0), src = cast_vec<T>(sr);
    const int64_t dim_size = gc.in_shape[gc.dim];
    std::vector<int64_t> index(n);
    std::vector<double> r = random_doubles(n, 0, double(dim_size), 7);
    for (int64_t i = 0; i < n; ++i) index[i] = std::min<int64_t>(int64_t(r[i]), dim_size - 1);
    // operands: 0 self (dim stride 0), 1 src (transposed layout of the index shape), 2 index.
    Shape self_st = gc.in_strides;
    self_st[gc.dim] = 0;
    const Shape cs = contiguous_strides(gc.idx_shape);
    const Shape src_st = transposed_strides(gc.idx_shape, 0, int(gc.idx_shape.size()) - 1);
    const ElementwiseLoop L = make_loop(gc.idx_shape, {self_st, src_st, cs});
    std::vector<double> want(s0);
    for_each_index(gc.idx_shape, {self_st, src_st, cs}, [&](int64_t, const std::vector<int64_t>& off) {
      want[off[0] + index[off[2]] * gc.in_strides[gc.dim]] += sr[off[1]];
    });
    CHECK(cpu::scatter_add(dt, ptr<T>(self), ptr<T>(src), index.data(), L, gc.in_strides[gc.dim], dim_size) == -1);
    int64_t bad = 0;
    for (int64_t i = 0; i < self_n; ++i) bad += double(self[i]) != want[i];
    CHECK(bad == 0);

    const Vec<T> before = self;
    index[n / 2] = -1;
    index[n - 1] = dim_size + 5;
    CHECK(cpu::scatter_add(dt, ptr<T>(self), ptr<T>(src), index.data(), L, gc.in_strides[gc.dim], dim_size) == n / 2);
    CHECK(self == before);
  }
}

TEST_CASE("cpu nonzero_flat lists true positions in order", "[kernels]") {
  for (int64_t n : {0, 1, 17, 100003}) {
    std::vector<uint8_t> mask(n);
    std::vector<int64_t> want;
    for (int64_t i = 0; i < n; ++i) {
      mask[i] = (i * 2654435761u) % 7 < 3;
      if (mask[i]) want.push_back(i);
    }
    std::vector<int64_t> out(n + 1, -1);
    const int64_t k = cpu::nonzero_flat(reinterpret_cast<const bool*>(mask.data()), n, out.data());
    CHECK(k == int64_t(want.size()));
    CHECK(std::equal(want.begin(), want.end(), out.begin()));
  }
}

TEMPLATE_TEST_CASE("cpu uniform: reproducible, in range, matches Philox lanes", "[kernels]", float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const int64_t n = 100001;
  std::vector<T> a(n), b(n), c(n);
  cpu::uniform(dt, a.data(), n, 1234, 10, -2.0, 3.0);
  cpu::uniform(dt, b.data(), n, 1234, 10, -2.0, 3.0);
  cpu::uniform(dt, c.data(), n, 1234, 11, -2.0, 3.0);
  CHECK(a == b);
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) same += a[i] == c[i];
  CHECK(same < 10);
  // Offset k + 1 starts where offset k's fifth element is: counters are shared.
  CHECK(std::equal(c.begin(), c.end() - 4, a.begin() + 4));
  double sum = 0;
  bool in_range = true;
  for (T v : a) {
    in_range &= v >= T(-2) && v < T(3);
    sum += v;
  }
  CHECK(in_range);
  CHECK(std::fabs(sum / n - 0.5) < 0.03);
  // Element i is lane i % 4 of block offset + i / 4, mapped by fma(u, hi - lo, lo).
  for (int64_t i : {int64_t(0), int64_t(1), int64_t(6), n - 1}) {
    const uint32_t lane = philox::lane(philox::block(1234, 10 + i / 4), int(i % 4));
    const double u = std::is_same_v<T, float> ? double(philox::to_unit_float(lane)) : philox::to_unit_double(lane);
    CHECK(a[i] == static_cast<T>(std::fma(u, 5.0, -2.0)));
  }
  // A range so narrow that rounding would reach hi still stays below it.
  std::vector<T> narrow(1000);
  const double lo = 1.0, hi = std::nextafter(T(1), T(2));
  cpu::uniform(dt, narrow.data(), 1000, 7, 0, lo, hi);
  CHECK(std::all_of(narrow.begin(), narrow.end(), [&](T v) { return v >= T(lo) && v < T(hi); }));
  CHECK_THROWS_AS(cpu::uniform(dt, a.data(), 1, 0, 0, 2.0, 1.0), loom::Error);
}

TEMPLATE_TEST_CASE("cpu normal: bit-identical to philox::normal_at, moments", "[kernels]", float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const int64_t n = 100003;  // not a multiple of 4
  std::vector<T> a(n), b(n);
  cpu::normal(dt, a.data(), n, 99, 5, 0.0, 1.0);
  cpu::normal(dt, b.data(), n, 99, 5, 0.0, 1.0);
  CHECK(a == b);
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += a[i] != static_cast<T>(philox::normal_at(99, 5, i));
  CHECK(bad == 0);
  double m = 0, s = 0;
  for (T v : a) m += v;
  m /= n;
  for (T v : a) s += (v - m) * (v - m);
  s = std::sqrt(s / (n - 1));
  CHECK(std::fabs(m) < 0.02);
  CHECK(std::fabs(s - 1) < 0.02);
  // Shifted and scaled; another seed differs.
  std::vector<T> c(n);
  cpu::normal(dt, c.data(), n, 99, 5, 3.0, 2.0);
  CHECK(c[17] == static_cast<T>(std::fma(philox::normal_at(99, 5, 17), 2.0, 3.0)));
  cpu::normal(dt, c.data(), n, 100, 5, 0.0, 1.0);
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) same += a[i] == c[i];
  CHECK(same < 10);
  CHECK_THROWS_AS(cpu::normal(dt, c.data(), 1, 0, 0, 0.0, -1.0), loom::Error);
}

TEMPLATE_TEST_CASE("cpu randint: in range, every value drawn, reproducible", "[kernels]", int32_t, int64_t, float) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const int64_t n = 50000;
  std::vector<T> a(n), b(n);
  cpu::randint(dt, a.data(), n, 7, 3, -5, 6);
  cpu::randint(dt, b.data(), n, 7, 3, -5, 6);
  CHECK(a == b);
  std::vector<int64_t> hist(11, 0);
  bool in_range = true;
  for (T v : a) {
    in_range &= v >= T(-5) && v < T(6);
    if (v >= T(-5) && v < T(6)) ++hist[int64_t(v) + 5];
  }
  CHECK(in_range);
  CHECK(*std::min_element(hist.begin(), hist.end()) > n / 11 * 0.9);
  const uint32_t lane = philox::lane(philox::block(7, 3 + 9 / 4), 9 % 4);
  CHECK(a[9] == T(-5 + int64_t(lane % 11)));
  CHECK_THROWS_AS(cpu::randint(dt, a.data(), 1, 0, 0, 3, 3), loom::Error);
}

TEST_CASE("cpu randint on int64 covers a 2^32 range and bool", "[kernels]") {
  std::vector<int64_t> a(1000);
  const int64_t low = -(int64_t(1) << 40);
  cpu::randint(DType::Int64, a.data(), 1000, 1, 0, low, low + (int64_t(1) << 32));
  CHECK(std::all_of(a.begin(), a.end(), [&](int64_t v) { return v >= low && v < low + (int64_t(1) << 32); }));
  CHECK(*std::max_element(a.begin(), a.end()) - *std::min_element(a.begin(), a.end()) > (int64_t(1) << 31));
  // Ranges wider than 2^32 draw 64 random bits: the whole int64 range is reachable.
  std::vector<int64_t> w(1000);
  cpu::randint(DType::Int64, w.data(), 1000, 1, 0, INT64_MIN, INT64_MAX);
  CHECK(*std::max_element(w.begin(), w.end()) > (int64_t(1) << 62));
  CHECK(*std::min_element(w.begin(), w.end()) < -(int64_t(1) << 62));
  std::vector<uint8_t> b(1000);
  cpu::randint(DType::Bool, reinterpret_cast<bool*>(b.data()), 1000, 1, 0, 0, 2);
  const auto ones = std::count(b.begin(), b.end(), 1);
  CHECK(ones > 400);
  CHECK(ones < 600);
}
