// SPEC.md's LSTM cases (one layer, batch-first input, zero initial state,
// PyTorch's initialisation; fwdbwd = forward, then backward of sum(output)):
// lstm/fp32/{fwd,fwdbwd}/B128_T64_I256_H512 on the GPU,
// cpu/lstm/fp32/fwdbwd/B32_T32_I256_H256 on the CPU. FLOPs: fwd
// 2·B·T·(I+H)·4H, fwdbwd 3x. Each twice: impl "loom_composed" (composed::LSTM,
// a step loop of matmul and pointwise ops; the GPU one with peak_mib), then
// impl "loom" (the fused sequence op loom::lstm).
#include <string>

#include "autograd/ops/rnn.h"
#include "bench.h"

namespace bench {

using loom::Tensor;

namespace {

struct LstmCase {
  int64_t B, T, I, H;
  Tensor x;
  loom::TensorList params;
  LstmCase(int64_t B_, int64_t T_, int64_t I_, int64_t H_, loom::Device dev) : B(B_), T(T_), I(I_), H(H_) {
    x = loom::randn({B, T, I}, loom::TensorOptions(dev)).requires_grad_(true);
    for (const loom::Shape& s : {loom::Shape{4 * H, I}, loom::Shape{4 * H, H}, loom::Shape{4 * H}, loom::Shape{4 * H}})
      params.push_back(composed::uniform_param(s, H, dev));
  }
  Tensor forward() const { return loom::lstm(x, Tensor(), Tensor(), params, true, 1, false, true).output; }
  double flops() const { return 2.0 * B * T * (I + H) * 4 * H; }
};

Row fused_note() { return Row().str("impl_note", "fused"); }

void cpu_composed(const Context& ctx) {
  const std::string name = "cpu/lstm/fp32/fwdbwd/B32_T32_I256_H256";
  ctx.run(name, [&] {
    const int64_t B = 32, T = 32, I = 256, H = 256;
    composed::LSTM m(I, H, loom::kCPU());
    Tensor x = loom::randn({B, T, I}).requires_grad_(true);
    double ms = time_cpu([&] { m.forward(x).sum().backward(); }, ctx.iters_or(kCpuIters), kCpuWarmup);
    ctx.report(name, ms, 3.0 * 2 * B * T * (I + H) * 4 * H, 0, cpu_extra(), kComposed);
  });
}

void gpu_composed(const Context& ctx) {
  const int64_t B = 128, T = 64, I = 256, H = 512;
  const std::string tag = "B128_T64_I256_H512";
  if (!any_wanted(ctx, {"lstm/fp32/fwd/" + tag, "lstm/fp32/fwdbwd/" + tag})) return;
  composed::LSTM m(I, H, current_gpu());
  Tensor x = loom::randn({B, T, I}, on_gpu(true));
  const double fl = 2.0 * B * T * (I + H) * 4 * H;
  ctx.run("lstm/fp32/fwd/" + tag, [&] {
    timed(
        ctx, "lstm/fp32/fwd/" + tag, [&] { Tensor y = m.forward(x); }, fl, 0, kGpuIters, kGpuWarmup, Row(), kComposed);
  });
  ctx.run("lstm/fp32/fwdbwd/" + tag, [&] {
    timed(
        ctx, "lstm/fp32/fwdbwd/" + tag, [&] { m.forward(x).sum().backward(); }, 3 * fl, 0, kGpuIters, kGpuWarmup, Row(),
        kComposed);
  });
}

}  // namespace

void run_rnn_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "rnn");  // the registry's cases of the family (registry.cpp)
  if (!gpu) {
    cpu_composed(ctx);
    const std::string name = "cpu/lstm/fp32/fwdbwd/B32_T32_I256_H256";
    ctx.run(name, [&] {
      LstmCase c(32, 32, 256, 256, loom::kCPU());
      double ms = time_cpu([&] { c.forward().sum().backward(); }, ctx.iters_or(10), 2);
      ctx.report(name, ms, 3 * c.flops(), 0, fused_note().integer("threads", loom::get_num_threads()));
    });
    return;
  }
  gpu_composed(ctx);
  const std::string tag = "B128_T64_I256_H512";
  const std::string fwd = "lstm/fp32/fwd/" + tag, fwdbwd = "lstm/fp32/fwdbwd/" + tag;
  if (!ctx.want(fwd) && !ctx.want(fwdbwd)) return;
  loom::set_allow_tf32(false);
  LstmCase c(128, 64, 256, 512, loom::Device("cuda:0"));
  ctx.run(fwd, [&] {
    double ms = time_gpu([&] { Tensor y = c.forward(); }, ctx.iters_or(20), 3);
    ctx.report(fwd, ms, c.flops(), 0, fused_note());
  });
  ctx.run(fwdbwd, [&] {
    double ms = time_gpu([&] { c.forward().sum().backward(); }, ctx.iters_or(20), 3);
    ctx.report(fwdbwd, ms, 3 * c.flops(), 0, fused_note());
  });
}

}  // namespace bench
