// The CUDA runtime in a build without CUDA: queries answer "no device", every
// other call raises a clear error instead of failing to link.
#include "core/cuda.h"

#include "core/error.h"

namespace loom::cuda {

namespace {
[[noreturn]] void no_cuda(const char* fn) { LOOM_THROW(ErrorKind::Runtime, fn, ": loom was built without CUDA"); }
}  // namespace

bool built_with_cuda() { return false; }
bool is_available() { return false; }
int device_count() { return 0; }
int current_device() { no_cuda("current_device"); }
void set_device(int) { no_cuda("set_device"); }
void synchronize(int) { no_cuda("synchronize"); }
std::string device_name(int) { no_cuda("device_name"); }

void* current_stream(int) { no_cuda("current_stream"); }
void set_current_stream(int, void*) { no_cuda("set_current_stream"); }
void* create_stream(int) { no_cuda("create_stream"); }
void destroy_stream(void*) { no_cuda("destroy_stream"); }
void stream_synchronize(void*) { no_cuda("stream_synchronize"); }

StreamGuard::StreamGuard(int device, void* stream) : device_(device), prev_(stream) { no_cuda("StreamGuard"); }
StreamGuard::~StreamGuard() = default;

std::shared_ptr<void> allocate(size_t, int) { no_cuda("allocate"); }
std::shared_ptr<void> allocate_pinned(size_t) { no_cuda("allocate_pinned"); }
CachingAllocator& device_allocator(int) { no_cuda("device_allocator"); }
MemoryStats memory_stats(int) { no_cuda("memory_stats"); }
void empty_cache() { no_cuda("empty_cache"); }
void reset_peak_memory_stats(int) { no_cuda("reset_peak_memory_stats"); }

void memcpy(void*, Device, const void*, Device, size_t, bool) { no_cuda("memcpy"); }

void check_async_errors(int) { no_cuda("check_async_errors"); }
int* device_error_flag(int) { no_cuda("device_error_flag"); }

}  // namespace loom::cuda
