// swish_scaled's CUDA kernels: y = alpha x s and dx = dy alpha s (1 + x (1 - s)),
// s = sigmoid(x), over n contiguous elements, one grid-stride loop each.
// They launch on the stream loom hands out for the tensor's device
// (loom::cuda::current_stream), so they are ordered with loom's own kernels on
// that stream without any synchronization. loom's installed kernel helpers
// (kernels/cuda/common.cuh) size the grid and check every launch.
#include <cuda_runtime.h>

#include "kernels/cuda/common.cuh"
#include "swish_scaled.h"

namespace ext {

namespace {

using loom::kernels::cuda::grid_for;
using loom::kernels::cuda::kThreads;

__device__ inline float sigmoid_of(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ inline double sigmoid_of(double x) { return 1.0 / (1.0 + exp(-x)); }

template <typename T>
__global__ void swish_scaled_forward_kernel(T* y, const T* x, T alpha, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = alpha * x[i] * sigmoid_of(x[i]);
}

template <typename T>
__global__ void swish_scaled_backward_kernel(T* dx, const T* dy, const T* x, T alpha, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    T s = sigmoid_of(x[i]);
    dx[i] = dy[i] * alpha * s * (T(1) + x[i] * (T(1) - s));
  }
}

}  // namespace

void swish_scaled_forward_cuda(loom::DType dtype, void* y, const void* x, double alpha, int64_t n, void* stream) {
  if (n == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  if (dtype == loom::DType::Float32)
    swish_scaled_forward_kernel<<<grid_for(n), kThreads, 0, s>>>(static_cast<float*>(y), static_cast<const float*>(x),
                                                                 static_cast<float>(alpha), n);
  else
    swish_scaled_forward_kernel<<<grid_for(n), kThreads, 0, s>>>(static_cast<double*>(y), static_cast<const double*>(x),
                                                                 alpha, n);
  LOOM_CUDA_KERNEL_CHECK();
}

void swish_scaled_backward_cuda(loom::DType dtype, void* dx, const void* dy, const void* x, double alpha, int64_t n,
                                void* stream) {
  if (n == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  if (dtype == loom::DType::Float32)
    swish_scaled_backward_kernel<<<grid_for(n), kThreads, 0, s>>>(
        static_cast<float*>(dx), static_cast<const float*>(dy), static_cast<const float*>(x), static_cast<float>(alpha),
        n);
  else
    swish_scaled_backward_kernel<<<grid_for(n), kThreads, 0, s>>>(
        static_cast<double*>(dx), static_cast<const double*>(dy), static_cast<const double*>(x), alpha, n);
  LOOM_CUDA_KERNEL_CHECK();
}

std::string cuda_unavailable_reason() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // clear it: loom's next CUDA call must not see it
    return std::string("no GPU: cudaGetDeviceCount: ") + cudaGetErrorString(err);
  }
  return count == 0 ? "no GPU: cudaGetDeviceCount returned 0 devices" : "";
}

}  // namespace ext
