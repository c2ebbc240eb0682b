// Embedding backward and dropout; CPU twins in kernels/cpu/loss.cpp and
// kernels/cpu/norm.cpp.
//   embedding_backward  one thread per (index, column) in a grid-stride loop:
//                       consecutive threads take consecutive columns of one
//                       gradient row (coalesced reads) and atomicAdd into the
//                       weight row; repeated indices collide only on equal
//                       rows. Order of the additions is not deterministic
//                       (the CPU twin is).
//   dropout             one thread per Philox block = 4 consecutive elements,
//                       exactly the CPU mapping (element i <- lane i % 4 of
//                       block offset + i / 4), so CPU and CUDA masks agree
//                       bit for bit; backward calls the same kernel on the
//                       gradient with the same (seed, offset).
#include "core/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/embedding_dropout.h"

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

template <typename T>
__global__ void dropout_kernel(T* __restrict__ out, const T* __restrict__ in, int64_t n, float p, T scale,
                               uint64_t seed, uint64_t offset) {
  const int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < nblocks;
       b += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const philox::U4 u = philox::block(seed, offset + static_cast<uint64_t>(b));
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int64_t i = b * 4 + l;
      if (i >= n) break;
      const bool keep = philox::to_unit_float(philox::lane(u, l)) >= p;
      out[i] = keep ? in[i] * scale : T(0);
    }
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

void dropout(DType dt, void* out, const void* in, int64_t n, double p, uint64_t seed, uint64_t offset,
             cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "dropout", [&] {
    const scalar_t scale = p < 1 ? static_cast<scalar_t>(1.0 / (1.0 - p)) : scalar_t(0);
    const int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
    dropout_kernel<scalar_t><<<grid_for(nblocks), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), n, static_cast<float>(p), scale, seed, offset);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
