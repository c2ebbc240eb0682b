// CPU cross-entropy kernels against a naive reference written here; [cuda]
// the CUDA kernels against the CPU twins.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <vector>

#include "kernels/loss.h"
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
#else
TEST_CASE("cuda loss kernels match the CPU twins", "[kernels][loss][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
