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

}  // namespace cpu

namespace cuda {

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch, bool allow_tf32, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
