// group_norm's front end and backward node. The backward runs the fused
// kernels; under create_graph it is a differentiable composition of loom ops
// instead (as layer_norm's), so double backward works.
#include "autograd/ops/common.h"
#include "autograd/ops/norm.h"
#include "core/op_cost.h"
#include "kernels/norm.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

const void* cptr(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }
void* mptr(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

void check_affine(const char* what, const Tensor& p, int64_t C, const Tensor& input) {
  if (!p.defined()) return;
  LOOM_CHECK(p.dim() == 1 && p.size(0) == C, "group_norm: expected ", what, " of shape [", C, "], got ", p.sizes());
  LOOM_CHECK_TYPE(p.dtype() == input.dtype(), "group_norm: expected ", what, " of dtype ", dtype_name(input.dtype()),
                  ", got ", dtype_name(p.dtype()));
  LOOM_CHECK(p.device() == input.device(), "group_norm: expected ", what, " on ", input.device().str(), ", got ",
             p.device().str());
}

}  // namespace

Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  OpScope scope(Op::group_norm, {&input, &weight, &bias});
  LOOM_CHECK(input.defined(), "group_norm: input must be defined");
  LOOM_CHECK(input.dim() >= 2, "group_norm: expected input of shape [N, C, *] (at least 2 dims), got ", input.sizes());
  LOOM_CHECK_TYPE(is_floating(input.dtype()), "group_norm: expected a floating point input, got ",
                  dtype_name(input.dtype()));
  const int64_t N = input.size(0), C = input.size(1), G = num_groups;
  LOOM_CHECK(G > 0 && C % G == 0, "group_norm: expected number of channels in input to be divisible by num_groups, ",
             "but got input of shape ", input.sizes(), " and num_groups=", num_groups);
  check_affine("weight", weight, C, input);
  check_affine("bias", bias, C, input);
  const int64_t S = N * C > 0 ? input.numel() / (N * C) : 0;
  if (scope.observed())  // sum, centred squares, scale and shift: about 8 FLOPs per value; x read, y written
    scope.set_cost(8.0 * double(input.numel()), 2 * cost_bytes(&input));
  Tensor x = input.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor y = ops::new_empty(input.sizes(), input.dtype(), input.device());
  Tensor mean = ops::new_empty({N, G}, input.dtype(), input.device());
  Tensor rstd = ops::new_empty({N, G}, input.dtype(), input.device());
  if (y.numel() > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::group_norm_forward(x.dtype(), y.data_ptr(), mean.data_ptr(), rstd.data_ptr(), x.data_ptr(),
                                         cptr(w), cptr(b), N, C, S, G, eps),
        kernels::cuda::group_norm_forward(x.dtype(), y.data_ptr(), mean.data_ptr(), rstd.data_ptr(), x.data_ptr(),
                                          cptr(w), cptr(b), N, C, S, G, eps, ops::stream_of(input.device())));
  if (autograd::any_requires_grad({&input, &weight, &bias})) {
    const bool need_x = input.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
               need_b = bias.defined() && bias.requires_grad();
    SavedTensor sx(input), sw(weight), smean(mean), srstd(rstd);
    const Shape shape = input.sizes();
    auto node = std::make_shared<LambdaNode>("NativeGroupNormBackward0", [=](const TensorList& g) -> TensorList {
      const char* nm = "NativeGroupNormBackward0";
      if (!g[0].defined()) return {Tensor(), Tensor(), Tensor()};
      Tensor xin = sx.unpack(nm), wt = sw.defined() ? sw.unpack(nm) : Tensor();
      if (autograd::grad_enabled()) {  // create_graph: differentiable composition over [N, G, C / G, S]
        const Shape grouped{N, G, C / G, S};
        Tensor xg = xin.reshape(grouped), gg = g[0].reshape(grouped);
        Tensor mu = xg.mean({2, 3}, true);
        Tensor xc = xg - mu;
        Tensor rs = ((xc * xc).mean({2, 3}, true) + eps).rsqrt();
        Tensor xhat = xc * rs;
        Tensor gw = wt.defined() ? gg * wt.reshape({1, G, C / G, 1}) : gg;
        Tensor gx = need_x ? (rs * (gw - gw.mean({2, 3}, true) - xhat * (gw * xhat).mean({2, 3}, true))).reshape(shape)
                           : Tensor();
        Tensor gwt = need_w ? (gg * xhat).sum({0, 3}).reshape({C}) : Tensor();
        Tensor gb = need_b ? gg.sum({0, 3}).reshape({C}) : Tensor();
        return {gx, gwt, gb};
      }
      Tensor xc = xin.contiguous(), go = g[0].contiguous();
      Tensor wc = wt.defined() ? wt.contiguous() : Tensor();
      Tensor mu = smean.unpack(nm), rs = srstd.unpack(nm);
      Tensor dx = need_x ? ops::new_empty(xc.sizes(), xc.dtype(), xc.device()) : Tensor();
      Tensor dw = need_w ? ops::new_empty({C}, xc.dtype(), xc.device()) : Tensor();
      Tensor db = need_b ? ops::new_empty({C}, xc.dtype(), xc.device()) : Tensor();
      LOOM_DEVICE_DISPATCH(
          xc.device(),
          kernels::cpu::group_norm_backward(xc.dtype(), mptr(dx), mptr(dw), mptr(db), go.data_ptr(), xc.data_ptr(),
                                            cptr(wc), mu.data_ptr(), rs.data_ptr(), N, C, S, G),
          kernels::cuda::group_norm_backward(xc.dtype(), mptr(dx), mptr(dw), mptr(db), go.data_ptr(), xc.data_ptr(),
                                             cptr(wc), mu.data_ptr(), rs.data_ptr(), N, C, S, G,
                                             ops::stream_of(xc.device())));
      return {dx, dw, db};
    });
    autograd::attach(node, {input, weight, bias}, y);
  }
  return y;
}

}  // namespace loom
