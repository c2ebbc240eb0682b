// Cases of the optim family (kernels/optim.h), a CPU case and its GPU twin:
// one AdamW step (lr 1e-3, betas 0.9 / 0.999, eps 1e-8, weight decay 1e-2)
// through loom::adam_step_, the fused update behind optim::Adam and AdamW,
// over P = 8,396,800 fp32 parameters in T = 16 tensors: 8 Linear(1024, 1024)
// layers, each a weight [1024, 1024] and a bias [1024] (the weights make the
// bulk, the biases the small tensors a model also has):
//   cpu/optim/fp32/adamw_step/P8396800_T16   optim/fp32/adamw_step/P8396800_T16
// Reported in GB/s of the minimum traffic: per parameter, param, grad,
// exp_avg and exp_avg_sq read and param, exp_avg and exp_avg_sq written,
// 7·4 bytes, 28·P in all. The step count advances with every call (the bias
// corrections change, the work does not). CPU: 2 threads, 10 iterations after
// 2 warm-up ones; GPU: 50 after 10, with peak_mib.
#include <string>

#include "autograd/ops/optim.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void cases(const Context& ctx, bool gpu) {
  const std::string name = std::string(gpu ? "" : "cpu/") + "optim/fp32/adamw_step/P8396800_T16";
  ctx.run(name, [&] {
    const loom::TensorOptions opts(gpu ? current_gpu() : loom::Device());
    const int64_t layers = 8, width = 1024;
    loom::TensorList params, grads, exp_avgs, exp_avg_sqs;
    int64_t P = 0;
    for (int64_t l = 0; l < layers; ++l) {
      for (const loom::Shape& s : {loom::Shape{width, width}, loom::Shape{width}}) {
        params.push_back(loom::randn(s, opts) * 0.02);
        grads.push_back(loom::randn(s, opts) * 1e-3);
        exp_avgs.push_back(loom::zeros(s, opts));
        exp_avg_sqs.push_back(loom::zeros(s, opts));
        P += params.back().numel();
      }
    }
    int64_t step = 0;
    timed_on(
        ctx, gpu, name,
        [&] { loom::adam_step_(params, grads, exp_avgs, exp_avg_sqs, ++step, 1e-3, 0.9, 0.999, 1e-8, 1e-2, true); }, 0,
        28.0 * P, Row().integer("params", P).integer("tensors", int64_t(params.size())));
  });
}

}  // namespace

void run_optim_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "optim");  // the registry's cases of the family (registry.cpp)
  cases(ctx, gpu);
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
