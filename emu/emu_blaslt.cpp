// loom's CUDA emulator: the host fake of cuBLASLt (the subset in
// include/cublasLt.h): descriptors, layouts and preferences, the heuristic,
// and cublasLtMatmul with its epilogues (bias, ReLU, GELU). The conventions of
// the fakes (argument checks, compute types, launch records) are emu_blas.cpp's.
#include <cstdint>
#include <cstring>
#include <new>

#include "emu_blas.h"

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

using namespace emu::blas;

namespace {

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
