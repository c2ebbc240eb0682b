// SPEC.md cases of the norm family with loom's fused kernels (the composed
// versions stay in cpu_cases.cpp / gpu_cases.cpp as the baseline):
//   GPU  layernorm/fp32/{fwd,fwdbwd}/N8192_D1024   bytes 2·N·D·4 / 5·N·D·4
//        softmax_xent/fp32/fwdbwd/N8192_V4096      bytes 2·N·V·4
//   CPU  cpu/layernorm/fp32/fwdbwd/N4096_D1024     (2 threads; gbps from 5·N·D·4)
// and the per-channel reductions (kernels/cuda/channel_reduce.cuh), whose
// gbps compare with ceiling/copy (target: 70 % of it):
//   GPU  channel_sum/fp32/N256_C32_S4096            bytes N·C·S·4 (the conv
//        stem's bias gradient), channel_sum/fp32/N64_C64_S3136 the same:
//        the kernel alone, on a caller's workspace
//        batchnorm/fp32/fwdbwd/N256_C64_H32_W32     bytes 8·N·C·H·W·4: the
//        traffic of the two-pass algorithm every BatchNorm shares (statistics
//        read x; y reads x, writes y; the backward sums read dy, x; dx reads
//        dy, x, writes dx); training mode, affine, running statistics
//        updated as nn.BatchNorm2d does (momentum 0.1); the gradients of x,
//        w, b through autograd::grad, so no .grad accumulation adds traffic.
// Same warm-up / iteration counts as the other case files; leaves keep
// accumulating into .grad across iterations, as in the PyTorch reference.
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/norm.h"
#include "bench.h"
#include "core/cuda.h"
#ifdef LOOM_WITH_CUDA
#include "kernels/cuda/channel_reduce.h"
#endif

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

void channel_cases(const Context& ctx) {
  constexpr int kWarmup = 10, kIters = 50;
  const loom::Device dev(loom::DeviceType::CUDA, loom::cuda::current_device());
  struct Case {
    int64_t N, C, S;
  };
  for (const Case& c : {Case{256, 32, 4096}, Case{64, 64, 3136}}) {
    const std::string name =
        "channel_sum/fp32/N" + std::to_string(c.N) + "_C" + std::to_string(c.C) + "_S" + std::to_string(c.S);
    ctx.run(name, [&] {
#ifdef LOOM_WITH_CUDA
      namespace kg = loom::kernels::cuda;
      Tensor x = loom::randn({c.N, c.C, c.S}, loom::TensorOptions(dev));
      Tensor out = loom::empty({c.C}, loom::TensorOptions(dev));
      const size_t ws_bytes = kg::channel_sum_workspace_bytes(loom::DType::Float32, c.N, c.C, c.S);
      auto ws = ws_bytes ? loom::cuda::allocate(ws_bytes, dev.index) : nullptr;
      auto stream = static_cast<cudaStream_t>(loom::cuda::current_stream(dev.index));
      double ms = time_gpu(
          [&] { kg::channel_sum(loom::DType::Float32, out.data_ptr(), x.data_ptr(), c.N, c.C, c.S, ws.get(), stream); },
          ctx.iters_or(kIters), kWarmup);
      ctx.report(name, ms, 0, 4.0 * c.N * c.C * c.S, Row().integer("workspace_bytes", ws_bytes));
#else
      ctx.skip(name, "loom was built without CUDA");
#endif
    });
  }
  const std::string bn = "batchnorm/fp32/fwdbwd/N256_C64_H32_W32";
  ctx.run(bn, [&] {
    const int64_t N = 256, C = 64, H = 32, W = 32;
    const auto leaf = loom::TensorOptions(dev).with_requires_grad(true);
    Tensor x = loom::randn({N, C, H, W}, leaf);
    Tensor w = loom::ones({C}, leaf), b = loom::zeros({C}, leaf);
    Tensor rm = loom::zeros({C}, loom::TensorOptions(dev)), rv = loom::ones({C}, loom::TensorOptions(dev));
    Tensor g = loom::randn({N, C, H, W}, loom::TensorOptions(dev));
    double ms = time_gpu(
        [&] {
          loom::autograd::grad({loom::batch_norm(x, rm, rv, w, b, true, 0.1, 1e-5)}, {x, w, b}, {g});
        },
        ctx.iters_or(kIters), kWarmup);
    ctx.report(bn, ms, 0, 8.0 * N * C * H * W * 4, kFused);
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
  if (gpu) {
    gpu_cases(ctx);
    channel_cases(ctx);
  } else {
    cpu_cases(ctx);
  }
}

}  // namespace bench
