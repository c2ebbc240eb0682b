// The CUDA emulator's cuBLASLt fake (emu/emu_blaslt.cpp) against a row-major
// reference: cublasLtMatmul with every emulated epilogue, transposes, padding
// and in place, the GELU and ReLU epilogues' exact forms, double precision,
// and the documented argument checks of the heuristic and the matmul.
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "test_emu_blas_util.h"

using namespace emu_blas_test;

namespace {

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
  CHECK_MSG((count == 1 && res.state == CUBLAS_STATUS_SUCCESS && res.workspaceSize <= ws),
            name + ": one heuristic result");

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
        CHECK_MSG(false, name + ": D(" + std::to_string(i) + "," + std::to_string(j) + ") = " + std::to_string(got) +
                             ", want " + std::to_string(v));
    }
    for (int i2 = m; i2 < ldd; ++i2)
      for (int j = 0; j < n; ++j)
        if (!std::isnan(D[i2 + size_t(j) * ldd]) && bad++ < 3) CHECK_MSG(false, name + ": D padding written");
  }
  CHECK_MSG(bad == 0, name + ": " + std::to_string(bad) + " wrong elements");
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

}  // namespace

TEST_CASE("emu: cuBLASLt matmuls with every emulated epilogue match the reference", "[emu]") {
  const LtHandle handle;
  const cublasLtHandle_t h = handle.h;
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

TEST_CASE("emu: cuBLASLt GELU epilogue is the tanh form, RELU maps NaN to 0", "[emu]") {
  const LtHandle handle;
  const cublasLtHandle_t h = handle.h;
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
    CHECK_MSG(std::fabs(y - gelu_tanh(x)) < 1e-6, "GELU epilogue follows the tanh form at x = " + std::to_string(x) +
                                                      ": got " + std::to_string(y) + ", tanh form " +
                                                      std::to_string(gelu_tanh(x)));
    if (std::fabs(x) > 2)
      CHECK_MSG(std::fabs(y - gelu_erf(x)) > 1e-4, "GELU epilogue is not the erf form at x = " + std::to_string(x));
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
  CHECK_MSG(y == 0.0f, "RELU epilogue maps NaN to 0");
  CHECK_ST(cublasLtMatmul(h, t.d.op, &one, &neg, t.d.a, &one, t.d.b, &zero, &y, t.d.c, &y, t.d.c, nullptr, nullptr, 0,
                          nullptr),
           CUBLAS_STATUS_SUCCESS);
  CHECK_MSG(y == 0.0f, "RELU epilogue clamps negatives");
}

TEST_CASE("emu: cuBLASLt in double with the BIAS epilogue", "[emu]") {
  const LtHandle handle;
  const cublasLtHandle_t h = handle.h;
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
  CHECK_MSG(good, "Lt double with BIAS: bias per output feature (row of D)");
}

TEST_CASE("emu: cuBLASLt rejects invalid descriptors, layouts, algos and handles with the documented status", "[emu]") {
  const LtHandle handle;
  const cublasLtHandle_t h = handle.h;
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
    CHECK_MSG(count == 1, "valid problem: one algorithm");
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
    CHECK_MSG(count == 0, std::string(b.what) + ": heuristic returns no algorithm");
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
  CHECK_MSG(
      std::string(cublasLtGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED)).find("not supported") != std::string::npos,
      "cublasLtGetStatusString");
}
