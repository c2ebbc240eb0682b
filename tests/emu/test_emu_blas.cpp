// The CUDA emulator's cuBLAS fakes (emu/emu_blas.cpp) against a row-major
// reference: values for every GEMM entry point, transposes, padding, batches
// and compute types, TF32 rounding, and the documented argument checks.
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "test_emu_blas_util.h"

using namespace emu_blas_test;

namespace {

// Reference: C[b] = alpha * op(A)[b] op(B)[b] + beta * C0[b], all row-major,
// in double. absmag collects sum |alpha a b| + |beta c| per element to scale
// the tolerance.
void reference(const std::vector<Logical>& opA, const std::vector<Logical>& opB, const std::vector<Logical>& C0,
               double alpha, double beta, bool tf32, std::vector<Logical>* out, std::vector<Logical>* absmag) {
  out->clear();
  absmag->clear();
  for (size_t b = 0; b < opA.size(); ++b) {
    const int m = opA[b].rows, k = opA[b].cols, n = opB[b].cols;
    Logical r(m, n), mag(m, n);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double s = 0, a = 0;
        for (int l = 0; l < k; ++l) {
          double x = opA[b].at(i, l), y = opB[b].at(l, j);
          if (tf32) x = tf32_ref(float(x)), y = tf32_ref(float(y));
          s += x * y;
          a += std::fabs(x * y);
        }
        r.at(i, j) = alpha * s + (beta != 0 ? beta * C0[b].at(i, j) : 0.0);
        mag.at(i, j) = std::fabs(alpha) * a + (beta != 0 ? std::fabs(beta * C0[b].at(i, j)) : 0.0);
      }
    }
    out->push_back(r);
    absmag->push_back(mag);
  }
}

enum class Api { Plain, Strided, Ex, StridedEx };
const char* api_name(Api a) {
  switch (a) {
    case Api::Plain: return "gemm";
    case Api::Strided: return "gemmStridedBatched";
    case Api::Ex: return "GemmEx";
    case Api::StridedEx: return "GemmStridedBatchedEx";
  }
  return "?";
}

template <typename T>
constexpr cudaDataType cuda_type() {
  return std::is_same<T, float>::value ? CUDA_R_32F : CUDA_R_64F;
}

template <typename T>
cublasStatus_t call_gemm(Api api, cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const T* alpha, const T* A, int lda, long long sa, const T* B, int ldb, long long sb,
                         const T* beta, T* C, int ldc, long long sc, int batch, cublasComputeType_t compute) {
  constexpr bool f = std::is_same<T, float>::value;
  switch (api) {
    case Api::Plain:
      if constexpr (f) return cublasSgemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
      else return cublasDgemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    case Api::Strided:
      if constexpr (f)
        return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
      else return cublasDgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
    case Api::Ex:
      return cublasGemmEx(h, ta, tb, m, n, k, alpha, A, cuda_type<T>(), lda, B, cuda_type<T>(), ldb, beta, C,
                          cuda_type<T>(), ldc, compute, CUBLAS_GEMM_DEFAULT);
    case Api::StridedEx:
      return cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, alpha, A, cuda_type<T>(), lda, sa, B, cuda_type<T>(), ldb,
                                        sb, beta, C, cuda_type<T>(), ldc, sc, batch, compute, CUBLAS_GEMM_DEFAULT);
  }
  return CUBLAS_STATUS_INTERNAL_ERROR;
}

struct GemmCase {
  bool ta, tb;
  int m, n, k;
  int pad_a, pad_b, pad_c;  // ld = rows as stored + pad
  int batch;
  double alpha, beta;
};

// One cuBLAS GEMM against the reference; C starts with random values (read
// when beta != 0) and NaN padding that must survive untouched.
template <typename T>
void run_gemm_case(cublasHandle_t h, Api api, const GemmCase& c, cublasComputeType_t compute) {
  const bool tf32 = compute == CUBLAS_COMPUTE_32F_FAST_TF32;
  const int batch = (api == Api::Plain || api == Api::Ex) ? 1 : c.batch;
  const int a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const int b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  const int lda = a_rows + c.pad_a, ldb = b_rows + c.pad_b, ldc = c.m + c.pad_c;
  // Strides leave a gap of 3 elements between batch entries.
  const long long sa = (long long)lda * a_cols + 3, sb = (long long)ldb * b_cols + 3, sc = (long long)ldc * c.n + 3;
  std::vector<T> A(size_t(sa) * batch, T(kNaN)), B(size_t(sb) * batch, T(kNaN)), C(size_t(sc) * batch, T(kNaN));
  std::vector<Logical> opA, opB, C0;
  for (int b = 0; b < batch; ++b) {
    opA.push_back(random_logical(c.m, c.k));
    opB.push_back(random_logical(c.k, c.n));
    C0.push_back(random_logical(c.m, c.n));
    store(opA[b], c.ta, lda, A.data() + b * sa);
    store(opB[b], c.tb, ldb, B.data() + b * sb);
    store(C0[b], false, ldc, C.data() + b * sc);
  }
  std::vector<Logical> want, mag;
  reference(opA, opB, C0, c.alpha, c.beta, tf32, &want, &mag);
  const T alpha = T(c.alpha), beta = T(c.beta);
  const std::string name = std::string(api_name(api)) + (std::is_same<T, float>::value ? "<float>" : "<double>") +
                           " ta=" + (c.ta ? "T" : "N") + " tb=" + (c.tb ? "T" : "N") + " m=" + std::to_string(c.m) +
                           " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) + " lda=" + std::to_string(lda) +
                           " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc) +
                           " batch=" + std::to_string(batch) + " beta=" + std::to_string(c.beta) +
                           (tf32 ? " tf32" : "");
  CHECK_ST(call_gemm<T>(api, h, c.ta ? CUBLAS_OP_T : CUBLAS_OP_N, c.tb ? CUBLAS_OP_T : CUBLAS_OP_N, c.m, c.n, c.k,
                        &alpha, A.data(), lda, sa, B.data(), ldb, sb, &beta, C.data(), ldc, sc, batch, compute),
           CUBLAS_STATUS_SUCCESS);
  const double eps = std::is_same<T, float>::value ? 1e-6 : 1e-14;
  int bad = 0;
  for (int b = 0; b < batch; ++b) {
    for (int i = 0; i < c.m; ++i) {
      for (int j = 0; j < c.n; ++j) {
        const double got = double(C[b * sc + i + size_t(j) * ldc]);
        const double tol = eps * (4.0 * (c.k + 2)) * (mag[b].at(i, j) + 1e-30) + 1e-300;
        if (!(std::fabs(got - want[b].at(i, j)) <= tol) && bad++ < 3)
          CHECK_MSG(false, name + ": C[" + std::to_string(b) + "](" + std::to_string(i) + "," + std::to_string(j) +
                               ") = " + std::to_string(got) + ", want " + std::to_string(want[b].at(i, j)));
      }
      for (int i2 = c.m; i2 < ldc; ++i2)  // ld padding of C: never written
        for (int j = 0; j < c.n; ++j)
          if (!std::isnan(double(C[b * sc + i2 + size_t(j) * ldc])) && bad++ < 3)
            CHECK_MSG(false, name + ": padding row " + std::to_string(i2) + " of C was written");
    }
  }
  CHECK_MSG(bad == 0, name + ": " + std::to_string(bad) + " wrong elements");
}

// 1x1x1 product a * b with the given compute type.
float product(cublasHandle_t h, float a, float b, cublasComputeType_t compute) {
  float c = float(kNaN);
  const float one = 1, zero = 0;
  CHECK_ST(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &a, CUDA_R_32F, 1, &b, CUDA_R_32F, 1, &zero, &c,
                        CUDA_R_32F, 1, compute, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_SUCCESS);
  return c;
}

}  // namespace

TEST_CASE("emu: cuBLAS GEMMs of every entry point, transpose, padding and compute type match the reference", "[emu]") {
  const BlasHandle handle;
  const cublasHandle_t h = handle.h;
  const GemmCase cases[] = {
      {false, false, 4, 3, 5, 0, 0, 0, 3, 1.0, 0.0}, {false, true, 4, 3, 5, 2, 1, 3, 3, 1.0, 0.0},
      {true, false, 4, 3, 5, 1, 2, 0, 2, 0.5, 2.0},  {true, true, 5, 6, 7, 3, 3, 2, 3, -1.5, 0.25},
      {false, false, 1, 1, 1, 0, 0, 0, 1, 1.0, 1.0}, {true, false, 7, 1, 9, 0, 4, 1, 4, 1.0, -1.0},
      {false, true, 1, 8, 3, 5, 0, 0, 2, 2.0, 0.0},  {true, true, 9, 7, 16, 1, 1, 1, 2, 1.0, 1.0},
  };
  for (const GemmCase& c : cases) {
    for (Api api : {Api::Plain, Api::Strided, Api::Ex, Api::StridedEx}) {
      run_gemm_case<float>(h, api, c, CUBLAS_COMPUTE_32F);
      run_gemm_case<double>(h, api, c, CUBLAS_COMPUTE_64F);
    }
    run_gemm_case<float>(h, Api::StridedEx, c, CUBLAS_COMPUTE_32F_FAST_TF32);
    run_gemm_case<float>(h, Api::Ex, c, CUBLAS_COMPUTE_32F_PEDANTIC);
    run_gemm_case<double>(h, Api::StridedEx, c, CUBLAS_COMPUTE_64F_PEDANTIC);
  }
}

// Stride 0 broadcasts one A over every batch entry (loom's matmul does this
// for a broadcast operand).
TEST_CASE("emu: cuBLAS strided batches with stride 0 broadcast A", "[emu]") {
  const BlasHandle handle;
  const cublasHandle_t h = handle.h;
  const int m = 3, n = 2, k = 4, batch = 3;
  Logical a = random_logical(m, k);
  std::vector<float> A(m * k), B(k * n * batch), C(m * n * batch, float(kNaN));
  store(a, false, m, A.data());
  std::vector<Logical> opB;
  for (int b = 0; b < batch; ++b) {
    opB.push_back(random_logical(k, n));
    store(opB[b], false, k, B.data() + b * k * n);
  }
  const float one = 1, zero = 0;
  CHECK_ST(cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, A.data(), CUDA_R_32F, m, 0, B.data(),
                                      CUDA_R_32F, k, k * n, &zero, C.data(), CUDA_R_32F, m, m * n, batch,
                                      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_SUCCESS);
  bool good = true;
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        double s = 0;
        for (int l = 0; l < k; ++l) s += a.at(i, l) * opB[b].at(l, j);
        good &= std::fabs(C[b * m * n + i + j * m] - s) < 1e-5;
      }
  CHECK_MSG(good, "strideA = 0 broadcasts A over the batch");
}

// loom's matmul.cu: row-major C[M,N] = A[M,K] B[K,N] is computed as the
// column-major C^T = B^T A^T, passing B first with m and n swapped.
TEST_CASE("emu: cuBLAS computes a row-major product through the swapped column-major call", "[emu]") {
  const BlasHandle handle;
  const cublasHandle_t h = handle.h;
  const int M = 5, N = 3, K = 4;
  Logical a = random_logical(M, K), b = random_logical(K, N);
  std::vector<float> A(a.v.begin(), a.v.end()), B(b.v.begin(), b.v.end()), C(M * N, float(kNaN));
  const float one = 1, zero = 0;
  CHECK_ST(cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B.data(), CUDA_R_32F, N, 0, A.data(),
                                      CUDA_R_32F, K, 0, &zero, C.data(), CUDA_R_32F, N, 0, 1, CUBLAS_COMPUTE_32F,
                                      CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_SUCCESS);
  bool good = true;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int l = 0; l < K; ++l) s += a.at(i, l) * b.at(l, j);
      good &= std::fabs(C[i * N + j] - s) < 1e-5;
    }
  CHECK_MSG(good, "row-major product through the swapped column-major call");
}

TEST_CASE("emu: cuBLAS with beta = 0 does not read C, k = 0 scales C, m = 0 does nothing", "[emu]") {
  const BlasHandle handle;
  const cublasHandle_t h = handle.h;
  // beta == 0: C is write-only, NaN and inf in it must not reach the result.
  const float A[4] = {1, 2, 3, 4}, B[2] = {1, 1};
  float C[2] = {float(kNaN), std::numeric_limits<float>::infinity()};
  const float one = 1, zero = 0;
  CHECK_ST(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 2, &one, A, 2, B, 2, &zero, C, 2), CUBLAS_STATUS_SUCCESS);
  CHECK_MSG((C[0] == 4.0f && C[1] == 6.0f),
            "beta = 0 does not read C (got " + std::to_string(C[0]) + ", " + std::to_string(C[1]) + ")");
  double D[2] = {kNaN, kNaN};
  const double dA[4] = {1, 2, 3, 4}, dB[2] = {1, 1}, done = 1, dzero = 0;
  CHECK_ST(
      cublasDgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 2, &done, dA, 2, 0, dB, 2, 0, &dzero, D, 2, 0, 1),
      CUBLAS_STATUS_SUCCESS);
  CHECK_MSG((D[0] == 4.0 && D[1] == 6.0), "beta = 0 does not read C (double)");
  // k == 0: the product is empty, C = beta * C.
  float E[2] = {3, 5};
  const float two = 2;
  CHECK_ST(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 0, &one, nullptr, 2, nullptr, 1, &two, E, 2),
           CUBLAS_STATUS_SUCCESS);
  CHECK_MSG((E[0] == 6.0f && E[1] == 10.0f), "k = 0 gives C = beta * C");
  // m == 0: nothing to do, success.
  CHECK_ST(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 0, 1, 2, &one, nullptr, 1, nullptr, 2, &zero, nullptr, 1),
           CUBLAS_STATUS_SUCCESS);
}

TEST_CASE("emu: cuBLAS TF32 compute rounds both inputs to nearest, ties away from zero", "[emu]") {
  const BlasHandle handle;
  const cublasHandle_t h = handle.h;
  const float u = std::ldexp(1.0f, -12);  // below half a TF32 ulp at 1 (2^-11)
  const float x = 1.0f + u;
  CHECK_MSG(product(h, x, 1.0f, CUBLAS_COMPUTE_32F) == x, "FP32 keeps 1 + 2^-12");
  CHECK_MSG(product(h, x, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == 1.0f, "TF32 rounds 1 + 2^-12 to 1");
  CHECK_MSG(product(h, 1.0f, x, CUBLAS_COMPUTE_32F_FAST_TF32) == 1.0f, "TF32 rounds B as well as A");
  // Halfway (1 + 2^-11) rounds away from zero, as cvt.rna.tf32.f32 does.
  const float half = 1.0f + std::ldexp(1.0f, -11), up = 1.0f + std::ldexp(1.0f, -10);
  CHECK_MSG(product(h, half, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == up, "TF32 tie rounds away from zero");
  CHECK_MSG(product(h, -half, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == -up, "TF32 negative tie rounds away from zero");
  CHECK_MSG(product(h, 1.0f + 3 * u, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == up, "TF32 rounds 1 + 3*2^-12 up");
  CHECK_MSG(product(h, x, x, CUBLAS_COMPUTE_32F) != 1.0f, "FP32 product of (1 + 2^-12)^2 is not 1");
  const float inf = std::numeric_limits<float>::infinity();
  CHECK_MSG(product(h, inf, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == inf, "TF32 keeps inf");
  CHECK_MSG(std::isnan(product(h, float(kNaN), 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32)), "TF32 keeps NaN");
  const float big = std::numeric_limits<float>::max();
  CHECK_MSG(std::isinf(product(h, big, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32)), "TF32 rounds FLT_MAX up to inf");

  // A sum of k terms: every input 1 + 2^-12, so FP32 sees k(1 + 2^-11 + 2^-24)
  // and TF32 sees exactly k.
  const int k = 64;
  std::vector<float> a(k, x), b(k, x);
  float c32 = 0, ctf = 0;
  const float one = 1, zero = 0;
  CHECK_ST(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, 1, 1, k, &one, a.data(), CUDA_R_32F, k, b.data(), CUDA_R_32F, k,
                        &zero, &c32, CUDA_R_32F, 1, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, 1, 1, k, &one, a.data(), CUDA_R_32F, k, b.data(), CUDA_R_32F, k,
                        &zero, &ctf, CUDA_R_32F, 1, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_SUCCESS);
  CHECK_MSG(ctf == float(k), "TF32 dot product of (1 + 2^-12) vectors is exactly k, got " + std::to_string(ctf));
  CHECK_MSG(std::fabs(c32 - k * (1.0 + std::ldexp(1.0, -11))) < 1e-4,
            "FP32 dot product keeps the 2^-12 terms, got " + std::to_string(c32));
}

// ---------------------------------------------------------------- invalid arguments

TEST_CASE("emu: cuBLAS rejects invalid arguments, types and handles with the documented status", "[emu]") {
  const BlasHandle handle;
  const cublasHandle_t h = handle.h;
  std::vector<float> buf(256, 0.0f);
  const float* A = buf.data();
  float* C = buf.data() + 128;
  const float one = 1, zero = 0;
  const auto sgemm = [&](cublasHandle_t hh, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda,
                         int ldb,
                         int ldc) { return cublasSgemm(hh, ta, tb, m, n, k, &one, A, lda, A, ldb, &zero, C, ldc); };
  const cublasOperation_t N = CUBLAS_OP_N, T = CUBLAS_OP_T;
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(sgemm(nullptr, N, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(sgemm(h, N, N, -1, 3, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, N, 4, -1, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, N, 4, 3, -1, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, CUBLAS_OP_CONJG, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, CUBLAS_OP_CONJG, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  // lda < max(1, m) with N, < max(1, k) with T.
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 3, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, T, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE);  // needs lda >= k = 5
  CHECK_ST(sgemm(h, T, N, 4, 3, 5, 5, 5, 4), CUBLAS_STATUS_SUCCESS);
  // ldb < max(1, k) with N, < max(1, n) with T.
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 4, 4, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, T, 4, 3, 5, 4, 2, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, T, 4, 3, 5, 4, 3, 4), CUBLAS_STATUS_SUCCESS);
  // ldc < max(1, m).
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 4, 5, 3), CUBLAS_STATUS_INVALID_VALUE);
  // A single row still needs ld >= 1, even when the dimension is 0.
  CHECK_ST(sgemm(h, N, N, 0, 3, 5, 0, 5, 1), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, N, 0, 3, 5, 1, 5, 0), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(sgemm(h, N, N, 0, 3, 5, 1, 5, 1), CUBLAS_STATUS_SUCCESS);
  // The detail names the argument.
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 3, 5, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_MSG(std::string(emu_blas_last_error()).find("lda = 3") != std::string::npos,
            std::string("last error names lda: ") + emu_blas_last_error());
  CHECK_MSG(std::string(cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE)).find("lda") != std::string::npos,
            "status string carries the emulator detail");
  CHECK_ST(cublasSgemm(h, N, N, 4, 3, 5, nullptr, A, 4, A, 5, &zero, C, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(cublasSgemm(h, N, N, 4, 3, 5, &one, A, 4, A, 5, nullptr, C, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_MSG(std::string(emu_blas_last_error()).size() > 0, "last error set after a failure");
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_SUCCESS);
  CHECK_MSG(std::string(emu_blas_last_error()).empty(), "last error cleared by a success");

  // Batched forms: batchCount < 0, and the same ld rules.
  CHECK_ST(cublasSgemmStridedBatched(h, N, N, 4, 3, 5, &one, A, 4, 0, A, 5, 0, &zero, C, 4, 0, -1),
           CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(cublasSgemmStridedBatched(h, N, N, 4, 3, 5, &one, A, 4, 0, A, 5, 0, &zero, C, 4, 0, 0),
           CUBLAS_STATUS_SUCCESS);
  const double dbuf[64] = {};
  double dC[16];
  const double d1 = 1, d0 = 0;
  CHECK_ST(cublasDgemmStridedBatched(h, T, N, 2, 2, 3, &d1, dbuf, 2, 6, dbuf, 3, 6, &d0, dC, 2, 4, 2),
           CUBLAS_STATUS_INVALID_VALUE);  // lda 2 < k 3
  CHECK_ST(cublasDgemm(h, N, N, 2, 2, 3, &d1, dbuf, 2, dbuf, 3, &d0, dC, 1), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(cublasGemmStridedBatchedEx(h, N, T, 4, 3, 5, &one, A, CUDA_R_32F, 4, 20, A, CUDA_R_32F, 2, 15, &zero, C,
                                      CUDA_R_32F, 4, 12, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_INVALID_VALUE);  // ldb 2 < n 3 with transb = T
  CHECK_ST(cublasGemmEx(h, N, N, 4, 3, 5, &one, A, CUDA_R_32F, 4, A, CUDA_R_32F, 5, &zero, C, CUDA_R_32F, 2,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_INVALID_VALUE);

  // Unsupported type / compute / algo combinations.
  CHECK_ST(cublasGemmEx(h, N, N, 2, 2, 2, &one, A, CUDA_R_64F, 2, A, CUDA_R_32F, 2, &zero, C, CUDA_R_32F, 2,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_NOT_SUPPORTED);
  CHECK_ST(cublasGemmEx(h, N, N, 2, 2, 2, &d1, dbuf, CUDA_R_64F, 2, dbuf, CUDA_R_64F, 2, &d0, dC, CUDA_R_64F, 2,
                        CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_NOT_SUPPORTED);
  CHECK_ST(cublasGemmEx(h, N, N, 2, 2, 2, &one, A, CUDA_R_32F, 2, A, CUDA_R_32F, 2, &zero, C, CUDA_R_32F, 2,
                        CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_NOT_SUPPORTED);
  CHECK_ST(cublasGemmStridedBatchedEx(h, N, N, 2, 2, 2, &one, A, CUDA_R_32F, 2, 4, A, CUDA_R_32F, 2, 4, &zero, C,
                                      CUDA_R_32F, 2, 4, 2, CUBLAS_COMPUTE_32F, cublasGemmAlgo_t(50)),
           CUBLAS_STATUS_NOT_SUPPORTED);
  CHECK_ST(cublasGemmStridedBatchedEx(h, N, N, 2, 2, 2, &one, A, CUDA_R_32F, 2, 4, A, CUDA_R_32F, 2, 4, &zero, C,
                                      CUDA_R_32F, 2, 4, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT_TENSOR_OP),
           CUBLAS_STATUS_SUCCESS);

  // Handles: destroyed ones are rejected like null ones.
  cublasHandle_t h2 = nullptr;
  CHECK_ST(cublasCreate(&h2), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasSetStream(h2, reinterpret_cast<cudaStream_t>(uintptr_t(0x1000))), CUBLAS_STATUS_SUCCESS);
  cudaStream_t s = nullptr;
  CHECK_ST(cublasGetStream(h2, &s), CUBLAS_STATUS_SUCCESS);
  CHECK_MSG(s == reinterpret_cast<cudaStream_t>(uintptr_t(0x1000)), "cublasGetStream returns the stream set");
  CHECK_ST(cublasDestroy(h2), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(sgemm(h2, N, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasSetStream(h2, nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasDestroy(h2), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasDestroy(nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasSetStream(nullptr, nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasGemmStridedBatchedEx(nullptr, N, N, 2, 2, 2, &one, A, CUDA_R_32F, 2, 4, A, CUDA_R_32F, 2, 4, &zero, C,
                                      CUDA_R_32F, 2, 4, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_MSG(std::string(cublasGetStatusString(CUBLAS_STATUS_SUCCESS)).size() > 0, "status string for success");
  CHECK_MSG(std::string(cublasGetStatusName(CUBLAS_STATUS_NOT_SUPPORTED)) == "CUBLAS_STATUS_NOT_SUPPORTED",
            "status name");
}
