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
//
// gemm_interleaved turns the roles around for a fixed left operand (a
// convolution's weight): A interleaved once, B (a column slab) read in place
// with its row stride, tiles of A outside and panels of B inside, one thread.
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
  for (int64_t r = 0; r < rows; ++r) {
    if (accumulate) {
      v16f old;
      std::memcpy(&old, c + r * ldc, sizeof(old));
      acc[r] += old;
    }
    std::memcpy(c + r * ldc, &acc[r], sizeof(acc[r]));
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
    for (int64_t c0 = 0; c0 < full; c0 += kNr) tile8(k, a_t, b + c0, ldb, c + r0 * ldc + c0, ldc, rows, accumulate);
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
