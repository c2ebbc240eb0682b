// CPU fused optimizer updates (kernels/cpu/optim.cpp), one contiguous tensor
// per call, in place; the CUDA twin (kernels/cuda/optim.h) updates a list of
// tensors in one launch. PyTorch's formulas (torch.optim.SGD / Adam / AdamW,
// foreach=False, capturable=False).
#pragma once
#include <cstdint>
#include "core/dtype.h"

namespace loom::kernels::cpu {

// d = g + wd * p; buf = first_step ? d : momentum * buf + (1 - dampening) * d;
// d = nesterov ? d + momentum * buf : buf (when momentum != 0); p -= lr * d.
// buf may be null when momentum == 0.
void sgd_step(DType dt, void* param, const void* grad, void* buf, int64_t n, double lr, double momentum,
              double dampening, bool nesterov, double weight_decay, bool first_step);

// decoupled (AdamW): p *= 1 - lr * wd; else g += wd * p.
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), bc_i = 1 - b_i^step.
void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, int64_t n, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step);

}  // namespace loom::kernels::cpu
