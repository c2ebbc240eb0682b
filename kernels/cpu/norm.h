// CPU normalization and dropout kernels (kernels/cpu/norm.cpp). Raw pointers,
// contiguous row-major layouts, dtype float32 or float64; the CUDA twins are in
// kernels/cuda/norm.h and kernels/cuda/embedding_dropout.h.
#pragma once
#include <cstdint>
#include "core/dtype.h"

namespace loom::kernels::cpu {

// LayerNorm over the last D elements of N rows: x, y [N, D]; mean, rstd [N]
// (saved for backward; rstd = 1 / sqrt(biased var + eps)); w, b [D] or null.
void layer_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t D, double eps);
// dx [N, D], dw, db [D]; any of the three may be null (not wanted). w may be null.
//   dx = rstd * (g*w - mean(g*w) - xhat * mean(g*w*xhat)),  dw = sum_n g*xhat,  db = sum_n g
void layer_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t D);

// BatchNorm over x [N, C, S] (S = product of the spatial dims).
// Training statistics: mean[C], invstd[C] = 1/sqrt(biased var + eps), and the
// biased variance var[C] (for the running update, which the caller makes).
void batch_norm_stats(DType dt, void* mean, void* var, void* invstd, const void* x, int64_t N, int64_t C, int64_t S,
                      double eps);
// y = (x - mean[c]) * invstd[c] * w[c] + b[c]; w, b may be null.
void batch_norm_apply(DType dt, void* y, const void* x, const void* mean, const void* invstd, const void* w,
                      const void* b, int64_t N, int64_t C, int64_t S);
// Backward. training: dx = w*invstd*(g - mean_c(g) - xhat*mean_c(g*xhat)); else
// dx = g*w*invstd. dw = sum g*xhat, db = sum g. dx, dw, db may be null.
void batch_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* mean,
                         const void* invstd, const void* w, int64_t N, int64_t C, int64_t S, bool training);

// Dropout on n contiguous elements: out[i] = keep(i) ? in[i] / (1 - p) : 0 with
// keep(i) = to_unit_float(lane i % 4 of Philox block offset + i / 4) >= p.
// The same call on the output gradient is the backward (mask regenerated).
void dropout(DType dt, void* out, const void* in, int64_t n, double p, uint64_t seed, uint64_t offset);

}  // namespace loom::kernels::cpu
