// Autograd metadata, nodes, saved tensors and the Tensor methods that read or
// change autograd state.
#include "autograd/node.h"

#include <atomic>
#include <mutex>

#include "autograd/engine.h"
#include "autograd/ops/common.h"

namespace loom {
namespace autograd {

namespace {
thread_local bool t_grad_enabled = true;
std::atomic<uint64_t> g_sequence{0};
std::atomic<int64_t> g_hook_id{0};
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool enabled) { t_grad_enabled = enabled; }

namespace {
std::atomic<bool> g_anomaly{false}, g_anomaly_nan{true};
std::mutex g_anomaly_mutex;
AnomalyCapture g_anomaly_capture;
AnomalyReport g_anomaly_report;
}  // namespace

bool anomaly_enabled() { return g_anomaly.load(std::memory_order_relaxed); }
bool anomaly_check_nan() { return g_anomaly_nan.load(std::memory_order_relaxed); }
void set_anomaly_enabled(bool enabled, bool check_nan) {
  g_anomaly_nan.store(check_nan, std::memory_order_relaxed);
  g_anomaly.store(enabled, std::memory_order_relaxed);
}
void set_anomaly_hooks(AnomalyCapture capture, AnomalyReport report) {
  std::lock_guard<std::mutex> lock(g_anomaly_mutex);
  g_anomaly_capture = std::move(capture);
  g_anomaly_report = std::move(report);
}
void report_anomaly(const Node& node) {
  AnomalyReport report;
  {
    std::lock_guard<std::mutex> lock(g_anomaly_mutex);
    report = g_anomaly_report;
  }
  if (report) report(node.name(), node.forward_trace ? *node.forward_trace : std::string());
}

Node::Node() : sequence_nr(g_sequence.fetch_add(1, std::memory_order_relaxed)) {
  if (!anomaly_enabled()) return;
  AnomalyCapture capture;
  {
    std::lock_guard<std::mutex> lock(g_anomaly_mutex);
    capture = g_anomaly_capture;
  }
  if (capture) forward_trace = std::make_shared<const std::string>(capture());
}

namespace {
// Nodes waiting to be destroyed by the outermost release_node of this thread.
thread_local std::vector<std::shared_ptr<Node>>* t_graveyard = nullptr;
}  // namespace

void release_node(std::shared_ptr<Node>& node) {
  if (!node) return;
  if (node.use_count() != 1) {  // someone else still holds it: nothing is freed
    node.reset();
    return;
  }
  if (t_graveyard) {  // inside a destructor that release_node started: defer
    t_graveyard->push_back(std::move(node));
    return;
  }
  // Each destruction below may park more nodes (its edges, the grad_fn of the
  // tensors it saved) in the graveyard; the loop frees them one at a time.
  // A node whose children live on parks nothing, and nothing is allocated.
  std::vector<std::shared_ptr<Node>> graveyard;
  t_graveyard = &graveyard;
  node.reset();
  while (!graveyard.empty()) {
    std::shared_ptr<Node> n = std::move(graveyard.back());
    graveyard.pop_back();
    n.reset();
  }
  t_graveyard = nullptr;
}

Node::~Node() {
  for (auto& e : next_edges) release_node(e.fn);
}

namespace {
thread_local Node* t_current_node = nullptr;
}
Node* current_node() { return t_current_node; }
void set_current_node(Node* node) { t_current_node = node; }

SavedTensor::SavedTensor(const Tensor& t, bool is_output, uint32_t output_nr) {
  if (!t.defined()) return;
  data_ = is_output ? t.detach() : t;
  version_ = t.version();
  is_output_ = is_output;
  output_nr_ = output_nr;
}

Tensor SavedTensor::unpack(const char* node_name) const {
  if (!data_.defined()) return data_;
  LOOM_CHECK(data_.version() == version_,
             "one of the variables needed for gradient computation has been modified by an inplace operation: [",
             dtype_name(data_.dtype()), " ", data_.sizes(), "] is at version ", data_.version(), "; expected version ",
             version_, " instead (saved by ", node_name, ")");
  Node* node = current_node();
  if (is_output_ && grad_enabled() && node && output_nr_ < node->outputs.size()) {
    // Differentiating a backward (create_graph): the output's history is the
    // node itself. The saved buffer may be the keepdim form of the output.
    Tensor t = data_.is_contiguous() ? data_.detach().view(node->outputs[output_nr_].shape) : Tensor();
    if (t.defined()) {
      auto& m = meta(t);
      m.grad_fn = node->shared_from_this();
      m.output_nr = output_nr_;
      return t.sizes() == data_.sizes() ? t : t.view(data_.sizes());
    }
  }
  return data_;
}

AutogradMeta& meta(const Tensor& t) {
  auto* impl = t.impl();
  LOOM_CHECK(impl != nullptr, "autograd: undefined tensor");
  if (!impl->autograd_) impl->autograd_ = std::make_unique<AutogradMeta>();
  return *impl->autograd_;
}
AutogradMeta* meta_if(const Tensor& t) { return t.defined() ? t.impl()->autograd_.get() : nullptr; }

std::shared_ptr<Node> grad_accumulator(const Tensor& t) {
  auto& m = meta(t);
  auto acc = m.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    m.grad_accumulator = acc;
  }
  return acc;
}

AutogradMeta* meta_fresh(const Tensor& t) {
  TensorImpl* i = t.impl();
  if (i && i->view_base_) {
    const AutogradMeta* bm = i->view_base_->autograd_.get();
    if (bm && bm->grad_fn && bm->graph_epoch != i->view_epoch_) regenerate_view(t);
  }
  return meta_if(t);
}

Edge gradient_edge(const Tensor& t) {
  auto* m = meta_fresh(t);
  if (!m) return {};
  if (m->grad_fn) return {m->grad_fn, m->output_nr};
  if (m->requires_grad) return {grad_accumulator(t), 0};
  return {};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}
bool any_requires_grad(const TensorList& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void attach(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs) {
  node->next_edges.clear();
  for (const Tensor& in : inputs) node->next_edges.push_back(in.defined() ? gradient_edge(in) : Edge{});
  node->outputs.clear();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    node->outputs.push_back({out.sizes(), out.dtype(), out.device()});
    auto& m = meta(out);
    m.grad_fn = node;
    m.output_nr = static_cast<uint32_t>(i);
    ++m.graph_epoch;
    if (const auto& base = out.impl()->view_base_)
      out.impl()->view_epoch_ = base->autograd_ ? base->autograd_->graph_epoch : 0;
  }
}
void attach(const std::shared_ptr<Node>& node, const TensorList& inputs, Tensor& output) {
  attach(node, inputs, TensorList{output});
}

AccumulateGrad::AccumulateGrad(const Tensor& t) : leaf(t.impl_ptr()) {
  outputs.push_back({t.sizes(), t.dtype(), t.device()});
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  auto impl = leaf.lock();
  if (!impl || !grads[0].defined()) return {};
  Tensor t(impl);
  Tensor g = std::move(grads[0]);
  auto& m = meta(t);
  for (auto& [id, hook] : m.hooks) {
    Tensor r = hook(g);
    if (r.defined()) g = r;
  }
  LOOM_CHECK(g.sizes() == t.sizes(), "AccumulateGrad: gradient of shape ", g.sizes(), " for a leaf of shape ",
             t.sizes());
  if (grad_enabled()) {  // create_graph: keep the graph of the gradient
    m.grad = m.grad.defined() ? m.grad + g : g;
  } else if (!m.grad.defined()) {
    bool exclusive = g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous();
    m.grad = exclusive ? g.detach() : g.detach().clone();
  } else {
    m.grad.add_(g.detach());
  }
  if (!m.post_accumulate_hooks.empty()) {
    auto hooks = m.post_accumulate_hooks;  // a hook may remove itself
    for (auto& [id, hook] : hooks) hook(t);
  }
  return {};
}

TensorList LambdaNode::apply(TensorList&& grads) {
  LOOM_CHECK(fn_ != nullptr,
             "Trying to backward through the graph a second time (or directly access saved tensors "
             "after they have already been freed). Specify retain_graph=True if you need to "
             "backward through the graph a second time (node ",
             name_, ")");
  return fn_(grads);
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.sizes() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  Dims dims;
  for (int64_t d = 0; d < grad.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.sizes()[d] != 1)) dims.push_back(d);
  Tensor r = dims.empty() ? grad : grad.sum(dims, true);
  return lead > 0 || r.sizes() != shape ? r.reshape(shape) : r;
}

}  // namespace autograd

// ---- Tensor autograd methods ----
using autograd::meta;
using autograd::meta_if;

bool Tensor::requires_grad() const {
  auto* m = autograd::meta_fresh(*this);
  return m && (m->requires_grad || m->grad_fn);
}

Tensor& Tensor::requires_grad_(bool r) {
  auto* m = meta_if(*this);
  LOOM_CHECK(!(m && m->grad_fn) || r,
             "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a "
             "subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  LOOM_CHECK(!r || is_floating(dtype()), "only Tensors of floating point dtype can require gradients (got ",
             dtype_name(dtype()), ")");
  if (r || m) meta(*this).requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const {
  auto* m = meta_if(*this);
  return m ? m->grad : Tensor();
}
void Tensor::set_grad(const Tensor& g) const {
  if (g.defined())
    LOOM_CHECK(g.sizes() == sizes() && g.dtype() == dtype() && g.device() == device(),
               "assigned grad has data of a different size, type or device: grad ", g.sizes(), " ",
               dtype_name(g.dtype()), " on ", g.device().str(), ", tensor ", sizes(), " ", dtype_name(dtype()), " on ",
               device().str());
  meta(*this).grad = g;
}
std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  auto* m = autograd::meta_fresh(*this);
  return m ? m->grad_fn : nullptr;
}
uint32_t Tensor::output_nr() const {
  auto* m = autograd::meta_fresh(*this);
  return m ? m->output_nr : 0;
}
bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  LOOM_CHECK(requires_grad(), "element 0 of tensors does not require grad and does not have a grad_fn");
  Tensor g = gradient;
  if (!g.defined()) {
    LOOM_CHECK(numel() == 1, "grad can be implicitly created only for scalar outputs (got shape ", sizes(), ")");
    g = ones_like(*this);
  }
  autograd::backward({*this}, {g}, retain_graph, create_graph);
}

int64_t Tensor::register_hook(GradHook hook) const {
  LOOM_CHECK(requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  int64_t id = autograd::g_hook_id.fetch_add(1) + 1;
  auto& m = meta(*this);
  if (m.grad_fn) m.grad_fn->pre_hooks[m.output_nr].emplace_back(id, std::move(hook));
  else m.hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::remove_hook(int64_t handle) const {
  auto* m = meta_if(*this);
  if (!m) return;
  auto drop = [handle](std::vector<std::pair<int64_t, GradHook>>& v) {
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it->first == handle) {
        v.erase(it);
        return;
      }
  };
  drop(m->hooks);
  if (m->grad_fn) drop(m->grad_fn->pre_hooks[m->output_nr]);
  auto& post = m->post_accumulate_hooks;
  for (auto it = post.begin(); it != post.end(); ++it)
    if (it->first == handle) {
      post.erase(it);
      return;
    }
}

namespace autograd {
int64_t register_post_accumulate_grad_hook(const Tensor& leaf, std::function<void(const Tensor&)> hook) {
  LOOM_CHECK(leaf.requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  LOOM_CHECK(leaf.is_leaf(), "post accumulate grad hooks cannot be registered on non-leaf tensors");
  int64_t id = g_hook_id.fetch_add(1) + 1;
  meta(leaf).post_accumulate_hooks.emplace_back(id, std::move(hook));
  return id;
}
}  // namespace autograd

void Tensor::retain_grad() const {
  LOOM_CHECK(requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
  auto& m = meta(*this);
  if (!m.grad_fn || m.retains_grad) return;
  m.retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_ptr();
  m.grad_fn->pre_hooks[m.output_nr].emplace_back(-1, [weak](const Tensor& g) {
    if (auto impl = weak.lock()) {
      Tensor self(impl);
      auto& mm = meta(self);
      mm.grad = mm.grad.defined() ? mm.grad + g.detach() : g.detach().clone();
    }
    return Tensor();
  });
}
bool Tensor::retains_grad() const {
  auto* m = meta_if(*this);
  return m && m->retains_grad;
}

Tensor Tensor::detach() const {
  auto* i = impl();
  LOOM_CHECK(i != nullptr, "detach: undefined tensor");
  return Tensor(std::make_shared<TensorImpl>(i->storage_, i->sizes_, i->strides_, i->offset_, i->dtype_));
}

Tensor& Tensor::detach_() {
  if (auto* m = meta_if(*this)) {
    m->grad_fn.reset();
    m->requires_grad = false;
  }
  return *this;
}

}  // namespace loom
