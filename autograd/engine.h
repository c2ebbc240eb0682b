// The backward engine. Iterative (no recursion): dependency counts are
// computed with an explicit stack, then nodes run from a ready queue ordered
// by sequence number, so a chain of 100,000 ops backpropagates in constant
// stack space.
#pragma once
#include "autograd/node.h"

namespace loom::autograd {

// Runs backward from `roots` seeded with `grad_roots` (a defined gradient for
// each root; ones for scalars are filled by Tensor::backward). Accumulates
// into leaves' .grad.
void backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph = false,
              bool create_graph = false);

// Returns d(outputs)/d(inputs) without touching any .grad. An input that the
// outputs do not depend on raises unless allow_unused (then undefined).
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs = {},
                bool retain_graph = false, bool create_graph = false, bool allow_unused = false);

}  // namespace loom::autograd
