// The CPU rounding and rounded-division kernels: rounding halves, signed
// zeros and infinities; floor_divide / remainder / fmod on signs, zero
// divisors, min // -1 and inexact quotients; the float32 vector path of the
// rounded divisions against PyTorch's float32 steps, bit for bit, on every
// layout (in place too); pow with a half-integer number against pow. The
// random-input and CUDA-twin checks of these ops are in test_pointwise.cpp.
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>
#include "core/error.h"
#include "kernels/pointwise.h"
#include "test_kernel_util.h"

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInfD = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("cpu rounding: halves to even, signed zeros, NaN and infinities pass", "[kernels]") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<float> x{0.5f, 1.5f, 2.5f, -0.5f, -2.5f, -0.4f, 0.49999997f, 8388609.f, nan, inf, -inf, -0.0f};
  std::vector<float> out(x.size());
  const ElementwiseLoop L = make_loop({int64_t(x.size())}, {{1}, {1}});
  cpu::unary(UnaryOp::Round, DType::Float32, out.data(), x.data(), L);
  const float want[] = {0.f, 2.f, 2.f, -0.f, -2.f, -0.f, 0.f, 8388609.f};
  for (int i = 0; i < 8; ++i) CHECK(out[i] == want[i]);
  CHECK(std::signbit(out[3]));
  CHECK(std::signbit(out[5]));
  CHECK(std::isnan(out[8]));
  CHECK(out[9] == inf);
  CHECK(out[10] == -inf);
  CHECK(std::signbit(out[11]));
  cpu::unary(UnaryOp::Trunc, DType::Float32, out.data(), x.data(), L);
  CHECK((out[1] == 1.f && out[4] == -2.f && std::signbit(out[5])));
  cpu::unary(UnaryOp::Ceil, DType::Float32, out.data(), x.data(), L);
  CHECK((out[0] == 1.f && out[3] == 0.f && std::signbit(out[3]) && out[4] == -2.f));
  cpu::unary(UnaryOp::Floor, DType::Float32, out.data(), x.data(), L);
  CHECK((out[0] == 0.f && out[3] == -1.f && out[5] == -1.f && std::isnan(out[8])));
}

TEST_CASE("cpu floor_divide, remainder, fmod: signs, zero divisors, overflow, inexact quotients", "[kernels]") {
  const ElementwiseLoop L = make_loop({6}, {{1}, {1}, {1}});
  const int64_t mn = std::numeric_limits<int64_t>::min();
  int64_t ia[6] = {7, -7, 7, -7, mn, 5}, ib[6] = {2, 2, -2, -2, -1, 0}, io[6];
  cpu::binary(BinaryOp::FloorDiv, DType::Int64, io, ia, ib, L);
  CHECK((io[0] == 3 && io[1] == -4 && io[2] == -4 && io[3] == 3 && io[4] == mn && io[5] == 0));
  cpu::binary(BinaryOp::TruncDiv, DType::Int64, io, ia, ib, L);
  CHECK((io[0] == 3 && io[1] == -3 && io[2] == -3 && io[3] == 3 && io[4] == mn && io[5] == 0));
  cpu::binary(BinaryOp::Remainder, DType::Int64, io, ia, ib, L);
  CHECK((io[0] == 1 && io[1] == 1 && io[2] == -1 && io[3] == -1 && io[4] == 0 && io[5] == 5));
  cpu::binary(BinaryOp::Fmod, DType::Int64, io, ia, ib, L);
  CHECK((io[0] == 1 && io[1] == -1 && io[2] == 1 && io[3] == -1 && io[4] == 0 && io[5] == 5));

  // 1 // 0.1 is 9 (0.1 is a little above 1/10), though 1 / 0.1 rounds to 10.
  double fa[6] = {1.0, -7.5, 7.5, 0.0, 5.0, kInfD}, fb[6] = {0.1, 2.0, -2.0, -3.0, 0.0, 2.0}, fo[6];
  cpu::binary(BinaryOp::FloorDiv, DType::Float64, fo, fa, fb, L);
  CHECK((fo[0] == 9.0 && fo[1] == -4.0 && fo[2] == -4.0 && fo[4] == kInfD && std::isnan(fo[5])));
  CHECK((fo[3] == 0.0 && std::signbit(fo[3])));  // 0 // -3 is -0
  cpu::binary(BinaryOp::Remainder, DType::Float64, fo, fa, fb, L);
  CHECK((fo[0] == std::fmod(1.0, 0.1) && fo[0] < 0.1));  // 0.09999999999999995, as Python's 1 % 0.1
  CHECK((fo[1] == 0.5 && fo[2] == -0.5 && std::isnan(fo[4]) && std::isnan(fo[5])));
  cpu::binary(BinaryOp::Fmod, DType::Float64, fo, fa, fb, L);
  CHECK((fo[1] == -1.5 && fo[2] == 1.5 && std::isnan(fo[4])));
  cpu::binary(BinaryOp::TruncDiv, DType::Float64, fo, fa, fb, L);
  CHECK((fo[0] == 10.0 && fo[1] == -3.0 && fo[2] == -3.0 && fo[4] == kInfD));

  bool bb[6] = {};
  CHECK_THROWS_AS(cpu::binary(BinaryOp::FloorDiv, DType::Bool, bb, bb, bb, L), loom::Error);
}

namespace {

// PyTorch's float32 floor division, remainder and fmod, step by step in float32.
float torch_floordiv(float a, float b) {
  if (b == 0.0f) return a / b;
  const float r = std::fmod(a, b);
  float q = (a - r) / b;
  if (r != 0.0f && ((b < 0.0f) != (r < 0.0f))) q -= 1.0f;
  if (q == 0.0f) return std::copysign(0.0f, a / b);
  float f = std::floor(q);
  if (q - f > 0.5f) f += 1.0f;
  return f;
}
float torch_remainder(float a, float b) {
  float r = std::fmod(a, b);
  if (r != 0.0f && ((b < 0.0f) != (r < 0.0f))) r += b;
  return r;
}

bool same_bits(float x, float y) { return std::memcmp(&x, &y, sizeof(float)) == 0 || (x != x && y != y); }

}  // namespace

TEST_CASE("cpu float32 floor_divide, remainder, fmod: the vector path gives the exact path's bits", "[kernels]") {
  // Quotients of every size (up to 2^60, past the vector path's 2^22), exact multiples, zeros of both
  // signs, infinities and NaN; every layout the kernel distinguishes.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-30, 30), pick(0, 9), sgn(0, 1);
  const int64_t n = 20011;
  std::vector<float> a(n), b(n);
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  for (int64_t i = 0; i < n; ++i) {
    b[i] = std::ldexp(mant(rng), ex(rng) / 3) * (sgn(rng) ? -1.0f : 1.0f);
    const int k = pick(rng);
    if (k == 0) a[i] = b[i] * float(int(rng() % 2001) - 1000);  // an exact multiple
    else if (k == 1) a[i] = specials[rng() % 5];
    else if (k == 2) b[i] = specials[rng() % 5];
    else a[i] = std::ldexp(mant(rng), ex(rng)) * (sgn(rng) ? -1.0f : 1.0f);
  }
  struct Case {
    BinaryOp op;
    float (*ref)(float, float);
  };
  const Case cases[] = {{BinaryOp::FloorDiv, torch_floordiv},
                        {BinaryOp::Remainder, torch_remainder},
                        {BinaryOp::Fmod, [](float x, float y) { return std::fmod(x, y); }}};
  for (const Case& c : cases) {
    std::vector<float> out(n);
    cpu::binary(c.op, DType::Float32, out.data(), a.data(), b.data(), make_loop({n}, {{1}, {1}, {1}}));
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += !same_bits(out[i], c.ref(a[i], b[i]));
    INFO("op " << int(c.op) << ": contiguous");
    CHECK(bad == 0);
    // b broadcast (a number), then a broadcast, then a stepped (strided) b.
    for (int64_t j : {int64_t(0), int64_t(7), int64_t(4242)}) {
      cpu::binary_scalar(c.op, DType::Float32, out.data(), a.data(), b[j], make_loop({n}, {{1}, {1}}));
      bad = 0;
      for (int64_t i = 0; i < n; ++i) bad += !same_bits(out[i], c.ref(a[i], b[j]));
      INFO("op " << int(c.op) << ": number " << b[j]);
      CHECK(bad == 0);
      cpu::binary(c.op, DType::Float32, out.data(), a.data() + j, b.data(), make_loop({n}, {{1}, {0}, {1}}));
      bad = 0;
      for (int64_t i = 0; i < n; ++i) bad += !same_bits(out[i], c.ref(a[j], b[i]));
      INFO("op " << int(c.op) << ": broadcast a");
      CHECK(bad == 0);
    }
    // In place (out is a): the exact pass must see the inputs, not the vector pass's results.
    std::vector<float> inplace = a;
    cpu::binary(c.op, DType::Float32, inplace.data(), inplace.data(), b.data(), make_loop({n}, {{1}, {1}, {1}}));
    bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += !same_bits(inplace[i], c.ref(a[i], b[i]));
    INFO("op " << int(c.op) << ": in place");
    CHECK(bad == 0);
    std::vector<float> half(n / 2);
    cpu::binary(c.op, DType::Float32, half.data(), a.data(), b.data(), make_loop({n / 2}, {{1}, {1}, {2}}));
    bad = 0;
    for (int64_t i = 0; i < n / 2; ++i) bad += !same_bits(half[i], c.ref(a[i], b[2 * i]));
    INFO("op " << int(c.op) << ": strided");
    CHECK(bad == 0);
  }
}

TEST_CASE("cpu pow with a half-integer number: products and sqrt within 4 ulp of pow, pow's special values",
          "[kernels]") {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(-40.0, 40.0);
  const int64_t n = 4099;
  std::vector<double> x(n);
  for (auto& v : x) v = std::ldexp(1.0 + std::fabs(u(rng)) / 40, int(u(rng) / 4)) * (rng() % 4 == 0 ? -1 : 1);
  const double specials[] = {0.0, -0.0, kInfD, -kInfD, kNaN, 1.0, -1.0};
  for (int i = 0; i < 7; ++i) x[i] = specials[i];
  std::vector<float> xf(x.begin(), x.end());
  // 15.5 and 7 are past the product path (k = 2 s > 8) and take pow.
  for (double s : {3.0, 0.5, 1.5, 4.0, 2.5, -1.0, -0.5, -2.0, -3.5, -4.0, 15.5, 7.0}) {
    std::vector<double> out(n);
    cpu::binary_scalar(BinaryOp::Pow, DType::Float64, out.data(), x.data(), s, make_loop({n}, {{1}, {1}}));
    std::vector<float> outf(n);
    cpu::binary_scalar(BinaryOp::Pow, DType::Float32, outf.data(), xf.data(), s, make_loop({n}, {{1}, {1}}));
    int bad = 0, badf = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double w = std::pow(x[i], s);
      const float wf = std::pow(xf[i], static_cast<float>(s));
      if (std::isnan(w) || std::isinf(w) || w == 0) {
        bad += !(std::isnan(w) ? std::isnan(out[i]) : out[i] == w && std::signbit(out[i]) == std::signbit(w));
      } else {
        bad += std::fabs(out[i] - w) > 4 * std::numeric_limits<double>::epsilon() * std::fabs(w);
      }
      if (std::isnan(wf) || std::isinf(wf) || wf == 0) {
        badf += !(std::isnan(wf) ? std::isnan(outf[i]) : outf[i] == wf && std::signbit(outf[i]) == std::signbit(wf));
      } else {
        badf += std::fabs(outf[i] - wf) > 2 * std::numeric_limits<float>::epsilon() * std::fabs(wf);
      }
    }
    INFO("x ** " << s);
    CHECK(bad == 0);
    CHECK(badf == 0);
  }
}
