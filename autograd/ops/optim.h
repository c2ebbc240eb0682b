// Fused multi-tensor optimizer updates (the kernels behind loom's SGD, Adam
// and AdamW), implemented in autograd/ops/optim.cpp. They modify params and
// state buffers in place under no-grad. PyTorch's update formulas
// (torch.optim.SGD / Adam / AdamW with foreach=False, capturable=False).
#pragma once
#include "core/tensor.h"

namespace loom {

// d = g + weight_decay * p; with momentum != 0: buf = first_step ? d :
// momentum * buf + (1 - dampening) * d and d = nesterov ? d + momentum * buf :
// buf; p -= lr * d. momentum_buffers may be empty when momentum == 0.
void sgd_step_(TensorList params, TensorList grads, TensorList momentum_buffers, double lr, double momentum,
               double dampening, bool nesterov, double weight_decay, bool first_step);

// step is the 1-based step count after this update (bias corrections
// 1 - beta^step). decoupled selects AdamW's weight decay (p *= 1 - lr * wd)
// instead of Adam's L2 term (g += wd * p). amsgrad keeps in max_exp_avg_sqs
// (one per parameter, required then) the running maximum of exp_avg_sq, which
// takes its place in the denominator (PyTorch's AMSGrad).
void adam_step_(TensorList params, TensorList grads, TensorList exp_avgs, TensorList exp_avg_sqs, int64_t step,
                double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled,
                bool amsgrad = false, TensorList max_exp_avg_sqs = {});

}  // namespace loom
