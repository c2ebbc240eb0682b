// The CPU embedding-backward kernel against a naive reference written here;
// [cuda] the CUDA kernel against the CPU twin.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/embedding.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
namespace kc = loom::kernels::cpu;
using loom::test::check_close;
using loom::test::random_doubles;

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

TEST_CASE("cpu embedding_bag: max argmax and empty bags, mean counts, bad indices", "[kernels][embedding]") {
  kernels::EmbeddingBagParams p;
  p.n = 6, p.B = 3, p.V = 4, p.D = 2, p.padding_idx = 1, p.mode = kernels::BagMode::Max;
  std::vector<double> w{0, 5, 2, 9, 3, 1, 3, -1};             // row 3 ties row 2 in column 0
  std::vector<int64_t> idx{2, 3, 1, 1, 0, 2}, offs{0, 2, 4};  // bag 1: padding only
  std::vector<double> out(6), count(3);
  std::vector<int64_t> am(6);
  REQUIRE(kc::embedding_bag_forward(DType::Float64, out.data(), am.data(), nullptr, w.data(), idx.data(), offs.data(),
                                    nullptr, p) == -1);
  CHECK(out == std::vector<double>{3, 1, 0, 0, 3, 5});
  CHECK(am == std::vector<int64_t>{2, 2, -1, -1, 2, 0});  // the first of equal values
  std::vector<double> g{1, 2, 3, 4, 5, 6}, dw(8, 0.0);
  kc::embedding_bag_backward(DType::Float64, dw.data(), g.data(), idx.data(), offs.data(), am.data(), nullptr, nullptr,
                             p);
  CHECK(dw == std::vector<double>{0, 6, 0, 0, 6, 2, 0, 0});
  p.mode = kernels::BagMode::Mean;
  REQUIRE(kc::embedding_bag_forward(DType::Float64, out.data(), nullptr, count.data(), w.data(), idx.data(),
                                    offs.data(), nullptr, p) == -1);
  CHECK(count == std::vector<double>{2, 0, 2});
  CHECK(out == std::vector<double>{3, 0, 0, 0, 1.5, 3});
  std::fill(dw.begin(), dw.end(), 0.0);
  kc::embedding_bag_backward(DType::Float64, dw.data(), g.data(), idx.data(), offs.data(), nullptr, count.data(),
                             nullptr, p);
  CHECK(dw == std::vector<double>{2.5, 3, 0, 0, 3.0, 4.0, 0.5, 1});
  idx[4] = 4;
  CHECK(kc::embedding_bag_forward(DType::Float64, out.data(), nullptr, count.data(), w.data(), idx.data(), offs.data(),
                                  nullptr, p) == 4);
}

#ifdef LOOM_WITH_CUDA
using loom::test::DevBuf;

TEST_CASE("cuda embedding_backward matches the CPU twin", "[kernels][embedding][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
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
TEST_CASE("cuda embedding_bag kernels match the CPU twins", "[kernels][embedding][cuda]") {
  LOOM_REQUIRE_GPU();
  namespace kg = loom::kernels::cuda;
  for (int64_t D : {1, 65, 300}) {
    for (auto mode : {kernels::BagMode::Sum, kernels::BagMode::Mean, kernels::BagMode::Max}) {
      kernels::EmbeddingBagParams p;
      p.n = 203, p.B = 37, p.V = 29, p.D = D, p.padding_idx = 3, p.mode = mode;
      auto w = random_doubles(p.V * D, -2, 2, 41), g = random_doubles(p.B * D, -1, 1, 42);
      auto ps = random_doubles(p.n, 0.5, 1.5, 43);
      auto cuts = random_doubles(p.B, 0, p.n, 44);
      std::vector<int64_t> idx(p.n), offs(p.B);
      for (int64_t i = 0; i < p.n; ++i) idx[i] = (i * 11 + i / 7) % p.V;
      for (int64_t b = 0; b < p.B; ++b) offs[b] = b == 0 ? 0 : static_cast<int64_t>(cuts[b]);
      std::sort(offs.begin(), offs.end());  // repeated offsets: empty bags
      const double* psp = mode == kernels::BagMode::Sum ? ps.data() : nullptr;
      std::vector<double> out(p.B * D), count(p.B), dw(p.V * D, 0.0), dps(p.n, 0.0);
      std::vector<int64_t> am(p.B * D);
      const bool is_max = mode == kernels::BagMode::Max, is_mean = mode == kernels::BagMode::Mean;
      REQUIRE(kc::embedding_bag_forward(DType::Float64, out.data(), is_max ? am.data() : nullptr,
                                        is_mean ? count.data() : nullptr, w.data(), idx.data(), offs.data(), psp,
                                        p) == -1);
      kc::embedding_bag_backward(DType::Float64, dw.data(), g.data(), idx.data(), offs.data(),
                                 is_max ? am.data() : nullptr, is_mean ? count.data() : nullptr, psp, p);
      kc::embedding_bag_psw_backward(DType::Float64, dps.data(), g.data(), w.data(), idx.data(), offs.data(), p);
      DevBuf<double> W(w), G(g), PS(ps), OUT(p.B * D), CNT(p.B), DW(p.V * D), DPS(p.n);
      DevBuf<int64_t> I(idx), O(offs), AM(p.B * D);
      DevBuf<int> flag(1);
      kg::embedding_bag_forward(DType::Float64, OUT.get(), is_max ? AM.get() : nullptr, is_mean ? CNT.get() : nullptr,
                                W.get(), I.get(), O.get(), psp ? PS.get() : nullptr, p, flag.get(), nullptr);
      kg::embedding_bag_backward(DType::Float64, DW.get(), G.get(), I.get(), O.get(), is_max ? AM.get() : nullptr,
                                 is_mean ? CNT.get() : nullptr, psp ? PS.get() : nullptr, p, nullptr);
      kg::embedding_bag_psw_backward(DType::Float64, DPS.get(), G.get(), W.get(), I.get(), O.get(), p, nullptr);
      INFO("D " << D << " mode " << static_cast<int>(mode));
      check_close(OUT.host(), out, 1e-12, 1e-12);
      check_close(DW.host(), dw, 1e-12, 1e-12);
      check_close(DPS.host(), dps, 1e-12, 1e-12);
      if (is_max) CHECK(AM.host() == am);
      if (is_mean) check_close(CNT.host(), count, 0, 0);
      CHECK(flag.host()[0] == 0);
      if (D == 1) {  // an index out of range, then offsets that go backwards: the error flag
        std::vector<int64_t> bad_idx = idx, bad_offs = offs;
        bad_idx[5] = p.V;
        DevBuf<int64_t> BI(bad_idx);
        kg::embedding_bag_forward(DType::Float64, OUT.get(), is_max ? AM.get() : nullptr, is_mean ? CNT.get() : nullptr,
                                  W.get(), BI.get(), O.get(), psp ? PS.get() : nullptr, p, flag.get(), nullptr);
        CHECK(flag.host()[0] == 1);
        DevBuf<int> flag2(1);
        bad_offs[3] = bad_offs[2] + 500;
        DevBuf<int64_t> BO(bad_offs);
        kg::embedding_bag_forward(DType::Float64, OUT.get(), is_max ? AM.get() : nullptr, is_mean ? CNT.get() : nullptr,
                                  W.get(), I.get(), BO.get(), psp ? PS.get() : nullptr, p, flag2.get(), nullptr);
        CHECK(flag2.host()[0] == 1);
      }
    }
  }
}
#else
TEST_CASE("cuda embedding kernels match the CPU twins", "[kernels][embedding][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
