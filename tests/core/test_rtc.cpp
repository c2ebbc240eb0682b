// Run-time user kernels (core/rtc.h): parameter parsing (any build), NVRTC
// compilation, its errors and caches (builds with CUDA; no GPU needed), and a
// launch on the GPU ([cuda]).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdlib>
#include <unistd.h>

#include "core/cuda.h"
#include "core/rtc.h"
#include "test_util.h"

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using cuda::KernelParam;

namespace {
const char* kSaxpy = R"(
extern "C" __global__ void saxpy(float a, const float* __restrict__ x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
})";
const char* kTemplate = R"(
template <typename T, int kUnroll>
__global__ void fill(T* out, T value, int64_t n, bool flag = true) { }
__global__ void other(double* p) { }
)";
}  // namespace

TEST_CASE("rtc parses kernel parameter lists", "[rtc]") {
  auto p = cuda::rtc_parse_params(kSaxpy, "saxpy");
  REQUIRE(p.size() == 4);
  CHECK(p[0].kind == KernelParam::Kind::Float32);
  CHECK(p[0].name == "a");
  CHECK(p[1].kind == KernelParam::Kind::Pointer);
  CHECK(p[1].pointee_known);
  CHECK(p[1].pointee == DType::Float32);
  CHECK(p[1].type == "const float* __restrict__");
  CHECK(p[3].kind == KernelParam::Kind::Int32);

  auto t = cuda::rtc_parse_params(kTemplate, "fill<double, 4>");
  REQUIRE(t.size() == 4);
  CHECK(t[0].type == "double*");
  CHECK(t[0].pointee == DType::Float64);
  CHECK(t[1].kind == KernelParam::Kind::Float64);
  CHECK(t[2].kind == KernelParam::Kind::Int64);
  CHECK(t[3].kind == KernelParam::Kind::Bool);
  CHECK(t[3].name == "flag");
  auto o = cuda::rtc_parse_params(kTemplate, "other");
  REQUIRE(o.size() == 1);
  CHECK(o[0].pointee == DType::Float64);
  CHECK_THROWS_WITH(cuda::rtc_parse_params(kSaxpy, "missing"), ContainsSubstring("no __global__ function named"));
  CHECK_THROWS_WITH(cuda::rtc_parse_params(kSaxpy, "saxpy<float"), ContainsSubstring("malformed"));
}

TEST_CASE("rtc compiles with NVRTC without a GPU, caches and reports errors", "[rtc]") {
  if (!cuda::rtc_available()) {
    CHECK_THROWS_WITH(cuda::RtcKernel::compile(kSaxpy, "saxpy"), ContainsSubstring("NVRTC is not available"));
    SKIP("no NVRTC in this build (CPU-only, or the CUDA emulator)");
  }
  const std::string dir = "/tmp/loom_test_rtc_" + std::to_string(::getpid());
  ::setenv("LOOM_CACHE_DIR", dir.c_str(), 1);
  cuda::rtc_clear_memory_cache();
  auto k = cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80");
  CHECK(k->origin() == "nvrtc");
  CHECK(k->binary_size() > 0);
  CHECK(k->lowered_name() == "saxpy");
  CHECK(cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80")->origin() == "memory");
  cuda::rtc_clear_memory_cache();
  CHECK(cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80")->origin() == "disk");
  if (!cuda::is_available()) CHECK(cuda::rtc_default_arch() == "sm_90");
  CHECK_THROWS_WITH(cuda::RtcKernel::compile("__global__ void bad(int* p) { p[0] = nope; }", "bad", {}, "sm_90"),
                    ContainsSubstring("nope"));
  // Arguments are checked before anything needs a GPU.
  std::vector<cuda::KernelArg> args = {cuda::KernelArg::of(2.0), cuda::KernelArg::of(ones({4})),
                                       cuda::KernelArg::of(ones({4})), cuda::KernelArg::of(int64_t(4))};
  CHECK_THROWS_WITH(k->launch({1}, {32}, args), ContainsSubstring("expects a CUDA tensor"));
  args.pop_back();
  CHECK_THROWS_WITH(k->launch({1}, {32}, args), ContainsSubstring("expected 4 arguments"));
  std::system(("rm -rf " + dir).c_str());
  ::unsetenv("LOOM_CACHE_DIR");
}

TEST_CASE("rtc kernel launches on the GPU", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cuda::rtc_available()) SKIP("no NVRTC in this build (the CUDA emulator cannot run user kernels)");
  auto k = cuda::RtcKernel::compile(kSaxpy, "saxpy");
  const Device gpu("cuda:0");
  Tensor x = arange(0, 100, 1, TensorOptions(DType::Float32)).to(gpu), y = ones({100}, TensorOptions(gpu));
  k->launch({1}, {128}, {cuda::KernelArg::of(3.0), cuda::KernelArg::of(x), cuda::KernelArg::of(y),
                         cuda::KernelArg::of(int64_t(100))});
  test::check_close(y.cpu(), arange(0, 100, 1, TensorOptions(DType::Float32)) * 3.0 + 1.0, 0, 0);
}
