// Fused optimizer updates: the contract of kernels/cpu/optim.cpp and
// kernels/cuda/optim.cu (see kernels/contract.h). PyTorch's formulas
// (torch.optim.SGD / Adam / AdamW, foreach=False, capturable=False).
// The CPU kernels update one contiguous tensor per call, in place; the CUDA
// twins update every tensor of a dtype in one launch: the caller builds, in
// device memory, an array of TensorSlot (one per tensor) followed by an array
// of ChunkRef (one per kChunkSize elements of each tensor); block k of the
// launch updates chunk k.
#pragma once
#include <cstdint>
#include "kernels/contract.h"

namespace loom::kernels::cpu {

// d = g + wd * p; buf = first_step ? d : momentum * buf + (1 - dampening) * d;
// d = nesterov ? d + momentum * buf : buf (when momentum != 0); p -= lr * d.
// buf may be null when momentum == 0.
void sgd_step(DType dt, void* param, const void* grad, void* buf, int64_t n, double lr, double momentum,
              double dampening, bool nesterov, double weight_decay, bool first_step);

// decoupled (AdamW): p *= 1 - lr * wd; else g += wd * p.
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), bc_i = 1 - b_i^step.
// amsgrad (max_exp_avg_sq not null): vmax = maximum(vmax, v) (NaN propagates),
// and vmax takes v's place in the denominator.
void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, void* max_exp_avg_sq,
               int64_t n, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled,
               int64_t step);

}  // namespace loom::kernels::cpu

namespace loom::kernels::cuda {

constexpr int kMaxTensorsPerSlot = 5;  // param, grad, state 1, state 2, state 3
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
// ptr = {param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad; null otherwise)}.
void adam_step_multi(DType dt, const TensorSlot* slots, const ChunkRef* chunks, int64_t nchunks, double lr,
                     double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step,
                     cudaStream_t stream);

}  // namespace loom::kernels::cuda
