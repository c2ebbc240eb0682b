// ctc_loss front end: argument checks, the per-sample lengths and target
// offsets (one int64 [3, N] table, copied to the device once), the alpha
// kernel, zero_infinity and the reduction; the backward node runs the beta
// and gradient kernels on the saved alpha. Not differentiable twice (as in
// PyTorch).
#include <algorithm>
#include <cmath>

#include "autograd/ops/common.h"
#include "autograd/ops/loss.h"
#include "core/op_cost.h"
#include "kernels/loss.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::CtcParams;

namespace {

constexpr const char* kCtcNode = "CtcLossBackward0";

}  // namespace

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Dims& input_lengths, const Dims& target_lengths,
                int64_t blank, const std::string& reduction, bool zero_infinity) {
  OpScope scope(Op::ctc_loss, {&log_probs, &targets});
  LOOM_CHECK(log_probs.defined() && targets.defined(), "ctc_loss: log_probs and targets must be defined");
  LOOM_CHECK_VALUE(reduction == "mean" || reduction == "sum" || reduction == "none", reduction,
                   " is not a valid value for reduction");
  LOOM_CHECK_TYPE(is_floating(log_probs.dtype()), "ctc_loss: expected floating point log_probs, got ",
                  dtype_name(log_probs.dtype()));
  LOOM_CHECK(log_probs.dim() == 3 || log_probs.dim() == 2, "ctc_loss: expected log_probs [T, N, C] or [T, C], got ",
             log_probs.sizes());
  LOOM_CHECK_TYPE(targets.dtype() == DType::Int64 || targets.dtype() == DType::Int32,
                  "ctc_loss: expected int64 or int32 targets (class indices), got ", dtype_name(targets.dtype()));
  const bool unbatched = log_probs.dim() == 2;
  Tensor lp = unbatched ? log_probs.unsqueeze(1) : log_probs;
  const int64_t T = lp.size(0), N = lp.size(1), C = lp.size(2);
  LOOM_CHECK(static_cast<int64_t>(input_lengths.size()) == N && static_cast<int64_t>(target_lengths.size()) == N,
             "ctc_loss: expected ", N, " input_lengths and target_lengths (one per sample of log_probs ",
             log_probs.sizes(), "), got ", input_lengths.size(), " and ", target_lengths.size());
  LOOM_CHECK(blank >= 0 && blank < C, "ctc_loss: blank must be in label range [0, ", C, "), got ", blank);
  for (int64_t v : input_lengths)
    LOOM_CHECK(v >= 0 && v <= T, "ctc_loss: input_lengths must be in [0, ", T, "], got ", input_lengths);
  for (int64_t v : target_lengths)
    LOOM_CHECK(v >= 0, "ctc_loss: target_lengths must be non-negative, got ", target_lengths);
  // lens [3, N]: input lengths, target lengths, offsets of the targets.
  std::vector<int64_t> lens(3 * N);
  int64_t S = 0;
  const bool padded = unbatched || targets.dim() == 2;
  if (padded) {
    const int64_t cols = targets.dim() == 0 ? 1 : targets.size(-1);
    LOOM_CHECK(unbatched ? targets.dim() == 1 : targets.size(0) == N, "ctc_loss: expected targets ",
               unbatched ? "[S]" : "[N, S] with N = " + std::to_string(N), " (or concatenated 1-D), got ",
               targets.sizes());
    for (int64_t n = 0; n < N; ++n)
      LOOM_CHECK(target_lengths[n] <= cols, "ctc_loss: a target length (", target_lengths[n], ") exceeds the targets' ",
                 cols, " columns, targets ", targets.sizes());
    for (int64_t n = 0; n < N; ++n) lens[2 * N + n] = n * cols;
  } else {
    LOOM_CHECK(targets.dim() == 1, "ctc_loss: expected targets [N, S] or concatenated 1-D, got ", targets.sizes());
    int64_t off = 0;
    for (int64_t n = 0; n < N; ++n) {
      lens[2 * N + n] = off;
      off += target_lengths[n];
    }
    LOOM_CHECK(off <= targets.numel(), "ctc_loss: the target lengths sum to ", off, ", more than the ", targets.numel(),
               " concatenated targets");
  }
  for (int64_t n = 0; n < N; ++n) {
    lens[n] = input_lengths[n];
    lens[N + n] = target_lengths[n];
    S = std::max(S, target_lengths[n]);
  }
  CtcParams p;
  p.T = T, p.N = N, p.C = C, p.S = S, p.blank = blank, p.zero_infinity = zero_infinity;
  const Device dev = lp.device();
  if (scope.observed()) {  // each alpha cell: a 3-way log-sum-exp and an add (about 10 operations)
    scope.set_cost(10.0 * double(T) * double(N) * double(p.width()),
                   cost_bytes(&log_probs) + cost_bytes(&targets) +
                       double(N) * double(T) * double(p.width()) * double(log_probs.element_size()));
  }
  Tensor x = lp.detach().contiguous();
  Tensor tg = targets.to(dev).to(DType::Int64).contiguous();
  Tensor lens_t = from_vector(lens, {3, N}).to(dev);
  Tensor nll = ops::new_empty({N}, x.dtype(), dev);
  Tensor alpha = ops::new_empty({N, T, p.width()}, x.dtype(), dev);
  const auto* tp = static_cast<const int64_t*>(tg.data_ptr());
  const auto* lensp = static_cast<const int64_t*>(lens_t.data_ptr());
  ops::on_device(
      dev, "ctc_loss",
      [&] {
        const int64_t bad =
            kernels::cpu::ctc_loss_forward(x.dtype(), nll.data_ptr(), alpha.data_ptr(), x.data_ptr(), tp, lensp, p);
        LOOM_CHECK(bad < 0, "ctc_loss: target labels must be in [0, ", C, ") and differ from blank (", blank,
                   "); sample ", bad, " has one that is not");
      },
      [&](cudaStream_t stream) {
        kernels::cuda::ctc_loss_forward(x.dtype(), nll.data_ptr(), alpha.data_ptr(), x.data_ptr(), tp, lensp, p,
                                        cuda::device_error_flag(dev.index), stream);
      });
  Tensor loss;
  {
    autograd::NoGradGuard ng;
    loss = zero_infinity ? where(nll.eq(Scalar(INFINITY)), Scalar(0.0), nll) : nll;
  }
  if (autograd::any_requires_grad({&log_probs})) {
    SavedTensor sx(x), st(tg), sl(lens_t), sn(nll, /*is_output=*/true), sa(alpha);
    const Shape in_shape = log_probs.sizes();
    auto node = std::make_shared<LambdaNode>(kCtcNode, [=](const TensorList& g) -> TensorList {
      if (!g[0].defined()) return {Tensor()};
      LOOM_CHECK_KIND(!autograd::grad_enabled(), ErrorKind::NotImplemented,
                      "ctc_loss: double backward (create_graph=True) is not supported");
      Tensor xs = sx.unpack(kCtcNode), ts = st.unpack(kCtcNode), ls = sl.unpack(kCtcNode);
      Tensor ns = sn.unpack(kCtcNode), as = sa.unpack(kCtcNode);
      Tensor go = g[0].contiguous();
      Tensor dx = ops::new_empty(xs.sizes(), xs.dtype(), xs.device());
      Tensor beta = ops::new_empty(as.sizes(), as.dtype(), as.device());
      const auto* tps = static_cast<const int64_t*>(ts.data_ptr());
      const auto* lps = static_cast<const int64_t*>(ls.data_ptr());
      LOOM_DEVICE_DISPATCH(
          xs.device(),
          kernels::cpu::ctc_loss_backward(xs.dtype(), dx.data_ptr(), beta.data_ptr(), go.data_ptr(), xs.data_ptr(), tps,
                                          lps, ns.data_ptr(), as.data_ptr(), p),
          kernels::cuda::ctc_loss_backward(xs.dtype(), dx.data_ptr(), beta.data_ptr(), go.data_ptr(), xs.data_ptr(),
                                           tps, lps, ns.data_ptr(), as.data_ptr(), p, ops::stream_of(xs.device())));
      return {dx.reshape(in_shape)};
    });
    autograd::attach(node, {log_probs}, loss);
  }
  if (reduction == "none") return unbatched ? loss.squeeze(0) : loss;
  if (reduction == "sum") return loss.sum();
  Tensor tl = lens_t.select(0, 1).clamp(Scalar(int64_t(1))).to(loss.dtype());
  return (loss / tl).mean();
}

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, int64_t blank, const std::string& reduction, bool zero_infinity) {
  auto host_dims = [](const Tensor& t, const char* name) {
    LOOM_CHECK(t.defined(), "ctc_loss: ", name, " must be defined");
    LOOM_CHECK_TYPE(t.dtype() == DType::Int64 || t.dtype() == DType::Int32, "ctc_loss: expected integer ", name,
                    ", got ", dtype_name(t.dtype()));
    LOOM_CHECK(t.dim() <= 1, "ctc_loss: expected 1-D ", name, ", got ", t.sizes());
    const Tensor h = t.to(Device()).to(DType::Int64).contiguous();
    const auto* v = static_cast<const int64_t*>(h.data_ptr());
    return Dims(v, v + h.numel());
  };
  return ctc_loss(log_probs, targets, host_dims(input_lengths, "input_lengths"),
                  host_dims(target_lengths, "target_lengths"), blank, reduction, zero_infinity);
}

}  // namespace loom
