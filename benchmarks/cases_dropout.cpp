// Cases of the dropout family (kernels/dropout.h), a CPU case and its GPU
// twin each: loom::dropout(x, p = 0.1, training) on an fp32 x of
// N = 16,777,216 (16M) elements:
//   cpu/dropout/fp32/fwd/N16777216_p0.1      dropout/fp32/fwd/N16777216_p0.1
//   cpu/dropout/fp32/fwdbwd/N16777216_p0.1   dropout/fp32/fwdbwd/N16777216_p0.1
// Reported in GB/s of the minimum traffic: fwd 2·N·4 (x read, y written; the
// mask is drawn from Philox, not stored); fwdbwd 4·N·4 (the forward, then the
// backward reading the output gradient and writing dx with the same mask).
// fwd runs with x requiring grad (the graph is recorded, as in training); the
// backward goes through autograd::grad with a fixed output gradient, so no
// .grad accumulation is timed. CPU: 2 threads, 10 iterations after 2 warm-up
// ones; GPU: 50 after 10, with peak_mib.
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/dropout.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void cases(const Context& ctx, bool gpu) {
  const std::string prefix = gpu ? "dropout/fp32/" : "cpu/dropout/fp32/";
  const int64_t N = int64_t(1) << 24;
  const double p = 0.1;
  const std::string tag = "/N" + std::to_string(N) + "_p0.1";
  const std::string fwd = prefix + "fwd" + tag, fwdbwd = prefix + "fwdbwd" + tag;
  if (!any_wanted(ctx, {fwd, fwdbwd})) return;
  const loom::Device dev = gpu ? current_gpu() : loom::Device();
  Tensor x = loom::randn({N}, loom::TensorOptions(dev).with_requires_grad(true));
  Tensor g = loom::randn({N}, loom::TensorOptions(dev));
  ctx.run(fwd, [&] {
    timed_on(
        ctx, gpu, fwd, [&] { Tensor y = loom::dropout(x, p, true); }, 0, 2.0 * N * 4);
  });
  ctx.run(fwdbwd, [&] {
    timed_on(
        ctx, gpu, fwdbwd, [&] { loom::autograd::grad({loom::dropout(x, p, true)}, {x}, {g}); }, 0, 4.0 * N * 4);
  });
}

}  // namespace

void run_dropout_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "dropout");  // the registry's cases of the family (registry.cpp)
  cases(ctx, gpu);
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
