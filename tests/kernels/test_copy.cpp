// The CPU copy kernel's fast paths against plain loops: transposed copies (8 x 8 / 4 x 4 blocks transposed in
// registers for 4- and 8-byte dtypes, scalar edges and other dtypes) on sizes that are not multiples of a
// block or a tile, batched and inside larger views; unit-stride conversions, float -> int64 through the
// double trick with its saturating fall-back on every position of a block; rows read backwards (flip).
// The conversions between every pair of dtypes on small strided layouts are in test_pointwise.cpp.
#include <catch2/catch_test_macros.hpp>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/pointwise.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

template <typename T>
Vec<T> values_of(int64_t n, uint32_t seed) {
  std::vector<double> v = random_doubles(n, -1e6, 1e6, seed);
  Vec<T> out(n);
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, bool>) out[i] = v[i] > 0;
    else out[i] = static_cast<T>(v[i]);
  }
  return out;
}

// dst [B, R, C] contiguous <- src stored as [B, C, R] (each slice transposed), src slices `pad` apart.
template <typename T>
void check_transpose(int64_t B, int64_t R, int64_t C, int64_t pad) {
  const int64_t slice = R * C + pad;
  Vec<T> src = values_of<T>(B * slice, static_cast<uint32_t>(11 + R * 7 + C));
  Vec<T> dst(B * R * C);
  const Shape shape{B, R, C};
  cpu::copy(dtype_of<T>::value, ptr<T>(dst), dtype_of<T>::value, ptr<T>(src),
            make_loop(shape, {{R * C, C, 1}, {slice, 1, R}}));
  int64_t bad = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) bad += dst[(b * R + i) * C + j] != src[b * slice + j * R + i];
  INFO(dtype_name(dtype_of<T>::value) << " [" << B << ", " << R << ", " << C << "], slices " << pad << " apart");
  CHECK(bad == 0);
}

template <typename T>
void check_transposes() {
  for (auto [B, R, C] : std::vector<std::array<int64_t, 3>>{
           {1, 16, 16}, {1, 17, 33}, {2, 40, 24}, {3, 64, 64}, {1, 100, 37}, {2, 31, 70}, {1, 16, 129}})
    for (int64_t pad : {0, 5}) check_transpose<T>(B, R, C, pad);
}

// The saturating conversion: NaN 0, values past the range its ends, truncation toward zero.
template <typename D>
D saturated(double x) {
  const double lo = static_cast<double>(std::numeric_limits<D>::min());
  if (std::isnan(x)) return 0;
  if (x <= lo) return std::numeric_limits<D>::min();
  if (x >= -lo) return std::numeric_limits<D>::max();
  return static_cast<D>(x);
}

template <typename D, typename S>
void check_conversion() {
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             -0.75,
                             2.5,
                             2147483520.0,
                             2147483648.0,
                             -2147483648.0,
                             4503599627370495.0,
                             2251799813685248.0,
                             -2251799813685248.0,
                             9.2233720368547758e18,
                             -9.2233720368547758e18,
                             1e30};
  const int64_t n = 200;  // three full blocks of 64 and a remainder
  for (int64_t pos : {0, 1, 63, 64, 100, 191, 192, 199})
    for (double sp : specials) {
      std::vector<double> v = random_doubles(n, -3e5, 3e5, static_cast<uint32_t>(3 + pos));
      v[pos] = sp;
      std::vector<S> src(n);
      for (int64_t i = 0; i < n; ++i) src[i] = static_cast<S>(v[i]);
      std::vector<D> dst(n);
      cpu::copy(dtype_of<D>::value, dst.data(), dtype_of<S>::value, src.data(), make_loop({n}, {{1}, {1}}));
      int64_t bad = 0;
      for (int64_t i = 0; i < n; ++i) bad += dst[i] != saturated<D>(static_cast<double>(src[i]));
      INFO(dtype_name(dtype_of<S>::value) << " -> " << dtype_name(dtype_of<D>::value) << ", " << sp << " at " << pos);
      CHECK(bad == 0);
    }
}

}  // namespace

TEST_CASE("cpu copy: transposed copies in register blocks match a plain loop on every dtype", "[kernels]") {
  check_transposes<float>();
  check_transposes<double>();
  check_transposes<int32_t>();
  check_transposes<int64_t>();
  check_transposes<bool>();
}

TEST_CASE("cpu copy: a transposed source converted on the way takes the scalar tile path", "[kernels]") {
  const int64_t R = 37, C = 45;
  Vec<float> src = values_of<float>(R * C, 5);
  std::vector<double> dst(R * C);
  cpu::copy(DType::Float64, dst.data(), DType::Float32, src.data(), make_loop({R, C}, {{C, 1}, {1, R}}));
  int64_t bad = 0;
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) bad += dst[i * C + j] != static_cast<double>(src[j * R + i]);
  CHECK(bad == 0);
}

TEST_CASE("cpu copy: unit-stride float to int conversions saturate at every position of a block", "[kernels]") {
  check_conversion<int64_t, float>();
  check_conversion<int64_t, double>();
  check_conversion<int32_t, float>();
  check_conversion<int32_t, double>();
}

TEST_CASE("cpu copy: rows read backwards (flip of the last dim)", "[kernels]") {
  const int64_t R = 3, C = 101;
  Vec<int64_t> src = values_of<int64_t>(R * C, 9), dst(R * C);
  // Row i of dst is row R - 1 - i of src reversed: the source starts at its last element.
  cpu::copy(DType::Int64, dst.data(), DType::Int64, src.data() + R * C - 1, make_loop({R, C}, {{C, 1}, {-C, -1}}));
  int64_t bad = 0;
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) bad += dst[i * C + j] != src[(R - 1 - i) * C + (C - 1 - j)];
  CHECK(bad == 0);
}

TEST_CASE("cpu arange: the integer loop gives the double formula's values, the fall-backs too", "[kernels]") {
  struct Case {
    int64_t n;
    double start, step;
  };
  const Case cases[] = {{100003, -5, 3},         {1000, 7, -2}, {70000, 0.5, 1.25}, {50, 2147483600.0, 1},
                        {50, -2147483600.0, -1}, {4, 0, 1e15},  {33, 1e17, 2},      {65, 3, 0.5}};
  for (const Case& c : cases) {
    INFO("arange of " << c.n << " from " << c.start << " by " << c.step);
    std::vector<int64_t> o64(c.n);
    std::vector<int32_t> o32(c.n);
    cpu::arange(DType::Int64, o64.data(), c.n, c.start, c.step);
    cpu::arange(DType::Int32, o32.data(), c.n, c.start, c.step);
    int64_t bad = 0;
    for (int64_t i = 0; i < c.n; ++i) {
      const double v = c.start + static_cast<double>(i) * c.step;
      bad += o64[i] != saturated<int64_t>(v);
      bad += o32[i] != saturated<int32_t>(v);
    }
    CHECK(bad == 0);
  }
}
