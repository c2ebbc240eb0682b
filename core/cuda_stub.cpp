// The CUDA runtime in a build without CUDA: queries answer "no device", every
// other call raises a clear error instead of failing to link.
#include "core/cuda.h"

#include "core/error.h"

namespace loom::cuda {

bool built_with_cuda() { return false; }
bool is_available() { return false; }
std::string unavailable_reason() { return "loom was built without CUDA (a CPU-only build)"; }
int device_count() { return 0; }
int current_device() { throw_no_cuda("current_device"); }
void set_device(int) { throw_no_cuda("set_device"); }
void synchronize(int) { throw_no_cuda("synchronize"); }
std::string device_name(int) { throw_no_cuda("device_name"); }

void throw_no_cuda(const char* what) { LOOM_THROW(ErrorKind::Runtime, what, ": loom was built without CUDA"); }
void* current_stream(int) { throw_no_cuda("current_stream"); }
double time_on_stream(void*, const std::function<void()>&) { throw_no_cuda("time_on_stream"); }
void set_current_stream(int, void*) { throw_no_cuda("set_current_stream"); }
void* create_stream(int) { throw_no_cuda("create_stream"); }
void destroy_stream(void*) { throw_no_cuda("destroy_stream"); }
void stream_synchronize(void*) { throw_no_cuda("stream_synchronize"); }

StreamGuard::StreamGuard(int device, void* stream) : device_(device), prev_(stream) { throw_no_cuda("StreamGuard"); }
StreamGuard::~StreamGuard() = default;

std::shared_ptr<void> allocate(size_t, int) { throw_no_cuda("allocate"); }
std::shared_ptr<void> allocate_pinned(size_t) { throw_no_cuda("allocate_pinned"); }
CachingAllocator& device_allocator(int) { throw_no_cuda("device_allocator"); }
MemoryStats memory_stats(int) { throw_no_cuda("memory_stats"); }
void empty_cache() { throw_no_cuda("empty_cache"); }
void reset_peak_memory_stats(int) { throw_no_cuda("reset_peak_memory_stats"); }

void memcpy(void*, Device, const void*, Device, size_t, bool) { throw_no_cuda("memcpy"); }

void check_async_errors(int) { throw_no_cuda("check_async_errors"); }
int* device_error_flag(int) { throw_no_cuda("device_error_flag"); }

}  // namespace loom::cuda
