// channel_sum (kernels/reduce.h) against its CPU twin and a sum in long double
// on shapes that reach every path of the split per-channel reduction: one
// chunk per channel (no workspace) and many, rows mode (S > 64) and planes
// mode (S <= 64: S = 1, 4, 49), the float4 / double2 loads (S % 4 == 0) and
// the scalar path (odd S, and an input that starts one element past an
// aligned address), float32 and float64, N*S = 0. Results must be the same
// bits on a second run. Without a device every test SKIPs with a reason.
#include <catch2/catch_test_macros.hpp>

#include "test_util.h"

#ifdef LOOM_WITH_CUDA

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/cuda.h"
#include "core/error.h"
#include "kernels/reduce.h"
#include "test_cuda_util.h"

using namespace loom;
namespace kc = loom::kernels::cuda;
using namespace loom::test;

namespace {

struct Shape3 {
  int64_t N, C, S;
};

std::string describe(const Shape3& s, int64_t offset, DType dt) {
  return std::string(dtype_name(dt)) + " N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) +
         " S=" + std::to_string(s.S) + " offset=" + std::to_string(offset);
}

// out = channel_sum of x (already on the device, `offset` elements in).
template <typename T>
std::vector<T> run_channel_sum(const Shape3& s, const DevBuf<T>& dx, int64_t offset) {
  const DType dt = dtype_of<T>::value;
  const size_t ws_bytes = kc::channel_sum_workspace_bytes(dt, s.N, s.C, s.S);
  DevBuf<char> ws(ws_bytes);
  DevBuf<T> dout(static_cast<size_t>(std::max<int64_t>(s.C, 1)));
  kc::channel_sum(dt, dout.get(), dx.get() + offset, s.N, s.C, s.S, ws_bytes ? ws.get() : nullptr, stream());
  return to_host<T>(dout, static_cast<size_t>(s.C));
}

template <typename T>
void check_shape(const Shape3& s, int64_t offset, uint32_t seed) {
  const DType dt = dtype_of<T>::value;
  INFO(describe(s, offset, dt));
  const int64_t n = s.N * s.C * s.S;
  // Values with a common offset: the channel sums do not cancel to nothing,
  // and the float32 order matters.
  const auto xd = random_doubles(static_cast<size_t>(n + offset), -1, 3, seed);
  std::vector<T> x(xd.begin(), xd.end());
  // long double: a sequential sum of 2^21 doubles is itself off by more than
  // the kernel's tree-shaped order allows.
  std::vector<long double> ref(s.C, 0.0), mag(s.C, 0.0);
  for (int64_t nn = 0; nn < s.N; ++nn)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t k = 0; k < s.S; ++k) {
        const long double v = x[offset + (nn * s.C + c) * s.S + k];
        ref[c] += v;
        mag[c] += std::abs(v);
      }
  auto dx = to_device(x);
  const std::vector<T> got = run_channel_sum<T>(s, dx, offset);
  // Each value is rounded about log2(N*S) + a few dozen times at most.
  const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  int64_t bad = 0, first = -1;
  for (int64_t c = 0; c < s.C; ++c)
    if (!(std::abs(got[c] - ref[c]) <= tol * mag[c]) && bad++ == 0) first = c;
  INFO("mismatches: " << bad << ", first channel " << first << ": got " << (first >= 0 ? got[first] : T(0)) << " want "
                      << (first >= 0 ? static_cast<double>(ref[first]) : 0.0));
  CHECK(bad == 0);
  // The CPU twin (kernels/reduce.h) agrees within the same bound.
  std::vector<T> cpu(static_cast<size_t>(std::max<int64_t>(s.C, 1)));
  kernels::cpu::channel_sum(dt, cpu.data(), x.data() + offset, s.N, s.C, s.S);
  for (int64_t c = 0; c < s.C; ++c) CHECK(std::abs(double(got[c]) - double(cpu[c])) <= 2 * tol * double(mag[c]));
  const std::vector<T> again = run_channel_sum<T>(s, dx, offset);
  CHECK(std::memcmp(got.data(), again.data(), got.size() * sizeof(T)) == 0);
}

}  // namespace

TEST_CASE("cuda channel_sum matches a double sum on every path", "[cuda][reduce_channel]") {
  LOOM_REQUIRE_GPU();
  const std::vector<Shape3> shapes = {
      {3, 5, 7},        // little work: one chunk per channel
      {2, 2113, 65},    // rows mode, C alone fills two waves: one chunk, no workspace
      {128, 3, 1000},   // rows mode, many chunks, vector loads
      {17, 3, 4099},    // rows mode, odd S: scalar loads, chunks cross row ends
      {32, 6, 1024},    // rows mode, S a multiple of the block
      {5000, 7, 1},     // planes mode, S = 1
      {3000, 33, 4},    // planes mode, S = 4: one vector per channel row
      {300, 10, 49},    // planes mode, odd S, last group short of channels
      {40, 300, 2},     // planes mode, many groups
      {2, 4, 1 << 20},  // large N*S per channel
  };
  uint32_t seed = 1;
  for (const Shape3& s : shapes) {
    check_shape<float>(s, 0, seed++);
    check_shape<double>(s, 0, seed++);
  }
  // One element past an aligned start: S % 4 == 0 but no vector loads.
  for (const Shape3& s : {Shape3{128, 3, 1000}, Shape3{3000, 33, 4}, Shape3{32, 6, 1024}}) {
    check_shape<float>(s, 1, seed++);
    check_shape<double>(s, 1, seed++);
  }
}

TEST_CASE("cuda channel_sum workspace and empty inputs", "[cuda][reduce_channel]") {
  LOOM_REQUIRE_GPU();
  // C alone fills the GPU, or little work per channel: no workspace.
  CHECK(kc::channel_sum_workspace_bytes(DType::Float32, 2, 2113, 65) == 0);
  CHECK(kc::channel_sum_workspace_bytes(DType::Float32, 3, 5, 7) == 0);
  // The conv stem's bias gradient: every channel in chunks, one partial each.
  CHECK(kc::channel_sum_workspace_bytes(DType::Float32, 256, 32, 4096) % (32 * sizeof(float)) == 0);
  CHECK(kc::channel_sum_workspace_bytes(DType::Float32, 256, 32, 4096) > 32 * sizeof(float));
  CHECK(kc::channel_sum_workspace_bytes(DType::Float64, 256, 32, 4096) > 32 * sizeof(double));
  CHECK_THROWS_AS(kc::channel_sum_workspace_bytes(DType::Int32, 2, 3, 4), loom::Error);
  // N*S == 0 gives zeros.
  for (Shape3 s : {Shape3{0, 5, 7}, Shape3{4, 5, 0}}) {
    INFO("N=" << s.N << " S=" << s.S);
    DevBuf<float> dx(4), dout(std::vector<float>(s.C, 7.0f));  // the output starts as junk
    REQUIRE(kc::channel_sum_workspace_bytes(DType::Float32, s.N, s.C, s.S) == 0);
    kc::channel_sum(DType::Float32, dout.get(), dx.get(), s.N, s.C, s.S, nullptr, stream());
    CHECK(to_host<float>(dout, s.C) == std::vector<float>(s.C, 0.0f));
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda channel_sum", "[cuda][reduce_channel]") { LOOM_REQUIRE_GPU(); }

#endif
