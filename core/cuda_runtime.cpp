// The CUDA runtime behind core/cuda.h: devices, per-thread current streams,
// the per-device caching allocators, pinned staging memory, copies, and the
// device-side error flag that index kernels set instead of trapping.
//
// Process-wide objects (allocators, error flags) are created on first use and
// intentionally never destroyed: static destructors run after the CUDA
// runtime may have been torn down, and a tensor that outlives main() must
// still find its allocator.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "core/cuda.h"
#include "core/error.h"

namespace loom::cuda {

namespace {

constexpr int kMaxDevices = 64;

int checked_device(int device, const char* fn) {
  int n = device_count();
  LOOM_CHECK(n > 0, fn, ": no CUDA device is available");
  if (device < 0) device = current_device();
  LOOM_CHECK(device < n && device < kMaxDevices, fn, ": invalid CUDA device index ", device, " (", n,
             " device(s) visible)");
  return device;
}

// Makes `device` current for a scope and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    LOOM_CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != device) {
      LOOM_CUDA_CHECK(cudaSetDevice(device));
      changed_ = true;
    }
  }
  ~DeviceGuard() {
    if (changed_) cudaSetDevice(prev_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = 0;
  bool changed_ = false;
};

class CudaBackend : public CachingAllocator::Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {}
  void* raw_alloc(size_t nbytes) override {
    DeviceGuard guard(device_);
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, nbytes);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      return nullptr;
    }
    LOOM_CUDA_CHECK(err);
    return p;
  }
  // cudaFree synchronizes the device, so a cached block still used by queued
  // kernels is not released under them. Failures (a context already torn
  // down at exit) are cleared rather than thrown: this runs from deleters.
  void raw_free(void* p) override {
    DeviceGuard guard(device_);
    if (cudaFree(p) != cudaSuccess) (void)cudaGetLastError();
  }
  size_t free_bytes() override {
    DeviceGuard guard(device_);
    size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
      (void)cudaGetLastError();
      return 0;
    }
    return free;
  }
  const char* name() const override { return "CUDA"; }

 private:
  int device_;
};

class PinnedBackend : public CachingAllocator::Backend {
 public:
  void* raw_alloc(size_t nbytes) override {
    void* p = nullptr;
    cudaError_t err = cudaHostAlloc(&p, nbytes, cudaHostAllocPortable);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      return nullptr;
    }
    LOOM_CUDA_CHECK(err);
    return p;
  }
  void raw_free(void* p) override {
    if (cudaFreeHost(p) != cudaSuccess) (void)cudaGetLastError();
  }
  const char* name() const override { return "CUDA pinned host"; }
};

std::mutex g_mu;  // guards creation of the per-device objects below
CachingAllocator* g_allocators[kMaxDevices] = {};
CachingAllocator* g_pinned = nullptr;
int* g_error_flags[kMaxDevices] = {};

thread_local void* t_streams[kMaxDevices] = {};

CachingAllocator& pinned_allocator() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_pinned) g_pinned = new CachingAllocator(std::make_unique<PinnedBackend>());
  return *g_pinned;
}

// Pinned staging buffers of non-blocking copies, kept until the copy that
// reads or writes them has finished (an event per copy, polled on later
// copies), so the cache never hands them out while a transfer is in flight.
struct PendingStage {
  cudaEvent_t done;
  std::shared_ptr<void> buffer;
};
std::mutex g_stage_mu;
std::vector<PendingStage> g_stages;

void retire_finished_stages() {
  std::lock_guard<std::mutex> lock(g_stage_mu);
  for (size_t i = 0; i < g_stages.size();) {
    cudaError_t q = cudaEventQuery(g_stages[i].done);
    if (q == cudaErrorNotReady) {
      ++i;
      continue;
    }
    if (q != cudaSuccess) (void)cudaGetLastError();  // reported by the next sync
    cudaEventDestroy(g_stages[i].done);
    g_stages[i] = std::move(g_stages.back());
    g_stages.pop_back();
  }
}

void keep_until_done(std::shared_ptr<void> buffer, cudaStream_t stream) {
  cudaEvent_t ev;
  LOOM_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
  LOOM_CUDA_CHECK(cudaEventRecord(ev, stream));
  std::lock_guard<std::mutex> lock(g_stage_mu);
  g_stages.push_back({ev, std::move(buffer)});
}

bool is_pinned_host(const void* p) {
  cudaPointerAttributes attr;
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

struct HostCopy {
  void* dst;
  const void* src;
  size_t n;
};
// Runs on the stream after a device->staging copy; no CUDA calls allowed here.
void CUDART_CB host_copy_callback(void* arg) {
  auto* c = static_cast<HostCopy*>(arg);
  std::memcpy(c->dst, c->src, c->n);
  delete c;
}

}  // namespace

bool built_with_cuda() { return true; }

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // no driver, driver too old, no device: not an error here
      return 0;
    }
    return n;
  }();
  return count;
}

bool is_available() { return device_count() > 0; }

std::string unavailable_reason() {
  if (is_available()) return "";
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string("no usable CUDA driver: cudaGetDeviceCount failed with ") + cudaGetErrorName(err) + " (" +
           cudaGetErrorString(err) + ")";
  }
  return "no CUDA device is visible (cudaGetDeviceCount returned 0)";
}

int current_device() {
  LOOM_CHECK(device_count() > 0, "current_device: no CUDA device is available");
  int d = 0;
  LOOM_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void set_device(int index) {
  int d = checked_device(index, "set_device");
  LOOM_CUDA_CHECK(cudaSetDevice(d));
}

std::string device_name(int device) {
  const int d = checked_device(device, "device_name");
  static std::mutex mu;
  static std::vector<std::string> names;  // cached: the autotuner asks on every call
  std::lock_guard<std::mutex> lock(mu);
  if (int(names.size()) <= d) names.resize(d + 1);
  if (names[d].empty()) {
    cudaDeviceProp prop{};
    LOOM_CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
    names[d] = std::string(prop.name) + " (sm_" + std::to_string(prop.major * 10 + prop.minor) + ", " +
               std::to_string(prop.multiProcessorCount) + " SMs)";
  }
  return names[d];
}

void synchronize(int device) {
  int d = checked_device(device, "synchronize");
  {
    DeviceGuard guard(d);
    LOOM_CUDA_CHECK(cudaDeviceSynchronize());
  }
  check_async_errors(d);
}

void* current_stream(int device) { return t_streams[checked_device(device, "current_stream")]; }

void set_current_stream(int device, void* stream) { t_streams[checked_device(device, "set_current_stream")] = stream; }

void* create_stream(int device) {
  int d = checked_device(device, "create_stream");
  DeviceGuard guard(d);
  // A blocking stream: it stays ordered with the legacy default stream, which
  // is where copies and the error-flag reads of this runtime land by default.
  cudaStream_t s = nullptr;
  LOOM_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamDefault));
  return s;
}

void destroy_stream(void* stream) {
  if (stream == nullptr) return;
  // Drain first: a later stream may get the same handle and with it the
  // cached blocks of this one, which must then be idle.
  LOOM_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
  LOOM_CUDA_CHECK(cudaStreamDestroy(static_cast<cudaStream_t>(stream)));
}

void stream_synchronize(void* stream) { LOOM_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream))); }

double time_on_stream(void* stream, const std::function<void()>& enqueue) {
  const auto s = static_cast<cudaStream_t>(stream);
  cudaEvent_t begin = nullptr, end = nullptr;
  LOOM_CUDA_CHECK(cudaEventCreate(&begin));
  const auto destroy = [&] {
    if (begin) cudaEventDestroy(begin);
    if (end) cudaEventDestroy(end);
  };
  try {
    LOOM_CUDA_CHECK(cudaEventCreate(&end));
    LOOM_CUDA_CHECK(cudaEventRecord(begin, s));
    enqueue();
    LOOM_CUDA_CHECK(cudaEventRecord(end, s));
    LOOM_CUDA_CHECK(cudaEventSynchronize(end));
    float ms = 0;
    LOOM_CUDA_CHECK(cudaEventElapsedTime(&ms, begin, end));
    destroy();
    return ms;
  } catch (...) {
    destroy();
    throw;
  }
}

StreamGuard::StreamGuard(int device, void* stream) {
  device_ = checked_device(device, "StreamGuard");
  prev_ = t_streams[device_];
  t_streams[device_] = stream;
}

StreamGuard::~StreamGuard() { t_streams[device_] = prev_; }

CachingAllocator& device_allocator(int device) {
  int d = checked_device(device, "device_allocator");
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_allocators[d]) {
    g_allocators[d] = new CachingAllocator(std::make_unique<CudaBackend>(d));
    // As PYTORCH_NO_CUDA_MEMORY_CACHING: exact-size cudaMalloc/cudaFree per tensor, for memory checkers.
    const char* no_cache = std::getenv("LOOM_NO_CUDA_MEMORY_CACHING");
    if (no_cache && *no_cache && std::string(no_cache) != "0") g_allocators[d]->set_caching(false);
  }
  return *g_allocators[d];
}

std::shared_ptr<void> allocate(size_t nbytes, int device) {
  int d = checked_device(device, "allocate");
  return device_allocator(d).allocate_shared(nbytes, t_streams[d]);
}

std::shared_ptr<void> allocate_pinned(size_t nbytes) {
  LOOM_CHECK(is_available(), "allocate_pinned: no CUDA device is available");
  return pinned_allocator().allocate_shared(nbytes, nullptr);
}

MemoryStats memory_stats(int device) { return device_allocator(device).stats(); }

void empty_cache() {
  retire_finished_stages();
  std::vector<CachingAllocator*> all;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    for (auto* a : g_allocators)
      if (a) all.push_back(a);
    if (g_pinned) all.push_back(g_pinned);
  }
  for (auto* a : all) a->empty_cache();
}

void reset_peak_memory_stats(int device) { device_allocator(device).reset_peak_stats(); }

void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes, bool non_blocking) {
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  retire_finished_stages();

  if (dst_device.is_cuda() && src_device.is_cuda()) {
    int dd = checked_device(dst_device.index, "memcpy");
    int sd = checked_device(src_device.index, "memcpy");
    DeviceGuard guard(dd);
    auto stream = static_cast<cudaStream_t>(t_streams[dd]);
    if (dd == sd) {
      LOOM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream));
    } else {
      // The source was produced on the source device's stream: let it finish.
      LOOM_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(t_streams[sd])));
      LOOM_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dd, src, sd, nbytes, stream));
    }
    if (!non_blocking) LOOM_CUDA_CHECK(cudaStreamSynchronize(stream));
    return;
  }

  bool h2d = dst_device.is_cuda();
  int d = checked_device(h2d ? dst_device.index : src_device.index, "memcpy");
  DeviceGuard guard(d);
  auto stream = static_cast<cudaStream_t>(t_streams[d]);
  if (h2d) {
    if (non_blocking && !is_pinned_host(src)) {
      // The caller may overwrite src as soon as we return: stage it.
      auto stage = pinned_allocator().allocate_shared(nbytes, nullptr);
      std::memcpy(stage.get(), src, nbytes);
      LOOM_CUDA_CHECK(cudaMemcpyAsync(dst, stage.get(), nbytes, cudaMemcpyHostToDevice, stream));
      keep_until_done(std::move(stage), stream);
      return;
    }
    LOOM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream));
    if (!non_blocking) LOOM_CUDA_CHECK(cudaStreamSynchronize(stream));
    return;
  }

  if (non_blocking && !is_pinned_host(dst)) {
    // Device -> pinned stage on the stream, then a host callback on the same
    // stream moves it to dst; the data is in dst once the stream has drained.
    auto stage = pinned_allocator().allocate_shared(nbytes, nullptr);
    LOOM_CUDA_CHECK(cudaMemcpyAsync(stage.get(), src, nbytes, cudaMemcpyDeviceToHost, stream));
    auto* job = new HostCopy{dst, stage.get(), nbytes};
    cudaError_t err = cudaLaunchHostFunc(stream, host_copy_callback, job);
    if (err != cudaSuccess) delete job;
    LOOM_CUDA_CHECK(err);
    keep_until_done(std::move(stage), stream);
    return;
  }
  LOOM_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream));
  if (!non_blocking) {
    LOOM_CUDA_CHECK(cudaStreamSynchronize(stream));
    check_async_errors(d);
  }
}

int* device_error_flag(int device) {
  int d = checked_device(device, "device_error_flag");
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_error_flags[d]) {
    DeviceGuard guard(d);
    int* flag = nullptr;
    LOOM_CUDA_CHECK(cudaMalloc(&flag, sizeof(int)));
    LOOM_CUDA_CHECK(cudaMemset(flag, 0, sizeof(int)));
    g_error_flags[d] = flag;
  }
  return g_error_flags[d];
}

void check_async_errors(int device) {
  int d = checked_device(device, "check_async_errors");
  int* flag = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    flag = g_error_flags[d];
  }
  if (!flag) return;  // no kernel has asked for the flag: nothing can be set
  DeviceGuard guard(d);
  // cudaMemcpy on the legacy stream waits for the work queued before it on
  // every blocking stream, so a flag set by an earlier kernel is visible.
  int value = 0;
  LOOM_CUDA_CHECK(cudaMemcpy(&value, flag, sizeof(int), cudaMemcpyDeviceToHost));
  if (value != 0) {
    LOOM_CUDA_CHECK(cudaMemset(flag, 0, sizeof(int)));
    LOOM_THROW(ErrorKind::Index,
               "index out of range in a CUDA kernel (an index or target outside its dimension: index_select, gather, "
               "scatter_add, embedding, cross_entropy, ...) on device cuda:",
               d, "; the outputs of that op are undefined");
  }
}

}  // namespace loom::cuda
