// Convolution: conv1d, conv2d and conv3d with PyTorch's names, argument order and
// layouts (input [N, C, H, W] or unbatched [C, H, W]; weight [K, C/groups, R, S];
// bias [K] or undefined). stride / padding / dilation take one value (used for
// both dims) or one per spatial dim. Kernels: kernels/{cpu,cuda}/conv.*.
#pragma once
#include <string>

#include "core/tensor.h"
#include "kernels/conv.h"

namespace loom {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), const Dims& stride = {1},
              const Dims& padding = {0}, const Dims& dilation = {1}, int64_t groups = 1);
// input [N, C, D, H, W] or [C, D, H, W]; weight [K, C/groups, kD, kH, kW]. On
// the CPU its own kernels (im2col over the depth too); on CUDA one 2-D
// convolution per depth tap over the matching depth slices (loom's CUDA
// kernels are 2-D).
Tensor conv3d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), const Dims& stride = {1},
              const Dims& padding = {0}, const Dims& dilation = {1}, int64_t groups = 1);
// input [N, C, L] or [C, L]; weight [K, C/groups, kL].
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// The transposed convolution (the gradient of conv2d with respect to its
// input), PyTorch's argument order: input [N, C_in, H, W] or unbatched
// [C_in, H, W]; weight [C_in, C_out/groups, kH, kW]; bias [C_out]; output
// [N, C_out, (H - 1) * stride - 2 * padding + dilation * (kH - 1) +
// output_padding + 1, ...]. It runs conv2d's data-gradient kernels (its
// backward: the forward and weight-gradient kernels), autotuned alike.
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                        const Dims& stride = {1}, const Dims& padding = {0}, const Dims& output_padding = {0},
                        int64_t groups = 1, const Dims& dilation = {1});
// input [N, C_in, D, H, W] or [C_in, D, H, W]; weight [C_in, C_out/groups, kD,
// kH, kW] (conv3d's input gradient; on CUDA one transposed 2-D convolution
// per depth tap).
Tensor conv_transpose3d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                        const Dims& stride = {1}, const Dims& padding = {0}, const Dims& output_padding = {0},
                        int64_t groups = 1, const Dims& dilation = {1});
// input [N, C_in, L] or [C_in, L]; weight [C_in, C_out/groups, kL].
Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
                        int64_t padding = 0, int64_t output_padding = 0, int64_t groups = 1, int64_t dilation = 1);

// Which CUDA implementation conv2d uses (CPU tensors always use the CPU
// kernels):
//   Auto  (default) the first call of each problem (pass, shapes, strides,
//         padding, dilation, groups, dtype, TF32 flag, deterministic flag,
//         device) times every configuration of loom's kernels and cuDNN
//         (with its own algorithm search) and caches the fastest; later calls
//         are a lookup. The cache is core/autotune.h's, family "conv2d": list,
//         save, load it there. Deterministic mode keeps deterministic
//         candidates only.
//   Hand  loom's kernels, the heuristic's configuration.
//   Cudnn cuDNN with its heuristics (raises where loom was built without cuDNN).
enum class ConvBackend { Auto, Hand, Cudnn };
void set_conv_backend(ConvBackend backend);
ConvBackend conv_backend();
bool cudnn_available();  // built with cuDNN
// Forgets the autotuner's conv2d choices and cuDNN's cached plans.
void conv_cache_clear();
// The autotuner's key for one pass ("fwd", "bwd_data", "bwd_weight") of a
// problem on CUDA device `device`: with autotune::put it pins a choice.
std::string conv_tuning_key(const std::string& pass, DType dt, const kernels::ConvParams& p, bool allow_tf32,
                            bool deterministic, int device);

}  // namespace loom
