// LayerNorm, BatchNorm and GroupNorm kernels: the contract of
// kernels/cpu/norm.cpp, norm_group.cpp and kernels/cuda/norm.cu, norm_group.cu
// (see kernels/contract.h). Raw pointers, contiguous
// row-major layouts, dtype float32 or float64. The CUDA twins take a
// workspace where a kernel needs device scratch memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernels/contract.h"

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

// GroupNorm over x [N, C, S], C = G * (C / G): the statistics of each (n, g)
// over its C / G * S values, mean and rstd [N, G] (rstd = 1 / sqrt(biased var
// + eps)); y = (x - mean) * rstd * w[c] + b[c]; w, b [C] or null.
void group_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t C, int64_t S, int64_t G, double eps);
// dx = rstd * (g*w - mean_grp(g*w) - xhat * mean_grp(g*w*xhat)); dw[c] = sum over n, s of
// g*xhat, db[c] = sum of g. dx, dw, db may be null; w may be null. Deterministic.
void group_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t C, int64_t S, int64_t G);

}  // namespace loom::kernels::cpu

namespace loom::kernels::cuda {

void layer_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t D, double eps, cudaStream_t stream);

// Elements of dtype dt of scratch memory that layer_norm_backward needs for
// the first stage of the dw/db reduction (0 when neither is wanted).
int64_t layer_norm_backward_workspace(int64_t N, int64_t D);
// workspace: layer_norm_backward_workspace(N, D) elements of dtype dt on the device.
void layer_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t D, void* workspace,
                         cudaStream_t stream);

// BatchNorm over x [N, C, S], the twins of cpu::batch_norm_*.
// The statistics and the backward spread each channel over the whole GPU and
// lend their partial results to the caller's workspace: *_workspace_bytes(...)
// bytes of device memory (the statistics' may be 0, and its workspace then
// null). Deterministic: no atomics, a fixed order of summation.
size_t batch_norm_stats_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S);
void batch_norm_stats(DType dt, void* mean, void* var, void* invstd, const void* x, int64_t N, int64_t C, int64_t S,
                      double eps, void* workspace, cudaStream_t stream);
void batch_norm_apply(DType dt, void* y, const void* x, const void* mean, const void* invstd, const void* w,
                      const void* b, int64_t N, int64_t C, int64_t S, cudaStream_t stream);
size_t batch_norm_backward_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S);
void batch_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* mean,
                         const void* invstd, const void* w, int64_t N, int64_t C, int64_t S, bool training,
                         void* workspace, cudaStream_t stream);

// GroupNorm, the twins of cpu::group_norm_* (kernels/cuda/norm_group.cu): a
// block per (n, g) group for the statistics, the output and dx, a block per
// channel for dw and db. Deterministic: block reductions, no atomics.
void group_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t N, int64_t C, int64_t S, int64_t G, double eps, cudaStream_t stream);
void group_norm_backward(DType dt, void* dx, void* dw, void* db, const void* dy, const void* x, const void* w,
                         const void* mean, const void* rstd, int64_t N, int64_t C, int64_t S, int64_t G,
                         cudaStream_t stream);

}  // namespace loom::kernels::cuda
