// Finite-difference gradient checks (float64), as torch.autograd.gradcheck:
// compares the analytical Jacobian (one backward per output element) with
// central differences (one forward per input element).
#pragma once
#include <functional>
#include <string>
#include "core/tensor.h"

namespace loom::autograd {

struct GradcheckResult {
  bool ok = true;
  std::string message;  // first mismatch: input, output, element, numeric, analytic
};

using TensorFn = std::function<Tensor(const TensorList&)>;

// Inputs that require grad are perturbed; they must be float64 CPU tensors.
GradcheckResult gradcheck(const TensorFn& fn, const TensorList& inputs, double eps = 1e-6, double atol = 1e-5,
                          double rtol = 1e-3);

}  // namespace loom::autograd
