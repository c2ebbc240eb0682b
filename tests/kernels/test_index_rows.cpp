// The row writes of kernels/index.h (index_add, index_copy, index_fill):
// CPU kernels against a serial reference on random inputs and odd shapes
// (every dtype, repeated and negative indices, the split over threads), bad
// indices reported with self untouched; [cuda] the CUDA kernels against their
// CPU twins and the device index-error flag. Without a device the [cuda] tests
// SKIP with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/index.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include "core/cuda.h"
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

enum class Row { Add, Copy, Fill };

struct RowShape {
  int64_t outer, self_dim, inner, n_index;
};

// The serial definition: j in order, self [outer, self_dim, inner], src [outer, n_index, inner].
template <typename T>
Vec<T> reference(Row w, Vec<T> self, const Vec<T>& src, const std::vector<int64_t>& index, const RowShape& s, T a) {
  T* out = ptr<T>(self);
  const T* r = ptr<T>(src);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t j = 0; j < s.n_index; ++j) {
      const int64_t k = index[j] < 0 ? index[j] + s.self_dim : index[j];
      for (int64_t i = 0; i < s.inner; ++i) {
        T& d = out[(o * s.self_dim + k) * s.inner + i];
        const T v = w == Row::Fill ? a : r[(o * s.n_index + j) * s.inner + i];
        if (w != Row::Add) d = v;
        else if constexpr (std::is_same_v<T, bool>) d = d || (v && a);
        else d = static_cast<T>(d + a * v);
      }
    }
  return self;
}

std::vector<int64_t> random_index(int64_t n, int64_t lo, int64_t hi, std::mt19937& rng) {
  std::vector<int64_t> idx(n);
  std::uniform_int_distribution<int64_t> d(lo, hi - 1);
  for (auto& v : idx) v = d(rng);
  return idx;
}

template <typename T>
int64_t run_cpu(Row w, Vec<T>& self, const Vec<T>& src, const std::vector<int64_t>& index, const RowShape& s, T a) {
  const DType dt = dtype_of<T>::value;
  switch (w) {
    case Row::Add:
      return cpu::index_add(dt, ptr<T>(self), ptr<T>(src), index.data(), s.n_index, s.outer, s.self_dim, s.inner, &a);
    case Row::Copy:
      return cpu::index_copy(dt, ptr<T>(self), ptr<T>(src), index.data(), s.n_index, s.outer, s.self_dim, s.inner);
    default: return cpu::index_fill(dt, ptr<T>(self), index.data(), s.n_index, s.outer, s.self_dim, s.inner, &a);
  }
}

// Shapes: a vector (outer = inner = 1), rows along the last dim (inner 1), a middle dim, the first dim of
// a wide table (outer 1: the target rows split over threads), and many outer slices (split over them).
const std::vector<RowShape> kShapes{{1, 13, 1, 29},      {9, 7, 1, 11},     {5, 17, 33, 23},
                                    {1, 300, 1000, 257}, {301, 11, 37, 19}, {3, 1, 5, 4}};

}  // namespace

TEMPLATE_TEST_CASE("cpu index_add / index_copy / index_fill match the serial definition", "[kernels]", bool, int32_t,
                   int64_t, float, double) {
  using T = TestType;
  std::mt19937 rng(11);
  const Row w = GENERATE(Row::Add, Row::Copy, Row::Fill);
  for (const RowShape& s : kShapes) {
    INFO("op " << int(w) << " outer " << s.outer << " self_dim " << s.self_dim << " inner " << s.inner << " n_index "
               << s.n_index);
    const auto self = random_vec<T>(s.outer * s.self_dim * s.inner, rng, -4, 4);
    const auto src = random_vec<T>(s.outer * s.n_index * s.inner, rng, -4, 4);
    // Repeated indices always (n_index > self_dim or drawn with repeats); fill also counts from the end.
    const auto index = random_index(s.n_index, w == Row::Fill ? -s.self_dim : 0, s.self_dim, rng);
    const T a = std::is_same_v<T, bool> ? T(1) : static_cast<T>(std::is_integral_v<T> ? -3 : -1.5);
    Vec<T> got = self;
    REQUIRE(run_cpu<T>(w, got, src, index, s, a) == -1);
    const Vec<T> want = reference<T>(w, self, src, index, s, a);
    // Add on floats: the same order of additions per element, so the same bits.
    CHECK(got == want);
  }
}

TEST_CASE("cpu index_add with alpha false on bool adds nothing; alpha 1 adds exactly", "[kernels]") {
  const RowShape s{2, 3, 4, 5};
  std::mt19937 rng(3);
  const auto self = random_vec<bool>(24, rng), src = random_vec<bool>(40, rng);
  const auto index = random_index(5, 0, 3, rng);
  Vec<bool> got = self;
  REQUIRE(run_cpu<bool>(Row::Add, got, src, index, s, false) == -1);
  CHECK(got == self);
  const auto fself = random_vec<float>(24, rng), fsrc = random_vec<float>(40, rng);
  Vec<float> f = fself;
  REQUIRE(run_cpu<float>(Row::Add, f, fsrc, index, s, 1.0f) == -1);
  CHECK(f == reference<float>(Row::Add, fself, fsrc, index, s, 1.0f));
}

TEST_CASE("cpu index_add / index_copy / index_fill: a bad index is reported and nothing is written", "[kernels]") {
  const RowShape s{4, 6, 3, 5};
  std::mt19937 rng(5);
  const auto self = random_vec<float>(72, rng), src = random_vec<float>(60, rng);
  const std::vector<int64_t> high{0, 5, 6, 1, 2}, neg{1, -1, 0, 0, 0}, too_neg{1, 2, -7, 0, 0};
  for (Row w : {Row::Add, Row::Copy, Row::Fill}) {
    Vec<float> got = self;
    CHECK(run_cpu<float>(w, got, src, high, s, 2.0f) == 2);
    // add and copy reject a negative index; fill takes [-6, 0) from the end
    CHECK(run_cpu<float>(w, got, src, w == Row::Fill ? too_neg : neg, s, 2.0f) == (w == Row::Fill ? 2 : 1));
    CHECK(got == self);
  }
  // An empty self row count: the indices are still checked.
  Vec<float> none;
  const std::vector<int64_t> one{0};
  const float v = 1.0f;
  CHECK(cpu::index_fill(DType::Float32, none.data(), one.data(), 1, 0, 0, 4, &v) == 0);
}

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;
namespace lc = loom::cuda;

namespace {

template <typename T>
void cuda_case(Row w, const RowShape& s, std::mt19937& rng) {
  INFO("op " << int(w) << " dtype " << dtype_name(dtype_of<T>::value) << " outer " << s.outer << " self_dim "
             << s.self_dim << " inner " << s.inner << " n_index " << s.n_index);
  const DType dt = dtype_of<T>::value;
  int* flag = lc::device_error_flag(0);
  auto self = random_vec<T>(s.outer * s.self_dim * s.inner, rng, -4, 4);
  const auto src = random_vec<T>(s.outer * s.n_index * s.inner, rng, -4, 4);
  // index_copy: distinct indices (with repeats the CUDA result is one of the rows, unspecified which).
  std::vector<int64_t> index;
  if (w == Row::Copy) {
    for (int64_t j = 0; j < s.self_dim; ++j) index.push_back(j);
    std::shuffle(index.begin(), index.end(), rng);
    index.resize(s.n_index);
  } else {
    index = random_index(s.n_index, w == Row::Fill ? -s.self_dim : 0, s.self_dim, rng);
  }
  const T a = std::is_same_v<T, bool> ? T(1) : static_cast<T>(std::is_integral_v<T> ? 3 : 0.75);
  auto dself = to_device(self), dsrc = to_device(src);
  auto didx = to_device(index);
  switch (w) {
    case Row::Add:
      kc::index_add(dt, dself.get(), dsrc.get(), didx.get(), s.n_index, s.outer, s.self_dim, s.inner, &a, flag,
                    stream());
      break;
    case Row::Copy:
      kc::index_copy(dt, dself.get(), dsrc.get(), didx.get(), s.n_index, s.outer, s.self_dim, s.inner, flag, stream());
      break;
    case Row::Fill:
      kc::index_fill(dt, dself.get(), didx.get(), s.n_index, s.outer, s.self_dim, s.inner, &a, flag, stream());
  }
  REQUIRE(run_cpu<T>(w, self, src, index, s, a) == -1);
  check_close(to_host<store_t<T>>(dself, self.size()), self, twin_tol<T>() * 10, twin_tol<T>(), "row write");
  lc::check_async_errors(0);
}

}  // namespace

TEST_CASE("cuda index_add / index_copy / index_fill match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(21);
  // Copy needs n_index <= self_dim for distinct indices.
  const std::vector<RowShape> shapes{{1, 13, 1, 9}, {9, 7, 1, 5}, {5, 17, 33, 13}, {1, 300, 1000, 257}, {3, 1, 5, 1}};
  for (const RowShape& s : shapes)
    for (Row w : {Row::Add, Row::Copy, Row::Fill}) {
      cuda_case<bool>(w, s, rng);
      cuda_case<int32_t>(w, s, rng);
      cuda_case<int64_t>(w, s, rng);
      cuda_case<float>(w, s, rng);
      cuda_case<double>(w, s, rng);
    }
}

TEST_CASE("cuda index_add / index_fill: a bad index raises at the next check and leaves self untouched", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(4);
  const RowShape s{4, 6, 3, 5};
  const auto self = random_vec<float>(72, rng), src = random_vec<float>(60, rng);
  const std::vector<int64_t> high{0, 5, 6, 1, 2}, too_neg{1, 2, -7, 0, 0};
  int* flag = lc::device_error_flag(0);
  const float a = 2.0f;
  for (Row w : {Row::Add, Row::Copy, Row::Fill}) {
    auto dself = to_device(self), dsrc = to_device(src);
    auto didx = to_device(w == Row::Fill ? too_neg : high);
    if (w == Row::Add)
      kc::index_add(DType::Float32, dself.get(), dsrc.get(), didx.get(), 5, 4, 6, 3, &a, flag, stream());
    else if (w == Row::Copy)
      kc::index_copy(DType::Float32, dself.get(), dsrc.get(), didx.get(), 5, 4, 6, 3, flag, stream());
    else kc::index_fill(DType::Float32, dself.get(), didx.get(), 5, 4, 6, 3, &a, flag, stream());
    try {
      lc::check_async_errors(0);
      FAIL("expected an index error");
    } catch (const loom::Error& e) {
      CHECK(e.kind() == ErrorKind::Index);
    }
    check_close(to_host<float>(dself, 72), self, 0, 0, "self untouched on a bad index");
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda index_add / index_copy / index_fill", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
