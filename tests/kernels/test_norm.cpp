// CPU LayerNorm and BatchNorm kernels against naive double-precision
// references written here; [cuda] the CUDA kernels against the CPU twins on
// odd shapes (warp / block variants, vectorized and scalar loads; for batch
// norm the rows / planes modes of the split channel reduction, one chunk and
// many, misaligned inputs, evaluation mode, bitwise determinism, and float32
// statistics of data whose mean dwarfs its spread).
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/norm.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
namespace kc = loom::kernels::cpu;
using loom::test::cast;
using loom::test::check_close;
using loom::test::random_doubles;

namespace {

struct LnRef {
  std::vector<double> y, mean, rstd, dx, dw, db;
};

LnRef ln_ref(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
             const std::vector<double>& g, int64_t N, int64_t D, double eps) {
  LnRef r;
  r.y.resize(N * D);
  r.dx.resize(N * D);
  r.dw.assign(D, 0);
  r.db.assign(D, 0);
  for (int64_t n = 0; n < N; ++n) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < D; ++j) m += x[n * D + j];
    m /= D;
    for (int64_t j = 0; j < D; ++j) v += (x[n * D + j] - m) * (x[n * D + j] - m);
    double rs = 1 / std::sqrt(v / D + eps);
    r.mean.push_back(m);
    r.rstd.push_back(rs);
    double s1 = 0, s2 = 0;
    for (int64_t j = 0; j < D; ++j) {
      double xh = (x[n * D + j] - m) * rs;
      r.y[n * D + j] = xh * w[j] + b[j];
      double gw = g[n * D + j] * w[j];
      s1 += gw;
      s2 += gw * xh;
      r.dw[j] += g[n * D + j] * xh;
      r.db[j] += g[n * D + j];
    }
    for (int64_t j = 0; j < D; ++j) {
      double xh = (x[n * D + j] - m) * rs;
      r.dx[n * D + j] = rs * (g[n * D + j] * w[j] - s1 / D - xh * s2 / D);
    }
  }
  return r;
}

}  // namespace

TEST_CASE("cpu layer_norm forward/backward vs reference", "[kernels][norm]") {
  for (auto [N, D] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 5}, {37, 129}, {300, 1024}, {3, 2051}}) {
    INFO("N " << N << " D " << D);
    auto x = random_doubles(N * D, -3, 5, 1), w = random_doubles(D, -1, 1, 2), b = random_doubles(D, -1, 1, 3);
    auto g = random_doubles(N * D, -1, 1, 4);
    LnRef r = ln_ref(x, w, b, g, N, D, 1e-5);
    std::vector<double> y(N * D), mean(N), rstd(N), dx(N * D), dw(D), db(D);
    kc::layer_norm_forward(DType::Float64, y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, D,
                           1e-5);
    check_close(y, r.y, 1e-10, 1e-9);
    check_close(rstd, r.rstd, 1e-10, 1e-9);
    kc::layer_norm_backward(DType::Float64, dx.data(), dw.data(), db.data(), g.data(), x.data(), w.data(), mean.data(),
                            rstd.data(), N, D);
    check_close(dx, r.dx, 1e-9, 1e-8);
    check_close(dw, r.dw, 1e-9, 1e-8);
    check_close(db, r.db, 1e-9, 1e-8);
    // float32, without affine parameters (w = 1, b = 0 in the reference).
    std::vector<double> ones(D, 1.0), zeros(D, 0.0);
    LnRef r0 = ln_ref(x, ones, zeros, g, N, D, 1e-5);
    auto xf = cast<float>(x), gf = cast<float>(g);
    std::vector<float> yf(N * D), mf(N), rf(N), dxf(N * D), dbf(D);
    kc::layer_norm_forward(DType::Float32, yf.data(), mf.data(), rf.data(), xf.data(), nullptr, nullptr, N, D, 1e-5);
    check_close(yf, r0.y, 1e-4, 1e-4);
    kc::layer_norm_backward(DType::Float32, dxf.data(), nullptr, dbf.data(), gf.data(), xf.data(), nullptr, mf.data(),
                            rf.data(), N, D);
    check_close(dxf, r0.dx, 1e-3, 1e-3);
    check_close(dbf, r0.db, 1e-3, 1e-4);
  }
}

TEST_CASE("cpu batch_norm kernels vs reference", "[kernels][norm]") {
  const int64_t N = 3, C = 5, S = 7;
  auto x = random_doubles(N * C * S, -2, 3, 5), w = random_doubles(C, -1, 1, 6), b = random_doubles(C, -1, 1, 7);
  auto g = random_doubles(N * C * S, -1, 1, 8);
  std::vector<double> mean(C), var(C), inv(C), y(N * C * S), dx(N * C * S), dw(C), db(C);
  kc::batch_norm_stats(DType::Float64, mean.data(), var.data(), inv.data(), x.data(), N, C, S, 1e-5);
  kc::batch_norm_apply(DType::Float64, y.data(), x.data(), mean.data(), inv.data(), w.data(), b.data(), N, C, S);
  kc::batch_norm_backward(DType::Float64, dx.data(), dw.data(), db.data(), g.data(), x.data(), mean.data(), inv.data(),
                          w.data(), N, C, S, true);
  const double M = N * S;
  for (int64_t c = 0; c < C; ++c) {
    double m = 0, v = 0, sg = 0, sgx = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) m += x[(n * C + c) * S + s];
    m /= M;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) v += std::pow(x[(n * C + c) * S + s] - m, 2);
    v /= M;
    const double is = 1 / std::sqrt(v + 1e-5);
    check_close(mean[c], m, 1e-12, 1e-10);
    check_close(var[c], v, 1e-12, 1e-10);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        const double xh = (x[i] - m) * is;
        check_close(y[i], xh * w[c] + b[c], 1e-12, 1e-10);
        sg += g[i];
        sgx += g[i] * xh;
      }
    check_close(dw[c], sgx, 1e-10, 1e-9);
    check_close(db[c], sg, 1e-10, 1e-9);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        const double xh = (x[i] - m) * is;
        check_close(dx[i], w[c] * is * (g[i] - sg / M - xh * sgx / M), 1e-10, 1e-9);
      }
  }
}

#ifdef LOOM_WITH_CUDA
using loom::test::dbl;
using loom::test::DevBuf;

TEST_CASE("cuda layer_norm kernels match the CPU twin", "[kernels][norm][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  for (auto [N, D] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1},
           {37, 3},
           {37, 100},
           {129, 128},
           {65, 1024},
           {9, 1025},
           {5, 4099},
           {3, 5000},
           {5000, 256},
           {3001, 1023}}) {  // the last two run several rows per warp in the fused backward
    INFO("N " << N << " D " << D);
    for (bool affine : {true, false}) {
      auto x = cast<float>(random_doubles(N * D, -3, 5, 11)), g = cast<float>(random_doubles(N * D, -1, 1, 12));
      auto w = cast<float>(random_doubles(D, -1, 1, 13)), b = cast<float>(random_doubles(D, -1, 1, 14));
      std::vector<float> y(N * D), m(N), r(N), dx(N * D), dw(D), db(D);
      const float* wp = affine ? w.data() : nullptr;
      const float* bp = affine ? b.data() : nullptr;
      kc::layer_norm_forward(DType::Float32, y.data(), m.data(), r.data(), x.data(), wp, bp, N, D, 1e-5);
      kc::layer_norm_backward(DType::Float32, dx.data(), dw.data(), db.data(), g.data(), x.data(), wp, m.data(),
                              r.data(), N, D);
      DevBuf<float> X(x), G(g), W(w), B(b), Y(N * D), M(N), R(N), DX(N * D), DW(D), DB(D);
      DevBuf<float> WS(static_cast<size_t>(kg::layer_norm_backward_workspace(N, D)));
      kg::layer_norm_forward(DType::Float32, Y.get(), M.get(), R.get(), X.get(), affine ? W.get() : nullptr,
                             affine ? B.get() : nullptr, N, D, 1e-5, nullptr);
      kg::layer_norm_backward(DType::Float32, DX.get(), DW.get(), DB.get(), G.get(), X.get(),
                              affine ? W.get() : nullptr, M.get(), R.get(), N, D, WS.get(), nullptr);
      check_close(Y.host(), dbl(y), 1e-4, 1e-4);
      check_close(M.host(), dbl(m), 1e-5, 1e-4);
      check_close(R.host(), dbl(r), 1e-5, 1e-4);
      check_close(DX.host(), dbl(dx), 1e-4, 1e-3);
      check_close(DW.host(), dbl(dw), 1e-3, 1e-3);
      check_close(DB.host(), dbl(db), 1e-3, 1e-3);
    }
  }
}

namespace {

struct BnOut {
  std::vector<double> mean, var, invstd, y, dx, dw, db;
};

std::vector<double> offset_copy(const std::vector<double>& v, int64_t offset) {
  std::vector<double> o(offset, 0.0);
  o.insert(o.end(), v.begin(), v.end());
  return o;
}

template <typename T>
std::vector<double> tail(const std::vector<T>& v, int64_t offset) {
  return std::vector<double>(v.begin() + offset, v.end());
}

// The CUDA batch norm kernels in dtype T on x, g: statistics, y, and the
// backward (training or not) with dx, dw, db. x, g, y and dx start `offset`
// elements into their device buffers.
template <typename T>
BnOut bn_cuda(const std::vector<double>& x, const std::vector<double>& g, const std::vector<double>& w,
              const std::vector<double>& b, int64_t N, int64_t C, int64_t S, bool training, int64_t offset) {
  namespace kg = loom::kernels::cuda;
  const DType dt = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
  const int64_t n = N * C * S;
  DevBuf<T> X(cast<T>(offset_copy(x, offset))), G(cast<T>(offset_copy(g, offset))), W(cast<T>(w)), B(cast<T>(b));
  DevBuf<T> M(C), V(C), IS(C), Y(n + offset), DX(n + offset), DW(C), DB(C);
  DevBuf<char> WS(kg::batch_norm_stats_workspace_bytes(dt, N, C, S));
  DevBuf<char> WB(kg::batch_norm_backward_workspace_bytes(dt, N, C, S));
  kg::batch_norm_stats(dt, M.get(), V.get(), IS.get(), X.get() + offset, N, C, S, 1e-5, WS.size() ? WS.get() : nullptr,
                       nullptr);
  kg::batch_norm_apply(dt, Y.get() + offset, X.get() + offset, M.get(), IS.get(), W.get(), B.get(), N, C, S, nullptr);
  kg::batch_norm_backward(dt, DX.get() + offset, DW.get(), DB.get(), G.get() + offset, X.get() + offset, M.get(),
                          IS.get(), W.get(), N, C, S, training, WB.get(), nullptr);
  return {dbl(M.host()),           dbl(V.host()),  dbl(IS.host()), tail(Y.host(), offset),
          tail(DX.host(), offset), dbl(DW.host()), dbl(DB.host())};
}

// The CPU twin in float64 on the same (dtype-T-rounded) inputs: the reference
// for both dtypes.
template <typename T>
BnOut bn_cpu(const std::vector<double>& x0, const std::vector<double>& g0, const std::vector<double>& w0,
             const std::vector<double>& b0, int64_t N, int64_t C, int64_t S, bool training) {
  auto round = [](const std::vector<double>& v) { return dbl(cast<T>(v)); };
  const auto x = round(x0), g = round(g0), w = round(w0), b = round(b0);
  const int64_t n = N * C * S;
  BnOut r{std::vector<double>(C), std::vector<double>(C), std::vector<double>(C), std::vector<double>(n),
          std::vector<double>(n), std::vector<double>(C), std::vector<double>(C)};
  kc::batch_norm_stats(DType::Float64, r.mean.data(), r.var.data(), r.invstd.data(), x.data(), N, C, S, 1e-5);
  kc::batch_norm_apply(DType::Float64, r.y.data(), x.data(), r.mean.data(), r.invstd.data(), w.data(), b.data(), N, C,
                       S);
  kc::batch_norm_backward(DType::Float64, r.dx.data(), r.dw.data(), r.db.data(), g.data(), x.data(), r.mean.data(),
                          r.invstd.data(), w.data(), N, C, S, training);
  return r;
}

template <typename T>
void check_bn(int64_t N, int64_t C, int64_t S, bool training, int64_t offset, uint32_t seed) {
  INFO((std::is_same_v<T, float> ? "float32" : "float64")
       << " N " << N << " C " << C << " S " << S << " training " << training << " offset " << offset);
  const int64_t n = N * C * S;
  auto x = random_doubles(n, -2, 3, seed), g = random_doubles(n, -1, 1, seed + 1);
  auto w = random_doubles(C, -1, 1, seed + 2), b = random_doubles(C, -1, 1, seed + 3);
  const BnOut got = bn_cuda<T>(x, g, w, b, N, C, S, training, offset);
  const BnOut ref = bn_cpu<T>(x, g, w, b, N, C, S, training);
  const bool f32 = std::is_same_v<T, float>;
  // The channel sums of N*S values of size ~1: absolute errors grow with N*S.
  const double sum_atol = f32 ? 2e-6 * static_cast<double>(N * S) : 1e-12 * static_cast<double>(N * S);
  check_close(got.mean, ref.mean, f32 ? 1e-5 : 1e-12, f32 ? 1e-5 : 1e-12, "mean");
  check_close(got.var, ref.var, f32 ? 1e-5 : 1e-12, f32 ? 1e-4 : 1e-11, "var");
  check_close(got.invstd, ref.invstd, f32 ? 1e-5 : 1e-12, f32 ? 1e-4 : 1e-11, "invstd");
  check_close(got.y, ref.y, f32 ? 1e-4 : 1e-11, f32 ? 1e-4 : 1e-10, "y");
  check_close(got.db, ref.db, sum_atol, f32 ? 1e-5 : 1e-12, "db");
  check_close(got.dw, ref.dw, sum_atol, f32 ? 1e-4 : 1e-11, "dw");
  check_close(got.dx, ref.dx, f32 ? 1e-4 : 1e-10, f32 ? 1e-3 : 1e-9, "dx");
}

}  // namespace

TEST_CASE("cuda batch_norm kernels match the CPU twin", "[kernels][norm][cuda]") {
  LOOM_REQUIRE_GPU();
  // Rows mode (S > 64) and planes mode (S <= 64), one chunk per channel and
  // many, vector loads (S % 4 == 0) and scalar ones.
  const std::vector<std::array<int64_t, 3>> shapes = {{2, 3, 1},     {5, 7, 33},     {16, 64, 197},  {1, 2, 70001},
                                                      {2, 2113, 65}, {128, 3, 1000}, {17, 3, 4099},  {5000, 7, 1},
                                                      {3000, 33, 4}, {300, 10, 49},  {2, 2, 1 << 18}};
  uint32_t seed = 20;
  for (auto [N, C, S] : shapes) {
    check_bn<double>(N, C, S, true, 0, seed);
    check_bn<float>(N, C, S, true, 0, seed);
    seed += 4;
  }
  // Evaluation-mode backward; inputs one element past an aligned address
  // (S % 4 == 0, but no vector loads).
  check_bn<float>(128, 3, 1000, false, 0, 90);
  check_bn<double>(300, 10, 49, false, 0, 91);
  check_bn<float>(128, 3, 1000, true, 1, 92);
  check_bn<float>(3000, 33, 4, true, 1, 93);
  check_bn<double>(32, 6, 1024, true, 1, 94);
}

TEST_CASE("cuda batch_norm kernels are deterministic", "[kernels][norm][cuda]") {
  LOOM_REQUIRE_GPU();
  for (auto [N, C, S] : std::vector<std::array<int64_t, 3>>{{128, 3, 1000}, {3000, 33, 4}, {300, 10, 49}}) {
    INFO("N " << N << " C " << C << " S " << S);
    const int64_t n = N * C * S;
    auto x = random_doubles(n, -2, 3, 7), g = random_doubles(n, -1, 1, 8);
    auto w = random_doubles(C, -1, 1, 9), b = random_doubles(C, -1, 1, 10);
    const BnOut a = bn_cuda<float>(x, g, w, b, N, C, S, true, 0);
    const BnOut r = bn_cuda<float>(x, g, w, b, N, C, S, true, 0);
    CHECK(a.mean == r.mean);
    CHECK(a.var == r.var);
    CHECK(a.dw == r.dw);
    CHECK(a.db == r.db);
    CHECK(a.dx == r.dx);
  }
}

TEST_CASE("cuda batch_norm float32 statistics survive a large mean", "[kernels][norm][cuda]") {
  LOOM_REQUIRE_GPU();
  // |mean| / std ~ 1700: E[x^2] - E[x]^2 in float32 would lose every digit
  // of the variance; per-batch deviations merged with Chan's update keep it.
  const int64_t N = 64, C = 3, S = 1000, n = N * C * S;
  auto x = random_doubles(n, 999, 1001, 31);
  const auto xf = cast<float>(x);
  std::vector<double> mean(C, 0.0), var(C, 0.0);
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t k = 0; k < N; ++k)
      for (int64_t s = 0; s < S; ++s) mean[c] += xf[(k * C + c) * S + s];
    mean[c] /= N * S;
    for (int64_t k = 0; k < N; ++k)
      for (int64_t s = 0; s < S; ++s) var[c] += std::pow(xf[(k * C + c) * S + s] - mean[c], 2);
    var[c] /= N * S;
  }
  namespace kg = loom::kernels::cuda;
  DevBuf<float> X(xf), M(C), V(C), IS(C);
  DevBuf<char> WS(kg::batch_norm_stats_workspace_bytes(DType::Float32, N, C, S));
  kg::batch_norm_stats(DType::Float32, M.get(), V.get(), IS.get(), X.get(), N, C, S, 1e-5,
                       WS.size() ? WS.get() : nullptr, nullptr);
  check_close(dbl(M.host()), mean, 0, 1e-6, "mean");
  check_close(dbl(V.host()), var, 0, 1e-4, "var");
}

#else
TEST_CASE("cuda norm kernels match the CPU twins", "[kernels][norm][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
