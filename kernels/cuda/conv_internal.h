// What the convolution kernel files (conv.cu, conv_direct.cu) share; not
// part of the kernel API (that is kernels/conv.h).
#pragma once
#include <cstddef>

#include <cuda_runtime_api.h>
#include "core/dtype.h"
#include "kernels/conv.h"

namespace loom::kernels::cuda {

// The direct kernels for few input channels (conv_direct.cu) apply.
bool conv_few_channels(const ConvParams& p, size_t elem);
void conv_few_forward(DType dt, void* out, const void* in, const void* w, const void* bias, const ConvParams& p,
                      cudaStream_t stream);
void conv_few_backward_input(DType dt, void* gin, const void* gout, const void* w, const ConvParams& p,
                             cudaStream_t stream);
// The weight gradient (grid sized for `sms` SMs): per-slice partials in
// `workspace` (conv_few_wgrad_workspace bytes; none for one slice), summed in
// order.
size_t conv_few_wgrad_workspace(const ConvParams& p, size_t elem, int sms);
void conv_few_backward_weight(DType dt, void* gw, const void* gout, const void* in, const ConvParams& p,
                              void* workspace, int sms, cudaStream_t stream);

// out[i] = sum over s < splits of parts[s * n + i], in order (conv.cu).
void conv_split_sum(DType dt, void* out, const void* parts, int64_t n, int splits, cudaStream_t stream);

// Depthwise and channel-multiplier convolutions (conv_depthwise.cu): Cg == 1
// (groups == C), any Kg = K / C, R*S <= 25.
bool conv_depthwise_applies(const ConvParams& p);
// bias may be null.
void conv_depthwise_forward(DType dt, void* out, const void* in, const void* w, const void* bias, const ConvParams& p,
                            cudaStream_t stream);
void conv_depthwise_backward_input(DType dt, void* gin, const void* gout, const void* w, const ConvParams& p,
                                   cudaStream_t stream);
// Deterministic weight gradient (grid sized for `sms` SMs): per-slice partials
// in `workspace` (conv_depthwise_wgrad_workspace bytes; may be 0, and then
// workspace may be null), summed in slice order with conv_split_sum.
size_t conv_depthwise_wgrad_workspace(const ConvParams& p, size_t elem, int sms);
void conv_depthwise_backward_weight(DType dt, void* gw, const void* gout, const void* in, const ConvParams& p,
                                    void* workspace, int sms, cudaStream_t stream);

}  // namespace loom::kernels::cuda
