// CPU Philox random fills (uniform, normal, randint): reproducibility, range,
// the Philox lanes; [cuda] the CUDA fills against their CPU twins (the same
// values for the same seed and offset). Without a device the [cuda] tests SKIP
// with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include "core/error.h"
#include "core/philox.h"
#include "kernels/random.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include <cstdint>
#include <vector>
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

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

TEST_CASE("philox Box-Muller math: log within 2 ulp, sin / cos within 2^-52 of the C library", "[kernels]") {
  std::mt19937_64 rng(3);
  double worst_log = 0, worst_sc = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t a = static_cast<uint32_t>(rng()), b = static_cast<uint32_t>(rng());
    const double u = (double(a) + 1.0) / 4294967296.0, t = double(b) / 4294967296.0;
    const double want = std::log(u);
    if (want != 0)
      worst_log = std::max(worst_log, std::fabs(philox::log_unit(u) - want) / std::fabs(want) / 2.220446049250313e-16);
    double s = 0, c = 0;
    philox::sincos_turns(t, &s, &c);
    const long double x = 6.283185307179586476925286766559L * static_cast<long double>(t);
    worst_sc = std::max({worst_sc, double(std::fabs(s - std::sin(x))), double(std::fabs(c - std::cos(x)))});
  }
  INFO("log: " << worst_log << " eps relative; sin / cos: " << worst_sc << " absolute");
  CHECK(worst_log <= 2.0);
  CHECK(worst_sc <= 2.3e-16);
  // Exact at the ends and the quarter turns.
  CHECK(philox::log_unit(1.0) == 0.0);
  CHECK(philox::log_unit(1.0 / 4294967296.0) == -32 * std::log(2.0));
  double s = 0, c = 0;
  for (auto [t, ws, wc] : {std::tuple{0.0, 0.0, 1.0}, {0.25, 1.0, 0.0}, {0.5, 0.0, -1.0}, {0.75, -1.0, 0.0}}) {
    philox::sincos_turns(t, &s, &c);
    CHECK(s == ws);
    CHECK(c == wc);
  }
  // One pair against the C library's Box-Muller.
  double zc = 0, zs = 0;
  philox::box_muller(123456789u, 987654321u, &zc, &zs);
  const double r = std::sqrt(-2.0 * std::log(123456790.0 / 4294967296.0)),
               th = 6.283185307179586 * (987654321.0 / 4294967296.0);
  CHECK(std::fabs(zc - r * std::cos(th)) < 1e-15 * r);
  CHECK(std::fabs(zs - r * std::sin(th)) < 1e-15 * r);
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

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins

TEST_CASE("cuda random matches cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  for (int64_t n : {int64_t(1), int64_t(6), int64_t(12345)}) {
    for (uint64_t offset : {uint64_t(0), uint64_t(17)}) {
      const uint64_t seed = 0x1234abcdULL;
      DevBuf<double> d(n);
      std::vector<float> uf(n);
      kcpu::uniform(DType::Float32, uf.data(), n, seed, offset, -2, 3);
      kc::uniform(DType::Float32, d.get(), n, seed, offset, -2, 3, stream());
      CHECK(to_host<float>(d, n) == uf);
      std::vector<double> ud(n);
      kcpu::uniform(DType::Float64, ud.data(), n, seed, offset, 0, 1);
      kc::uniform(DType::Float64, d.get(), n, seed, offset, 0, 1, stream());
      CHECK(to_host<double>(d, n) == ud);
      std::vector<int64_t> ri(n);
      kcpu::randint(DType::Int64, ri.data(), n, seed, offset, -5, 1000);
      kc::randint(DType::Int64, d.get(), n, seed, offset, -5, 1000, stream());
      CHECK(to_host<int64_t>(d, n) == ri);
      std::vector<double> nd(n);
      kcpu::normal(DType::Float64, nd.data(), n, seed, offset, 1.0, 2.0);
      kc::normal(DType::Float64, d.get(), n, seed, offset, 1.0, 2.0, stream());
      CHECK(to_host<double>(d, n) == nd);  // core/philox.h's own log, sin and cos: the same bits
      std::vector<float> nf(n);
      kcpu::normal(DType::Float32, nf.data(), n, seed, offset, 0.0, 1.0);
      kc::normal(DType::Float32, d.get(), n, seed, offset, 0.0, 1.0, stream());
      CHECK(to_host<float>(d, n) == nf);
    }
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda random kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
