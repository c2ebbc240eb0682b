// layer_norm and batch_norm front ends: checks, output allocation, dispatch to
// kernels/{cpu,cuda}/norm, and the backward nodes beside them. The backward
// calls the fused kernels; under create_graph it is a differentiable
// composition of loom ops instead, so double backward works.
#include "autograd/ops/norm.h"

#include "autograd/ops/common.h"
#include "kernels/norm.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

void check_param(const char* op, const char* what, const Tensor& p, const Shape& shape, const Tensor& input) {
  if (!p.defined()) return;
  LOOM_CHECK(p.sizes() == shape, op, ": expected ", what, " of shape ", shape, ", got ", p.sizes());
  LOOM_CHECK_TYPE(p.dtype() == input.dtype(), op, ": expected ", what, " of dtype ", dtype_name(input.dtype()),
                  ", got ", dtype_name(p.dtype()));
  LOOM_CHECK(p.device() == input.device(), op, ": expected ", what, " on ", input.device().str(), ", got ",
             p.device().str());
}

const void* ptr_or_null(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }
void* mut_ptr_or_null(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  OpScope scope(Op::layer_norm, {&input, &weight, &bias});
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  LOOM_CHECK(k >= 1, "layer_norm: normalized_shape must have at least one dimension");
  bool tail_ok = input.dim() >= k;
  for (int64_t i = 0; tail_ok && i < k; ++i) tail_ok = input.sizes()[input.dim() - k + i] == normalized_shape[i];
  LOOM_CHECK(tail_ok, "layer_norm: given normalized_shape=", normalized_shape, ", expected input with shape [*, ",
             normalized_shape, "], but got input of size ", input.sizes());
  LOOM_CHECK_TYPE(is_floating(input.dtype()), "layer_norm: expected a floating point input, got ",
                  dtype_name(input.dtype()));
  check_param("layer_norm", "weight", weight, normalized_shape, input);
  check_param("layer_norm", "bias", bias, normalized_shape, input);
  int64_t D = 1;
  for (auto s : normalized_shape) D *= s;
  const int64_t N = D > 0 ? input.numel() / D : 0;
  Tensor x = input.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor y = ops::new_empty(input.sizes(), input.dtype(), input.device());
  Tensor mean = ops::new_empty({N}, input.dtype(), input.device());
  Tensor rstd = ops::new_empty({N}, input.dtype(), input.device());
  if (N > 0 && D > 0)
    LOOM_DEVICE_DISPATCH(
        input.device(),
        kernels::cpu::layer_norm_forward(x.dtype(), y.data_ptr(), mean.data_ptr(), rstd.data_ptr(), x.data_ptr(),
                                         ptr_or_null(w), ptr_or_null(b), N, D, eps),
        kernels::cuda::layer_norm_forward(x.dtype(), y.data_ptr(), mean.data_ptr(), rstd.data_ptr(), x.data_ptr(),
                                          ptr_or_null(w), ptr_or_null(b), N, D, eps, ops::stream_of(input.device())));
  if (autograd::any_requires_grad({&input, &weight, &bias})) {
    const bool need_x = input.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
               need_b = bias.defined() && bias.requires_grad();
    SavedTensor sx(input), sw(weight), smean(mean), srstd(rstd);
    const Shape ns = normalized_shape;
    auto node = std::make_shared<LambdaNode>("NativeLayerNormBackward0", [=](const TensorList& g) -> TensorList {
      const char* nm = "NativeLayerNormBackward0";
      Tensor xin = sx.unpack(nm), wt = sw.defined() ? sw.unpack(nm) : Tensor();
      if (!g[0].defined()) return {Tensor(), Tensor(), Tensor()};
      Dims red;
      for (int64_t i = 0; i < k; ++i) red.push_back(xin.dim() - k + i);
      if (autograd::grad_enabled()) {  // create_graph: differentiable composition
        Tensor mu = xin.mean(red, true);
        Tensor xc = xin - mu;
        Tensor rs = ((xc * xc).mean(red, true) + eps).rsqrt();
        Tensor xhat = xc * rs;
        Tensor gw = wt.defined() ? g[0] * wt : g[0];
        Tensor gx = need_x ? rs * (gw - gw.mean(red, true) - xhat * (gw * xhat).mean(red, true)) : Tensor();
        Dims lead;
        for (int64_t i = 0; i < xin.dim() - k; ++i) lead.push_back(i);
        Tensor gwt = need_w ? (lead.empty() ? g[0] * xhat : (g[0] * xhat).sum(lead)) : Tensor();
        Tensor gb = need_b ? (lead.empty() ? g[0] : g[0].sum(lead)) : Tensor();
        return {gx, gwt, gb};
      }
      Tensor xc = xin.contiguous(), go = g[0].contiguous();
      Tensor wc = wt.defined() ? wt.contiguous() : Tensor();
      Tensor mu = smean.unpack(nm), rs = srstd.unpack(nm);
      Tensor dx = need_x ? ops::new_empty(xc.sizes(), xc.dtype(), xc.device()) : Tensor();
      Tensor dw = need_w ? ops::new_empty(ns, xc.dtype(), xc.device()) : Tensor();
      Tensor db = need_b ? ops::new_empty(ns, xc.dtype(), xc.device()) : Tensor();
      ops::on_device(
          xc.device(), "layer_norm_backward",
          [&] {
            kernels::cpu::layer_norm_backward(xc.dtype(), mut_ptr_or_null(dx), mut_ptr_or_null(dw), mut_ptr_or_null(db),
                                              go.data_ptr(), xc.data_ptr(), ptr_or_null(wc), mu.data_ptr(),
                                              rs.data_ptr(), N, D);
          },
          [&](cudaStream_t stream) {
            Tensor ws;
            if (dw.defined() || db.defined())
              ws = ops::new_empty({kernels::cuda::layer_norm_backward_workspace(N, D)}, xc.dtype(), xc.device());
            kernels::cuda::layer_norm_backward(xc.dtype(), mut_ptr_or_null(dx), mut_ptr_or_null(dw),
                                               mut_ptr_or_null(db), go.data_ptr(), xc.data_ptr(), ptr_or_null(wc),
                                               mu.data_ptr(), rs.data_ptr(), N, D, mut_ptr_or_null(ws), stream);
          });
      return {dx, dw, db};
    });
    autograd::attach(node, {input, weight, bias}, y);
  }
  return y;
}

namespace {

constexpr const char* kBatchNormBackward = "NativeBatchNormBackward0";

void check_batch_norm_args(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                           const Tensor& weight, const Tensor& bias, bool training) {
  LOOM_CHECK(input.dim() >= 2, "batch_norm: expected input of shape [N, C, *] (at least 2 dims), got ", input.sizes());
  LOOM_CHECK_TYPE(is_floating(input.dtype()), "batch_norm: expected a floating point input, got ",
                  dtype_name(input.dtype()));
  const int64_t N = input.sizes()[0], C = input.sizes()[1];
  const int64_t S = C > 0 && N > 0 ? input.numel() / (N * C) : 0;
  const Shape cs{C};
  check_param("batch_norm", "weight", weight, cs, input);
  check_param("batch_norm", "bias", bias, cs, input);
  check_param("batch_norm", "running_mean", running_mean, cs, input);
  check_param("batch_norm", "running_var", running_var, cs, input);
  LOOM_CHECK(training || (running_mean.defined() && running_var.defined()),
             "batch_norm: running_mean and running_var must be defined in evaluation mode");
  if (training)
    LOOM_CHECK_VALUE(N * S > 1, "batch_norm: expected more than 1 value per channel when training, got input size ",
                     input.sizes());
}

// Training: the batch statistics of the contiguous input x [N, C, S] into
// mean and invstd, and the running statistics updated with them.
void batch_norm_train_stats(const Tensor& x, int64_t N, int64_t C, int64_t S, double eps, double momentum,
                            const Tensor& running_mean, const Tensor& running_var, Tensor& mean, Tensor& invstd) {
  const Shape cs{C};
  mean = ops::new_empty(cs, x.dtype(), x.device());
  invstd = ops::new_empty(cs, x.dtype(), x.device());
  Tensor var = ops::new_empty(cs, x.dtype(), x.device());
  ops::on_device(
      x.device(), "batch_norm",
      [&] {
        kernels::cpu::batch_norm_stats(x.dtype(), mean.data_ptr(), var.data_ptr(), invstd.data_ptr(), x.data_ptr(), N,
                                       C, S, eps);
      },
      [&](cudaStream_t stream) {
        Tensor ws = ops::workspace(kernels::cuda::batch_norm_stats_workspace_bytes(x.dtype(), N, C, S), x.device());
        kernels::cuda::batch_norm_stats(x.dtype(), mean.data_ptr(), var.data_ptr(), invstd.data_ptr(), x.data_ptr(), N,
                                        C, S, eps, mut_ptr_or_null(ws), stream);
      });
  if (running_mean.defined() || running_var.defined()) {
    autograd::NoGradGuard ng;
    const double n = static_cast<double>(N * S);
    Tensor rm = running_mean, rv = running_var;
    if (rm.defined()) rm.mul_(1.0 - momentum).add_(mean, momentum);
    if (rv.defined()) rv.mul_(1.0 - momentum).add_(var, momentum * n / (n - 1.0));
  }
}

// What the batch_norm backward node keeps.
struct BatchNormSaved {
  SavedTensor x, w, mean, invstd;
  Shape bshape;  // [1, C, 1...]
  int64_t N, C, S;
  bool training, need_x, need_w, need_b;
  double eps;
};

// create_graph: the gradients as a differentiable composition.
TensorList batch_norm_grad_composite(const BatchNormSaved& s, const Tensor& g, const Tensor& xin, const Tensor& wt,
                                     const Tensor& mu, const Tensor& is, const Dims& red) {
  Tensor xhat = (xin - mu.view(s.bshape)) * is.view(s.bshape);
  Tensor gx;
  if (s.training) {
    Tensor m2 = xin.mean(red, true);
    Tensor xc = xin - m2;
    Tensor rs = ((xc * xc).mean(red, true) + s.eps).rsqrt();
    xhat = xc * rs;
    Tensor gw = wt.defined() ? g * wt.view(s.bshape) : g;
    if (s.need_x) gx = rs * (gw - gw.mean(red, true) - xhat * (gw * xhat).mean(red, true));
  } else if (s.need_x) {
    gx = g * is.view(s.bshape);
    if (wt.defined()) gx = gx * wt.view(s.bshape);
  }
  Tensor gwt = s.need_w ? (g * xhat).sum(red) : Tensor();
  Tensor gb = s.need_b ? g.sum(red) : Tensor();
  return {gx, gwt, gb};
}

// The fused backward kernel.
TensorList batch_norm_grad_fused(const BatchNormSaved& s, const Tensor& g, const Tensor& xin, const Tensor& wt,
                                 const Tensor& mu, const Tensor& is) {
  const int64_t N = s.N, C = s.C, S = s.S;
  const bool training = s.training;
  Tensor xc = xin.contiguous(), go = g.contiguous();
  Tensor wc = wt.defined() ? wt.contiguous() : Tensor();
  Tensor dx = s.need_x ? ops::new_empty(xc.sizes(), xc.dtype(), xc.device()) : Tensor();
  Tensor dw = s.need_w ? ops::new_empty({C}, xc.dtype(), xc.device()) : Tensor();
  Tensor db = s.need_b ? ops::new_empty({C}, xc.dtype(), xc.device()) : Tensor();
  ops::on_device(
      xc.device(), "batch_norm_backward",
      [&] {
        kernels::cpu::batch_norm_backward(xc.dtype(), mut_ptr_or_null(dx), mut_ptr_or_null(dw), mut_ptr_or_null(db),
                                          go.data_ptr(), xc.data_ptr(), mu.data_ptr(), is.data_ptr(), ptr_or_null(wc),
                                          N, C, S, training);
      },
      [&](cudaStream_t stream) {
        Tensor ws =
            ops::workspace(kernels::cuda::batch_norm_backward_workspace_bytes(xc.dtype(), N, C, S), xc.device());
        kernels::cuda::batch_norm_backward(xc.dtype(), mut_ptr_or_null(dx), mut_ptr_or_null(dw), mut_ptr_or_null(db),
                                           go.data_ptr(), xc.data_ptr(), mu.data_ptr(), is.data_ptr(), ptr_or_null(wc),
                                           N, C, S, training, mut_ptr_or_null(ws), stream);
      });
  return {dx, dw, db};
}

TensorList batch_norm_backward(const BatchNormSaved& s, const TensorList& g) {
  const char* nm = kBatchNormBackward;
  Tensor xin = s.x.unpack(nm), wt = s.w.defined() ? s.w.unpack(nm) : Tensor();
  Tensor mu = s.mean.unpack(nm), is = s.invstd.unpack(nm);
  if (!g[0].defined()) return {Tensor(), Tensor(), Tensor()};
  Dims red{0};
  for (int64_t i = 2; i < xin.dim(); ++i) red.push_back(i);
  if (autograd::grad_enabled()) return batch_norm_grad_composite(s, g[0], xin, wt, mu, is, red);
  return batch_norm_grad_fused(s, g[0], xin, wt, mu, is);
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  OpScope scope(Op::batch_norm, {&input, &running_mean, &running_var, &weight, &bias});
  check_batch_norm_args(input, running_mean, running_var, weight, bias, training);
  const int64_t N = input.sizes()[0], C = input.sizes()[1];
  const int64_t S = C > 0 && N > 0 ? input.numel() / (N * C) : 0;
  Shape bshape(input.dim(), 1);
  bshape[1] = C;
  Tensor x = input.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor mean, invstd;
  if (training) {
    batch_norm_train_stats(x, N, C, S, eps, momentum, running_mean, running_var, mean, invstd);
  } else {
    autograd::NoGradGuard ng;
    mean = running_mean.detach().contiguous().clone();
    invstd = (running_var.detach() + eps).rsqrt().contiguous();
  }
  Tensor y = ops::new_empty(input.sizes(), input.dtype(), input.device());
  LOOM_DEVICE_DISPATCH(
      x.device(),
      kernels::cpu::batch_norm_apply(x.dtype(), y.data_ptr(), x.data_ptr(), mean.data_ptr(), invstd.data_ptr(),
                                     ptr_or_null(w), ptr_or_null(b), N, C, S),
      kernels::cuda::batch_norm_apply(x.dtype(), y.data_ptr(), x.data_ptr(), mean.data_ptr(), invstd.data_ptr(),
                                      ptr_or_null(w), ptr_or_null(b), N, C, S, ops::stream_of(x.device())));
  if (autograd::any_requires_grad({&input, &weight, &bias})) {
    BatchNormSaved s{SavedTensor(input),
                     SavedTensor(weight),
                     SavedTensor(mean),
                     SavedTensor(invstd),
                     bshape,
                     N,
                     C,
                     S,
                     training,
                     input.requires_grad(),
                     weight.defined() && weight.requires_grad(),
                     bias.defined() && bias.requires_grad(),
                     eps};
    auto node = std::make_shared<LambdaNode>(
        kBatchNormBackward, [s = std::move(s)](const TensorList& g) { return batch_norm_backward(s, g); });
    autograd::attach(node, {input, weight, bias}, y);
  }
  return y;
}

}  // namespace loom
