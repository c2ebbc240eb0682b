// CUDA LayerNorm kernels (kernels/cuda/norm.cu), the twins of
// kernels/cpu/norm.h with the same arguments plus the stream.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"

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

}  // namespace loom::kernels::cuda
