// conv2d through cuDNN (9.x, legacy convolution API): the second reference
// for loom's own kernels and the "loom_cudnn" benchmark variant. Same meaning
// and layouts as kernels/cpu/conv.h (NCHW, cross-correlation, groups).
// Algorithms come from cudnnGet*Algorithm_v7 (heuristics, no trial runs); the
// first one whose workspace loom's caching allocator can provide is used. One
// cuDNN handle per device, bound to the caller's stream on every call.
// allow_tf32 = false asks for CUDNN_FMA_MATH (no TF32 tensor cores).
// Compiled to stubs that raise where loom was built without cuDNN.
#include "core/cuda.h"
#include "core/error.h"
#include "kernels/cuda/conv.h"

#ifdef LOOM_WITH_CUDNN
#include <cudnn.h>

#include <memory>
#include <mutex>
#include <vector>
#endif

namespace loom::kernels::cuda {

#ifdef LOOM_WITH_CUDNN
namespace {

#define LOOM_CUDNN_CHECK(call)                                                                            \
  do {                                                                                                    \
    cudnnStatus_t st_ = (call);                                                                           \
    LOOM_CHECK(st_ == CUDNN_STATUS_SUCCESS, "cuDNN error ", cudnnGetErrorString(st_), " in ", #call, " (", \
               __FILE__, ":", __LINE__, ")");                                                             \
  } while (0)

cudnnHandle_t handle_for(int device, cudaStream_t stream) {
  static std::mutex mu;
  static std::vector<cudnnHandle_t> handles;
  std::lock_guard<std::mutex> lock(mu);
  if (int(handles.size()) <= device) handles.resize(device + 1, nullptr);
  if (!handles[device]) LOOM_CUDNN_CHECK(cudnnCreate(&handles[device]));
  LOOM_CUDNN_CHECK(cudnnSetStream(handles[device], stream));
  return handles[device];
}

// The descriptors of one convolution; destroyed with the object.
struct Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, b = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnDataType_t type;

  Descs(DType dt, const ConvParams& p, bool tf32) {
    LOOM_CHECK_TYPE(dt == DType::Float32 || dt == DType::Float64, "conv2d (cuDNN): expected float32 or float64, got ",
                    dtype_name(dt));
    type = dt == DType::Float32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
    LOOM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    LOOM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    LOOM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&b));
    LOOM_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    LOOM_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    LOOM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, int(p.N), int(p.C), int(p.H), int(p.W)));
    LOOM_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, int(p.N), int(p.K), int(p.OH), int(p.OW)));
    LOOM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(b, CUDNN_TENSOR_NCHW, type, 1, int(p.K), 1, 1));
    LOOM_CUDNN_CHECK(
        cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, int(p.K), int(p.Cg()), int(p.R), int(p.S)));
    LOOM_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, int(p.pad_h), int(p.pad_w), int(p.stride_h),
                                                     int(p.stride_w), int(p.dil_h), int(p.dil_w),
                                                     CUDNN_CROSS_CORRELATION, type));
    LOOM_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, int(p.groups)));
    LOOM_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, tf32 && type == CUDNN_DATA_FLOAT ? CUDNN_DEFAULT_MATH
                                                                                         : CUDNN_FMA_MATH));
  }
  ~Descs() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(b);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Descs(const Descs&) = delete;
  Descs& operator=(const Descs&) = delete;
};

std::shared_ptr<void> workspace(size_t bytes, int device) {
  return bytes ? ::loom::cuda::allocate(bytes, device) : std::shared_ptr<void>();
}

// alpha / beta are read as the compute type: double for float64, float otherwise.
struct Scale {
  float f1 = 1.f, f0 = 0.f;
  double d1 = 1.0, d0 = 0.0;
  const void* one(cudnnDataType_t t) const { return t == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&d1) : &f1; }
  const void* zero(cudnnDataType_t t) const { return t == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&d0) : &f0; }
};

}  // namespace

bool cudnn_available() { return true; }

void cudnn_conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias,
                          const ConvParams& p, bool allow_tf32, int device, cudaStream_t stream) {
  cudnnHandle_t h = handle_for(device, stream);
  Descs d(dt, p, allow_tf32);
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int n = 0;
  LOOM_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                          &n, perf));
  Scale s;
  cudnnStatus_t st = CUDNN_STATUS_NOT_SUPPORTED;
  for (int i = 0; i < n && st != CUDNN_STATUS_SUCCESS; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, perf[i].algo, &bytes) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    auto ws = workspace(bytes, device);
    st = cudnnConvolutionForward(h, s.one(d.type), d.x, in, d.w, weight, d.conv, perf[i].algo, ws.get(), bytes,
                                 s.zero(d.type), d.y, out);
  }
  LOOM_CUDNN_CHECK(st);
  if (bias) LOOM_CUDNN_CHECK(cudnnAddTensor(h, s.one(d.type), d.b, bias, s.one(d.type), d.y, out));
}

void cudnn_conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight,
                                 const ConvParams& p, bool allow_tf32, int device, cudaStream_t stream) {
  cudnnHandle_t h = handle_for(device, stream);
  Descs d(dt, p, allow_tf32);
  cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int n = 0;
  LOOM_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x,
                                                               CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
  Scale s;
  cudnnStatus_t st = CUDNN_STATUS_NOT_SUPPORTED;
  for (int i = 0; i < n && st != CUDNN_STATUS_SUCCESS; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    if (cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, perf[i].algo, &bytes) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    auto ws = workspace(bytes, device);
    st = cudnnConvolutionBackwardData(h, s.one(d.type), d.w, weight, d.y, grad_out, d.conv, perf[i].algo, ws.get(),
                                      bytes, s.zero(d.type), d.x, grad_in);
  }
  LOOM_CUDNN_CHECK(st);
}

void cudnn_conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                                  const ConvParams& p, bool allow_tf32, int device, cudaStream_t stream) {
  cudnnHandle_t h = handle_for(device, stream);
  Descs d(dt, p, allow_tf32);
  cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int n = 0;
  LOOM_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w,
                                                                 CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
  Scale s;
  cudnnStatus_t st = CUDNN_STATUS_NOT_SUPPORTED;
  for (int i = 0; i < n && st != CUDNN_STATUS_SUCCESS; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    if (cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, perf[i].algo, &bytes) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    auto ws = workspace(bytes, device);
    st = cudnnConvolutionBackwardFilter(h, s.one(d.type), d.x, in, d.y, grad_out, d.conv, perf[i].algo, ws.get(),
                                        bytes, s.zero(d.type), d.w, grad_weight);
  }
  LOOM_CUDNN_CHECK(st);
  if (grad_bias)
    LOOM_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, s.one(d.type), d.y, grad_out, s.zero(d.type), d.b, grad_bias));
}

#else  // no cuDNN

bool cudnn_available() { return false; }

namespace {
[[noreturn]] void no_cudnn() {
  LOOM_THROW(::loom::ErrorKind::Runtime, "conv2d: the cuDNN backend was selected but loom was built without cuDNN");
}
}  // namespace

void cudnn_conv2d_forward(DType, void*, const void*, const void*, const void*, const ConvParams&, bool, int,
                          cudaStream_t) {
  no_cudnn();
}
void cudnn_conv2d_backward_input(DType, void*, const void*, const void*, const ConvParams&, bool, int, cudaStream_t) {
  no_cudnn();
}
void cudnn_conv2d_backward_weight(DType, void*, void*, const void*, const void*, const ConvParams&, bool, int,
                                  cudaStream_t) {
  no_cudnn();
}

#endif

}  // namespace loom::kernels::cuda
