#include "autograd/function.h"

#include <algorithm>

namespace loom::autograd {

void FunctionCtx::save_for_backward(const TensorList& tensors) {
  saved_.clear();
  for (auto& t : tensors) saved_.emplace_back(t);
}

TensorList FunctionCtx::saved_tensors() const {
  TensorList out;
  for (auto& s : saved_) out.push_back(s.unpack("CustomFunctionBackward"));
  return out;
}

void FunctionCtx::mark_non_differentiable(const TensorList& outputs) {
  for (auto& t : outputs) non_differentiable_.push_back(t.impl());
}

TensorList CustomNode::apply(TensorList&& grads) {
  TensorList g = backward_(ctx, grads);
  LOOM_CHECK(g.size() == num_inputs, name_, ": backward returned ", g.size(), " gradients, but forward took ",
             num_inputs, " inputs");
  for (size_t i = 0; i < g.size(); ++i) {
    if (!g[i].defined() || i >= next_edges.size() || !next_edges[i].valid()) continue;
    const auto& want = next_edges[i].fn->outputs[next_edges[i].input_nr];
    LOOM_CHECK(g[i].sizes() == want.shape, name_, ": backward returned a gradient of shape ", g[i].sizes(),
               " for input ", i, " of shape ", want.shape);
  }
  return g;
}

TensorList wire_custom_function(const std::shared_ptr<Node>& node, const TensorList& inputs, TensorList outputs,
                                const std::vector<TensorImpl*>& non_differentiable) {
  if (!any_requires_grad(inputs)) return outputs;
  // An output that is an input returned as is becomes a new tensor (a view of
  // the same data), so that it can carry this node as its grad_fn.
  for (auto& o : outputs)
    for (auto& in : inputs)
      if (o.defined() && in.defined() && o.is_same(in)) o = o.detach();
  TensorList differentiable;
  for (auto& o : outputs)
    if (o.defined() && is_floating(o.dtype()) &&
        std::find(non_differentiable.begin(), non_differentiable.end(), o.impl()) == non_differentiable.end())
      differentiable.push_back(o);
  attach(node, inputs, differentiable);
  return outputs;
}

}  // namespace loom::autograd
