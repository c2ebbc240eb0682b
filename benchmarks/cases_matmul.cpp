// SPEC.md's matmul cases (Tensor::matmul, impl "loom"), FLOPs 2·M·N·K:
//   GPU  gemm/{fp32,tf32}/M4096_N4096_K4096   the cuBLAS path; 20 iterations
//        after 5 warm-up ones, as torch_reference.py; tf32 allows TF32
//   CPU  cpu/gemm/fp32/M1024_N1024_K1024      2 threads
// And the registry's case of matmul (registry.cpp): cpu/matmul/fp32/matmul/4x256x512_512x512.
#include <string>

#include "bench.h"

namespace bench {

using loom::Tensor;

namespace {

void cpu_gemm(const Context& ctx) {
  const std::string name = "cpu/gemm/fp32/M1024_N1024_K1024";
  ctx.run(name, [&] {
    const int64_t n = 1024;
    Tensor a = loom::randn({n, n}), b = loom::randn({n, n});
    double ms = time_cpu([&] { Tensor c = a.matmul(b); }, ctx.iters_or(kCpuIters), kCpuWarmup);
    ctx.report(name, ms, 2.0 * n * n * n, 0, cpu_extra());
  });
}

void gpu_gemm(const Context& ctx) {
  for (const char* prec : {"fp32", "tf32"}) {
    const std::string name = std::string("gemm/") + prec + "/M4096_N4096_K4096";
    ctx.run(name, [&] {
      loom::set_allow_tf32(std::string(prec) == "tf32");
      const int64_t n = 4096;
      Tensor a = loom::randn({n, n}, on_gpu()), b = loom::randn({n, n}, on_gpu());
      const double ms = time_gpu([&] { Tensor c = a.matmul(b); }, ctx.iters_or(20), 5);
      ctx.report(name, ms, 2.0 * n * n * n, 0);
    });
  }
  loom::set_allow_tf32(false);
}

}  // namespace

void run_matmul_cases(const Context& ctx, bool gpu) {
  if (gpu) gpu_gemm(ctx);
  else cpu_gemm(ctx);
  run_registry_cases(ctx, gpu, "matmul");
}

}  // namespace bench
