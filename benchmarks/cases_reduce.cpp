// Cases of the reduce family's per-channel reductions
// (kernels/cuda/reduce_channel.cuh), GPU only, whose gbps compare with
// ceiling/copy (target: 70 % of it):
//   channel_sum/fp32/N256_C32_S4096   bytes N·C·S·4 (the conv stem's bias
//   channel_sum/fp32/N64_C64_S3136    gradient; the second the same): the
//                                     kernel alone, on a caller's workspace
// 50 iterations after 10 warm-up ones.
// And one case per reduction described in the registry (core/ops.toml,
// `kind` = "reduce", `bench` = elements; the generated core/op_table.h): the
// op over the last dim of a contiguous fp32 [bench / 1024, 1024] input, no
// grad. Reported in GB/s of the minimum traffic (the input read once, the
// output written once) and TFLOP/s from the op's `flops` per input element.
//   cpu/reduce/fp32/<op>/N<elements>   2 threads, 10 iterations after 2 warm-up ones
//   reduce/fp32/<op>/N<elements>       GPU, 50 iterations after 10 warm-up ones
// The reductions of `kind` "general" (max_dim, argmax, var, norm...) have the
// registry's cases of registry.cpp: cpu/reduce/fp32/<op>/<shape>.
#include <algorithm>
#include <string>

#include "bench.h"
#include "core/cuda.h"
#include "core/op_table.h"
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

constexpr int64_t kRegistryCols = 1024;  // the reduced (last) dim of the registry cases

void registry_cases(const Context& ctx, bool gpu) {
  const int warmup = gpu ? kGpuWarmup : kCpuWarmup, iters = gpu ? kGpuIters : kCpuIters;
  for (const loom::registry::OpEntry& op : loom::registry::op_table()) {
    if (op.kind != loom::registry::Kind::Reduce || op.bench <= 0 || (gpu ? !op.cuda : !op.cpu)) continue;
    const std::string name =
        std::string(gpu ? "" : "cpu/") + "reduce/fp32/" + op.name + "/N" + std::to_string(op.bench);
    ctx.run(name, [&] {
      const loom::Device dev = gpu ? current_gpu() : loom::Device();
      const int64_t rows = std::max<int64_t>(op.bench / kRegistryCols, 1);
      const auto [lo, hi] = op.domain;
      Tensor x = loom::rand({rows, kRegistryCols}, loom::TensorOptions(dev)) * (hi - lo) + lo;
      Tensor y = op.reduce_call(x, {-1}, false);
      const double bytes = static_cast<double>(x.nbytes()) + static_cast<double>(y.nbytes());
      const double flops = static_cast<double>(x.numel()) * op.flops;
      const auto body = [&] { Tensor out = op.reduce_call(x, {-1}, false); };
      const double ms = gpu ? time_gpu(body, ctx.iters_or(iters), warmup) : time_cpu(body, ctx.iters_or(iters), warmup);
      ctx.report(name, ms, flops, bytes,
                 (gpu ? Row() : cpu_extra()).integer("rows", rows).integer("cols", kRegistryCols));
    });
  }
}

}  // namespace

void run_reduce_cases(const Context& ctx, bool gpu) {
  if (gpu) channel_cases(ctx);
  registry_cases(ctx, gpu);
  run_registry_cases(ctx, gpu, "reduce");
}

}  // namespace bench
