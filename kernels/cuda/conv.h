// Convolution kernels (CUDA): the same meaning and layouts as
// kernels/cpu/conv.h (ConvParams), enqueued on `stream`. float32 / float64;
// allow_tf32 selects the TF32 tensor-core (mma) variant for float32.
// The cudnn_* functions run cuDNN instead (the "loom_cudnn" reference); they
// raise where loom was built without cuDNN (cudnn_available() is false).
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"
#include "kernels/cpu/conv.h"

namespace loom::kernels::cuda {

void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p,
                    bool allow_tf32, cudaStream_t stream);
void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p,
                           bool allow_tf32, cudaStream_t stream);
// grad_bias may be null.
void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p, bool allow_tf32, cudaStream_t stream);

bool cudnn_available();
void cudnn_conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias,
                          const ConvParams& p, bool allow_tf32, int device, cudaStream_t stream);
void cudnn_conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight,
                                 const ConvParams& p, bool allow_tf32, int device, cudaStream_t stream);
void cudnn_conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                                  const ConvParams& p, bool allow_tf32, int device, cudaStream_t stream);

}  // namespace loom::kernels::cuda
