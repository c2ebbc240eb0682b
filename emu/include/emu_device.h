// loom's CUDA emulator, device side: what a .cu file sees of the device
// language when it is compiled as host C++ (CMake: -DLOOM_CUDA=EMU).
//
// Kernels run as fibers, one per CUDA thread, a block at a time (see
// emu_runtime.cpp). threadIdx & co. read the current fiber's state;
// __syncthreads and the warp functions switch fibers until every live thread
// of the block (or warp) has arrived, so shared-memory and shuffle protocols
// run in a GPU-like interleaving, and a barrier that not all threads reach is
// reported instead of hanging. Static __shared__ arrays become thread_local
// statics (blocks never run concurrently on one host thread); dynamic shared
// memory is rewritten to emu::dynamic_smem() by rewrite_launches.py, which
// also turns k<<<cfg>>>(args) into emu::launch(...).
//
// Launch records (docs/cuda-emu.md): the kernel .cu files are compiled with
// -finstrument-functions, so a kernel's entry calls __cyg_profile_func_enter
// with the kernel's own address, whatever the launch expression was (a
// deduced template, a function-pointer variable); emu_launch.cpp maps the
// address to the symbol. __device__ / __host__ / __forceinline__ functions are
// exempt (no per-call cost inside kernels); __global__ ones are not.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__ __attribute__((no_instrument_function))
#define __host__ __attribute__((no_instrument_function))
#define __forceinline__ inline __attribute__((always_inline, no_instrument_function))
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define __constant__ static
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict

struct uint3 {
  unsigned x, y, z;
};
struct alignas(8) float2 {
  float x, y;
};
struct float3 {
  float x, y, z;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(16) double2 {
  double x, y;
};
struct alignas(8) int2 {
  int x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
struct alignas(16) longlong2 {
  long long x, y;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

namespace emu {

struct Fiber;  // emu_runtime.cpp
struct BlockState {
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
extern thread_local Fiber* t_fiber;
extern thread_local uint3 t_thread_idx;
extern thread_local BlockState t_block;

// Barriers: the calling fiber waits until every live thread of its block
// (syncthreads) or of its warp, restricted to `mask` (syncwarp), arrives.
void syncthreads();
void syncwarp(unsigned mask);
// The warp exchange: every lane of `mask` deposits `bytes` bytes, then reads
// lane `src_lane`'s deposit into `out`. Reports lanes of the mask that have
// exited or diverged.
void warp_exchange(unsigned mask, const void* in, void* out, int bytes, int src_lane);
// The whole warp's deposits (32 slots of `bytes` bytes) after one barrier;
// `all` must hold 32 * bytes.
void warp_gather(unsigned mask, const void* in, void* all, int bytes);
int lane_id();
void* dynamic_smem();
[[noreturn]] void trap(const char* why);

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 with the fragment layout
// of the PTX ISA; inputs are TF32 bit patterns (the low 13 mantissa bits are
// ignored as the tensor cores do).
void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]);

}  // namespace emu

#define threadIdx (::emu::t_thread_idx)
#define blockIdx (::emu::t_block.block_idx)
#define blockDim (::emu::t_block.block_dim)
#define gridDim (::emu::t_block.grid_dim)
constexpr int warpSize = 32;

inline void __syncthreads() { ::emu::syncthreads(); }
namespace emu {
// The block's vote of __syncthreads_or / _and / _count: a block runs on one
// host thread at a time, so a thread_local is block-wide. The first barrier
// lets every thread read the previous vote before thread 0 clears it.
inline thread_local int t_block_vote = 0;
inline int block_vote(int pred, int init, int (*fold)(int, int)) {
  ::emu::syncthreads();
  if (t_thread_idx.x == 0 && t_thread_idx.y == 0 && t_thread_idx.z == 0) t_block_vote = init;
  ::emu::syncthreads();
  t_block_vote = fold(t_block_vote, pred != 0);
  ::emu::syncthreads();
  return t_block_vote;
}
}  // namespace emu
inline int __syncthreads_or(int pred) {
  return ::emu::block_vote(pred, 0, [](int a, int p) { return a | p; });
}
inline int __syncthreads_and(int pred) {
  return ::emu::block_vote(pred, 1, [](int a, int p) { return a & p; });
}
inline int __syncthreads_count(int pred) {
  return ::emu::block_vote(pred, 0, [](int a, int p) { return a + p; });
}
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::emu::syncwarp(mask); }
inline void __threadfence() {}
inline void __threadfence_block() {}
[[noreturn]] inline void __trap() { ::emu::trap("__trap()"); }

namespace emu {
template <typename T>
inline T shfl_from(unsigned mask, T v, int src_lane) {
  T out;
  warp_exchange(mask, &v, &out, sizeof(T), src_lane);
  return out;
}
// A source outside the caller's width-segment of the warp reads the caller's own value.
inline int shfl_in_segment(int lane, int src, int width) {
  return (src < 0 || (src & ~(width - 1)) != (lane & ~(width - 1))) ? lane : src;
}
}  // namespace emu

template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  const int lane = ::emu::lane_id();
  return ::emu::shfl_from(mask, v, (lane & ~(width - 1)) + (src & (width - 1)));
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const int lane = ::emu::lane_id();
  return ::emu::shfl_from(mask, v, ::emu::shfl_in_segment(lane, lane ^ lane_mask, width));
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = ::emu::lane_id();
  return ::emu::shfl_from(mask, v, ::emu::shfl_in_segment(lane, lane + static_cast<int>(delta), width));
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = ::emu::lane_id();
  return ::emu::shfl_from(mask, v, ::emu::shfl_in_segment(lane, lane - static_cast<int>(delta), width));
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  int all[32];
  const int mine = pred != 0;
  ::emu::warp_gather(mask, &mine, all, sizeof(int));
  unsigned r = 0;
  for (int l = 0; l < 32; ++l)
    if ((mask >> l & 1u) && all[l]) r |= 1u << l;
  return r;
}
inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == mask; }

// Fibers of one host thread never run at the same time: plain read-modify-write is atomic.
template <typename T>
inline T atomicAdd(T* p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}
template <typename T>
inline T atomicExch(T* p, T v) {
  T old = *p;
  *p = v;
  return old;
}
template <typename T>
inline T atomicMax(T* p, T v) {
  T old = *p;
  if (v > old) *p = v;
  return old;
}
template <typename T>
inline T atomicMin(T* p, T v) {
  T old = *p;
  if (v < old) *p = v;
  return old;
}
template <typename T>
inline T atomicCAS(T* p, T compare, T v) {
  T old = *p;
  if (old == compare) *p = v;
  return old;
}

template <typename T>
inline T __ldg(const T* p) {
  return *p;
}

namespace emu {
template <typename To, typename From>
inline To bits(From x) {
  static_assert(sizeof(To) == sizeof(From), "bit cast between different sizes");
  To y;
  std::memcpy(&y, &x, sizeof(To));
  return y;
}
}  // namespace emu
inline float __uint_as_float(unsigned u) { return ::emu::bits<float>(u); }
inline unsigned __float_as_uint(float f) { return ::emu::bits<unsigned>(f); }
inline float __int_as_float(int u) { return ::emu::bits<float>(u); }
inline int __float_as_int(float f) { return ::emu::bits<int>(f); }
inline long long __double_as_longlong(double d) { return ::emu::bits<long long>(d); }
// Round-to-nearest arithmetic that the compiler may not contract into an FMA
// (the host build does not contract across these calls either).
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __longlong_as_double(long long u) { return ::emu::bits<double>(u); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanhf(float x) { return std::tanh(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}

using std::isfinite;
using std::isinf;
using std::isnan;

// CUDA's global min/max overloads. Mixed-type calls use the usual arithmetic
// conversions, as the CUDA headers' overloads do.
template <typename A, typename B,
          typename = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(b) < static_cast<C>(a) ? static_cast<C>(b) : static_cast<C>(a);
}
template <typename A, typename B,
          typename = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(b) : static_cast<C>(a);
}

namespace emu {

struct LaunchCfg {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  LaunchCfg(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = nullptr) : grid(g), block(b), smem(s), stream(st) {}
};

// ---- launch records (emu/emu_launch.cpp) ----

// Tells code that may be built against an older emulator that the API below exists.
#define LOOM_EMU_LAUNCH_OBSERVER 1

// One kernel launch (or emulated cuBLAS / cuBLASLt GEMM) as a GPU would see
// it: what ran, its configuration, and what it costs an sm_90 SM according to
// ptxas (the build-time resource table, emu/ptxas_resources.py).
struct LaunchRecord {
  const char* where;   // "kernel at file:line", the launch text
  std::string kernel;  // full kernel name without return type and parameters, e.g.
                       // "loom::kernels::cuda::(anonymous namespace)::conv_bias_add_kernel<float>";
                       // `where` when the kernel's symbol is unknown
  dim3 grid, block;
  size_t dynamic_smem;
  cudaStream_t stream;
  int64_t start_ns, end_ns;  // steady_clock since its epoch; equal in dry run
  // sm_90 resource usage from ptxas; negative when unknown:
  int registers;      // per thread
  int static_smem;    // bytes per block
  int local_bytes;    // local memory per thread (stack frame, spills included)
  int blocks_per_sm;  // resident blocks per SM (registers, shared memory, threads, 32-block limit)
  double occupancy;   // resident warps / 64
  double waves;       // blocks / (132 * blocks_per_sm)
  // And:
  int spill_bytes;  // spill stores per thread (known from ptxas -v logs only)
  bool library;     // an emulated cuBLAS / cuBLASLt call: grid and block are nominal
  bool dry_run;     // recorded without executing
};
using LaunchObserver = void (*)(const LaunchRecord&);
// Installs the observer every launch reports to (after it ran, on the
// launching thread); returns the previous one; nullptr removes it.
LaunchObserver set_launch_observer(LaunchObserver observer);
// Dry run: launches and emulated GEMMs are checked and recorded but not
// executed (memory copies and sets still are). Lets a program's host side run
// at full problem sizes to see what it would launch.
void set_dry_run(bool on);
bool dry_run();

// sm_90 occupancy: resident blocks per SM for a block of `threads` using
// `registers` per thread (<= 0: unknown, then -1 is returned) and
// `smem_per_block` bytes of shared memory (static + dynamic). Rules of the CUDA
// occupancy calculator for compute capability 9.0: 65536 registers per SM
// allocated per warp in units of 256 (four sub-partitions of 16384), 64 warps,
// 2048 threads and 32 blocks per SM, 228 KiB shared memory per SM with 1 KiB
// reserved per block, 227 KiB at most per block. 0: the block does not fit.
constexpr int kSmCount = 132;  // the H100 SXM the waves are counted on
int sm90_blocks_per_sm(int threads, int registers, size_t smem_per_block);

// The build-time ptxas table: false when `kernel` (a LaunchRecord::kernel
// name) is not in it.
struct KernelResources {
  const char* name;
  int registers, static_smem, local_bytes, spill_bytes;
};
bool kernel_resources(const std::string& kernel, KernelResources* out);
size_t kernel_resource_count();        // 0: the build had no source for the table
const char* kernel_resource_source();  // what the table was made from
// A kernel's symbol as LaunchRecord::kernel names it: demangled, without the
// return type, the parameter list and GCC's " [clone ...]" suffixes.
std::string kernel_name_from_symbol(const std::string& mangled);

// Reports an emulated library call (emu_blas.cpp) to the observer.
// `where` must outlive the program (a string literal).
void report_library_call(const char* where, const std::string& name, dim3 grid, dim3 block, cudaStream_t stream,
                         int64_t start_ns, int64_t end_ns);
int64_t now_ns();

// Entry capture: the launch closure (rewrite_launches.py) calls
// before_kernel() right before calling the kernel; when the launch wants the
// kernel's address (an observer is installed), the next instrumented function
// entry on this thread is the kernel's.
extern thread_local int t_entry_capture;  // 1: armed for this thread, 2: next entry is the kernel
inline void before_kernel() {
  if (t_entry_capture == 1) t_entry_capture = 2;
}

// Checks the configuration like the driver does (sets the error that the next
// cudaGetLastError returns) and, when valid, runs every block. `hooked`: the
// launching file was compiled with entry hooks (-finstrument-functions).
bool launch_begin(const char* where, const LaunchCfg& cfg);
void run_grid(const char* where, const LaunchCfg& cfg, void (*body)(void*), void* ctx, bool hooked);

#ifdef LOOM_EMU_ENTRY_HOOKS
#define LOOM_EMU_HOOKED true
#else
#define LOOM_EMU_HOOKED false
#endif

// `call` invokes the kernel by name (so a kernel template's arguments are
// deduced from the launch arguments, as nvcc does).
template <typename F, typename... A>
void launch(const char* where, const LaunchCfg& cfg, F call, A&&... args) {
  if (!launch_begin(where, cfg)) return;
  // Stored once like the arguments of a real launch; every thread then gets
  // its own by-value parameters.
  struct Ctx {
    F call;
    std::tuple<std::decay_t<A>...> args;
  } ctx{call, std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)};
  run_grid(
      where, cfg,
      [](void* c) {
        auto* x = static_cast<Ctx*>(c);
        std::apply(x->call, x->args);
      },
      &ctx, LOOM_EMU_HOOKED);
}

}  // namespace emu
