// dropout front end. The forward reserves Philox counters for numel draws;
// the backward applies the very same mask (same seed and offset) to the
// gradient through the same function, so it is itself differentiable and
// double backward works without storing anything but two integers.
#include "autograd/ops/dropout.h"

#include "autograd/ops/common.h"
#include "core/random.h"
#include "kernels/norm.h"
#include "kernels/dropout.h"

namespace loom {

namespace {

Tensor dropout_masked(const Tensor& x, double p, PhiloxState st) {
  Tensor in = x.detach().contiguous();
  Tensor out = ops::new_empty(x.sizes(), x.dtype(), x.device());
  const int64_t n = x.numel();
  if (n > 0)
    LOOM_DEVICE_DISPATCH(x.device(),
                         kernels::cpu::dropout(x.dtype(), out.data_ptr(), in.data_ptr(), n, p, st.seed, st.offset),
                         kernels::cuda::dropout(x.dtype(), out.data_ptr(), in.data_ptr(), n, p, st.seed, st.offset,
                                                ops::stream_of(x.device())));
  if (autograd::any_requires_grad({&x})) {
    auto node = std::make_shared<autograd::LambdaNode>("NativeDropoutBackward0", [=](const TensorList& g) {
      return TensorList{g[0].defined() ? dropout_masked(g[0], p, st) : Tensor()};
    });
    autograd::attach(node, {x}, out);
  }
  return out;
}

}  // namespace

Tensor dropout(const Tensor& input, double p, bool training) {
  OpScope scope(Op::dropout, {&input});
  LOOM_CHECK_VALUE(p >= 0.0 && p <= 1.0, "dropout probability has to be between 0 and 1, but got ", p);
  LOOM_CHECK_TYPE(is_floating(input.dtype()), "dropout: expected a floating point input, got ",
                  dtype_name(input.dtype()));
  if (!training || p == 0.0) {
    scope.set_cost(0, 0);  // the input itself: no work
    return input;
  }
  PhiloxState st = philox_reserve(input.device(), static_cast<uint64_t>(input.numel()));
  return dropout_masked(input, p, st);
}

}  // namespace loom
