// CUDA fusion kernels (kernels/cuda/fusion.cu): the twins of
// kernels/cpu/fusion.h with the same arguments plus the stream, and the
// cuBLASLt linear with a fused bias / activation epilogue.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"

namespace loom::kernels::cuda {

void gated_fusion_forward(DType dt, void* out, void* gate, const void* z, const void* bias, const void* a,
                          const void* b, int64_t B, int64_t D, cudaStream_t stream);
void gated_fusion_backward(DType dt, void* dz, void* da, void* db, const void* dout, const void* a, const void* b,
                           const void* gate, int64_t n, cudaStream_t stream);

void film_forward(DType dt, void* out, const void* gb, const void* a, int64_t B, int64_t D, cudaStream_t stream);
void film_backward(DType dt, void* dgb, void* da, const void* dout, const void* gb, const void* a, int64_t B, int64_t D,
                   cudaStream_t stream);

void bilinear_product(DType dt, void* h, const void* pa, const void* pb, int64_t n, cudaStream_t stream);
void bilinear_product_backward(DType dt, void* dpa, void* dpb, const void* dh, const void* pa, const void* pb,
                               int64_t n, cudaStream_t stream);

// logit_scale, loss, dloss are device pointers (no host synchronisation).
void clip_loss_forward(DType dt, void* loss, void* row_lse, void* col_lse, const void* sim, const void* logit_scale,
                       int64_t N, cudaStream_t stream);
void clip_loss_backward(DType dt, void* dsim, void* scale_partial, const void* dloss, const void* sim,
                        const void* row_lse, const void* col_lse, const void* logit_scale, int64_t N,
                        cudaStream_t stream);

// act: 0 none, 1 relu, 2 gelu (tanh approximation), as kernels::cpu::Activation.
void bias_activation(DType dt, void* y, void* pre, const void* bias, int64_t M, int64_t O, int act,
                     cudaStream_t stream);
void activation_backward(DType dt, void* dz, const void* dy, const void* saved, int64_t n, int act,
                         cudaStream_t stream);

// Bytes of device workspace linear_forward may use (the caller allocates it
// from loom's caching allocator).
size_t linear_workspace_bytes();
// y [M, O] = act(x [M, K] w[O, K]^T + bias[O]); pre (may be null) receives
// x w^T + bias before the activation. float32: one cublasLtMatmul with the
// BIAS / RELU_BIAS / GELU_BIAS epilogue (TF32 only when allow_tf32); when pre
// is wanted with GELU, the BIAS epilogue writes pre and a pointwise kernel
// the output. float64: cuBLAS GEMM + the bias_activation kernel.
void linear_forward(DType dt, void* y, void* pre, const void* x, const void* w, const void* bias, int64_t M, int64_t O,
                    int64_t K, int act, bool allow_tf32, void* workspace, size_t workspace_bytes, cudaStream_t stream);

}  // namespace loom::kernels::cuda
