// softmax / log_softmax front end along a dim (kernels/softmax.h). Backward
// is one kernel from the saved output; under create_graph it is composed from
// ops so that it is differentiable again.
#include "autograd/ops/common.h"
#include "kernels/softmax.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log) {
  OpScope scope(log ? Op::log_softmax : Op::softmax, {&x});
  const char* op = log ? "log_softmax" : "softmax";
  LOOM_CHECK_TYPE(is_floating(x.dtype()), op, ": expected a floating point input, got ", dtype_name(x.dtype()));
  int64_t d = wrap_dim(dim, x.dim(), op);
  Tensor in = x.contiguous();
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype(), x.device()));
  int64_t outer = 1, size = x.dim() == 0 ? 1 : x.sizes()[d], inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.sizes()[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.sizes()[i];
  if (out.numel() > 0)
    LOOM_DEVICE_DISPATCH(x.device(),
                         ops::kc::softmax(x.dtype(), out.data_ptr(), in.data_ptr(), outer, size, inner, log),
                         ops::kg::softmax(x.dtype(), out.data_ptr(), in.data_ptr(), outer, size, inner, log,
                                          ops::stream_of(x.device())));
  if (autograd::any_requires_grad({&x})) {
    SavedTensor sy(out, true);
    auto node =
        std::make_shared<LambdaNode>(log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", [=](const TensorList& g) {
          Tensor y = sy.unpack("SoftmaxBackward0");
          if (autograd::grad_enabled()) {  // create_graph: a differentiable composition
            if (log) return TensorList{g[0] - y.exp() * g[0].sum({d}, true)};
            return TensorList{y * (g[0] - (g[0] * y).sum({d}, true))};
          }
          Tensor go = g[0].contiguous();
          Tensor gi = empty(y.sizes(), TensorOptions(y.dtype(), y.device()));
          if (gi.numel() > 0)
            LOOM_DEVICE_DISPATCH(y.device(),
                                 ops::kc::softmax_backward(y.dtype(), gi.data_ptr(), go.data_ptr(), y.data_ptr(), outer,
                                                           size, inner, log),
                                 ops::kg::softmax_backward(y.dtype(), gi.data_ptr(), go.data_ptr(), y.data_ptr(), outer,
                                                           size, inner, log, ops::stream_of(y.device())));
          return TensorList{gi};
        });
    autograd::attach(node, {x}, out);
  }
  return out;
}

}  // namespace

Tensor Tensor::softmax(int64_t dim) const { return softmax_impl(*this, dim, false); }
Tensor Tensor::log_softmax(int64_t dim) const { return softmax_impl(*this, dim, true); }

}  // namespace loom
