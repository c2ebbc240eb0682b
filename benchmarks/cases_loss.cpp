// SPEC.md's loss case:
//   GPU  softmax_xent/fp32/fwdbwd/N8192_V4096   bytes 2·N·V·4: mean
//        cross-entropy of logits [N, V] with integer labels, forward and
//        backward; twice: impl "loom_composed" (composed::cross_entropy,
//        log_softmax + gather + mean, with peak_mib), then impl "loom" (the
//        fused loom::cross_entropy)
// No CPU cases are specified for this family. 50 iterations after 10 warm-up
// ones; leaves keep accumulating into .grad across iterations, as in the
// PyTorch reference.
#include <string>

#include "autograd/ops/loss.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

const Row kFused = Row().str("impl_note", "fused");

void gpu_composed(const Context& ctx) {
  const int64_t N = 8192;
  const std::string xent = "softmax_xent/fp32/fwdbwd/N8192_V4096";
  ctx.run(xent, [&] {
    const int64_t V = 4096;
    Tensor logits = loom::randn({N, V}, on_gpu(true));
    Tensor labels = loom::randint(0, V, {N}, loom::TensorOptions(loom::DType::Int64, current_gpu()));
    timed(
        ctx, xent, [&] { composed::cross_entropy(logits, labels).backward(); }, 0, 2.0 * N * V * 4, kGpuIters,
        kGpuWarmup, Row(), kComposed);
  });
}

void gpu_cases(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const auto leaf = loom::TensorOptions(dev).with_requires_grad(true);
  const int64_t N = 8192;
  const std::string xent = "softmax_xent/fp32/fwdbwd/N8192_V4096";
  ctx.run(xent, [&] {
    const int64_t V = 4096;
    Tensor logits = loom::randn({N, V}, leaf);
    Tensor labels = loom::randint(0, V, {N}, loom::TensorOptions(loom::DType::Int64, dev));
    double ms = time_gpu([&] { loom::cross_entropy(logits, labels).backward(); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(xent, ms, 0, 2.0 * N * V * 4, kFused);
  });
}

}  // namespace

void run_loss_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "loss");  // the registry's cases of the family (registry.cpp)
  if (gpu) {
    gpu_composed(ctx);
    gpu_cases(ctx);
  }
}

}  // namespace bench
