// SPEC.md cases of the norm family with loom's fused kernels (the composed
// versions stay in cpu_cases.cpp / gpu_cases.cpp as the baseline):
//   GPU  layernorm/fp32/{fwd,fwdbwd}/N8192_D1024   bytes 2·N·D·4 / 5·N·D·4
//        softmax_xent/fp32/fwdbwd/N8192_V4096      bytes 2·N·V·4
//   CPU  cpu/layernorm/fp32/fwdbwd/N4096_D1024     (2 threads; gbps from 5·N·D·4)
// Same warm-up / iteration counts as the other case files; leaves keep
// accumulating into .grad across iterations, as in the PyTorch reference.
#include <string>

#include "autograd/ops/loss.h"
#include "autograd/ops/norm.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

const Row kFused = Row().str("impl_note", "fused");

void gpu_cases(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  const auto leaf = loom::TensorOptions(dev).with_requires_grad(true);
  const int64_t N = 8192, D = 1024;
  const std::string fwd = "layernorm/fp32/fwd/N8192_D1024", fwdbwd = "layernorm/fp32/fwdbwd/N8192_D1024";
  if (ctx.want(fwd) || ctx.want(fwdbwd)) {
    Tensor x = loom::randn({N, D}, leaf);
    Tensor w = loom::ones({D}, leaf), b = loom::zeros({D}, leaf);
    Tensor g = loom::randn({N, D}, loom::TensorOptions(dev));
    ctx.run(fwd, [&] {
      double ms = time_gpu([&] { Tensor y = loom::layer_norm(x, {D}, w, b); }, ctx.iters_or(kIters), kWarmup);
      ctx.report(fwd, ms, 0, 2.0 * N * D * 4, kFused);
    });
    ctx.run(fwdbwd, [&] {
      double ms = time_gpu([&] { loom::layer_norm(x, {D}, w, b).backward(g); }, ctx.iters_or(kIters), kWarmup);
      ctx.report(fwdbwd, ms, 0, 5.0 * N * D * 4, kFused);
    });
  }
  const std::string xent = "softmax_xent/fp32/fwdbwd/N8192_V4096";
  ctx.run(xent, [&] {
    const int64_t V = 4096;
    Tensor logits = loom::randn({N, V}, leaf);
    Tensor labels = loom::randint(0, V, {N}, loom::TensorOptions(loom::DType::Int64, dev));
    double ms = time_gpu([&] { loom::cross_entropy(logits, labels).backward(); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(xent, ms, 0, 2.0 * N * V * 4, kFused);
  });
}

void cpu_cases(const Context& ctx) {
  constexpr int kWarmup = 2, kIters = 10;
  const std::string name = "cpu/layernorm/fp32/fwdbwd/N4096_D1024";
  ctx.run(name, [&] {
    const int64_t N = 4096, D = 1024;
    const auto leaf = loom::TensorOptions().with_requires_grad(true);
    Tensor x = loom::randn({N, D}, leaf);
    Tensor w = loom::ones({D}, leaf), b = loom::zeros({D}, leaf);
    Tensor g = loom::randn({N, D});
    double ms = time_cpu([&] { loom::layer_norm(x, {D}, w, b).backward(g); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(name, ms, 0, 5.0 * N * D * 4, Row().merge(kFused).integer("threads", loom::get_num_threads()));
  });
}

}  // namespace

void run_norm_cases(const Context& ctx, bool gpu) {
  if (gpu) gpu_cases(ctx);
  else cpu_cases(ctx);
}

}  // namespace bench
