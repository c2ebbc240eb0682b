// Cases of the index family (kernels/index.h), a CPU case and its GPU twin
// each, fp32 data and int64 indices drawn uniformly (with repeats):
//   [cpu/]index/fp32/index_select_{fwd,fwdbwd}/N32768_D512_I16384
//       x [N, D].index_select(0, index [I]): I rows of a table (an embedding
//       lookup's gather); backward: scatter-add of the gradient rows into a
//       zeroed [N, D]
//   [cpu/]index/fp32/gather_{fwd,fwdbwd}/N8192_D1024_K256
//       x [N, D].gather(1, index [N, K]): K picks per row; backward:
//       scatter-add into a zeroed [N, D]
//   [cpu/]index/fp32/scatter_add_{fwd,fwdbwd}/N8192_D512_M16384
//       self [N, D].scatter_add(0, index [M, D], src [M, D]) (out of place:
//       self is copied, then src added at the indexed rows); backward: the
//       gradient passes to self unchanged, src's is gathered at the index
//   [cpu/]index/fp32/index_add_{fwd,fwdbwd}/N8192_D512_M16384
//       self [N, D].index_add(0, index [M], src [M, D]) (out of place: self is
//       copied, then src's rows added at the indexed rows); backward: the
//       gradient passes to self unchanged, src's is its index_select
// Reported in GB/s of the minimum traffic, every operand read once and every
// result written once (4 bytes per fp32 element, 8 per index):
//   index_select  fwd 8·I + 4·I·D (rows read) + 4·I·D (out)
//                 bwd 8·I + 4·I·D (gradient read) + 4·N·D (dx written)
//   gather        fwd 8·N·K + 4·N·K + 4·N·K
//                 bwd 8·N·K + 4·N·K + 4·N·D
//   scatter_add   fwd 4·N·D (self read) + 4·N·D (out) + 8·M·D + 4·M·D (src)
//                 bwd 8·M·D + 4·M·D (gathered) + 4·M·D (dsrc written)
//   index_add     fwd 8·N·D (self read, out written) + 8·M + 4·M·D (src) + 8·M·D (rows read and written)
//                 bwd 8·M + 4·M·D (rows read) + 4·M·D (dsrc written)
// fwdbwd = fwd + bwd. fwd runs with the floating inputs requiring grad (the
// graph is recorded, as in training); the backward goes through
// autograd::grad with a fixed output gradient, so no .grad accumulation is
// timed. CPU: 2 threads, 10 iterations after 2 warm-up ones; GPU: 50 after 10,
// with peak_mib.
#include <functional>
#include <string>

#include "autograd/engine.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

// One op: the leaves it differentiates, its forward, and its two byte counts.
struct IndexCase {
  std::string variant, tag;
  loom::TensorList leaves;
  std::function<Tensor()> forward;
  double fwd_bytes, bwd_bytes;
};

void run_case(const Context& ctx, bool gpu, const std::string& prefix, const IndexCase& c) {
  const std::string fwd = prefix + c.variant + "_fwd/" + c.tag, fwdbwd = prefix + c.variant + "_fwdbwd/" + c.tag;
  ctx.run(fwd, [&] {
    timed_on(
        ctx, gpu, fwd, [&] { Tensor y = c.forward(); }, 0, c.fwd_bytes);
  });
  ctx.run(fwdbwd, [&] {
    Tensor g = loom::randn(c.forward().sizes(), loom::TensorOptions(c.leaves[0].device()));
    timed_on(
        ctx, gpu, fwdbwd, [&] { loom::autograd::grad({c.forward()}, c.leaves, {g}); }, 0, c.fwd_bytes + c.bwd_bytes);
  });
}

bool wanted(const Context& ctx, const std::string& prefix, const std::string& variant, const std::string& tag) {
  return any_wanted(ctx, {prefix + variant + "_fwd/" + tag, prefix + variant + "_fwdbwd/" + tag});
}

void cases(const Context& ctx, bool gpu) {
  const std::string prefix = gpu ? "index/fp32/" : "cpu/index/fp32/";
  const loom::Device dev = gpu ? current_gpu() : loom::Device();
  const auto leaf = loom::TensorOptions(dev).with_requires_grad(true);
  const auto idx = loom::TensorOptions(loom::DType::Int64, dev);
  {
    const int64_t N = 32768, D = 512, I = 16384;
    const std::string tag = "N32768_D512_I16384";
    if (wanted(ctx, prefix, "index_select", tag)) {
      Tensor x = loom::randn({N, D}, leaf);
      Tensor index = loom::randint(0, N, {I}, idx);
      run_case(ctx, gpu, prefix,
               {"index_select",
                tag,
                {x},
                [&] { return x.index_select(0, index); },
                8.0 * I + 8.0 * I * D,
                8.0 * I + 4.0 * I * D + 4.0 * N * D});
    }
  }
  {
    const int64_t N = 8192, D = 1024, K = 256;
    const std::string tag = "N8192_D1024_K256";
    if (wanted(ctx, prefix, "gather", tag)) {
      Tensor x = loom::randn({N, D}, leaf);
      Tensor index = loom::randint(0, D, {N, K}, idx);
      run_case(ctx, gpu, prefix,
               {"gather", tag, {x}, [&] { return x.gather(1, index); }, 16.0 * N * K, 12.0 * N * K + 4.0 * N * D});
    }
  }
  {
    const int64_t N = 8192, D = 512, M = 16384;
    const std::string tag = "N8192_D512_M16384";
    if (wanted(ctx, prefix, "scatter_add", tag)) {
      Tensor self = loom::randn({N, D}, leaf), src = loom::randn({M, D}, leaf);
      Tensor index = loom::randint(0, N, {M, D}, idx);
      run_case(ctx, gpu, prefix,
               {"scatter_add",
                tag,
                {self, src},
                [&] { return self.scatter_add(0, index, src); },
                8.0 * N * D + 12.0 * M * D,
                16.0 * M * D});
    }
    if (wanted(ctx, prefix, "index_add", tag)) {
      Tensor self = loom::randn({N, D}, leaf), src = loom::randn({M, D}, leaf);
      Tensor index = loom::randint(0, N, {M}, idx);
      run_case(ctx, gpu, prefix,
               {"index_add",
                tag,
                {self, src},
                [&] { return self.index_add(0, index, src); },
                8.0 * N * D + 8.0 * M + 12.0 * M * D,
                8.0 * M + 8.0 * M * D});
    }
  }
}

}  // namespace

void run_index_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "index");  // the registry's cases of the family (registry.cpp)
  cases(ctx, gpu);
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
