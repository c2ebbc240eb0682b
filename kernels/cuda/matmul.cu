// Batched GEMM through cuBLAS: row-major C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b].
//
// cuBLAS is column-major. A row-major matrix with row stride ld is the
// column-major transpose with the same ld, so C^T = op(B)^T @ op(A)^T is
// computed by passing B first and A second, with m and n swapped and the
// transpose flags unchanged. One strided-batched call covers every batch.
//
// float32 runs with CUBLAS_COMPUTE_32F_FAST_TF32 only when the caller allows
// TF32 (tensor cores, ~10-bit mantissa inputs); otherwise CUBLAS_COMPUTE_32F,
// which is full-precision FP32. float64 uses cublasDgemmStridedBatched.
// One handle per device, created on first use and kept for the process; a
// mutex serializes setStream + launch so threads never race on a handle.
#include <cublas_v2.h>

#include <mutex>

#include "kernels/cuda/common.cuh"
#include "kernels/matmul.h"

#define LOOM_CUBLAS_CHECK(call)                                                                                        \
  do {                                                                                                                 \
    cublasStatus_t loom_st_ = (call);                                                                                  \
    if (loom_st_ != CUBLAS_STATUS_SUCCESS)                                                                             \
      LOOM_THROW(loom_st_ == CUBLAS_STATUS_ALLOC_FAILED ? ::loom::ErrorKind::OutOfMemory : ::loom::ErrorKind::Runtime, \
                 "cuBLAS error: ", cublasGetStatusString(loom_st_), " (", #call, " at ", __FILE__, ":", __LINE__,      \
                 ")");                                                                                                 \
  } while (0)

namespace loom::kernels::cuda {

namespace {

constexpr int kMaxDevices = 64;
std::mutex g_cublas_mu;
cublasHandle_t g_handles[kMaxDevices] = {};

cublasHandle_t handle_locked(int device) {
  LOOM_CHECK(device >= 0 && device < kMaxDevices, "gemm: device index ", device, " out of range");
  if (!g_handles[device]) LOOM_CUBLAS_CHECK(cublasCreate(&g_handles[device]));
  return g_handles[device];
}

int as_int(int64_t v, const char* what) {
  LOOM_CHECK(v >= 0 && v <= INT32_MAX, "gemm: ", what, " = ", v, " exceeds what cuBLAS accepts (int32)");
  return static_cast<int>(v);
}

}  // namespace

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch, bool allow_tf32, cudaStream_t stream) {
  LOOM_CHECK_TYPE(is_floating(dt), "matmul: CUDA supports float32/float64, got ", dtype_name(dt));
  if (m == 0 || n == 0 || batch == 0) return;
  int M = as_int(n, "n"), N = as_int(m, "m"), K = as_int(k, "k");
  int iA = as_int(ldb, "ldb"), iB = as_int(lda, "lda"), iC = as_int(ldc, "ldc");
  int nb = as_int(batch, "batch");
  // cuBLAS rejects a leading dimension below the row length even when that
  // dimension has size 1 (a broadcast or a single row); any value >= it works.
  auto fix_ld = [](int ld, int rows) { return ld < (rows > 1 ? rows : 1) ? (rows > 1 ? rows : 1) : ld; };
  cublasOperation_t opA = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;  // the first cuBLAS operand is B
  cublasOperation_t opB = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  iA = fix_ld(iA, opA == CUBLAS_OP_N ? M : K);
  iB = fix_ld(iB, opB == CUBLAS_OP_N ? K : N);
  iC = fix_ld(iC, M);

  int device = 0;
  LOOM_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(g_cublas_mu);
  cublasHandle_t h = handle_locked(device);
  LOOM_CUBLAS_CHECK(cublasSetStream(h, stream));
  if (dt == DType::Float64) {
    LOOM_CUBLAS_CHECK(cublasDgemmStridedBatched(h, opA, opB, M, N, K, &alpha, static_cast<const double*>(b), iA,
                                                stride_b, static_cast<const double*>(a), iB, stride_a, &beta,
                                                static_cast<double*>(c), iC, stride_c, nb));
  } else {
    float fa = static_cast<float>(alpha), fb = static_cast<float>(beta);
    cublasComputeType_t compute = allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    LOOM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, opA, opB, M, N, K, &fa, b, CUDA_R_32F, iA, stride_b, a, CUDA_R_32F,
                                                 iB, stride_a, &fb, c, CUDA_R_32F, iC, stride_c, nb, compute,
                                                 CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace loom::kernels::cuda
