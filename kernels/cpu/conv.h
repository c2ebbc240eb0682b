// Convolution kernels (CPU). Layouts are PyTorch's: input [N, C, H, W],
// weight [K, C/groups, R, S], bias [K], output [N, K, OH, OW], all contiguous.
// conv1d is conv2d with H = R = 1. The math, per group g of G:
//   out[n, k, oh, ow] = bias[k] + sum_{c, r, s} w[k, c, r, s] *
//       in[n, g*Cg + c, oh*sh - ph + r*dh, ow*sw - pw + s*dw]      (0 outside)
// ConvParams is shared with the CUDA kernels (kernels/cuda/conv.h); its
// helpers are constexpr so device code can call them (--expt-relaxed-constexpr).
#pragma once
#include <cstdint>
#include "core/dtype.h"

namespace loom::kernels {

struct ConvParams {
  int64_t N, C, H, W;  // input
  int64_t K, R, S;     // output channels, kernel height and width
  int64_t OH, OW;      // output
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int64_t groups;
  constexpr int64_t Cg() const { return C / groups; }
  constexpr int64_t Kg() const { return K / groups; }
  constexpr int64_t crs() const { return Cg() * R * S; }  // the GEMM reduction of the forward pass
  // 1x1, stride 1, no padding: the input already is the im2col matrix.
  constexpr bool is_pointwise() const {
    return R == 1 && S == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
};

// Output extent of a convolution along one dim (may be <= 0 for bad input).
inline int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

namespace cpu {

// float32 / float64. bias may be null.
void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p);
// grad_in = d out / d in applied to grad_out (overwrites grad_in).
void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p);
// grad_weight (overwritten) and, when not null, grad_bias (overwritten).
void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p);

}  // namespace cpu
}  // namespace loom::kernels
