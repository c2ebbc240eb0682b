// Device buffers of the tests that call CUDA kernels on raw pointers (a real
// GPU or the emulator): DevBuf, host copies of device memory, and the stream
// the kernels run on. Include it under #ifdef LOOM_WITH_CUDA; test cases
// still start with LOOM_REQUIRE_GPU() (tests/test_util.h).
#pragma once
#ifdef LOOM_WITH_CUDA
#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "core/cuda.h"
#include "core/dispatch.h"  // cudaStream_t, without the runtime's headers
#include "test_util.h"

namespace loom::test {

// The current stream of device 0 (what loom's own launches use).
inline cudaStream_t stream() { return static_cast<cudaStream_t>(loom::cuda::current_stream(0)); }

// n elements of type T read back from device memory at d.
template <typename T>
std::vector<T> to_host(const void* d, size_t n) {
  std::vector<T> h(n);
  if (n) loom::cuda::memcpy(h.data(), kCPU(), d, Device(DeviceType::CUDA, 0), n * sizeof(T));
  return h;
}

// n elements of T in device memory of cuda:0, from loom's caching allocator;
// freed when the last copy of the DevBuf goes. 16 bytes of slack past the end
// let a test start a kernel's operand one element in.
template <typename T>
class DevBuf {
 public:
  // n zeros.
  explicit DevBuf(size_t n) : DevBuf(std::vector<T>(n)) {}
  // A device copy of h.
  explicit DevBuf(const std::vector<T>& h)
      : mem_(loom::cuda::allocate(std::max<size_t>(h.size(), 1) * sizeof(T) + 16, 0)), n_(h.size()) {
    if (n_) loom::cuda::memcpy(mem_.get(), Device(DeviceType::CUDA, 0), h.data(), kCPU(), n_ * sizeof(T));
  }

  T* get() const { return static_cast<T*>(mem_.get()); }
  size_t size() const { return n_; }
  // Every element, after the work queued on the current stream.
  std::vector<T> host() const { return to_host<T>(get(), n_); }

 private:
  std::shared_ptr<void> mem_;
  size_t n_;
};

// A device copy of h.
template <typename T>
DevBuf<T> to_device(const std::vector<T>& h) {
  return DevBuf<T>(h);
}

// The first n elements of buffer d read as U.
template <typename U, typename T>
std::vector<U> to_host(const DevBuf<T>& d, size_t n) {
  return to_host<U>(static_cast<const void*>(d.get()), n);
}

}  // namespace loom::test

#endif  // LOOM_WITH_CUDA
