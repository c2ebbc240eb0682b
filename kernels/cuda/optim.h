// CUDA multi-tensor optimizer updates (kernels/cuda/optim.cu), the twins of
// kernels/cpu/optim.h: one launch updates every tensor of a dtype.
// The caller builds, in device memory, an array of TensorSlot (one per
// tensor) followed by an array of ChunkRef (one per kChunkSize elements of
// each tensor); block k of the launch updates chunk k.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"

namespace loom::kernels::cuda {

constexpr int kMaxTensorsPerSlot = 4;  // param, grad, state 1, state 2
constexpr int64_t kChunkSize = 65536;

struct TensorSlot {
  void* ptr[kMaxTensorsPerSlot];  // param, grad, then the state buffers (null when unused)
  int64_t numel;
};
struct ChunkRef {
  int32_t slot;
  int32_t unused;
  int64_t start;
};

// ptr = {param, grad, momentum_buffer (may be null when momentum == 0)}.
void sgd_step_multi(DType dt, const TensorSlot* slots, const ChunkRef* chunks, int64_t nchunks, double lr,
                    double momentum, double dampening, bool nesterov, double weight_decay, bool first_step,
                    cudaStream_t stream);
// ptr = {param, grad, exp_avg, exp_avg_sq}.
void adam_step_multi(DType dt, const TensorSlot* slots, const ChunkRef* chunks, int64_t nchunks, double lr,
                     double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step,
                     cudaStream_t stream);

}  // namespace loom::kernels::cuda
