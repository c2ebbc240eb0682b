// Batched GEMM: C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], row-major,
// op(A) is m x k, op(B) k x n. lda/ldb/ldc are the row strides of the matrices
// as stored (A is m x k, or k x m when trans_a), which is exactly CBLAS's
// row-major convention.
// float32/float64 call OpenBLAS, always single-threaded: loom's pool does the
// threading (kernels/cpu/thread_pool.cpp keeps OpenBLAS at one thread), so no
// OpenBLAS worker spins for the cores while loom's kernels run between two
// products. Batches of small matrices run in parallel over the batch; a large
// product is cut into one block of rows (or columns) of C per thread, the
// larger of the two dimensions, so that each thread packs the smaller operand
// again rather than the larger one.
// int32/int64 use a plain i-p-j loop (the innermost loop runs along rows of B
// and C, so it vectorizes) accumulating in wrapping 64-bit integers; alpha and
// beta are truncated to integers. beta == 0 never reads C (it may hold NaN or
// garbage), as BLAS specifies.
#include <cblas.h>
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>
#include "core/error.h"
#include "kernels/pointwise.h"
#include "kernels/matmul.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

// Products below this many multiply-adds are too small for OpenBLAS to thread.
constexpr int64_t kSmallGemm = 64 * 64 * 64;

template <typename T>
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
void int_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t alpha, const T* a, int64_t lda, const T* b,
              int64_t ldb, int64_t beta, T* c, int64_t ldc, uint64_t* acc) {
  for (int64_t i = 0; i < m; ++i) {
    std::fill(acc, acc + n, 0);
    for (int64_t p = 0; p < k; ++p) {
      const uint64_t av = uint64_t(static_cast<int64_t>(ta ? a[p * lda + i] : a[i * lda + p]));
      if (tb) {
        for (int64_t j = 0; j < n; ++j) acc[j] += av * uint64_t(static_cast<int64_t>(b[j * ldb + p]));
      } else {
        const T* br = b + p * ldb;
        for (int64_t j = 0; j < n; ++j) acc[j] += av * uint64_t(static_cast<int64_t>(br[j]));
      }
    }
    T* cr = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      uint64_t v = uint64_t(alpha) * acc[j];
      if (beta != 0) v += uint64_t(beta) * uint64_t(static_cast<int64_t>(cr[j]));
      cr[j] = static_cast<T>(static_cast<int64_t>(v));
    }
  }
}

// Blocks of C are a multiple of this many rows or columns (a register tile).
constexpr int64_t kSplitAlign = 16;

// One product over loom's pool: C's rows (m >= n) or columns cut into one
// contiguous block per thread, each a single-threaded BLAS call. Inline when
// small or already inside a parallel region.
template <typename T>
void split_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const bool by_rows = m >= n;
  const int64_t len = by_rows ? m : n, units = (len + kSplitAlign - 1) / kSplitAlign;
  const int chunks = m * n * std::max<int64_t>(k, 1) < kSmallGemm || in_parallel_region()
                         ? 1
                         : static_cast<int>(std::min<int64_t>(units, pool_threads()));
  if (chunks <= 1) {
    blas_gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  detail::parallel_chunks(units, chunks, [&](int, int64_t u0, int64_t u1) {
    const int64_t lo = u0 * kSplitAlign, cnt = std::min(len, u1 * kSplitAlign) - lo;
    if (by_rows)
      blas_gemm<T>(ta, tb, cnt, n, k, alpha, a + (ta == CblasTrans ? lo : lo * lda), lda, b, ldb, beta, c + lo * ldc,
                   ldc);
    else blas_gemm<T>(ta, tb, m, cnt, k, alpha, a, lda, b + (tb == CblasTrans ? lo * ldb : lo), ldb, beta, c + lo, ldc);
  });
}

// A row stride only matters when the matrix has more than one row; BLAS still
// wants it >= the number of columns.
int64_t fix_ld(int64_t ld, int64_t rows, int64_t cols, const char* name) {
  if (rows <= 1) return std::max<int64_t>(ld, std::max<int64_t>(cols, 1));
  LOOM_CHECK(ld >= cols, "gemm: row stride ", name, " = ", ld, " is smaller than the ", cols,
             " columns of the stored matrix");
  return ld;
}

template <typename T>
void gemm_impl(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const T* A, int64_t lda,
               int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, double beta, T* C, int64_t ldc,
               int64_t stride_c, int64_t batch) {
  const int64_t flops = m * n * std::max<int64_t>(k, 1);
  if constexpr (std::is_floating_point_v<T>) {
    const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
    auto one = [&](int64_t i) {
      blas_gemm<T>(ta, tb, m, n, k, T(alpha), A + i * stride_a, lda, B + i * stride_b, ldb, T(beta), C + i * stride_c,
                   ldc);
    };
    // Whole products per thread when there are small ones or enough of them.
    if (batch > 1 && (flops < kSmallGemm || batch >= 2 * int64_t(pool_threads()))) {
      detail::parallel_range(batch, batch * flops, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) one(i);
      });
    } else {
      for (int64_t i = 0; i < batch; ++i)
        split_gemm<T>(ta, tb, m, n, k, T(alpha), A + i * stride_a, lda, B + i * stride_b, ldb, T(beta),
                      C + i * stride_c, ldc);
    }
  } else {
    const int64_t al = static_cast<int64_t>(alpha), be = static_cast<int64_t>(beta);
    // Parallel over (batch, row of C): each task owns one row of one C.
    detail::parallel_range(batch * m, batch * flops, [&](int64_t lo, int64_t hi) {
      std::vector<uint64_t> acc(n);
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t bi = r / m, i = r % m;
        const T* ar = A + bi * stride_a + (trans_a ? i : i * lda);
        int_gemm<T>(trans_a, trans_b, 1, n, k, al, ar, lda, B + bi * stride_b, ldb, be, C + bi * stride_c + i * ldc,
                    ldc, acc.data());
      }
    });
  }
}

}  // namespace

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch) {
  LOOM_CHECK(m >= 0 && n >= 0 && k >= 0 && batch >= 0, "gemm: negative size m=", m, " n=", n, " k=", k,
             " batch=", batch);
  if (m == 0 || n == 0 || batch == 0) return;
  lda = fix_ld(lda, trans_a ? k : m, trans_a ? m : k, "lda");
  ldb = fix_ld(ldb, trans_b ? n : k, trans_b ? k : n, "ldb");
  ldc = fix_ld(ldc, m, n, "ldc");
  LOOM_CHECK(std::max({m, n, k, lda, ldb, ldc}) <= INT32_MAX,
             "gemm: sizes and strides must fit in 32 bits (BLAS), got m=", m, " n=", n, " k=", k);
  LOOM_DISPATCH_NUMERIC(dt, "gemm", [&] {
    gemm_impl(trans_a, trans_b, m, n, k, alpha, static_cast<const scalar_t*>(a), lda, stride_a,
              static_cast<const scalar_t*>(b), ldb, stride_b, beta, static_cast<scalar_t*>(c), ldc, stride_c, batch);
  });
}

}  // namespace loom::kernels::cpu
