// Cases of the activation family (kernels/activation.h): the registry's forward case of each op
// (registry.cpp: cpu/activation/fp32/<op>/1024x1024, inputs uniform in the sample range [-4, 4)) and, per op, the
// forward and backward on a 1024 x 1024 fp32 x uniform in [-4, 4) requiring grad, the backward through autograd::grad
// with a fixed output gradient (so no .grad accumulation is timed):
//   cpu/activation/fp32/<op>_fwdbwd/1024x1024      activation/fp32/<op>_fwdbwd/1024x1024
// Reported in GB/s of the minimum traffic, 20 bytes per element: the forward reads x and writes y, the
// backward reads the gradient and x and writes dx. CPU: 2 threads, 10 iterations after 2 warm-up ones;
// GPU: 50 after 10, with peak_mib. PyTorch's side of the CPU cases: benchmarks/torch_cpu_extra.py.
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/activation.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void fwdbwd_cases(const Context& ctx, bool gpu) {
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> ops = {
      {"leaky_relu", [](const Tensor& x) { return loom::leaky_relu(x, 0.2); }},
      {"elu", [](const Tensor& x) { return loom::elu(x); }},
      {"selu", [](const Tensor& x) { return loom::selu(x); }},
      {"softplus", [](const Tensor& x) { return loom::softplus(x); }},
      {"hardtanh", [](const Tensor& x) { return loom::hardtanh(x); }},
      {"hardsigmoid", [](const Tensor& x) { return loom::hardsigmoid(x); }},
      {"hardswish", [](const Tensor& x) { return loom::hardswish(x); }},
      {"mish", [](const Tensor& x) { return loom::mish(x); }},
      {"logsigmoid", [](const Tensor& x) { return loom::logsigmoid(x); }},
      {"softsign", [](const Tensor& x) { return loom::softsign(x); }},
      {"tanhshrink", [](const Tensor& x) { return loom::tanhshrink(x); }},
      {"hardshrink", [](const Tensor& x) { return loom::hardshrink(x); }},
      {"softshrink", [](const Tensor& x) { return loom::softshrink(x); }},
      {"threshold", [](const Tensor& x) { return loom::threshold(x, 0.5, -3.0); }},
      // The pointwise family's activations, whose backward are the fused binary ops (BinaryOp::SigmoidBackward...).
      {"sigmoid", [](const Tensor& x) { return x.sigmoid(); }},
      {"tanh", [](const Tensor& x) { return x.tanh(); }},
      {"silu", [](const Tensor& x) { return x.silu(); }},
      {"gelu", [](const Tensor& x) { return x.gelu(); }},
      {"gelu_tanh", [](const Tensor& x) { return x.gelu("tanh"); }},
  };
  const std::string prefix = gpu ? "activation/fp32/" : "cpu/activation/fp32/";
  std::vector<std::string> names;
  for (const auto& op : ops) names.push_back(prefix + op.first + "_fwdbwd/1024x1024");
  if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return ctx.want(n); })) return;
  const loom::Device dev = gpu ? current_gpu() : loom::Device();
  const int64_t N = 1024 * 1024;
  Tensor x = (loom::rand({1024, 1024}, loom::TensorOptions(dev)) * 8.0 - 4.0).requires_grad_(true);
  Tensor g = loom::randn({1024, 1024}, loom::TensorOptions(dev));
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& f = ops[i].second;
    ctx.run(names[i], [&] {
      timed_on(
          ctx, gpu, names[i], [&] { loom::autograd::grad({f(x)}, {x}, {g}); }, 0, 20.0 * N);
    });
  }
}

}  // namespace

void run_activation_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "activation");  // the registry's forward cases (registry.cpp)
  fwdbwd_cases(ctx, gpu);
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
