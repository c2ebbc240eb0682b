// Custom differentiable functions in C++ (torch.autograd.Function):
//
//   struct MulAdd : loom::autograd::Function<MulAdd> {
//     static TensorList forward(FunctionCtx& ctx, const TensorList& in) {
//       ctx.save_for_backward({in[0], in[1]});
//       return {in[0] * in[1] + in[2]};
//     }
//     static TensorList backward(FunctionCtx& ctx, const TensorList& g) {
//       auto s = ctx.saved_tensors();
//       return {g[0] * s[1], g[0] * s[0], g[0]};
//     }
//   };
//   auto y = MulAdd::apply({a, b, c})[0];
//
// forward runs with grad mode off; backward returns one gradient per input
// (undefined for inputs without one).
#pragma once
#include <any>
#include <map>
#include <string>
#include "autograd/node.h"

namespace loom::autograd {

class FunctionCtx {
 public:
  void save_for_backward(const TensorList& tensors);
  TensorList saved_tensors() const;
  void mark_non_differentiable(const TensorList& outputs);
  std::map<std::string, std::any> data;  // anything else backward needs
  std::vector<bool> needs_input_grad;

  // engine-facing
  std::vector<SavedTensor> saved_;
  std::vector<TensorImpl*> non_differentiable_;
};

struct CustomNode : Node {
  using BackwardFn = TensorList (*)(FunctionCtx&, const TensorList&);
  CustomNode(std::string name, BackwardFn fn) : name_(std::move(name)), backward_(fn) {}
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return name_; }
  void release_saved() override { ctx.saved_.clear(); }
  FunctionCtx ctx;
  std::string name_;
  BackwardFn backward_;
  size_t num_inputs = 0;
};

// Shared by C++ Function<T> and the Python binding: wires `outputs` (computed
// under no-grad by the caller) to `node` when any input requires grad.
TensorList wire_custom_function(const std::shared_ptr<Node>& node, const TensorList& inputs, TensorList outputs,
                                const std::vector<TensorImpl*>& non_differentiable);

template <typename Derived>
struct Function {
  static TensorList apply(const TensorList& inputs) {
    auto node = std::make_shared<CustomNode>(Derived::name(), &Derived::backward);
    node->num_inputs = inputs.size();
    for (auto& t : inputs) node->ctx.needs_input_grad.push_back(t.defined() && t.requires_grad());
    TensorList outputs;
    {
      NoGradGuard ng;
      outputs = Derived::forward(node->ctx, inputs);
    }
    return wire_custom_function(node, inputs, std::move(outputs), node->ctx.non_differentiable_);
  }
  static std::string name() { return "CustomFunctionBackward"; }
};

}  // namespace loom::autograd
