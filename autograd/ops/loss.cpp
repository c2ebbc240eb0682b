// cross_entropy front end (then nll_loss, binary_cross_entropy_with_logits, huber_loss and smooth_l1_loss): checks, the
// [N, C, d...] -> [M, C] row layout, the fused kernels of kernels/{cpu,cuda}/loss and the backward node. Under
// create_graph the backward is a differentiable composition instead (softmax and one_hot), so double backward works.
#include "autograd/ops/loss.h"

#include "autograd/ops/activation.h"
#include "autograd/ops/common.h"
#include "kernels/loss.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

constexpr const char* kBackwardName = "NllLossBackward0";

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

// The arguments as rows of C contiguous logits, one target per row.
struct CeRows {
  bool unbatched = false;
  Tensor in, tg;  // input and target with a batch dim
  int64_t C = 0, M = 0, ndim = 0;
  Tensor rows;  // [M, C], detached
  Tensor trow;  // [M]
  Tensor w;     // the class weights, detached and contiguous, or undefined
};

void check_ce_args(const Tensor& input, const Tensor& target, const std::string& reduction, double label_smoothing) {
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
}

void check_ce_weight(const Tensor& input, const Tensor& weight, int64_t C) {
  LOOM_CHECK(weight.dim() == 1 && weight.numel() == C, "cross_entropy: expected weight of shape [", C,
             "] (one per class), got ", weight.sizes());
  LOOM_CHECK_TYPE(weight.dtype() == input.dtype(), "cross_entropy: expected weight of dtype ",
                  dtype_name(input.dtype()), ", got ", dtype_name(weight.dtype()));
  ops::check_same_device("cross_entropy", {&input, &weight});
}

// Checks the arguments and lays them out as rows.
CeRows ce_rows(const Tensor& input, const Tensor& target, const Tensor& weight, const std::string& reduction,
               double label_smoothing) {
  check_ce_args(input, target, reduction, label_smoothing);
  CeRows r;
  r.unbatched = input.dim() == 1;
  r.in = r.unbatched ? input.unsqueeze(0) : input;
  r.tg = r.unbatched ? target.unsqueeze(0) : target;
  Shape expect_t = r.in.sizes();
  expect_t.erase(expect_t.begin() + 1);
  LOOM_CHECK(r.tg.sizes() == expect_t, "cross_entropy: expected target of shape ", r.unbatched ? Shape{} : expect_t,
             " for input of shape ", input.sizes(), ", got ", target.sizes());
  r.C = r.in.sizes()[1];
  if (weight.defined()) check_ce_weight(input, weight, r.C);
  r.M = r.tg.numel();
  r.ndim = r.in.dim();
  r.rows = (r.ndim == 2 ? r.in.detach() : r.in.detach().permute(class_last(r.ndim))).contiguous().view({r.M, r.C});
  r.trow = r.tg.contiguous().view({r.M});
  r.w = weight.defined() ? weight.detach().contiguous() : Tensor();
  return r;
}

// The forward kernel's outputs, one per row.
struct CeForward {
  Tensor loss, lse, roww;  // the loss, the log-sum-exp of the logits, the row's weight
};

CeForward ce_forward(const CeRows& r, DType dt, Device dev, int64_t ignore_index, double label_smoothing) {
  const int64_t M = r.M, C = r.C;
  CeForward f{ops::new_empty({M}, dt, dev), ops::new_empty({M}, dt, dev), ops::new_empty({M}, dt, dev)};
  if (M == 0) return f;
  LOOM_CHECK_INDEX(C > 0, "cross_entropy: input has 0 classes but targets were given");
  const void* wp = r.w.defined() ? r.w.data_ptr() : nullptr;
  const auto* tp = static_cast<const int64_t*>(r.trow.data_ptr());
  ops::on_device(
      dev, "cross_entropy",
      [&] {
        int64_t bad =
            kernels::cpu::cross_entropy_forward(dt, f.loss.data_ptr(), f.lse.data_ptr(), f.roww.data_ptr(),
                                                r.rows.data_ptr(), tp, wp, M, C, ignore_index, label_smoothing);
        if (bad >= 0)
          LOOM_THROW(ErrorKind::Index, "cross_entropy: Target ", tp[bad], " is out of bounds (expected a class in [0, ",
                     C, ") or ignore_index ", ignore_index, ")");
      },
      [&](cudaStream_t stream) {
        kernels::cuda::cross_entropy_forward(dt, f.loss.data_ptr(), f.lse.data_ptr(), f.roww.data_ptr(),
                                             r.rows.data_ptr(), tp, wp, M, C, ignore_index, label_smoothing,
                                             cuda::device_error_flag(dev.index), stream);
      });
  return f;
}

// Applies `reduction` to the per-row losses; for "mean", `wsum` gets the sum
// of the row weights (the divisor).
Tensor ce_reduce(const CeRows& r, const CeForward& f, const std::string& reduction, Tensor& wsum) {
  autograd::NoGradGuard ng;
  if (reduction == "none") {
    Tensor out = f.loss.view(r.tg.sizes());
    return r.unbatched ? out.squeeze(0) : out;
  }
  if (reduction == "sum") return f.loss.sum();
  wsum = f.roww.sum();
  return f.loss.sum() / wsum;
}

// What the backward node keeps.
struct CeSaved {
  SavedTensor x, t, w, lse, wsum;
  std::string reduction;
  Shape in_shape;  // the input's shape with a batch dim
  int64_t M, C, ndim, ignore_index;
  bool unbatched;
  double label_smoothing;
};

// [M, C] row gradients back to the input's layout.
Tensor ce_rows_to_input(const CeSaved& s, Tensor d, bool make_contiguous) {
  if (s.ndim > 2) {
    Shape perm_shape;
    for (int64_t i : class_last(s.ndim)) perm_shape.push_back(s.in_shape[i]);
    d = d.view(perm_shape).permute(class_back(s.ndim));
    if (make_contiguous) d = d.contiguous();
  }
  return s.unbatched ? d.squeeze(0) : d;
}

// create_graph: the gradient as a differentiable composition.
Tensor ce_grad_composite(const CeSaved& s, const Tensor& xin, const Tensor& t, const Tensor& wt, const Tensor& gsc) {
  const int64_t M = s.M, C = s.C;
  const double ls = s.label_smoothing;
  Tensor xr = (s.ndim == 2 ? xin : xin.permute(class_last(s.ndim))).reshape({M, C});
  const TensorOptions opts(xr.dtype(), xr.device());
  Tensor valid = t.ne(s.ignore_index);
  Tensor tc = where(valid, t, Scalar(int64_t(0)));
  Tensor onehot = one_hot(tc, C).to(xr.dtype());
  Tensor p = xr.softmax(1);
  Tensor wrow = wt.defined() ? wt.index_select(0, tc).unsqueeze(1) : ones({M, 1}, opts);
  Tensor W = wt.defined() ? wt.sum() : full({}, static_cast<double>(C), opts);
  Tensor wc = wt.defined() ? wt.unsqueeze(0) : ones({1, C}, opts);
  Tensor d = (1.0 - ls) * wrow * (p - onehot) + (ls / static_cast<double>(C)) * (W * p - wc);
  d = d * valid.to(xr.dtype()).unsqueeze(1);
  d = d * (gsc.dim() == 0 ? gsc : gsc.unsqueeze(1));
  return ce_rows_to_input(s, d, false);
}

// The fused backward kernel.
Tensor ce_grad_fused(const CeSaved& s, const Tensor& xin, const Tensor& t, const Tensor& wt, const Tensor& gsc) {
  const int64_t M = s.M, C = s.C;
  Tensor xr = (s.ndim == 2 ? xin : xin.permute(class_last(s.ndim))).contiguous();
  Tensor gc = gsc.contiguous();
  Tensor dx = ops::new_empty({M, C}, xr.dtype(), xr.device());
  const void* wpp = wt.defined() ? wt.data_ptr() : nullptr;
  const auto* tp = static_cast<const int64_t*>(t.data_ptr());
  const int64_t gstride = gc.dim() == 0 ? 0 : 1;
  Tensor l = s.lse.unpack(kBackwardName);
  if (M > 0)
    LOOM_DEVICE_DISPATCH(
        xr.device(),
        kernels::cpu::cross_entropy_backward(xr.dtype(), dx.data_ptr(), xr.data_ptr(), tp, wpp, l.data_ptr(),
                                             gc.data_ptr(), gstride, M, C, s.ignore_index, s.label_smoothing),
        kernels::cuda::cross_entropy_backward(xr.dtype(), dx.data_ptr(), xr.data_ptr(), tp, wpp, l.data_ptr(),
                                              gc.data_ptr(), gstride, M, C, s.ignore_index, s.label_smoothing,
                                              ops::stream_of(xr.device())));
  return ce_rows_to_input(s, dx, true);
}

TensorList ce_backward(const CeSaved& s, const TensorList& g) {
  const char* nm = kBackwardName;
  if (!g[0].defined()) return {Tensor()};
  Tensor x = s.x.unpack(nm), t = s.t.unpack(nm), wt = s.w.defined() ? s.w.unpack(nm) : Tensor();
  Tensor gsc;  // gradient per row ([M]) or one scalar
  if (s.reduction == "none") gsc = g[0].reshape({s.M});
  else if (s.reduction == "sum") gsc = g[0].reshape({});
  else gsc = g[0].reshape({}) / s.wsum.unpack(nm);
  Tensor xin = s.unbatched ? x.unsqueeze(0) : x;
  if (autograd::grad_enabled()) return {ce_grad_composite(s, xin, t, wt, gsc)};
  return {ce_grad_fused(s, xin, t, wt, gsc)};
}

void attach_ce_backward(const Tensor& input, const CeRows& r, const CeForward& f, const Tensor& wsum,
                        const std::string& reduction, int64_t ignore_index, double label_smoothing, Tensor& out) {
  CeSaved s{SavedTensor(input),
            SavedTensor(r.trow),
            SavedTensor(r.w),
            SavedTensor(f.lse),
            SavedTensor(wsum),
            reduction,
            r.in.sizes(),
            r.M,
            r.C,
            r.ndim,
            ignore_index,
            r.unbatched,
            label_smoothing};
  auto node = std::make_shared<LambdaNode>(kBackwardName,
                                           [s = std::move(s)](const TensorList& g) { return ce_backward(s, g); });
  autograd::attach(node, {input}, out);
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     const std::string& reduction, double label_smoothing) {
  OpScope scope(Op::cross_entropy, {&input, &target, &weight});
  // The kernel's backward covers the input only: a weight that requires grad would get none (PyTorch refuses it).
  LOOM_CHECK(!weight.defined() || !autograd::any_requires_grad({&weight}),
             "cross_entropy: not differentiable with respect to argument 'weight' (of shape ", weight.sizes(),
             "); this input cannot have requires_grad True (pass weight.detach())");
  const CeRows r = ce_rows(input, target, weight, reduction, label_smoothing);
  const CeForward f = ce_forward(r, input.dtype(), input.device(), ignore_index, label_smoothing);
  Tensor wsum;
  Tensor out = ce_reduce(r, f, reduction, wsum);
  if (autograd::any_requires_grad({&input}))
    attach_ce_backward(input, r, f, wsum, reduction, ignore_index, label_smoothing, out);
  return out;
}

// ---- nll_loss ----

namespace {

constexpr const char* kNllBackward = "NllLossBackward0";

// What the NLL backward node keeps: no input values (the gradient does not depend on them).
struct NllSaved {
  SavedTensor t, w, wsum;
  std::string reduction;
  Shape in_shape;  // with a batch dim
  DType dt;
  Device dev;
  int64_t N, C, K, ignore_index;
  bool unbatched;
};

TensorList nll_backward(const NllSaved& s, const TensorList& g) {
  const char* nm = kNllBackward;
  if (!g[0].defined()) return {Tensor()};
  Tensor t = s.t.unpack(nm), wt = s.w.defined() ? s.w.unpack(nm) : Tensor();
  const int64_t M = s.N * s.K;
  Tensor gsc;  // gradient per row ([M]) or one scalar
  if (s.reduction == "none") gsc = g[0].reshape({M});
  else if (s.reduction == "sum") gsc = g[0].reshape({});
  else gsc = g[0].reshape({}) / s.wsum.unpack(nm);
  Tensor dx;
  if (autograd::grad_enabled()) {  // create_graph: differentiable in g
    t = t.reshape({M});
    Tensor valid = t.ne(s.ignore_index);
    Tensor tc = where(valid, t, Scalar(int64_t(0)));
    Tensor rw = valid.to(s.dt);
    if (wt.defined()) rw = rw * wt.index_select(0, tc);
    Tensor d = one_hot(tc, s.C).to(s.dt) * (-(rw * gsc)).unsqueeze(1);  // [M, C]
    Shape rows_shape{s.N};
    for (size_t i = 2; i < s.in_shape.size(); ++i) rows_shape.push_back(s.in_shape[i]);
    rows_shape.push_back(s.C);
    dx = d.view(rows_shape);
    if (s.in_shape.size() > 2) dx = dx.permute(class_back(static_cast<int64_t>(s.in_shape.size())));
  } else {
    Tensor gc = gsc.contiguous();
    dx = ops::new_empty(s.in_shape, s.dt, s.dev);
    const void* wp = wt.defined() ? wt.data_ptr() : nullptr;
    const auto* tp = static_cast<const int64_t*>(t.data_ptr());
    const int64_t gstride = gc.dim() == 0 ? 0 : 1;
    if (dx.numel() > 0)
      LOOM_DEVICE_DISPATCH(s.dev,
                           kernels::cpu::nll_loss_backward(s.dt, dx.data_ptr(), tp, wp, gc.data_ptr(), gstride, s.N,
                                                           s.C, s.K, s.ignore_index),
                           kernels::cuda::nll_loss_backward(s.dt, dx.data_ptr(), tp, wp, gc.data_ptr(), gstride, s.N,
                                                            s.C, s.K, s.ignore_index, ops::stream_of(s.dev)));
  }
  return {s.unbatched ? dx.squeeze(0) : dx};
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                const std::string& reduction) {
  OpScope scope(Op::nll_loss, {&input, &target, &weight});
  const char* op = "nll_loss";
  LOOM_CHECK_VALUE(reduction == "mean" || reduction == "sum" || reduction == "none", op, ": ", reduction,
                   " is not a valid value for reduction (expected 'mean', 'sum' or 'none')");
  LOOM_CHECK(input.defined(), op, ": input is undefined");
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", dtype_name(input.dtype()));
  LOOM_CHECK_TYPE(target.dtype() == DType::Int64, op, ": expected an int64 (class index) target, got ",
                  dtype_name(target.dtype()));
  LOOM_CHECK(input.dim() >= 1, op, ": expected input with at least 1 dimension, got ", input.sizes());
  ops::check_same_device(op, {&input, &target});
  const bool unbatched = input.dim() == 1;
  if (unbatched)
    LOOM_CHECK(target.dim() == 0, op, ": expected a 0-dim target for input of shape ", input.sizes(), ", got ",
               target.sizes());
  const Tensor in = unbatched ? input.unsqueeze(0) : input;
  const Tensor tg = unbatched ? target.unsqueeze(0) : target;
  const int64_t N = in.size(0), C = in.size(1);
  Shape expected = in.sizes();
  expected.erase(expected.begin() + 1);
  if (!unbatched)
    LOOM_CHECK(tg.sizes() == expected, op, ": expected target of shape ", expected, " for input of shape ",
               input.sizes(), ", got ", target.sizes());
  int64_t K = 1;
  for (int64_t i = 2; i < in.dim(); ++i) K *= in.size(i);
  Tensor w;
  if (weight.defined()) {
    LOOM_CHECK_TYPE(is_floating(weight.dtype()), op, ": expected a floating point weight, got ",
                    dtype_name(weight.dtype()));
    LOOM_CHECK(weight.dim() == 1 && weight.size(0) == C, op, ": expected weight of shape [", C,
               "] (one per class of input ", input.sizes(), "), got ", weight.sizes());
    ops::check_same_device(op, {&input, &weight});
    // The kernel's backward covers the input only (as PyTorch, which refuses a weight that requires grad).
    LOOM_CHECK(!autograd::any_requires_grad({&weight}), op,
               ": not differentiable with respect to argument 'weight' (of shape ", weight.sizes(),
               "); this input cannot have requires_grad True (pass weight.detach())");
    w = weight.detach().to(input.dtype()).contiguous();
  }
  const DType dt = input.dtype();
  const Device dev = input.device();
  const int64_t M = N * K;
  Tensor x = in.detach().contiguous(), trow = tg.contiguous();
  Tensor loss = ops::new_empty(tg.sizes(), dt, dev), roww = ops::new_empty(tg.sizes(), dt, dev);
  if (M > 0) {
    const void* wp = w.defined() ? w.data_ptr() : nullptr;
    const auto* tp = static_cast<const int64_t*>(trow.data_ptr());
    ops::on_device(
        dev, op,
        [&] {
          const int64_t bad = kernels::cpu::nll_loss_forward(dt, loss.data_ptr(), roww.data_ptr(), x.data_ptr(), tp, wp,
                                                             N, C, K, ignore_index);
          if (bad >= 0)
            LOOM_THROW(ErrorKind::Index, op, ": target ", tp[bad], " is out of bounds for ", C, " classes (input ",
                       input.sizes(), ")");
        },
        [&](cudaStream_t stream) {
          kernels::cuda::nll_loss_forward(dt, loss.data_ptr(), roww.data_ptr(), x.data_ptr(), tp, wp, N, C, K,
                                          ignore_index, cuda::device_error_flag(dev.index), stream);
        });
  }
  Tensor out, wsum;
  {
    autograd::NoGradGuard ng;
    if (reduction == "none") out = unbatched ? loss.squeeze(0) : loss;
    else if (reduction == "sum") out = loss.sum();
    else {
      wsum = roww.sum();
      out = loss.sum() / wsum;
    }
  }
  if (autograd::any_requires_grad({&input})) {
    NllSaved s{SavedTensor(trow), SavedTensor(w), SavedTensor(wsum), reduction, in.sizes(), dt, dev, N, C, K,
               ignore_index,      unbatched};
    auto node = std::make_shared<LambdaNode>(kNllBackward,
                                             [s = std::move(s)](const TensorList& g) { return nll_backward(s, g); });
    autograd::attach(node, {input}, out);
  }
  return out;
}

// ---- binary_cross_entropy_with_logits ----

namespace {

constexpr const char* kBceBackward = "BinaryCrossEntropyWithLogitsBackward0";

// (1 - t) x + softplus(-x) elementwise (one kernel); x and t of the same shape. Backward: g (sigmoid(x) - t)
// in one kernel (a composition under create_graph), and -g x for t.
Tensor bce_logits_elementwise(const Tensor& input, const Tensor& target) {
  const DType dt = ops::result_type({&input, &target});
  const Device dev = input.device();
  const Tensor x = input.dtype() == dt ? input.detach() : input.detach().to(dt);
  const Tensor t = target.dtype() == dt ? target.detach() : target.detach().to(dt);
  Tensor out = ops::new_empty(input.sizes(), dt, dev);
  if (out.numel() > 0) {
    auto loop = ops::make_loop(out.sizes(), {&out, &x, &t});
    LOOM_DEVICE_DISPATCH(
        dev, kernels::cpu::bce_logits_forward(dt, out.data_ptr(), x.data_ptr(), t.data_ptr(), loop),
        kernels::cuda::bce_logits_forward(dt, out.data_ptr(), x.data_ptr(), t.data_ptr(), loop, ops::stream_of(dev)));
  }
  if (!autograd::any_requires_grad({&input, &target})) return out;
  SavedTensor sx(input), st(target);
  const bool rx = input.requires_grad(), rt = target.requires_grad();
  const DType xdt = input.dtype(), tdt = target.dtype();
  auto node = std::make_shared<LambdaNode>(kBceBackward, [=](const TensorList& g) -> TensorList {
    if (!g[0].defined()) return {Tensor(), Tensor()};
    Tensor xs = sx.unpack(kBceBackward), ts = st.unpack(kBceBackward);
    Tensor dx, dtg;
    if (rx) {
      if (autograd::grad_enabled()) {
        dx = g[0] * (xs.sigmoid() - ts);
      } else {
        Tensor xc = xs.dtype() == dt ? xs : xs.to(dt), tc = ts.dtype() == dt ? ts : ts.to(dt);
        Tensor gc = g[0].dtype() == dt ? g[0] : g[0].to(dt);
        dx = ops::new_empty(xc.sizes(), dt, xc.device());
        if (dx.numel() > 0) {
          auto loop = ops::make_loop(dx.sizes(), {&dx, &xc, &tc, &gc});
          LOOM_DEVICE_DISPATCH(
              dx.device(),
              kernels::cpu::bce_logits_backward(dt, dx.data_ptr(), xc.data_ptr(), tc.data_ptr(), gc.data_ptr(), loop),
              kernels::cuda::bce_logits_backward(dt, dx.data_ptr(), xc.data_ptr(), tc.data_ptr(), gc.data_ptr(), loop,
                                                 ops::stream_of(dx.device())));
        }
      }
      if (dx.dtype() != xdt) dx = dx.to(xdt);
    }
    if (rt) {
      dtg = -(g[0] * xs);
      if (dtg.dtype() != tdt) dtg = dtg.to(tdt);
    }
    return {dx, dtg};
  });
  autograd::attach(node, {input, target}, out);
  return out;
}

void check_bce_tensor(const Tensor& t, const char* arg) {
  LOOM_CHECK_TYPE(is_floating(t.dtype()), "binary_cross_entropy_with_logits: expected a floating point ", arg, ", got ",
                  dtype_name(t.dtype()));
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const std::string& reduction, const Tensor& pos_weight) {
  OpScope scope(Op::binary_cross_entropy_with_logits, {&input, &target, &weight, &pos_weight});
  const char* op = "binary_cross_entropy_with_logits";
  LOOM_CHECK_VALUE(reduction == "mean" || reduction == "sum" || reduction == "none", op, ": ", reduction,
                   " is not a valid value for reduction (expected 'mean', 'sum' or 'none')");
  LOOM_CHECK(input.defined(), op, ": input is undefined");
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  check_bce_tensor(input, "input");
  check_bce_tensor(target, "target");
  LOOM_CHECK_VALUE(target.sizes() == input.sizes(), op, ": target size (", target.sizes(),
                   ") must be the same as input size (", input.sizes(), ")");
  ops::check_same_device(op, {&input, &target, &weight, &pos_weight});
  Tensor loss;
  if (pos_weight.defined()) {
    check_bce_tensor(pos_weight, "pos_weight");
    LOOM_CHECK(ops::broadcast_named(op, pos_weight.sizes(), input.sizes()) == input.sizes(), op,
               ": pos_weight of shape ", pos_weight.sizes(), " does not broadcast to input of shape ", input.sizes(),
               " (expected one weight per class, the trailing dim)");
    // (1 - t) x + (1 + (p - 1) t) softplus(-x), softplus(-x) = m + log(exp(-m) + exp(-x - m)), m = max(-x, 0)
    // (m carries no gradient: the value does not depend on it).
    Tensor m = input.neg().clamp(Scalar(0.0)).detach();
    Tensor softplus_neg = m + (m.neg().exp() + (input.neg() - m).exp()).log();
    loss = (1.0 - target) * input + ((pos_weight - 1.0) * target + 1.0) * softplus_neg;
  } else {
    loss = bce_logits_elementwise(input, target);
  }
  if (weight.defined()) {
    check_bce_tensor(weight, "weight");
    LOOM_CHECK(ops::broadcast_named(op, weight.sizes(), input.sizes()) == input.sizes(), op, ": weight of shape ",
               weight.sizes(), " does not broadcast to input of shape ", input.sizes());
    loss = loss * weight;
  }
  if (reduction == "none") return loss;
  return reduction == "sum" ? loss.sum() : loss.mean();
}

// ---- huber_loss, smooth_l1_loss ----

namespace {

// Floating, broadcastable input and target, a known reduction; the difference input - target.
Tensor regression_diff(const Tensor& input, const Tensor& target, const std::string& reduction, const char* op) {
  LOOM_CHECK_VALUE(reduction == "mean" || reduction == "sum" || reduction == "none", op, ": ", reduction,
                   " is not a valid value for reduction (expected 'mean', 'sum' or 'none')");
  LOOM_CHECK(input.defined(), op, ": input is undefined");
  LOOM_CHECK(target.defined(), op, ": target is undefined");
  LOOM_CHECK_TYPE(is_floating(input.dtype()), op, ": expected a floating point input, got ", dtype_name(input.dtype()));
  LOOM_CHECK_TYPE(is_floating(target.dtype()), op, ": expected a floating point target, got ",
                  dtype_name(target.dtype()));
  try {
    (void)broadcast_shapes(input.sizes(), target.sizes());
  } catch (const Error&) {
    LOOM_THROW(ErrorKind::Runtime, op, ": input of shape ", input.sizes(), " and target of shape ", target.sizes(),
               " are not broadcastable");
  }
  return input - target;
}

Tensor reduce_loss(const Tensor& loss, const std::string& reduction) {
  if (reduction == "none") return loss;
  return reduction == "sum" ? loss.sum() : loss.mean();
}

}  // namespace

Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double delta) {
  OpScope scope(Op::huber_loss, {&input, &target});
  LOOM_CHECK_VALUE(delta > 0.0, "huber_loss: delta must be > 0, got ", delta);
  const Tensor d = regression_diff(input, target, reduction, "huber_loss");
  return reduce_loss(huber_elementwise(Op::huber_loss, "huber_loss", "HuberLossBackward0", d, delta, 1.0, delta),
                     reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
  OpScope scope(Op::smooth_l1_loss, {&input, &target});
  LOOM_CHECK_VALUE(beta >= 0.0, "smooth_l1_loss: beta must be >= 0, got ", beta);
  const Tensor d = regression_diff(input, target, reduction, "smooth_l1_loss");
  if (beta == 0.0) return reduce_loss(d.abs(), reduction);
  return reduce_loss(
      huber_elementwise(Op::smooth_l1_loss, "smooth_l1_loss", "SmoothL1LossBackward0", d, beta, 1.0 / beta, 1.0),
      reduction);
}

}  // namespace loom
