// CPU fusion kernels against naive double-precision references written here;
// [cuda] the CUDA kernels against the CPU twins on odd shapes.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/fusion.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
namespace kc = loom::kernels::cpu;
using loom::test::check_close;
using loom::test::random_doubles;

namespace {

double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

TEST_CASE("CPU gated fusion kernels match the reference", "[fusion]") {
  for (auto [B, D] : {std::pair<int64_t, int64_t>{1, 1}, {7, 13}, {300, 129}}) {
    const int64_t n = B * D;
    auto z = random_doubles(n, -1.0, 1.0, 1), a = random_doubles(n, -1.0, 1.0, 2), b = random_doubles(n, -1.0, 1.0, 3),
         c = random_doubles(D, -1.0, 1.0, 4), g = random_doubles(n, -1.0, 1.0, 5);
    std::vector<double> out(n), gate(n), rout(n), rgate(n);
    kc::gated_fusion_forward(DType::Float64, out.data(), gate.data(), z.data(), c.data(), a.data(), b.data(), B, D);
    for (int64_t i = 0; i < n; ++i) {
      rgate[i] = sig(z[i] + c[i % D]);
      rout[i] = rgate[i] * a[i] + (1 - rgate[i]) * b[i];
    }
    check_close(out, rout, 1e-12, 1e-12);
    check_close(gate, rgate, 1e-12, 1e-12);
    std::vector<float> zf(z.begin(), z.end()), af(a.begin(), a.end()), bf(b.begin(), b.end()), of(n);
    kc::gated_fusion_forward(DType::Float32, of.data(), zf.data(), zf.data(), nullptr, af.data(), bf.data(), B, D);
    std::vector<double> rnb(n);
    for (int64_t i = 0; i < n; ++i) rnb[i] = sig(z[i]) * a[i] + (1 - sig(z[i])) * b[i];
    check_close(of, rnb, 1e-5, 1e-5);
    std::vector<double> dz(n), da(n), db(n), rdz(n), rda(n), rdb(n);
    kc::gated_fusion_backward(DType::Float64, dz.data(), da.data(), db.data(), g.data(), a.data(), b.data(),
                              rgate.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      rdz[i] = g[i] * (a[i] - b[i]) * rgate[i] * (1 - rgate[i]);
      rda[i] = g[i] * rgate[i];
      rdb[i] = g[i] * (1 - rgate[i]);
    }
    check_close(dz, rdz, 1e-12, 1e-12);
    check_close(da, rda, 1e-12, 1e-12);
    check_close(db, rdb, 1e-12, 1e-12);
  }
}

TEST_CASE("CPU FiLM kernels match the reference", "[fusion]") {
  const int64_t B = 9, D = 11;
  auto gb = random_doubles(B * 2 * D, -1.0, 1.0, 6), a = random_doubles(B * D, -1.0, 1.0, 7),
       g = random_doubles(B * D, -1.0, 1.0, 8);
  std::vector<double> out(B * D), rout(B * D), dgb(B * 2 * D), rdgb(B * 2 * D), da(B * D), rda(B * D);
  kc::film_forward(DType::Float64, out.data(), gb.data(), a.data(), B, D);
  kc::film_backward(DType::Float64, dgb.data(), da.data(), g.data(), gb.data(), a.data(), B, D);
  for (int64_t r = 0; r < B; ++r)
    for (int64_t j = 0; j < D; ++j) {
      const int64_t i = r * D + j;
      rout[i] = gb[r * 2 * D + j] * a[i] + gb[r * 2 * D + D + j];
      rdgb[r * 2 * D + j] = g[i] * a[i];
      rdgb[r * 2 * D + D + j] = g[i];
      rda[i] = g[i] * gb[r * 2 * D + j];
    }
  check_close(out, rout, 1e-12, 1e-12);
  check_close(dgb, rdgb, 1e-12, 1e-12);
  check_close(da, rda, 1e-12, 1e-12);
}

TEST_CASE("CPU clip loss kernels match the reference", "[fusion]") {
  for (int64_t N : {1, 6, 67}) {
    auto S = random_doubles(N * N, -1.0, 1.0, 9);
    double ls = 1.7, s = std::exp(ls), dloss = 0.8;
    std::vector<double> rl(N), cl(N), rrl(N), rcl(N, 0.0);
    double loss = 0;
    kc::clip_loss_forward(DType::Float64, &loss, rl.data(), cl.data(), S.data(), &ls, N);
    double rloss = 0;
    for (int64_t i = 0; i < N; ++i) {
      double acc = 0, acc2 = 0;
      for (int64_t j = 0; j < N; ++j) {
        acc += std::exp(s * S[i * N + j]);
        acc2 += std::exp(s * S[j * N + i]);
      }
      rrl[i] = std::log(acc);
      rcl[i] = std::log(acc2);
      rloss += rrl[i] + rcl[i] - 2 * s * S[i * N + i];
    }
    rloss /= 2.0 * N;
    check_close(rl, rrl, 1e-12, 1e-12);
    check_close(cl, rcl, 1e-12, 1e-12);
    check_close(loss, rloss, 1e-12, 1e-12);
    std::vector<double> dS(N * N), part(N), rdS(N * N);
    kc::clip_loss_backward(DType::Float64, dS.data(), part.data(), &dloss, S.data(), rl.data(), cl.data(), &ls, N);
    double dls = 0, rdls = 0;
    for (int64_t i = 0; i < N; ++i) {
      dls += part[i];
      for (int64_t j = 0; j < N; ++j) {
        const double l = s * S[i * N + j];
        const double dl = dloss * (std::exp(l - rrl[i]) + std::exp(l - rcl[j]) - (i == j ? 2 : 0)) / (2.0 * N);
        rdS[i * N + j] = s * dl;
        rdls += dl * l;
      }
    }
    check_close(dS, rdS, 1e-12, 1e-12);
    check_close(dls, rdls, 1e-12, 1e-10);
  }
}

TEST_CASE("CPU bias + activation epilogue matches the reference", "[fusion]") {
  const int64_t M = 5, O = 7;
  for (int act = 0; act < 3; ++act) {
    auto y = random_doubles(M * O, -1.0, 1.0, 10), bias = random_doubles(O, -1.0, 1.0, 11),
         g = random_doubles(M * O, -1.0, 1.0, 12);
    std::vector<double> pre(M * O), ry(M * O), rpre(M * O), dz(M * O), rdz(M * O);
    for (int64_t i = 0; i < M * O; ++i) {
      const double z = y[i] + bias[i % O];
      rpre[i] = z;
      const double t = std::tanh(0.7978845608028654 * (z + 0.044715 * z * z * z));
      ry[i] = act == 0 ? z : act == 1 ? std::max(z, 0.0) : 0.5 * z * (1 + t);
      const double dg = 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * z * z);
      rdz[i] = act == 0 ? g[i] : act == 1 ? (z > 0 ? g[i] : 0.0) : g[i] * dg;
    }
    kc::bias_activation(DType::Float64, y.data(), pre.data(), bias.data(), M, O, kc::Activation(act));
    check_close(y, ry, 1e-12, 1e-12);
    check_close(pre, rpre, 1e-12, 1e-12);
    kc::activation_backward(DType::Float64, dz.data(), g.data(), act == 2 ? pre.data() : y.data(), M * O,
                            kc::Activation(act));
    check_close(dz, rdz, 1e-12, 1e-12);
  }
}

#ifdef LOOM_WITH_CUDA
using loom::test::dbl;
using loom::test::DevBuf;

TEST_CASE("CUDA gated fusion and FiLM kernels match the CPU", "[fusion][cuda]") {
  LOOM_REQUIRE_GPU();
  // D = 64: the float4 path; the others the scalar one.
  for (auto [B, D] : {std::pair<int64_t, int64_t>{1, 1}, {37, 13}, {65, 64}, {513, 129}}) {
    const int64_t n = B * D;
    auto cvt = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    auto z = cvt(random_doubles(n, -1.0, 1.0, 1)), a = cvt(random_doubles(n, -1.0, 1.0, 2)),
         b = cvt(random_doubles(n, -1.0, 1.0, 3)), c = cvt(random_doubles(D, -1.0, 1.0, 4)),
         g = cvt(random_doubles(n, -1.0, 1.0, 5)), gb = cvt(random_doubles(2 * n, -1.0, 1.0, 6));
    std::vector<float> out(n), gate(n);
    kc::gated_fusion_forward(DType::Float32, out.data(), gate.data(), z.data(), c.data(), a.data(), b.data(), B, D);
    DevBuf<float> dz_(z), da_(a), db_(b), dc_(c), dout(n), dgate(n);
    kernels::cuda::gated_fusion_forward(DType::Float32, dout.get(), dgate.get(), dz_.get(), dc_.get(), da_.get(),
                                        db_.get(), B, D, nullptr);
    check_close(dout.host(), dbl(out), 1e-6, 1e-5);
    check_close(dgate.host(), dbl(gate), 1e-6, 1e-5);
    std::vector<float> gz(n), ga(n), gbv(n);
    kc::gated_fusion_backward(DType::Float32, gz.data(), ga.data(), gbv.data(), g.data(), a.data(), b.data(),
                              gate.data(), n);
    DevBuf<float> dg(g), ddz(n), dda(n), ddb(n);
    kernels::cuda::gated_fusion_backward(DType::Float32, ddz.get(), dda.get(), ddb.get(), dg.get(), da_.get(),
                                         db_.get(), dgate.get(), n, nullptr);
    check_close(ddz.host(), dbl(gz), 1e-6, 1e-5);
    check_close(dda.host(), dbl(ga), 1e-6, 1e-5);
    check_close(ddb.host(), dbl(gbv), 1e-6, 1e-5);
    std::vector<float> fo(n), fdgb(2 * n), fda(n);
    kc::film_forward(DType::Float32, fo.data(), gb.data(), a.data(), B, D);
    kc::film_backward(DType::Float32, fdgb.data(), fda.data(), g.data(), gb.data(), a.data(), B, D);
    DevBuf<float> dgbv(gb), dfo(n), dfdgb(2 * n), dfda(n);
    kernels::cuda::film_forward(DType::Float32, dfo.get(), dgbv.get(), da_.get(), B, D, nullptr);
    kernels::cuda::film_backward(DType::Float32, dfdgb.get(), dfda.get(), dg.get(), dgbv.get(), da_.get(), B, D,
                                 nullptr);
    check_close(dfo.host(), dbl(fo), 1e-6, 1e-5);
    check_close(dfdgb.host(), dbl(fdgb), 1e-6, 1e-5);
    check_close(dfda.host(), dbl(fda), 1e-6, 1e-5);
  }
}

TEST_CASE("CUDA clip loss kernels match the CPU", "[fusion][cuda]") {
  LOOM_REQUIRE_GPU();
  for (int64_t N : {1, 7, 33, 300}) {
    auto S = random_doubles(N * N, -1.0, 1.0, 9);
    double ls = 2.0, dloss = 1.3, loss = 0;
    std::vector<double> rl(N), cl(N), dS(N * N), part(N);
    kc::clip_loss_forward(DType::Float64, &loss, rl.data(), cl.data(), S.data(), &ls, N);
    kc::clip_loss_backward(DType::Float64, dS.data(), part.data(), &dloss, S.data(), rl.data(), cl.data(), &ls, N);
    DevBuf<double> dS_in(S), dls(std::vector<double>{ls}), ddl(std::vector<double>{dloss}), dloss_out(1), drl(N),
        dcl(N), ddS(N * N), dpart(N);
    kernels::cuda::clip_loss_forward(DType::Float64, dloss_out.get(), drl.get(), dcl.get(), dS_in.get(), dls.get(), N,
                                     nullptr);
    check_close(drl.host(), rl, 1e-12, 1e-10);
    check_close(dcl.host(), cl, 1e-12, 1e-10);
    check_close(dloss_out.host(), {loss}, 1e-12, 1e-10);
    kernels::cuda::clip_loss_backward(DType::Float64, ddS.get(), dpart.get(), ddl.get(), dS_in.get(), drl.get(),
                                      dcl.get(), dls.get(), N, nullptr);
    check_close(ddS.host(), dS, 1e-12, 1e-10);
    check_close(dpart.host(), part, 1e-12, 1e-10);
  }
}
#endif
