// Fused scaled-dot-product attention, CUDA kernels (kernels/cuda/attention.cu).
// Same meaning, layouts, masks and dropout stream as the CPU twin
// (kernels/cpu/attention.h, which defines AttentionParams). D and Dv <= 128.
#pragma once
#include <cuda_runtime.h>

#include "core/dtype.h"
#include "kernels/cpu/attention.h"

namespace loom::kernels::cuda {

// out [B,H,Lq,Dv], lse [B,H,Lq]; dt is Float32 or Float64.
void attention_forward(DType dt, void* out, void* lse, const void* q, const void* k, const void* v,
                       const AttentionParams& p, cudaStream_t stream);

// dq, dk, dv are overwritten. workspace: B*H*Lq elements of dt (holds
// Delta = rowsum(grad_out * out)).
void attention_backward(DType dt, void* dq, void* dk, void* dv, const void* grad_out, const void* q, const void* k,
                        const void* v, const void* out, const void* lse, void* workspace, const AttentionParams& p,
                        cudaStream_t stream);

}  // namespace loom::kernels::cuda
