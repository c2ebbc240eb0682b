// CPU reductions (reduce, arg_reduce, var_mean) against double references on
// every schedule: per output, column-wise, and split over the reduced range;
// [cuda] the CUDA reductions against their CPU twins on a [37, 129, 5] input
// (no tile multiples) over several sets of reduced dims, and a full reduction
// large enough for the split schedule. Without a device the [cuda] tests SKIP
// with a reason. channel_sum: test_reduce_channel.cpp.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <limits>
#include <string>
#include "core/error.h"
#include "kernels/reduce.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include <cstdint>
#include <random>
#include <vector>
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInfD = std::numeric_limits<double>::infinity();

// The reduced values of each output, in order (outputs row-major).
template <typename T>
std::vector<std::vector<double>> groups(const ReduceCase& c, const T* in) {
  const ReduceLoop& L = c.loop;
  Shape rs(L.red_sizes, L.red_sizes + L.red_ndim), rst(L.red_strides, L.red_strides + L.red_ndim);
  Shape os(L.out_sizes, L.out_sizes + L.out_ndim), ost(L.in_out_strides, L.in_out_strides + L.out_ndim);
  std::vector<std::vector<double>> g(L.out_numel);
  for_each_index(os, {ost}, [&](int64_t o, const std::vector<int64_t>& base) {
    for_each_index(rs, {rst}, [&](int64_t, const std::vector<int64_t>& off) {
      g[o].push_back(static_cast<double>(in[base[0] + off[0]]));
    });
  });
  return g;
}

double ref_reduce(ReduceOp op, const std::vector<double>& v, double p) {
  double r;
  switch (op) {
    case ReduceOp::Sum:
      r = 0;
      for (double x : v) r += x;
      return r;
    case ReduceOp::Mean:
      r = 0;
      for (double x : v) r += x;
      return r / v.size();
    case ReduceOp::Prod:
      r = 1;
      for (double x : v) r *= x;
      return r;
    case ReduceOp::Max:
      r = -kInfD;
      for (double x : v) r = std::isnan(x) || std::isnan(r) ? kNaN : std::max(r, x);
      return r;
    case ReduceOp::Min:
      r = kInfD;
      for (double x : v) r = std::isnan(x) || std::isnan(r) ? kNaN : std::min(r, x);
      return r;
    case ReduceOp::LogSumExp: {
      double m = -kInfD;
      for (double x : v) m = std::max(m, x);
      if (std::isinf(m)) return m;
      r = 0;
      for (double x : v) r += std::exp(x - m);
      return m + std::log(r);
    }
    case ReduceOp::Norm: {
      if (p == 0) {
        r = 0;
        for (double x : v) r += x != 0;
        return r;
      }
      if (p == kInfD) {
        r = 0;
        for (double x : v) r = std::max(r, std::fabs(x));
        return r;
      }
      if (p == -kInfD) {
        r = kInfD;
        for (double x : v) r = std::min(r, std::fabs(x));
        return r;
      }
      r = 0;
      for (double x : v) r += std::pow(std::fabs(x), p);
      return std::pow(r, 1 / p);
    }
  }
  return kNaN;
}

struct Layout {
  std::string name;
  Shape sizes, strides;
  std::vector<bool> reduced;
  int64_t storage;
};

std::vector<Layout> layouts() {
  const Shape s{7, 13, 5};
  const Shape c = contiguous_strides(s), t = transposed_strides(s, 0, 2);
  return {
      {"last dim", s, c, {false, false, true}, 455},
      {"first dim", s, c, {true, false, false}, 455},
      {"column schedule, small", {9, 37}, {37, 1}, {true, false}, 333},
      {"column schedule, groups and a partial block", {3, 50, 300}, {15000, 300, 1}, {false, true, false}, 45000},
      {"middle dim", s, c, {false, true, false}, 455},
      {"outer dims", s, c, {true, false, true}, 455},
      {"all dims", s, c, {true, true, true}, 455},
      {"transposed, last dim", s, t, {false, false, true}, 455},
      {"transposed, first dim", s, t, {true, false, false}, 455},
      {"stepped", {9, 11}, {33, 3}, {false, true}, 9 * 33},
      {"large full (split schedule)", {100003}, {1}, {true}, 100003},
      {"large column", {300, 200}, {200, 1}, {true, false}, 60000},
      {"large rows", {200, 300}, {300, 1}, {false, true}, 60000},
      {"few outputs, long rows", {3, 40000}, {40000, 1}, {false, true}, 120000},
  };
}

template <typename T>
void check_reduce(ReduceOp op, double p, double lo, double hi, double atol, double rtol) {
  const DType dt = dtype_of<T>::value;
  for (const Layout& l : layouts()) {
    std::vector<double> src = random_doubles(l.storage, lo, hi, 61);
    if (std::is_integral_v<T>)
      for (auto& x : src) x = std::round(x);
    Vec<T> in = cast_vec<T>(src);
    ReduceCase c = make_reduce(l.sizes, l.strides, l.reduced);
    Vec<T> out(c.loop.out_numel);
    cpu::reduce(op, dt, ptr<T>(out), ptr<T>(in), c.loop, p);
    auto g = groups(c, ptr<T>(in));
    int64_t bad = 0;
    for (int64_t o = 0; o < c.loop.out_numel; ++o) {
      const double want = ref_reduce(op, g[o], p);
      // Large reductions get a looser bound that scales with the count.
      const double a = atol * std::sqrt(double(g[o].size()));
      if (!is_close(out[o], want, a, rtol)) {
        if (!bad) UNSCOPED_INFO(l.name << " output " << o << ": got " << out[o] << " want " << want);
        ++bad;
      }
    }
    INFO(dtype_name(dt) << " op " << int(op) << " p=" << p << " layout " << l.name);
    CHECK(bad == 0);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("cpu reduce float ops on every layout and schedule", "[kernels]", float, double) {
  using T = TestType;
  const double rt = std::is_same_v<T, float> ? 2e-6 : 1e-12;
  check_reduce<T>(ReduceOp::Sum, 0, -1, 1, rt, rt);
  check_reduce<T>(ReduceOp::Mean, 0, -1, 1, rt, rt);
  check_reduce<T>(ReduceOp::Prod, 0, 0.99, 1.01, rt, 10 * rt);
  check_reduce<T>(ReduceOp::Max, 0, -5, 5, 0, 0);
  check_reduce<T>(ReduceOp::Min, 0, -5, 5, 0, 0);
  check_reduce<T>(ReduceOp::LogSumExp, 0, -20, 20, rt, rt);
  for (double p : {0.0, 1.0, 2.0, 3.0, 0.5, kInfD, -kInfD}) check_reduce<T>(ReduceOp::Norm, p, -2, 2, rt, 10 * rt);
}

TEMPLATE_TEST_CASE("cpu reduce integer ops", "[kernels]", int32_t, int64_t) {
  using T = TestType;
  check_reduce<T>(ReduceOp::Sum, 0, -100, 100, 0, 0);
  check_reduce<T>(ReduceOp::Max, 0, -100, 100, 0, 0);
  check_reduce<T>(ReduceOp::Min, 0, -100, 100, 0, 0);
  // Products of values in {-1, 0, 1} stay exact.
  check_reduce<T>(ReduceOp::Prod, 0, -1.4, 1.4, 0, 0);
  std::vector<T> in(4), out(1);
  ReduceCase c = make_reduce({4}, {1}, {true});
  CHECK_THROWS_AS(cpu::reduce(ReduceOp::Mean, dtype_of<T>::value, out.data(), in.data(), c.loop), loom::Error);
}

TEST_CASE("cpu reduce edge cases: NaN, infinities, empty reductions", "[kernels]") {
  ReduceCase c = make_reduce({2, 4}, {4, 1}, {false, true});
  double in[8] = {1, kNaN, 3, 2, -kInfD, -kInfD, -kInfD, -kInfD}, out[2];
  cpu::reduce(ReduceOp::Max, DType::Float64, out, in, c.loop);
  CHECK(std::isnan(out[0]));
  CHECK(out[1] == -kInfD);
  cpu::reduce(ReduceOp::Min, DType::Float64, out, in, c.loop);
  CHECK(std::isnan(out[0]));
  cpu::reduce(ReduceOp::Sum, DType::Float64, out, in, c.loop);
  CHECK(std::isnan(out[0]));
  cpu::reduce(ReduceOp::LogSumExp, DType::Float64, out, in, c.loop);
  CHECK(std::isnan(out[0]));
  CHECK(out[1] == -kInfD);
  // Long all-infinite rows (the simd loops must start from -inf / +inf).
  std::vector<float> ninf(1001, -std::numeric_limits<float>::infinity());
  ReduceCase cl = make_reduce({1001}, {1}, {true});
  float fr;
  cpu::reduce(ReduceOp::Max, DType::Float32, &fr, ninf.data(), cl.loop);
  CHECK(fr == -std::numeric_limits<float>::infinity());
  for (auto& v : ninf) v = -v;
  cpu::reduce(ReduceOp::Min, DType::Float32, &fr, ninf.data(), cl.loop);
  CHECK(fr == std::numeric_limits<float>::infinity());
  double inf_in[3] = {1, kInfD, kInfD}, r;
  ReduceCase c3 = make_reduce({3}, {1}, {true});
  cpu::reduce(ReduceOp::LogSumExp, DType::Float64, &r, inf_in, c3.loop);
  CHECK(r == kInfD);
  // A huge spread does not overflow.
  double big[3] = {1000, 1000, -1000};
  cpu::reduce(ReduceOp::LogSumExp, DType::Float64, &r, big, c3.loop);
  check_close(r, 1000 + std::log(2.0), 1e-12, 1e-12);
  cpu::reduce(ReduceOp::Norm, DType::Float64, &r, inf_in, c3.loop, kInfD);
  CHECK(r == kInfD);

  // Reducing a [3, 0] tensor over dim 1: identities.
  ReduceCase e = make_reduce({3, 0}, {0, 1}, {false, true});
  float eo[3];
  cpu::reduce(ReduceOp::Sum, DType::Float32, eo, nullptr, e.loop);
  CHECK((eo[0] == 0 && eo[1] == 0 && eo[2] == 0));
  cpu::reduce(ReduceOp::Prod, DType::Float32, eo, nullptr, e.loop);
  CHECK((eo[0] == 1 && eo[2] == 1));
  cpu::reduce(ReduceOp::Mean, DType::Float32, eo, nullptr, e.loop);
  CHECK(std::isnan(eo[0]));
  cpu::reduce(ReduceOp::LogSumExp, DType::Float32, eo, nullptr, e.loop);
  CHECK(eo[1] == -std::numeric_limits<float>::infinity());
  cpu::reduce(ReduceOp::Norm, DType::Float32, eo, nullptr, e.loop, 2);
  CHECK(eo[2] == 0);
  CHECK_THROWS_AS(cpu::reduce(ReduceOp::Max, DType::Float32, eo, nullptr, e.loop), loom::Error);
  int64_t idx[3];
  CHECK_THROWS_AS(cpu::arg_reduce(ReduceOp::Min, DType::Float32, eo, idx, nullptr, e.loop), loom::Error);
  // Zero outputs: nothing to do, no error.
  ReduceCase z = make_reduce({0, 4}, {4, 1}, {false, true});
  CHECK_NOTHROW(cpu::reduce(ReduceOp::Max, DType::Float32, eo, nullptr, z.loop));
}

TEMPLATE_TEST_CASE("cpu reduce NaN and infinities in the lane loops and down columns", "[kernels]", float, double) {
  using T = TestType;
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  // Rows of 1..200 (short loops, whole lane blocks and tails) with one NaN or +-inf at each position class.
  for (int64_t n : {1, 31, 63, 64, 65, 100, 200}) {
    for (int64_t at : {int64_t(0), n / 2, n - 1}) {
      for (T special : {nan, inf, -inf}) {
        std::vector<T> x(n);
        for (int64_t i = 0; i < n; ++i) x[i] = T(0.5) + T(i % 7) * T(0.125);
        x[at] = special;
        ReduceCase c = make_reduce({n}, {1}, {true});
        T got;
        for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum, ReduceOp::Prod, ReduceOp::LogSumExp}) {
          cpu::reduce(op, dtype_of<T>::value, &got, x.data(), c.loop);
          std::vector<double> v(x.begin(), x.end());
          double want = ref_reduce(op, v, 0);
          if (op == ReduceOp::LogSumExp && special != special) want = kNaN;
          INFO("n " << n << " at " << at << " special " << special << " op " << int(op));
          if (want != want) CHECK(got != got);
          else check_close(double(got), want, 1e-6, 1e-6);
        }
      }
    }
  }
  // Down the columns of a [6, 40] matrix (the column schedule and lse_columns): per column a NaN, +inf,
  // all -inf, +inf and NaN, -inf among finite values; the other columns finite.
  const int64_t R = 6, C = 40;
  std::vector<T> x(R * C);
  for (int64_t i = 0; i < R * C; ++i) x[i] = T(std::sin(double(i)) * 3);
  x[2 * C + 0] = nan;
  x[4 * C + 1] = inf;
  for (int64_t r = 0; r < R; ++r) x[r * C + 2] = -inf;
  x[1 * C + 3] = inf;
  x[5 * C + 3] = nan;
  x[0 * C + 4] = -inf;
  ReduceCase c = make_reduce({R, C}, {C, 1}, {true, false});
  std::vector<T> out(C);
  for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum, ReduceOp::LogSumExp}) {
    cpu::reduce(op, dtype_of<T>::value, out.data(), x.data(), c.loop);
    for (int64_t j = 0; j < C; ++j) {
      std::vector<double> v;
      bool has_nan = false;
      for (int64_t r = 0; r < R; ++r) {
        v.push_back(double(x[r * C + j]));
        has_nan |= x[r * C + j] != x[r * C + j];
      }
      double want = ref_reduce(op, v, 0);
      if (has_nan) want = kNaN;
      INFO("op " << int(op) << " column " << j << " got " << out[j] << " want " << want);
      if (want != want) CHECK(out[j] != out[j]);
      else if (std::isinf(want)) CHECK(double(out[j]) == want);
      else check_close(double(out[j]), want, 1e-5, 1e-5);
    }
  }
}

TEMPLATE_TEST_CASE("cpu arg_reduce: first occurrence, NaN wins, every layout", "[kernels]", int32_t, int64_t, float,
                   double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  for (const Layout& l : layouts()) {
    // Few distinct values, so ties are common.
    std::vector<double> src = random_doubles(l.storage, -3, 3, 71);
    for (auto& x : src) x = std::round(x);
    Vec<T> in = cast_vec<T>(src);
    ReduceCase c = make_reduce(l.sizes, l.strides, l.reduced);
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
      Vec<T> vals(c.loop.out_numel);
      std::vector<int64_t> idx(c.loop.out_numel);
      cpu::arg_reduce(op, dt, ptr<T>(vals), idx.data(), ptr<T>(in), c.loop);
      auto g = groups(c, ptr<T>(in));
      int64_t bad = 0;
      for (int64_t o = 0; o < c.loop.out_numel; ++o) {
        int64_t best = 0;
        for (size_t r = 1; r < g[o].size(); ++r)
          if (op == ReduceOp::Max ? g[o][r] > g[o][best] : g[o][r] < g[o][best]) best = r;
        bad += idx[o] != best || double(vals[o]) != g[o][best];
      }
      INFO(dtype_name(dt) << " " << l.name << " op " << int(op));
      CHECK(bad == 0);
    }
  }
}

TEMPLATE_TEST_CASE("cpu arg_reduce on long unit-stride rows (the vector path) matches the element loop", "[kernels]",
                   int32_t, int64_t, float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  // Rows of 31 (the element loop), 32, 33, 100 and 1000; few distinct values (ties), extremes and, for the
  // floating types, NaN, infinities and signed zeros at the ends and in the middle.
  for (int64_t n : {31, 32, 33, 100, 1000}) {
    const int64_t rows = 12;
    std::vector<double> src = random_doubles(rows * n, -4, 4, 81);
    for (auto& x : src) x = std::round(x);
    if constexpr (std::is_floating_point_v<T>) {
      src[1 * n + 0] = kNaN;
      src[2 * n + n - 1] = kNaN;
      src[3 * n + n / 2] = kNaN, src[3 * n + n / 2 + 1] = kNaN;
      src[4 * n + 3] = kInfD, src[4 * n + n - 2] = kInfD;
      src[5 * n + 0] = -kInfD, src[5 * n + 7] = -kInfD;
      for (int64_t i = 0; i < n; ++i) src[6 * n + i] = i % 2 ? 0.0 : -0.0;
      for (int64_t i = 0; i < n; ++i) src[7 * n + i] = -kInfD;
    }
    for (int64_t i = 0; i < n; ++i) src[8 * n + i] = 5.0;  // one value throughout
    src[9 * n + n - 1] = 9.0, src[10 * n + 0] = -9.0;
    Vec<T> in = cast_vec<T>(src);
    ReduceCase c = make_reduce({rows, n}, {n, 1}, {false, true});
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
      Vec<T> vals(rows);
      std::vector<int64_t> idx(rows);
      cpu::arg_reduce(op, dt, ptr<T>(vals), idx.data(), ptr<T>(in), c.loop);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t best = 0;  // the scalar rule: strictly better replaces, the first NaN stays
        for (int64_t i = 1; i < n; ++i) {
          const double x = src[r * n + i], b = src[r * n + best];
          if (b != b) break;
          if (x != x || (op == ReduceOp::Max ? x > b : x < b)) best = i;
        }
        INFO(dtype_name(dt) << " n " << n << " row " << r << " op " << int(op));
        CHECK(idx[r] == best);
        const double want = static_cast<double>(static_cast<T>(src[r * n + best])), got = static_cast<double>(vals[r]);
        CHECK(((want != want && got != got) || (want == got && std::signbit(want) == std::signbit(got))));
      }
    }
  }
}

TEST_CASE("cpu arg_reduce NaN handling and null values", "[kernels]") {
  ReduceCase c = make_reduce({6}, {1}, {true});
  float in[6] = {1, 7, std::nanf(""), 7, std::nanf(""), -2};
  int64_t idx;
  cpu::arg_reduce(ReduceOp::Max, DType::Float32, nullptr, &idx, in, c.loop);
  CHECK(idx == 2);
  float v;
  cpu::arg_reduce(ReduceOp::Min, DType::Float32, &v, &idx, in, c.loop);
  CHECK(idx == 2);
  CHECK(std::isnan(v));
  // NaN in a long row found by the split schedule.
  std::vector<double> big(100000, 1.0);
  big[70001] = kNaN;
  big[90000] = kNaN;
  big[5] = 2.0;
  ReduceCase cb = make_reduce({100000}, {1}, {true});
  cpu::arg_reduce(ReduceOp::Max, DType::Float64, nullptr, &idx, big.data(), cb.loop);
  CHECK(idx == 70001);
  big[70001] = big[90000] = 1.0;
  cpu::arg_reduce(ReduceOp::Max, DType::Float64, nullptr, &idx, big.data(), cb.loop);
  CHECK(idx == 5);
  big[99999] = 2.0;
  cpu::arg_reduce(ReduceOp::Max, DType::Float64, nullptr, &idx, big.data(), cb.loop);
  CHECK(idx == 5);
  big[60000] = 3.0;
  cpu::arg_reduce(ReduceOp::Max, DType::Float64, nullptr, &idx, big.data(), cb.loop);
  CHECK(idx == 60000);
}

TEMPLATE_TEST_CASE("cpu var_mean against a two-pass double reference", "[kernels]", float, double) {
  using T = TestType;
  const DType dt = dtype_of<T>::value;
  for (const Layout& l : layouts()) {
    // A large mean relative to the spread is where naive sum-of-squares fails.
    std::vector<double> src = random_doubles(l.storage, 1000, 1001, 81);
    Vec<T> in = cast_vec<T>(src);
    ReduceCase c = make_reduce(l.sizes, l.strides, l.reduced);
    auto g = groups(c, ptr<T>(in));
    for (int64_t corr : {0, 1}) {
      Vec<T> var(c.loop.out_numel), mean(c.loop.out_numel);
      cpu::var_mean(dt, ptr<T>(var), ptr<T>(mean), ptr<T>(in), c.loop, corr);
      int64_t bad = 0;
      for (int64_t o = 0; o < c.loop.out_numel; ++o) {
        double m = 0, s = 0;
        for (double x : g[o]) m += x;
        m /= g[o].size();
        for (double x : g[o]) s += (x - m) * (x - m);
        const double v = s / (g[o].size() - corr);
        const double t = std::is_same_v<T, float> ? 1e-5 : 1e-10;
        bad += !is_close(var[o], v, 0, t) || !is_close(mean[o], m, 0, t);
      }
      INFO(dtype_name(dt) << " " << l.name << " correction " << corr);
      CHECK(bad == 0);
    }
  }
  // One element with correction 1 divides by zero (NaN); mean may be null.
  T one[1] = {T(3)}, var;
  ReduceCase c1 = make_reduce({1}, {1}, {true});
  cpu::var_mean(dt, &var, nullptr, one, c1.loop, 1);
  CHECK(std::isnan(var));
  cpu::var_mean(dt, &var, nullptr, one, c1.loop, 0);
  CHECK(var == 0);
}

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins

TEST_CASE("cuda reductions match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(4);
  const std::vector<int64_t> shape = {D0, D1, D2};
  const std::vector<std::vector<bool>> reds = {
      {false, true, false}, {false, false, true}, {true, false, false}, {true, true, true}, {false, true, true}};
  auto run = [&](auto tag, const std::vector<ReduceOp>& ops) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    auto x = random_vec<T>(N3, rng, -3, 3);
    auto dx = to_device(x);
    for (const auto& red : reds) {
      auto L = make_reduce(shape, contiguous_strides(shape), red).loop;
      DevBuf<T> dout(L.out_numel);
      for (ReduceOp op : ops) {
        for (double p : std::vector<double>{2.0, 1.0, 0.0, 3.0, INFINITY, -INFINITY}) {
          if (op != ReduceOp::Norm && p != 2.0) continue;
          std::vector<T> ref(L.out_numel);
          kcpu::reduce(op, dt, ref.data(), x.data(), L, p);
          kc::reduce(op, dt, dout.get(), dx.get(), L, p, stream());
          double t = std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, double> ? 1e-11 : 0;
          if (op == ReduceOp::Prod) t = std::is_integral_v<T> ? 0 : 1e-4;
          check_close(to_host<T>(dout, L.out_numel), ref, t, t, "reduce op " + std::to_string(int(op)));
        }
      }
    }
  };
  run(float{}, {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::LogSumExp, ReduceOp::Norm});
  run(double{}, {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min, ReduceOp::LogSumExp,
                 ReduceOp::Norm});
  run(int32_t{}, {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min});
  run(int64_t{}, {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min});

  // A full reduction large enough for the split (two-kernel) schedule.
  const int64_t big = (int64_t(1) << 22) + 7;
  auto xb = random_vec<float>(big, rng, -1, 1);
  auto dxb = to_device(xb);
  auto Lb = make_reduce({big}, {1}, {true}).loop;
  DevBuf<double> dout(1);
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::LogSumExp}) {
    std::vector<float> ref(1);
    kcpu::reduce(op, DType::Float32, ref.data(), xb.data(), Lb, 2);
    kc::reduce(op, DType::Float32, dout.get(), dxb.get(), Lb, 2, stream());
    check_close(to_host<float>(dout, 1), ref, 1e-4, 1e-5, "big reduce op " + std::to_string(int(op)));
  }
}

TEST_CASE("cuda arg_reduce and var_mean match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(5);
  const std::vector<int64_t> shape = {D0, D1, D2};
  for (const auto& red :
       std::vector<std::vector<bool>>{{false, true, false}, {false, false, true}, {true, true, true}}) {
    auto L = make_reduce(shape, contiguous_strides(shape), red).loop;
    // Few distinct values: many ties, so the first-occurrence rule matters.
    auto xi = random_vec<int32_t>(N3, rng, -3, 3);
    auto xf = random_vec<float>(N3, rng, -3, 3);
    for (auto& v : xf) v = std::round(v);
    xf[7 * D2 + 3] = NAN;
    xf[1000] = NAN;
    auto dxi = to_device(xi);
    auto dxf = to_device(xf);
    DevBuf<double> dv(L.out_numel);   // int32 values, then the variance
    DevBuf<int64_t> di(L.out_numel);  // indices, then the mean
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
      std::vector<int32_t> vi(L.out_numel);
      std::vector<int64_t> ii(L.out_numel);
      kcpu::arg_reduce(op, DType::Int32, vi.data(), ii.data(), xi.data(), L);
      kc::arg_reduce(op, DType::Int32, dv.get(), di.get(), dxi.get(), L, stream());
      check_close(to_host<int32_t>(dv, L.out_numel), vi, 0, 0, "arg values int32");
      check_close(to_host<int64_t>(di, L.out_numel), ii, 0, 0, "arg indices int32");
      std::vector<float> vf(L.out_numel);
      kcpu::arg_reduce(op, DType::Float32, vf.data(), ii.data(), xf.data(), L);
      kc::arg_reduce(op, DType::Float32, nullptr, di.get(), dxf.get(), L, stream());
      check_close(to_host<int64_t>(di, L.out_numel), ii, 0, 0, "arg indices float with NaN");
    }
    auto xd = random_vec<double>(N3, rng, -3, 3);
    auto dxd = to_device(xd);
    for (int64_t correction : {0, 1}) {
      std::vector<double> var(L.out_numel), mean(L.out_numel);
      kcpu::var_mean(DType::Float64, var.data(), mean.data(), xd.data(), L, correction);
      kc::var_mean(DType::Float64, dv.get(), di.get(), dxd.get(), L, correction, stream());
      check_close(to_host<double>(dv, L.out_numel), var, 1e-12, 1e-10, "var");
      check_close(to_host<double>(di, L.out_numel), mean, 1e-12, 1e-10, "mean");
    }
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda reduce kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
