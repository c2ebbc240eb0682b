// The CPU embedding-backward kernel against a naive reference written here;
// [cuda] the CUDA kernel against the CPU twin.
#include <catch2/catch_test_macros.hpp>

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
#else
TEST_CASE("cuda embedding kernels match the CPU twins", "[kernels][embedding][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
