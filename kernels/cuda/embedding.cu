// Embedding backward (kernels/embedding.h): one thread per (index, column)
// in a grid-stride loop: consecutive threads take consecutive columns of one
// gradient row (coalesced reads) and atomicAdd into the weight row; repeated
// indices collide only on equal rows. The order of the additions is not
// deterministic (the CPU twin is).
#include "kernels/cuda/common.cuh"
#include "kernels/embedding.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
__global__ void embedding_backward_kernel(T* __restrict__ dw, const T* __restrict__ g,
                                          const int64_t* __restrict__ index, int64_t n, int64_t V, int64_t D,
                                          int64_t pad) {
  const int64_t total = n * D;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t i = e / D, j = e - i * D;
    const int64_t row = index[i];
    if (row < 0 || row >= V || row == pad) continue;
    atomicAdd(dw + row * D + j, g[e]);
  }
}

}  // namespace

void embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n, int64_t num_weights,
                        int64_t D, int64_t padding_idx, cudaStream_t stream) {
  if (n <= 0 || D <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "embedding_backward", [&] {
    embedding_backward_kernel<scalar_t><<<grid_for(n * D), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(dweight), static_cast<const scalar_t*>(grad), index, n, num_weights, D, padding_idx);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
