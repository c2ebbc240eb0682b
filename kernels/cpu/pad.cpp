// CPU padding (kernels/upsample.h, "padding"); CUDA twin in kernels/cuda/upsample.cu.
// Forward: planes of the last two dims split over the pool; each row finds its source row (or is all
// `value` under Constant), copies the run that reads the source directly in one unit-stride loop and maps
// the few padded elements at its two ends one by one.
// Backward, one dim at a time (padding is separable): the sources away from the ends copy their one
// reader's row in one block; the others sum the rows of grad_out that read them (pad_readers), in
// increasing order, vectorized over the inner elements.
#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "kernels/convert.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"
#include "kernels/upsample.h"

namespace loom::kernels::cpu {
namespace {

// One output row of the last dim from source row x (null: all `value`): the run [lo, hi) that reads the
// source directly in one unit-stride loop, the padded ends element by element.
template <typename T>
LOOM_CPU_INLINE void pad_row(T* o, const T* x, int64_t O, int64_t n, int64_t left, int64_t lo, int64_t hi, PadMode m,
                             T value) {
  if (x == nullptr) {
    std::fill(o, o + O, value);
    return;
  }
  const T* xs = x - left;
#pragma omp simd
  for (int64_t j = lo; j < hi; ++j) o[j] = xs[j];
  if (m == PadMode::Constant) {  // the ends read nothing (a slice's gradient: wide ends)
    std::fill(o, o + lo, value);
    std::fill(o + hi, o + O, value);
    return;
  }
  for (int64_t j = 0; j < lo; ++j) {
    const int64_t s = pad_source(j, left, n, m);
    o[j] = s < 0 ? value : x[s];
  }
  for (int64_t j = hi; j < O; ++j) {
    const int64_t s = pad_source(j, left, n, m);
    o[j] = s < 0 ? value : x[s];
  }
}

// Planes of the last two dims split over the pool; a plane finds its source plane through the outer dims
// (one division per dim per plane), then walks its rows without any.
template <typename T>
void pad_forward_impl(T* out, const T* in, const PadParams& p) {
  const int last = p.ndim - 1;
  const int64_t O = p.out_sizes[last], n = p.in_sizes[last], left = p.left[last];
  const T value = convert<T>(p.value);
  // The outputs [lo, hi) of the last dim read the source directly (source o - left).
  const int64_t lo = std::clamp<int64_t>(left, 0, O), hi = std::clamp<int64_t>(left + n, lo, O);
  if (last == 0) {
    pad_row(out, in, O, n, left, lo, hi, p.mode, value);
    return;
  }
  const int r = last - 1;  // the rows' dim
  const int64_t H = p.out_sizes[r], IH = p.in_sizes[r], top = p.left[r];
  int64_t planes = 1;
  for (int d = 0; d < r; ++d) planes *= p.out_sizes[d];
  detail::parallel_range(planes, planes * H * O, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t src = pad_source_offset(p, r, q, IH * n);
      const bool outside = src < 0;
      T* plane = out + q * H * O;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t s = outside ? -1 : pad_source(h, top, IH, p.mode);
        pad_row(plane + h * O, s < 0 ? nullptr : in + src + s * n, O, n, left, lo, hi, p.mode, value);
      }
    }
  });
}

// Along one dim, per outer index: the sources far enough from both ends (E = |left| + |right| + 1) have one
// reader, the output `left` further on, so they are one contiguous copy; the others sum their readers.
template <typename T>
void pad_backward_dim_impl(T* gi, const T* go, int64_t outer, int64_t out, int64_t n, int64_t inner, int64_t left,
                           PadMode mode) {
  const int64_t right = out - n - left;
  const int64_t E = std::min(n, std::abs(left) + std::abs(right) + 1);
  const int64_t m0 = E, m1 = std::max(E, n - E);  // the middle [m0, m1)
  detail::parallel_range(outer, outer * n * inner, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      T* dst = gi + q * n * inner;
      const T* base = go + q * out * inner;
      if (m1 > m0)
        std::memcpy(dst + m0 * inner, base + (m0 + left) * inner, sizeof(T) * static_cast<size_t>((m1 - m0) * inner));
      auto sum_readers = [&](int64_t i) {
        T* d = dst + i * inner;
        std::fill(d, d + inner, T(0));
        pad_readers(i, left, n, out, mode, [&](int64_t o) {
          const T* row = base + o * inner;
#pragma omp simd
          for (int64_t k = 0; k < inner; ++k) d[k] += row[k];
        });
      };
      for (int64_t i = 0; i < m0; ++i) sum_readers(i);
      for (int64_t i = m1; i < n; ++i) sum_readers(i);
    }
  });
}

}  // namespace

void pad_forward(DType dt, void* out, const void* in, const PadParams& p) {
  LOOM_DISPATCH_ALL(dt, "pad",
                    [&] { pad_forward_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), p); });
}

void pad_backward_dim(DType dt, void* grad_in, const void* grad_out, int64_t outer, int64_t out, int64_t n,
                      int64_t inner, int64_t left, PadMode mode) {
  LOOM_DISPATCH_FLOAT(dt, "pad_backward", [&] {
    pad_backward_dim_impl(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out), outer, out, n, inner,
                          left, mode);
  });
}

}  // namespace loom::kernels::cpu
