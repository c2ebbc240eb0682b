// CPU batched gemm against double references: transposes, padded row
// strides, batch strides (including a broadcast operand), every dtype; [cuda]
// the CUDA gemm (float64, float32, TF32) against its CPU twin. Without a
// device the [cuda] tests SKIP with a reason.
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <limits>
#include <vector>
#include "core/error.h"
#include "kernels/matmul.h"
#include "test_kernel_util.h"
#ifdef LOOM_WITH_CUDA
#include <cstdint>
#include <random>
#include <string>
#include <vector>
#include "test_cuda_util.h"
#endif

using namespace loom;
using namespace loom::kernels;
using namespace loom::test;

namespace {

// Stored matrix: rows x cols with row stride ld (>= cols, padded).
template <typename T>
void check_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, double beta, int64_t batch,
                bool broadcast_b, int64_t pad, uint32_t seed) {
  const DType dt = dtype_of<T>::value;
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  const int64_t sa = ar * lda + 3, sb = broadcast_b ? 0 : br * ldb + 1, sc = m * ldc + 2;
  const bool integer = std::is_integral_v<T>;
  auto vals = [&](int64_t count, uint32_t s) {
    std::vector<double> v = random_doubles(count, -4, 4, s);
    if (integer)
      for (auto& x : v) x = std::round(x);
    return cast_vec<T>(v);
  };
  Vec<T> A = vals(sa * batch + ar * lda, seed), B = vals(sb * batch + br * ldb, seed + 1);
  Vec<T> C = vals(sc * batch + m * ldc, seed + 2);
  if (beta == 0 && !integer) std::fill(C.begin(), C.end(), std::numeric_limits<T>::quiet_NaN());
  const Vec<T> C0 = C;
  cpu::gemm(dt, ta, tb, m, n, k, alpha, ptr<T>(A), lda, sa, ptr<T>(B), ldb, sb, beta, ptr<T>(C), ldc, sc, batch);
  int64_t bad = 0;
  const double t = std::is_same_v<T, float> ? 1e-5 : integer ? 0 : 1e-12;
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double a = A[bi * sa + (ta ? p * lda + i : i * lda + p)];
          const double b = B[bi * sb + (tb ? j * ldb + p : p * ldb + j)];
          acc += a * b;
        }
        const int64_t ci = bi * sc + i * ldc + j;
        double want = (integer ? std::trunc(alpha) : alpha) * acc;
        if (beta != 0) want += (integer ? std::trunc(beta) : beta) * double(C0[ci]);
        bad += !is_close(C[ci], want, t * (1 + std::sqrt(double(k)) * 16), t);
      }
  // The padding between rows and between batches is never written.
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = n; j < ldc; ++j) {
        const int64_t ci = bi * sc + i * ldc + j;
        bad += !(C[ci] == C0[ci] || (C[ci] != C[ci] && C0[ci] != C0[ci]));
      }
  INFO(dtype_name(dt) << " ta=" << ta << " tb=" << tb << " m=" << m << " n=" << n << " k=" << k << " batch=" << batch
                      << " alpha=" << alpha << " beta=" << beta << " broadcast_b=" << broadcast_b);
  CHECK(bad == 0);
}

}  // namespace

TEMPLATE_TEST_CASE("cpu gemm: transposes, padded strides, batches, alpha/beta", "[kernels]", float, double, int32_t,
                   int64_t) {
  using T = TestType;
  uint32_t seed = 100;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_gemm<T>(ta, tb, 7, 13, 5, 1.0, 0.0, 1, false, 0, seed++);
      check_gemm<T>(ta, tb, 7, 13, 5, 2.0, 3.0, 3, false, 2, seed++);
      check_gemm<T>(ta, tb, 5, 7, 3, 1.0, 1.0, 50, true, 1, seed++);  // many small: parallel over batch
      check_gemm<T>(ta, tb, 1, 9, 4, 1.0, 0.0, 2, false, 0, seed++);  // a single row
      check_gemm<T>(ta, tb, 6, 4, 0, 1.0, 2.0, 2, false, 0, seed++);  // k = 0: C = beta * C
    }
  // Large: each product cut over the pool by rows of C (m >= n) or by columns,
  // in blocks of 16 with a ragged last one; every transpose, beta on and off.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_gemm<T>(ta, tb, 130, 70, 90, 1.0, 0.0, 2, false, 3, seed++);
      check_gemm<T>(ta, tb, 65, 129, 33, 0.5, 2.0, 1, false, 1, seed++);
    }
  check_gemm<T>(false, true, 20, 200, 70, 1.0, 1.0, 5, true, 0, seed++);  // few large products in a batch
}

TEST_CASE("cpu packed gemm matches the plain product", "[kernels]") {
  if (!cpu::packed_gemm_supported()) SKIP("packed_gemm needs a CPU with AVX-512");
  uint32_t seed = 300;
  for (bool trans : {false, true})
    for (int64_t m : {1, 7, 8, 11, 32})
      for (int64_t n : {16, 37, 80})
        for (int64_t k : {1, 5, 64}) {
          const int64_t lda = k + 2, ldb = (trans ? k : n) + 1, ldc = n + 3;
          std::vector<float> a = cast_vec<float>(random_doubles(m * lda, -2, 2, seed++));
          std::vector<float> b = cast_vec<float>(random_doubles((trans ? n : k) * ldb, -2, 2, seed++));
          std::vector<float> c0 = cast_vec<float>(random_doubles(m * ldc, -2, 2, seed++));
          std::vector<float> packed(size_t(cpu::packed_size(k, n)), -7.f);
          cpu::pack_matrix(packed.data(), b.data(), ldb, trans, k, n);
          for (bool acc : {false, true}) {
            std::vector<float> c = c0;
            cpu::packed_gemm(packed.data(), k, n, m, a.data(), lda, c.data(), ldc, acc);
            int64_t bad = 0;
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < ldc; ++j) {
                const float got = c[i * ldc + j];
                if (j >= n) {  // the padding of C is never written
                  bad += got != c0[i * ldc + j];
                  continue;
                }
                double want = acc ? double(c0[i * ldc + j]) : 0.0;
                for (int64_t p = 0; p < k; ++p)
                  want += double(a[i * lda + p]) * double(trans ? b[j * ldb + p] : b[p * ldb + j]);
                bad += !is_close(got, want, 1e-4, 1e-4);
              }
            INFO("trans=" << trans << " m=" << m << " n=" << n << " k=" << k << " accumulate=" << acc);
            CHECK(bad == 0);
          }
        }
}

TEST_CASE("cpu gemm_interleaved matches the plain product", "[kernels]") {
  if (!cpu::packed_gemm_supported()) SKIP("gemm_interleaved needs a CPU with AVX-512");
  uint32_t seed = 500;
  for (int64_t m : {1, 8, 13, 21})
    for (int64_t n : {5, 16, 40})
      for (int64_t k : {1, 27, 70}) {
        const int64_t lda = k + 3, ldb = n + 5, ldc = n + 2;
        std::vector<float> a = cast_vec<float>(random_doubles(m * lda, -2, 2, seed++));
        std::vector<float> b = cast_vec<float>(random_doubles(k * ldb, -2, 2, seed++));
        std::vector<float> c0 = cast_vec<float>(random_doubles(m * ldc, -2, 2, seed++));
        std::vector<float> at(size_t(cpu::interleaved_size(m, k)), -7.f);
        cpu::interleave_rows(at.data(), a.data(), lda, m, k);
        for (bool acc : {false, true}) {
          std::vector<float> c = c0;
          cpu::gemm_interleaved(at.data(), m, k, b.data(), ldb, n, c.data(), ldc, acc);
          int64_t bad = 0;
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < ldc; ++j) {
              const float got = c[i * ldc + j];
              if (j >= n) {
                bad += got != c0[i * ldc + j];
                continue;
              }
              double want = acc ? double(c0[i * ldc + j]) : 0.0;
              for (int64_t p = 0; p < k; ++p) want += double(a[i * lda + p]) * double(b[p * ldb + j]);
              bad += !is_close(got, want, 1e-4, 1e-4);
            }
          INFO("m=" << m << " n=" << n << " k=" << k << " accumulate=" << acc);
          CHECK(bad == 0);
        }
      }
}

TEST_CASE("cpu interleave_rows lays out tiles of 8 rows along k", "[kernels]") {
  // at[t * 8 * k + p * 8 + r] = A[8 t + r][p], rows past m zero, nothing written past interleaved_size.
  uint32_t seed = 600;
  for (int64_t m : {1, 5, 8, 13, 32})
    for (int64_t k : {1, 7, 15, 16, 17, 33, 256}) {
      const int64_t lda = k + 5, size = cpu::interleaved_size(m, k);
      std::vector<float> a = cast_vec<float>(random_doubles(m * lda, -2, 2, seed++));
      std::vector<float> at(size_t(size + 40), -7.f);
      cpu::interleave_rows(at.data(), a.data(), lda, m, k);
      int64_t bad = 0;
      for (int64_t i = 0; i < size; ++i) {
        const int64_t t = i / (8 * k), p = i % (8 * k) / 8, r = i % 8, row = 8 * t + r;
        bad += at[size_t(i)] != (row < m ? a[size_t(row * lda + p)] : 0.f);
      }
      for (int64_t i = size; i < size + 40; ++i) bad += at[size_t(i)] != -7.f;
      INFO("m=" << m << " k=" << k);
      CHECK(bad == 0);
    }
}

TEST_CASE("cpu gemm_rows matches the plain product", "[kernels]") {
  if (!cpu::packed_gemm_supported()) SKIP("gemm_rows needs a CPU with AVX-512");
  uint32_t seed = 700;
  for (int64_t m : {1, 8, 13, 21})
    for (int64_t n : {16, 48})
      for (int64_t k : {1, 27, 70}) {
        const int64_t lda = k + 3, ldb = n + 5, ldc = n + 2;
        std::vector<float> a = cast_vec<float>(random_doubles(m * lda, -2, 2, seed++));
        std::vector<float> b = cast_vec<float>(random_doubles(k * ldb, -2, 2, seed++));
        std::vector<float> c0 = cast_vec<float>(random_doubles(m * ldc, -2, 2, seed++));
        for (bool acc : {false, true}) {
          std::vector<float> c = c0;
          cpu::gemm_rows(a.data(), lda, m, k, b.data(), ldb, n, c.data(), ldc, acc);
          int64_t bad = 0;
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < ldc; ++j) {
              const float got = c[i * ldc + j];
              if (j >= n) {
                bad += got != c0[i * ldc + j];
                continue;
              }
              double want = acc ? double(c0[i * ldc + j]) : 0.0;
              for (int64_t p = 0; p < k; ++p) want += double(a[i * lda + p]) * double(b[p * ldb + j]);
              bad += !is_close(got, want, 1e-4, 1e-4);
            }
          INFO("m=" << m << " n=" << n << " k=" << k << " accumulate=" << acc);
          CHECK(bad == 0);
        }
      }
  float a[4] = {}, b[32] = {}, c[32] = {};
  CHECK_THROWS_AS(cpu::gemm_rows(a, 2, 2, 2, b, 20, 20, c, 20, false), loom::Error);  // n not a multiple of 16
}

TEST_CASE("cpu transpose_padded transposes and zero pads", "[kernels]") {
  if (!cpu::packed_gemm_supported()) SKIP("transpose_padded needs a CPU with AVX-512");
  uint32_t seed = 800;
  for (int64_t rows : {1, 5, 16, 21, 40})
    for (int64_t cols : {1, 7, 16, 35}) {
      const int64_t lds = cols + 3, rp = (rows + 15) / 16 * 16, ldd = rp + 4;
      std::vector<float> src = cast_vec<float>(random_doubles(rows * lds, -2, 2, seed++));
      std::vector<float> dst(size_t(cols * ldd), -7.f);
      cpu::transpose_padded(src.data(), lds, rows, cols, dst.data(), ldd);
      int64_t bad = 0;
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t i = 0; i < ldd; ++i) {
          const float want = i < rows ? src[i * lds + j] : i < rp ? 0.f : -7.f;
          bad += dst[j * ldd + i] != want;
        }
      INFO("rows=" << rows << " cols=" << cols);
      CHECK(bad == 0);
    }
}

TEST_CASE("cpu gemm rejects row strides shorter than a row", "[kernels]") {
  float a[6] = {}, b[6] = {}, c[4] = {};
  CHECK_THROWS_AS(cpu::gemm(DType::Float32, false, false, 2, 2, 3, 1, a, 2, 0, b, 2, 0, 0, c, 2, 0, 1), loom::Error);
  CHECK_THROWS_AS(cpu::gemm(DType::Bool, false, false, 2, 2, 3, 1, a, 3, 0, b, 2, 0, 0, c, 2, 0, 1), loom::Error);
  // Empty output: nothing happens.
  CHECK_NOTHROW(cpu::gemm(DType::Float32, false, false, 0, 2, 3, 1, a, 3, 0, b, 2, 0, 0, c, 2, 0, 1));
}

#ifdef LOOM_WITH_CUDA

namespace kc = loom::kernels::cuda;   // CUDA kernels
namespace kcpu = loom::kernels::cpu;  // reference twins

TEST_CASE("cuda gemm matches cpu", "[cuda]") {
  LOOM_REQUIRE_GPU();
  std::mt19937 rng(7);
  const int64_t m = 37, n = 129, k = 53, batch = 3;
  auto run = [&](auto tag, bool tf32, double t) {
    using T = decltype(tag);
    const DType dt = dtype_of<T>::value;
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        int64_t lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
        auto a = random_vec<T>(batch * m * k, rng), b = random_vec<T>(batch * k * n, rng);
        auto c = random_vec<T>(batch * m * n, rng);
        auto da = to_device(a), db = to_device(b), dc = to_device(c);
        kcpu::gemm(dt, ta, tb, m, n, k, 1.5, a.data(), lda, m * k, b.data(), ldb, k * n, 0.5, c.data(), ldc, m * n,
                   batch);
        kc::gemm(dt, ta, tb, m, n, k, 1.5, da.get(), lda, m * k, db.get(), ldb, k * n, 0.5, dc.get(), ldc, m * n, batch,
                 tf32, stream());
        check_close(to_host<T>(dc, batch * m * n), c, t, t,
                    "gemm ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
      }
  };
  run(double{}, false, 1e-11);
  run(float{}, false, 1e-4);
  run(float{}, true, 1e-1);  // TF32: ~10-bit mantissa products
  try {
    kc::gemm(DType::Int64, false, false, 1, 1, 1, 1, nullptr, 1, 1, nullptr, 1, 1, 0, nullptr, 1, 1, 1, false,
             stream());
    FAIL("expected a type error");
  } catch (const loom::Error& e) {
    CHECK(e.kind() == ErrorKind::Type);
    CHECK(std::string(e.what()).find("int64") != std::string::npos);
  }
}

#else  // !LOOM_WITH_CUDA

TEST_CASE("cuda matmul kernels", "[cuda]") { LOOM_REQUIRE_GPU(); }

#endif
