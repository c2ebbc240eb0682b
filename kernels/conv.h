// Convolution kernels: the contract of kernels/cpu/conv.cpp and
// kernels/cuda/conv*.cu (see kernels/contract.h). Layouts are PyTorch's:
// input [N, C, H, W], weight [K, C/groups, R, S], bias [K], output
// [N, K, OH, OW], all contiguous. conv1d is conv2d with H = R = 1. The math,
// per group g of G:
//   out[n, k, oh, ow] = bias[k] + sum_{c, r, s} w[k, c, r, s] *
//       in[n, g*Cg + c, oh*sh - ph + r*dh, ow*sw - pw + s*dw]      (0 outside)
// The CPU kernels also take a depth (conv3d: input [N, C, D, H, W], weight
// [K, C/groups, KD, R, S], output [N, K, OD, OH, OW]; the sum runs over the KD
// depth taps too, at od*sd - pd + t*dd); the CUDA kernels take 2-D problems
// only (is_2d()).
// ConvParams' helpers are constexpr so device code can call them
// (--expt-relaxed-constexpr). float32 / float64.
//
// CUDA: allow_tf32 selects the TF32 tensor-core (mma) variant for float32.
// loom's own kernels come in configurations (ConvConfig: the kernel kind, its
// tile, the weight gradient's split-K count); conv2d_configs lists those that
// fit a problem, the heuristic choice first, and the autotuner
// (autograd/ops/conv.cpp) times them. The cudnn_* functions run cuDNN
// instead; they raise where loom was built without cuDNN (cudnn_available()
// is false). Workspace is lent by the caller.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include "kernels/contract.h"

namespace loom::kernels {

struct ConvParams {
  int64_t N, C, H, W;  // input
  int64_t K, R, S;     // output channels, kernel height and width
  int64_t OH, OW;      // output
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int64_t groups;
  // The depth of a 3-D convolution: input depth, kernel depth, output depth (1, 1, 1 in 2-D).
  int64_t D = 1, KD = 1, OD = 1, stride_d = 1, pad_d = 0, dil_d = 1;
  constexpr int64_t Cg() const { return C / groups; }
  constexpr int64_t Kg() const { return K / groups; }
  constexpr int64_t taps() const { return KD * R * S; }     // kernel positions per channel
  constexpr int64_t crs() const { return Cg() * taps(); }   // the GEMM reduction of the forward pass
  constexpr int64_t out_rows() const { return OD * OH; }    // output rows of one channel (depth x height)
  constexpr int64_t in_plane() const { return D * H * W; }  // elements of one input channel
  constexpr int64_t out_plane() const { return OD * OH * OW; }
  constexpr bool is_2d() const { return D == 1 && KD == 1 && OD == 1; }
  // A 1x1(x1) convolution whose input plane is its output plane (the input is the column matrix). A transposed
  // convolution's output_padding makes its output (this convolution's input) larger: not pointwise then.
  constexpr bool is_pointwise() const {
    return R == 1 && S == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0 && KD == 1 && stride_d == 1 &&
           pad_d == 0 && H == OH && W == OW && D == OD;
  }
};

// Output extent of a convolution along one dim (may be <= 0 for bad input).
inline int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

namespace cpu {

// float32 / float64, 2-D or 3-D (p.D, p.KD, p.OD). bias may be null.
void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p);
// grad_in = d out / d in applied to grad_out (overwrites grad_in).
void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p);
// grad_weight (overwritten) and, when not null, grad_bias (overwritten).
void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p);

}  // namespace cpu
}  // namespace loom::kernels

namespace loom::kernels::cuda {

enum class ConvPass { Forward, BackwardData, BackwardWeight };
const char* conv_pass_name(ConvPass pass);  // "fwd", "bwd_data", "bwd_weight"

// One of loom's kernels for one pass of one problem.
struct ConvConfig {
  // Implicit GEMM; direct kernels for C <= 4 (every pass); 1x1 stride-1
  // convolution as cuBLAS GEMMs batched over the images; direct depthwise
  // kernels (groups == C).
  enum class Kind { Igemm, Few, Gemm, Depthwise };
  Kind kind = Kind::Igemm;
  int bm = 0, bn = 0;        // the GEMM tile (Igemm)
  int splits = 1;            // split-K over N*OH*OW (weight gradient)
  int stages = 0;            // 0: register double-buffer; 4: cp.async ring of 4 k-tiles (float, sm_80+)
  std::string name() const;  // "igemm128x64", "igemm64x128_p4_s12", "few", "gemm", "depthwise"
  bool operator==(const ConvConfig& o) const {
    return kind == o.kind && bm == o.bm && bn == o.bn && splits == o.splits && stages == o.stages;
  }
};

// The configurations that can run `pass` of problem p, the heuristic choice
// first. Never empty for a valid problem.
std::vector<ConvConfig> conv2d_configs(ConvPass pass, DType dt, const ConvParams& p, bool allow_tf32);
// Device memory `cfg` needs for its call (0 for most): the weight gradient's
// per-split partial tiles when deterministic (per-image ones for gemm), and
// the bias gradient's per-block partial sums.
size_t conv2d_workspace_bytes(ConvPass pass, DType dt, const ConvParams& p, const ConvConfig& cfg, bool deterministic,
                              bool with_bias);

void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p,
                    bool allow_tf32, const ConvConfig& cfg, cudaStream_t stream);
void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p,
                           bool allow_tf32, const ConvConfig& cfg, cudaStream_t stream);
// grad_bias may be null. deterministic: split-K partials are summed in a
// fixed order from `workspace` (no atomics); the bias gradient always is.
void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p, bool allow_tf32, const ConvConfig& cfg, bool deterministic,
                            void* workspace, cudaStream_t stream);

// ---- cuDNN ----
// Device memory for one call, stream-ordered on the call's stream, valid until
// the call returns (the caller frees it afterwards).
using WorkspaceFn = std::function<void*(size_t bytes)>;

struct CudnnConvOptions {
  bool search = false;         // time the algorithms once per problem (cudnnFind*Ex) instead of the heuristics
  bool deterministic = false;  // only CUDNN_DETERMINISTIC algorithms
  size_t workspace_limit = size_t(256) << 20;
};

bool cudnn_available();
// Descriptors and the chosen algorithm are cached per problem (ConvParams,
// dtype, TF32, device, options); a later call with the same problem is a
// lookup and the convolution.
void cudnn_conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias,
                          const ConvParams& p, bool allow_tf32, const CudnnConvOptions& opt, const WorkspaceFn& ws,
                          int device, cudaStream_t stream);
void cudnn_conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p,
                                 bool allow_tf32, const CudnnConvOptions& opt, const WorkspaceFn& ws, int device,
                                 cudaStream_t stream);
void cudnn_conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                                  const ConvParams& p, bool allow_tf32, const CudnnConvOptions& opt,
                                  const WorkspaceFn& ws, int device, cudaStream_t stream);
// Forgets every cached descriptor and algorithm (loom.backends.conv_cache().clear()).
void cudnn_conv_cache_clear();
// The algorithm cuDNN's cache holds for a pass of a problem, "" when none
// (for printing the autotuner's cache): e.g. "IMPLICIT_PRECOMP_GEMM".
std::string cudnn_conv_algo_name(ConvPass pass, DType dt, const ConvParams& p, bool allow_tf32,
                                 const CudnnConvOptions& opt, int device);

}  // namespace loom::kernels::cuda
