// CPU embedding backward (kernels/embedding.h), the twin of
// kernels/cuda/embedding.cu: the weight rows are partitioned over threads;
// every thread scans all indices and adds only the rows it owns, so there are
// no races and the summation order is fixed.
#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/embedding.h"

namespace loom::kernels::cpu {
namespace {

template <typename T>
int64_t emb_backward(T* dw, const T* g, const int64_t* index, int64_t n, int64_t V, int64_t D, int64_t pad) {
  for (int64_t i = 0; i < n; ++i)
    if (index[i] < 0 || index[i] >= V) return i;
  detail::parallel_range(V, n * D, [&](int64_t v0, int64_t v1) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = index[i];
      if (row < v0 || row >= v1 || row == pad) continue;
      T* dst = dw + row * D;
      const T* src = g + i * D;
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) dst[j] += src[j];
    }
  });
  return -1;
}

}  // namespace

int64_t embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n,
                           int64_t num_weights, int64_t D, int64_t padding_idx) {
  int64_t bad = -1;
  LOOM_DISPATCH_FLOAT(dt, "embedding_backward", [&] {
    bad = emb_backward(static_cast<scalar_t*>(dweight), static_cast<const scalar_t*>(grad), index, n, num_weights, D,
                       padding_idx);
  });
  return bad;
}

}  // namespace loom::kernels::cpu
