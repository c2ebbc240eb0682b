// CPU indexing kernels (index_select, gather, scatter_add, nonzero_flat):
// references and bad-index positions; [cuda] the CUDA kernels against their
// CPU twins and the device index-error flag. Without a device the [cuda]
// tests SKIP with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include "core/error.h"
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

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins
namespace lc = loom::cuda;            // runtime

TEST_CASE("cuda index_select, gather, scatter_add match cpu", "[cuda]") {
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
  gi[100] = -1;
  auto dneg = to_device(gi);
  kc::gather(DType::Float32, dg.get(), dx.get(), dneg.get(), G, D2, D1, flag, stream());
  CHECK_THROWS_AS(lc::synchronize(0), loom::Error);
  lc::check_async_errors(0);  // cleared
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda index kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
