// The CPU dropout kernel against the Philox mask; [cuda] the CUDA kernel
// against the CPU twin, bit for bit.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <vector>

#include "core/philox.h"
#include "kernels/dropout.h"
#include "test_util.h"

#ifdef LOOM_WITH_CUDA
#include "test_cuda_util.h"
#endif

using namespace loom;
namespace kc = loom::kernels::cpu;
using loom::test::cast;
using loom::test::check_close;
using loom::test::random_doubles;

TEST_CASE("cpu dropout kernel follows the Philox mask", "[kernels][dropout]") {
  const int64_t n = 1001;
  auto x = cast<float>(random_doubles(n, 1, 2, 9));
  std::vector<float> y(n);
  kc::dropout(DType::Float32, y.data(), x.data(), n, 0.25, 1234, 77);
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = philox::lane(philox::block(1234, 77 + i / 4), static_cast<int>(i % 4));
    const bool keep = philox::to_unit_float(bits) >= 0.25f;
    REQUIRE(y[i] == (keep ? x[i] * static_cast<float>(1.0 / 0.75) : 0.0f));
  }
}

#ifdef LOOM_WITH_CUDA
using loom::test::DevBuf;

TEST_CASE("cuda dropout matches the CPU mask bit for bit", "[kernels][dropout][cuda]") {
  LOOM_REQUIRE_GPU();
  const int64_t n = 100003;
  auto x = random_doubles(n, -1, 1, 15);
  std::vector<double> y(n);
  kc::dropout(DType::Float64, y.data(), x.data(), n, 0.4, 99, 5);
  DevBuf<double> X(x), Y(n);
  loom::kernels::cuda::dropout(DType::Float64, Y.get(), X.get(), n, 0.4, 99, 5, nullptr);
  check_close(Y.host(), y, 0, 0);
}
#else
TEST_CASE("cuda dropout kernels match the CPU twins", "[kernels][dropout][cuda]") { LOOM_REQUIRE_GPU(); }
#endif
