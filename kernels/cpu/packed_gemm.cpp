// A float32 GEMM with a prepacked right operand (kernels/matmul.h): the RNNs'
// recurrent products, h_{t-1} @ W_hhᵀ forward and dG_t @ W_hh backward, where
// W_hh is the same for every step and the left operand is a batch of rows.
//
// Layout: B (k x n) as ceil(n / 16) column panels, each k rows of 16 floats
// (the last panel zero-padded), so a panel row is one 64-byte vector. Threads
// take panels; each first copies A into tiles of 8 rows interleaved along k.
// The kernel keeps an 8 x 16 tile of C in eight AVX-512 registers and for each
// k broadcasts eight values of A against one panel row: 8 FMAs per vector load
// of B. Where two full panels lie side by side it takes both at once (8 x 32,
// sixteen registers, each broadcast feeding two FMAs): a core with two AVX-512
// FMA units (Intel's server cores) needs that many independent sums and the
// fewer loads per FMA; on one with a single unit (AMD Zen 4) it changes
// little. A last tile of fewer rows is computed on zero rows and stored in
// part; a ragged last panel goes through an 8 x 16 scratch tile.
//
// On 2 cores, 32 x 1024 x 256 (an LSTM step with H = 256): about 70 us per
// half against 106 us for single-threaded OpenBLAS, which packs W_hh again on
// every call.
//
// gemm_interleaved turns the roles around for a fixed left operand (a
// convolution's weight): A interleaved once, B (a column slab) read in place
// with its row stride, tiles of A outside and panels of B inside, one thread.
// gemm_interleaved_taps reads B's rows from shifted windows of a zero-padded
// input instead (a stride-1 convolution without the column matrix).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/matmul.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kNr = 16;         // columns per panel: one AVX-512 vector of float
constexpr int kMr = 8;              // rows of the register tile
constexpr int64_t kTapChunk = 768;  // gemm_interleaved_taps: reduction rows per pass (8 x 768 floats: 24 KiB)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define LOOM_PACKED_GEMM 1
#include <immintrin.h>
typedef float v16f __attribute__((vector_size(64)));

// Writes (or adds into) rows [0, rows) of a 16-column tile of C from its
// accumulators.
__attribute__((target("arch=x86-64-v4"))) inline void store_tile(v16f* acc, float* c, int64_t ldc, int64_t rows,
                                                                 bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    if (accumulate) {
      v16f old;
      std::memcpy(&old, c + r * ldc, sizeof(old));
      acc[r] += old;
    }
    std::memcpy(c + r * ldc, &acc[r], sizeof(acc[r]));
  }
}
// C rows [0, rows) x 16 columns at c (row stride ldc) = an 8-row tile of A @
// 16 columns of B whose rows are ldb apart (+ C). at holds the tile's A
// interleaved, at[p * 8 + r] = A[r][p] (rows past `rows` zero), so each step
// of p reads 8 consecutive floats and one 64-byte row of B.
__attribute__((target("arch=x86-64-v4"))) void tile8(int64_t k, const float* at, const float* panel, int64_t ldb,
                                                     float* c, int64_t ldc, int64_t rows, bool accumulate) {
  v16f acc[kMr];
  for (int r = 0; r < kMr; ++r) acc[r] = v16f{};
  for (int64_t p = 0; p < k; ++p) {
    v16f b;
    std::memcpy(&b, panel + p * ldb, sizeof(b));
    const float* ap = at + p * kMr;
    for (int r = 0; r < kMr; ++r) acc[r] += ap[r] * b;
  }
  store_tile(acc, c, ldc, rows, accumulate);
}
// Two tiles side by side, 8 rows x 32 columns: the columns [0, 16) of C from
// the panel at b0 and [16, 32) from b1 (rows ldb apart in both). Each value of
// A, broadcast once, feeds two FMAs: 16 accumulators and 10 loads per 16 FMAs
// (tile8: 8 and 9 per 8), which is what a core with two AVX-512 FMA units
// needs to keep both busy.
__attribute__((target("arch=x86-64-v4"))) void tile8x2(int64_t k, const float* at, const float* b0, const float* b1,
                                                       int64_t ldb, float* c, int64_t ldc, int64_t rows,
                                                       bool accumulate) {
  v16f acc0[kMr], acc1[kMr];
  for (int r = 0; r < kMr; ++r) acc0[r] = acc1[r] = v16f{};
  for (int64_t p = 0; p < k; ++p) {
    v16f x, y;
    std::memcpy(&x, b0 + p * ldb, sizeof(x));
    std::memcpy(&y, b1 + p * ldb, sizeof(y));
    const float* ap = at + p * kMr;
    for (int r = 0; r < kMr; ++r) {
      acc0[r] += ap[r] * x;
      acc1[r] += ap[r] * y;
    }
  }
  store_tile(acc0, c, ldc, rows, accumulate);
  store_tile(acc1, c + kNr, ldc, rows, accumulate);
}
// The same tile with A read in place: its eight rows at a[r * lda] (rows past
// `rows` repeat row 0 and are not stored), for a left operand used once.
__attribute__((target("arch=x86-64-v4"))) void tile8_rows(int64_t k, const float* a, int64_t lda, const float* panel,
                                                          int64_t ldb, float* c, int64_t ldc, int64_t rows,
                                                          bool accumulate) {
  const float* ar[kMr];
  for (int r = 0; r < kMr; ++r) ar[r] = a + (r < rows ? r : 0) * lda;
  v16f acc[kMr];
  for (int r = 0; r < kMr; ++r) acc[r] = v16f{};
  for (int64_t p = 0; p < k; ++p) {
    v16f b;
    std::memcpy(&b, panel + p * ldb, sizeof(b));
    for (int r = 0; r < kMr; ++r) acc[r] += ar[r][p] * b;
  }
  store_tile(acc, c, ldc, rows, accumulate);
}
// tile8_rows over 32 columns: [0, 16) from b0, [16, 32) from b1 (as tile8x2).
__attribute__((target("arch=x86-64-v4"))) void tile8_rows_x2(int64_t k, const float* a, int64_t lda, const float* b0,
                                                             const float* b1, int64_t ldb, float* c, int64_t ldc,
                                                             int64_t rows, bool accumulate) {
  const float* ar[kMr];
  for (int r = 0; r < kMr; ++r) ar[r] = a + (r < rows ? r : 0) * lda;
  v16f acc0[kMr], acc1[kMr];
  for (int r = 0; r < kMr; ++r) acc0[r] = acc1[r] = v16f{};
  for (int64_t p = 0; p < k; ++p) {
    v16f x, y;
    std::memcpy(&x, b0 + p * ldb, sizeof(x));
    std::memcpy(&y, b1 + p * ldb, sizeof(y));
    for (int r = 0; r < kMr; ++r) {
      const float v = ar[r][p];
      acc0[r] += v * x;
      acc1[r] += v * y;
    }
  }
  store_tile(acc0, c, ldc, rows, accumulate);
  store_tile(acc1, c + kNr, ldc, rows, accumulate);
}
// tile8 / tile8x2 with the reduction over taps: row c of tap t at b + off[t] + c * ldb (A tap-major).
__attribute__((target("arch=x86-64-v4"))) void tile8_taps(int64_t kc, int64_t ntaps, const int64_t* off,
                                                          const float* at, const float* b, int64_t ldb, float* c,
                                                          int64_t ldc, int64_t rows, bool accumulate) {
  v16f acc[kMr];
  for (int r = 0; r < kMr; ++r) acc[r] = v16f{};
  for (int64_t t = 0; t < ntaps; ++t) {
    const float* bt = b + off[t];
    const float* a_t = at + t * kc * kMr;
    for (int64_t p = 0; p < kc; ++p) {
      v16f x;
      std::memcpy(&x, bt + p * ldb, sizeof(x));
      const float* ap = a_t + p * kMr;
      for (int r = 0; r < kMr; ++r) acc[r] += ap[r] * x;
    }
  }
  store_tile(acc, c, ldc, rows, accumulate);
}
__attribute__((target("arch=x86-64-v4"))) void tile8x2_taps(int64_t kc, int64_t ntaps, const int64_t* off,
                                                            const float* at, const float* b, int64_t ldb, float* c,
                                                            int64_t ldc, int64_t rows, bool accumulate) {
  v16f acc0[kMr], acc1[kMr];
  for (int r = 0; r < kMr; ++r) acc0[r] = acc1[r] = v16f{};
  for (int64_t t = 0; t < ntaps; ++t) {
    const float* bt = b + off[t];
    const float* a_t = at + t * kc * kMr;
    for (int64_t p = 0; p < kc; ++p) {
      v16f x, y;
      std::memcpy(&x, bt + p * ldb, sizeof(x));
      std::memcpy(&y, bt + p * ldb + kNr, sizeof(y));
      const float* ap = a_t + p * kMr;
      for (int r = 0; r < kMr; ++r) {
        acc0[r] += ap[r] * x;
        acc1[r] += ap[r] * y;
      }
    }
  }
  store_tile(acc0, c, ldc, rows, accumulate);
  store_tile(acc1, c + kNr, ldc, rows, accumulate);
}
// dst [cols, rows rounded up to 16] = srcᵀ (src rows x cols, row stride lds),
// the padding columns zero: 16 x 16 blocks transposed in registers, four
// rounds of two-source permutes (round b swaps the elements (i, j) and
// (i + 2^b, j - 2^b) where bit b of i is clear and bit b of j set).
__attribute__((target("arch=x86-64-v4"))) void transpose16(const float* src, int64_t lds, int64_t rows, int64_t cols,
                                                           float* dst, int64_t ldd) {
  alignas(64) static const int32_t kIdx[4][2][16] = {{{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
                                                      {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31}},
                                                     {{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
                                                      {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31}},
                                                     {{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
                                                      {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31}},
                                                     {{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
                                                      {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}}};
  __m512i idx[4][2];
  for (int b = 0; b < 4; ++b)
    for (int h = 0; h < 2; ++h) idx[b][h] = _mm512_load_si512(kIdx[b][h]);
  for (int64_t i0 = 0; i0 < rows; i0 += 16) {
    const int64_t ni = std::min<int64_t>(16, rows - i0);
    for (int64_t j0 = 0; j0 < cols; j0 += 16) {
      const int64_t nj = std::min<int64_t>(16, cols - j0);
      const __mmask16 m = __mmask16((1u << nj) - 1u);
      __m512 v[16];
      for (int i = 0; i < 16; ++i)
        v[i] = i < ni ? _mm512_maskz_loadu_ps(m, src + (i0 + i) * lds + j0) : _mm512_setzero_ps();
      for (int b = 0; b < 4; ++b) {
        const int d = 1 << b;
        for (int i = 0; i < 16; ++i) {
          if (i & d) continue;
          const __m512 x = v[i], y = v[i + d];
          v[i] = _mm512_permutex2var_ps(x, idx[b][0], y);
          v[i + d] = _mm512_permutex2var_ps(x, idx[b][1], y);
        }
      }
      for (int j = 0; j < nj; ++j) _mm512_storeu_ps(dst + (j0 + j) * ldd + i0, v[j]);
    }
  }
}
// interleave8: the lane indices of its three rounds. An 8 x 16 block of A
// (element (r, q): row r, column q) goes from eight vectors of a row each
// (vector r, lane q) to the interleaved order, position q * 8 + r: vector
// q >> 1, lane (q & 1) * 8 + r. Each round exchanges one bit of the vector
// index with one bit of the lane between pairs of vectors, as transpose16
// does, and places the lanes so that the last round ends in that order:
//   layout 0: vector (r2 r1 r0), lane (q3 q2 q1 q0)
//   layout 1: vector (r2 r1 q1), lane (q3 q2 q0 r0)
//   layout 2: vector (r2 q2 q1), lane (q3 q0 r1 r0)
//   layout 3: vector (q3 q2 q1), lane (q0 r2 r1 r0)
// Round k pairs the vectors that differ in bit k - 1 of their index; idx[k -
// 1][h] gives, for the output whose bit k - 1 is h, the source of each lane (+
// 16: from the pair's upper vector).
struct Interleave8Index {
  alignas(64) int32_t idx[3][2][16];
};
const Interleave8Index& interleave8_index() {
  static const Interleave8Index table = [] {
    Interleave8Index t{};
    auto bit = [](int x, int i) { return (x >> i) & 1; };
    auto vec = [&](int k, int r, int q) {
      switch (k) {
        case 0: return r;
        case 1: return (r & 6) | bit(q, 1);
        case 2: return bit(r, 2) << 2 | bit(q, 2) << 1 | bit(q, 1);
        default: return q >> 1;
      }
    };
    auto lane = [&](int k, int r, int q) {
      switch (k) {
        case 0: return q;
        case 1: return bit(q, 3) << 3 | bit(q, 2) << 2 | bit(q, 0) << 1 | bit(r, 0);
        case 2: return bit(q, 3) << 3 | bit(q, 0) << 2 | bit(r, 1) << 1 | bit(r, 0);
        default: return bit(q, 0) << 3 | r;
      }
    };
    for (int k = 1; k <= 3; ++k)
      for (int h = 0; h < 2; ++h)
        for (int r = 0; r < 8; ++r)
          for (int q = 0; q < 16; ++q) {
            if (vec(k, r, q) != h << (k - 1)) continue;  // the output vectors share one table per h
            t.idx[k - 1][h][lane(k, r, q)] = bit(vec(k - 1, r, q), k - 1) * 16 + lane(k - 1, r, q);
          }
    return t;
  }();
  return table;
}
// One tile of interleave_rows: at[p * 8 + r] = a[r * lda + p] for p < k, rows
// r >= `rows` zero; 8 x 16 blocks through three rounds of two-source permutes
// (24 per block, against 128 scalar moves).
__attribute__((target("arch=x86-64-v4"))) void interleave8(float* at, const float* a, int64_t lda, int64_t rows,
                                                           int64_t k) {
  const Interleave8Index& t = interleave8_index();
  __m512i idx[3][2];
  for (int b = 0; b < 3; ++b)
    for (int h = 0; h < 2; ++h) idx[b][h] = _mm512_load_si512(t.idx[b][h]);
  for (int64_t p0 = 0; p0 < k; p0 += 16) {
    const int64_t kk = std::min<int64_t>(16, k - p0);
    const __mmask16 m = __mmask16((1u << kk) - 1u);
    __m512 v[kMr];
    for (int r = 0; r < kMr; ++r) v[r] = r < rows ? _mm512_maskz_loadu_ps(m, a + r * lda + p0) : _mm512_setzero_ps();
    for (int b = 0; b < 3; ++b) {
      const int d = 1 << b;
      for (int i = 0; i < kMr; ++i) {
        if (i & d) continue;
        const __m512 x = v[i], y = v[i + d];
        v[i] = _mm512_permutex2var_ps(x, idx[b][0], y);
        v[i + d] = _mm512_permutex2var_ps(x, idx[b][1], y);
      }
    }
    // Vector o holds columns 2o and 2o + 1 (a constant index for each, so v stays in registers).
    float* out = at + p0 * kMr;
    for (int o = 0; o < kMr; ++o) {
      const int64_t cols = std::min<int64_t>(2, std::max<int64_t>(0, kk - 2 * o));
      if (cols == 2) _mm512_storeu_ps(out + o * 16, v[o]);
      else if (cols == 1) _mm512_mask_storeu_ps(out + o * 16, __mmask16(0x00FF), v[o]);
    }
  }
}
// The zero-padded copy of a ragged last panel, per thread.
std::vector<float>& edge_panel() {
  thread_local std::vector<float> buf;
  return buf;
}
#endif

}  // namespace

bool packed_gemm_supported() {
#ifdef LOOM_PACKED_GEMM
  // Everything arch=x86-64-v4 lets the compiler use, not only AVX-512F.
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512cd");
  return ok;
#else
  return false;
#endif
}

int64_t packed_size(int64_t k, int64_t n) { return (n + kNr - 1) / kNr * kNr * std::max<int64_t>(k, 0); }

void pack_matrix(float* dst, const float* b, int64_t ldb, bool trans, int64_t k, int64_t n) {
  const int64_t panels = (n + kNr - 1) / kNr;
  detail::parallel_range(panels, panels * k * kNr, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) {
      float* out = dst + j * k * kNr;
      const int64_t c0 = j * kNr, cols = std::min(kNr, n - c0);
      for (int64_t p = 0; p < k; ++p) {
        float* row = out + p * kNr;
        for (int64_t c = 0; c < cols; ++c) row[c] = trans ? b[(c0 + c) * ldb + p] : b[p * ldb + c0 + c];
        for (int64_t c = cols; c < kNr; ++c) row[c] = 0.f;
      }
    }
  });
}

int64_t interleaved_size(int64_t m, int64_t k) { return (m + kMr - 1) / kMr * kMr * std::max<int64_t>(k, 1); }

void interleave_rows(float* dst, const float* a, int64_t lda, int64_t m, int64_t k) {
  const int64_t tiles = (m + kMr - 1) / kMr;
#ifdef LOOM_PACKED_GEMM
  if (packed_gemm_supported()) {
    for (int64_t t = 0; t < tiles; ++t)
      interleave8(dst + t * kMr * k, a + t * kMr * lda, lda, std::min<int64_t>(kMr, m - t * kMr), k);
    return;
  }
#endif
  for (int64_t t = 0; t < tiles; ++t) {
    float* at = dst + t * kMr * k;
    const int64_t rows = std::min<int64_t>(kMr, m - t * kMr);
    for (int64_t r = 0; r < kMr; ++r) {
      const int64_t i = t * kMr + r;
      if (r >= rows)
        for (int64_t p = 0; p < k; ++p) at[p * kMr + r] = 0.f;
      else
        for (int64_t p = 0; p < k; ++p) at[p * kMr + r] = a[i * lda + p];
    }
  }
}

void gemm_interleaved(const float* at, int64_t m, int64_t k, const float* b, int64_t ldb, int64_t n, float* c,
                      int64_t ldc, bool accumulate) {
  LOOM_CHECK(packed_gemm_supported(), "gemm_interleaved: needs a CPU with AVX-512 (packed_gemm_supported())");
#ifdef LOOM_PACKED_GEMM
  if (m <= 0 || n <= 0) return;
  const int64_t tiles = (m + kMr - 1) / kMr, full = n / kNr * kNr, cols = n - full;
  // A ragged last panel: its columns copied once into a zero-padded one.
  std::vector<float>& edge = edge_panel();
  if (cols > 0) {
    edge.assign(size_t(std::max<int64_t>(k, 1) * kNr), 0.f);
    for (int64_t p = 0; p < k; ++p)
      for (int64_t q = 0; q < cols; ++q) edge[size_t(p * kNr + q)] = b[p * ldb + full + q];
  }
  float tmp[kMr * kNr];
  // Tiles of A outside, panels of B inside: a tile (8 x k) stays in L1 while
  // the panels stream from L2 (B is a cache-sized block: a convolution's slab).
  for (int64_t t = 0; t < tiles; ++t) {
    const float* a_t = at + t * kMr * k;
    const int64_t r0 = t * kMr, rows = std::min<int64_t>(kMr, m - r0);
    int64_t c0 = 0;
    for (; c0 + 2 * kNr <= full; c0 += 2 * kNr)
      tile8x2(k, a_t, b + c0, b + c0 + kNr, ldb, c + r0 * ldc + c0, ldc, rows, accumulate);
    for (; c0 < full; c0 += kNr) tile8(k, a_t, b + c0, ldb, c + r0 * ldc + c0, ldc, rows, accumulate);
    if (cols > 0) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t q = 0; q < kNr; ++q)
          tmp[r * kNr + q] = accumulate && q < cols ? c[(r0 + r) * ldc + full + q] : 0.f;
      tile8(k, a_t, edge.data(), kNr, tmp, kNr, rows, accumulate);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t q = 0; q < cols; ++q) c[(r0 + r) * ldc + full + q] = tmp[r * kNr + q];
    }
  }
#endif
}

void gemm_interleaved_taps(const float* at, int64_t m, int64_t kc, int64_t ntaps, const int64_t* off, const float* b,
                           int64_t ldb, int64_t n, float* c, int64_t ldc) {
  LOOM_CHECK(packed_gemm_supported(), "gemm_interleaved_taps: needs a CPU with AVX-512 (packed_gemm_supported())");
#ifdef LOOM_PACKED_GEMM
  if (m <= 0 || n <= 0) return;
  const int64_t k = kc * ntaps, tiles = (m + kMr - 1) / kMr, full = n / kNr * kNr, cols = n - full;
  // A ragged last panel: its rows gathered once, in the reduction's order, into a zero-padded panel.
  std::vector<float>& edge = edge_panel();
  if (cols > 0) {
    edge.assign(size_t(std::max<int64_t>(k, 1) * kNr), 0.f);
    for (int64_t t = 0; t < ntaps; ++t)
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t q = 0; q < cols; ++q) edge[size_t((t * kc + p) * kNr + q)] = b[off[t] + p * ldb + full + q];
  }
  float tmp[kMr * kNr];
  // The taps in chunks whose slice of an A tile (8 x chunk·kc floats) stays in L1 while the panels pass
  // (a 3x3 layer's input gradient over 256 channels: 8 x 2304 floats, 72 KiB, would stream from L2);
  // the chunks after the first add into C.
  const int64_t chunk = std::max<int64_t>(1, kTapChunk / std::max<int64_t>(kc, 1));
  for (int64_t t = 0; t < tiles; ++t) {
    const float* a_t = at + t * kMr * k;
    const int64_t r0 = t * kMr, rows = std::min<int64_t>(kMr, m - r0);
    for (int64_t t0 = 0; t0 < ntaps; t0 += chunk) {
      const int64_t nt = std::min(chunk, ntaps - t0);
      const float* a_c = a_t + t0 * kc * kMr;
      int64_t c0 = 0;
      for (; c0 + 2 * kNr <= full; c0 += 2 * kNr)
        tile8x2_taps(kc, nt, off + t0, a_c, b + c0, ldb, c + r0 * ldc + c0, ldc, rows, t0 > 0);
      for (; c0 < full; c0 += kNr) tile8_taps(kc, nt, off + t0, a_c, b + c0, ldb, c + r0 * ldc + c0, ldc, rows, t0 > 0);
    }
    if (cols > 0) {
      tile8(k, a_t, edge.data(), kNr, tmp, kNr, rows, false);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t q = 0; q < cols; ++q) c[(r0 + r) * ldc + full + q] = tmp[r * kNr + q];
    }
  }
#endif
}

void transpose_padded(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd) {
  LOOM_CHECK(packed_gemm_supported(), "transpose_padded: needs a CPU with AVX-512 (packed_gemm_supported())");
#ifdef LOOM_PACKED_GEMM
  transpose16(src, lds, rows, cols, dst, ldd);
#endif
}

void gemm_rows(const float* a, int64_t lda, int64_t m, int64_t k, const float* b, int64_t ldb, int64_t n, float* c,
               int64_t ldc, bool accumulate) {
  LOOM_CHECK(packed_gemm_supported(), "gemm_rows: needs a CPU with AVX-512 (packed_gemm_supported())");
  LOOM_CHECK(n % kNr == 0, "gemm_rows: n (", n, ") must be a multiple of ", kNr);
#ifdef LOOM_PACKED_GEMM
  if (m <= 0 || n <= 0) return;
  // Tiles of A outside (8 rows, k long: in L1 while every panel passes),
  // panels of B inside.
  for (int64_t r0 = 0; r0 < m; r0 += kMr) {
    const int64_t rows = std::min<int64_t>(kMr, m - r0);
    int64_t c0 = 0;
    for (; c0 + 2 * kNr <= n; c0 += 2 * kNr)
      tile8_rows_x2(k, a + r0 * lda, lda, b + c0, b + c0 + kNr, ldb, c + r0 * ldc + c0, ldc, rows, accumulate);
    for (; c0 < n; c0 += kNr) tile8_rows(k, a + r0 * lda, lda, b + c0, ldb, c + r0 * ldc + c0, ldc, rows, accumulate);
  }
#endif
}

void packed_gemm(const float* packed, int64_t k, int64_t n, int64_t m, const float* a, int64_t lda, float* c,
                 int64_t ldc, bool accumulate) {
  LOOM_CHECK(packed_gemm_supported(), "packed_gemm: needs a CPU with AVX-512 (packed_gemm_supported())");
#ifdef LOOM_PACKED_GEMM
  if (m <= 0 || n <= 0) return;
  const int64_t panels = (n + kNr - 1) / kNr, tiles = (m + kMr - 1) / kMr;
  detail::parallel_range(panels, panels * m * std::max<int64_t>(k, 1) * kNr, [&](int64_t lo, int64_t hi) {
    // A interleaved by tiles of 8 rows, once per thread: rows of a time step lie
    // far apart (a row stride of T·4H floats), and eight such streams thrash a
    // cache set; interleaved, the kernel reads A sequentially.
    thread_local std::vector<float> buf;
    buf.resize(size_t(interleaved_size(m, k)));
    interleave_rows(buf.data(), a, lda, m, k);
    float tmp[kMr * kNr];
    for (int64_t j = lo; j < hi; ++j) {
      const float* panel = packed + j * k * kNr;
      const int64_t c0 = j * kNr, cols = std::min(kNr, n - c0);
      if (j + 1 < hi && n - c0 >= 2 * kNr) {  // two full panels at once
        for (int64_t t = 0; t < tiles; ++t) {
          const int64_t r0 = t * kMr;
          tile8x2(k, buf.data() + t * kMr * k, panel, panel + k * kNr, kNr, c + r0 * ldc + c0, ldc,
                  std::min<int64_t>(kMr, m - r0), accumulate);
        }
        ++j;
        continue;
      }
      for (int64_t t = 0; t < tiles; ++t) {
        const float* at = buf.data() + t * kMr * k;
        const int64_t r0 = t * kMr, rows = std::min<int64_t>(kMr, m - r0);
        if (cols == kNr) {
          tile8(k, at, panel, kNr, c + r0 * ldc + c0, ldc, rows, accumulate);
          continue;
        }
        // A ragged last panel: a 16-wide scratch tile, then the valid columns.
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t q = 0; q < kNr; ++q)
            tmp[r * kNr + q] = accumulate && q < cols ? c[(r0 + r) * ldc + c0 + q] : 0.f;
        tile8(k, at, panel, kNr, tmp, kNr, rows, accumulate);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t q = 0; q < cols; ++q) c[(r0 + r) * ldc + c0 + q] = tmp[r * kNr + q];
      }
    }
  });
#endif
}

}  // namespace loom::kernels::cpu
