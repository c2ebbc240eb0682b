// The Bessel, Airy and orthogonal polynomial kernels (kernels/special_bessel.h,
// special_polynomials.h): the CPU loops against libstdc++'s special functions,
// 40-digit values and long-double recurrences; [cuda] the CUDA kernels against
// their CPU twins on 37 x 129 x 5 with wide ranges and special values. Without a
// device the [cuda] test SKIPs with a reason.
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/pointwise.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfD = std::numeric_limits<double>::infinity();
}  // namespace

// ---- the Bessel, Airy and orthogonal polynomial kernels (kernels/special_bessel.h, special_polynomials.h) ----

const UnaryOp kSpecialUnary[] = {UnaryOp::BesselJ0,          UnaryOp::BesselJ1, UnaryOp::BesselY0,  UnaryOp::BesselY1,
                                 UnaryOp::BesselK0,          UnaryOp::BesselK1, UnaryOp::BesselK0e, UnaryOp::BesselK1e,
                                 UnaryOp::SphericalBesselJ0, UnaryOp::AiryAi};
const BinaryOp kPolynomials[] = {BinaryOp::ChebyshevT,        BinaryOp::ChebyshevU,        BinaryOp::ChebyshevV,
                                 BinaryOp::ChebyshevW,        BinaryOp::ShiftedChebyshevT, BinaryOp::ShiftedChebyshevU,
                                 BinaryOp::ShiftedChebyshevV, BinaryOp::ShiftedChebyshevW, BinaryOp::HermiteH,
                                 BinaryOp::HermiteHe,         BinaryOp::LaguerreL,         BinaryOp::LegendreP};

// libstdc++'s special functions (C++17), and Ai at points from 40-digit arithmetic.
double special_ref(UnaryOp op, double x) {
  const double ax = std::fabs(x), sx = x < 0 ? -1.0 : 1.0;
  switch (op) {
    case UnaryOp::BesselJ0: return std::cyl_bessel_j(0.0, ax);
    case UnaryOp::BesselJ1: return sx * std::cyl_bessel_j(1.0, ax);
    case UnaryOp::BesselY0: return std::cyl_neumann(0.0, x);
    case UnaryOp::BesselY1: return std::cyl_neumann(1.0, x);
    case UnaryOp::BesselK0: return std::cyl_bessel_k(0.0, x);
    case UnaryOp::BesselK1: return std::cyl_bessel_k(1.0, x);
    case UnaryOp::BesselK0e: return std::cyl_bessel_k(0.0, x) * std::exp(x);
    case UnaryOp::BesselK1e: return std::cyl_bessel_k(1.0, x) * std::exp(x);
    case UnaryOp::SphericalBesselJ0: return std::sph_bessel(0, ax);
    default: return kNaN;
  }
}

TEST_CASE(
    "cpu Bessel kernels match libstdc++ from 1e-6 to 20 (beyond: tests/python against 40 digits), and their special "
    "values",
    "[kernels]") {
  std::vector<double> xs;
  for (int i = 0; i < 200; ++i) xs.push_back(0.1 * i + 0.037);  // libstdc++ loses ~x ulp beyond 20
  for (int e = -60; e <= 13; ++e) xs.push_back(std::pow(10.0, e / 10.0));
  std::vector<double> out(xs.size());
  const ElementwiseLoop L = make_loop({int64_t(xs.size())}, {{1}, {1}});
  for (UnaryOp op : kSpecialUnary) {
    if (op == UnaryOp::AiryAi) continue;
    cpu::unary(op, DType::Float64, out.data(), xs.data(), L);
    for (size_t i = 0; i < xs.size(); ++i) {
      const double x = xs[i], want = special_ref(op, x);
      // near a zero of J or Y only absolute accuracy means anything: measure against the amplitude (and
      // libstdc++'s own values, good to about 1e-15 of it, reduce a large x differently)
      const double amp = std::min(1.0, std::sqrt(2 / (M_PI * x)));
      INFO("op " << int(op) << " x = " << x << " got " << out[i] << " want " << want);
      CHECK(std::fabs(out[i] - want) <= 1e-14 * std::fabs(want) + 4e-15 * amp * (1 + x / 16));
    }
  }
  // Ai from 40-digit values
  const std::vector<std::pair<double, double>> ai = {
      {-50.0, -0.16188142361232092}, {-10.0, 0.040241238486443191},  {-2.5, -0.11232506769296609},
      {-1.0, 0.53556088329235212},   {0.0, 0.35502805388781724},     {1.5, 0.07174949700810541},
      {2.5, 0.01572592338047049},    {10.0, 1.1047532552898686e-10}, {50.0, 4.5849417240748285e-104}};
  for (auto [x, want] : ai) {
    double got;
    cpu::unary(UnaryOp::AiryAi, DType::Float64, &got, &x, make_loop({1}, {{1}, {1}}));
    INFO("Ai(" << x << ") = " << got << " want " << want);
    // the argument's last bit moves Ai by about 2/3 x^(3/2) ulp (e^-z above 0, the phase below)
    CHECK(std::fabs(got - want) <=
          (2e-15 + 4e-16 * std::pow(std::fabs(x), 1.5)) * std::fabs(want) + (x < -2 ? 1e-15 * std::fabs(x) : 0.0));
  }
  // PyTorch 2.15's special values
  const std::vector<double> sv{kNaN, kInfD, -kInfD, 0.0, -0.0, -1.0};
  std::vector<double> r(sv.size());
  const ElementwiseLoop Ls = make_loop({6}, {{1}, {1}});
  cpu::unary(UnaryOp::BesselJ0, DType::Float64, r.data(), sv.data(), Ls);
  CHECK((std::isnan(r[0]) && std::isnan(r[1]) && std::isnan(r[2]) && std::fabs(r[3] - 1) <= 2.3e-16));
  cpu::unary(UnaryOp::BesselY1, DType::Float64, r.data(), sv.data(), Ls);
  CHECK((std::isnan(r[1]) && r[3] == -kInfD && r[4] == -kInfD && std::isnan(r[5])));
  cpu::unary(UnaryOp::BesselK0, DType::Float64, r.data(), sv.data(), Ls);
  CHECK((r[1] == 0.0 && std::isnan(r[2]) && r[3] == kInfD && std::isnan(r[5])));
  cpu::unary(UnaryOp::SphericalBesselJ0, DType::Float64, r.data(), sv.data(), Ls);
  CHECK((r[1] == 0.0 && r[2] == 0.0 && r[3] == 1.0));
  cpu::unary(UnaryOp::AiryAi, DType::Float64, r.data(), sv.data(), Ls);
  CHECK((std::isnan(r[1]) && std::isnan(r[2])));
}

// The polynomials by their recurrences in long double, for degrees 0 to 30.
double polynomial_ref(BinaryOp op, double xd, int n) {
  const bool shifted = op >= BinaryOp::ShiftedChebyshevT && op <= BinaryOp::ShiftedChebyshevW;
  const long double x = shifted ? 2.0L * xd - 1 : xd;
  long double p0 = 1, p1;
  switch (op) {
    case BinaryOp::ChebyshevU:
    case BinaryOp::ShiftedChebyshevU:
    case BinaryOp::HermiteH: p1 = 2 * x; break;
    case BinaryOp::ChebyshevV:
    case BinaryOp::ShiftedChebyshevV: p1 = 2 * x - 1; break;
    case BinaryOp::ChebyshevW:
    case BinaryOp::ShiftedChebyshevW: p1 = 2 * x + 1; break;
    case BinaryOp::LaguerreL: p1 = 1 - x; break;
    default: p1 = x;
  }
  if (n == 0) return 1.0;
  for (int k = 1; k < n; ++k) {
    long double p2;
    if (op == BinaryOp::HermiteH) p2 = 2 * x * p1 - 2 * k * p0;
    else if (op == BinaryOp::HermiteHe) p2 = x * p1 - k * p0;
    else if (op == BinaryOp::LaguerreL) p2 = ((2 * k + 1 - x) * p1 - k * p0) / (k + 1);
    else if (op == BinaryOp::LegendreP) p2 = ((2 * k + 1) * x * p1 - k * p0) / (k + 1);
    else p2 = 2 * x * p1 - p0;
    p0 = p1;
    p1 = p2;
  }
  return double(p1);
}

TEST_CASE("cpu orthogonal polynomials match long double recurrences; PyTorch's degrees", "[kernels]") {
  std::vector<double> xs, ns;
  for (int i = 0; i <= 40; ++i)
    for (int n = 0; n <= 30; ++n) {
      xs.push_back(-1.2 + 0.06 * i);
      ns.push_back(n + 0.5 * (i % 2));  // a fraction is truncated
    }
  std::vector<double> out(xs.size());
  const int64_t m = int64_t(xs.size());
  for (BinaryOp op : kPolynomials) {
    cpu::binary(op, DType::Float64, out.data(), xs.data(), ns.data(), make_loop({m}, {{1}, {1}, {1}}));
    for (size_t i = 0; i < xs.size(); ++i) {
      const double want = polynomial_ref(op, xs[i], int(ns[i]));
      // the trigonometric forms lose n ulp of acos(x) in the angle: compare to the polynomial's size
      const double size = op == BinaryOp::HermiteH || op == BinaryOp::HermiteHe ? std::pow(2.5, ns[i]) : 4 * ns[i] + 1;
      INFO("op " << int(op) << " x = " << xs[i] << " n = " << ns[i] << " got " << out[i] << " want " << want);
      CHECK(std::fabs(out[i] - want) <= 1e-13 * std::fabs(want) + 1e-14 * size);
    }
  }
  // degrees as PyTorch reads them: negative, NaN, infinite and huge give 0; Hermite past 512 NaN
  const std::vector<double> x{0.5, 0.5, 0.5, 0.5, 0.5, 2.0};
  const std::vector<double> n{-1.0, kNaN, kInfD, 1e30, 513.0, 2000.0};
  std::vector<double> r(x.size());
  const ElementwiseLoop L = make_loop({6}, {{1}, {1}, {1}});
  cpu::binary(BinaryOp::HermiteH, DType::Float64, r.data(), x.data(), n.data(), L);
  CHECK((r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0 && std::isnan(r[4]) && std::isnan(r[5])));
  cpu::binary(BinaryOp::ChebyshevT, DType::Float64, r.data(), x.data(), n.data(), L);
  CHECK((r[0] == 0 && r[1] == 0 && r[3] == 0 && std::isnan(r[5])));  // 2000 steps at x = 2 overflow, then NaN
}

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins

TEST_CASE("cuda Bessel, Airy and orthogonal polynomial kernels match cpu on wide ranges", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(7);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (bool strided : {false, true}) {
      const auto L2 = strided ? strided_loop(2) : contiguous_loop(N3, 2);
      auto x = random_vec<T>(N3, rng, -60, 60);
      const T specials[] = {T(0), -T(0), T(NAN), T(INFINITY), -T(INFINITY), T(8), T(2), T(-2), T(1), T(1e-30)};
      for (size_t i = 0; i < std::size(specials); ++i) x[i * 97] = specials[i];
      auto dx = to_device(x);
      DevBuf<T> dy(N3);
      for (UnaryOp op : kSpecialUnary) {
        std::vector<T> ref(N3);
        kcpu::unary(op, dt, ref.data(), x.data(), L2);
        kc::unary(op, dt, dy.get(), dx.get(), L2, stream());
        check_close(to_host<T>(dy, N3), ref, twin_tol<T>(), twin_tol<T>(),
                    "special unary op " + std::to_string(int(op)));
      }
      // polynomials: x transposed, n broadcast from [1, 129, 1] (degrees -2 to 60 and a fraction)
      const auto L3 = strided ? strided_loop(3) : contiguous_loop(N3, 3);
      auto px = random_vec<T>(N3, rng, -1.5, 1.5);
      auto pn = random_vec<T>(N3, rng, -2, 60);
      for (size_t i = 0; i < 8; ++i)
        px[i * 31] = std::vector<T>{T(1), T(-1), T(0), T(0.5), T(NAN), T(3), T(-3), T(1e3)}[i];
      auto dpx = to_device(px), dpn = to_device(pn);
      for (BinaryOp op : kPolynomials) {
        std::vector<T> ref(N3);
        kcpu::binary(op, dt, ref.data(), px.data(), pn.data(), L3);
        kc::binary(op, dt, dy.get(), dpx.get(), dpn.get(), L3, stream());
        // float32 recurrences run in float on both; the libraries' float trigonometry may differ by an ulp,
        // which the trigonometric forms multiply by n
        const double tol = std::is_same_v<T, float> ? 2e-4 : 1e-12;
        check_close(to_host<T>(dy, N3), ref, tol, tol, "polynomial op " + std::to_string(int(op)));
      }
    }
  };
  run(float{});
  run(double{});
}

// The float-only binary ops of pointwise_math.cu, with b a tensor and a scalar (binary_scalar), on
// contiguous and strided loops; pow's scalar forms (x ** 2 takes the vectorized square) beside them.
TEST_CASE("cuda hypot, atan2, gammainc, gammaincc, pow and polynomials with a scalar match cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(8);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (bool strided : {false, true}) {
      const auto L3 = strided ? strided_loop(3) : contiguous_loop(N3, 3);
      auto L2 = L3;
      L2.noperands = 2;
      auto a = random_vec<T>(N3, rng, 0.01, 12), b = random_vec<T>(N3, rng, -12, 12);
      b[3] = T(0);
      b[4] = T(NAN);
      auto da = to_device(a), db = to_device(b);
      DevBuf<T> dy(N3);
      for (BinaryOp op : {BinaryOp::Hypot, BinaryOp::Atan2, BinaryOp::Gammainc, BinaryOp::Gammaincc}) {
        std::vector<T> ref(N3);
        kcpu::binary(op, dt, ref.data(), a.data(), b.data(), L3);
        kc::binary(op, dt, dy.get(), da.get(), db.get(), L3, stream());
        check_close(to_host<T>(dy, N3), ref, twin_tol<T>(), twin_tol<T>(), "binary op " + std::to_string(int(op)));
      }
      const std::pair<BinaryOp, double> scalar_ops[] = {
          {BinaryOp::Hypot, 3.0},     {BinaryOp::Atan2, -2.0},     {BinaryOp::Gammainc, 2.5},
          {BinaryOp::Gammaincc, 0.5}, {BinaryOp::Pow, 2.0},        {BinaryOp::Pow, -1.5},
          {BinaryOp::RPow, 1.5},      {BinaryOp::ChebyshevT, 7.0}, {BinaryOp::HermiteH, 5.0}};
      for (auto [op, s] : scalar_ops) {
        std::vector<T> ref(N3);
        kcpu::binary_scalar(op, dt, ref.data(), a.data(), s, L2);
        kc::binary_scalar(op, dt, dy.get(), da.get(), s, L2, stream());
        const double tol = is_polynomial(op) && std::is_same_v<T, float> ? 2e-4 : twin_tol<T>();
        check_close(to_host<T>(dy, N3), ref, tol, tol,
                    "binary_scalar op " + std::to_string(int(op)) + " s=" + std::to_string(s));
      }
    }
  };
  run(float{});
  run(double{});
  // Not for integers, on either device.
  DevBuf<int32_t> buf(8);
  int32_t host[4] = {1, 2, 3, 4};
  for (BinaryOp op : {BinaryOp::Hypot, BinaryOp::Atan2, BinaryOp::Gammainc, BinaryOp::LegendreP}) {
    CHECK_THROWS_AS(kc::binary(op, DType::Int32, buf.get(), buf.get(), buf.get(), contiguous_loop(4, 3), stream()),
                    loom::Error);
    CHECK_THROWS_AS(kcpu::binary(op, DType::Int32, host, host, host, contiguous_loop(4, 3)), loom::Error);
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda special-function kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
