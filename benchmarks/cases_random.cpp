// Cases of the random family (kernels/random.h), a CPU case and its GPU twin
// each: a fresh fp32 tensor of N = 16,777,216 (16M) elements from the global
// Philox stream, through the factories:
//   cpu/random/fp32/rand/N16777216    random/fp32/rand/N16777216    loom::rand, U[0, 1)
//   cpu/random/fp32/randn/N16777216   random/fp32/randn/N16777216   loom::randn, N(0, 1)
// Reported in GB/s of the output written, 4·N bytes (nothing is read). The
// timed call includes the allocation of the output (the caching allocator on
// the GPU). CPU: 2 threads, 10 iterations after 2 warm-up ones; GPU: 50
// after 10, with peak_mib.
#include <string>

#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void cases(const Context& ctx, bool gpu) {
  const std::string prefix = gpu ? "random/fp32/" : "cpu/random/fp32/";
  const int64_t N = int64_t(1) << 24;
  const std::string tag = "/N" + std::to_string(N);
  const loom::TensorOptions opts(gpu ? current_gpu() : loom::Device());
  const std::string rand = prefix + "rand" + tag, randn = prefix + "randn" + tag;
  ctx.run(rand, [&] {
    timed_on(
        ctx, gpu, rand, [&] { Tensor t = loom::rand({N}, opts); }, 0, 4.0 * N);
  });
  ctx.run(randn, [&] {
    timed_on(
        ctx, gpu, randn, [&] { Tensor t = loom::randn({N}, opts); }, 0, 4.0 * N);
  });
}

}  // namespace

void run_random_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "random");  // the registry's cases of the family (registry.cpp)
  cases(ctx, gpu);
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
