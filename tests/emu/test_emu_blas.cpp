// loom's CUDA emulator: standalone test of the host fakes of cuBLAS/cuBLASLt
// (tests/emu/emu_blas.cpp) that let the CUDA code paths run without a GPU.
// Every result is compared with a naive row-major reference written here, so
// the column-major conventions of the fakes are checked rather than assumed.
//
// Build and run by hand (from the repository root):
//   g++ -std=c++17 -O1 -I tests/emu/include tests/emu/test_emu_blas.cpp tests/emu/emu_blas.cpp -o /tmp/test_emu_blas
//   /tmp/test_emu_blas
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cublasLt.h"
#include "cublas_v2.h"

namespace {

int g_checks = 0;
int g_failures = 0;

void check(bool cond, const std::string& what, int line) {
  ++g_checks;
  if (cond) return;
  ++g_failures;
  std::printf("FAIL (line %d): %s\n", line, what.c_str());
}
#define CHECK(cond, what) check((cond), std::string(what) + "  [" #cond "]", __LINE__)

std::string st_name(cublasStatus_t st) { return cublasGetStatusName(st); }
#define CHECK_ST(call, want)                                                                         \
  do {                                                                                               \
    const cublasStatus_t got_ = (call);                                                              \
    check(got_ == (want),                                                                            \
          std::string(#call) + " returned " + st_name(got_) + ", expected " + st_name(want) + " (" + \
              emu_blas_last_error() + ")",                                                           \
          __LINE__);                                                                                 \
  } while (0)

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::mt19937 g_rng(1234);
double uniform() { return std::uniform_real_distribution<double>(-1.0, 1.0)(g_rng); }

// A logical matrix, row-major: at(i, j) = v[i * cols + j].
struct Logical {
  int rows = 0, cols = 0;
  std::vector<double> v;
  Logical(int r, int c) : rows(r), cols(c), v(size_t(r) * c, 0.0) {}
  double& at(int i, int j) { return v[size_t(i) * cols + j]; }
  double at(int i, int j) const { return v[size_t(i) * cols + j]; }
};

Logical random_logical(int r, int c) {
  Logical m(r, c);
  for (double& x : m.v) x = uniform();
  return m;
}

// TF32 rounding for the reference, written independently of the emulator's
// bit trick: keep 11 significant bits, halfway cases away from zero.
double tf32_ref(float x) {
  if (!std::isfinite(x) || x == 0.0f) return x;
  int e = 0;
  const double f = std::frexp(double(x), &e);  // x = f * 2^e, 0.5 <= |f| < 1
  return std::ldexp(std::round(std::ldexp(f, 11)), e - 11);
}

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

// Column-major storage of op(X) for a cuBLAS call: with trans, the stored
// matrix is op(X)^T. Unused slots (ld padding, gaps between batches) hold NaN
// so that reading outside the matrix shows up in the result.
template <typename T>
void store(const Logical& op, bool trans, int ld, T* base) {
  const int srows = trans ? op.cols : op.rows, scols = trans ? op.rows : op.cols;
  for (int c = 0; c < scols; ++c)
    for (int r = 0; r < srows; ++r) base[r + size_t(c) * ld] = T(trans ? op.at(c, r) : op.at(r, c));
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
          CHECK(false, name + ": C[" + std::to_string(b) + "](" + std::to_string(i) + "," + std::to_string(j) +
                           ") = " + std::to_string(got) + ", want " + std::to_string(want[b].at(i, j)));
      }
      for (int i2 = c.m; i2 < ldc; ++i2)  // ld padding of C: never written
        for (int j = 0; j < c.n; ++j)
          if (!std::isnan(double(C[b * sc + i2 + size_t(j) * ldc])) && bad++ < 3)
            CHECK(false, name + ": padding row " + std::to_string(i2) + " of C was written");
    }
  }
  CHECK(bad == 0, name + ": " + std::to_string(bad) + " wrong elements");
}

void test_gemm_values(cublasHandle_t h) {
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
void test_gemm_broadcast(cublasHandle_t h) {
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
  CHECK(good, "strideA = 0 broadcasts A over the batch");
}

// loom's matmul.cu: row-major C[M,N] = A[M,K] B[K,N] is computed as the
// column-major C^T = B^T A^T, passing B first with m and n swapped.
void test_row_major_trick(cublasHandle_t h) {
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
  CHECK(good, "row-major product through the swapped column-major call");
}

void test_beta_zero_ignores_c(cublasHandle_t h) {
  // beta == 0: C is write-only, NaN and inf in it must not reach the result.
  const float A[4] = {1, 2, 3, 4}, B[2] = {1, 1};
  float C[2] = {float(kNaN), std::numeric_limits<float>::infinity()};
  const float one = 1, zero = 0;
  CHECK_ST(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 2, &one, A, 2, B, 2, &zero, C, 2), CUBLAS_STATUS_SUCCESS);
  CHECK(C[0] == 4.0f && C[1] == 6.0f,
        "beta = 0 does not read C (got " + std::to_string(C[0]) + ", " + std::to_string(C[1]) + ")");
  double D[2] = {kNaN, kNaN};
  const double dA[4] = {1, 2, 3, 4}, dB[2] = {1, 1}, done = 1, dzero = 0;
  CHECK_ST(
      cublasDgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 2, &done, dA, 2, 0, dB, 2, 0, &dzero, D, 2, 0, 1),
      CUBLAS_STATUS_SUCCESS);
  CHECK(D[0] == 4.0 && D[1] == 6.0, "beta = 0 does not read C (double)");
  // k == 0: the product is empty, C = beta * C.
  float E[2] = {3, 5};
  const float two = 2;
  CHECK_ST(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 0, &one, nullptr, 2, nullptr, 1, &two, E, 2),
           CUBLAS_STATUS_SUCCESS);
  CHECK(E[0] == 6.0f && E[1] == 10.0f, "k = 0 gives C = beta * C");
  // m == 0: nothing to do, success.
  CHECK_ST(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 0, 1, 2, &one, nullptr, 1, nullptr, 2, &zero, nullptr, 1),
           CUBLAS_STATUS_SUCCESS);
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

void test_tf32(cublasHandle_t h) {
  const float u = std::ldexp(1.0f, -12);  // below half a TF32 ulp at 1 (2^-11)
  const float x = 1.0f + u;
  CHECK(product(h, x, 1.0f, CUBLAS_COMPUTE_32F) == x, "FP32 keeps 1 + 2^-12");
  CHECK(product(h, x, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == 1.0f, "TF32 rounds 1 + 2^-12 to 1");
  CHECK(product(h, 1.0f, x, CUBLAS_COMPUTE_32F_FAST_TF32) == 1.0f, "TF32 rounds B as well as A");
  // Halfway (1 + 2^-11) rounds away from zero, as cvt.rna.tf32.f32 does.
  const float half = 1.0f + std::ldexp(1.0f, -11), up = 1.0f + std::ldexp(1.0f, -10);
  CHECK(product(h, half, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == up, "TF32 tie rounds away from zero");
  CHECK(product(h, -half, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == -up, "TF32 negative tie rounds away from zero");
  CHECK(product(h, 1.0f + 3 * u, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == up, "TF32 rounds 1 + 3*2^-12 up");
  CHECK(product(h, x, x, CUBLAS_COMPUTE_32F) != 1.0f, "FP32 product of (1 + 2^-12)^2 is not 1");
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(product(h, inf, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32) == inf, "TF32 keeps inf");
  CHECK(std::isnan(product(h, float(kNaN), 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32)), "TF32 keeps NaN");
  const float big = std::numeric_limits<float>::max();
  CHECK(std::isinf(product(h, big, 1.0f, CUBLAS_COMPUTE_32F_FAST_TF32)), "TF32 rounds FLT_MAX up to inf");

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
  CHECK(ctf == float(k), "TF32 dot product of (1 + 2^-12) vectors is exactly k, got " + std::to_string(ctf));
  CHECK(std::fabs(c32 - k * (1.0 + std::ldexp(1.0, -11))) < 1e-4,
        "FP32 dot product keeps the 2^-12 terms, got " + std::to_string(c32));
}

// ---------------------------------------------------------------- invalid arguments

void test_gemm_invalid(cublasHandle_t h) {
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
  CHECK(std::string(emu_blas_last_error()).find("lda = 3") != std::string::npos,
        std::string("last error names lda: ") + emu_blas_last_error());
  CHECK(std::string(cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE)).find("lda") != std::string::npos,
        "status string carries the emulator detail");
  CHECK_ST(cublasSgemm(h, N, N, 4, 3, 5, nullptr, A, 4, A, 5, &zero, C, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK_ST(cublasSgemm(h, N, N, 4, 3, 5, &one, A, 4, A, 5, nullptr, C, 4), CUBLAS_STATUS_INVALID_VALUE);
  CHECK(std::string(emu_blas_last_error()).size() > 0, "last error set after a failure");
  CHECK_ST(sgemm(h, N, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_SUCCESS);
  CHECK(std::string(emu_blas_last_error()).empty(), "last error cleared by a success");

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
  CHECK(s == reinterpret_cast<cudaStream_t>(uintptr_t(0x1000)), "cublasGetStream returns the stream set");
  CHECK_ST(cublasDestroy(h2), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(sgemm(h2, N, N, 4, 3, 5, 4, 5, 4), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasSetStream(h2, nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasDestroy(h2), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasDestroy(nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasSetStream(nullptr, nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK_ST(cublasGemmStridedBatchedEx(nullptr, N, N, 2, 2, 2, &one, A, CUDA_R_32F, 2, 4, A, CUDA_R_32F, 2, 4, &zero, C,
                                      CUDA_R_32F, 2, 4, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
           CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK(std::string(cublasGetStatusString(CUBLAS_STATUS_SUCCESS)).size() > 0, "status string for success");
  CHECK(std::string(cublasGetStatusName(CUBLAS_STATUS_NOT_SUPPORTED)) == "CUBLAS_STATUS_NOT_SUPPORTED", "status name");
}

// ---------------------------------------------------------------- cuBLASLt

double gelu_tanh(double x) { return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
double gelu_erf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

struct Lt {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Lt() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    for (auto l : {a, b, c, d})
      if (l) cublasLtMatrixLayoutDestroy(l);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

const char* epi_name(cublasLtEpilogue_t e) {
  switch (e) {
    case CUBLASLT_EPILOGUE_DEFAULT: return "DEFAULT";
    case CUBLASLT_EPILOGUE_RELU: return "RELU";
    case CUBLASLT_EPILOGUE_BIAS: return "BIAS";
    case CUBLASLT_EPILOGUE_RELU_BIAS: return "RELU_BIAS";
    case CUBLASLT_EPILOGUE_GELU: return "GELU";
    case CUBLASLT_EPILOGUE_GELU_BIAS: return "GELU_BIAS";
    default: return "other";
  }
}

// One cublasLtMatmul (float) with the given epilogue against the reference.
// bias_set: a bias pointer is set even when the epilogue does not use it (it
// must then be ignored).
void run_lt_case(cublasLtHandle_t h, cublasLtEpilogue_t epi, bool bias_set, bool ta, bool tb, int m, int n, int k,
                 int pad, float beta, bool separate_c, bool tf32) {
  const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  const int lda = a_rows + pad, ldb = b_rows + pad, ldc = m + pad, ldd = m + 2 * pad;
  Logical opA = random_logical(m, k), opB = random_logical(k, n), c0 = random_logical(m, n);
  // Scale so that a good share of the pre-activations are negative and in the
  // range where GELU's two formulas differ.
  for (double& x : opA.v) x *= 1.5;
  std::vector<float> A(size_t(lda) * a_cols, float(kNaN)), B(size_t(ldb) * b_cols, float(kNaN));
  std::vector<float> C(size_t(ldc) * n, float(kNaN)), D(size_t(ldd) * n, float(kNaN)), bias(m);
  store(opA, ta, lda, A.data());
  store(opB, tb, ldb, B.data());
  for (float& x : bias) x = float(uniform());
  if (beta != 0.0f) store(c0, false, ldc, C.data());
  const bool uses_bias =
      epi == CUBLASLT_EPILOGUE_BIAS || epi == CUBLASLT_EPILOGUE_RELU_BIAS || epi == CUBLASLT_EPILOGUE_GELU_BIAS;
  const bool relu = epi == CUBLASLT_EPILOGUE_RELU || epi == CUBLASLT_EPILOGUE_RELU_BIAS;
  const bool gelu = epi == CUBLASLT_EPILOGUE_GELU || epi == CUBLASLT_EPILOGUE_GELU_BIAS;
  const std::string name = std::string("Lt ") + epi_name(epi) + (bias_set ? " +bias ptr" : "") +
                           " ta=" + (ta ? "T" : "N") + " tb=" + (tb ? "T" : "N") + " m=" + std::to_string(m) +
                           " n=" + std::to_string(n) + " k=" + std::to_string(k) + " pad=" + std::to_string(pad) +
                           " beta=" + std::to_string(beta) + (separate_c ? "" : " C==D") + (tf32 ? " tf32" : "");

  Lt d;
  CHECK_ST(cublasLtMatmulDescCreate(&d.op, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F),
           CUBLAS_STATUS_SUCCESS);
  const int32_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  CHECK_ST(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof(opa)), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof(opb)), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)),
           CUBLAS_STATUS_SUCCESS);
  if (bias_set) {
    const float* bp = bias.data();
    CHECK_ST(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bp, sizeof(bp)),
             CUBLAS_STATUS_SUCCESS);
    const int32_t bt = CUDA_R_32F;
    CHECK_ST(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt)),
             CUBLAS_STATUS_SUCCESS);
  }
  CHECK_ST(cublasLtMatrixLayoutCreate(&d.a, CUDA_R_32F, a_rows, a_cols, lda), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, b_rows, b_cols, ldb), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasLtMatrixLayoutCreate(&d.c, CUDA_R_32F, m, n, separate_c ? ldc : ldd), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasLtMatrixLayoutCreate(&d.d, CUDA_R_32F, m, n, ldd), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasLtMatmulPreferenceCreate(&d.pref), CUBLAS_STATUS_SUCCESS);
  const uint64_t ws = 1 << 20;
  CHECK_ST(cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)),
           CUBLAS_STATUS_SUCCESS);
  const uint32_t al = 16;
  CHECK_ST(cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al, sizeof(al)),
           CUBLAS_STATUS_SUCCESS);
  cublasLtMatmulHeuristicResult_t res{};
  int count = -1;
  CHECK_ST(cublasLtMatmulAlgoGetHeuristic(h, d.op, d.a, d.b, d.c, d.d, d.pref, 4, &res, &count), CUBLAS_STATUS_SUCCESS);
  CHECK(count == 1 && res.state == CUBLAS_STATUS_SUCCESS && res.workspaceSize <= ws, name + ": one heuristic result");

  // In place (C == D): D holds C's values and shares its layout.
  if (!separate_c && beta != 0.0f) store(c0, false, ldd, D.data());
  const float alpha = 0.75f;
  std::vector<float> ws_buf(16);
  CHECK_ST(cublasLtMatmul(h, d.op, &alpha, A.data(), d.a, B.data(), d.b, &beta, separate_c ? C.data() : D.data(), d.c,
                          D.data(), d.d, &res.algo, ws_buf.data(), ws, nullptr),
           CUBLAS_STATUS_SUCCESS);

  int bad = 0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = 0, mag = 0;
      for (int l = 0; l < k; ++l) {
        double x = double(float(opA.at(i, l))), y = double(float(opB.at(l, j)));
        if (tf32) x = tf32_ref(float(x)), y = tf32_ref(float(y));
        s += x * y;
        mag += std::fabs(x * y);
      }
      double v = alpha * s + (beta != 0.0f ? double(beta) * double(float(c0.at(i, j))) : 0.0);
      if (uses_bias) v += double(bias[i]);  // one bias entry per row of D
      if (relu) v = v > 0 ? v : 0.0;
      if (gelu) v = gelu_tanh(v);
      const double got = D[i + size_t(j) * ldd];
      const double tol = 1e-5 * (mag + std::fabs(v) + 1.0);
      if (!(std::fabs(got - v) <= tol) && bad++ < 3)
        CHECK(false, name + ": D(" + std::to_string(i) + "," + std::to_string(j) + ") = " + std::to_string(got) +
                         ", want " + std::to_string(v));
    }
    for (int i2 = m; i2 < ldd; ++i2)
      for (int j = 0; j < n; ++j)
        if (!std::isnan(D[i2 + size_t(j) * ldd]) && bad++ < 3) CHECK(false, name + ": D padding written");
  }
  CHECK(bad == 0, name + ": " + std::to_string(bad) + " wrong elements");
}

void test_lt_values(cublasLtHandle_t h) {
  const cublasLtEpilogue_t epis[] = {CUBLASLT_EPILOGUE_DEFAULT,   CUBLASLT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_RELU,
                                     CUBLASLT_EPILOGUE_RELU_BIAS, CUBLASLT_EPILOGUE_GELU, CUBLASLT_EPILOGUE_GELU_BIAS};
  for (cublasLtEpilogue_t e : epis) {
    const bool needs_bias =
        e == CUBLASLT_EPILOGUE_BIAS || e == CUBLASLT_EPILOGUE_RELU_BIAS || e == CUBLASLT_EPILOGUE_GELU_BIAS;
    // The shape loom's linear uses: TRANSA = T, TRANSB = N, C == D, beta = 0.
    run_lt_case(h, e, needs_bias, true, false, 6, 5, 7, 0, 0.0f, false, false);
    run_lt_case(h, e, needs_bias, true, false, 6, 5, 7, 0, 0.0f, false, true);
    // Other transposes, padded leading dimensions, beta != 0, separate C.
    run_lt_case(h, e, needs_bias, false, false, 4, 3, 5, 2, 0.5f, true, false);
    run_lt_case(h, e, needs_bias, false, true, 3, 4, 6, 1, -1.0f, true, false);
    run_lt_case(h, e, needs_bias, true, true, 5, 2, 3, 3, 0.25f, false, false);
    // A bias pointer left set with an epilogue without BIAS is not applied.
    if (!needs_bias) run_lt_case(h, e, true, true, false, 4, 4, 4, 1, 0.0f, true, false);
  }
}

// Builds the descriptors of loom's linear (y[M,O] = x[M,K] w[O,K]^T + b[O])
// so that single fields can be broken.
struct LinearLt {
  int M = 3, O = 4, K = 5;
  Lt d;
  cublasStatus_t build(cublasComputeType_t compute = CUBLAS_COMPUTE_32F, cudaDataType scale = CUDA_R_32F,
                       cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT) {
    cublasStatus_t st = cublasLtMatmulDescCreate(&d.op, compute, scale);
    const int32_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta));
    cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb));
    cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi));
    cublasLtMatmulPreferenceCreate(&d.pref);
    return st;
  }
  void layouts(int a_rows, int a_cols, int lda, int b_rows, int b_cols, int ldb, int c_rows, int c_cols, int ldc,
               cudaDataType at = CUDA_R_32F) {
    for (auto* l : {&d.a, &d.b, &d.c})
      if (*l) cublasLtMatrixLayoutDestroy(*l), *l = nullptr;
    cublasLtMatrixLayoutCreate(&d.a, at, a_rows, a_cols, lda);
    cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, b_rows, b_cols, ldb);
    cublasLtMatrixLayoutCreate(&d.c, CUDA_R_32F, c_rows, c_cols, ldc);
  }
  void good_layouts() { layouts(K, O, K, K, M, K, O, M, O); }
  cublasStatus_t heuristic(cublasLtHandle_t h, int* count, cublasLtMatmulHeuristicResult_t* res, int requested = 1) {
    return cublasLtMatmulAlgoGetHeuristic(h, d.op, d.a, d.b, d.c, d.c, d.pref, requested, res, count);
  }
};

void test_lt_gelu_is_tanh(cublasLtHandle_t h) {
  // 1x1x1: D = gelu(x) with x = -2.5 and 2.5, where the tanh and erf forms
  // differ by about 4e-4.
  for (float x : {2.5f, -2.5f, 1.0f, -0.5f}) {
    LinearLt t;
    t.M = 1, t.O = 1, t.K = 1;
    t.build(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLASLT_EPILOGUE_GELU);
    t.good_layouts();
    const float one = 1, zero = 0;
    float y = float(kNaN);
    CHECK_ST(cublasLtMatmul(h, t.d.op, &one, &x, t.d.a, &one, t.d.b, &zero, &y, t.d.c, &y, t.d.c, nullptr, nullptr, 0,
                            nullptr),
             CUBLAS_STATUS_SUCCESS);
    CHECK(std::fabs(y - gelu_tanh(x)) < 1e-6, "GELU epilogue follows the tanh form at x = " + std::to_string(x) +
                                                  ": got " + std::to_string(y) + ", tanh form " +
                                                  std::to_string(gelu_tanh(x)));
    if (std::fabs(x) > 2)
      CHECK(std::fabs(y - gelu_erf(x)) > 1e-4, "GELU epilogue is not the erf form at x = " + std::to_string(x));
  }
  // RELU turns NaN into 0 (the GPU's max returns the number).
  LinearLt t;
  t.M = 1, t.O = 1, t.K = 1;
  t.build(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLASLT_EPILOGUE_RELU);
  t.good_layouts();
  const float one = 1, zero = 0, nan = float(kNaN), neg = -3.0f;
  float y = 7;
  CHECK_ST(cublasLtMatmul(h, t.d.op, &one, &nan, t.d.a, &one, t.d.b, &zero, &y, t.d.c, &y, t.d.c, nullptr, nullptr, 0,
                          nullptr),
           CUBLAS_STATUS_SUCCESS);
  CHECK(y == 0.0f, "RELU epilogue maps NaN to 0");
  CHECK_ST(cublasLtMatmul(h, t.d.op, &one, &neg, t.d.a, &one, t.d.b, &zero, &y, t.d.c, &y, t.d.c, nullptr, nullptr, 0,
                          nullptr),
           CUBLAS_STATUS_SUCCESS);
  CHECK(y == 0.0f, "RELU epilogue clamps negatives");
}

void test_lt_double(cublasLtHandle_t h) {
  // All-64F with COMPUTE_64F and the BIAS epilogue: y = x w^T + b.
  const int M = 2, O = 3, K = 4;
  Logical x = random_logical(M, K), w = random_logical(O, K);
  std::vector<double> X(x.v), W(w.v), Y(M * O, kNaN), bias = {0.5, -1.0, 2.0};
  Lt d;
  CHECK_ST(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_64F, CUDA_R_64F), CUBLAS_STATUS_SUCCESS);
  const int32_t ta = CUBLAS_OP_T;
  const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
  const double* bp = bias.data();
  cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta));
  cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi));
  cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bp, sizeof(bp));
  cublasLtMatrixLayoutCreate(&d.a, CUDA_R_64F, K, O, K);
  cublasLtMatrixLayoutCreate(&d.b, CUDA_R_64F, K, M, K);
  cublasLtMatrixLayoutCreate(&d.c, CUDA_R_64F, O, M, O);
  const double one = 1, zero = 0;
  CHECK_ST(cublasLtMatmul(h, d.op, &one, W.data(), d.a, X.data(), d.b, &zero, Y.data(), d.c, Y.data(), d.c, nullptr,
                          nullptr, 0, nullptr),
           CUBLAS_STATUS_SUCCESS);
  bool good = true;
  for (int i = 0; i < M; ++i)
    for (int o = 0; o < O; ++o) {
      double s = bias[o];
      for (int l = 0; l < K; ++l) s += x.at(i, l) * w.at(o, l);
      good &= std::fabs(Y[i * O + o] - s) < 1e-13;
    }
  CHECK(good, "Lt double with BIAS: bias per output feature (row of D)");
}

void test_lt_invalid(cublasLtHandle_t h) {
  std::vector<float> buf(512, 0.0f);
  const float* in = buf.data();
  float* out = buf.data() + 256;
  const float one = 1, zero = 0;
  cublasLtMatmulHeuristicResult_t res{};
  int count = -1;
  {
    LinearLt t;
    t.build();
    t.good_layouts();
    CHECK_ST(t.heuristic(h, &count, &res), CUBLAS_STATUS_SUCCESS);
    CHECK(count == 1, "valid problem: one algorithm");
    CHECK_ST(cublasLtMatmul(h, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, t.d.c, &res.algo, nullptr, 0,
                            nullptr),
             CUBLAS_STATUS_SUCCESS);
    // A null handle, and requestedAlgoCount <= 0.
    CHECK_ST(t.heuristic(nullptr, &count, &res), CUBLAS_STATUS_NOT_INITIALIZED);
    CHECK_ST(cublasLtMatmul(nullptr, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, t.d.c, &res.algo,
                            nullptr, 0, nullptr),
             CUBLAS_STATUS_NOT_INITIALIZED);
    CHECK_ST(t.heuristic(h, &count, &res, 0), CUBLAS_STATUS_INVALID_VALUE);
    // An algo struct that no heuristic filled in.
    cublasLtMatmulAlgo_t zero_algo{};
    CHECK_ST(cublasLtMatmul(h, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, t.d.c, &zero_algo, nullptr,
                            0, nullptr),
             CUBLAS_STATUS_INVALID_VALUE);
    CHECK_ST(cublasLtMatmul(h, t.d.op, nullptr, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, t.d.c, nullptr, nullptr,
                            0, nullptr),
             CUBLAS_STATUS_INVALID_VALUE);
    // Attribute sizes must match.
    const int64_t wide = CUBLAS_OP_T;
    CHECK_ST(cublasLtMatmulDescSetAttribute(t.d.op, CUBLASLT_MATMUL_DESC_TRANSA, &wide, sizeof(wide)),
             CUBLAS_STATUS_INVALID_VALUE);
    const uint32_t ws32 = 1024;
    CHECK_ST(
        cublasLtMatmulPreferenceSetAttribute(t.d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws32, sizeof(ws32)),
        CUBLAS_STATUS_INVALID_VALUE);
    CHECK_ST(cublasLtMatmulDescSetAttribute(t.d.op, CUBLASLT_MATMUL_DESC_TRANSA, nullptr, 4),
             CUBLAS_STATUS_INVALID_VALUE);
    // An operation that is not N, T or C.
    const int32_t bad_op = 5;
    CHECK_ST(cublasLtMatmulDescSetAttribute(t.d.op, CUBLASLT_MATMUL_DESC_TRANSB, &bad_op, sizeof(bad_op)),
             CUBLAS_STATUS_SUCCESS);
    CHECK_ST(t.heuristic(h, &count, &res), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_ST(cublasLtMatmulDescSetAttribute(t.d.op, cublasLtMatmulDescAttributes_t(9), &ws32, sizeof(ws32)),
             CUBLAS_STATUS_INVALID_VALUE);
  }
  const int M = 3, O = 4, K = 5;
  struct Bad {
    const char* what;
    int ar, ac, lda, br, bc, ldb, cr, cc, ldc;
  };
  const Bad bads[] = {
      {"inner dimension: B has K+1 rows", K, O, K, K + 1, M, K + 1, O, M, O},
      {"op(A) rows != m", K, O + 1, K, K, M, K, O, M, O},
      {"op(B) cols != n", K, O, K, K, M + 1, K, O, M, O},
      {"lda < rows of A", K, O, K - 1, K, M, K, O, M, O},
      {"ldb < rows of B", K, O, K, K, M, K - 1, O, M, O},
      {"ldc < rows of C", K, O, K, K, M, K, O, M, O - 1},
      {"ld = 0", K, O, 0, K, M, K, O, M, O},
      {"negative ld", K, O, -K, K, M, K, O, M, O},
  };
  for (const Bad& b : bads) {
    LinearLt t;
    t.build();
    t.layouts(b.ar, b.ac, b.lda, b.br, b.bc, b.ldb, b.cr, b.cc, b.ldc);
    count = -1;
    CHECK_ST(t.heuristic(h, &count, &res), CUBLAS_STATUS_INVALID_VALUE);
    CHECK(count == 0, std::string(b.what) + ": heuristic returns no algorithm");
    CHECK_ST(cublasLtMatmul(h, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, t.d.c, nullptr, nullptr, 0,
                            nullptr),
             CUBLAS_STATUS_INVALID_VALUE);
  }
  {
    // C and D of different shapes.
    LinearLt t;
    t.build();
    t.good_layouts();
    cublasLtMatrixLayout_t d2 = nullptr;
    cublasLtMatrixLayoutCreate(&d2, CUDA_R_32F, O, M + 1, O);
    CHECK_ST(cublasLtMatmulAlgoGetHeuristic(h, t.d.op, t.d.a, t.d.b, t.d.c, d2, t.d.pref, 1, &res, &count),
             CUBLAS_STATUS_INVALID_VALUE);
    // In place with a different ld for C and D.
    cublasLtMatrixLayout_t d3 = nullptr;
    cublasLtMatrixLayoutCreate(&d3, CUDA_R_32F, O, M, O + 1);
    CHECK_ST(
        cublasLtMatmul(h, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, d3, nullptr, nullptr, 0, nullptr),
        CUBLAS_STATUS_INVALID_VALUE);
    CHECK_ST(cublasLtMatmul(h, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out + 64, t.d.c, out, d3, nullptr, nullptr, 0,
                            nullptr),
             CUBLAS_STATUS_SUCCESS);
    cublasLtMatrixLayoutDestroy(d2);
    cublasLtMatrixLayoutDestroy(d3);
  }
  {
    // Types that do not go together.
    LinearLt t;
    t.build();
    t.layouts(K, O, K, K, M, K, O, M, O, CUDA_R_64F);
    CHECK_ST(t.heuristic(h, &count, &res), CUBLAS_STATUS_NOT_SUPPORTED);
    LinearLt s;
    s.build(CUBLAS_COMPUTE_32F, CUDA_R_64F);
    s.good_layouts();
    CHECK_ST(s.heuristic(h, &count, &res), CUBLAS_STATUS_NOT_SUPPORTED);
    LinearLt u;
    u.build(CUBLAS_COMPUTE_64F, CUDA_R_64F);
    u.good_layouts();  // float layouts with a double compute type
    CHECK_ST(u.heuristic(h, &count, &res), CUBLAS_STATUS_NOT_SUPPORTED);
  }
  {
    // BIAS epilogue without a bias pointer; an epilogue the emulator lacks.
    LinearLt t;
    t.build(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLASLT_EPILOGUE_RELU_BIAS);
    t.good_layouts();
    CHECK_ST(cublasLtMatmul(h, t.d.op, &one, in, t.d.a, in, t.d.b, &zero, out, t.d.c, out, t.d.c, nullptr, nullptr, 0,
                            nullptr),
             CUBLAS_STATUS_INVALID_VALUE);
    LinearLt u;
    u.build(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLASLT_EPILOGUE_GELU_AUX);
    u.good_layouts();
    CHECK_ST(u.heuristic(h, &count, &res), CUBLAS_STATUS_NOT_SUPPORTED);
    // A bias of another type than D.
    LinearLt v;
    v.build(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLASLT_EPILOGUE_BIAS);
    v.good_layouts();
    const int32_t bt = CUDA_R_16F;
    cublasLtMatmulDescSetAttribute(v.d.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt));
    CHECK_ST(v.heuristic(h, &count, &res), CUBLAS_STATUS_NOT_SUPPORTED);
  }
  {
    // An algo found for float used for a double problem.
    LinearLt t;
    t.build();
    t.good_layouts();
    CHECK_ST(t.heuristic(h, &count, &res), CUBLAS_STATUS_SUCCESS);
    Lt d;
    cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_64F, CUDA_R_64F);
    cublasLtMatrixLayoutCreate(&d.a, CUDA_R_64F, 2, 2, 2);
    const double dbuf[8] = {};
    double dout[4];
    const double d1 = 1, d0 = 0;
    CHECK_ST(
        cublasLtMatmul(h, d.op, &d1, dbuf, d.a, dbuf, d.a, &d0, dout, d.a, dout, d.a, &res.algo, nullptr, 0, nullptr),
        CUBLAS_STATUS_INVALID_VALUE);
    CHECK_ST(
        cublasLtMatmul(h, d.op, &d1, dbuf, d.a, dbuf, d.a, &d0, dout, d.a, dout, d.a, nullptr, nullptr, 0, nullptr),
        CUBLAS_STATUS_SUCCESS);
  }
  {
    // Handles: a cuBLAS handle works as a cuBLASLt handle (documented), a
    // destroyed one does not.
    LinearLt t;
    t.build();
    t.good_layouts();
    cublasHandle_t bh = nullptr;
    cublasCreate(&bh);
    CHECK_ST(t.heuristic(reinterpret_cast<cublasLtHandle_t>(bh), &count, &res), CUBLAS_STATUS_SUCCESS);
    cublasDestroy(bh);
    cublasLtHandle_t lh = nullptr;
    CHECK_ST(cublasLtCreate(&lh), CUBLAS_STATUS_SUCCESS);
    CHECK_ST(t.heuristic(lh, &count, &res), CUBLAS_STATUS_SUCCESS);
    CHECK_ST(cublasLtDestroy(lh), CUBLAS_STATUS_SUCCESS);
    CHECK_ST(t.heuristic(lh, &count, &res), CUBLAS_STATUS_NOT_INITIALIZED);
    CHECK_ST(cublasLtDestroy(lh), CUBLAS_STATUS_NOT_INITIALIZED);
    CHECK_ST(cublasLtDestroy(nullptr), CUBLAS_STATUS_NOT_INITIALIZED);
  }
  CHECK(std::string(cublasLtGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED)).find("not supported") != std::string::npos,
        "cublasLtGetStatusString");
}

}  // namespace

int main() {
  cublasHandle_t h = nullptr;
  CHECK_ST(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  cublasLtHandle_t lt = nullptr;
  CHECK_ST(cublasLtCreate(&lt), CUBLAS_STATUS_SUCCESS);
  if (!h || !lt) {
    std::printf("cannot create handles\n");
    return 1;
  }
  test_gemm_values(h);
  test_gemm_broadcast(h);
  test_row_major_trick(h);
  test_beta_zero_ignores_c(h);
  test_tf32(h);
  test_gemm_invalid(h);
  test_lt_values(lt);
  test_lt_gelu_is_tanh(lt);
  test_lt_double(lt);
  test_lt_invalid(lt);
  CHECK_ST(cublasLtDestroy(lt), CUBLAS_STATUS_SUCCESS);
  CHECK_ST(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);
  std::printf("test_emu_blas: %d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
