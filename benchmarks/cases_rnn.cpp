// SPEC.md's LSTM cases through the fused sequence op loom::lstm (one layer,
// batch-first input, zero initial state, PyTorch's initialisation; fwdbwd =
// forward, then backward of sum(output)): lstm/fp32/{fwd,fwdbwd}/
// B128_T64_I256_H512 on the GPU, cpu/lstm/fp32/fwdbwd/B32_T32_I256_H256 on the
// CPU. FLOPs: fwd 2·B·T·(I+H)·4H, fwdbwd 3x.
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

}  // namespace

void run_rnn_cases(const Context& ctx, bool gpu) {
  if (!gpu) {
    const std::string name = "cpu/lstm/fp32/fwdbwd/B32_T32_I256_H256";
    ctx.run(name, [&] {
      LstmCase c(32, 32, 256, 256, loom::kCPU());
      double ms = time_cpu([&] { c.forward().sum().backward(); }, ctx.iters_or(10), 2);
      ctx.report(name, ms, 3 * c.flops(), 0, fused_note().integer("threads", loom::get_num_threads()));
    });
    return;
  }
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
