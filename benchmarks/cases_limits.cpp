// Not a family: the cases that bound the others, for reading their numbers.
//   GPU  ceiling/copy/1GiB (SPEC.md): a device-to-device copy, the bandwidth
//        ceiling of the memory-bound cases (bytes 2 x 1 GiB; 20 iterations
//        after 5 warm-up ones, as torch_reference.py)
//        dispatch/fp32/add_1elem_x1000 (not a SPEC case): 1000 one-element
//        adds per iteration, timed with events, so ms is microseconds per op:
//        the eager dispatch cost (PyTorch: ~9.4 µs)
//   CPU  cpu/dispatch/fp32/add_1elem_x1000[_requires_grad] (not a SPEC case):
//        the fixed cost of one eager op (1-element add, no grad, then with an
//        input that requires grad), which bounds every composed case made of
//        many small ops (LSTM steps)
#include <string>

#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void cpu_dispatch(const Context& ctx) {
  const std::string name = "cpu/dispatch/fp32/add_1elem_x1000";
  ctx.run(name, [&] {
    Tensor a = loom::ones({1}), b = loom::ones({1});
    double ms = time_cpu(
        [&] {
          for (int i = 0; i < 1000; ++i) Tensor c = a.add(b);
        },
        ctx.iters_or(kCpuIters), kCpuWarmup);
    ctx.report(name, ms, 0, 0, cpu_extra().num("us_per_op", ms));
    a.requires_grad_(true);
    ms = time_cpu(
        [&] {
          for (int i = 0; i < 1000; ++i) Tensor c = a.add(b);
        },
        ctx.iters_or(kCpuIters), kCpuWarmup);
    ctx.report(name + "_requires_grad", ms, 0, 0, cpu_extra().num("us_per_op", ms));
  });
}

void ceiling(const Context& ctx) {
  ctx.run("ceiling/copy/1GiB", [&] {
    Tensor x = loom::randn({256LL * 1024 * 1024}, on_gpu());
    Tensor y = loom::empty_like(x);
    const double ms = time_gpu([&] { y.copy_(x); }, ctx.iters_or(20), 5);
    ctx.report("ceiling/copy/1GiB", ms, 0, 2.0 * x.nbytes());
  });
  loom::cuda::empty_cache();
}

void gpu_dispatch(const Context& ctx) {
  const std::string name = "dispatch/fp32/add_1elem_x1000";
  ctx.run(name, [&] {
    Tensor a = loom::ones({1}, on_gpu()), b = loom::ones({1}, on_gpu());
    const double ms = time_gpu(
        [&] {
          for (int i = 0; i < 1000; ++i) Tensor c = a.add(b);
        },
        ctx.iters_or(20), 5);
    ctx.report(name, ms, 0, 0, Row().num("us_per_op", ms));
  });
}

}  // namespace

void run_limits_cases(const Context& ctx, bool gpu) {
  if (gpu) {
    ceiling(ctx);
    gpu_dispatch(ctx);
  } else {
    cpu_dispatch(ctx);
  }
}

}  // namespace bench
