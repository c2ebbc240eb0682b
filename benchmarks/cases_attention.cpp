// Benchmark cases of attention (shared/bench/SPEC.md):
// attention/fp32/{fwd,fwdbwd,fwd_padmask}/B32_H8_L256_D64 on the GPU and
// cpu/attention/fp32/fwdbwd/B8_H4_L128_D64 on the CPU, each twice: impl
// "loom_composed" (composed::attention, softmax(q kᵀ / sqrt(D)) v from matmul,
// masked_fill and softmax; the GPU ones 50 iterations after 10 warm-up ones,
// with peak_mib), then impl "loom" (the fused
// loom::scaled_dot_product_attention).
#include <string>

#include "autograd/ops/attention.h"
#include "bench.h"
#include "core/tensor.h"

namespace bench {

namespace {

constexpr int kWarmup = 2;
constexpr int kIters = 10;

using loom::Tensor;

void cpu_composed(const Context& ctx) {
  const std::string name = "cpu/attention/fp32/fwdbwd/B8_H4_L128_D64";
  ctx.run(name, [&] {
    const int64_t B = 8, H = 4, L = 128, D = 64;
    const auto opts = loom::TensorOptions().with_requires_grad(true);
    Tensor q = loom::randn({B, H, L, D}, opts), k = loom::randn({B, H, L, D}, opts),
           v = loom::randn({B, H, L, D}, opts);
    Tensor go = loom::randn({B, H, L, D});
    double ms = time_cpu([&] { composed::attention(q, k, v).backward(go); }, ctx.iters_or(kCpuIters), kCpuWarmup);
    ctx.report(name, ms, 3.5 * 4 * B * H * L * L * D, 0, cpu_extra(), kComposed);
  });
}

void gpu_composed(const Context& ctx) {
  const int64_t B = 32, H = 8, L = 256, D = 64;
  const std::string tag = "B32_H8_L256_D64";
  if (!any_wanted(ctx,
                  {"attention/fp32/fwd/" + tag, "attention/fp32/fwdbwd/" + tag, "attention/fp32/fwd_padmask/" + tag}))
    return;
  Tensor q = loom::randn({B, H, L, D}, on_gpu(true)), k = loom::randn({B, H, L, D}, on_gpu(true)),
         v = loom::randn({B, H, L, D}, on_gpu(true));
  Tensor go = loom::randn({B, H, L, D}, on_gpu());
  const double fl = 4.0 * B * H * L * L * D;
  ctx.run("attention/fp32/fwd/" + tag, [&] {
    timed(
        ctx, "attention/fp32/fwd/" + tag, [&] { Tensor o = composed::attention(q, k, v); }, fl, 0, kGpuIters,
        kGpuWarmup, Row(), kComposed);
  });
  ctx.run("attention/fp32/fwdbwd/" + tag, [&] {
    timed(
        ctx, "attention/fp32/fwdbwd/" + tag, [&] { composed::attention(q, k, v).backward(go); }, 3.5 * fl, 0, kGpuIters,
        kGpuWarmup, Row(), kComposed);
  });
  ctx.run("attention/fp32/fwd_padmask/" + tag, [&] {
    // Key-padding mask [B, 1, 1, L]: the last quarter of every key sequence is padding.
    Tensor pad = loom::arange(L, loom::TensorOptions(loom::DType::Int64, current_gpu()))
                     .ge(3 * L / 4)
                     .view({1, 1, 1, L})
                     .expand({B, 1, 1, L})
                     .contiguous();
    timed(
        ctx, "attention/fp32/fwd_padmask/" + tag, [&] { Tensor o = composed::attention(q, k, v, pad); }, fl, 0,
        kGpuIters, kGpuWarmup, Row(), kComposed);
  });
}

}  // namespace

void run_attention_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "attention");  // the registry's cases of the family (registry.cpp)
  if (!gpu) {
    cpu_composed(ctx);
    const std::string name = "cpu/attention/fp32/fwdbwd/B8_H4_L128_D64";
    ctx.run(name, [&] {
      const int64_t B = 8, H = 4, L = 128, D = 64;
      const auto opts = loom::TensorOptions().with_requires_grad(true);
      Tensor q = loom::randn({B, H, L, D}, opts), k = loom::randn({B, H, L, D}, opts),
             v = loom::randn({B, H, L, D}, opts);
      Tensor go = loom::randn({B, H, L, D});
      double ms =
          time_cpu([&] { loom::scaled_dot_product_attention(q, k, v).backward(go); }, ctx.iters_or(kIters), kWarmup);
      ctx.report(name, ms, 3.5 * 4 * B * H * L * L * D, 0,
                 Row().integer("threads", loom::get_num_threads()).str("impl_note", "fused"));
    });
    return;
  }
  gpu_composed(ctx);
  const int64_t B = 32, H = 8, L = 256, D = 64;
  const std::string tag = "B32_H8_L256_D64";
  const loom::Device dev("cuda:0");
  const double fl = 4.0 * B * H * L * L * D;
  const Row note = Row().str("impl_note", "fused");
  auto make = [&](bool rg) { return loom::randn({B, H, L, D}, loom::TensorOptions(dev).with_requires_grad(rg)); };
  ctx.run("attention/fp32/fwd/" + tag, [&] {
    Tensor q = make(false), k = make(false), v = make(false);
    double ms =
        time_gpu([&] { Tensor o = loom::scaled_dot_product_attention(q, k, v); }, ctx.iters_or(kIters), kWarmup);
    ctx.report("attention/fp32/fwd/" + tag, ms, fl, 0, note);
  });
  ctx.run("attention/fp32/fwdbwd/" + tag, [&] {
    Tensor q = make(true), k = make(true), v = make(true), go = make(false);
    double ms =
        time_gpu([&] { loom::scaled_dot_product_attention(q, k, v).backward(go); }, ctx.iters_or(kIters), kWarmup);
    ctx.report("attention/fp32/fwdbwd/" + tag, ms, 3.5 * fl, 0, note);
  });
  ctx.run("attention/fp32/fwd_padmask/" + tag, [&] {
    Tensor q = make(false), k = make(false), v = make(false);
    // Key padding [B, 1, 1, L] (true = attend): the last quarter of every key sequence is padding.
    Tensor keep = loom::arange(L, loom::TensorOptions(loom::DType::Int64, dev))
                      .lt(3 * L / 4)
                      .view({1, 1, 1, L})
                      .expand({B, 1, 1, L})
                      .contiguous();
    double ms =
        time_gpu([&] { Tensor o = loom::scaled_dot_product_attention(q, k, v, keep); }, ctx.iters_or(kIters), kWarmup);
    ctx.report("attention/fp32/fwd_padmask/" + tag, ms, fl, 0, note);
  });
}

}  // namespace bench
