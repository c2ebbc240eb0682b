#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/node.h"

namespace loom::autograd {

GradcheckResult gradcheck(const TensorFn& fn, const TensorList& inputs, double eps, double atol, double rtol) {
  for (auto& in : inputs)
    if (in.defined() && in.requires_grad())
      LOOM_CHECK(in.dtype() == DType::Float64 && in.device().is_cpu() && in.is_leaf(),
                 "gradcheck: inputs that require grad must be float64 CPU leaves (got ", dtype_name(in.dtype()), " on ",
                 in.device().str(), ")");
  Tensor out0 = fn(inputs);
  LOOM_CHECK(out0.dtype() == DType::Float64, "gradcheck: the function must return float64");
  const int64_t n_out = out0.numel();
  GradcheckResult result;

  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    const int64_t n_in = x.numel();
    // Numerical Jacobian column by column (central differences), perturbing
    // the input's storage in place so views inside fn see it.
    std::vector<double> numeric(n_in * n_out), analytic(n_in * n_out, 0.0);
    {
      NoGradGuard ng;
      Tensor flat = x.detach();
      for (int64_t i = 0; i < n_in; ++i) {
        // Address element i of x in logical (row-major) order.
        int64_t rem = i, off = 0;
        for (int64_t d = x.dim() - 1; d >= 0; --d) {
          off += (rem % x.sizes()[d]) * x.strides()[d];
          rem /= x.sizes()[d];
        }
        double* p = static_cast<double*>(flat.data_ptr()) + off;
        const double orig = *p;
        *p = orig + eps;
        auto plus = fn(inputs).to_vector();
        *p = orig - eps;
        auto minus = fn(inputs).to_vector();
        *p = orig;
        for (int64_t j = 0; j < n_out; ++j) numeric[j * n_in + i] = (plus[j] - minus[j]) / (2 * eps);
      }
    }
    // Analytical Jacobian row by row: backward of each output element.
    for (int64_t j = 0; j < n_out; ++j) {
      Tensor out = fn(inputs);
      LOOM_CHECK(out.requires_grad(), "gradcheck: the output does not require grad");
      Tensor seed = zeros(out.sizes(), TensorOptions(DType::Float64));
      static_cast<double*>(seed.data_ptr())[j] = 1.0;
      auto g = autograd::grad({out}, {x}, {seed}, false, false, true)[0];
      if (!g.defined()) continue;
      auto gv = g.contiguous().to_vector();
      for (int64_t i = 0; i < n_in; ++i) analytic[j * n_in + i] = gv[i];
    }
    for (int64_t j = 0; j < n_out; ++j)
      for (int64_t i = 0; i < n_in; ++i) {
        double a = analytic[j * n_in + i], nm = numeric[j * n_in + i];
        if (!(std::fabs(a - nm) <= atol + rtol * std::fabs(nm))) {
          std::ostringstream os;
          os << "gradcheck: Jacobian mismatch for input " << k << ", output element " << j << ", input element " << i
             << ": numerical " << nm << " vs analytical " << a;
          result.ok = false;
          result.message = os.str();
          return result;
        }
      }
  }
  return result;
}

}  // namespace loom::autograd
