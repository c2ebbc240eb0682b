// Elementwise CPU kernels that move values: masked_fill, strided copy with
// dtype conversion (a transposed copy in cache-sized tiles), fill, arange and
// linspace. Conversions saturate (convert, kernels/convert.h).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"
#include "kernels/pointwise.h"

namespace loom::kernels::cpu {
namespace {

using detail::convert;
using detail::for_each_row;
using detail::map1;
using detail::mask_bytes;
using detail::select_bits;

// Pragmas cannot sit inside the dispatch macros' arguments, hence these templates.
template <typename T>
void masked_fill_impl(T* base, const bool* mask, double value, const ElementwiseLoop& loop) {
  const T v = convert<T>(value);
  const int d = loop.ndim - 1;
  const int64_t so = loop.strides[0][d], sm = loop.strides[1][d];
  for_each_row<2>(loop, [&](const int64_t* off, int64_t n, int64_t) {
    T* o = base + off[0];
    const uint8_t* m = mask_bytes(mask) + off[1];
    if (so == 1 && sm == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = select_bits(m[i], v, o[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = select_bits(m[i * sm], v, o[i * so]);
    }
  });
}

template <typename T>
void fill_impl(T* base, double value, const ElementwiseLoop& loop) {
  const T v = convert<T>(value);
  const int64_t so = loop.strides[0][loop.ndim - 1];
  for_each_row<1>(loop, [&](const int64_t* off, int64_t n, int64_t) {
    T* o = base + off[0];
    if (so == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = v;
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = v;
    }
  });
}

}  // namespace

void masked_fill(DType dt, void* out, const bool* mask, double value, const ElementwiseLoop& loop) {
  LOOM_DISPATCH_ALL(dt, "masked_fill", [&] { masked_fill_impl(static_cast<scalar_t*>(out), mask, value, loop); });
}

// A copy whose source runs along the destination's second-to-last dim (a
// transposed view made contiguous): walking either side row by row would
// stride through memory, so it goes in square tiles that stay in cache.
namespace {
bool is_transpose(const ElementwiseLoop& L) {
  const int r = L.ndim - 2, c = L.ndim - 1;
  return L.ndim >= 2 && L.strides[0][c] == 1 && L.strides[1][r] == 1 && L.strides[1][c] != 1 && L.sizes[r] >= 16 &&
         L.sizes[c] >= 16;
}

template <typename D, typename S>
void transpose_copy(D* dst, const S* src, const ElementwiseLoop& L) {
  constexpr int64_t kTile = 32;
  const int r = L.ndim - 2, c = L.ndim - 1;
  const int64_t rows = L.sizes[r], cols = L.sizes[c];
  const int64_t ds_r = L.strides[0][r], ss_c = L.strides[1][c];
  int64_t outer = 1;
  for (int d = 0; d < r; ++d) outer *= L.sizes[d];
  const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  const int64_t tiles = outer * row_tiles * col_tiles;
  detail::parallel_range(tiles, outer * rows * cols, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / (row_tiles * col_tiles), rt = (t / col_tiles) % row_tiles, ct = t % col_tiles;
      int64_t doff = 0, soff = 0;
      for (int d = r - 1; d >= 0; --d) {  // outer coordinates of slice o
        int64_t i = o % L.sizes[d];
        o /= L.sizes[d];
        doff += i * L.strides[0][d];
        soff += i * L.strides[1][d];
      }
      const int64_t r0 = rt * kTile, r1 = std::min(rows, r0 + kTile);
      const int64_t c0 = ct * kTile, c1 = std::min(cols, c0 + kTile);
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = c0; j < c1; ++j) dst[doff + i * ds_r + j] = convert<D>(src[soff + i + j * ss_c]);
    }
  });
}
// A copy whose source runs backwards along the innermost dim (a flip of the last dim): a reversed
// unit-stride loop, which vectorizes (a permute of the lanes), instead of the strided one.
bool is_reversed(const ElementwiseLoop& L) { return L.strides[0][L.ndim - 1] == 1 && L.strides[1][L.ndim - 1] == -1; }

template <typename T>
void reversed_copy(T* dst, const T* src, const ElementwiseLoop& L) {
  for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
    T* o = dst + off[0];
    const T* x = src + off[1];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = x[-i];
  });
}
}  // namespace

void copy(DType dst_dt, void* dst, DType src_dt, const void* src, const ElementwiseLoop& loop) {
  if (dst_dt == src_dt && loop.contiguous(0) && loop.contiguous(1)) {
    const size_t item = itemsize(dst_dt);
    detail::parallel_range(loop.numel, loop.numel, [&](int64_t b, int64_t e) {
      std::memcpy(static_cast<char*>(dst) + b * item, static_cast<const char*>(src) + b * item, (e - b) * item);
    });
    return;
  }
  if (dst_dt == src_dt && is_reversed(loop)) {
    LOOM_DISPATCH_ALL(dst_dt, "copy",
                      [&] { reversed_copy(static_cast<scalar_t*>(dst), static_cast<const scalar_t*>(src), loop); });
    return;
  }
  LOOM_DISPATCH_ALL(dst_dt, "copy", [&] {
    using D = scalar_t;
    LOOM_DISPATCH_ALL(src_dt, "copy", [&] {
      using S = scalar_t;
      if (is_transpose(loop)) transpose_copy(static_cast<D*>(dst), static_cast<const S*>(src), loop);
      else map1(loop, static_cast<D*>(dst), static_cast<const S*>(src), [](S v) { return convert<D>(v); });
    });
  });
}

void fill(DType dt, void* out, double value, const ElementwiseLoop& loop) {
  LOOM_DISPATCH_ALL(dt, "fill", [&] { fill_impl(static_cast<scalar_t*>(out), value, loop); });
}

// Values are computed in double and then converted, so float32 and integer
// outputs match PyTorch's for the usual ranges.
void arange(DType dt, void* out, int64_t n, double start, double step) {
  LOOM_DISPATCH_NUMERIC(dt, "arange", [&] {
    scalar_t* o = static_cast<scalar_t*>(out);
    detail::parallel_range(n, n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = convert<scalar_t>(start + static_cast<double>(i) * step);
    });
  });
}

// The first half steps up from start and the second half down from end (as
// PyTorch does), which keeps both ends exact and the values symmetric.
void linspace(DType dt, void* out, int64_t n, double start, double end) {
  LOOM_DISPATCH_NUMERIC(dt, "linspace", [&] {
    scalar_t* o = static_cast<scalar_t*>(out);
    if (n == 1) {
      o[0] = convert<scalar_t>(start);
      return;
    }
    const double step = (end - start) / static_cast<double>(n - 1);
    const int64_t half = n / 2;
    detail::parallel_range(n, n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        o[i] = convert<scalar_t>(i < half ? start + step * static_cast<double>(i)
                                          : end - step * static_cast<double>(n - 1 - i));
    });
  });
}

}  // namespace loom::kernels::cpu
