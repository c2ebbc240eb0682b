// CPU indexing kernels (index_select, gather, scatter_add, scatter_reduce,
// nonzero_flat):
// references and bad-index positions; [cuda] the CUDA kernels against their
// CPU twins and the device index-error flag. Without a device the [cuda]
// tests SKIP with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include "core/error.h"
#include "core/tensor.h"
#include "kernels/index.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include <cstdint>
#include <random>
#include <vector>
#include "core/cuda.h"
#include "test_cuda_util.h"
#endif

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
  // inner <= 8 takes the typed short-row copies (inner 1: flip's gather), larger rows memcpy; the split
  // over threads falls inside a line of n_index rows.
  const int64_t outer = 301, in_dim = 100, n_index = 149;
  const int64_t inner = GENERATE(1, 3, 8, 64);
  INFO("inner " << inner);
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

namespace {

const ScatterReduce kReductions[] = {ScatterReduce::Sum, ScatterReduce::Prod, ScatterReduce::Mean, ScatterReduce::Amax,
                                     ScatterReduce::Amin};
const char* reduction_name(ScatterReduce op) {
  const char* names[] = {"sum", "prod", "mean", "amax", "amin"};
  return names[static_cast<int>(op)];
}

// The reference: the values each element receives, reduced in double (with
// the element itself first when include_self); bool as 0/1 with or / and.
// want_count: the number of values added (mean), counting self.
void scatter_reduce_reference(ScatterReduce op, bool include_self, bool boolean, std::vector<double>& self,
                              std::vector<double>& count, const std::vector<std::vector<double>>& sent) {
  for (size_t p = 0; p < self.size(); ++p) {
    count[p] = include_self ? 1 : 0;
    if (sent[p].empty()) continue;
    std::vector<double> v = sent[p];
    if (include_self) v.insert(v.begin(), self[p]);
    double r = op == ScatterReduce::Prod ? 1 : 0;
    if (op == ScatterReduce::Amax) r = -std::numeric_limits<double>::infinity();
    if (op == ScatterReduce::Amin) r = std::numeric_limits<double>::infinity();
    for (double e : v) {
      if (op == ScatterReduce::Sum || op == ScatterReduce::Mean) r += e;
      else if (op == ScatterReduce::Prod) r *= e;
      else if (op == ScatterReduce::Amax) r = std::max(r, e);
      else r = std::min(r, e);
    }
    if (boolean) r = r != 0;
    if (op == ScatterReduce::Mean) count[p] = double(v.size());
    self[p] = r;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("cpu scatter_reduce: every reduction, with and without self, bad indices untouched", "[kernels]",
                   bool, int32_t, int64_t, float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  const bool boolean = std::is_same_v<T, bool>;
  for (const GatherCase& gc : gather_cases()) {
    const int64_t self_n = numel(gc.in_shape), n = numel(gc.idx_shape);
    // Small integers (products of a few stay exact); bool: about half true.
    std::vector<double> s0 = random_doubles(self_n, -3, 3, 15), sr = random_doubles(n, -3, 3, 16);
    for (auto& x : s0) x = boolean ? double(x > 0) : std::round(x);
    for (auto& x : sr) x = boolean ? double(x > 0) : std::round(x);
    const int64_t dim_size = gc.in_shape[gc.dim];
    std::vector<int64_t> index(n);
    std::vector<double> r = random_doubles(n, 0, double(dim_size), 17);
    for (int64_t i = 0; i < n; ++i) index[i] = std::min<int64_t>(int64_t(r[i]), dim_size - 1);
    Shape self_st = gc.in_strides;
    self_st[gc.dim] = 0;
    const Shape cs = contiguous_strides(gc.idx_shape);
    const Shape src_st = transposed_strides(gc.idx_shape, 0, int(gc.idx_shape.size()) - 1);
    const ElementwiseLoop L = make_loop(gc.idx_shape, {self_st, src_st, cs});
    std::vector<std::vector<double>> sent(self_n);
    for_each_index(gc.idx_shape, {self_st, src_st, cs}, [&](int64_t, const std::vector<int64_t>& off) {
      sent[off[0] + index[off[2]] * gc.in_strides[gc.dim]].push_back(sr[off[1]]);
    });
    for (ScatterReduce op : kReductions) {
      if (boolean && op == ScatterReduce::Mean) continue;
      for (bool include_self : {true, false}) {
        INFO(reduction_name(op) << " include_self " << include_self << " index rank " << gc.idx_shape.size());
        std::vector<double> want(s0), want_count(self_n);
        scatter_reduce_reference(op, include_self, boolean, want, want_count, sent);
        Vec<T> self = cast_vec<T>(s0), src = cast_vec<T>(sr);
        Vec<T> count = cast_vec<T>(std::vector<double>(self_n, include_self ? 1 : 0));
        T* cp = op == ScatterReduce::Mean ? ptr<T>(count) : nullptr;
        CHECK(cpu::scatter_reduce(dt, op, include_self, ptr<T>(self), cp, ptr<T>(src), index.data(), L,
                                  gc.in_strides[gc.dim], dim_size) == -1);
        int64_t bad = 0;
        for (int64_t i = 0; i < self_n; ++i) bad += double(self[i]) != want[i];
        if (op == ScatterReduce::Mean)
          for (int64_t i = 0; i < self_n; ++i) bad += double(count[i]) != want_count[i];
        CHECK(bad == 0);

        std::vector<int64_t> bad_index(index);
        bad_index[n / 2] = -1;
        bad_index[n - 1] = dim_size;
        const Vec<T> before = self;
        CHECK(cpu::scatter_reduce(dt, op, include_self, ptr<T>(self), cp, ptr<T>(src), bad_index.data(), L,
                                  gc.in_strides[gc.dim], dim_size) == n / 2);
        CHECK(self == before);
      }
    }
  }
}

TEST_CASE("cpu scatter_add and scatter_reduce: in parallel, the serial result to the bit", "[kernels]") {
  // self [400, 300] float, index and src [400, 700] along dim 1 (innermost: whole runs go to the
  // threads), and self [300, 400], index and src [700, 400] along dim 0 (each thread takes a range of
  // every run); the reference is the same call on one thread.
  const int64_t R = 400, C = 300, L = 700;
  std::vector<double> s0 = random_doubles(R * C, -1, 1, 31), sr = random_doubles(R * L, -1, 1, 32),
                      ri = random_doubles(R * L, 0, double(C), 33);
  std::vector<int64_t> index(R * L);
  for (int64_t i = 0; i < R * L; ++i) index[i] = std::min<int64_t>(int64_t(ri[i]), C - 1);
  const Vec<float> src = cast_vec<float>(sr);
  struct Layout {
    ElementwiseLoop loop;
    int64_t dim_stride;
  };
  const Layout layouts[] = {{make_loop({R, L}, {Shape{C, 0}, Shape{L, 1}, Shape{L, 1}}), 1},
                            {make_loop({L, R}, {Shape{0, 1}, Shape{R, 1}, Shape{R, 1}}), R}};
  const int threads = get_num_threads();
  for (const Layout& lay : layouts)
    for (int op = -1; op < 5; ++op) {
      INFO("op " << op << " (-1: scatter_add), dim stride " << lay.dim_stride);
      std::vector<Vec<float>> results, counts;
      for (int t : {1, 2}) {
        set_num_threads(t);
        Vec<float> self = cast_vec<float>(s0), count(R * C, 0.0f);
        if (op < 0) {
          REQUIRE(cpu::scatter_add(DType::Float32, ptr<float>(self), ptr<float>(src), index.data(), lay.loop,
                                   lay.dim_stride, C) == -1);
        } else {
          const auto r = static_cast<ScatterReduce>(op);
          REQUIRE(cpu::scatter_reduce(DType::Float32, r, false, ptr<float>(self),
                                      r == ScatterReduce::Mean ? ptr<float>(count) : nullptr, ptr<float>(src),
                                      index.data(), lay.loop, lay.dim_stride, C) == -1);
        }
        results.push_back(self);
        counts.push_back(count);
      }
      CHECK(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(float)) == 0);
      CHECK(counts[0] == counts[1]);
    }
  set_num_threads(threads);
}

TEST_CASE("cpu scatter_reduce: NaN wins amax and amin, infinities start them without self", "[kernels]") {
  // self [3] gets src [4] at index {0, 0, 1, 2}.
  const std::vector<int64_t> index{0, 0, 1, 2};
  const Shape shape{4};
  const ElementwiseLoop L = make_loop(shape, {Shape{0}, Shape{1}, Shape{1}});
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (ScatterReduce op : {ScatterReduce::Amax, ScatterReduce::Amin}) {
    std::vector<float> self{1, nan, 5}, src{nan, 2, 3, -inf};
    CHECK(cpu::scatter_reduce(DType::Float32, op, true, self.data(), nullptr, src.data(), index.data(), L, 1, 3) == -1);
    CHECK(std::isnan(self[0]));
    CHECK(std::isnan(self[1]));  // a NaN already there stays
    CHECK(self[2] == (op == ScatterReduce::Amax ? 5 : -inf));
    std::vector<float> lone{7, 7, 7}, one{4, 4, 4, 4};
    CHECK(cpu::scatter_reduce(DType::Float32, op, false, lone.data(), nullptr, one.data(), index.data(), L, 1, 3) ==
          -1);
    CHECK(lone == std::vector<float>{4, 4, 4});
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

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins
namespace lc = loom::cuda;            // runtime

TEST_CASE("cuda index_select, gather, scatter_add, scatter_reduce match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(8);
  int* flag = lc::device_error_flag(0);
  // index_select over the middle dim of [37, 129, 5].
  auto x = random_vec<float>(N3, rng);
  auto dx = to_device(x);
  std::vector<int64_t> idx(41);
  for (auto& v : idx) v = std::uniform_int_distribution<int64_t>(0, D1 - 1)(rng);
  auto didx = to_device(idx);
  std::vector<float> ref(D0 * 41 * D2);
  REQUIRE(kcpu::index_select(DType::Float32, ref.data(), x.data(), idx.data(), 41, D0, D1, D2) == -1);
  DevBuf<float> dout(ref.size());
  kc::index_select(DType::Float32, dout.get(), dx.get(), didx.get(), 41, D0, D1, D2, flag, stream());
  check_close(to_host<float>(dout, ref.size()), ref, 0, 0, "index_select");
  lc::check_async_errors(0);

  // gather / scatter_add along dim 1 over an index of shape [37, 129, 5]
  // (self / input [37, 129, 5] too, so the dim stride is 5).
  ElementwiseLoop L = strided_loop(3);
  for (int d = 0; d < 3; ++d) L.strides[1][d] = L.strides[0][d], L.strides[2][d] = L.strides[0][d];
  ElementwiseLoop G = L;  // gather: 0 out, 1 in (dim stride 0), 2 index
  G.strides[1][1] = 0;
  ElementwiseLoop S = L;  // scatter: 0 self (dim stride 0), 1 src, 2 index
  S.strides[0][1] = 0;
  std::vector<int64_t> gi(N3);
  for (auto& v : gi) v = std::uniform_int_distribution<int64_t>(0, D1 - 1)(rng);
  auto dgi = to_device(gi);
  std::vector<float> gref(N3);
  REQUIRE(kcpu::gather(DType::Float32, gref.data(), x.data(), gi.data(), G, D2, D1) == -1);
  DevBuf<float> dg(N3);
  kc::gather(DType::Float32, dg.get(), dx.get(), dgi.get(), G, D2, D1, flag, stream());
  check_close(to_host<float>(dg, N3), gref, 0, 0, "gather");

  auto run_scatter = [&](auto tag) {
    using T = decltype(tag);
    auto self = random_vec<T>(N3, rng), src = random_vec<T>(N3, rng);
    auto dself = to_device(self), dsrc = to_device(src);
    REQUIRE(kcpu::scatter_add(dtype_of<T>::value, self.data(), src.data(), gi.data(), S, D2, D1) == -1);
    kc::scatter_add(dtype_of<T>::value, dself.get(), dsrc.get(), dgi.get(), S, D2, D1, flag, stream());
    check_close(to_host<T>(dself, N3), self, std::is_integral_v<T> ? 0 : 1e-4, 1e-5, "scatter_add");
  };
  run_scatter(float{});
  run_scatter(double{});
  run_scatter(int32_t{});
  run_scatter(int64_t{});
  lc::check_async_errors(0);

  // A bad index: the flag is raised as IndexError at the next check, then cleared.
  gi[100] = D1;
  auto dbad = to_device(gi);
  auto self = random_vec<float>(N3, rng);
  auto dself = to_device(self);
  kc::scatter_add(DType::Float32, dself.get(), dx.get(), dbad.get(), S, D2, D1, flag, stream());
  try {
    lc::check_async_errors(0);
    FAIL("expected an index error");
  } catch (const loom::Error& e) {
    CHECK(e.kind() == ErrorKind::Index);
  }
  check_close(to_host<float>(dself, N3), self, 0, 0, "scatter_add leaves self untouched on a bad index");
  // scatter_reduce: every reduction with and without self, against the CPU
  // twin (mean: the sums and the counts).
  auto run_reduce = [&](auto tag) {
    using T = decltype(tag);
    gi[100] = 3;
    auto dgi2 = to_device(gi);
    for (ScatterReduce op :
         {ScatterReduce::Sum, ScatterReduce::Prod, ScatterReduce::Mean, ScatterReduce::Amax, ScatterReduce::Amin}) {
      for (bool include_self : {true, false}) {
        INFO("scatter_reduce op " << int(op) << " include_self " << include_self);
        auto self = random_vec<T>(N3, rng), src = random_vec<T>(N3, rng);
        std::vector<T> count(N3, T(include_self ? 1 : 0));
        auto dself = to_device(self), dsrc = to_device(src), dcount = to_device(count);
        T* cp = op == ScatterReduce::Mean ? count.data() : nullptr;
        T* dcp = op == ScatterReduce::Mean ? dcount.get() : nullptr;
        REQUIRE(kcpu::scatter_reduce(dtype_of<T>::value, op, include_self, self.data(), cp, src.data(), gi.data(), S,
                                     D2, D1) == -1);
        kc::scatter_reduce(dtype_of<T>::value, op, include_self, dself.get(), dcp, dsrc.get(), dgi2.get(), S, D2, D1,
                           flag, stream());
        const double tol = std::is_integral_v<T> ? 0 : 1e-4;
        check_close(to_host<T>(dself, N3), self, tol, 1e-5, "scatter_reduce");
        if (op == ScatterReduce::Mean) check_close(to_host<T>(dcount, N3), count, 0, 0, "scatter_reduce count");
      }
    }
    lc::check_async_errors(0);
  };
  run_reduce(float{});
  run_reduce(double{});
  run_reduce(int32_t{});
  run_reduce(int64_t{});
  gi[100] = D1;
  auto dbad2 = to_device(gi);
  auto self2 = random_vec<float>(N3, rng);
  auto dself2 = to_device(self2);
  kc::scatter_reduce(DType::Float32, ScatterReduce::Amax, false, dself2.get(), nullptr, dx.get(), dbad2.get(), S, D2,
                     D1, flag, stream());
  CHECK_THROWS_AS(lc::check_async_errors(0), loom::Error);
  check_close(to_host<float>(dself2, N3), self2, 0, 0, "scatter_reduce leaves self untouched on a bad index");

  gi[100] = -1;
  auto dneg = to_device(gi);
  kc::gather(DType::Float32, dg.get(), dx.get(), dneg.get(), G, D2, D1, flag, stream());
  CHECK_THROWS_AS(lc::synchronize(0), loom::Error);
  lc::check_async_errors(0);  // cleared
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda index kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
