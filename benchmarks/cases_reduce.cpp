// Cases of the reduce family's per-channel reductions
// (kernels/cuda/reduce_channel.cuh), GPU only, whose gbps compare with
// ceiling/copy (target: 70 % of it):
//   channel_sum/fp32/N256_C32_S4096   bytes N·C·S·4 (the conv stem's bias
//   channel_sum/fp32/N64_C64_S3136    gradient; the second the same): the
//                                     kernel alone, on a caller's workspace
// 50 iterations after 10 warm-up ones.
#include <string>

#include "bench.h"
#include "core/cuda.h"
#include "kernels/reduce.h"

namespace bench {

using loom::Tensor;

namespace {

void channel_cases(const Context& ctx) {
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
          ctx.iters_or(kGpuIters), kGpuWarmup);
      ctx.report(name, ms, 0, 4.0 * c.N * c.C * c.S, Row().integer("workspace_bytes", ws_bytes));
#else
      ctx.skip(name, "loom was built without CUDA");
#endif
    });
  }
}

}  // namespace

void run_reduce_cases(const Context& ctx, bool gpu) {
  if (gpu) channel_cases(ctx);
}

}  // namespace bench
