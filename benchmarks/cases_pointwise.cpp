// Pointwise cases, one per op described in the registry (core/ops.toml,
// `bench` = elements; the generated core/op_table.h): the op's forward on
// contiguous fp32 inputs of that many elements (a second input has the same
// shape), no grad. Reported in GB/s of the minimum traffic (each input read
// once, the output written once) and TFLOP/s from the op's `flops`.
//   cpu/pointwise/fp32/<op>/N<elements>   2 threads, 10 iterations after 2 warm-up ones
//   pointwise/fp32/<op>/N<elements>       GPU, 50 iterations after 10 warm-up ones
// The general pointwise ops (compare, where, clamp, masked_fill, bitwise) have
// the registry's cases of registry.cpp: cpu/pointwise/<dtype>/<op>/<shapes>.
#include <string>

#include "bench.h"
#include "core/cuda.h"
#include "core/op_table.h"

namespace bench {

using loom::Tensor;

void run_pointwise_cases(const Context& ctx, bool gpu) {
  const int warmup = gpu ? 10 : 2, iters = gpu ? 50 : 10;
  for (const loom::registry::OpEntry& op : loom::registry::op_table()) {
    if (op.kind != loom::registry::Kind::Pointwise || op.bench <= 0 || (gpu ? !op.cuda : !op.cpu)) continue;
    const std::string name =
        std::string(gpu ? "" : "cpu/") + "pointwise/fp32/" + op.name + "/N" + std::to_string(op.bench);
    ctx.run(name, [&] {
      const loom::Device dev =
          gpu ? loom::Device(loom::DeviceType::CUDA, loom::cuda::current_device()) : loom::Device();
      loom::TensorList in;
      for (int i = 0; i < op.inputs; ++i) {
        const auto [lo, hi] = i == 0 ? op.domain : op.domain_b;
        in.push_back(loom::rand({op.bench}, loom::TensorOptions(dev)) * (hi - lo) + lo);
      }
      Tensor y = op.call(in);
      const double bytes = static_cast<double>(op.bench) * (4.0 * op.inputs) + static_cast<double>(y.nbytes());
      const double flops = static_cast<double>(op.bench) * op.flops;
      const auto body = [&] { Tensor out = op.call(in); };
      const double ms = gpu ? time_gpu(body, ctx.iters_or(iters), warmup) : time_cpu(body, ctx.iters_or(iters), warmup);
      ctx.report(name, ms, flops, bytes, gpu ? Row() : Row().integer("threads", loom::get_num_threads()));
    });
  }
  run_registry_cases(ctx, gpu, "pointwise");
}

}  // namespace bench
