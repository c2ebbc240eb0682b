// CPU cross-entropy, embedding-backward and optimizer kernels against naive
// references written here; [cuda] the CUDA kernels against the CPU twins.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <vector>

#include "kernels/cpu/loss.h"
#include "kernels/cpu/optim.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#include "kernels/cuda/embedding_dropout.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/optim.h"
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

TEST_CASE("cpu embedding_backward vs reference", "[kernels][embedding]") {
  const int64_t n = 50, V = 11, D = 7;
  auto g = random_doubles(n * D, -1, 1, 4);
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = (i * 7 + 3) % V;
  std::vector<double> dw(V * D, 0.0), ref(V * D, 0.0);
  REQUIRE(kc::embedding_backward(DType::Float64, dw.data(), g.data(), idx.data(), n, V, D, 4) == -1);
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] != 4)
      for (int64_t j = 0; j < D; ++j) ref[idx[i] * D + j] += g[i * D + j];
  check_close(dw, ref, 1e-12, 1e-12);
  idx[9] = V;
  CHECK(kc::embedding_backward(DType::Float64, dw.data(), g.data(), idx.data(), n, V, D, -1) == 9);
}

TEST_CASE("cpu sgd and adam kernels vs reference", "[kernels][optim]") {
  const int64_t n = 1037;
  auto p0 = random_doubles(n, -1, 1, 5), g = random_doubles(n, -1, 1, 6), b0 = random_doubles(n, -1, 1, 7);
  {
    auto p = p0, buf = b0;
    kc::sgd_step(DType::Float64, p.data(), g.data(), buf.data(), n, 0.1, 0.9, 0.2, false, 0.01, false);
    for (int64_t i = 0; i < n; ++i) {
      const double d = g[i] + 0.01 * p0[i];
      const double nb = 0.9 * b0[i] + 0.8 * d;
      check_close(buf[i], nb, 1e-14, 1e-12);
      check_close(p[i], p0[i] - 0.1 * nb, 1e-14, 1e-12);
    }
  }
  {
    auto p = p0, m = b0, v = random_doubles(n, 0, 1, 8);
    auto v0 = v;
    kc::adam_step(DType::Float64, p.data(), g.data(), m.data(), v.data(), n, 1e-2, 0.9, 0.99, 1e-8, 0.1, true, 2);
    for (int64_t i = 0; i < n; ++i) {
      const double pi = p0[i] * (1 - 1e-3);
      const double mi = 0.9 * b0[i] + 0.1 * g[i], vi = 0.99 * v0[i] + 0.01 * g[i] * g[i];
      const double ref = pi - 1e-2 / (1 - 0.81) * mi / (std::sqrt(vi) / std::sqrt(1 - 0.9801) + 1e-8);
      check_close(p[i], ref, 1e-13, 1e-11);
    }
  }
}

#ifdef LOOM_WITH_CUDA
using loom::test::DevBuf;

TEST_CASE("cuda cross_entropy and embedding kernels match the CPU twins", "[kernels][loss][cuda]") {
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
  const int64_t n = 301, V = 17, D = 65;
  auto g = random_doubles(n * D, -1, 1, 24);
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = (i * 5) % V;
  std::vector<double> dw(V * D, 0.0);
  kc::embedding_backward(DType::Float64, dw.data(), g.data(), idx.data(), n, V, D, 2);
  DevBuf<double> G(g), DW(V * D);
  DevBuf<int64_t> I(idx);
  kg::embedding_backward(DType::Float64, DW.get(), G.get(), I.get(), n, V, D, 2, nullptr);
  check_close(DW.host(), dw, 1e-12, 1e-12);
}

TEST_CASE("cuda multi-tensor optimizer kernels match the CPU twins", "[kernels][optim][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  std::vector<int64_t> sizes{1, 1000, 70000, 131073};
  std::vector<std::vector<float>> p, g, m, v;
  for (size_t k = 0; k < sizes.size(); ++k) {
    p.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 30 + k)));
    g.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 40 + k)));
    m.push_back(cast<float>(random_doubles(sizes[k], -1, 1, 50 + k)));
    v.push_back(cast<float>(random_doubles(sizes[k], 0, 1, 60 + k)));
  }
  std::vector<DevBuf<float>> P, G, Mb, Vb;
  std::vector<kg::TensorSlot> slots;
  std::vector<kg::ChunkRef> chunks;
  for (size_t k = 0; k < sizes.size(); ++k) {
    P.emplace_back(p[k]);
    G.emplace_back(g[k]);
    Mb.emplace_back(m[k]);
    Vb.emplace_back(v[k]);
    slots.push_back({{P[k].get(), G[k].get(), Mb[k].get(), Vb[k].get()}, sizes[k]});
    for (int64_t s = 0; s < sizes[k]; s += kg::kChunkSize) chunks.push_back({static_cast<int32_t>(k), 0, s});
  }
  DevBuf<kg::TensorSlot> S(slots);
  DevBuf<kg::ChunkRef> Cb(chunks);
  kg::adam_step_multi(DType::Float32, S.get(), Cb.get(), static_cast<int64_t>(chunks.size()), 1e-3, 0.9, 0.999, 1e-8,
                      0.01, true, 3, nullptr);
  kg::sgd_step_multi(DType::Float32, S.get(), Cb.get(), static_cast<int64_t>(chunks.size()), 0.1, 0.9, 0.0, true, 0.01,
                     false, nullptr);
  for (size_t k = 0; k < sizes.size(); ++k) {
    kc::adam_step(DType::Float32, p[k].data(), g[k].data(), m[k].data(), v[k].data(), sizes[k], 1e-3, 0.9, 0.999, 1e-8,
                  0.01, true, 3);
    // The SGD pass uses slot ptr[2] (exp_avg) as its momentum buffer.
    kc::sgd_step(DType::Float32, p[k].data(), g[k].data(), m[k].data(), sizes[k], 0.1, 0.9, 0.0, true, 0.01, false);
    check_close(P[k].host(), dbl(p[k]), 1e-6, 1e-5);
    check_close(Mb[k].host(), dbl(m[k]), 1e-6, 1e-5);
    check_close(Vb[k].host(), dbl(v[k]), 1e-7, 1e-5);
  }
}
#else
TEST_CASE("cuda loss and optimizer kernels match the CPU twins", "[kernels][loss][optim][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
