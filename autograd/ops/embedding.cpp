// embedding front end: the lookup reuses the index_select kernels (a row
// gather), the backward calls the embedding_backward kernels
// (kernels/embedding.h), and under
// create_graph a differentiable scatter_add composition. embedding_bag:
// checks, the flattened entries and offsets, the bag kernels both ways.
#include "autograd/ops/embedding.h"

#include "autograd/ops/common.h"
#include "kernels/index.h"
#include "kernels/loss.h"
#include "kernels/embedding.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx) {
  OpScope scope(Op::embedding, {&input, &weight});
  LOOM_CHECK_TYPE(input.dtype() == DType::Int64 || input.dtype() == DType::Int32,
                  "embedding: expected input (indices) of dtype int64 or int32, got ", dtype_name(input.dtype()));
  LOOM_CHECK(weight.dim() == 2, "embedding: expected weight of shape [num_embeddings, embedding_dim], got ",
             weight.sizes());
  LOOM_CHECK_TYPE(is_floating(weight.dtype()), "embedding: expected a floating point weight, got ",
                  dtype_name(weight.dtype()));
  ops::check_same_device("embedding", {&input, &weight});
  const int64_t V = weight.sizes()[0], D = weight.sizes()[1];
  int64_t pad = -1;
  if (padding_idx) {
    int64_t p = *padding_idx;
    LOOM_CHECK_VALUE(p < V && p >= -V, "embedding: padding_idx ", p, " must be within num_embeddings (", V, ")");
    pad = p < 0 ? p + V : p;
  }
  Tensor idx = (input.dtype() == DType::Int64 ? input : input.to(DType::Int64)).contiguous();
  Tensor w = weight.detach().contiguous();
  const int64_t n = idx.numel();
  Shape out_shape = input.sizes();
  out_shape.push_back(D);
  Tensor out = ops::new_empty(out_shape, weight.dtype(), weight.device());
  const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
  if (n > 0 && D > 0) {
    ops::on_device(
        weight.device(), "embedding",
        [&] {
          int64_t bad = kernels::cpu::index_select(w.dtype(), out.data_ptr(), w.data_ptr(), ip, n, 1, V, D);
          LOOM_CHECK_INDEX(bad < 0, "embedding: index ", bad >= 0 ? ip[bad] : 0, " is out of range for ", V,
                           " embeddings");
        },
        [&](cudaStream_t stream) {
          ops::kg::index_select(w.dtype(), out.data_ptr(), w.data_ptr(), ip, n, 1, V, D,
                                cuda::device_error_flag(weight.device().index), stream);
        });
  } else if (n > 0) {
    LOOM_CHECK_INDEX(V > 0, "embedding: indices given for an empty weight");
  }
  if (autograd::any_requires_grad({&weight})) {
    SavedTensor si(idx);
    const Shape wshape = weight.sizes();
    auto node = std::make_shared<LambdaNode>("EmbeddingBackward0", [=](const TensorList& g) -> TensorList {
      if (!g[0].defined()) return {Tensor()};
      Tensor ix = si.unpack("EmbeddingBackward0").view({n});
      const TensorOptions o(g[0].dtype(), g[0].device());
      if (autograd::grad_enabled()) {  // create_graph: differentiable in the gradient
        Tensor gr = g[0].reshape({n, D});
        if (pad >= 0) gr = gr * ix.ne(pad).to(gr.dtype()).unsqueeze(1);
        return {zeros(wshape, o).scatter_add(0, ix.unsqueeze(1).expand({n, D}), gr)};
      }
      Tensor gr = g[0].contiguous();
      Tensor dw = zeros(wshape, o);
      const auto* p = static_cast<const int64_t*>(ix.data_ptr());
      if (n > 0 && D > 0)
        LOOM_DEVICE_DISPATCH(o.device,
                             kernels::cpu::embedding_backward(o.dtype, dw.data_ptr(), gr.data_ptr(), p, n, V, D, pad),
                             kernels::cuda::embedding_backward(o.dtype, dw.data_ptr(), gr.data_ptr(), p, n, V, D, pad,
                                                               ops::stream_of(o.device)));
      return {dw};
    });
    autograd::attach(node, {weight}, out);
  }
  return out;
}

namespace {

constexpr const char* kBagNode = "EmbeddingBagBackward0";

// Host checks of offsets on the CPU: PyTorch's messages (ValueError).
void check_offsets(const Tensor& offsets, int64_t n) {
  const auto* o = static_cast<const int64_t*>(offsets.data_ptr());
  const int64_t B = offsets.numel();
  if (B == 0) return;
  LOOM_CHECK_VALUE(o[0] == 0, "embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch ",
                   "has to start from position 0. However, got ", o[0]);
  for (int64_t b = 0; b < B; ++b)
    LOOM_CHECK_VALUE(o[b] <= n && (b == 0 || o[b] >= o[b - 1]), "embedding_bag: offsets must be non-decreasing ",
                     "and at most the input length ", n, ", got offsets[", b, "] = ", o[b]);
}

}  // namespace

Tensor embedding_bag(const Tensor& input, const Tensor& weight, const Tensor& offsets, const std::string& mode,
                     const Tensor& per_sample_weights, bool include_last_offset, std::optional<int64_t> padding_idx) {
  OpScope scope(Op::embedding_bag, {&input, &weight, &offsets, &per_sample_weights});
  LOOM_CHECK(input.defined() && weight.defined(), "embedding_bag: input and weight must be defined");
  kernels::EmbeddingBagParams p;
  if (mode == "sum") p.mode = kernels::BagMode::Sum;
  else if (mode == "mean") p.mode = kernels::BagMode::Mean;
  else if (mode == "max") p.mode = kernels::BagMode::Max;
  else LOOM_THROW(ErrorKind::Value, "embedding_bag: mode has to be one of sum, mean or max, got '", mode, "'");
  const Tensor& psw = per_sample_weights;
  LOOM_CHECK_KIND(!psw.defined() || p.mode == kernels::BagMode::Sum, ErrorKind::NotImplemented,
                  "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for ",
                  "mode='sum' (got mode='", mode, "')");
  LOOM_CHECK_VALUE(weight.dim() == 2, "embedding_bag: weight has to be a 2D tensor, got ", weight.sizes());
  LOOM_CHECK_TYPE(is_floating(weight.dtype()), "embedding_bag: expected a floating point weight, got ",
                  dtype_name(weight.dtype()));
  LOOM_CHECK_TYPE(input.dtype() == DType::Int64 || input.dtype() == DType::Int32,
                  "embedding_bag: expected an int64 or int32 input, got ", dtype_name(input.dtype()));
  LOOM_CHECK_VALUE(input.dim() == 1 || input.dim() == 2, "embedding_bag: input has to be 1D or 2D Tensor, but got ",
                   "Tensor of dimension ", input.dim());
  if (psw.defined()) {
    LOOM_CHECK_VALUE(psw.sizes() == input.sizes(), "embedding_bag: per_sample_weights has shape ", psw.sizes(),
                     ", expected the input's ", input.sizes());
    LOOM_CHECK_TYPE(is_floating(psw.dtype()), "embedding_bag: expected floating point per_sample_weights, got ",
                    dtype_name(psw.dtype()));
    ops::check_same_device("embedding_bag", {&input, &weight, &psw});
  }
  ops::check_same_device("embedding_bag", {&input, &weight});
  const Device dev = weight.device();
  p.V = weight.size(0), p.D = weight.size(1);
  if (padding_idx) {
    const int64_t pi = *padding_idx;
    LOOM_CHECK_VALUE(pi < p.V && pi >= -p.V, "embedding_bag: padding_idx ", pi, " must be within num_embeddings (", p.V,
                     ")");
    p.padding_idx = pi < 0 ? pi + p.V : pi;
  }
  Tensor idx = input.reshape({-1}).to(DType::Int64).contiguous();
  p.n = idx.numel();
  Tensor offs;
  if (input.dim() == 2) {
    LOOM_CHECK_VALUE(!offsets.defined(), "embedding_bag: if input is 2D, then offsets has to be None, as input is ",
                     "treated as a mini-batch of fixed length sequences. However, found offsets of shape ",
                     offsets.sizes());
    const int64_t L = input.size(1);
    p.B = input.size(0);
    offs =
        arange(Scalar(int64_t(0)), Scalar(p.B * L), Scalar(L > 0 ? L : int64_t(1)), TensorOptions(DType::Int64, dev));
    if (L == 0) offs = zeros({p.B}, TensorOptions(DType::Int64, dev));
  } else {
    LOOM_CHECK_VALUE(offsets.defined(), "embedding_bag: offsets has to be a 1D tensor but got None");
    LOOM_CHECK_VALUE(offsets.dim() == 1, "embedding_bag: offsets has to be a 1D tensor, got ", offsets.sizes());
    LOOM_CHECK_TYPE(offsets.dtype() == DType::Int64 || offsets.dtype() == DType::Int32,
                    "embedding_bag: expected int64 or int32 offsets, got ", dtype_name(offsets.dtype()));
    ops::check_same_device("embedding_bag", {&input, &offsets});
    LOOM_CHECK_VALUE(!include_last_offset || offsets.numel() >= 1,
                     "embedding_bag: include_last_offset needs at least one offset");
    offs = offsets.to(DType::Int64).contiguous();
    if (dev.type == DeviceType::CPU) check_offsets(offs, p.n);
    p.B = include_last_offset ? offs.numel() - 1 : offs.numel();
  }
  if (scope.observed()) {  // a multiply-add per entry and column; the rows read, the output written
    const double rows = double(p.n) * double(p.D);
    scope.set_cost(2 * rows, (rows + double(p.B) * double(p.D)) * double(weight.element_size()) + 8.0 * double(p.n));
  }
  const TensorOptions fo(weight.dtype(), dev);
  Tensor w = weight.detach().contiguous();
  Tensor ps = psw.defined() ? psw.detach().reshape({-1}).to(weight.dtype()).contiguous() : Tensor();
  Tensor out = ops::new_empty({p.B, p.D}, weight.dtype(), dev);
  Tensor argmax = p.mode == kernels::BagMode::Max ? ops::new_empty({p.B, p.D}, DType::Int64, dev) : Tensor();
  Tensor count = p.mode == kernels::BagMode::Mean ? ops::new_empty({p.B}, weight.dtype(), dev) : Tensor();
  auto* amp = argmax.defined() ? static_cast<int64_t*>(argmax.data_ptr()) : nullptr;
  void* cp = ops::ptr_or_null(count);
  const void* pp = ops::ptr_or_null(ps);
  const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
  const auto* op = static_cast<const int64_t*>(offs.data_ptr());
  if ((p.B > 0 && p.D > 0) || (p.n > 0 && dev.type == DeviceType::CPU))  // the CPU checks every index
    ops::on_device(
        dev, "embedding_bag",
        [&] {
          const int64_t bad =
              kernels::cpu::embedding_bag_forward(w.dtype(), out.data_ptr(), amp, cp, w.data_ptr(), ip, op, pp, p);
          LOOM_CHECK_INDEX(bad < 0, "embedding_bag: index ", bad >= 0 ? ip[bad] : 0, " is out of range for ", p.V,
                           " embeddings");
        },
        [&](cudaStream_t stream) {
          kernels::cuda::embedding_bag_forward(w.dtype(), out.data_ptr(), amp, cp, w.data_ptr(), ip, op, pp, p,
                                               cuda::device_error_flag(dev.index), stream);
        });
  if (p.B > 0 && p.D == 0 && p.mode == kernels::BagMode::Mean) count.zero_();
  if (autograd::any_requires_grad({&weight, &psw})) {
    SavedTensor si(idx), so(offs), sa(argmax), sc(count), sp(ps), sw(ps.defined() ? w : Tensor());
    const bool want_psw = psw.defined() && psw.requires_grad();
    const Shape psw_shape = psw.defined() ? psw.sizes() : Shape{};
    const DType psw_dtype = psw.defined() ? psw.dtype() : weight.dtype();
    auto node = std::make_shared<LambdaNode>(kBagNode, [=](const TensorList& g) -> TensorList {
      if (!g[0].defined()) return {Tensor(), Tensor()};
      LOOM_CHECK_KIND(!autograd::grad_enabled(), ErrorKind::NotImplemented,
                      "embedding_bag: double backward (create_graph=True) is not supported");
      Tensor ix = si.unpack(kBagNode), ox = so.unpack(kBagNode), am = sa.unpack(kBagNode), ct = sc.unpack(kBagNode);
      Tensor pw = sp.unpack(kBagNode);
      Tensor go = g[0].contiguous();
      const auto* ipx = static_cast<const int64_t*>(ix.data_ptr());
      const auto* opx = static_cast<const int64_t*>(ox.data_ptr());
      const auto* amx = am.defined() ? static_cast<const int64_t*>(am.data_ptr()) : nullptr;
      Tensor dw = zeros({p.V, p.D}, TensorOptions(go.dtype(), go.device()));
      LOOM_DEVICE_DISPATCH(go.device(),
                           kernels::cpu::embedding_bag_backward(go.dtype(), dw.data_ptr(), go.data_ptr(), ipx, opx, amx,
                                                                ops::ptr_or_null(ct), ops::ptr_or_null(pw), p),
                           kernels::cuda::embedding_bag_backward(go.dtype(), dw.data_ptr(), go.data_ptr(), ipx, opx,
                                                                 amx, ops::ptr_or_null(ct), ops::ptr_or_null(pw), p,
                                                                 ops::stream_of(go.device())));
      Tensor dp;
      if (want_psw) {
        Tensor wx = sw.unpack(kBagNode);
        dp = zeros({p.n}, TensorOptions(go.dtype(), go.device()));
        LOOM_DEVICE_DISPATCH(
            go.device(),
            kernels::cpu::embedding_bag_psw_backward(go.dtype(), dp.data_ptr(), go.data_ptr(), wx.data_ptr(), ipx, opx,
                                                     p),
            kernels::cuda::embedding_bag_psw_backward(go.dtype(), dp.data_ptr(), go.data_ptr(), wx.data_ptr(), ipx, opx,
                                                      p, ops::stream_of(go.device())));
        dp = dp.reshape(psw_shape).to(psw_dtype);
      }
      return {dw, dp};
    });
    autograd::attach(node, {weight, psw}, out);
  }
  return out;
}

}  // namespace loom
