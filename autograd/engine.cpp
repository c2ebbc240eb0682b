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

// Runs the graph below `root_edges`. When `captures` is non-empty (grad()),
// the gradients arriving at the captured (node, input) pairs are stored in
// `captured` and AccumulateGrad nodes do not run.
void run(const std::vector<Edge>& root_edges, const TensorList& root_grads, bool retain_graph, bool create_graph,
         const std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>>& captures, TensorList* captured) {
  // 1. Dependencies: how many edges point at each node from within the graph.
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

  // 2. Seed the input buffers of the roots.
  std::unordered_map<Node*, TensorList> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  auto buffer_of = [&](const std::shared_ptr<Node>& n) -> TensorList& {
    auto it = buffers.find(n.get());
    if (it == buffers.end()) {
      keep_alive[n.get()] = n;
      it = buffers.emplace(n.get(), TensorList(std::max<size_t>(n->outputs.size(), 1))).first;
    }
    return it->second;
  };
  for (size_t i = 0; i < root_edges.size(); ++i) {
    const Edge& e = root_edges[i];
    if (!e.valid()) continue;
    accumulate(buffer_of(e.fn)[e.input_nr], root_grads[i]);
  }
  std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready;
  std::unordered_set<Node*> queued;
  for (auto& e : root_edges)
    if (e.valid() && deps[e.fn.get()] == 0 && queued.insert(e.fn.get()).second) ready.push(e.fn.get());

  // 3. Execute.
  const bool capturing = captured != nullptr;
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    TensorList grads = std::move(buffers[node]);
    buffers.erase(node);
    std::shared_ptr<Node> hold = keep_alive[node];
    keep_alive.erase(node);

    for (auto& [idx, hooks] : node->pre_hooks) {
      if (idx >= grads.size() || !grads[idx].defined()) continue;
      for (auto& [id, hook] : hooks) {
        Tensor r = hook(grads[idx]);
        if (r.defined()) grads[idx] = r;
      }
    }
    if (capturing) {
      auto it = captures.find(node);
      if (it != captures.end())
        for (auto& [input_nr, slot] : it->second)
          if (input_nr < grads.size() && grads[input_nr].defined()) {
            Tensor& dst = (*captured)[slot];
            dst = dst.defined() ? dst + grads[input_nr] : grads[input_nr];
          }
      if (dynamic_cast<AccumulateGrad*>(node)) continue;
    }

    bool any = false;
    for (auto& g : grads) any = any || g.defined();
    TensorList outs;
    if (any) {
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
      std::optional<profiler::RecordFunction> range;  // the node as an event / NVTX range (ConvolutionBackward0)
      if (profiler::observing()) {
        range.emplace(node->name(), "cpu_op");
        if (node->cost_flops >= 0 && range->recording()) {
          const bool fp64 = !node->outputs.empty() && node->outputs[0].dtype == DType::Float64;
          range->set_cost(node->cost_flops, node->cost_bytes,
                          fp64                                     ? "fp64"
                          : node->cost_tensor_core && allow_tf32() ? "tf32"
                                                                   : "fp32");
        }
      }
      try {
        outs = node->apply(std::move(grads));
      } catch (...) {
        set_grad_enabled(prev);
        set_current_node(prev_node);
        throw;
      }
      set_grad_enabled(prev);
      set_current_node(prev_node);
      if (!retain_graph && !dynamic_cast<AccumulateGrad*>(node)) {  // accumulators are reused by later graphs
        node->release_saved();
        node->released = true;
      }
    }
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      if (i < outs.size() && outs[i].defined()) accumulate(buffer_of(e.fn)[e.input_nr], std::move(outs[i]));
      if (--deps[e.fn.get()] == 0 && queued.insert(e.fn.get()).second) {
        buffer_of(e.fn);
        ready.push(e.fn.get());
      }
    }
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
  std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>> captures;
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
