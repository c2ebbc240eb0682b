// A float32 GEMM with a prepacked right operand (kernels/matmul.h): the RNNs'
// recurrent products, h_{t-1} @ W_hhᵀ forward and dG_t @ W_hh backward, where
// W_hh is the same for every step and the left operand is a batch of rows.
//
// Layout: B (k x n) as ceil(n / 16) column panels, each k rows of 16 floats
// (the last panel zero-padded), so a panel row is one 64-byte vector. Threads
// take panels; each first copies A into tiles of 8 rows interleaved along k.
// The kernel keeps an 8 x 16 tile of C in eight AVX-512 registers and for each
// k broadcasts eight values of A against one panel row: 8 FMAs per vector load
// of B. A last tile of fewer rows is computed on zero rows and stored in part;
// a ragged last panel goes through an 8 x 16 scratch tile.
//
// On 2 cores, 32 x 1024 x 256 (an LSTM step with H = 256): about 70 us per
// half against 106 us for single-threaded OpenBLAS, which packs W_hh again on
// every call.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/matmul.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kNr = 16;  // columns per panel: one AVX-512 vector of float
constexpr int kMr = 8;       // rows of the register tile

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define LOOM_PACKED_GEMM 1
typedef float v16f __attribute__((vector_size(64)));

// C rows [0, rows) x 16 columns at c (row stride ldc) = an 8-row tile of A @
// panel (+ C). at holds the tile's A interleaved, at[p * 8 + r] = A[r][p]
// (rows past `rows` zero), so each step of p reads 8 consecutive floats.
__attribute__((target("arch=x86-64-v4"))) void tile8(int64_t k, const float* at, const float* panel, float* c,
                                                     int64_t ldc, int64_t rows, bool accumulate) {
  v16f acc[kMr];
  for (int r = 0; r < kMr; ++r) acc[r] = v16f{};
  for (int64_t p = 0; p < k; ++p) {
    v16f b;
    std::memcpy(&b, panel + p * kNr, sizeof(b));
    const float* ap = at + p * kMr;
    for (int r = 0; r < kMr; ++r) acc[r] += ap[r] * b;
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (accumulate) {
      v16f old;
      std::memcpy(&old, c + r * ldc, sizeof(old));
      acc[r] += old;
    }
    std::memcpy(c + r * ldc, &acc[r], sizeof(acc[r]));
  }
}
#endif

}  // namespace

bool packed_gemm_supported() {
#ifdef LOOM_PACKED_GEMM
  static const bool ok = __builtin_cpu_supports("avx512f");
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
    buf.resize(size_t(tiles * kMr * std::max<int64_t>(k, 1)));
    for (int64_t t = 0; t < tiles; ++t) {
      float* at = buf.data() + t * kMr * k;
      const int64_t rows = std::min<int64_t>(kMr, m - t * kMr);
      for (int64_t r = 0; r < kMr; ++r) {
        const float* ar = a + (t * kMr + r) * lda;
        if (r < rows)
          for (int64_t p = 0; p < k; ++p) at[p * kMr + r] = ar[p];
        else
          for (int64_t p = 0; p < k; ++p) at[p * kMr + r] = 0.f;
      }
    }
    float tmp[kMr * kNr];
    for (int64_t j = lo; j < hi; ++j) {
      const float* panel = packed + j * k * kNr;
      const int64_t c0 = j * kNr, cols = std::min(kNr, n - c0);
      for (int64_t t = 0; t < tiles; ++t) {
        const float* at = buf.data() + t * kMr * k;
        const int64_t r0 = t * kMr, rows = std::min<int64_t>(kMr, m - r0);
        if (cols == kNr) {
          tile8(k, at, panel, c + r0 * ldc + c0, ldc, rows, accumulate);
          continue;
        }
        // A ragged last panel: a 16-wide scratch tile, then the valid columns.
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t q = 0; q < kNr; ++q)
            tmp[r * kNr + q] = accumulate && q < cols ? c[(r0 + r) * ldc + c0 + q] : 0.f;
        tile8(k, at, panel, tmp, kNr, rows, accumulate);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t q = 0; q < cols; ++q) c[(r0 + r) * ldc + c0 + q] = tmp[r * kNr + q];
      }
    }
  });
#endif
}

}  // namespace loom::kernels::cpu
