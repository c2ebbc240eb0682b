// cross_entropy front end: checks, the [N, C, d...] -> [M, C] row layout, the
// fused kernels of kernels/{cpu,cuda}/loss and the backward node. Under
// create_graph the backward is a differentiable composition instead (softmax
// and one_hot), so double backward works.
#include "autograd/ops/loss.h"

#include "autograd/ops/common.h"
#include "kernels/loss.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

// Moves the class dim last: [N, C, d...] -> [N, d..., C].
Dims class_last(int64_t ndim) {
  Dims p{0};
  for (int64_t i = 2; i < ndim; ++i) p.push_back(i);
  p.push_back(1);
  return p;
}

Dims class_back(int64_t ndim) {  // inverse of class_last
  Dims p{0, ndim - 1};
  for (int64_t i = 1; i < ndim - 1; ++i) p.push_back(i);
  return p;
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     const std::string& reduction, double label_smoothing) {
  OpScope scope(Op::cross_entropy, {&input, &target, &weight});
  LOOM_CHECK_TYPE(is_floating(input.dtype()), "cross_entropy: expected a floating point input, got ",
                  dtype_name(input.dtype()));
  LOOM_CHECK_TYPE(target.dtype() == DType::Int64, "cross_entropy: expected target of dtype int64 (class indices), got ",
                  dtype_name(target.dtype()));
  LOOM_CHECK_VALUE(reduction == "mean" || reduction == "sum" || reduction == "none", "cross_entropy: ", reduction,
                   " is not a valid value for reduction (expected 'mean', 'sum' or 'none')");
  LOOM_CHECK_VALUE(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                   "cross_entropy: label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  LOOM_CHECK(input.dim() >= 1, "cross_entropy: expected input with at least 1 dimension, got ", input.sizes());
  ops::check_same_device("cross_entropy", {&input, &target});
  const bool unbatched = input.dim() == 1;
  Tensor in = unbatched ? input.unsqueeze(0) : input;
  Tensor tg = unbatched ? target.unsqueeze(0) : target;
  Shape expect_t = in.sizes();
  expect_t.erase(expect_t.begin() + 1);
  LOOM_CHECK(tg.sizes() == expect_t, "cross_entropy: expected target of shape ", unbatched ? Shape{} : expect_t,
             " for input of shape ", input.sizes(), ", got ", target.sizes());
  const int64_t C = in.sizes()[1];
  if (weight.defined()) {
    LOOM_CHECK(weight.dim() == 1 && weight.numel() == C, "cross_entropy: expected weight of shape [", C,
               "] (one per class), got ", weight.sizes());
    LOOM_CHECK_TYPE(weight.dtype() == input.dtype(), "cross_entropy: expected weight of dtype ",
                    dtype_name(input.dtype()), ", got ", dtype_name(weight.dtype()));
    ops::check_same_device("cross_entropy", {&input, &weight});
  }
  const int64_t M = tg.numel();
  const int64_t ndim = in.dim();
  // Rows of C contiguous logits.
  Tensor rows = (ndim == 2 ? in.detach() : in.detach().permute(class_last(ndim))).contiguous().view({M, C});
  Tensor trow = tg.contiguous().view({M});
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  const void* wp = w.defined() ? w.data_ptr() : nullptr;
  const DType dt = input.dtype();
  const Device dev = input.device();
  Tensor loss = ops::new_empty({M}, dt, dev), lse = ops::new_empty({M}, dt, dev), roww = ops::new_empty({M}, dt, dev);
  if (M > 0) {
    LOOM_CHECK_INDEX(C > 0, "cross_entropy: input has 0 classes but targets were given");
    const auto* tp = static_cast<const int64_t*>(trow.data_ptr());
    ops::on_device(
        dev, "cross_entropy",
        [&] {
          int64_t bad =
              kernels::cpu::cross_entropy_forward(dt, loss.data_ptr(), lse.data_ptr(), roww.data_ptr(), rows.data_ptr(),
                                                  tp, wp, M, C, ignore_index, label_smoothing);
          if (bad >= 0)
            LOOM_THROW(ErrorKind::Index, "cross_entropy: Target ", tp[bad],
                       " is out of bounds (expected a class in [0, ", C, ") or ignore_index ", ignore_index, ")");
        },
        [&](cudaStream_t stream) {
          kernels::cuda::cross_entropy_forward(dt, loss.data_ptr(), lse.data_ptr(), roww.data_ptr(), rows.data_ptr(),
                                               tp, wp, M, C, ignore_index, label_smoothing,
                                               cuda::device_error_flag(dev.index), stream);
        });
  }
  Tensor out, wsum;
  {
    autograd::NoGradGuard ng;
    if (reduction == "none") {
      out = loss.view(tg.sizes());
      if (unbatched) out = out.squeeze(0);
    } else if (reduction == "sum") {
      out = loss.sum();
    } else {
      wsum = roww.sum();
      out = loss.sum() / wsum;
    }
  }
  if (autograd::any_requires_grad({&input})) {
    SavedTensor sx(input), st(trow), sw(w), slse(lse), swsum(wsum);
    const std::string red = reduction;
    const Shape in_shape = in.sizes();
    auto node = std::make_shared<LambdaNode>("NllLossBackward0", [=](const TensorList& g) -> TensorList {
      const char* nm = "NllLossBackward0";
      if (!g[0].defined()) return {Tensor()};
      Tensor x = sx.unpack(nm), t = st.unpack(nm), wt = sw.defined() ? sw.unpack(nm) : Tensor();
      Tensor gsc;  // gradient per row ([M]) or one scalar
      if (red == "none") gsc = g[0].reshape({M});
      else if (red == "sum") gsc = g[0].reshape({});
      else gsc = g[0].reshape({}) / swsum.unpack(nm);
      Tensor xin = unbatched ? x.unsqueeze(0) : x;
      if (autograd::grad_enabled()) {  // create_graph: differentiable composition
        Tensor xr = (ndim == 2 ? xin : xin.permute(class_last(ndim))).reshape({M, C});
        Tensor valid = t.ne(ignore_index);
        Tensor tc = where(valid, t, Scalar(int64_t(0)));
        Tensor onehot = one_hot(tc, C).to(xr.dtype());
        Tensor p = xr.softmax(1);
        Tensor wrow =
            wt.defined() ? wt.index_select(0, tc).unsqueeze(1) : ones({M, 1}, TensorOptions(xr.dtype(), xr.device()));
        Tensor W = wt.defined() ? wt.sum() : full({}, static_cast<double>(C), TensorOptions(xr.dtype(), xr.device()));
        Tensor wc = wt.defined() ? wt.unsqueeze(0) : ones({1, C}, TensorOptions(xr.dtype(), xr.device()));
        Tensor d =
            (1.0 - label_smoothing) * wrow * (p - onehot) + (label_smoothing / static_cast<double>(C)) * (W * p - wc);
        d = d * valid.to(xr.dtype()).unsqueeze(1);
        d = d * (gsc.dim() == 0 ? gsc : gsc.unsqueeze(1));
        if (ndim > 2) {
          Shape perm_shape;
          for (int64_t i : class_last(ndim)) perm_shape.push_back(in_shape[i]);
          d = d.view(perm_shape).permute(class_back(ndim));
        }
        return {unbatched ? d.squeeze(0) : d};
      }
      Tensor xr = (ndim == 2 ? xin : xin.permute(class_last(ndim))).contiguous();
      Tensor gc = gsc.contiguous();
      Tensor dx = ops::new_empty({M, C}, xr.dtype(), xr.device());
      const void* wpp = wt.defined() ? wt.data_ptr() : nullptr;
      const auto* tp = static_cast<const int64_t*>(t.data_ptr());
      const int64_t gstride = gc.dim() == 0 ? 0 : 1;
      Tensor l = slse.unpack(nm);
      if (M > 0)
        LOOM_DEVICE_DISPATCH(
            xr.device(),
            kernels::cpu::cross_entropy_backward(xr.dtype(), dx.data_ptr(), xr.data_ptr(), tp, wpp, l.data_ptr(),
                                                 gc.data_ptr(), gstride, M, C, ignore_index, label_smoothing),
            kernels::cuda::cross_entropy_backward(xr.dtype(), dx.data_ptr(), xr.data_ptr(), tp, wpp, l.data_ptr(),
                                                  gc.data_ptr(), gstride, M, C, ignore_index, label_smoothing,
                                                  ops::stream_of(xr.device())));
      Tensor d = dx;
      if (ndim > 2) {
        Shape perm_shape;
        for (int64_t i : class_last(ndim)) perm_shape.push_back(in_shape[i]);
        d = dx.view(perm_shape).permute(class_back(ndim)).contiguous();
      }
      return {unbatched ? d.squeeze(0) : d};
    });
    autograd::attach(node, {input}, out);
  }
  return out;
}

}  // namespace loom
