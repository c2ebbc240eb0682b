// CPU dropout (kernels/dropout.h), the twin of kernels/cuda/dropout.cu: one
// Philox block per 4 elements (the mapping of the random kernels), keep when
// the 24-bit uniform >= p. The mask is never stored: backward runs the same
// kernel on the gradient.
#include "core/error.h"
#include "core/philox.h"
#include "kernels/cpu/parallel.h"
#include "kernels/dropout.h"

namespace loom::kernels::cpu {
namespace {

template <typename T>
void dropout_impl(T* out, const T* in, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const float pf = static_cast<float>(p);
  const T scale = p < 1 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
  const int64_t nblocks = static_cast<int64_t>(philox::blocks_for(static_cast<uint64_t>(n)));
  detail::parallel_range(nblocks, n * 4, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const philox::U4 u = philox::block(seed, offset + static_cast<uint64_t>(blk));
      for (int l = 0; l < 4; ++l) {
        const int64_t i = blk * 4 + l;
        if (i >= n) break;
        const bool keep = philox::to_unit_float(philox::lane(u, l)) >= pf;
        out[i] = keep ? in[i] * scale : T(0);
      }
    }
  });
}

}  // namespace

void dropout(DType dt, void* out, const void* in, int64_t n, double p, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "dropout", [&] {
    dropout_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), n, p, seed, offset);
  });
}

}  // namespace loom::kernels::cpu
