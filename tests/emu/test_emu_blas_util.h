// Shared by the tests of the CUDA emulator's cuBLAS and cuBLASLt fakes
// (test_emu_blas.cpp, test_emu_blaslt.cpp; the fakes: emu/emu_blas.cpp,
// emu/emu_blaslt.cpp). Results are compared with a naive row-major reference,
// so the column-major conventions of the fakes are checked rather than assumed.
#pragma once
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cublasLt.h"
#include "cublas_v2.h"

namespace emu_blas_test {

// CHECK(cond) with a description of what is checked.
#define CHECK_MSG(cond, what) \
  do {                        \
    INFO(what);               \
    CHECK(cond);              \
  } while (0)

inline std::string st_name(cublasStatus_t st) { return cublasGetStatusName(st); }

// A cuBLAS / cuBLASLt call returns `want`; on failure the message carries
// the emulator's detail of the last error.
#define CHECK_ST(call, want)                                                 \
  do {                                                                       \
    const cublasStatus_t got_ = (call);                                      \
    INFO(#call << "\n  emulator: " << emu_blas_last_error());                \
    CHECK(::emu_blas_test::st_name(got_) == ::emu_blas_test::st_name(want)); \
  } while (0)

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Every test case starts from the same random state (reseed(), called by the
// handle fixtures below), whatever ran before it.
inline std::mt19937& rng() {
  static std::mt19937 r(1234);
  return r;
}
inline void reseed() { rng().seed(1234); }
inline double uniform() { return std::uniform_real_distribution<double>(-1.0, 1.0)(rng()); }

// A logical matrix, row-major: at(i, j) = v[i * cols + j].
struct Logical {
  int rows = 0, cols = 0;
  std::vector<double> v;
  Logical(int r, int c) : rows(r), cols(c), v(size_t(r) * c, 0.0) {}
  double& at(int i, int j) { return v[size_t(i) * cols + j]; }
  double at(int i, int j) const { return v[size_t(i) * cols + j]; }
};

inline Logical random_logical(int r, int c) {
  Logical m(r, c);
  for (double& x : m.v) x = uniform();
  return m;
}

// TF32 rounding for the reference, written independently of the emulator's
// bit trick: keep 11 significant bits, halfway cases away from zero.
inline double tf32_ref(float x) {
  if (!std::isfinite(x) || x == 0.0f) return x;
  int e = 0;
  const double f = std::frexp(double(x), &e);  // x = f * 2^e, 0.5 <= |f| < 1
  return std::ldexp(std::round(std::ldexp(f, 11)), e - 11);
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

// A live cuBLAS / cuBLASLt handle for one test case.
struct BlasHandle {
  cublasHandle_t h = nullptr;
  BlasHandle() {
    reseed();
    CHECK_ST(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
    REQUIRE(h != nullptr);
  }
  ~BlasHandle() { cublasDestroy(h); }
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
};

struct LtHandle {
  cublasLtHandle_t h = nullptr;
  LtHandle() {
    reseed();
    CHECK_ST(cublasLtCreate(&h), CUBLAS_STATUS_SUCCESS);
    REQUIRE(h != nullptr);
  }
  ~LtHandle() { cublasLtDestroy(h); }
  LtHandle(const LtHandle&) = delete;
  LtHandle& operator=(const LtHandle&) = delete;
};

}  // namespace emu_blas_test
