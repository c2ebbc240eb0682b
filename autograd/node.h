// The autograd graph. A Node is the backward of one op: it takes the
// gradients of the op's outputs and returns the gradients of its inputs, which
// flow along `next_edges` (one per input; an invalid edge for inputs that do
// not require grad). Leaves end in an AccumulateGrad node that adds into .grad.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loom::autograd {

struct Node;

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;  // which input of fn this gradient feeds
  bool valid() const { return fn != nullptr; }
};

// Global, thread-local switch (torch.no_grad / enable_grad).
bool grad_enabled();
void set_grad_enabled(bool enabled);
class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }

 private:
  bool prev_;
};
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(prev_); }

 private:
  bool prev_;
};

// A tensor kept for backward. Unpacking checks that nobody modified it in
// place since it was saved (the version counter of its storage).
class SavedTensor {
 public:
  SavedTensor() = default;
  // Inputs are kept as they are (so create_graph can differentiate through
  // them); outputs of the node itself are kept detached to avoid a cycle.
  explicit SavedTensor(const Tensor& t, bool is_output = false, uint32_t output_nr = 0);
  Tensor unpack(const char* node_name) const;
  bool defined() const { return data_.defined(); }
  void reset() { data_ = Tensor(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  // Saved outputs are reattached, under create_graph, to the node running
  // backward (their producer) as its output `output_nr_`.
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
};

// Anomaly detection (torch.autograd.detect_anomaly), a process-wide switch as
// in PyTorch. While it is on, each new node keeps where the forward created it
// (the capture hook's text: the bindings record the Python stack), a backward
// that throws first reports its node and that text (the report hook: a Python
// warning), and with check_nan a backward returning NaN throws.
bool anomaly_enabled();
bool anomaly_check_nan();
void set_anomaly_enabled(bool enabled, bool check_nan = true);
using AnomalyCapture = std::function<std::string()>;
using AnomalyReport = std::function<void(const std::string& node_name, const std::string& forward_trace)>;
void set_anomaly_hooks(AnomalyCapture capture, AnomalyReport report);
void report_anomaly(const Node& node);  // calls the report hook (the engine, on a failing backward)

struct Node : std::enable_shared_from_this<Node> {
  Node();
  // Releases the nodes below iteratively (see release_node): freeing a chain
  // of a million nodes must not recurse a million destructors deep.
  virtual ~Node();
  // grads[i] is the gradient of output i (undefined when it got none).
  virtual TensorList apply(TensorList&& grads) = 0;
  virtual std::string name() const = 0;
  // Drop saved tensors once backward ran without retain_graph.
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  uint64_t sequence_nr;  // creation order: later nodes run first when both are ready
  // Hooks on the gradient of output `i` (tensor hooks on non-leaf tensors).
  std::map<uint32_t, std::vector<std::pair<int64_t, GradHook>>> pre_hooks;
  // Metadata of each output, to materialize zeros for outputs that got no grad.
  struct OutputMeta {
    Shape shape;
    DType dtype;
    Device device;
  };
  std::vector<OutputMeta> outputs;
  bool released = false;
  // The work of apply() for the profiler's roofline column, set by front ends
  // whose backward launches kernels itself (ConvolutionBackward0); nodes that
  // call other ops leave it unknown (-1): those ops report their own cost.
  double cost_flops = -1;
  double cost_bytes = -1;
  bool cost_tensor_core = false;  // a GEMM-like backward: TF32's roof when TF32 is allowed
  // Where the forward made this node, recorded in anomaly mode (null otherwise).
  std::shared_ptr<const std::string> forward_trace;
};

// The node whose backward is running on this thread (set by the engine).
Node* current_node();
void set_current_node(Node* node);

// Drops `node`. When this was the last reference, the node and every node
// that only it kept alive are destroyed from a loop on this thread instead of
// from inside each other's destructors (as the engine walks graphs without
// recursion, so does their destruction).
void release_node(std::shared_ptr<Node>& node);

// Per-tensor autograd state, created on first use.
struct AutogradMeta {
  AutogradMeta() = default;
  ~AutogradMeta() { release_node(grad_fn); }
  AutogradMeta(const AutogradMeta&) = delete;
  AutogradMeta& operator=(const AutogradMeta&) = delete;
  bool requires_grad = false;
  bool retains_grad = false;
  bool multi_output_view = false;  // one of the views split / chunk / unbind return
  // Advances whenever the tensor gets a new history (attach, an in-place op):
  // its views compare it with the epoch they were made from.
  uint64_t graph_epoch = 0;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;
  std::vector<std::pair<int64_t, GradHook>> hooks;  // leaf hooks (run before accumulation)
  // Leaf hooks called with the leaf once its .grad holds the new sum (remove_hook drops them too).
  std::vector<std::pair<int64_t, std::function<void(const Tensor&)>>> post_accumulate_hooks;
};

// Tensor.register_post_accumulate_grad_hook: `hook(leaf)` runs after each
// accumulation into leaf.grad (an optimizer step per parameter inside
// backward). Leaves that require grad only; the handle is for remove_hook.
int64_t register_post_accumulate_grad_hook(const Tensor& leaf, std::function<void(const Tensor&)> hook);

// Adds incoming gradients into a leaf's .grad (+=, or a fresh copy the first time).
struct AccumulateGrad : Node {
  explicit AccumulateGrad(const Tensor& leaf);
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  std::weak_ptr<TensorImpl> leaf;
};

AutogradMeta& meta(const Tensor& t);     // creates it
AutogradMeta* meta_if(const Tensor& t);  // may be null
// meta_if, after making a view whose base has a newer history than the view's
// a view of that history (regenerate_view).
AutogradMeta* meta_fresh(const Tensor& t);
// Makes `view` a view of its base's current history (autograd/ops/view_inplace.cpp).
void regenerate_view(const Tensor& view);
Edge gradient_edge(const Tensor& t);  // grad_fn edge, or the accumulator for leaves
std::shared_ptr<Node> grad_accumulator(const Tensor& t);

// True when grad mode is on and any input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const TensorList& inputs);
// Connects `outputs` to `node`: sets next_edges from `inputs` and makes
// the node each output's grad_fn (output_nr = position).
void attach(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs);
void attach(const std::shared_ptr<Node>& node, const TensorList& inputs, Tensor& output);

// A node whose backward is a lambda, for ops whose backward is a short
// composition of other ops. Saved tensors are captured as SavedTensor.
struct LambdaNode : Node {
  using Fn = std::function<TensorList(const TensorList& grads)>;
  LambdaNode(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return name_; }
  void release_saved() override { fn_ = nullptr; }
  std::string name_;
  Fn fn_;
};

// Reduces a broadcast gradient back to `shape` (sums the broadcast dims).
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace loom::autograd
