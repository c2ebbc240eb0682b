// Convolution kernels (CUDA): the same meaning and layouts as
// kernels/cpu/conv.h (ConvParams), enqueued on `stream`. float32 / float64;
// allow_tf32 selects the TF32 tensor-core (mma) variant for float32.
//
// loom's own kernels come in configurations (ConvConfig: the kernel kind, its
// tile, the weight gradient's split-K count); conv2d_configs lists those that
// fit a problem, the heuristic choice first, and the autotuner
// (autograd/ops/conv.cpp) times them. Workspace is lent by the caller: the
// kernel layer never allocates.
//
// The cudnn_* functions run cuDNN instead; they raise where loom was built
// without cuDNN (cudnn_available() is false).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include "core/dtype.h"
#include "kernels/cpu/conv.h"

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
