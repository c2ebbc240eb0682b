// Cases of the softmax family (kernels/softmax.h), a CPU case and its GPU
// twin each, on x [N, D] = [4096, 1024] fp32 (attention scores of 8 heads of
// 512 tokens, or a classifier of 1,024 classes), over the last dim:
//   cpu/softmax/fp32/fwd/N4096_D1024         softmax/fp32/fwd/N4096_D1024
//   cpu/softmax/fp32/fwdbwd/N4096_D1024      softmax/fp32/fwdbwd/N4096_D1024
//   cpu/softmax/fp32/log_fwdbwd/N4096_D1024  softmax/fp32/log_fwdbwd/N4096_D1024
// Reported in GB/s of the minimum traffic, every operand read once and every
// result written once: fwd 2·N·D·4 (x read, y written); fwdbwd 5·N·D·4 (the
// forward, then the backward reading the output gradient and the saved
// output and writing dx). log_fwdbwd is the same for log_softmax. fwd runs
// with x requiring grad (the graph is recorded, as in training); the backward
// goes through autograd::grad with a fixed output gradient, so no .grad
// accumulation is timed. CPU: 2 threads, 10 iterations after 2 warm-up ones;
// GPU: 50 after 10, with peak_mib. And the registry's forward cases of
// softmax and log_softmax (registry.cpp): cpu/softmax/fp32/<op>/4096x1024.
#include <string>

#include "autograd/engine.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void cases(const Context& ctx, bool gpu) {
  const std::string prefix = gpu ? "softmax/fp32/" : "cpu/softmax/fp32/";
  const int64_t N = 4096, D = 1024;
  const std::string tag = "N4096_D1024";
  const std::string fwd = prefix + "fwd/" + tag, fwdbwd = prefix + "fwdbwd/" + tag,
                    log_fwdbwd = prefix + "log_fwdbwd/" + tag;
  if (!any_wanted(ctx, {fwd, fwdbwd, log_fwdbwd})) return;
  const loom::Device dev = gpu ? current_gpu() : loom::Device();
  Tensor x = loom::randn({N, D}, loom::TensorOptions(dev).with_requires_grad(true));
  Tensor g = loom::randn({N, D}, loom::TensorOptions(dev));
  const double elems = double(N) * D;
  ctx.run(fwd, [&] {
    timed_on(
        ctx, gpu, fwd, [&] { Tensor y = x.softmax(-1); }, 0, 2 * elems * 4);
  });
  ctx.run(fwdbwd, [&] {
    timed_on(
        ctx, gpu, fwdbwd, [&] { loom::autograd::grad({x.softmax(-1)}, {x}, {g}); }, 0, 5 * elems * 4);
  });
  ctx.run(log_fwdbwd, [&] {
    timed_on(
        ctx, gpu, log_fwdbwd, [&] { loom::autograd::grad({x.log_softmax(-1)}, {x}, {g}); }, 0, 5 * elems * 4);
  });
}

}  // namespace

void run_softmax_cases(const Context& ctx, bool gpu) {
  cases(ctx, gpu);
  run_registry_cases(ctx, gpu, "softmax");
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
