// Matrix multiplication: the contract of kernels/cpu/matmul.cpp (OpenBLAS)
// and kernels/cuda/matmul.cu (cuBLAS; TF32 math only when allow_tf32), see
// kernels/contract.h.
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

namespace cpu {

// Row-major C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], op = transpose
// when trans_*; lda/ldb/ldc are row strides, stride_* batch strides (elements).
// Float types use OpenBLAS; integer types a plain loop.
void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch);

// A float32 product whose right operand is fixed over many calls (the RNNs'
// recurrent products, one per time step): B is packed once into column panels
// and each call runs an AVX-512 register-tile kernel over them on loom's pool,
// instead of OpenBLAS repacking B every call. Available where the CPU has
// AVX-512 (packed_gemm_supported); callers use gemm otherwise.
//   packed_size(k, n)                floats the packed form of a k x n B takes
//   pack_matrix(dst, b, ldb, trans, k, n)   B = b (k x n, row stride ldb), or bᵀ when trans (b is n x k)
//   packed_gemm(packed, k, n, m, a, lda, c, ldc, accumulate)
//                                    C[m x n] = A[m x k] @ B, plus C when accumulate
// The sums run over k in order, one per output, as a plain loop would.
bool packed_gemm_supported();
int64_t packed_size(int64_t k, int64_t n);
void pack_matrix(float* dst, const float* b, int64_t ldb, bool trans, int64_t k, int64_t n);
void packed_gemm(const float* packed, int64_t k, int64_t n, int64_t m, const float* a, int64_t lda, float* c,
                 int64_t ldc, bool accumulate);
// The same kernel with the roles turned around, for a left operand fixed over
// many calls (a convolution's weight): A (m x k, row stride lda) interleaved
// once into tiles of 8 rows, B read in place (row stride ldb), one thread.
//   interleaved_size(m, k)              floats the interleaved form of A takes
//   interleave_rows(dst, a, lda, m, k)
//   gemm_interleaved(at, m, k, b, ldb, n, c, ldc, accumulate)
//                                       C[m x n] = A @ B[k x n], plus C when accumulate
int64_t interleaved_size(int64_t m, int64_t k);
void interleave_rows(float* dst, const float* a, int64_t lda, int64_t m, int64_t k);
void gemm_interleaved(const float* at, int64_t m, int64_t k, const float* b, int64_t ldb, int64_t n, float* c,
                      int64_t ldc, bool accumulate);
// The same with B's rows gathered from shifted windows of one buffer, for a convolution of stride 1
// without im2col: the reduction runs over ntaps taps of kc rows each, row c of tap t at b + off[t] +
// c * ldb (A interleaved with k = ntaps * kc, tap-major: A[i][t * kc + c]).
//   gemm_interleaved_taps(at, m, kc, ntaps, off, b, ldb, n, c, ldc)
//                                       C[m x n] = sum_t sum_c A[i][t kc + c] b[off[t] + c ldb + j]
void gemm_interleaved_taps(const float* at, int64_t m, int64_t kc, int64_t ntaps, const int64_t* off, const float* b,
                           int64_t ldb, int64_t n, float* c, int64_t ldc);
// And with both operands read in place, for a left operand used once (the
// column slab of a convolution's weight gradient): A (m x k, row stride lda),
// B (k x n, row stride ldb), n a multiple of 16; one thread.
//   gemm_rows(a, lda, m, k, b, ldb, n, c, ldc, accumulate)
void gemm_rows(const float* a, int64_t lda, int64_t m, int64_t k, const float* b, int64_t ldb, int64_t n, float* c,
               int64_t ldc, bool accumulate);
// dst [cols x rows rounded up to 16] (row stride ldd) = srcᵀ (src: rows x cols,
// row stride lds), the padding columns zero: gemm_rows's right operand from a
// block stored the other way round.
void transpose_padded(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd);

}  // namespace cpu

namespace cuda {

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch, bool allow_tf32, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
