// Cases of the copy family (autograd/ops/copy.cpp): the registry's cases (core/ops.toml,
// benchmarks/registry.cpp): contiguous, to, clone, copy_, fill_, cat, stack.
//   cpu/copy/fp32/<op>/<shapes>   2 threads, 10 iterations after 2 warm-up ones
//   copy/fp32/<op>/<shapes>       GPU, 50 iterations after 10 warm-up ones
// (the copy bandwidth ceiling is in cases_limits.cpp).
#include "bench.h"

namespace bench {

void run_copy_cases(const Context& ctx, bool gpu) { run_registry_cases(ctx, gpu, "copy"); }

}  // namespace bench
