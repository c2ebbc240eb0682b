// Internal to loom's CUDA emulator: what its fakes of cuBLAS (emu_blas.cpp)
// and cuBLASLt (emu_blaslt.cpp) share: error reporting, the registry of live
// handles, launch records, and the reference GEMM loop both run.
#pragma once
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "cublasLt.h"
#include "cublas_v2.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
};

struct cublasLtContext {
  int unused = 0;
};

namespace emu::blas {

// ---------------------------------------------------------------- launch records

bool blas_dry_run();
int64_t blas_now();
// Reports one GEMM, m x n x k (x batch), to the launch observer, with a
// nominal launch: a grid of 128 x 128 output tiles of 256 threads (what a
// cuBLAS kernel might use; the real choice is the library's).
void report_gemm(const char* fn, int64_t m, int64_t n, int64_t k, int64_t batch, cudaStream_t stream, int64_t t0);

// ---------------------------------------------------------------- error reporting

// The real status strings say nothing about which argument was wrong; the
// emulator remembers why (per thread, like the libraries' own state) and
// appends it to the status string, which is what loom's error messages print.

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

// Records a failure with status st and its detail (and logs it when
// LOOM_EMU_BLAS_LOG is set); returns st.
cublasStatus_t record_failure(cublasStatus_t st, std::string detail);

template <typename... Args>
cublasStatus_t fail(cublasStatus_t st, const char* fn, const Args&... why) {
  return record_failure(st, concat(fn, ": ", why...));
}

// Clears the recorded failure; returns CUBLAS_STATUS_SUCCESS.
cublasStatus_t ok();

// A GPU would fault on these (an illegal address, reported asynchronously);
// on the host a null dereference is a bare segfault, so say what happened.
[[noreturn]] void fatal(const char* fn, const std::string& why);

const char* status_name(cublasStatus_t st);
// The status text, with the recorded detail when st is the last failure's.
const char* status_string(cublasStatus_t st);

// ---------------------------------------------------------------- handles

// Live handles, so that a destroyed handle is caught like a null one instead
// of silently working. A cuBLAS handle may also be used as a cuBLASLt handle
// (the cuBLASLt documentation allows casting one to the other).
// The registry is never destroyed, so handles may be created or destroyed
// from static constructors and destructors in any order.
enum class HandleKind { Blas, Lt };
void handle_add(const void* h, HandleKind kind);
// Removes h if it is a live handle of the given kind.
bool handle_remove(const void* h, HandleKind kind);
bool blas_handle_live(const cublasContext* h);
bool lt_handle_live(const void* h);

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

// ---------------------------------------------------------------- arithmetic

// TF32 keeps the sign, the 8 exponent bits and the top 10 of float's 23
// mantissa bits. Rounding to nearest with ties away from zero, as
// cvt.rna.tf32.f32 does (the conversion loom's own tensor-core kernels use).
// Adding half of the dropped 13 bits to the magnitude does exactly that;
// a carry into the exponent is the correct round-up (up to infinity).
float round_tf32(float x);

// Takes int: an out-of-range value must be compared, not loaded as the enum.
bool op_valid(int op);
const char* op_name(int op);
const char* type_name(int t);  // a cudaDataType

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

}  // namespace emu::blas
