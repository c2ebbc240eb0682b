// Cases of the view family (autograd/ops/view.cpp): the registry's cases (core/ops.toml,
// benchmarks/registry.cpp). A view moves no data, so these time the op's own
// cost (checks, metadata, the autograd record) and report no bytes; reshape
// of a transposed input copies and reports its traffic:
//   cpu/view/fp32/<op>/<shape>   2 threads, 10 iterations after 2 warm-up ones
//   view/fp32/<op>/<shape>       GPU, 50 iterations after 10 warm-up ones
#include "bench.h"

namespace bench {

void run_view_cases(const Context& ctx, bool gpu) { run_registry_cases(ctx, gpu, "view"); }

}  // namespace bench
