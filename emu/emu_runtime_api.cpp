// loom's CUDA emulator, host side: the CUDA runtime API loom uses (errors,
// the device, memory, streams and events, function attributes). Kernels run
// in emu_runtime.cpp.
//
// Device memory is host memory: cudaMalloc is an exact-size, 256-byte-aligned
// host allocation (so a sanitizer build catches an access one byte past the
// end), copies are memmove, and streams and events run work at once and only
// keep timestamps.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "emu_runtime.h"

namespace emu {

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_failure;

cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) t_last_error = e;
  return e;
}

namespace {

thread_local int t_device = 0;

std::mutex g_mu;  // guards what follows
struct Alloc {
  size_t bytes;
  bool host;
};
std::map<const char*, Alloc> g_allocs;  // by base address
size_t g_device_bytes = 0;
// The largest cudaFuncAttributeMaxDynamicSharedMemorySize set for any kernel.
int g_max_dyn_smem = 0;

}  // namespace

size_t dynamic_smem_limit() {
  std::lock_guard<std::mutex> lock(g_mu);
  return std::max<size_t>(kDefaultSmem, size_t(g_max_dyn_smem));
}

}  // namespace emu

using emu::set_error;

// ---- errors ----

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorInvalidConfiguration:
    case cudaErrorLaunchOutOfResources:
    case cudaErrorLaunchFailure: return emu::t_failure.c_str();
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  cudaError_t e = emu::t_last_error;
  emu::t_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return emu::t_last_error; }

// ---- devices ----

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = emu::t_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice);
  emu::t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice);
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "loom CUDA emulator (sm_90)");
  p->totalGlobalMem = emu::kTotalMem;
  p->sharedMemPerBlock = emu::kDefaultSmem;
  p->sharedMemPerBlockOptin = emu::kMaxSmemOptin;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
  p->major = 9, p->minor = 0;
  p->multiProcessorCount = 132;
  p->l2CacheSize = 50 << 20;
  p->memoryBusWidth = 5120;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = int(emu::kDefaultSmem); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrClockRate: *value = 1980000; break;  // kHz: an H100 SXM's boost clock, as the 132 SMs
    case cudaDevAttrMultiProcessorCount: *value = 132; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = int(emu::kMaxSmemOptin); break;
    default: return set_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  std::lock_guard<std::mutex> lock(emu::g_mu);
  *total = emu::kTotalMem;
  *free = emu::kTotalMem - std::min(emu::kTotalMem, emu::g_device_bytes);
  return cudaSuccess;
}

// ---- memory ----

namespace {
cudaError_t emu_alloc(void** ptr, size_t size, bool host) {
  if (!ptr) return set_error(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(emu::g_mu);
  if (!host && emu::g_device_bytes + size > emu::kTotalMem) {
    *ptr = nullptr;
    return set_error(cudaErrorMemoryAllocation);
  }
  // 256-byte aligned like cudaMalloc, and exactly `size` long, so that a
  // sanitizer build reports an access one byte past the end.
  void* p = nullptr;
  if (posix_memalign(&p, 256, std::max<size_t>(size, 1)) != 0) return set_error(cudaErrorMemoryAllocation);
  emu::g_allocs[static_cast<const char*>(p)] = emu::Alloc{size, host};
  if (!host) emu::g_device_bytes += size;
  *ptr = p;
  return cudaSuccess;
}
cudaError_t emu_free(void* ptr, bool host) {
  if (!ptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(emu::g_mu);
  auto it = emu::g_allocs.find(static_cast<const char*>(ptr));
  if (it == emu::g_allocs.end() || it->second.host != host) return set_error(cudaErrorInvalidValue);
  if (!host) emu::g_device_bytes -= it->second.bytes;
  emu::g_allocs.erase(it);
  std::free(ptr);
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaMalloc(void** ptr, size_t size) { return emu_alloc(ptr, size, false); }
cudaError_t cudaFree(void* ptr) { return emu_free(ptr, false); }
cudaError_t cudaMallocAsync(void** ptr, size_t size, cudaStream_t) { return emu_alloc(ptr, size, false); }
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) { return emu_free(ptr, false); }
cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned) { return emu_alloc(ptr, size, true); }
cudaError_t cudaMallocHost(void** ptr, size_t size) { return emu_alloc(ptr, size, true); }
cudaError_t cudaFreeHost(void* ptr) { return emu_free(ptr, true); }

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attr, const void* ptr) {
  std::lock_guard<std::mutex> lock(emu::g_mu);
  attr->type = cudaMemoryTypeUnregistered;
  attr->device = -2;
  attr->devicePointer = nullptr;
  attr->hostPointer = nullptr;
  const char* p = static_cast<const char*>(ptr);
  auto it = emu::g_allocs.upper_bound(p);
  if (it != emu::g_allocs.begin()) {
    --it;
    if (p < it->first + std::max<size_t>(it->second.bytes, 1)) {
      attr->type = it->second.host ? cudaMemoryTypeHost : cudaMemoryTypeDevice;
      attr->device = 0;
      attr->devicePointer = const_cast<void*>(ptr);
      if (it->second.host) attr->hostPointer = const_cast<void*>(ptr);
    }
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind) {
  if (count && (!dst || !src)) return set_error(cudaErrorInvalidValue);
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}
cudaError_t cudaMemcpyPeerAsync(void* dst, int, const void* src, int, size_t count, cudaStream_t) {
  return cudaMemcpy(dst, src, count, cudaMemcpyDeviceToDevice);
}
cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  if (count && !ptr) return set_error(cudaErrorInvalidValue);
  if (count) std::memset(ptr, value, count);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t) { return cudaMemset(ptr, value, count); }

// ---- streams and events: work runs at once, so they only keep timestamps ----

struct CUstream_st {
  unsigned flags;
};
struct CUevent_st {
  std::chrono::steady_clock::time_point t;
  bool recorded = false;
  unsigned flags = 0;
};

cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  *s = new CUstream_st{flags};
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaLaunchHostFunc(cudaStream_t, cudaHostFn_t fn, void* user_data) {
  fn(user_data);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  *e = new CUevent_st;
  (*e)->flags = flags;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  if (!e) return set_error(cudaErrorInvalidResourceHandle);
  e->t = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle); }
cudaError_t cudaEventQuery(cudaEvent_t e) { return e ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->recorded || !end->recorded || (start->flags & cudaEventDisableTiming) ||
      (end->flags & cudaEventDisableTiming))
    return set_error(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->t - start->t).count();
  return cudaSuccess;
}

cudaError_t emu_func_set_attribute(const void* func, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || size_t(value) > emu::kMaxSmemOptin) return set_error(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lock(emu::g_mu);
    emu::g_max_dyn_smem = std::max(emu::g_max_dyn_smem, value);
  }
  return cudaSuccess;
}
