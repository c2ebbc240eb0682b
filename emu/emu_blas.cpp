// loom's CUDA emulator: host fakes of cuBLAS and cuBLASLt (the subset in
// include/cublas_v2.h and cublasLt.h), used to run loom's CUDA code paths
// without a GPU. This file: what both share (emu_blas.h) and cuBLAS;
// emu_blaslt.cpp: cuBLASLt.
//
// The point is to behave like the real libraries where loom could get it
// wrong, not to be fast:
//  - arguments are validated as the cuBLAS documentation lists it (negative
//    sizes, leading dimensions below max(1, rows as stored), unsupported type
//    combinations, null or destroyed handles), so a bad call fails here with
//    the status a GPU would return;
//  - products accumulate in the compute type (float for the 32F compute
//    types, double for 64F) with fused multiply-adds in k order, and
//    CUBLAS_COMPUTE_32F_FAST_TF32 rounds both inputs to TF32 first, so
//    precision effects show up as they would on tensor cores;
//  - when beta == 0, C is never read (NaN or garbage in C must not leak).
// "Device memory" is host memory and streams are synchronous, so every call
// has finished when it returns and the stream argument is only recorded.
// Each GEMM is reported to the emulator's launch observer (emu_device.h) as
// "cublasSgemm 512x512x256 (emulated)" and the like, and skipped in dry run.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "emu_blas.h"

namespace emu::blas {

// ---------------------------------------------------------------- launch records

bool blas_dry_run() { return emu::dry_run(); }
int64_t blas_now() { return emu::now_ns(); }

void report_gemm(const char* fn, int64_t m, int64_t n, int64_t k, int64_t batch, cudaStream_t stream, int64_t t0) {
  std::string name = std::string(fn) + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  if (batch != 1) name += " batch " + std::to_string(batch);
  name += " (emulated)";
  const dim3 grid(unsigned((m + 127) / 128), unsigned((n + 127) / 128), unsigned(std::max<int64_t>(batch, 1)));
  emu::report_library_call(fn, name, grid, dim3(256), stream, t0, blas_dry_run() ? t0 : blas_now());
}

// ---------------------------------------------------------------- error reporting

namespace {

thread_local cublasStatus_t t_last_status = CUBLAS_STATUS_SUCCESS;
thread_local std::string t_last_detail;
thread_local std::string t_status_text;

bool log_errors() {
  static const bool on = [] {
    const char* v = std::getenv("LOOM_EMU_BLAS_LOG");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

const char* status_text(cublasStatus_t st) {
  switch (st) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "error detected trying to check the license";
  }
  return "unknown error";
}

}  // namespace

cublasStatus_t record_failure(cublasStatus_t st, std::string detail) {
  t_last_status = st;
  t_last_detail = std::move(detail);
  if (log_errors()) std::fprintf(stderr, "[emu cuBLAS] %s\n", t_last_detail.c_str());
  return st;
}

cublasStatus_t ok() {
  t_last_status = CUBLAS_STATUS_SUCCESS;
  t_last_detail.clear();
  return CUBLAS_STATUS_SUCCESS;
}

[[noreturn]] void fatal(const char* fn, const std::string& why) {
  std::fprintf(stderr, "[emu cuBLAS] fatal: %s: %s\n", fn, why.c_str());
  std::abort();
}

const char* status_name(cublasStatus_t st) {
  switch (st) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* status_string(cublasStatus_t st) {
  if (st == CUBLAS_STATUS_SUCCESS || st != t_last_status || t_last_detail.empty()) return status_text(st);
  t_status_text = concat(status_text(st), " [emulator: ", t_last_detail, "]");
  return t_status_text.c_str();
}

// ---------------------------------------------------------------- handles

namespace {
struct Handles {
  std::mutex mu;
  std::unordered_map<const void*, HandleKind> live;
};
Handles& handles() {
  static Handles* h = new Handles;
  return *h;
}
}  // namespace

void handle_add(const void* h, HandleKind kind) {
  std::lock_guard<std::mutex> lock(handles().mu);
  handles().live[h] = kind;
}

bool handle_remove(const void* h, HandleKind kind) {
  std::lock_guard<std::mutex> lock(handles().mu);
  auto it = handles().live.find(h);
  if (!h || it == handles().live.end() || it->second != kind) return false;
  handles().live.erase(it);
  return true;
}

bool blas_handle_live(const cublasContext* h) {
  std::lock_guard<std::mutex> lock(handles().mu);
  auto it = handles().live.find(h);
  return h && it != handles().live.end() && it->second == HandleKind::Blas;
}

bool lt_handle_live(const void* h) {
  std::lock_guard<std::mutex> lock(handles().mu);
  return h && handles().live.count(h) != 0;
}

// ---------------------------------------------------------------- arithmetic

float round_tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;  // inf and NaN stay as they are
  u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &u, sizeof u);
  return x;
}

bool op_valid(int op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }
const char* op_name(int op) {
  return op == CUBLAS_OP_N ? "N" : op == CUBLAS_OP_T ? "T" : op == CUBLAS_OP_C ? "C" : "?";
}

const char* type_name(int t) {
  switch (t) {
    case CUDA_R_16F: return "CUDA_R_16F";
    case CUDA_R_32F: return "CUDA_R_32F";
    case CUDA_R_64F: return "CUDA_R_64F";
    case CUDA_R_8I: return "CUDA_R_8I";
    case CUDA_R_32I: return "CUDA_R_32I";
    case CUDA_R_16BF: return "CUDA_R_16BF";
  }
  return "(unknown cudaDataType)";
}

}  // namespace emu::blas

using namespace emu::blas;

namespace {

// ---------------------------------------------------------------- cuBLAS GEMM

struct GemmCheck {
  const char* fn;
  cublasHandle_t handle;
  cublasOperation_t ta, tb;
  int m, n, k;
  const void* alpha;
  const void* beta;
  int lda, ldb, ldc;
  int batch;
};

// The INVALID_VALUE conditions of cublas<t>gemm / cublasGemmEx and their
// batched forms, in the documented terms.
cublasStatus_t check_gemm(const GemmCheck& g) {
  if (!blas_handle_live(g.handle))
    return fail(CUBLAS_STATUS_NOT_INITIALIZED, g.fn, g.handle ? "handle destroyed or never created" : "null handle");
  if (!op_valid(g.ta)) return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "transa = ", int(g.ta), " is not N, T or C");
  if (!op_valid(g.tb)) return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "transb = ", int(g.tb), " is not N, T or C");
  if (g.m < 0 || g.n < 0 || g.k < 0)
    return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "negative size m = ", g.m, ", n = ", g.n, ", k = ", g.k);
  if (g.batch < 0) return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "batchCount = ", g.batch, " < 0");
  const int rows_a = g.ta == CUBLAS_OP_N ? g.m : g.k;
  const int rows_b = g.tb == CUBLAS_OP_N ? g.k : g.n;
  if (g.lda < std::max(1, rows_a))
    return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "lda = ", g.lda, " < max(1, ", g.ta == CUBLAS_OP_N ? "m" : "k",
                " = ", rows_a, ") for transa = ", op_name(g.ta));
  if (g.ldb < std::max(1, rows_b))
    return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "ldb = ", g.ldb, " < max(1, ", g.tb == CUBLAS_OP_N ? "k" : "n",
                " = ", rows_b, ") for transb = ", op_name(g.tb));
  if (g.ldc < std::max(1, g.m))
    return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "ldc = ", g.ldc, " < max(1, m = ", g.m, ")");
  if (!g.alpha || !g.beta) return fail(CUBLAS_STATUS_INVALID_VALUE, g.fn, "alpha or beta is null");
  return CUBLAS_STATUS_SUCCESS;
}

template <typename T, typename Acc>
cublasStatus_t run_gemm(const GemmCheck& g, Acc alpha, const T* A, long long sa, const T* B, long long sb, Acc beta,
                        T* C, long long sc, bool tf32) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return ok();  // nothing to write
  const bool reads_ab = alpha != Acc(0) && g.k > 0;
  if ((reads_ab && (!A || !B)) || !C)
    fatal(g.fn, concat("null matrix pointer (A = ", A ? "set" : "null", ", B = ", B ? "set" : "null",
                       ", C = ", C ? "set" : "null", ") for a non-empty product"));
  const int64_t t0 = blas_now();
  const bool dry = blas_dry_run();
  for (int b = 0; b < g.batch && !dry; ++b) {
    // A and B may be null when they are not read (alpha == 0 or k == 0).
    const T* a = A ? A + b * sa : nullptr;
    const T* bb = B ? B + b * sb : nullptr;
    gemm_one<T, Acc>(g.ta != CUBLAS_OP_N, g.tb != CUBLAS_OP_N, g.m, g.n, g.k, alpha, a, g.lda, bb, g.ldb, beta,
                     C + b * sc, g.ldc, C + b * sc, g.ldc, tf32, nullptr, Act::None);
  }
  report_gemm(g.fn, g.m, g.n, g.k, g.batch, g.handle->stream, t0);
  return ok();
}

bool algo_valid(cublasGemmAlgo_t algo) {
  const int a = int(algo);
  return a == CUBLAS_GEMM_DEFAULT || (a >= CUBLAS_GEMM_ALGO0 && a <= CUBLAS_GEMM_ALGO23) ||
         (a >= CUBLAS_GEMM_DEFAULT_TENSOR_OP && a <= CUBLAS_GEMM_ALGO15_TENSOR_OP);
}

// Shared by cublasGemmEx and cublasGemmStridedBatchedEx. The emulator carries
// the all-float and all-double rows of the cublasGemmEx type table; the
// half/bfloat16/int8 rows and the FAST_16F/16BF compute types are not
// emulated and report NOT_SUPPORTED, the status cuBLAS gives to a type or algo
// combination it does not support.
cublasStatus_t gemm_ex(const GemmCheck& g, const void* A, cudaDataType at, long long sa, const void* B, cudaDataType bt,
                       long long sb, void* C, cudaDataType ct, long long sc, cublasComputeType_t compute,
                       cublasGemmAlgo_t algo) {
  if (cublasStatus_t st = check_gemm(g); st != CUBLAS_STATUS_SUCCESS) return st;
  if (!algo_valid(algo)) return fail(CUBLAS_STATUS_NOT_SUPPORTED, g.fn, "algo = ", int(algo), " is not a cuBLAS algo");
  const bool f32 = compute == CUBLAS_COMPUTE_32F || compute == CUBLAS_COMPUTE_32F_PEDANTIC ||
                   compute == CUBLAS_COMPUTE_32F_FAST_TF32;
  const bool f64 = compute == CUBLAS_COMPUTE_64F || compute == CUBLAS_COMPUTE_64F_PEDANTIC;
  if (f32 && at == CUDA_R_32F && bt == CUDA_R_32F && ct == CUDA_R_32F) {
    return run_gemm<float, float>(g, *static_cast<const float*>(g.alpha), static_cast<const float*>(A), sa,
                                  static_cast<const float*>(B), sb, *static_cast<const float*>(g.beta),
                                  static_cast<float*>(C), sc, compute == CUBLAS_COMPUTE_32F_FAST_TF32);
  }
  if (f64 && at == CUDA_R_64F && bt == CUDA_R_64F && ct == CUDA_R_64F) {
    return run_gemm<double, double>(g, *static_cast<const double*>(g.alpha), static_cast<const double*>(A), sa,
                                    static_cast<const double*>(B), sb, *static_cast<const double*>(g.beta),
                                    static_cast<double*>(C), sc, false);
  }
  return fail(CUBLAS_STATUS_NOT_SUPPORTED, g.fn, "Atype = ", type_name(at), ", Btype = ", type_name(bt),
              ", Ctype = ", type_name(ct), " with computeType = ", int(compute),
              " is not a supported combination (the emulator has all-32F with 32F/32F_PEDANTIC/32F_FAST_TF32 "
              "and all-64F with 64F/64F_PEDANTIC)");
}

}  // namespace

// ---------------------------------------------------------------- cuBLAS API

const char* emu_blas_last_error() { return t_last_detail.c_str(); }

const char* cublasGetStatusName(cublasStatus_t status) { return status_name(status); }
const char* cublasGetStatusString(cublasStatus_t status) { return status_string(status); }

cublasStatus_t cublasCreate(cublasHandle_t* handle) { return create_handle(handle, HandleKind::Blas, "cublasCreate"); }
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  return destroy_handle(handle, HandleKind::Blas, "cublasDestroy");
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t streamId) {
  if (!blas_handle_live(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetStream", "handle not live");
  handle->stream = streamId;
  return ok();
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* streamId) {
  if (!blas_handle_live(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetStream", "handle not live");
  if (!streamId) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream", "null stream pointer");
  *streamId = handle->stream;
  return ok();
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  const GemmCheck g{"cublasSgemm", handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc, 1};
  if (cublasStatus_t st = check_gemm(g); st != CUBLAS_STATUS_SUCCESS) return st;
  return run_gemm<float, float>(g, *alpha, A, 0, B, 0, *beta, C, 0, false);
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const double* alpha, const double* A, int lda, const double* B, int ldb,
                           const double* beta, double* C, int ldc) {
  const GemmCheck g{"cublasDgemm", handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc, 1};
  if (cublasStatus_t st = check_gemm(g); st != CUBLAS_STATUS_SUCCESS) return st;
  return run_gemm<double, double>(g, *alpha, A, 0, B, 0, *beta, C, 0, false);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb, long long int strideB,
                                         const float* beta, float* C, int ldc, long long int strideC, int batchCount) {
  const GemmCheck g{
      "cublasSgemmStridedBatched", handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc, batchCount};
  if (cublasStatus_t st = check_gemm(g); st != CUBLAS_STATUS_SUCCESS) return st;
  return run_gemm<float, float>(g, *alpha, A, strideA, B, strideB, *beta, C, strideC, false);
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const double* alpha, const double* A, int lda,
                                         long long int strideA, const double* B, int ldb, long long int strideB,
                                         const double* beta, double* C, int ldc, long long int strideC,
                                         int batchCount) {
  const GemmCheck g{
      "cublasDgemmStridedBatched", handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc, batchCount};
  if (cublasStatus_t st = check_gemm(g); st != CUBLAS_STATUS_SUCCESS) return st;
  return run_gemm<double, double>(g, *alpha, A, strideA, B, strideB, *beta, C, strideC, false);
}

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void* alpha, const void* A, cudaDataType Atype, int lda, const void* B,
                            cudaDataType Btype, int ldb, const void* beta, void* C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
  const GemmCheck g{"cublasGemmEx", handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc, 1};
  return gemm_ex(g, A, Atype, 0, B, Btype, 0, C, Ctype, 0, computeType, algo);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                          int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                          int lda, long long int strideA, const void* B, cudaDataType Btype, int ldb,
                                          long long int strideB, const void* beta, void* C, cudaDataType Ctype, int ldc,
                                          long long int strideC, int batchCount, cublasComputeType_t computeType,
                                          cublasGemmAlgo_t algo) {
  const GemmCheck g{
      "cublasGemmStridedBatchedEx", handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc, batchCount};
  return gemm_ex(g, A, Atype, strideA, B, Btype, strideB, C, Ctype, strideC, computeType, algo);
}
