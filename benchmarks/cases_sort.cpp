// Cases of the sort family (kernels/sort.h), a CPU case and its GPU twin each,
// fp32 uniform input, forward only, no grad. Besides the registry's cases
// (registry.cpp: cumsum, cumprod, cummax, cummin, sort, argsort, topk on
// [1024, 1024] along the last dim):
//   [cpu/]sort/fp32/sort_long/N1048576
//       one line of 2^20 values: on CUDA the global merge path of the
//       bitonic sort (45 global steps, 10 shared-memory passes)
//   [cpu/]sort/fp32/sort_short/R65536_N16
//       65,536 lines of 16: many lines per block
//   [cpu/]sort/fp32/cumsum_dim0/R4096_C1024
//       cumsum of [4096, 1024] along dim 0: the column scan
//   [cpu/]sort/fp32/cumsum_long/N1048576
//       cumsum of one line of 2^20: one block walks the whole line
// Reported in GB/s of the minimum traffic: the input read and the values
// (plus int64 indices for sorts) written.
#include <string>

#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

void run_sort_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "sort");  // the registry's cases of the family (registry.cpp)
  const std::string prefix = gpu ? "sort/fp32/" : "cpu/sort/fp32/";
  const loom::TensorOptions opts(gpu ? loom::Device("cuda:0") : loom::Device());
  struct Case {
    std::string name;
    loom::Shape shape;
    int64_t dim;
    bool sort;
  };
  const Case cases[] = {{"sort_long/N1048576", {1048576}, 0, true},
                        {"sort_short/R65536_N16", {65536, 16}, 1, true},
                        {"cumsum_dim0/R4096_C1024", {4096, 1024}, 0, false},
                        {"cumsum_long/N1048576", {1048576}, 0, false}};
  for (const Case& c : cases) {
    const std::string name = prefix + c.name;
    ctx.run(name, [&] {
      Tensor x = loom::rand(c.shape, opts);
      const double n = static_cast<double>(x.numel());
      const double bytes = c.sort ? 16 * n : 8 * n;
      timed_on(
          ctx, gpu, name,
          [&] {
            if (c.sort) Tensor v = x.sort(c.dim).first;
            else Tensor y = x.cumsum(c.dim);
          },
          0, bytes);
    });
  }
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
