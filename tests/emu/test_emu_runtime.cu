// Tests of the CUDA emulator itself (built with -DLOOM_CUDA=EMU only): the
// barrier and warp semantics the kernels rely on, the tensor-core fragment
// layout, and the failures it must report instead of hiding.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/reduce.h"

namespace {

template <typename T>
T* dev(size_t n) {
  T* p = nullptr;
  REQUIRE(cudaMalloc(&p, n * sizeof(T)) == cudaSuccess);
  REQUIRE(cudaMemset(p, 0, n * sizeof(T)) == cudaSuccess);
  return p;
}

// Block-wide reversal through shared memory: wrong without the barrier.
__global__ void reverse_kernel(int* out, const int* in) {
  __shared__ int s[256];
  s[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

__global__ void reverse_no_barrier_kernel(int* out, const int* in) {
  __shared__ int s[256];
  s[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

// Three votes in a row per block (the vote is reused): any, all and the count of the threads below k.
__global__ void vote_kernel(int* out, int k) {
  const int below = static_cast<int>(threadIdx.x) < k;
  const int any = __syncthreads_or(below), all = __syncthreads_and(below), count = __syncthreads_count(below);
  if (threadIdx.x == blockDim.x - 1) {
    out[3 * blockIdx.x] = any;
    out[3 * blockIdx.x + 1] = all;
    out[3 * blockIdx.x + 2] = count;
  }
}

__global__ void warp_sum_kernel(float* out, const float* in) {
  float v = in[threadIdx.x];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[threadIdx.x] = v;
}

__global__ void shfl_down_kernel(int* out) {
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, int(threadIdx.x) * 10, 3);
}

__global__ void divergent_barrier_kernel(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  else __syncwarp();
  out[threadIdx.x] = 1;
}

__global__ void early_exit_shuffle_kernel(float* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

__global__ void dyn_smem_overflow_kernel(int n) {
  extern __shared__ float buf[];
  buf[threadIdx.x] = 1.0f;  // one float per thread, but only n were asked for
  (void)n;
}

__global__ void dyn_smem_kernel(float* out) {
  extern __shared__ __align__(16) float buf[];
  buf[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = buf[(threadIdx.x + 1) % blockDim.x];
}

__global__ void grid_index_kernel(int* out) {
  const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  out[b * blockDim.x * blockDim.y * blockDim.z + t] = b * 1000 + t;
}

__global__ void atomic_kernel(float* acc) { atomicAdd(acc, 1.0f); }

template <typename T>
__global__ void template_kernel(T* out, T v, int n) {
  if (int(threadIdx.x) < n) out[threadIdx.x] = v;
}

// One m16n8k8 TF32 product: A [16,8] row-major, B [8,8] (k-major), D [16,8].
__global__ void mma_kernel(float* d, const float* a, const float* b) {
  const int lane = threadIdx.x, gid = lane / 4, tig = lane % 4;
  const uint32_t af[4] = {__float_as_uint(a[gid * 8 + tig]), __float_as_uint(a[(gid + 8) * 8 + tig]),
                          __float_as_uint(a[gid * 8 + tig + 4]), __float_as_uint(a[(gid + 8) * 8 + tig + 4])};
  const uint32_t bf[2] = {__float_as_uint(b[tig * 8 + gid]), __float_as_uint(b[(tig + 4) * 8 + gid])};
  const float c[4] = {0, 0, 0, 0};
  float r[4];
  ::emu::mma_m16n8k8_tf32(r, af, bf, c);
  d[gid * 8 + tig * 2] = r[0];
  d[gid * 8 + tig * 2 + 1] = r[1];
  d[(gid + 8) * 8 + tig * 2] = r[2];
  d[(gid + 8) * 8 + tig * 2 + 1] = r[3];
}

std::string last_error_text() {
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e));
}

}  // namespace

TEST_CASE("emu: __syncthreads orders shared memory across the block", "[emu]") {
  const int n = 256 * 3;
  int* in = dev<int>(n);
  int* out = dev<int>(n);
  std::vector<int> h(n);
  for (int i = 0; i < n; ++i) h[i] = i * 7 + 1;
  cudaMemcpy(in, h.data(), n * sizeof(int), cudaMemcpyHostToDevice);
  reverse_kernel<<<3, 256>>>(out, in);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<int> r(n);
  cudaMemcpy(r.data(), out, n * sizeof(int), cudaMemcpyDeviceToHost);
  for (int b = 0; b < 3; ++b)
    for (int t = 0; t < 256; ++t) CHECK(r[b * 256 + t] == h[b * 256 + 255 - t]);
  cudaFree(in);
  cudaFree(out);
}

TEST_CASE("emu: a missing __syncthreads gives wrong results", "[emu]") {
  const int n = 256;
  int* in = dev<int>(n);
  int* out = dev<int>(n);
  std::vector<int> h(n);
  for (int i = 0; i < n; ++i) h[i] = i + 1;
  cudaMemcpy(in, h.data(), n * sizeof(int), cudaMemcpyHostToDevice);
  reverse_no_barrier_kernel<<<1, 256>>>(out, in);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<int> r(n);
  cudaMemcpy(r.data(), out, n * sizeof(int), cudaMemcpyDeviceToHost);
  int wrong = 0;
  for (int t = 0; t < n; ++t) wrong += r[t] != h[255 - t];
  CHECK(wrong > 0);
  cudaFree(in);
  cudaFree(out);
}

TEST_CASE("emu: __syncthreads_or, _and and _count vote across the block", "[emu]") {
  int* out = dev<int>(6);
  for (int k : {0, 37, 96}) {
    vote_kernel<<<2, 96>>>(out, k);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    std::vector<int> r(6);
    cudaMemcpy(r.data(), out, 6 * sizeof(int), cudaMemcpyDeviceToHost);
    for (int b = 0; b < 2; ++b) {
      CHECK(r[3 * b] == (k > 0));
      CHECK(r[3 * b + 1] == (k == 96));
      CHECK(r[3 * b + 2] == k);
    }
  }
  cudaFree(out);
}

TEST_CASE("emu: warp shuffles", "[emu]") {
  float* in = dev<float>(64);
  float* out = dev<float>(64);
  std::vector<float> h(64);
  for (int i = 0; i < 64; ++i) h[i] = float(i);
  cudaMemcpy(in, h.data(), 64 * sizeof(float), cudaMemcpyHostToDevice);
  warp_sum_kernel<<<1, 64>>>(out, in);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<float> r(64);
  cudaMemcpy(r.data(), out, 64 * sizeof(float), cudaMemcpyDeviceToHost);
  for (int i = 0; i < 32; ++i) CHECK(r[i] == 496.0f);    // 0 + ... + 31
  for (int i = 32; i < 64; ++i) CHECK(r[i] == 1520.0f);  // 32 + ... + 63
  int* o = dev<int>(32);
  shfl_down_kernel<<<1, 32>>>(o);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<int> d(32);
  cudaMemcpy(d.data(), o, 32 * sizeof(int), cudaMemcpyDeviceToHost);
  for (int i = 0; i < 32; ++i) CHECK(d[i] == (i + 3 < 32 ? (i + 3) * 10 : i * 10));
  cudaFree(in);
  cudaFree(out);
  cudaFree(o);
}

TEST_CASE("emu: divergent barriers and shuffles with exited lanes fail the launch", "[emu]") {
  int* o = dev<int>(32);
  divergent_barrier_kernel<<<1, 32>>>(o);
  std::string e = last_error_text();
  CHECK(e.find("deadlock") != std::string::npos);
  CHECK(e.find("divergent_barrier_kernel") != std::string::npos);
  float* f = dev<float>(64);
  early_exit_shuffle_kernel<<<1, 32>>>(f);
  e = last_error_text();
  CHECK(e.find("exited") != std::string::npos);
  // a shuffle in a block whose last warp is partial
  warp_sum_kernel<<<1, 40>>>(f, f);
  e = last_error_text();
  CHECK(e.find("no such thread") != std::string::npos);
  cudaFree(o);
  cudaFree(f);
}

TEST_CASE("emu: dynamic shared memory", "[emu]") {
  float* out = dev<float>(128);
  dyn_smem_kernel<<<1, 128, 128 * sizeof(float)>>>(out);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<float> r(128);
  cudaMemcpy(r.data(), out, 128 * sizeof(float), cudaMemcpyDeviceToHost);
  for (int i = 0; i < 128; ++i) CHECK(r[i] == float((i + 1) % 128));
  dyn_smem_overflow_kernel<<<1, 64, 16 * sizeof(float)>>>(16);
  CHECK(last_error_text().find("past the end of the dynamic shared memory") != std::string::npos);
  // above 48 KiB without cudaFuncSetAttribute
  dyn_smem_kernel<<<1, 32, 64 * 1024>>>(out);
  CHECK(cudaGetLastError() == cudaErrorLaunchOutOfResources);
  cudaFree(out);
}

TEST_CASE("emu: launch configuration checks and multi-dimensional grids", "[emu]") {
  int* o = dev<int>(2 * 3 * 2 * 4 * 2 * 3);
  grid_index_kernel<<<dim3(2, 3, 2), dim3(4, 2, 3)>>>(o);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<int> r(2 * 3 * 2 * 4 * 2 * 3);
  cudaMemcpy(r.data(), o, r.size() * sizeof(int), cudaMemcpyDeviceToHost);
  for (int b = 0; b < 12; ++b)
    for (int t = 0; t < 24; ++t) CHECK(r[b * 24 + t] == b * 1000 + t);
  grid_index_kernel<<<1, 2048>>>(o);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  grid_index_kernel<<<dim3(1, 70000), 32>>>(o);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  grid_index_kernel<<<0, 32>>>(o);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  cudaFree(o);
}

TEST_CASE("emu: atomics and deduced kernel templates", "[emu]") {
  float* acc = dev<float>(1);
  atomic_kernel<<<7, 96>>>(acc);
  float h = 0;
  cudaMemcpy(&h, acc, sizeof(float), cudaMemcpyDeviceToHost);
  CHECK(h == 7.0f * 96);
  double* d = dev<double>(8);
  template_kernel<<<1, 8>>>(d, 2.5, 5);
  std::vector<double> r(8);
  cudaMemcpy(r.data(), d, 8 * sizeof(double), cudaMemcpyDeviceToHost);
  for (int i = 0; i < 8; ++i) CHECK(r[i] == (i < 5 ? 2.5 : 0.0));
  cudaFree(acc);
  cudaFree(d);
}

TEST_CASE("emu: the m16n8k8 tf32 fragment layout computes A x B", "[emu]") {
  std::vector<float> a(16 * 8), b(8 * 8);
  for (int i = 0; i < 16 * 8; ++i) a[i] = float((i * 37) % 11) - 5.0f;  // small integers: exact in tf32
  for (int i = 0; i < 8 * 8; ++i) b[i] = float((i * 13) % 7) - 3.0f;
  float* da = dev<float>(a.size());
  float* db = dev<float>(b.size());
  float* dd = dev<float>(16 * 8);
  cudaMemcpy(da, a.data(), a.size() * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(db, b.data(), b.size() * sizeof(float), cudaMemcpyHostToDevice);
  mma_kernel<<<1, 32>>>(dd, da, db);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<float> d(16 * 8);
  cudaMemcpy(d.data(), dd, d.size() * sizeof(float), cudaMemcpyDeviceToHost);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      float ref = 0;
      for (int k = 0; k < 8; ++k) ref += a[m * 8 + k] * b[k * 8 + n];
      CHECK(d[m * 8 + n] == ref);
    }
  cudaFree(da);
  cudaFree(db);
  cudaFree(dd);
}

TEST_CASE("emu: memory bookkeeping", "[emu]") {
  size_t free0 = 0, total = 0;
  cudaMemGetInfo(&free0, &total);
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, 1 << 20) == cudaSuccess);
  size_t free1 = 0;
  cudaMemGetInfo(&free1, &total);
  CHECK(free0 - free1 == (1 << 20));
  cudaPointerAttributes attr;
  cudaPointerGetAttributes(&attr, static_cast<char*>(p) + 100);
  CHECK(attr.type == cudaMemoryTypeDevice);
  int local = 0;
  cudaPointerGetAttributes(&attr, &local);
  CHECK(attr.type == cudaMemoryTypeUnregistered);
  CHECK(cudaFree(p) == cudaSuccess);
  CHECK(cudaFree(&local) == cudaErrorInvalidValue);
  (void)cudaGetLastError();
}

// ---- launch records ----

namespace {

std::mutex g_records_mu;
std::vector<emu::LaunchRecord> g_records;
void collect(const emu::LaunchRecord& r) {
  std::lock_guard<std::mutex> lock(g_records_mu);
  g_records.push_back(r);
}

// Installs `collect` (and dry run when asked) for one scope.
struct Recording {
  explicit Recording(bool dry = false) {
    g_records.clear();
    previous = emu::set_launch_observer(collect);
    emu::set_dry_run(dry);
  }
  ~Recording() {
    emu::set_dry_run(false);
    emu::set_launch_observer(previous);
  }
  emu::LaunchObserver previous;
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

TEST_CASE("emu: the launch observer sees every launch with the kernel's full name", "[emu]") {
  int* in = dev<int>(512);
  int* out = dev<int>(512);
  double* d = dev<double>(8);
  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreate(&stream) == cudaSuccess);
  {
    Recording rec;
    reverse_kernel<<<2, 256, 0, stream>>>(out, in);
    template_kernel<<<1, 8>>>(d, 2.5, 5);  // a deduced template: the name has its arguments
    void (*fp)(int*, const int*) = reverse_no_barrier_kernel;
    fp<<<dim3(1, 2), 256>>>(out, in);  // through a pointer: the kernel actually run
    dyn_smem_kernel<<<1, 32, 32 * sizeof(float)>>>(reinterpret_cast<float*>(out));
  }
  REQUIRE(g_records.size() == 4);
  const emu::LaunchRecord& a = g_records[0];
  CHECK(a.kernel == "(anonymous namespace)::reverse_kernel");
  CHECK(std::string(a.where).find("reverse_kernel at ") == 0);
  CHECK(a.grid.x == 2);
  CHECK(a.block.x == 256);
  CHECK(a.stream == stream);
  CHECK(a.dynamic_smem == 0);
  CHECK(a.start_ns > 0);
  CHECK(a.end_ns >= a.start_ns);
  CHECK_FALSE(a.dry_run);
  CHECK_FALSE(a.library);
  // Not in the ptxas table (a test kernel): resources unknown.
  CHECK(a.registers == -1);
  CHECK(a.blocks_per_sm == -1);
  CHECK(g_records[1].kernel == "(anonymous namespace)::template_kernel<double>");
  CHECK(g_records[2].kernel == "(anonymous namespace)::reverse_no_barrier_kernel");
  CHECK(g_records[2].grid.y == 2);
  CHECK(g_records[3].kernel == "(anonymous namespace)::dyn_smem_kernel");
  CHECK(g_records[3].dynamic_smem == 32 * sizeof(float));
  // The launches ran.
  double h = 0;
  cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost);
  CHECK(h == 2.5);
  // Removed: no more records.
  g_records.clear();
  template_kernel<<<1, 8>>>(d, 1.0, 5);
  CHECK(g_records.empty());
  cudaStreamDestroy(stream);
  cudaFree(in);
  cudaFree(out);
  cudaFree(d);
}

TEST_CASE("emu: dry run records launches and GEMMs without executing them", "[emu]") {
  float* acc = dev<float>(1);
  double* d = dev<double>(8);
  float* a = dev<float>(16);
  float* c = dev<float>(16);
  std::vector<float> ones(16, 1.0f);
  cudaMemcpy(a, ones.data(), sizeof(float) * 16, cudaMemcpyHostToDevice);
  cublasHandle_t blas = nullptr;
  REQUIRE(cublasCreate(&blas) == CUBLAS_STATUS_SUCCESS);
  {
    Recording rec(true);
    CHECK(emu::dry_run());
    atomic_kernel<<<7, 96>>>(acc);
    template_kernel<<<1, 8>>>(d, 2.5, 5);
    const float alpha = 1, beta = 0;
    CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &alpha, a, 4, a, 4, &beta, c, 4) ==
          CUBLAS_STATUS_SUCCESS);
    // An invalid configuration still fails, and is not recorded.
    grid_index_kernel<<<1, 2048>>>(reinterpret_cast<int*>(acc));
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  }
  CHECK_FALSE(emu::dry_run());
  REQUIRE(g_records.size() == 3);
  CHECK(g_records[0].kernel == "(anonymous namespace)::atomic_kernel");
  CHECK(g_records[0].grid.x == 7);
  CHECK(g_records[0].block.x == 96);
  CHECK(g_records[0].dry_run);
  CHECK(g_records[0].start_ns == g_records[0].end_ns);
  CHECK(g_records[1].kernel == "(anonymous namespace)::template_kernel<double>");
  CHECK(g_records[2].kernel == "cublasSgemm 4x4x4 (emulated)");
  CHECK(g_records[2].library);
  CHECK(g_records[2].registers == -1);
  // Nothing ran: the buffers keep their zeros.
  float h = -1;
  cudaMemcpy(&h, acc, sizeof h, cudaMemcpyDeviceToHost);
  CHECK(h == 0.0f);
  std::vector<double> r(8, -1.0);
  cudaMemcpy(r.data(), d, sizeof(double) * 8, cudaMemcpyDeviceToHost);
  for (double v : r) CHECK(v == 0.0);
  std::vector<float> hc(16, -1.0f);
  cudaMemcpy(hc.data(), c, sizeof(float) * 16, cudaMemcpyDeviceToHost);
  for (float v : hc) CHECK(v == 0.0f);
  cublasDestroy(blas);
  cudaFree(acc);
  cudaFree(d);
  cudaFree(a);
  cudaFree(c);
}

TEST_CASE("emu: library kernels are named as nvcc names them, with their sm_90 resources", "[emu]") {
  // loom's per-channel sum at the conv stem's bias-gradient shape, in dry run
  // (the table is keyed by these names: emu/ptxas_resources.py).
  const int64_t N = 256, C = 32, S = 4096;
  float* x = dev<float>(1);  // never read in dry run
  float* out = dev<float>(C);
  const size_t ws_bytes = loom::kernels::cuda::channel_sum_workspace_bytes(loom::DType::Float32, N, C, S);
  char* ws = ws_bytes ? dev<char>(ws_bytes) : nullptr;
  {
    Recording rec(true);
    loom::kernels::cuda::channel_sum(loom::DType::Float32, out, x, N, C, S, ws, nullptr);
  }
  REQUIRE_FALSE(g_records.empty());
  const emu::LaunchRecord& r = g_records[0];
  CHECK(r.kernel.find("loom::kernels::cuda::channel_reduce_partial_kernel<") == 0);
  CHECK(ends_with(r.kernel, ">"));
  if (emu::kernel_resource_count() == 0) {
    CHECK(r.registers == -1);
    WARN("no sm_90 resource table in this build (" << emu::kernel_resource_source() << ")");
  } else {
    INFO(r.kernel << " (table: " << emu::kernel_resource_source() << ")");
    CHECK(r.registers > 0);
    CHECK(r.blocks_per_sm > 0);
    CHECK(r.occupancy > 0);
    CHECK(r.waves > 0);
  }
  cudaFree(x);
  cudaFree(out);
  cudaFree(ws);
}

TEST_CASE("emu: kernel names from symbols", "[emu]") {
  // What g++ emits for a kernel template in an anonymous namespace, and for
  // a clone of it.
  CHECK(emu::kernel_name_from_symbol("_ZN4loom7kernels4cuda12_GLOBAL__N_120conv_bias_add_kernelIfEEvPT_PKS4_lil") ==
        "loom::kernels::cuda::(anonymous namespace)::conv_bias_add_kernel<float>");
  CHECK(emu::kernel_name_from_symbol("_ZN12_GLOBAL__N_114reverse_kernelEPiPKi.constprop.0") ==
        "(anonymous namespace)::reverse_kernel");
  CHECK(emu::kernel_name_from_symbol("not_mangled") == "not_mangled");
}

TEST_CASE("emu: sm_90 occupancy", "[emu]") {
  // Register-limited.
  CHECK(emu::sm90_blocks_per_sm(256, 32, 0) == 8);
  CHECK(emu::sm90_blocks_per_sm(256, 128, 0) == 2);
  CHECK(emu::sm90_blocks_per_sm(256, 64, 0) == 4);
  CHECK(emu::sm90_blocks_per_sm(128, 72, 0) == 7);  // 2304 registers per warp: 7 warps per sub-partition
  CHECK(emu::sm90_blocks_per_sm(1024, 64, 0) == 1);
  CHECK(emu::sm90_blocks_per_sm(1024, 65, 0) == 0);  // 66560 registers: more than a block may have
  // Thread- and block-limited.
  CHECK(emu::sm90_blocks_per_sm(1024, 16, 0) == 2);
  CHECK(emu::sm90_blocks_per_sm(32, 16, 0) == 32);
  CHECK(emu::sm90_blocks_per_sm(96, 16, 0) == 21);
  // Shared-memory-limited: 228 KiB per SM, 1 KiB reserved per block.
  CHECK(emu::sm90_blocks_per_sm(256, 32, 48 * 1024) == 4);
  CHECK(emu::sm90_blocks_per_sm(256, 32, 100 * 1024) == 2);
  CHECK(emu::sm90_blocks_per_sm(128, 32, 227 * 1024) == 1);
  CHECK(emu::sm90_blocks_per_sm(128, 32, 227 * 1024 + 1) == 0);
  CHECK(emu::sm90_blocks_per_sm(256, 32, 27 * 1024) == 8);  // 8 x 28 KiB = 224 KiB
  CHECK(emu::sm90_blocks_per_sm(256, 32, 28 * 1024) == 7);  // 8 x 29 KiB > 228 KiB
  // Unknown registers.
  CHECK(emu::sm90_blocks_per_sm(256, -1, 0) == -1);
}
