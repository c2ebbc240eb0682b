// Checks the extension op swish_scaled against the same math composed from
// loom's own ops: forward values and input gradients on the CPU, a float64
// finite-difference gradcheck, then values and gradients on the GPU when there
// is one (otherwise it says why the CUDA part is skipped). Prints
// "extension ok" and returns 0; returns 1 on any mismatch or error.
#include <cstdio>
#include <exception>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/node.h"  // grad_fn()->name()
#include "core/tensor.h"
#include "swish_scaled.h"

using loom::Tensor;

namespace {

constexpr double kAlpha = 1.7;

// Largest |a - b| relative to 1 + |b|: values reach about 15 here.
double max_rel_diff(const Tensor& a, const Tensor& b) { return ((a - b).abs() / (b.abs() + 1.0)).max().item<double>(); }

bool compare_with_loom_ops(loom::Device device, const char* label) {
  // A transposed view: the op must accept a non-contiguous input and route
  // the gradient back through the view.
  Tensor base = (loom::randn({37, 5}) * 3.0).to(device);
  Tensor x = base.detach().requires_grad_();
  Tensor x_ref = base.detach().requires_grad_();
  Tensor y = ext::swish_scaled(x.t(), kAlpha);
  Tensor y_ref = x_ref.t() * x_ref.t().sigmoid() * kAlpha;
  Tensor w = loom::randn(y.sizes()).to(device);  // an upstream gradient that is not all ones
  (y * w).sum().backward();
  (y_ref * w).sum().backward();
  const double fwd = max_rel_diff(y, y_ref), bwd = max_rel_diff(x.grad(), x_ref.grad());
  const bool ok = fwd < 1e-5 && bwd < 1e-5 && y.grad_fn()->name() == "SwishScaledBackward";
  std::printf("%s float32: forward max rel diff %.1e, gradient max rel diff %.1e: %s\n", label, fwd, bwd,
              ok ? "ok" : "MISMATCH");
  return ok;
}

bool gradcheck_cpu() {
  Tensor x = loom::randn({3, 4}, loom::DType::Float64).requires_grad_();
  auto r = loom::autograd::gradcheck([](const loom::TensorList& in) { return ext::swish_scaled(in[0], kAlpha); }, {x});
  std::printf("cpu float64 gradcheck: %s\n", r.ok ? "ok" : r.message.c_str());
  return r.ok;
}

}  // namespace

int main() {
  try {
    loom::manual_seed(0);
    bool ok = compare_with_loom_ops(loom::Device(), "cpu") && gradcheck_cpu();
    const std::string why_not = ext::cuda_unavailable_reason();
    if (!why_not.empty()) std::printf("cuda: skipped (%s)\n", why_not.c_str());
    else ok = ok && compare_with_loom_ops(loom::Device(loom::DeviceType::CUDA, 0), "cuda");
    if (!ok) return 1;
    std::printf("extension ok\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swish_extension: %s\n", e.what());
    return 1;
  }
}
