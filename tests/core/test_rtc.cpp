// Run-time user kernels (core/rtc.h): parameter parsing (any build),
// compilation, its errors and caches (builds with CUDA; no GPU needed), and
// launches ([cuda]: on a GPU, or on the CUDA emulator, where a user kernel is
// compiled by the host compiler and run by the emulator): templates, dynamic
// shared memory, launch failures, and a user forward/backward kernel pair
// inside a custom autograd Function passing gradcheck.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "autograd/function.h"
#include "core/cuda.h"
#include "core/profiler.h"
#include "core/rtc.h"
#include "test_util.h"
#ifdef LOOM_CUDA_EMU
#include "core/rtc_emu.h"
#endif

using namespace loom;
using Catch::Matchers::ContainsSubstring;
using cuda::KernelArg;
using cuda::KernelParam;

namespace {
#ifdef LOOM_CUDA_EMU
constexpr const char* kCompiled = "compiler";  // origin() of a fresh compile
#else
constexpr const char* kCompiled = "nvrtc";
#endif

// A private kernel cache for one test, removed afterwards.
struct ScopedCacheDir {
  std::string dir;
  ScopedCacheDir() {
    static int serial = 0;
    dir = "/tmp/loom_test_rtc_" + std::to_string(::getpid()) + "_" + std::to_string(serial++);
    ::setenv("LOOM_CACHE_DIR", dir.c_str(), 1);
    cuda::rtc_clear_memory_cache();
  }
  ~ScopedCacheDir() {
    std::system(("rm -rf " + dir).c_str());
    ::unsetenv("LOOM_CACHE_DIR");
    cuda::rtc_clear_memory_cache();
  }
  // The files in the kernel cache (rtc_cache_dir()).
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir((dir + "/kernels").c_str())) {
      while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') out.push_back(dir + "/kernels/" + e->d_name);
      ::closedir(d);
    }
    return out;
  }
};

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

// The emulator's CI stage runs the [cuda] tests only (scripts/test.sh); there
// the compile path is the emulator's, so these tests belong with them.
#ifdef LOOM_CUDA_EMU
#define LOOM_RTC_COMPILE_TAGS "[rtc][cuda]"
#else
#define LOOM_RTC_COMPILE_TAGS "[rtc]"
#endif

TEST_CASE("rtc compiles without a GPU, caches and reports errors", LOOM_RTC_COMPILE_TAGS) {
  if (!cuda::rtc_available()) {
    CHECK_THROWS_WITH(cuda::RtcKernel::compile(kSaxpy, "saxpy"), ContainsSubstring("NVRTC is not available"));
    SKIP("no NVRTC in this build (built without CUDA)");
  }
  ScopedCacheDir cache;
  auto k = cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80");
  CHECK(k->origin() == kCompiled);
  CHECK(k->binary_size() > 0);
  CHECK(k->arch() == "sm_80");
#ifdef LOOM_CUDA_EMU
  CHECK(k->lowered_name() == cuda::detail::kEmuEntrySymbol);
#else
  CHECK(k->lowered_name() == "saxpy");
#endif
  CHECK(cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80")->origin() == "memory");
  // A damaged cache file is compiled again and replaced. (Damaged before this
  // process loads it from the cache: on the emulator, a shared object already
  // loaded from that path would simply be reused.)
  const auto files = cache.files();
  REQUIRE(files.size() == 1);
  std::remove(files[0].c_str());  // a new file: never write into one that may be loaded
  std::ofstream(files[0]) << "garbage";
  cuda::rtc_clear_memory_cache();
  CHECK(cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80")->origin() == kCompiled);
  cuda::rtc_clear_memory_cache();
  auto d = cuda::RtcKernel::compile(kSaxpy, "saxpy", {}, "sm_80");
  CHECK(d->origin() == "disk");
  CHECK(d->binary_size() == k->binary_size());
  CHECK(cache.files().size() == 1);  // no temporary files left behind
  // Options are part of the key; NVRTC-only ones are accepted on the emulator too.
  CHECK(cuda::RtcKernel::compile(kSaxpy, "saxpy", {"-DUNUSED=1", "-use_fast_math"}, "sm_80")->origin() == kCompiled);
  if (!cuda::is_available()) CHECK(cuda::rtc_default_arch() == "sm_90");
  // Compile errors carry the compiler's log, naming the kernel's source as <name>.cu.
  const std::string msg = test::error_message(
      [] { cuda::RtcKernel::compile("__global__ void bad(int* p) { p[0] = nope; }", "bad", {}, "sm_90"); });
  CHECK_THAT(msg, ContainsSubstring("compile_kernel: bad does not compile for sm_90"));
  CHECK_THAT(msg, ContainsSubstring("bad.cu"));
  CHECK_THAT(msg, ContainsSubstring("nope"));
  // Arguments are checked before anything needs a GPU.
  std::vector<cuda::KernelArg> args = {cuda::KernelArg::of(2.0), cuda::KernelArg::of(ones({4})),
                                       cuda::KernelArg::of(ones({4})), cuda::KernelArg::of(int64_t(4))};
  CHECK_THROWS_WITH(k->launch({1}, {32}, args), ContainsSubstring("expects a CUDA tensor"));
  args.pop_back();
  CHECK_THROWS_WITH(k->launch({1}, {32}, args), ContainsSubstring("expected 4 arguments"));
}

TEST_CASE("rtc kernel launches on the GPU", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cuda::rtc_available()) SKIP("no NVRTC in this build");
  auto k = cuda::RtcKernel::compile(kSaxpy, "saxpy");
  const Device gpu("cuda:0");
  Tensor x = arange(0, 100, 1, TensorOptions(DType::Float32)).to(gpu), y = ones({100}, TensorOptions(gpu));
  k->launch(
      {1}, {128},
      {cuda::KernelArg::of(3.0), cuda::KernelArg::of(x), cuda::KernelArg::of(y), cuda::KernelArg::of(int64_t(100))});
  test::check_close(y.cpu(), arange(0, 100, 1, TensorOptions(DType::Float32)) * 3.0 + 1.0, 0, 0);
}

namespace {
const char* kScale = R"(
template <typename T>
__global__ void scale(const T* x, T* y, T s, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] * s + OFFSET;
})";

// One partial sum per block: a grid-stride loop, then a tree in dynamic shared memory.
const char* kBlockSum = R"(
extern "C" __global__ void block_sum(const float* x, float* out, int n) {
  extern __shared__ __align__(16) float buf[];
  const int t = threadIdx.x;
  float v = 0;
  for (int i = blockIdx.x * blockDim.x + t; i < n; i += blockDim.x * gridDim.x) v += x[i];
  buf[t] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) buf[t] += buf[t + s];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = buf[0];
})";

// y = x * x * scale and its backward dx = 2 * x * scale * dy.
const char* kSquare = R"(
template <typename T>
__global__ void square_fwd(const T* x, T* y, T scale, int64_t n) {
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] * x[i] * scale;
}
template <typename T>
__global__ void square_bwd(const T* x, const T* dy, T* dx, T scale, int64_t n) {
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) dx[i] = 2 * x[i] * scale * dy[i];
})";

std::string cpp_type(DType dt) { return dt == DType::Float64 ? "double" : "float"; }

// A differentiable op whose forward and backward are user kernels.
struct UserSquare : autograd::Function<UserSquare> {
  static constexpr double kFactor = 1.5;
  static TensorList forward(autograd::FunctionCtx& ctx, const TensorList& in) {
    const Tensor x = in[0].contiguous();
    Tensor y = empty(x.sizes(), TensorOptions(x.dtype(), x.device()));
    auto k = cuda::RtcKernel::compile(kSquare, "square_fwd<" + cpp_type(x.dtype()) + ">");
    const int64_t n = x.numel();
    k->launch({unsigned((n + 127) / 128)}, {128},
              {KernelArg::of(x), KernelArg::of(y), KernelArg::of(kFactor), KernelArg::of(n)});
    ctx.save_for_backward({x});
    return {y};
  }
  static TensorList backward(autograd::FunctionCtx& ctx, const TensorList& g) {
    const Tensor x = ctx.saved_tensors()[0], dy = g[0].contiguous();
    Tensor dx = empty(x.sizes(), TensorOptions(x.dtype(), x.device()));
    auto k = cuda::RtcKernel::compile(kSquare, "square_bwd<" + cpp_type(x.dtype()) + ">");
    const int64_t n = x.numel();
    k->launch({unsigned((n + 127) / 128)}, {128},
              {KernelArg::of(x), KernelArg::of(dy), KernelArg::of(dx), KernelArg::of(kFactor), KernelArg::of(n)});
    return {dx};
  }
  static std::string name() { return "UserSquareBackward"; }
};
}  // namespace

TEST_CASE("rtc template kernels run for float and double", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cuda::rtc_available()) SKIP("no NVRTC in this build");
  ScopedCacheDir cache;
  const Device gpu("cuda:0");
  const int n = 300;  // not a multiple of the block
  for (DType dt : {DType::Float32, DType::Float64}) {
    const std::string name = "scale<" + cpp_type(dt) + ">";
    auto k = cuda::RtcKernel::compile(kScale, name, {"-DOFFSET=1", "-use_fast_math"});
    CHECK(k->origin() == kCompiled);
    CHECK(k->params()[2].kind == (dt == DType::Float64 ? KernelParam::Kind::Float64 : KernelParam::Kind::Float32));
    Tensor x = arange(0, n, 1, TensorOptions(dt)).to(gpu), y = zeros({n}, TensorOptions(dt, gpu));
    k->launch({(n + 127) / 128}, {128},
              {KernelArg::of(x), KernelArg::of(y), KernelArg::of(0.5), KernelArg::of(int64_t(n))});
    test::check_close(y.cpu(), arange(0, n, 1, TensorOptions(DType::Float64)) * 0.5 + 1.0, 0, 0);
    // The pointee's dtype is checked against the instantiation.
    const DType other = dt == DType::Float64 ? DType::Float32 : DType::Float64;
    CHECK_THROWS_WITH(
        k->launch({1}, {128},
                  {KernelArg::of(x.to(other)), KernelArg::of(y), KernelArg::of(0.5), KernelArg::of(int64_t(n))}),
        ContainsSubstring("expects " + std::string(dtype_name(dt))));
  }
  // Without the macro the kernel does not compile: options are really passed.
  CHECK_THROWS_WITH(cuda::RtcKernel::compile(kScale, "scale<float>"), ContainsSubstring("OFFSET"));
}

TEST_CASE("rtc kernel with dynamic shared memory and barriers", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cuda::rtc_available()) SKIP("no NVRTC in this build");
  ScopedCacheDir cache;
  const Device gpu("cuda:0");
  const int n = 1000, blocks = 3, threads = 128;
  auto k = cuda::RtcKernel::compile(kBlockSum, "block_sum");
  Tensor x = arange(0, n, 1, TensorOptions(DType::Float32)), out = zeros({blocks}, TensorOptions(gpu));
  k->launch({blocks}, {threads}, {KernelArg::of(x.to(gpu)), KernelArg::of(out), KernelArg::of(int64_t(n))},
            threads * sizeof(float));
  std::vector<double> ref(blocks, 0.0);
  for (int i = 0; i < n; ++i) ref[(i / threads) % blocks] += i;
  test::check_close(out.cpu(), ref, 0, 0);  // integers: exact in any order
}

TEST_CASE("rtc launch failures name the kernel", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cuda::rtc_available()) SKIP("no NVRTC in this build");
  ScopedCacheDir cache;
  const Device gpu("cuda:0");
  auto k = cuda::RtcKernel::compile(kSaxpy, "saxpy");
  Tensor x = ones({8}, TensorOptions(gpu)), y = ones({8}, TensorOptions(gpu));
  const std::vector<KernelArg> args = {KernelArg::of(1.0), KernelArg::of(x), KernelArg::of(y),
                                       KernelArg::of(int64_t(8))};
  test::check_error([&] { k->launch({1}, {2048}, args); },
                    {"kernel saxpy: launch with grid (1, 1, 1) and block (2048, 1, 1) failed"});
  k->launch({1}, {32}, args);  // the failure does not stick
  test::check_close(y.cpu(), std::vector<double>(8, 2.0), 0, 0);
#ifdef LOOM_CUDA_EMU
  // Device-side failures as the emulator reports them (a GPU's context would
  // not survive a __trap, so this part is the emulator's).
  const char* trap = R"(
extern "C" __global__ void trapper(float* p, int bad) {
  if (threadIdx.x == bad) __trap();
  p[threadIdx.x] = 1;
})";
  auto t = cuda::RtcKernel::compile(trap, "trapper");
  test::check_error(
      [&] {
        t->launch({1}, {8}, {KernelArg::of(y), KernelArg::of(int64_t(3))});
      },
      {"kernel trapper: launch with grid (1, 1, 1) and block (8, 1, 1) failed", "trapper (user kernel)", "__trap()",
       "thread 3,0,0"});
  test::check_error([&] { k->launch({1}, {32}, args, 64 * 1024 * 1024); }, {"kernel saxpy"});
  t->launch({1}, {8}, {KernelArg::of(y), KernelArg::of(int64_t(-1))});
  test::check_close(y.cpu(), std::vector<double>(8, 1.0), 0, 0);
#endif
}

TEST_CASE("rtc user kernels in a custom autograd Function pass gradcheck", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  if (!cuda::rtc_available()) SKIP("no NVRTC in this build");
  ScopedCacheDir cache;
  const Device gpu("cuda:0");
  Tensor x = test::leaf({2, 5});
  Tensor y = UserSquare::apply({x.to(gpu)})[0];
  CHECK(y.device().is_cuda());
  CHECK(y.grad_fn()->name() == "UserSquareBackward");
  test::check_close(y.cpu(), x.detach() * x.detach() * UserSquare::kFactor, 1e-12, 0);
  y.sum().backward();
  test::check_close(x.grad(), x.detach() * (2 * UserSquare::kFactor), 1e-12, 0);
  test::check_grad([&](const TensorList& in) { return UserSquare::apply({in[0].to(gpu)})[0].cpu(); },
                   {test::leaf({3, 4})});
}

#ifdef LOOM_CUDA_EMU
TEST_CASE("rtc on the emulator: the source rewrite and the trampoline", LOOM_RTC_COMPILE_TAGS) {
  const std::string src =
      "extern __shared__ float a[];\n"
      "extern  __shared__\n  __align__( 16 ) unsigned char raw [ ] ;\n"
      "extern \"C\" __global__ void k(float* p) { __shared__ float s[4]; }\n"
      "extern __shared__ int n;\n";
  const std::string out = cuda::detail::emu_rewrite_smem(src);
  CHECK(std::count(out.begin(), out.end(), '\n') == std::count(src.begin(), src.end(), '\n'));
  CHECK_THAT(out, ContainsSubstring("float* a = reinterpret_cast<float*>(::emu::dynamic_smem());\n"));
  CHECK_THAT(out,
             ContainsSubstring("unsigned char* raw = reinterpret_cast<unsigned char*>(::emu::dynamic_smem());\n\n"));
  CHECK_THAT(out, ContainsSubstring("extern \"C\" __global__ void k(float* p) { __shared__ float s[4]; }\n"));
  CHECK_THAT(out, ContainsSubstring("extern __shared__ int n;"));  // not an array: left alone
  const std::string tu = cuda::detail::emu_translation_unit(kTemplate, "fill<double, 4>",
                                                            cuda::rtc_parse_params(kTemplate, "fill<double, 4>"));
  CHECK_THAT(tu, ContainsSubstring("#line 1 \"fill<double, 4>.cu\""));
  CHECK_THAT(tu, ContainsSubstring("fill<double, 4>(a_...)"));
  CHECK_THAT(tu, ContainsSubstring("*static_cast<const int64_t*>(a[2])"));
  CHECK_THAT(tu, ContainsSubstring("*static_cast<const bool*>(a[3])"));
  // Compiler messages point at the user's lines, past a rewritten declaration.
  ScopedCacheDir cache;
  const char* bad2 = "extern __shared__\nfloat buf[];\n__global__ void bad2(float* p) {\n  p[0] = nope;\n}";
  test::check_error([&] { cuda::RtcKernel::compile(bad2, "bad2"); }, {"bad2.cu:4:", "nope"});
}
#endif

TEST_CASE("a user kernel's declared cost reaches the profiler's roofline column", "[rtc][cuda]") {
  LOOM_REQUIRE_GPU();
  auto k = cuda::RtcKernel::compile(kSaxpy, "saxpy");
  k->set_cost(2.0 * 1000, 12.0 * 1000);
  const Device gpu("cuda:0");
  Tensor x = ones({1000}, TensorOptions(gpu)), y = ones({1000}, TensorOptions(gpu));
  profiler::ProfilerOptions o;
  o.cuda = true;
  profiler::Profiler prof(o);
  prof.start();
  k->launch(
      {4}, {256},
      {cuda::KernelArg::of(2.0), cuda::KernelArg::of(x), cuda::KernelArg::of(y), cuda::KernelArg::of(int64_t(1000))});
  cuda::synchronize();
  prof.stop();
  const profiler::Event* e = nullptr;
  for (const auto& ev : prof.events())
    if (ev.name == "saxpy") e = &ev;
  REQUIRE(e != nullptr);
  CHECK(e->flops == 2000);
  CHECK(e->bytes == 12000);
  CHECK(e->precision == "fp32");
  // Its launch is GPU work of the range (a kernel record, or an event pair).
  CHECK(e->device == 0);
  CHECK(e->cuda_ns > 0);
  bool found = false;
  for (const auto& r : prof.key_averages())
    if (r.key == "saxpy") found = r.flops == 2000 && r.achieved_flops > 0;
  CHECK(found);
}
