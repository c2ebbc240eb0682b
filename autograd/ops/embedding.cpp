// embedding front end: the lookup reuses the index_select kernels (a row
// gather), the backward calls the embedding_backward kernels
// (kernels/embedding.h), and under
// create_graph a differentiable scatter_add composition.
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

}  // namespace loom
