// The CUDA runtime as the rest of loom sees it: plain C++ with no CUDA headers,
// so that every layer compiles in a build without CUDA. In such a build, and
// on a machine without a usable GPU, is_available() is false and device_count()
// is 0; any other call raises "loom was built without CUDA" or the CUDA error.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include "core/allocator.h"
#include "core/device.h"

namespace loom::cuda {

// Raises "<what>: loom was built without CUDA" (RuntimeError). Defined only in
// a build without CUDA.
[[noreturn]] void throw_no_cuda(const char* what);

bool built_with_cuda();
bool is_available();
// Why is_available() is false, "" when it is true: "loom was built without CUDA (a CPU-only build)",
// the driver's error from cudaGetDeviceCount, or "no CUDA device is visible ...".
std::string unavailable_reason();
int device_count();  // never throws: 0 when the driver or device is missing
int current_device();
void set_device(int index);
void synchronize(int device = -1);  // -1: the current device; raises pending device-side errors
// "NVIDIA H200 (sm_90, 132 SMs)": what a tuned choice depends on.
std::string device_name(int device);

// Streams are opaque handles (cudaStream_t). nullptr is the legacy default
// stream. The current stream is per thread and per device; kernels launch on it.
void* current_stream(int device);
void set_current_stream(int device, void* stream);
void* create_stream(int device);
void destroy_stream(void* stream);
void stream_synchronize(void* stream);
// Milliseconds that the work `enqueue` puts on `stream` takes on the GPU,
// measured with CUDA events (waits for the stream: for tuning, not hot paths).
double time_on_stream(void* stream, const std::function<void()>& enqueue);

// RAII: makes `stream` current for `device` until the scope ends.
class StreamGuard {
 public:
  StreamGuard(int device, void* stream);
  ~StreamGuard();

 private:
  int device_;
  void* prev_;
};

// Device memory from the caching allocator of `device`, on the current stream.
std::shared_ptr<void> allocate(size_t nbytes, int device);
// Page-locked host memory (cached too) for staging transfers.
std::shared_ptr<void> allocate_pinned(size_t nbytes);
CachingAllocator& device_allocator(int device);
MemoryStats memory_stats(int device = -1);
void empty_cache();
void reset_peak_memory_stats(int device = -1);

// Copies between any two of host / device memory. Host<->device copies with
// non_blocking = false return when the data is usable; non_blocking host
// copies go through pinned staging and return once enqueued.
void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes, bool non_blocking = false);

// Device-side failures recorded by kernels (an out-of-range index in
// index_select / gather / scatter_add) are raised here as IndexError.
void check_async_errors(int device);
int* device_error_flag(int device);  // where kernels record them

}  // namespace loom::cuda
