// The backward engine: dependency counting with an explicit stack, then a
// ready queue ordered by sequence number (later-created nodes first). Both
// passes are iterative, so graph depth never touches the C++ stack.
#include "autograd/engine.h"

#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/profiler.h"

namespace loom::autograd {

namespace {

struct Capture {
  size_t slot;
};

struct ReadyOrder {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

Tensor zeros_for(const Node::OutputMeta& m) { return zeros(m.shape, TensorOptions(m.dtype, m.device)); }

// Adds `g` into the input buffer slot (out of place, so aliases are never written).
void accumulate(Tensor& slot, Tensor g) {
  if (!slot.defined()) slot = std::move(g);
  else slot = slot + g;
}

using Captures = std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>>;

// 1. Dependencies: how many edges point at each node from within the graph.
std::unordered_map<Node*, int> count_dependencies(const std::vector<Edge>& root_edges) {
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (auto& e : root_edges)
    if (e.valid() && seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (auto& e : n->next_edges) {
      if (!e.valid()) continue;
      ++deps[e.fn.get()];
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }
  return deps;
}

// Runs the pre-hooks of `node` on the gradients it received.
void run_pre_hooks(Node* node, TensorList& grads) {
  for (auto& [idx, hooks] : node->pre_hooks) {
    if (idx >= grads.size() || !grads[idx].defined()) continue;
    for (auto& [id, hook] : hooks) {
      Tensor r = hook(grads[idx]);
      if (r.defined()) grads[idx] = r;
    }
  }
}

// grad(): adds the gradients arriving at the captured inputs of `node` to
// `captured`.
void capture_grads(Node* node, const TensorList& grads, const Captures& captures, TensorList& captured) {
  auto it = captures.find(node);
  if (it == captures.end()) return;
  for (auto& [input_nr, slot] : it->second)
    if (input_nr < grads.size() && grads[input_nr].defined()) {
      Tensor& dst = captured[slot];
      dst = dst.defined() ? dst + grads[input_nr] : grads[input_nr];
    }
}

// The node as an event / NVTX range (ConvolutionBackward0) with its declared cost.
void open_profiler_range(Node* node, std::optional<profiler::RecordFunction>& range) {
  if (!profiler::observing()) return;
  range.emplace(node->name(), "cpu_op");
  if (node->cost_flops >= 0 && range->recording()) {
    const bool fp64 = !node->outputs.empty() && node->outputs[0].dtype == DType::Float64;
    range->set_cost(node->cost_flops, node->cost_bytes,
                    fp64                                     ? "fp64"
                    : node->cost_tensor_core && allow_tf32() ? "tf32"
                                                             : "fp32");
  }
}

// Anomaly mode with check_nan: a floating gradient with a NaN fails the node.
void check_nan_outputs(const Node* node, const TensorList& outs) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor& t = outs[i];
    if (!t.defined() || !is_floating(t.dtype()) || t.numel() == 0) continue;
    LOOM_CHECK(t.ne(t).sum().item<int64_t>() == 0, "Function '", node->name(), "' returned nan values in its ", i,
               "th output.");
  }
}

// Applies `node` to `grads` (at least one defined) under the grad mode of
// create_graph, then releases its saved tensors unless retain_graph.
TensorList apply_node(Node* node, TensorList&& grads, bool retain_graph, bool create_graph) {
  LOOM_CHECK(!node->released,
             "Trying to backward through the graph a second time (or directly access saved tensors after they "
             "have already been freed). Specify retain_graph=True if you need to backward through the graph a "
             "second time (node ",
             node->name(), ")");
  for (size_t i = 0; i < grads.size() && i < node->outputs.size(); ++i)
    if (!grads[i].defined()) grads[i] = zeros_for(node->outputs[i]);
  bool prev = grad_enabled();
  Node* prev_node = current_node();
  set_grad_enabled(create_graph);
  set_current_node(node);
  std::optional<profiler::RecordFunction> range;
  open_profiler_range(node, range);
  TensorList outs;
  try {
    outs = node->apply(std::move(grads));
    if (anomaly_enabled() && anomaly_check_nan()) check_nan_outputs(node, outs);
  } catch (...) {
    set_grad_enabled(prev);
    set_current_node(prev_node);
    if (anomaly_enabled()) report_anomaly(*node);
    throw;
  }
  set_grad_enabled(prev);
  set_current_node(prev_node);
  if (!retain_graph && !dynamic_cast<AccumulateGrad*>(node)) {  // accumulators are reused by later graphs
    node->release_saved();
    node->released = true;
  }
  return outs;
}

// The state of one backward pass: the input buffers of the nodes that have
// received gradients and the ready queue.
class GraphTask {
 public:
  explicit GraphTask(const std::vector<Edge>& root_edges) : deps_(count_dependencies(root_edges)) {}

  // 2. Seed the input buffers of the roots.
  void seed(const std::vector<Edge>& root_edges, const TensorList& root_grads) {
    for (size_t i = 0; i < root_edges.size(); ++i) {
      const Edge& e = root_edges[i];
      if (!e.valid()) continue;
      accumulate(buffer_of(e.fn)[e.input_nr], root_grads[i]);
    }
    for (auto& e : root_edges)
      if (e.valid() && deps_[e.fn.get()] == 0 && queued_.insert(e.fn.get()).second) ready_.push(e.fn.get());
  }

  bool done() const { return ready_.empty(); }

  // The next ready node, with its gradients and the reference that keeps it alive.
  Node* pop(TensorList& grads, std::shared_ptr<Node>& hold) {
    Node* node = ready_.top();
    ready_.pop();
    grads = std::move(buffers_[node]);
    buffers_.erase(node);
    hold = keep_alive_[node];
    keep_alive_.erase(node);
    return node;
  }

  // Accumulates the outputs of `node` into the buffers of the nodes below and
  // queues those whose last dependency this was.
  void propagate(Node* node, TensorList& outs) {
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      if (i < outs.size() && outs[i].defined()) {
        // A gradient must have the shape of the tensor it is the gradient of (a wrong one would be added into
        // a buffer or a .grad of another shape): an error naming the node, as PyTorch's engine.
        if (e.input_nr < e.fn->outputs.size())
          LOOM_CHECK(outs[i].sizes() == e.fn->outputs[e.input_nr].shape, "backward: function ", node->name(),
                     " returned an invalid gradient at index ", i, " - got ", outs[i].sizes(),
                     " but expected shape compatible with ", e.fn->outputs[e.input_nr].shape);
        accumulate(buffer_of(e.fn)[e.input_nr], std::move(outs[i]));
      }
      if (--deps_[e.fn.get()] == 0 && queued_.insert(e.fn.get()).second) {
        buffer_of(e.fn);
        ready_.push(e.fn.get());
      }
    }
  }

 private:
  TensorList& buffer_of(const std::shared_ptr<Node>& n) {
    auto it = buffers_.find(n.get());
    if (it == buffers_.end()) {
      keep_alive_[n.get()] = n;
      it = buffers_.emplace(n.get(), TensorList(std::max<size_t>(n->outputs.size(), 1))).first;
    }
    return it->second;
  }

  std::unordered_map<Node*, int> deps_;
  std::unordered_map<Node*, TensorList> buffers_;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive_;
  std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready_;
  std::unordered_set<Node*> queued_;
};

// Runs the graph below `root_edges`. When `captures` is non-empty (grad()),
// the gradients arriving at the captured (node, input) pairs are stored in
// `captured` and AccumulateGrad nodes do not run.
void run(const std::vector<Edge>& root_edges, const TensorList& root_grads, bool retain_graph, bool create_graph,
         const Captures& captures, TensorList* captured) {
  GraphTask task(root_edges);
  task.seed(root_edges, root_grads);
  // 3. Execute.
  const bool capturing = captured != nullptr;
  while (!task.done()) {
    TensorList grads;
    std::shared_ptr<Node> hold;
    Node* node = task.pop(grads, hold);
    run_pre_hooks(node, grads);
    if (capturing) {
      capture_grads(node, grads, captures, *captured);
      if (dynamic_cast<AccumulateGrad*>(node)) continue;
    }
    bool any = false;
    for (auto& g : grads) any = any || g.defined();
    TensorList outs;
    if (any) outs = apply_node(node, std::move(grads), retain_graph, create_graph);
    task.propagate(node, outs);
  }
}

std::vector<Edge> root_edges_of(const TensorList& roots) {
  std::vector<Edge> edges;
  for (auto& r : roots) {
    LOOM_CHECK(r.requires_grad(), "element ", edges.size(),
               " of tensors does not require grad and does not have a grad_fn");
    edges.push_back(gradient_edge(r));
  }
  return edges;
}

void check_root_grads(const TensorList& roots, const TensorList& grads) {
  LOOM_CHECK(roots.size() == grads.size(), "backward: got ", roots.size(), " tensors and ", grads.size(), " gradients");
  for (size_t i = 0; i < roots.size(); ++i)
    LOOM_CHECK(grads[i].defined() && grads[i].sizes() == roots[i].sizes(), "backward: Mismatch in shape: grad_output[",
               i, "] has a shape of ", grads[i].defined() ? grads[i].sizes() : Shape{}, " and output[", i,
               "] has a shape of ", roots[i].sizes());
}

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph, bool create_graph) {
  check_root_grads(roots, grad_roots);
  run(root_edges_of(roots), grad_roots, retain_graph || create_graph, create_graph, {}, nullptr);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs, bool retain_graph,
                bool create_graph, bool allow_unused) {
  TensorList gouts = grad_outputs;
  if (gouts.empty())
    for (auto& o : outputs) {
      LOOM_CHECK(o.numel() == 1, "grad can be implicitly created only for scalar outputs (got shape ", o.sizes(), ")");
      gouts.push_back(ones_like(o));
    }
  check_root_grads(outputs, gouts);
  Captures captures;
  std::vector<std::shared_ptr<Node>> hold;
  for (size_t i = 0; i < inputs.size(); ++i) {
    LOOM_CHECK(inputs[i].requires_grad(), "grad: input ", i, " does not require grad");
    Edge e = gradient_edge(inputs[i]);
    hold.push_back(e.fn);
    captures[e.fn.get()].emplace_back(e.input_nr, i);
  }
  TensorList result(inputs.size());
  run(root_edges_of(outputs), gouts, retain_graph || create_graph, create_graph, captures, &result);
  for (size_t i = 0; i < result.size(); ++i) {
    LOOM_CHECK(allow_unused || result[i].defined(), "grad: One of the differentiated Tensors (input ", i,
               ") appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.");
    if (result[i].defined() && !create_graph) result[i] = result[i].detach();
  }
  return result;
}

}  // namespace loom::autograd
