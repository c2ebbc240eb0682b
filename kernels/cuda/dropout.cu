// Dropout (kernels/dropout.h): one thread per Philox block = 4 consecutive
// elements, exactly the CPU mapping (element i <- lane i % 4 of block
// offset + i / 4), so CPU and CUDA masks agree bit for bit; backward calls
// the same kernel on the gradient with the same (seed, offset).
#include "core/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/dropout.h"

namespace loom::kernels::cuda {

namespace {

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
