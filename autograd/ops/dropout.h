// Dropout (torch.nn.functional.dropout), autograd/ops/dropout.cpp.
#pragma once
#include "core/tensor.h"

namespace loom {

// training: zeroes each element with probability p and scales the rest by
// 1 / (1 - p); the mask comes from the counter-based Philox generator at a
// reserved (seed, offset) and is regenerated in backward, never stored.
// Not training (or p == 0): returns input unchanged.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);

}  // namespace loom
