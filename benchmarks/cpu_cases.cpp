// CPU cases of shared/bench/SPEC.md ("CPU cases (2 threads)"), compared with
// shared/bench/torch_cpu_reference.py: 10 timed iterations after 2 warm-up
// ones, wall clock, median; like the reference, leaves keep accumulating into
// .grad across iterations.
#include <cmath>
#include <string>

#include "autograd/node.h"
#include "bench.h"

namespace bench {

using loom::Tensor;

namespace {

constexpr int kWarmup = 2;
constexpr int kIters = 10;
constexpr int kThreads = 2;

Row cpu_extra() { return Row().integer("threads", loom::get_num_threads()); }

void gemm(const Context& ctx) {
  const std::string name = "cpu/gemm/fp32/M1024_N1024_K1024";
  ctx.run(name, [&] {
    const int64_t n = 1024;
    Tensor a = loom::randn({n, n}), b = loom::randn({n, n});
    double ms = time_cpu([&] { Tensor c = a.matmul(b); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(name, ms, 2.0 * n * n * n, 0, cpu_extra());
  });
}

void attention(const Context& ctx) {
  const std::string name = "cpu/attention/fp32/fwdbwd/B8_H4_L128_D64";
  ctx.run(name, [&] {
    const int64_t B = 8, H = 4, L = 128, D = 64;
    const auto opts = loom::TensorOptions().with_requires_grad(true);
    Tensor q = loom::randn({B, H, L, D}, opts), k = loom::randn({B, H, L, D}, opts),
           v = loom::randn({B, H, L, D}, opts);
    Tensor go = loom::randn({B, H, L, D});
    double ms = time_cpu([&] { composed::attention(q, k, v).backward(go); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(name, ms, 3.5 * 4 * B * H * L * L * D, 0, cpu_extra(), "loom_composed");
  });
}

void layernorm(const Context& ctx) {
  const std::string name = "cpu/layernorm/fp32/fwdbwd/N4096_D1024";
  ctx.run(name, [&] {
    const int64_t N = 4096, D = 1024;
    Tensor x = loom::randn({N, D}).requires_grad_(true);
    Tensor w = loom::ones({D}).requires_grad_(true), b = loom::zeros({D}).requires_grad_(true);
    Tensor g = loom::randn({N, D});
    double ms = time_cpu([&] { composed::layer_norm(x, w, b).backward(g); }, ctx.iters_or(kIters), kWarmup);
    // The reference prints no FLOPs for this case; gbps uses the GPU case's 5·N·D·4 bytes.
    ctx.report(name, ms, 0, 5.0 * N * D * 4, cpu_extra(), "loom_composed");
  });
}

void lstm(const Context& ctx) {
  const std::string name = "cpu/lstm/fp32/fwdbwd/B32_T32_I256_H256";
  ctx.run(name, [&] {
    const int64_t B = 32, T = 32, I = 256, H = 256;
    composed::LSTM m(I, H, loom::kCPU());
    Tensor x = loom::randn({B, T, I}).requires_grad_(true);
    double ms = time_cpu([&] { m.forward(x).sum().backward(); }, ctx.iters_or(kIters), kWarmup);
    ctx.report(name, ms, 3.0 * 2 * B * T * (I + H) * 4 * H, 0, cpu_extra(), "loom_composed");
  });
}

// Not a SPEC case: the fixed cost of one eager op (1-element add, no grad),
// which bounds every composed case made of many small ops (LSTM steps).
void dispatch(const Context& ctx) {
  const std::string name = "cpu/dispatch/fp32/add_1elem_x1000";
  ctx.run(name, [&] {
    Tensor a = loom::ones({1}), b = loom::ones({1});
    double ms = time_cpu(
        [&] {
          for (int i = 0; i < 1000; ++i) Tensor c = a.add(b);
        },
        ctx.iters_or(kIters), kWarmup);
    ctx.report(name, ms, 0, 0, cpu_extra().num("us_per_op", ms));
    a.requires_grad_(true);
    ms = time_cpu(
        [&] {
          for (int i = 0; i < 1000; ++i) Tensor c = a.add(b);
        },
        ctx.iters_or(kIters), kWarmup);
    ctx.report(name + "_requires_grad", ms, 0, 0, cpu_extra().num("us_per_op", ms));
  });
}

}  // namespace

void run_cpu_cases(const Context& ctx) {
  loom::set_num_threads(kThreads);
  loom::manual_seed(0);
  gemm(ctx);
  lstm(ctx);
  attention(ctx);
  layernorm(ctx);
  run_e2e_cases(ctx, false);
  dispatch(ctx);
}

}  // namespace bench
