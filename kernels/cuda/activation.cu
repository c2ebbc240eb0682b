// The activation kernels on CUDA (kernels/activation.h): the formulas of kernels/activation_math.h with the
// device's math library, through map() (kernels/cuda/map.cuh: vector loads and stores on contiguous
// operands, OffsetCalc otherwise). The op is a runtime switch inside one functor per dtype, uniform across
// the grid, which keeps the instantiations (and nvcc's time) to four.
#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/activation_math.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/map.cuh"

namespace loom::kernels::cuda {

namespace {

using act::StdMath;

template <typename T>
struct ForwardF {
  ActivationOp op;
  T a, b, c;
  __device__ T operator()(T x) const {
    using M = StdMath;
    switch (op) {
      case ActivationOp::LeakyRelu: return act::leaky_relu(x, a);
      case ActivationOp::Elu: return act::elu<T, M>(x, a, b, c);
      case ActivationOp::Softplus: return act::softplus<T, M>(x, a, b);
      case ActivationOp::Hardtanh: return act::hardtanh(x, a, b);
      case ActivationOp::Hardsigmoid: return act::hardsigmoid(x);
      case ActivationOp::Hardswish: return act::hardswish(x);
      case ActivationOp::Mish: return act::mish<T, M>(x);
      case ActivationOp::LogSigmoid: return act::logsigmoid<T, M>(x);
      case ActivationOp::Softsign: return act::softsign(x);
      case ActivationOp::Tanhshrink: return act::tanhshrink<T, M>(x);
      case ActivationOp::Hardshrink: return act::hardshrink(x, a);
      case ActivationOp::Softshrink: return act::softshrink(x, a);
      case ActivationOp::NanToNum: return act::nan_to_num(x, a, b, c);
      case ActivationOp::Huber: return act::huber(x, a, b, c);
      default: return act::threshold(x, a, b);
    }
  }
};

template <typename T>
struct BackwardF {
  ActivationOp op;
  T a, b, c;
  __device__ T operator()(T g, T x) const {
    using M = StdMath;
    switch (op) {
      case ActivationOp::LeakyRelu: return act::leaky_relu_grad(g, x, a);
      case ActivationOp::Elu: return act::elu_grad<T, M>(g, x, a, b, c);
      case ActivationOp::Softplus: return act::softplus_grad<T, M>(g, x, a, b);
      case ActivationOp::Hardtanh: return act::hardtanh_grad(g, x, a, b);
      case ActivationOp::Hardsigmoid: return act::hardsigmoid_grad(g, x);
      case ActivationOp::Hardswish: return act::hardswish_grad(g, x);
      case ActivationOp::Mish: return act::mish_grad<T, M>(g, x);
      case ActivationOp::LogSigmoid: return act::logsigmoid_grad<T, M>(g, x);
      case ActivationOp::Softsign: return act::softsign_grad(g, x);
      case ActivationOp::Tanhshrink: return act::tanhshrink_grad<T, M>(g, x);
      case ActivationOp::Hardshrink:
      case ActivationOp::Softshrink: return act::shrink_grad(g, x, a);
      case ActivationOp::NanToNum: return act::nan_to_num_grad(g, x);
      case ActivationOp::Huber: return act::huber_grad(g, x, a, b, c);
      default: return act::threshold_grad(g, x, a);
    }
  }
};

void check_dtype(DType dt, const char* what) {
  LOOM_CHECK_KIND(dt == DType::Float32 || dt == DType::Float64, ErrorKind::NotImplemented, what,
                  ": expected float32 or float64, got ", dtype_name(dt));
}

template <typename T>
void forward(ActivationOp op, void* out, const void* in, const ActivationParams& p, const ElementwiseLoop& loop,
             cudaStream_t stream) {
  map<1>(loop, static_cast<T*>(out), static_cast<const T*>(in), static_cast<const T*>(nullptr),
         ForwardF<T>{op, T(p.a), T(p.b), T(p.c)}, stream);
}

template <typename T>
void backward(ActivationOp op, void* grad_in, const void* grad_out, const void* x, const ActivationParams& p,
              const ElementwiseLoop& loop, cudaStream_t stream) {
  map<2>(loop, static_cast<T*>(grad_in), static_cast<const T*>(grad_out), static_cast<const T*>(x),
         BackwardF<T>{op, T(p.a), T(p.b), T(p.c)}, stream);
}

}  // namespace

void activation(ActivationOp op, DType dt, void* out, const void* in, const ActivationParams& p,
                const ElementwiseLoop& loop, cudaStream_t stream) {
  check_dtype(dt, "activation");
  if (dt == DType::Float32) forward<float>(op, out, in, p, loop, stream);
  else forward<double>(op, out, in, p, loop, stream);
}

void activation_backward(ActivationOp op, DType dt, void* grad_in, const void* grad_out, const void* x,
                         const ActivationParams& p, const ElementwiseLoop& loop, cudaStream_t stream) {
  check_dtype(dt, "activation_backward");
  if (dt == DType::Float32) backward<float>(op, grad_in, grad_out, x, p, loop, stream);
  else backward<double>(op, grad_in, grad_out, x, p, loop, stream);
}

}  // namespace loom::kernels::cuda
