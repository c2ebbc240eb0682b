// CPU embedding backward and embedding_bag (kernels/embedding.h), the twins
// of kernels/cuda/embedding.cu. The weight gradients partition the weight rows
// over threads; every thread scans all indices and adds only the rows it owns,
// so there are no races and the summation order is fixed. embedding_bag's
// forward and per-sample-weight gradient run bags over the pool, each bag's
// rows accumulated into its output row (no [n, D] gather): sums over columns
// in chunks of 32 held in registers, compiled for AVX-512 / AVX2 too.
#include <algorithm>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
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

// The entries [begin, end) of bag b.
inline std::pair<int64_t, int64_t> bag_range(const int64_t* offsets, int64_t b, const EmbeddingBagParams& p) {
  return {offsets[b], b + 1 < p.B ? offsets[b + 1] : p.n};
}

constexpr int64_t kBagChunk = 32;  // columns summed in registers at a time

// One bag into its output row o (and argmax row am for max); returns the
// entries kept. Compiled for AVX-512 / AVX2 too: the row loops are the work.
template <typename T>
LOOM_CPU_CLONES int64_t bag_row(T* o, int64_t* am, const T* w, const int64_t* index, const T* psw, int64_t beg,
                                int64_t end, int64_t D, int64_t pad, BagMode mode) {
  int64_t kept = 0;
  if (mode == BagMode::Max) {
    for (int64_t i = beg; i < end; ++i) {
      const int64_t r = index[i];
      if (r == pad) continue;
      const T* wr = w + r * D;
      if (kept++ == 0) {
        for (int64_t d = 0; d < D; ++d) o[d] = wr[d], am[d] = r;
        continue;
      }
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) {  // selects, so the loop vectorizes; NaN wins
        const bool take = wr[d] > o[d] || (wr[d] != wr[d] && o[d] == o[d]);
        o[d] = take ? wr[d] : o[d];
        am[d] = take ? r : am[d];
      }
    }
  } else if (D > 0 && D % kBagChunk == 0) {
    // Sums in registers: each chunk of columns accumulates over every entry, then is stored once.
    for (int64_t d0 = 0; d0 < D; d0 += kBagChunk) {
      T acc[kBagChunk] = {};
      kept = 0;
      for (int64_t i = beg; i < end; ++i) {
        const int64_t r = index[i];
        if (r == pad) continue;
        ++kept;
        const T s = psw ? psw[i] : T(1);
        const T* wr = w + r * D + d0;
#pragma omp simd
        for (int64_t d = 0; d < kBagChunk; ++d) acc[d] += s * wr[d];
      }
      std::copy_n(acc, kBagChunk, o + d0);
    }
  } else {
    std::fill_n(o, D, T(0));
    for (int64_t i = beg; i < end; ++i) {
      const int64_t r = index[i];
      if (r == pad) continue;
      ++kept;
      const T s = psw ? psw[i] : T(1);
      const T* wr = w + r * D;
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) o[d] += s * wr[d];
    }
  }
  if (kept == 0) {
    std::fill_n(o, D, T(0));
    if (am) std::fill_n(am, D, int64_t(-1));
  } else if (mode == BagMode::Mean && kept > 1) {
    const T inv = T(1) / static_cast<T>(kept);
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) o[d] *= inv;
  }
  return kept;
}

template <typename T>
int64_t bag_forward(T* out, int64_t* argmax, T* count, const T* w, const int64_t* index, const int64_t* offsets,
                    const T* psw, const EmbeddingBagParams& p) {
  const int64_t D = p.D;
  detail::parallel_range(p.B, p.n * D + p.B * D, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const auto [beg, end] = bag_range(offsets, b, p);
      const int64_t kept =
          bag_row(out + b * D, argmax ? argmax + b * D : nullptr, w, index, psw, beg, end, D, p.padding_idx, p.mode);
      if (count) count[b] = static_cast<T>(kept);
    }
  });
  return -1;
}

template <typename T>
void bag_backward(T* dw, const T* g, const int64_t* index, const int64_t* offsets, const int64_t* argmax,
                  const T* count, const T* psw, const EmbeddingBagParams& p) {
  const int64_t D = p.D;
  detail::parallel_range(p.V, p.n * D + p.B * D, [&](int64_t v0, int64_t v1) {
    if (p.mode == BagMode::Max) {
      for (int64_t e = 0; e < p.B * D; ++e) {
        const int64_t r = argmax[e];
        if (r >= v0 && r < v1) dw[r * D + e % D] += g[e];
      }
      return;
    }
    for (int64_t b = 0; b < p.B; ++b) {
      const auto [beg, end] = bag_range(offsets, b, p);
      const T* gb = g + b * D;
      const T scale = p.mode == BagMode::Mean && count[b] > 0 ? T(1) / count[b] : T(1);
      for (int64_t i = beg; i < end; ++i) {
        const int64_t r = index[i];
        if (r < v0 || r >= v1 || r == p.padding_idx) continue;
        const T s = psw ? psw[i] * scale : scale;
        T* dst = dw + r * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) dst[d] += s * gb[d];
      }
    }
  });
}

template <typename T>
void bag_psw_backward(T* dpsw, const T* g, const T* w, const int64_t* index, const int64_t* offsets,
                      const EmbeddingBagParams& p) {
  const int64_t D = p.D;
  detail::parallel_range(p.B, p.n * D, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const auto [beg, end] = bag_range(offsets, b, p);
      const T* gb = g + b * D;
      for (int64_t i = beg; i < end; ++i) {
        const int64_t r = index[i];
        T acc = 0;
        if (r != p.padding_idx) {
          const T* wr = w + r * D;
#pragma omp simd reduction(+ : acc)
          for (int64_t d = 0; d < D; ++d) acc += gb[d] * wr[d];
        }
        dpsw[i] = acc;
      }
    }
  });
}

}  // namespace

int64_t embedding_bag_forward(DType dt, void* out, int64_t* argmax, void* count, const void* weight,
                              const int64_t* index, const int64_t* offsets, const void* psw,
                              const EmbeddingBagParams& p) {
  for (int64_t i = 0; i < p.n; ++i)  // even when no bag reads them, as embedding checks every index
    if (index[i] < 0 || index[i] >= p.V) return i;
  if (p.B <= 0 || p.D <= 0) return -1;
  int64_t bad = -1;
  LOOM_DISPATCH_FLOAT(dt, "embedding_bag", [&] {
    using T = scalar_t;
    bad = bag_forward(static_cast<T*>(out), argmax, static_cast<T*>(count), static_cast<const T*>(weight), index,
                      offsets, static_cast<const T*>(psw), p);
  });
  return bad;
}

void embedding_bag_backward(DType dt, void* dweight, const void* grad, const int64_t* index, const int64_t* offsets,
                            const int64_t* argmax, const void* count, const void* psw, const EmbeddingBagParams& p) {
  if (p.B <= 0 || p.D <= 0 || p.V <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "embedding_bag_backward", [&] {
    using T = scalar_t;
    bag_backward(static_cast<T*>(dweight), static_cast<const T*>(grad), index, offsets, argmax,
                 static_cast<const T*>(count), static_cast<const T*>(psw), p);
  });
}

void embedding_bag_psw_backward(DType dt, void* dpsw, const void* grad, const void* weight, const int64_t* index,
                                const int64_t* offsets, const EmbeddingBagParams& p) {
  if (p.B <= 0 || p.n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "embedding_bag_psw_backward", [&] {
    using T = scalar_t;
    bag_psw_backward(static_cast<T*>(dpsw), static_cast<const T*>(grad), static_cast<const T*>(weight), index, offsets,
                     p);
  });
}

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
