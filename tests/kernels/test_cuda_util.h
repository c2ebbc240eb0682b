// Helpers of the raw-pointer CUDA kernel tests (test_cuda_*.cpp): device
// buffers, host copies, the skip without a device, and the iteration spaces
// every elementwise kernel is checked on.
#pragma once
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/cuda.h"
#include "kernels/cuda/kernels.h"

namespace loom::test::cuda {

#define REQUIRE_CUDA()                                                                          \
  do {                                                                                          \
    if (!loom::cuda::is_available())                                                            \
      SKIP("no CUDA device: cudaGetDeviceCount found no usable GPU (no device or no driver)"); \
  } while (0)

inline cudaStream_t stream() { return static_cast<cudaStream_t>(loom::cuda::current_stream(0)); }

// Host buffers hold bool as uint8_t (std::vector<bool> has no data()).
template <typename T>
using host_t = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

// A device copy of h, with 16 bytes of slack so that tests may start a
// buffer at an unaligned element.
template <typename T>
std::shared_ptr<void> to_device(const std::vector<T>& h) {
  auto p = loom::cuda::allocate(h.size() * sizeof(T) + 16, 0);
  loom::cuda::memcpy(p.get(), Device(DeviceType::CUDA, 0), h.data(), kCPU(), h.size() * sizeof(T));
  return p;
}

template <typename T>
std::vector<T> to_host(const void* d, size_t n) {
  std::vector<T> h(n);
  loom::cuda::memcpy(h.data(), kCPU(), d, Device(DeviceType::CUDA, 0), n * sizeof(T));
  return h;
}
template <typename T>
std::vector<T> to_host(const std::shared_ptr<void>& d, size_t n) {
  return to_host<T>(d.get(), n);
}

inline kernels::ElementwiseLoop contiguous_loop(int64_t n, int nops) {
  kernels::ElementwiseLoop L;
  L.ndim = 1;
  L.noperands = nops;
  L.numel = n;
  L.sizes[0] = n;
  for (int op = 0; op < nops; ++op) L.strides[op][0] = 1;
  return L;
}

// [37, 129, 5]: operand 0 (output) contiguous, operand 1 a transposed view of a
// [5, 129, 37] buffer, operand 2 broadcast from [1, 129, 1], operand 3 contiguous.
constexpr int64_t D0 = 37, D1 = 129, D2 = 5, N3 = D0 * D1 * D2;
inline kernels::ElementwiseLoop strided_loop(int nops) {
  kernels::ElementwiseLoop L;
  L.ndim = 3;
  L.noperands = nops;
  L.numel = N3;
  L.sizes[0] = D0, L.sizes[1] = D1, L.sizes[2] = D2;
  const int64_t contig[3] = {D1 * D2, D2, 1}, transposed[3] = {1, D0, D0 * D1}, bcast[3] = {0, 1, 0};
  for (int d = 0; d < 3; ++d) {
    L.strides[0][d] = contig[d];
    if (nops > 1) L.strides[1][d] = transposed[d];
    if (nops > 2) L.strides[2][d] = bcast[d];
    if (nops > 3) L.strides[3][d] = contig[d];
  }
  return L;
}

}  // namespace loom::test::cuda
