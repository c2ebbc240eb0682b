// loom's CUDA emulator: host fakes of cuBLAS and cuBLASLt (the subset in
// tests/emu/include/cublas_v2.h and cublasLt.h), used to run loom's CUDA code
// paths without a GPU.
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
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "cublasLt.h"
#include "cublas_v2.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
};

struct cublasLtContext {
  int unused = 0;
};

struct cublasLtMatmulDescOpaque_t {
  cublasComputeType_t compute;
  cudaDataType_t scale;
  int32_t pointer_mode = CUBLASLT_POINTER_MODE_HOST;
  int32_t transa = CUBLAS_OP_N;
  int32_t transb = CUBLAS_OP_N;
  int32_t transc = CUBLAS_OP_N;
  int32_t fill_mode = 2;  // CUBLAS_FILL_MODE_FULL, the only mode a general matmul has
  uint32_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  int32_t bias_type = -1;  // -1: the documented default, the type of D
  int64_t bias_batch_stride = 0;
  void* aux = nullptr;
  int64_t aux_ld = 0;
  int64_t aux_batch_stride = 0;
  int64_t alpha_vector_batch_stride = 0;
  int32_t sm_count_target = 0;
};

struct cublasLtMatrixLayoutOpaque_t {
  cudaDataType type;
  uint64_t rows;
  uint64_t cols;
  int64_t ld;
};

struct cublasLtMatmulPreferenceOpaque_t {
  uint32_t search_mode = 0;
  uint64_t max_workspace = 0;
  uint32_t reduction_mask = 0;
  uint32_t min_align[4] = {256, 256, 256, 256};  // documented default for A, B, C, D
  float max_waves = 0.0f;
  uint64_t impl_mask = ~uint64_t(0);
};

// The launch records are emu_runtime.cpp's; weak, so that this file also
// links without it (the standalone build in test_emu_blas.cpp).
namespace emu {
__attribute__((weak)) bool dry_run();
__attribute__((weak)) void report_library_call(const char* where, const std::string& name, dim3 grid, dim3 block,
                                               cudaStream_t stream, int64_t start_ns, int64_t end_ns);
__attribute__((weak)) int64_t now_ns();
}  // namespace emu

namespace {

// ---------------------------------------------------------------- launch records

bool blas_dry_run() { return emu::dry_run && emu::dry_run(); }
int64_t blas_now() { return emu::now_ns ? emu::now_ns() : 0; }

// Reports one GEMM, m x n x k (x batch), with a nominal launch: a grid of
// 128 x 128 output tiles of 256 threads (what a cuBLAS kernel might use; the
// real choice is the library's).
void report_gemm(const char* fn, int64_t m, int64_t n, int64_t k, int64_t batch, cudaStream_t stream, int64_t t0) {
  if (!emu::report_library_call) return;
  std::string name = std::string(fn) + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  if (batch != 1) name += " batch " + std::to_string(batch);
  name += " (emulated)";
  const dim3 grid(unsigned((m + 127) / 128), unsigned((n + 127) / 128), unsigned(std::max<int64_t>(batch, 1)));
  emu::report_library_call(fn, name, grid, dim3(256), stream, t0, blas_dry_run() ? t0 : blas_now());
}

// ---------------------------------------------------------------- error reporting

// The real status strings say nothing about which argument was wrong; the
// emulator remembers why (per thread, like the libraries' own state) and
// appends it to the status string, which is what loom's error messages print.
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

template <typename... Args>
std::string concat(const Args&... args) {
  std::string s;
  auto add = [&s](const auto& a) {
    using A = std::decay_t<decltype(a)>;
    if constexpr (std::is_arithmetic_v<A>) s += std::to_string(a);
    else s += a;
  };
  (add(args), ...);
  return s;
}

template <typename... Args>
cublasStatus_t fail(cublasStatus_t st, const char* fn, const Args&... why) {
  t_last_status = st;
  t_last_detail = concat(fn, ": ", why...);
  if (log_errors()) std::fprintf(stderr, "[emu cuBLAS] %s\n", t_last_detail.c_str());
  return st;
}

cublasStatus_t ok() {
  t_last_status = CUBLAS_STATUS_SUCCESS;
  t_last_detail.clear();
  return CUBLAS_STATUS_SUCCESS;
}

// A GPU would fault on these (an illegal address, reported asynchronously);
// on the host a null dereference is a bare segfault, so say what happened.
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

const char* status_string(cublasStatus_t st) {
  if (st == CUBLAS_STATUS_SUCCESS || st != t_last_status || t_last_detail.empty()) return status_text(st);
  t_status_text = concat(status_text(st), " [emulator: ", t_last_detail, "]");
  return t_status_text.c_str();
}

// ---------------------------------------------------------------- handles

// Live handles, so that a destroyed handle is caught like a null one instead
// of silently working. A cuBLAS handle may also be used as a cuBLASLt handle
// (the cuBLASLt documentation allows casting one to the other).
// The registry is never destroyed, so handles may be created or destroyed
// from static constructors and destructors in any order.
enum class HandleKind { Blas, Lt };
struct Handles {
  std::mutex mu;
  std::unordered_map<const void*, HandleKind> live;
};
Handles& handles() {
  static Handles* h = new Handles;
  return *h;
}

void handle_add(const void* h, HandleKind kind) {
  std::lock_guard<std::mutex> lock(handles().mu);
  handles().live[h] = kind;
}

// Removes h if it is a live handle of the given kind.
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

// TF32 keeps the sign, the 8 exponent bits and the top 10 of float's 23
// mantissa bits. Rounding to nearest with ties away from zero, as
// cvt.rna.tf32.f32 does (the conversion loom's own tensor-core kernels use).
// Adding half of the dropped 13 bits to the magnitude does exactly that;
// a carry into the exponent is the correct round-up (up to infinity).
float round_tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;  // inf and NaN stay as they are
  u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &u, sizeof u);
  return x;
}

// Takes int: an out-of-range value must be compared, not loaded as the enum.
bool op_valid(int op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }
const char* op_name(int op) {
  return op == CUBLAS_OP_N ? "N" : op == CUBLAS_OP_T ? "T" : op == CUBLAS_OP_C ? "C" : "?";
}

enum class Act { None, Relu, Gelu };

// The column-major product of one matrix:
//   D[i, j] = act(alpha * sum_l op(A)[i, l] op(B)[l, j] + beta * C[i, j] + bias[i])
// with T the storage type and Acc the compute type. For real types OP_C is
// OP_T. Each output accumulates over l in order with fused multiply-adds in
// Acc, so the precision is the compute type's; the summation order of a real
// kernel (tiles, split-k) is not reproduced, only bounded by the tests'
// tolerances. The loop order (j, l, i) just keeps a column of A contiguous.
// beta == 0 skips reading C, as cuBLAS documents (C need not be a valid input
// then); alpha == 0 skips the product, the reference-BLAS rule (A and B are
// not referenced), which cuBLAS does not spell out.
template <typename T, typename Acc>
void gemm_one(bool ta, bool tb, int64_t m, int64_t n, int64_t k, Acc alpha, const T* A, int64_t lda, const T* B,
              int64_t ldb, Acc beta, const T* C, int64_t ldc, T* D, int64_t ldd, bool tf32, const T* bias, Act act) {
  auto in = [tf32](T v) -> Acc {
    if constexpr (std::is_same_v<T, float>) {
      if (tf32) return Acc(round_tf32(v));
    }
    return Acc(v);
  };
  std::vector<Acc> acc(size_t(m > 0 ? m : 0));
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < m; ++i) acc[i] = Acc(0);
    if (alpha != Acc(0)) {
      for (int64_t l = 0; l < k; ++l) {
        const Acc b = in(tb ? B[j + l * ldb] : B[l + j * ldb]);
        if (ta) {
          for (int64_t i = 0; i < m; ++i) acc[i] = std::fma(in(A[l + i * lda]), b, acc[i]);
        } else {
          const T* a = A + l * lda;
          for (int64_t i = 0; i < m; ++i) acc[i] = std::fma(in(a[i]), b, acc[i]);
        }
      }
    }
    for (int64_t i = 0; i < m; ++i) {
      Acc x = alpha * acc[i];
      if (beta != Acc(0)) x = std::fma(beta, Acc(C[i + j * ldc]), x);
      if (bias) x += Acc(bias[i]);
      if (act == Act::Relu) {
        // fmax returns the number when the other operand is NaN, as the GPU's
        // max does: the ReLU epilogue turns NaN into 0.
        x = std::fmax(x, Acc(0));
      } else if (act == Act::Gelu) {
        // The tanh approximation: the cuBLAS documentation of cublasLtEpilogue_t
        // (note 5 on CUBLASLT_EPILOGUE_GELU_BIAS / GELU_AUX_BIAS) states that
        // "GELU (Gaussian Error Linear Unit) is approximated by
        // 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))", not the erf form.
        const Acc k0 = Acc(0.7978845608028654);  // sqrt(2/pi)
        const Acc k1 = Acc(0.044715);
        x = Acc(0.5) * x * (Acc(1) + std::tanh(k0 * (x + k1 * x * x * x)));
      }
      D[i + j * ldd] = T(x);
    }
  }
}

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

// ---------------------------------------------------------------- cuBLASLt

constexpr uint64_t kAlgoMagic = 0x6c6f6f6d4c74616cull;  // marks an algo this emulator's heuristic returned

struct LtProblem {
  uint64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
  Act act = Act::None;
  bool bias = false;
};

bool compute_is_f32(cublasComputeType_t c) {
  return c == CUBLAS_COMPUTE_32F || c == CUBLAS_COMPUTE_32F_PEDANTIC || c == CUBLAS_COMPUTE_32F_FAST_TF32;
}
bool compute_is_f64(cublasComputeType_t c) { return c == CUBLAS_COMPUTE_64F || c == CUBLAS_COMPUTE_64F_PEDANTIC; }

// What cublasLtMatmulAlgoGetHeuristic and cublasLtMatmul both check: the
// types (NOT_SUPPORTED when the combination has no kernel) and the shapes
// (INVALID_VALUE when the layouts contradict each other). In cuBLASLt the
// layouts are the matrices as stored: A is rows x cols before TRANSA, so
// op(A) is m x k, op(B) k x n, and C and D are m x n.
cublasStatus_t check_lt(const char* fn, const cublasLtMatmulDescOpaque_t* d, const cublasLtMatrixLayoutOpaque_t* a,
                        const cublasLtMatrixLayoutOpaque_t* b, const cublasLtMatrixLayoutOpaque_t* c,
                        const cublasLtMatrixLayoutOpaque_t* dd, LtProblem* p) {
  if (!d || !a || !b || !c || !dd) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "null descriptor or layout");
  const bool f32 = compute_is_f32(d->compute), f64 = compute_is_f64(d->compute);
  const cudaDataType want = f32 ? CUDA_R_32F : CUDA_R_64F;
  if (!f32 && !f64) return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "computeType = ", int(d->compute), " is not emulated");
  if (d->scale != want)
    return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "scaleType = ", type_name(d->scale), " does not go with computeType ",
                int(d->compute), " (expected ", type_name(want), ")");
  if (a->type != want || b->type != want || c->type != want || dd->type != want)
    return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "A/B/C/D types ", type_name(a->type), "/", type_name(b->type), "/",
                type_name(c->type), "/", type_name(dd->type), " with computeType ", int(d->compute),
                " are not a supported combination (the emulator has all ", type_name(want), ")");
  if (d->pointer_mode != CUBLASLT_POINTER_MODE_HOST && d->pointer_mode != CUBLASLT_POINTER_MODE_DEVICE)
    return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "pointer mode ", d->pointer_mode, " is not emulated");
  if (d->transc != CUBLAS_OP_N)
    return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "TRANSC = ", op_name(d->transc), ": only CUBLAS_OP_N is supported");
  if (d->fill_mode != 2) return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "FILL_MODE other than FULL is not emulated");
  if (!op_valid(d->transa) || !op_valid(d->transb))
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "TRANSA/TRANSB = ", d->transa, "/", d->transb, " is not N, T or C");
  switch (d->epilogue) {
    case CUBLASLT_EPILOGUE_DEFAULT:
      p->act = Act::None;
      p->bias = false;
      break;
    case CUBLASLT_EPILOGUE_RELU:
      p->act = Act::Relu;
      p->bias = false;
      break;
    case CUBLASLT_EPILOGUE_BIAS:
      p->act = Act::None;
      p->bias = true;
      break;
    case CUBLASLT_EPILOGUE_RELU_BIAS:
      p->act = Act::Relu;
      p->bias = true;
      break;
    case CUBLASLT_EPILOGUE_GELU:
      p->act = Act::Gelu;
      p->bias = false;
      break;
    case CUBLASLT_EPILOGUE_GELU_BIAS:
      p->act = Act::Gelu;
      p->bias = true;
      break;
    default:
      return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "epilogue ", d->epilogue,
                  " is not emulated (DEFAULT, RELU, BIAS, RELU_BIAS, GELU, GELU_BIAS are)");
  }
  // The bias has the type of D unless set otherwise; the emulator has no
  // mixed-type bias.
  if (p->bias && d->bias_type != -1 && d->bias_type != int32_t(dd->type))
    return fail(CUBLAS_STATUS_NOT_SUPPORTED, fn, "BIAS_DATA_TYPE = ", type_name(d->bias_type), " with D of type ",
                type_name(dd->type), " is not emulated");

  p->ta = d->transa != CUBLAS_OP_N;
  p->tb = d->transb != CUBLAS_OP_N;
  p->m = dd->rows;
  p->n = dd->cols;
  const uint64_t a_rows = p->ta ? a->cols : a->rows, a_cols = p->ta ? a->rows : a->cols;
  const uint64_t b_rows = p->tb ? b->cols : b->rows, b_cols = p->tb ? b->rows : b->cols;
  p->k = a_cols;
  if (c->rows != dd->rows || c->cols != dd->cols)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "C is ", c->rows, " x ", c->cols, " but D is ", dd->rows, " x ",
                dd->cols);
  if (a_rows != p->m)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "op(A) has ", a_rows, " rows (layout ", a->rows, " x ", a->cols,
                ", TRANSA = ", op_name(d->transa), ") but D has m = ", p->m);
  if (b_cols != p->n)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "op(B) has ", b_cols, " columns (layout ", b->rows, " x ", b->cols,
                ", TRANSB = ", op_name(d->transb), ") but D has n = ", p->n);
  if (b_rows != a_cols)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "inner dimensions differ: op(A) is ", a_rows, " x ", a_cols,
                ", op(B) is ", b_rows, " x ", b_cols);
  const struct {
    const char* name;
    const cublasLtMatrixLayoutOpaque_t* l;
  } layouts[] = {{"A", a}, {"B", b}, {"C", c}, {"D", dd}};
  for (const auto& x : layouts) {
    const uint64_t need = x.l->rows > 1 ? x.l->rows : 1;
    if (x.l->ld < 0 || uint64_t(x.l->ld) < need)
      return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "ld of ", x.name, " = ", x.l->ld, " < max(1, rows = ", x.l->rows,
                  ")");
  }
  return CUBLAS_STATUS_SUCCESS;
}

template <typename T>
void lt_run(const LtProblem& p, const void* alpha, const void* A, const cublasLtMatrixLayoutOpaque_t* a, const void* B,
            const cublasLtMatrixLayoutOpaque_t* b, const void* beta, const void* C,
            const cublasLtMatrixLayoutOpaque_t* c, void* D, const cublasLtMatrixLayoutOpaque_t* d, const void* bias,
            bool tf32) {
  const T al = *static_cast<const T*>(alpha), be = *static_cast<const T*>(beta);
  gemm_one<T, T>(p.ta, p.tb, int64_t(p.m), int64_t(p.n), int64_t(p.k), al, static_cast<const T*>(A), a->ld,
                 static_cast<const T*>(B), b->ld, be, static_cast<const T*>(C), c->ld, static_cast<T*>(D), d->ld, tf32,
                 p.bias ? static_cast<const T*>(bias) : nullptr, p.act);
}

template <typename V>
cublasStatus_t set_attr(const char* fn, V* field, const void* buf, size_t size, const char* attr) {
  if (!buf) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, attr, ": null buffer");
  if (size != sizeof(V))
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, attr, ": sizeInBytes = ", size, ", expected ", sizeof(V));
  std::memcpy(field, buf, sizeof(V));
  return ok();
}

}  // namespace

// ---------------------------------------------------------------- cuBLAS API

const char* emu_blas_last_error() { return t_last_detail.c_str(); }

const char* cublasGetStatusName(cublasStatus_t status) { return status_name(status); }
const char* cublasGetStatusString(cublasStatus_t status) { return status_string(status); }

namespace {
// cublasCreate / cublasLtCreate and their Destroy: the same bookkeeping for both handle kinds.
template <typename Context>
cublasStatus_t create_handle(Context** out, HandleKind kind, const char* fn) {
  if (!out) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "null handle pointer");
  Context* h = new (std::nothrow) Context;
  if (!h) return fail(CUBLAS_STATUS_ALLOC_FAILED, fn, "out of host memory");
  handle_add(h, kind);
  *out = h;
  return ok();
}
template <typename Context>
cublasStatus_t destroy_handle(Context* h, HandleKind kind, const char* fn) {
  if (!handle_remove(h, kind)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, fn, h ? "handle not live" : "null handle");
  delete h;
  return ok();
}
}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) { return create_handle(handle, HandleKind::Blas, "cublasCreate"); }
cublasStatus_t cublasDestroy(cublasHandle_t handle) { return destroy_handle(handle, HandleKind::Blas, "cublasDestroy"); }

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

// ---------------------------------------------------------------- cuBLASLt API

const char* cublasLtGetStatusName(cublasStatus_t status) { return status_name(status); }
const char* cublasLtGetStatusString(cublasStatus_t status) { return status_string(status); }

cublasStatus_t cublasLtCreate(cublasLtHandle_t* lightHandle) {
  return create_handle(lightHandle, HandleKind::Lt, "cublasLtCreate");
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t lightHandle) {
  return destroy_handle(lightHandle, HandleKind::Lt, "cublasLtDestroy");
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* matmulDesc, cublasComputeType_t computeType,
                                        cudaDataType_t scaleType) {
  if (!matmulDesc) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulDescCreate", "null descriptor pointer");
  auto* d = new (std::nothrow) cublasLtMatmulDescOpaque_t;
  if (!d) return fail(CUBLAS_STATUS_ALLOC_FAILED, "cublasLtMatmulDescCreate", "out of host memory");
  d->compute = computeType;
  d->scale = scaleType;
  *matmulDesc = d;
  return ok();
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc) {
  delete matmulDesc;
  return ok();
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc, cublasLtMatmulDescAttributes_t attr,
                                              const void* buf, size_t sizeInBytes) {
  const char* fn = "cublasLtMatmulDescSetAttribute";
  if (!matmulDesc) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "null descriptor");
  auto* d = matmulDesc;
  switch (attr) {
    case CUBLASLT_MATMUL_DESC_COMPUTE_TYPE: {
      int32_t v = 0;
      cublasStatus_t st = set_attr(fn, &v, buf, sizeInBytes, "COMPUTE_TYPE");
      if (st == CUBLAS_STATUS_SUCCESS) d->compute = cublasComputeType_t(v);
      return st;
    }
    case CUBLASLT_MATMUL_DESC_SCALE_TYPE: {
      int32_t v = 0;
      cublasStatus_t st = set_attr(fn, &v, buf, sizeInBytes, "SCALE_TYPE");
      if (st == CUBLAS_STATUS_SUCCESS) d->scale = cudaDataType_t(v);
      return st;
    }
    case CUBLASLT_MATMUL_DESC_POINTER_MODE: return set_attr(fn, &d->pointer_mode, buf, sizeInBytes, "POINTER_MODE");
    case CUBLASLT_MATMUL_DESC_TRANSA: return set_attr(fn, &d->transa, buf, sizeInBytes, "TRANSA");
    case CUBLASLT_MATMUL_DESC_TRANSB: return set_attr(fn, &d->transb, buf, sizeInBytes, "TRANSB");
    case CUBLASLT_MATMUL_DESC_TRANSC: return set_attr(fn, &d->transc, buf, sizeInBytes, "TRANSC");
    case CUBLASLT_MATMUL_DESC_FILL_MODE: return set_attr(fn, &d->fill_mode, buf, sizeInBytes, "FILL_MODE");
    case CUBLASLT_MATMUL_DESC_EPILOGUE: return set_attr(fn, &d->epilogue, buf, sizeInBytes, "EPILOGUE");
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER: return set_attr(fn, &d->bias, buf, sizeInBytes, "BIAS_POINTER");
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: return set_attr(fn, &d->bias_type, buf, sizeInBytes, "BIAS_DATA_TYPE");
    case CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE:
      return set_attr(fn, &d->bias_batch_stride, buf, sizeInBytes, "BIAS_BATCH_STRIDE");
    case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER:
      return set_attr(fn, &d->aux, buf, sizeInBytes, "EPILOGUE_AUX_POINTER");
    case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD: return set_attr(fn, &d->aux_ld, buf, sizeInBytes, "EPILOGUE_AUX_LD");
    case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE:
      return set_attr(fn, &d->aux_batch_stride, buf, sizeInBytes, "EPILOGUE_AUX_BATCH_STRIDE");
    case CUBLASLT_MATMUL_DESC_ALPHA_VECTOR_BATCH_STRIDE:
      return set_attr(fn, &d->alpha_vector_batch_stride, buf, sizeInBytes, "ALPHA_VECTOR_BATCH_STRIDE");
    case CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET:
      return set_attr(fn, &d->sm_count_target, buf, sizeInBytes, "SM_COUNT_TARGET");
  }
  return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "attribute ", int(attr), " is unknown to the emulator");
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* matLayout, cudaDataType type, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
  // Only the pointer is checked here; cuBLASLt judges rows, cols and ld
  // against the problem when a layout is used (heuristic and matmul).
  if (!matLayout) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatrixLayoutCreate", "null layout pointer");
  auto* l = new (std::nothrow) cublasLtMatrixLayoutOpaque_t{type, rows, cols, ld};
  if (!l) return fail(CUBLAS_STATUS_ALLOC_FAILED, "cublasLtMatrixLayoutCreate", "out of host memory");
  *matLayout = l;
  return ok();
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout) {
  delete matLayout;
  return ok();
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
  if (!pref) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulPreferenceCreate", "null preference pointer");
  auto* p = new (std::nothrow) cublasLtMatmulPreferenceOpaque_t;
  if (!p) return fail(CUBLAS_STATUS_ALLOC_FAILED, "cublasLtMatmulPreferenceCreate", "out of host memory");
  *pref = p;
  return ok();
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
  delete pref;
  return ok();
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr, const void* buf,
                                                    size_t sizeInBytes) {
  const char* fn = "cublasLtMatmulPreferenceSetAttribute";
  if (!pref) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "null preference");
  switch (attr) {
    case CUBLASLT_MATMUL_PREF_SEARCH_MODE: return set_attr(fn, &pref->search_mode, buf, sizeInBytes, "SEARCH_MODE");
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
      return set_attr(fn, &pref->max_workspace, buf, sizeInBytes, "MAX_WORKSPACE_BYTES");
    case CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK:
      return set_attr(fn, &pref->reduction_mask, buf, sizeInBytes, "REDUCTION_SCHEME_MASK");
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
      return set_attr(fn, &pref->min_align[0], buf, sizeInBytes, "MIN_ALIGNMENT_A_BYTES");
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
      return set_attr(fn, &pref->min_align[1], buf, sizeInBytes, "MIN_ALIGNMENT_B_BYTES");
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
      return set_attr(fn, &pref->min_align[2], buf, sizeInBytes, "MIN_ALIGNMENT_C_BYTES");
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
      return set_attr(fn, &pref->min_align[3], buf, sizeInBytes, "MIN_ALIGNMENT_D_BYTES");
    case CUBLASLT_MATMUL_PREF_MAX_WAVES_COUNT:
      return set_attr(fn, &pref->max_waves, buf, sizeInBytes, "MAX_WAVES_COUNT");
    case CUBLASLT_MATMUL_PREF_IMPL_MASK: return set_attr(fn, &pref->impl_mask, buf, sizeInBytes, "IMPL_MASK");
  }
  return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "attribute ", int(attr), " is unknown to the emulator");
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t operationDesc,
                                              cublasLtMatrixLayout_t Adesc, cublasLtMatrixLayout_t Bdesc,
                                              cublasLtMatrixLayout_t Cdesc, cublasLtMatrixLayout_t Ddesc,
                                              cublasLtMatmulPreference_t preference, int requestedAlgoCount,
                                              cublasLtMatmulHeuristicResult_t heuristicResultsArray[],
                                              int* returnAlgoCount) {
  const char* fn = "cublasLtMatmulAlgoGetHeuristic";
  if (returnAlgoCount) *returnAlgoCount = 0;
  if (!lt_handle_live(lightHandle))
    return fail(CUBLAS_STATUS_NOT_INITIALIZED, fn, lightHandle ? "handle not live" : "null handle");
  if (requestedAlgoCount <= 0)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "requestedAlgoCount = ", requestedAlgoCount, " <= 0");
  if (!heuristicResultsArray || !returnAlgoCount)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "null results array or count");
  if (!preference) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "null preference");
  LtProblem p;
  if (cublasStatus_t st = check_lt(fn, operationDesc, Adesc, Bdesc, Cdesc, Ddesc, &p); st != CUBLAS_STATUS_SUCCESS)
    return st;
  // One algorithm that needs no workspace, so any MAX_WORKSPACE_BYTES fits.
  // The host loop has no alignment needs either, hence MIN_ALIGNMENT_* are
  // accepted without effect.
  cublasLtMatmulHeuristicResult_t r{};
  r.algo.data[0] = kAlgoMagic;
  r.algo.data[1] = uint64_t(operationDesc->compute);
  r.algo.data[2] = uint64_t(Ddesc->type);
  r.workspaceSize = 0;
  r.state = CUBLAS_STATUS_SUCCESS;
  r.wavesCount = 1.0f;
  heuristicResultsArray[0] = r;
  *returnAlgoCount = 1;
  return ok();
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc, const void* alpha,
                              const void* A, cublasLtMatrixLayout_t Adesc, const void* B, cublasLtMatrixLayout_t Bdesc,
                              const void* beta, const void* C, cublasLtMatrixLayout_t Cdesc, void* D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t* algo, void* workspace,
                              size_t workspaceSizeInBytes, cudaStream_t stream) {
  (void)workspace;
  (void)workspaceSizeInBytes;  // the emulated algorithm needs no workspace
  // The stream is only recorded: synchronous, the work is done when this returns.
  const char* fn = "cublasLtMatmul";
  if (!lt_handle_live(lightHandle))
    return fail(CUBLAS_STATUS_NOT_INITIALIZED, fn, lightHandle ? "handle not live" : "null handle");
  if (!alpha || !beta) return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "alpha or beta is null");
  LtProblem p;
  if (cublasStatus_t st = check_lt(fn, computeDesc, Adesc, Bdesc, Cdesc, Ddesc, &p); st != CUBLAS_STATUS_SUCCESS)
    return st;
  // A null algo asks cuBLASLt for an implicit heuristic query; anything else
  // must be an algo a heuristic returned for these types, not a zeroed or
  // stale struct.
  if (algo) {
    if (algo->data[0] != kAlgoMagic)
      return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "algo was not returned by cublasLtMatmulAlgoGetHeuristic");
    if (algo->data[1] != uint64_t(computeDesc->compute) || algo->data[2] != uint64_t(Ddesc->type))
      return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "algo was found for computeType ", algo->data[1], " / D type ",
                  type_name(int(algo->data[2])), ", not for this matmul");
  }
  // In place (C == D) the two must describe the same matrix.
  if (C == D && (Cdesc->ld != Ddesc->ld || Cdesc->type != Ddesc->type))
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "C == D (in place) but ldc = ", Cdesc->ld, " != ldd = ", Ddesc->ld);
  if (p.bias && !computeDesc->bias)
    return fail(CUBLAS_STATUS_INVALID_VALUE, fn, "epilogue ", computeDesc->epilogue, " needs BIAS_POINTER");
  if (p.m == 0 || p.n == 0) return ok();
  const bool reads_ab = p.k > 0;
  const bool reads_c = compute_is_f32(computeDesc->compute) ? *static_cast<const float*>(beta) != 0.0f
                                                            : *static_cast<const double*>(beta) != 0.0;
  if ((reads_ab && (!A || !B)) || (reads_c && !C) || !D) fatal(fn, "null matrix pointer for a non-empty product");
  const int64_t t0 = blas_now();
  if (!blas_dry_run()) {
    if (compute_is_f32(computeDesc->compute)) {
      lt_run<float>(p, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc, computeDesc->bias,
                    computeDesc->compute == CUBLAS_COMPUTE_32F_FAST_TF32);
    } else {
      lt_run<double>(p, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc, computeDesc->bias, false);
    }
  }
  report_gemm("cublasLt gemm", int64_t(p.m), int64_t(p.n), int64_t(p.k), 1, stream, t0);
  return ok();
}
