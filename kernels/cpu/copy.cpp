// Elementwise CPU kernels that move values: masked_fill, strided copy with
// dtype conversion (a transposed copy in cache-sized tiles), fill, arange and
// linspace. Conversions saturate (convert, kernels/convert.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

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

// A unit-stride run of one value: memset when every byte of the value is the same (zeros above all: the
// C library's widest stores), else a loop in the clones (AVX-512 stores on a CPU that has them).
template <typename T>
LOOM_CPU_CLONES void fill_run(T* o, int64_t n, T v) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = v;
}

template <typename T>
void fill_impl(T* base, double value, const ElementwiseLoop& loop) {
  const T v = convert<T>(value);
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  const bool byte_pattern = std::all_of(bytes, bytes + sizeof(T), [&](unsigned char c) { return c == bytes[0]; });
  const int64_t so = loop.strides[0][loop.ndim - 1];
  for_each_row<1>(loop, [&](const int64_t* off, int64_t n, int64_t) {
    T* o = base + off[0];
    if (so == 1) {
      if (byte_pattern) std::memset(static_cast<void*>(o), bytes[0], sizeof(T) * static_cast<size_t>(n));
      else fill_run(o, n, v);
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

// dst[i * ds + j] = src[i + j * ss] over rows x cols (multiples of the block: 8 x 8 four-byte values or
// 4 x 4 eight-byte ones), each block loaded as rows of the source and transposed in registers by lane
// shuffles (GCC vector extensions: unpack, pairs, halves), in clones so that v3 / v4 use 256-bit registers.
using V8u32 = uint32_t __attribute__((vector_size(32)));
using V4u64 = uint64_t __attribute__((vector_size(32)));

LOOM_CPU_INLINE void transpose_block(uint32_t* dst, int64_t ds, const uint32_t* src, int64_t ss) {
  using M = V8u32;
  V8u32 r[8], t[8], u[8];
  for (int k = 0; k < 8; ++k) std::memcpy(&r[k], src + k * ss, sizeof(r[k]));  // r[k][i] = out(i, k)
  for (int k = 0; k < 8; k += 2) {
    t[k] = __builtin_shuffle(r[k], r[k + 1], M{0, 8, 1, 9, 4, 12, 5, 13});
    t[k + 1] = __builtin_shuffle(r[k], r[k + 1], M{2, 10, 3, 11, 6, 14, 7, 15});
  }
  for (int k = 0; k < 8; k += 4) {
    u[k] = __builtin_shuffle(t[k], t[k + 2], M{0, 1, 8, 9, 4, 5, 12, 13});
    u[k + 1] = __builtin_shuffle(t[k], t[k + 2], M{2, 3, 10, 11, 6, 7, 14, 15});
    u[k + 2] = __builtin_shuffle(t[k + 1], t[k + 3], M{0, 1, 8, 9, 4, 5, 12, 13});
    u[k + 3] = __builtin_shuffle(t[k + 1], t[k + 3], M{2, 3, 10, 11, 6, 7, 14, 15});
  }
  for (int k = 0; k < 4; ++k) {  // u[k] holds rows k and k + 4 of the output for sources 0-3, u[k + 4] for 4-7
    const V8u32 lo = __builtin_shuffle(u[k], u[k + 4], M{0, 1, 2, 3, 8, 9, 10, 11});
    const V8u32 hi = __builtin_shuffle(u[k], u[k + 4], M{4, 5, 6, 7, 12, 13, 14, 15});
    std::memcpy(dst + k * ds, &lo, sizeof(lo));
    std::memcpy(dst + (k + 4) * ds, &hi, sizeof(hi));
  }
}

LOOM_CPU_INLINE void transpose_block(uint64_t* dst, int64_t ds, const uint64_t* src, int64_t ss) {
  using M = V4u64;
  V4u64 r[4];
  for (int k = 0; k < 4; ++k) std::memcpy(&r[k], src + k * ss, sizeof(r[k]));
  const V4u64 t0 = __builtin_shuffle(r[0], r[1], M{0, 4, 2, 6}), t1 = __builtin_shuffle(r[0], r[1], M{1, 5, 3, 7});
  const V4u64 t2 = __builtin_shuffle(r[2], r[3], M{0, 4, 2, 6}), t3 = __builtin_shuffle(r[2], r[3], M{1, 5, 3, 7});
  const V4u64 o[4] = {__builtin_shuffle(t0, t2, M{0, 1, 4, 5}), __builtin_shuffle(t1, t3, M{0, 1, 4, 5}),
                      __builtin_shuffle(t0, t2, M{2, 3, 6, 7}), __builtin_shuffle(t1, t3, M{2, 3, 6, 7})};
  for (int k = 0; k < 4; ++k) std::memcpy(dst + k * ds, &o[k], sizeof(o[k]));
}

template <typename U>
LOOM_CPU_CLONES void transpose_blocks(U* dst, int64_t ds, const U* src, int64_t ss, int64_t rows, int64_t cols) {
  constexpr int64_t B = sizeof(U) == 4 ? 8 : 4;
  for (int64_t i = 0; i < rows; i += B)
    for (int64_t j = 0; j < cols; j += B) transpose_block(dst + i * ds + j, ds, src + i + j * ss, ss);
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
      int64_t rv = r0, cv = c0;  // the part done in vector blocks: [r0, rv) x [c0, cv)
      if constexpr (std::is_same_v<D, S> && (sizeof(D) == 4 || sizeof(D) == 8)) {
        using U = std::conditional_t<sizeof(D) == 4, uint32_t, uint64_t>;
        constexpr int64_t B = sizeof(D) == 4 ? 8 : 4;
        rv = r0 + (r1 - r0) / B * B;
        cv = c0 + (c1 - c0) / B * B;
        transpose_blocks(reinterpret_cast<U*>(dst + doff + r0 * ds_r + c0), ds_r,
                         reinterpret_cast<const U*>(src + soff + r0 + c0 * ss_c), ss_c, rv - r0, cv - c0);
      }
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = i < rv ? cv : c0; j < c1; ++j) dst[doff + i * ds_r + j] = convert<D>(src[soff + i + j * ss_c]);
    }
  });
}
// A copy whose source runs backwards along the innermost dim (a flip of the last dim): a reversed
// unit-stride loop, which vectorizes (a permute of the lanes), instead of the strided one.
bool is_reversed(const ElementwiseLoop& L) { return L.strides[0][L.ndim - 1] == 1 && L.strides[1][L.ndim - 1] == -1; }

// Unit-stride conversions between dtypes, compiled as clones so that the v3 / v4 builds run them 8 or 16
// lanes wide (the baseline build has no packed float -> int64 conversion and 4-lane blends).
template <typename D, typename S>
LOOM_CPU_CLONES void convert_run(D* o, const S* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = convert<D>(x[i]);
}

// Floating -> int64 (x86 has a packed instruction for it only in AVX-512DQ): trunc(x) in double plus
// 1.5 * 2^52 puts the integer into the low mantissa bits, exact while |trunc(x)| < 2^51. A block holding a
// value outside that range (or NaN) is redone by the saturating scalar convert.
template <typename S>
LOOM_CPU_CLONES void to_int64_run(int64_t* o, const S* x, int64_t n) {
  constexpr int64_t kBlock = 64;
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  int64_t magic_bits;
  std::memcpy(&magic_bits, &kMagic, sizeof(double));
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    int32_t slow = 0;
#pragma omp simd reduction(| : slow)
    for (int64_t i = 0; i < m; ++i) {
      const double t = std::trunc(static_cast<double>(x[b + i]));
      const bool ok = std::fabs(t) < 2251799813685248.0;  // 2^51; false for NaN
      slow |= ok ? 0 : 1;
      const double shifted = (ok ? t : 0.0) + kMagic;
      int64_t bits;
      std::memcpy(&bits, &shifted, sizeof(double));
      o[b + i] = bits - magic_bits;
    }
    if (slow)
      for (int64_t i = 0; i < m; ++i) o[b + i] = convert<int64_t>(x[b + i]);
  }
}

template <typename D, typename S>
void convert_copy(D* dst, const S* src, const ElementwiseLoop& L) {
  for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
    if constexpr (std::is_same_v<D, int64_t> && std::is_floating_point_v<S>)
      to_int64_run(dst + off[0], src + off[1], n);
    else convert_run(dst + off[0], src + off[1], n);
  });
}

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
      const int d = loop.ndim - 1;
      if (is_transpose(loop)) transpose_copy(static_cast<D*>(dst), static_cast<const S*>(src), loop);
      else if (loop.strides[0][d] == 1 && loop.strides[1][d] == 1)
        convert_copy(static_cast<D*>(dst), static_cast<const S*>(src), loop);
      else map1(loop, static_cast<D*>(dst), static_cast<const S*>(src), [](S v) { return convert<D>(v); });
    });
  });
}

void fill(DType dt, void* out, double value, const ElementwiseLoop& loop) {
  LOOM_DISPATCH_ALL(dt, "fill", [&] { fill_impl(static_cast<scalar_t*>(out), value, loop); });
}

namespace {
template <typename T>
LOOM_CPU_CLONES void arange_run(T* o, int64_t b, int64_t e, double start, double step) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) o[i] = convert<T>(start + static_cast<double>(i) * step);
}

template <typename T>
LOOM_CPU_CLONES void arange_int_run(T* o, int64_t b, int64_t e, int64_t start, int64_t step) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) o[i] = static_cast<T>(start + i * step);
}

// start + i step in integers when both are integers and every value is exact in double and fits T: the
// same values as the double formula, in a loop that vectorizes (no packed double -> int64 before AVX-512).
template <typename T>
bool integer_arange(int64_t n, double start, double step, int64_t& s, int64_t& st) {
  if constexpr (!std::is_integral_v<T> || std::is_same_v<T, bool>) {
    return false;
  } else {
    const double last = start + static_cast<double>(n - 1) * step, lim = 9007199254740992.0;  // 2^53
    if (std::trunc(start) != start || std::trunc(step) != step || std::fabs(start) >= lim || std::fabs(last) >= lim ||
        std::fabs(step) >= lim)
      return false;
    const double lo = static_cast<double>(std::numeric_limits<T>::min()),
                 hi = static_cast<double>(std::numeric_limits<T>::max());
    if (std::min(start, last) < lo || std::max(start, last) > hi) return false;
    s = static_cast<int64_t>(start);
    st = static_cast<int64_t>(step);
    return true;
  }
}
}  // namespace

// Values are computed in double and then converted (in integers where that is exact), so float32 and
// integer outputs match PyTorch's for the usual ranges.
void arange(DType dt, void* out, int64_t n, double start, double step) {
  LOOM_DISPATCH_NUMERIC(dt, "arange", [&] {
    scalar_t* o = static_cast<scalar_t*>(out);
    int64_t s = 0, st = 0;
    const bool exact = n > 0 && integer_arange<scalar_t>(n, start, step, s, st);
    detail::parallel_range(n, n, [&](int64_t b, int64_t e) {
      if (exact) arange_int_run(o, b, e, s, st);
      else arange_run(o, b, e, start, step);
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
