// CPU cross-entropy, NLL, BCE-with-logits and CTC kernels against references written here; [cuda]
// the CUDA kernels against the CPU twins.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <vector>

#include "kernels/loss.h"
#include "test_kernel_util.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
namespace kc = loom::kernels::cpu;
using loom::test::cast;
using loom::test::check_close;
using loom::test::dbl;
using loom::test::random_doubles;

TEST_CASE("cpu cross_entropy kernels vs reference", "[kernels][loss]") {
  const int64_t M = 9, C = 13;
  auto x = random_doubles(M * C, -4, 4, 1), w = random_doubles(C, 0.5, 1.5, 2), gr = random_doubles(M, -1, 1, 3);
  std::vector<int64_t> t{0, 12, 3, -1, 5, 5, 7, 1, 2};
  for (double eps : {0.0, 0.15})
    for (bool use_w : {false, true}) {
      std::vector<double> loss(M), lse(M), roww(M), dx(M * C);
      const double* wp = use_w ? w.data() : nullptr;
      REQUIRE(kc::cross_entropy_forward(DType::Float64, loss.data(), lse.data(), roww.data(), x.data(), t.data(), wp, M,
                                        C, -1, eps) == -1);
      kc::cross_entropy_backward(DType::Float64, dx.data(), x.data(), t.data(), wp, lse.data(), gr.data(), 1, M, C, -1,
                                 eps);
      double W = 0;
      for (int64_t c = 0; c < C; ++c) W += use_w ? w[c] : 1.0;
      for (int64_t r = 0; r < M; ++r) {
        if (t[r] == -1) {
          CHECK(loss[r] == 0);
          CHECK(roww[r] == 0);
          for (int64_t c = 0; c < C; ++c) CHECK(dx[r * C + c] == 0);
          continue;
        }
        double l = 0;
        for (int64_t c = 0; c < C; ++c) l += std::exp(x[r * C + c]);
        l = std::log(l);
        const double wt = use_w ? w[t[r]] : 1.0;
        double ref = (1 - eps) * wt * (l - x[r * C + t[r]]);
        for (int64_t c = 0; c < C; ++c) ref += eps / C * (use_w ? w[c] : 1.0) * (l - x[r * C + c]);
        check_close(loss[r], ref, 1e-12, 1e-10);
        check_close(lse[r], l, 1e-12, 1e-10);
        CHECK(roww[r] == wt);
        for (int64_t c = 0; c < C; ++c) {
          const double p = std::exp(x[r * C + c] - l);
          const double wc = use_w ? w[c] : 1.0;
          const double d = gr[r] * ((1 - eps) * wt * (p - (c == t[r])) + eps / C * (W * p - wc));
          check_close(dx[r * C + c], d, 1e-12, 1e-10);
        }
      }
    }
  std::vector<double> loss(M), lse(M), roww(M);
  std::vector<int64_t> bad{0, 1, 13, 2, 0, 0, 0, 0, 0};
  CHECK(kc::cross_entropy_forward(DType::Float64, loss.data(), lse.data(), roww.data(), x.data(), bad.data(), nullptr,
                                  M, C, -100, 0) == 2);
}

TEST_CASE("cpu nll_loss kernels vs reference", "[kernels][loss]") {
  // [N, C, K] with K = 1 and K = 3; ignored and weighted rows; a broadcast (stride 0) gradient.
  for (int64_t K : {1, 3}) {
    const int64_t N = 5, C = 4, M = N * K;
    auto x = random_doubles(N * C * K, -4, 0, 41), w = random_doubles(C, 0.5, 1.5, 42),
         gr = random_doubles(M, -1, 1, 43);
    std::vector<int64_t> t(M);
    for (int64_t m = 0; m < M; ++m) t[m] = m % 4 == 2 ? -7 : (m * 3) % C;
    for (bool use_w : {false, true})
      for (int64_t gstride : {0, 1}) {
        std::vector<double> loss(M, 9.0), roww(M, 9.0), dx(N * C * K, 9.0);
        const double* wp = use_w ? w.data() : nullptr;
        REQUIRE(kc::nll_loss_forward(DType::Float64, loss.data(), roww.data(), x.data(), t.data(), wp, N, C, K, -7) ==
                -1);
        kc::nll_loss_backward(DType::Float64, dx.data(), t.data(), wp, gr.data(), gstride, N, C, K, -7);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t m = n * K + k;
            const bool ign = t[m] == -7;
            const double wt = ign ? 0.0 : (use_w ? w[t[m]] : 1.0);
            CHECK(roww[m] == wt);
            CHECK(loss[m] == (ign ? 0.0 : -wt * x[(n * C + t[m]) * K + k]));
            for (int64_t c = 0; c < C; ++c)
              CHECK(dx[(n * C + c) * K + k] == (!ign && c == t[m] ? -gr[m * gstride] * wt : 0.0));
          }
      }
    std::vector<double> loss(M), roww(M);
    std::vector<int64_t> bad(M, 0);
    bad[2] = C;
    CHECK(kc::nll_loss_forward(DType::Float64, loss.data(), roww.data(), x.data(), bad.data(), nullptr, N, C, K,
                               -100) == 2);
    CHECK(loss[2] == 0);
  }
}

TEST_CASE("cpu bce_logits kernels vs reference", "[kernels][loss]") {
  // contiguous rows (the vector path) with a per-element and a broadcast gradient, and a transposed view
  const int64_t R = 7, C = 37;
  auto x = random_doubles(R * C, -30, 30, 61), t = random_doubles(R * C, 0, 1, 62),
       g = random_doubles(R * C, -1, 1, 63);
  x[0] = 0.0, x[1] = 1e-30, x[2] = -1e-30, x[3] = 100.0, x[4] = -100.0;
  auto ref = [](double v, double y) { return (1 - y) * v + std::max(-v, 0.0) + std::log1p(std::exp(-std::fabs(v))); };
  auto dref = [](double v, double y, double gg) { return gg * (1 / (1 + std::exp(-v)) - y); };
  for (bool transposed : {false, true}) {
    const Shape in_st = transposed ? Shape{1, R} : Shape{C, 1};
    const kernels::ElementwiseLoop L = loom::test::make_loop({R, C}, {{C, 1}, in_st, in_st});
    const auto xf = cast<float>(x), tf = cast<float>(t), gf = cast<float>(g);
    std::vector<float> out(R * C), dx(R * C), dx0(R * C);
    kc::bce_logits_forward(DType::Float32, out.data(), xf.data(), tf.data(), L);
    const kernels::ElementwiseLoop LB = loom::test::make_loop({R, C}, {{C, 1}, in_st, in_st, {C, 1}});
    kc::bce_logits_backward(DType::Float32, dx.data(), xf.data(), tf.data(), gf.data(), LB);
    const kernels::ElementwiseLoop L0 = loom::test::make_loop({R, C}, {{C, 1}, in_st, in_st, {0, 0}});
    kc::bce_logits_backward(DType::Float32, dx0.data(), xf.data(), tf.data(), gf.data(), L0);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t i = r * C + c, j = r * in_st[0] + c * in_st[1];
        const double v = xf[j], y = tf[j];
        INFO("transposed " << transposed << " x " << v << " t " << y);
        CHECK(std::fabs(out[i] - ref(v, y)) <= 2e-6 * (1 + std::fabs(ref(v, y))));
        CHECK(std::fabs(dx[i] - dref(v, y, gf[i])) <= 2e-6);
        CHECK(std::fabs(dx0[i] - dref(v, y, gf[0])) <= 2e-6);
      }
    std::vector<double> od(R * C), dd(R * C);
    kc::bce_logits_forward(DType::Float64, od.data(), x.data(), t.data(), L);
    kc::bce_logits_backward(DType::Float64, dd.data(), x.data(), t.data(), g.data(), LB);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t i = r * C + c, j = r * in_st[0] + c * in_st[1];
        check_close(od[i], ref(x[j], t[j]), 1e-15, 1e-14);
        check_close(dd[i], dref(x[j], t[j], g[i]), 1e-15, 1e-14);
      }
  }
}

namespace {

// A batch of CTC samples: lengths and labels (padded [N, S]) with repeats,
// empty targets, inputs shorter than T and targets no alignment fits.
struct CtcCase {
  kernels::CtcParams p;
  std::vector<int64_t> targets, lens;  // lens [3, N]
};

CtcCase ctc_case(int64_t T, int64_t N, int64_t C, int64_t S, int64_t blank, uint32_t seed) {
  CtcCase c;
  c.p.T = T, c.p.N = N, c.p.C = C, c.p.S = S, c.p.blank = blank;
  c.targets.resize(N * S);
  c.lens.resize(3 * N);
  auto r = random_doubles(N * (S + 2), 0, 1, seed);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < S; ++k) {
      int64_t v = static_cast<int64_t>(r[n * (S + 2) + k] * (C - 1));
      if (v >= blank) ++v;                                                          // any class but the blank
      c.targets[n * S + k] = (k > 0 && n % 3 == 1) ? c.targets[n * S + k - 1] : v;  // runs of repeats
    }
    const int64_t L = n == 0 ? S : static_cast<int64_t>(r[n * (S + 2) + S] * (S + 1));
    const int64_t Tn = n == 0 ? T : static_cast<int64_t>(r[n * (S + 2) + S + 1] * (T + 1));
    c.lens[n] = Tn, c.lens[N + n] = L, c.lens[2 * N + n] = n * S;
  }
  return c;
}

}  // namespace

TEST_CASE("cpu ctc_loss kernels: bad labels, zero_infinity, empty inputs", "[kernels][loss]") {
  CtcCase c = ctc_case(5, 4, 4, 3, 1, 7);
  const int64_t T = c.p.T, N = c.p.N, C = c.p.C, W = c.p.width();
  auto lp = random_doubles(T * N * C, -3, 0, 8);
  std::vector<double> nll(N), alpha(N * T * W), beta(N * T * W), grad(N, 1.0), dlp(T * N * C, 7.0);
  c.lens[3] = 0, c.lens[N + 3] = 2;  // sample 3: no input for a target of 2: inf
  REQUIRE(kc::ctc_loss_forward(DType::Float64, nll.data(), alpha.data(), lp.data(), c.targets.data(), c.lens.data(),
                               c.p) == -1);
  CHECK(std::isinf(nll[3]));
  c.p.zero_infinity = true;
  kc::ctc_loss_backward(DType::Float64, dlp.data(), beta.data(), grad.data(), lp.data(), c.targets.data(),
                        c.lens.data(), nll.data(), alpha.data(), c.p);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < C; ++k) {
      CHECK(dlp[(t * N + 3) * C + k] == 0);                      // zero_infinity
      if (t >= c.lens[2]) CHECK(dlp[(t * N + 2) * C + k] == 0);  // beyond the input length
      CHECK(std::isfinite(dlp[(t * N + 0) * C + k]));
    }
  // -dlp[t, n, c] (g = 1) is the posterior of class c at step t: it sums to 1 over the classes.
  for (int64_t n : {0, 1, 2})
    for (int64_t t = 0; t < c.lens[n]; ++t) {
      if (std::isinf(nll[n])) continue;
      double s = 0;
      for (int64_t k = 0; k < C; ++k) s -= dlp[(t * N + n) * C + k];
      check_close(s, 1.0, 1e-12, 1e-10);
    }
  c.targets[1] = 1;  // sample 0's second label is the blank
  CHECK(kc::ctc_loss_forward(DType::Float64, nll.data(), alpha.data(), lp.data(), c.targets.data(), c.lens.data(),
                             c.p) == 0);
  c.targets[1] = 4;  // out of range
  CHECK(kc::ctc_loss_forward(DType::Float64, nll.data(), alpha.data(), lp.data(), c.targets.data(), c.lens.data(),
                             c.p) == 0);
}

#ifdef LOOM_WITH_CUDA
using loom::test::DevBuf;

TEST_CASE("cuda cross_entropy kernels match the CPU twins", "[kernels][loss][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  for (int64_t C : {1, 7, 300, 4097}) {
    const int64_t M = 37;
    auto x = cast<float>(random_doubles(M * C, -5, 5, 21)), w = cast<float>(random_doubles(C, 0.5, 2, 22));
    auto gr = cast<float>(random_doubles(M, -1, 1, 23));
    std::vector<int64_t> t(M);
    for (int64_t r = 0; r < M; ++r) t[r] = r % 5 == 3 ? -100 : (r * 31) % C;
    for (double eps : {0.0, 0.1})
      for (bool use_w : {false, true}) {
        std::vector<float> loss(M), lse(M), roww(M), dx(M * C);
        kc::cross_entropy_forward(DType::Float32, loss.data(), lse.data(), roww.data(), x.data(), t.data(),
                                  use_w ? w.data() : nullptr, M, C, -100, eps);
        kc::cross_entropy_backward(DType::Float32, dx.data(), x.data(), t.data(), use_w ? w.data() : nullptr,
                                   lse.data(), gr.data(), 1, M, C, -100, eps);
        DevBuf<float> X(x), W(w), G(gr), L(M), S(M), RW(M), DX(M * C);
        DevBuf<int64_t> T(t);
        DevBuf<int> flag(1);
        kg::cross_entropy_forward(DType::Float32, L.get(), S.get(), RW.get(), X.get(), T.get(),
                                  use_w ? W.get() : nullptr, M, C, -100, eps, flag.get(), nullptr);
        kg::cross_entropy_backward(DType::Float32, DX.get(), X.get(), T.get(), use_w ? W.get() : nullptr, S.get(),
                                   G.get(), 1, M, C, -100, eps, nullptr);
        check_close(L.host(), dbl(loss), 1e-4, 1e-4);
        check_close(S.host(), dbl(lse), 1e-4, 1e-5);
        check_close(RW.host(), dbl(roww), 0, 0);
        check_close(DX.host(), dbl(dx), 1e-6, 1e-4);
        CHECK(flag.host()[0] == 0);
      }
  }
}
TEST_CASE("cuda nll_loss kernels match the CPU twins", "[kernels][loss][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  struct Dims3 {
    int64_t N, C, K;
  };
  for (Dims3 d : {Dims3{1, 1, 1}, Dims3{37, 7, 1}, Dims3{3, 300, 17}, Dims3{5, 1025, 2}}) {
    const int64_t N = d.N, C = d.C, K = d.K, M = N * K;
    auto x = cast<float>(random_doubles(N * C * K, -5, 0, 51)), w = cast<float>(random_doubles(C, 0.5, 2, 52));
    auto gr = cast<float>(random_doubles(M, -1, 1, 53));
    std::vector<int64_t> t(M);
    for (int64_t m = 0; m < M; ++m) t[m] = m % 5 == 3 ? -100 : (m * 31) % C;
    for (bool use_w : {false, true})
      for (int64_t gstride : {0, 1}) {
        std::vector<float> loss(M), roww(M), dx(N * C * K);
        const float* wp = use_w ? w.data() : nullptr;
        REQUIRE(kc::nll_loss_forward(DType::Float32, loss.data(), roww.data(), x.data(), t.data(), wp, N, C, K, -100) ==
                -1);
        kc::nll_loss_backward(DType::Float32, dx.data(), t.data(), wp, gr.data(), gstride, N, C, K, -100);
        DevBuf<float> X(x), W(w), G(gr), L(M), RW(M), DX(N * C * K);
        DevBuf<int64_t> T(t);
        DevBuf<int> flag(1);
        kg::nll_loss_forward(DType::Float32, L.get(), RW.get(), X.get(), T.get(), use_w ? W.get() : nullptr, N, C, K,
                             -100, flag.get(), nullptr);
        kg::nll_loss_backward(DType::Float32, DX.get(), T.get(), use_w ? W.get() : nullptr, G.get(), gstride, N, C, K,
                              -100, nullptr);
        check_close(L.host(), dbl(loss), 0, 0);
        check_close(RW.host(), dbl(roww), 0, 0);
        check_close(DX.host(), dbl(dx), 0, 0);
        CHECK(flag.host()[0] == 0);
      }
    if (M > 1) {  // a target out of range: the flag, that row's loss 0
      t[1] = C;
      DevBuf<float> X(x), L(M), RW(M);
      DevBuf<int64_t> T(t);
      DevBuf<int> flag(1);
      kg::nll_loss_forward(DType::Float32, L.get(), RW.get(), X.get(), T.get(), nullptr, N, C, K, -100, flag.get(),
                           nullptr);
      CHECK(flag.host()[0] == 1);
      CHECK(L.host()[1] == 0);
    }
  }
}
TEST_CASE("cuda bce_logits kernels match the CPU twins", "[kernels][loss][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  for (int64_t n : {1, 5, 4097}) {
    auto x = cast<float>(random_doubles(n, -20, 20, 71)), t = cast<float>(random_doubles(n, 0, 1, 72));
    auto g = cast<float>(random_doubles(n, -1, 1, 73));
    for (int64_t gs : {0, 1}) {
      const kernels::ElementwiseLoop L = loom::test::make_loop({n}, {{1}, {1}, {1}});
      const kernels::ElementwiseLoop LB = loom::test::make_loop({n}, {{1}, {1}, {1}, {gs}});
      std::vector<float> out(n), dx(n);
      kc::bce_logits_forward(DType::Float32, out.data(), x.data(), t.data(), L);
      kc::bce_logits_backward(DType::Float32, dx.data(), x.data(), t.data(), g.data(), LB);
      DevBuf<float> X(x), Tt(t), G(g), O(n), D(n);
      kg::bce_logits_forward(DType::Float32, O.get(), X.get(), Tt.get(), L, nullptr);
      kg::bce_logits_backward(DType::Float32, D.get(), X.get(), Tt.get(), G.get(), LB, nullptr);
      check_close(O.host(), dbl(out), 1e-6, 1e-5);
      check_close(D.host(), dbl(dx), 1e-6, 1e-5);
    }
  }
}
TEST_CASE("cuda ctc_loss kernels match the CPU twins", "[kernels][loss][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  struct Shape4 {
    int64_t T, N, C, S, blank;
  };
  for (Shape4 sh :
       {Shape4{1, 1, 2, 0, 0}, Shape4{7, 5, 3, 2, 2}, Shape4{37, 9, 29, 11, 0}, Shape4{50, 3, 300, 140, 7}}) {
    for (bool zero_inf : {false, true}) {
      CtcCase c = ctc_case(sh.T, sh.N, sh.C, sh.S, sh.blank, 31);
      c.p.zero_infinity = zero_inf;
      const int64_t T = c.p.T, N = c.p.N, C = c.p.C, W = c.p.width();
      // log-probabilities of a softmax, so the losses are moderate
      auto raw = random_doubles(T * N * C, -2, 2, 32);
      std::vector<float> lp(T * N * C);
      for (int64_t r = 0; r < T * N; ++r) {
        double z = 0;
        for (int64_t k = 0; k < C; ++k) z += std::exp(raw[r * C + k]);
        for (int64_t k = 0; k < C; ++k) lp[r * C + k] = static_cast<float>(raw[r * C + k] - std::log(z));
      }
      auto gr = cast<float>(random_doubles(N, -1, 1, 33));
      std::vector<float> nll(N), alpha(N * T * W), beta(N * T * W), dlp(T * N * C);
      REQUIRE(kc::ctc_loss_forward(DType::Float32, nll.data(), alpha.data(), lp.data(), c.targets.data(), c.lens.data(),
                                   c.p) == -1);
      kc::ctc_loss_backward(DType::Float32, dlp.data(), beta.data(), gr.data(), lp.data(), c.targets.data(),
                            c.lens.data(), nll.data(), alpha.data(), c.p);
      DevBuf<float> LP(lp), G(gr), NLL(N), A(N * T * W), B(N * T * W), D(T * N * C);
      DevBuf<int64_t> TG(c.targets.empty() ? std::vector<int64_t>{0} : c.targets), LN(c.lens);
      DevBuf<int> flag(1);
      kg::ctc_loss_forward(DType::Float32, NLL.get(), A.get(), LP.get(), TG.get(), LN.get(), c.p, flag.get(), nullptr);
      kg::ctc_loss_backward(DType::Float32, D.get(), B.get(), G.get(), LP.get(), TG.get(), LN.get(), NLL.get(), A.get(),
                            c.p, nullptr);
      const auto got = NLL.host();
      for (int64_t n = 0; n < N; ++n) {
        INFO("T " << T << " N " << N << " C " << C << " S " << sh.S << " sample " << n);
        if (std::isinf(nll[n])) CHECK(std::isinf(got[n]));
        else check_close(std::vector<double>{got[n]}, std::vector<double>{nll[n]}, 1e-4, 1e-4);
      }
      const auto dg = D.host();
      for (int64_t i = 0; i < T * N * C; ++i) {
        if (std::isnan(dlp[i])) {
          CHECK(std::isnan(dg[i]));
          continue;
        }
        INFO("T " << T << " N " << N << " C " << C << " element " << i);
        REQUIRE(std::abs(dg[i] - dlp[i]) <= 1e-4 + 1e-3 * std::abs(dlp[i]));
      }
      CHECK(flag.host()[0] == 0);
      if (N > 1 && sh.S > 0) {  // a label equal to the blank: the flag, nll 0
        c.targets[sh.S] = sh.blank;
        c.lens[N + 1] = std::max<int64_t>(c.lens[N + 1], 1);
        DevBuf<int64_t> TG2(c.targets), LN2(c.lens);
        kg::ctc_loss_forward(DType::Float32, NLL.get(), A.get(), LP.get(), TG2.get(), LN2.get(), c.p, flag.get(),
                             nullptr);
        CHECK(flag.host()[0] == 1);
        CHECK(NLL.host()[1] == 0);
      }
    }
  }
}
#else
TEST_CASE("cuda loss kernels match the CPU twins", "[kernels][loss][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
