// Convolution: conv2d and conv1d with PyTorch's names, argument order and
// layouts (input [N, C, H, W] or unbatched [C, H, W]; weight [K, C/groups, R, S];
// bias [K] or undefined). stride / padding / dilation take one value (used for
// both dims) or one per spatial dim. Kernels: kernels/{cpu,cuda}/conv.*.
#pragma once
#include "core/tensor.h"

namespace loom {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), const Dims& stride = {1},
              const Dims& padding = {0}, const Dims& dilation = {1}, int64_t groups = 1);
// input [N, C, L] or [C, L]; weight [K, C/groups, kL].
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// Which CUDA implementation conv2d uses: loom's own implicit-GEMM kernels
// (default) or cuDNN (raises where loom was built without cuDNN). CPU tensors
// always use the CPU kernels.
enum class ConvBackend { Hand, Cudnn };
void set_conv_backend(ConvBackend backend);
ConvBackend conv_backend();
bool cudnn_available();  // built with cuDNN

}  // namespace loom
