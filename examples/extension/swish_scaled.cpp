// swish_scaled's front end, its autograd function and its CPU kernels. The
// front end follows loom's own ops (autograd/ops/*.cpp): check the input,
// make it contiguous, allocate the output, hand raw pointers to the kernel of
// the tensor's device. Backward runs a kernel too, so it is not itself
// differentiable (create_graph through it would need backward written with
// loom ops, as loom's silu does).
#include "swish_scaled.h"

#include <any>
#include <cmath>

#include "autograd/function.h"
#include "core/cuda.h"

namespace ext {

using loom::DType;
using loom::Tensor;
using loom::TensorList;

namespace {

template <typename T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
void forward_cpu(T* y, const T* x, T alpha, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i] * sigmoid(x[i]);
}

template <typename T>
void backward_cpu(T* dx, const T* dy, const T* x, T alpha, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T s = sigmoid(x[i]);
    dx[i] = dy[i] * alpha * s * (T(1) + x[i] * (T(1) - s));
  }
}

[[noreturn]] void no_cuda_kernel() {
  LOOM_THROW(loom::ErrorKind::Runtime,
             "swish_scaled: CUDA tensor, but this extension was built without its CUDA "
             "kernel (",
             cuda_unavailable_reason(), ")");
}

// y = swish_scaled(x) for a contiguous x; out is allocated like x.
Tensor run_forward(const Tensor& x, double alpha) {
  Tensor y = loom::empty(x.sizes(), loom::TensorOptions(x.dtype(), x.device()));
  const int64_t n = x.numel();
  if (x.is_cuda()) {
#ifdef SWISH_WITH_CUDA
    swish_scaled_forward_cuda(x.dtype(), y.data_ptr(), x.data_ptr(), alpha, n,
                              loom::cuda::current_stream(x.device().index));
#else
    no_cuda_kernel();
#endif
  } else if (x.dtype() == DType::Float32) {
    forward_cpu(y.data_ptr<float>(), x.data_ptr<float>(), static_cast<float>(alpha), n);
  } else {
    forward_cpu(y.data_ptr<double>(), x.data_ptr<double>(), alpha, n);
  }
  return y;
}

Tensor run_backward(const Tensor& dy, const Tensor& x, double alpha) {
  Tensor dx = loom::empty(x.sizes(), loom::TensorOptions(x.dtype(), x.device()));
  const int64_t n = x.numel();
  if (x.is_cuda()) {
#ifdef SWISH_WITH_CUDA
    swish_scaled_backward_cuda(x.dtype(), dx.data_ptr(), dy.data_ptr(), x.data_ptr(), alpha, n,
                               loom::cuda::current_stream(x.device().index));
#else
    no_cuda_kernel();
#endif
  } else if (x.dtype() == DType::Float32) {
    backward_cpu(dx.data_ptr<float>(), dy.data_ptr<float>(), x.data_ptr<float>(), static_cast<float>(alpha), n);
  } else {
    backward_cpu(dx.data_ptr<double>(), dy.data_ptr<double>(), x.data_ptr<double>(), alpha, n);
  }
  return dx;
}

// Function::apply takes tensors only, so alpha travels as a 0-d CPU tensor
// (input 1, which gets no gradient) and is kept in ctx.data for backward.
struct SwishScaled : loom::autograd::Function<SwishScaled> {
  static TensorList forward(loom::autograd::FunctionCtx& ctx, const TensorList& in) {
    const double alpha = in[1].item<double>();
    ctx.save_for_backward({in[0]});  // version-checked: an in-place change of x before backward raises
    ctx.data["alpha"] = alpha;
    return {run_forward(in[0].contiguous(), alpha)};
  }
  static TensorList backward(loom::autograd::FunctionCtx& ctx, const TensorList& grads) {
    const Tensor x = ctx.saved_tensors()[0].contiguous();
    const double alpha = std::any_cast<double>(ctx.data["alpha"]);
    // The incoming gradient may be a broadcast or strided view (e.g. of sum()'s ones).
    return {run_backward(grads[0].contiguous(), x, alpha), Tensor()};
  }
  static std::string name() { return "SwishScaledBackward"; }
};

}  // namespace

Tensor swish_scaled(const Tensor& x, double alpha) {
  LOOM_CHECK_TYPE(x.dtype() == DType::Float32 || x.dtype() == DType::Float64,
                  "swish_scaled: expected a float32 or float64 tensor, got ", loom::dtype_name(x.dtype()));
  return SwishScaled::apply({x, loom::scalar_tensor(alpha, DType::Float64)})[0];
}

#ifndef SWISH_WITH_CUDA
std::string cuda_unavailable_reason() {
  return loom::cuda::built_with_cuda() ? "this extension was built without nvcc" : "loom was built without CUDA";
}
#endif

}  // namespace ext
