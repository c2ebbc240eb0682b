// SPEC.md's loss case:
//   GPU  softmax_xent/fp32/fwdbwd/N8192_V4096   bytes 2·N·V·4: mean
//        cross-entropy of logits [N, V] with integer labels, forward and
//        backward; twice: impl "loom_composed" (composed::cross_entropy,
//        log_softmax + gather + mean, with peak_mib), then impl "loom" (the
//        fused loom::cross_entropy)
// No CPU cases are specified for this family. 50 iterations after 10 warm-up
// ones; leaves keep accumulating into .grad across iterations, as in the
// PyTorch reference. And loom's own, a CPU case and its GPU twin:
//   [cpu/]loss/fp32/ctc_fwdbwd/T128_N32_C40_S24
//       F.ctc_loss of log-probabilities [128, 32, 40] against padded targets
//       [32, 24] (labels 1..39, target lengths 12..24, input lengths
//       96..128), mean reduction, and the gradient of the log-probabilities
//       through autograd::grad; GB/s of the log-probabilities read twice and
//       the gradient written (benchmarks/torch_cpu_extra.py times PyTorch's).
#include <string>

#include "autograd/engine.h"
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

void ctc_case(const Context& ctx, bool gpu) {
  const std::string name = std::string(gpu ? "" : "cpu/") + "loss/fp32/ctc_fwdbwd/T128_N32_C40_S24";
  ctx.run(name, [&] {
    const int64_t T = 128, N = 32, C = 40, S = 24;
    const loom::TensorOptions opts(gpu ? loom::Device("cuda:0") : loom::Device());
    Tensor lp = loom::randn({T, N, C}, opts).log_softmax(2).detach().requires_grad_(true);
    Tensor targets = loom::randint(1, C, {N, S}, loom::TensorOptions(loom::DType::Int64, opts.device));
    loom::Dims il(N), tl(N);
    for (int64_t n = 0; n < N; ++n) il[n] = T - (n * 7) % 33, tl[n] = S - (n * 5) % 13;
    timed_on(
        ctx, gpu, name, [&] { loom::autograd::grad({loom::ctc_loss(lp, targets, il, tl)}, {lp}); }, 0,
        3.0 * 4 * T * N * C);
  });
}

}  // namespace

void run_loss_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "loss");  // the registry's cases of the family (registry.cpp)
  ctc_case(ctx, gpu);
  if (gpu) {
    gpu_composed(ctx);
    gpu_cases(ctx);
  }
}

}  // namespace bench
