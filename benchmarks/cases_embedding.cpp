// Cases of the embedding family (kernels/embedding.h), a CPU case and its GPU
// twin each: loom::embedding(index, weight) with weight [V, D] = [32000, 512]
// fp32 (a 32k-token vocabulary) and int64 indices [256, 32] (N = 8,192 tokens:
// a batch of 256 sequences of 32, the text batch of the CLIP-style models),
// drawn uniformly from [0, V):
//   cpu/embedding/fp32/fwd/V32000_D512_N8192      embedding/fp32/fwd/V32000_D512_N8192
//   cpu/embedding/fp32/fwdbwd/V32000_D512_N8192   embedding/fp32/fwdbwd/V32000_D512_N8192
// Reported in GB/s of the minimum traffic, every operand read once and every
// result written once: fwd 8·N (indices) + 4·N·D (rows read) + 4·N·D (output);
// bwd 8·N + 4·N·D (output gradient read) + 4·V·D (the weight gradient
// written); fwdbwd = fwd + bwd. fwd runs with the weight requiring grad (the
// graph is recorded, as in training); the backward goes through
// autograd::grad with a fixed output gradient, so no .grad accumulation is
// timed. CPU: 2 threads, 10 iterations after 2 warm-up ones; GPU: 50 after 10,
// with peak_mib. And embedding_bag, a bag-of-words text encoder's pooling:
//   [cpu/]embedding/fp32/bag_mean_fwdbwd/V32000_D512_N8192_B256
//       the mean of each sequence's embeddings (the same index as a 2-D
//       [256, 32] input), forward and the weight gradient; bytes as fwdbwd
//       above with the output and its gradient [256, 512] instead of
//       [N, 512] (benchmarks/torch_cpu_extra.py times PyTorch's).
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/embedding.h"
#include "bench.h"
#include "core/cuda.h"

namespace bench {

using loom::Tensor;

namespace {

void cases(const Context& ctx, bool gpu) {
  const std::string prefix = gpu ? "embedding/fp32/" : "cpu/embedding/fp32/";
  const int64_t V = 32000, D = 512, B = 256, T = 32, N = B * T;
  const std::string tag = "/V32000_D512_N8192";
  const std::string fwd = prefix + "fwd" + tag, fwdbwd = prefix + "fwdbwd" + tag;
  const std::string bag = prefix + "bag_mean_fwdbwd" + tag + "_B256";
  if (!any_wanted(ctx, {fwd, fwdbwd, bag})) return;
  const loom::Device dev = gpu ? current_gpu() : loom::Device();
  Tensor weight = loom::randn({V, D}, loom::TensorOptions(dev).with_requires_grad(true));
  Tensor index = loom::randint(0, V, {B, T}, loom::TensorOptions(loom::DType::Int64, dev));
  Tensor g = loom::randn({B, T, D}, loom::TensorOptions(dev));
  const double fwd_bytes = 8.0 * N + 8.0 * N * D, bwd_bytes = 8.0 * N + 4.0 * N * D + 4.0 * V * D;
  ctx.run(fwd, [&] {
    timed_on(
        ctx, gpu, fwd, [&] { Tensor y = loom::embedding(index, weight); }, 0, fwd_bytes);
  });
  ctx.run(fwdbwd, [&] {
    timed_on(
        ctx, gpu, fwdbwd, [&] { loom::autograd::grad({loom::embedding(index, weight)}, {weight}, {g}); }, 0,
        fwd_bytes + bwd_bytes);
  });
  ctx.run(bag, [&] {
    Tensor gb = loom::randn({B, D}, loom::TensorOptions(dev));
    const double bytes = 16.0 * N + 4.0 * N * D * 2 + 8.0 * B * D + 4.0 * V * D;
    timed_on(
        ctx, gpu, bag, [&] { loom::autograd::grad({loom::embedding_bag(index, weight)}, {weight}, {gb}); }, 0, bytes);
  });
}

}  // namespace

void run_embedding_cases(const Context& ctx, bool gpu) {
  run_registry_cases(ctx, gpu, "embedding");  // the registry's cases of the family (registry.cpp)
  cases(ctx, gpu);
  if (gpu) loom::cuda::empty_cache();
}

}  // namespace bench
