// Cases of the factory family (core/factory.cpp): the registry's cases (core/ops.toml,
// benchmarks/registry.cpp): arange and linspace of 2^24 elements.
//   cpu/factory/<dtype>/<op>/   2 threads, 10 iterations after 2 warm-up ones
//   factory/<dtype>/<op>/       GPU, 50 iterations after 10 warm-up ones
#include "bench.h"

namespace bench {

void run_factory_cases(const Context& ctx, bool gpu) { run_registry_cases(ctx, gpu, "factory"); }

}  // namespace bench
