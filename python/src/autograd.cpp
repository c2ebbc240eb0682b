// Autograd from Python: tensor autograd state (requires_grad, grad, grad_fn,
// hooks), backward / grad with the GIL released, grad mode, and custom
// functions written in Python (PyFunctionNode calls the class's backward with
// the GIL held, whichever thread the engine runs it on).
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/node.h"
#include "common.h"

namespace loom::python {

namespace {

using autograd::Node;

struct HookHandle {
  Tensor tensor;
  int64_t id;
  void remove() {
    if (tensor.defined()) tensor.remove_hook(id);
    tensor = Tensor();
  }
};

GradHook python_hook(py::object fn) {
  auto f = keep_python(std::move(fn));
  return [f](const Tensor& g) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object r = (*f)(g);
    if (r.is_none()) return Tensor();
    return to_tensor(r, "hook", "the hook's return value");
  };
}

// The backward of a Python autograd.Function subclass.
struct PyFunctionNode : Node {
  std::shared_ptr<py::object> cls, ctx;
  std::vector<autograd::SavedTensor> saved;
  std::vector<bool> saved_is_none;
  std::vector<size_t> output_pos;  // forward output position of each node output
  size_t n_forward_outputs = 0;
  std::vector<size_t> input_pos;  // forward argument position of each edge
  size_t n_args = 0;
  bool materialize = true;
  std::string name_;

  std::string name() const override { return name_; }
  void release_saved() override { saved.clear(); }

  TensorList apply(TensorList&& grads) override {
    py::gil_scoped_acquire gil;
    py::tuple saved_t(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) saved_t[i] = as_python(saved[i].unpack(name_.c_str()));
    py::tuple gin(n_forward_outputs);
    for (size_t i = 0; i < n_forward_outputs; ++i) gin[i] = py::none();
    for (size_t k = 0; k < output_pos.size(); ++k) {
      Tensor g = k < grads.size() ? grads[k] : Tensor();
      if (!g.defined() && materialize) g = zeros(outputs[k].shape, TensorOptions(outputs[k].dtype, outputs[k].device));
      gin[output_pos[k]] = as_python(g);
    }
    py::object c = *ctx;
    c.attr("_saved") = saved_t;
    py::object res;
    try {
      res = (*cls).attr("backward")(c, *gin);
    } catch (...) {
      c.attr("_saved") = py::none();
      throw;
    }
    c.attr("_saved") = py::none();
    py::tuple rt = py::isinstance<py::tuple>(res) ? py::reinterpret_borrow<py::tuple>(res) : py::make_tuple(res);
    bool extra_ok = rt.size() >= n_args;
    for (size_t i = n_args; i < rt.size(); ++i) extra_ok = extra_ok && rt[i].is_none();
    if (!extra_ok)
      throw std::runtime_error("function " + name_ + " returned an incorrect number of gradients (expected " +
                               std::to_string(n_args) + ", got " + std::to_string(rt.size()) + ")");
    TensorList out(next_edges.size());
    for (size_t e = 0; e < next_edges.size(); ++e) {
      py::object r = rt[input_pos[e]];
      if (r.is_none()) continue;
      out[e] = to_tensor(r, name_.c_str(), "gradient");
      if (next_edges[e].valid()) {
        const auto& want = next_edges[e].fn->outputs[next_edges[e].input_nr];
        if (out[e].sizes() != want.shape)
          LOOM_THROW(ErrorKind::Runtime, "Function ", name_, " returned an invalid gradient at index ", input_pos[e],
                     " - got ", out[e].sizes(), " but expected shape compatible with ", want.shape);
      }
    }
    return out;
  }
};

py::object wire_function(py::object cls, py::object ctx, py::tuple args, py::object outputs) {
  const bool is_tuple = py::isinstance<py::tuple>(outputs);
  py::list outs = is_tuple ? py::list(outputs) : py::list();
  if (!is_tuple) outs.append(outputs);

  TensorList inputs;
  std::vector<size_t> input_pos;
  for (size_t i = 0; i < args.size(); ++i)
    if (py::isinstance<Tensor>(args[i])) {
      inputs.push_back(args[i].cast<Tensor>());
      input_pos.push_back(i);
    }
  py::object to_save = py::getattr(ctx, "_to_save", py::none());
  ctx.attr("_to_save") = py::none();
  if (!autograd::any_requires_grad(inputs)) return outputs;

  TensorList out_tensors;
  std::vector<size_t> out_pos;
  for (size_t k = 0; k < outs.size(); ++k)
    if (py::isinstance<Tensor>(outs[k])) {
      out_tensors.push_back(outs[k].cast<Tensor>());
      out_pos.push_back(k);
    }
  std::vector<TensorImpl*> non_diff;
  py::object nd = py::getattr(ctx, "_non_differentiable", py::none());
  if (!nd.is_none())
    for (auto t : nd) non_diff.push_back(to_tensor(t, "mark_non_differentiable").impl());

  auto node = std::make_shared<PyFunctionNode>();
  node->name_ = py::str(cls.attr("__name__")).cast<std::string>() + "Backward";
  node->n_args = args.size();
  node->input_pos = input_pos;
  node->n_forward_outputs = outs.size();
  node->materialize = py::getattr(ctx, "_materialize_grads", py::bool_(true)).cast<bool>();

  TensorList original = out_tensors;
  TensorList wired = autograd::wire_custom_function(node, inputs, out_tensors, non_diff);
  node->output_pos.resize(node->outputs.size());
  for (size_t j = 0; j < wired.size(); ++j) {
    outs[out_pos[j]] = py::cast(wired[j]);
    if (wired[j].grad_fn() == node) node->output_pos[wired[j].output_nr()] = out_pos[j];
  }
  if (!to_save.is_none()) {
    for (auto s : to_save) {
      if (s.is_none()) {
        node->saved.emplace_back();
        continue;
      }
      Tensor t = to_tensor(s, "save_for_backward");
      bool is_input = false;
      for (auto& in : inputs) is_input = is_input || in.is_same(t);
      bool is_output = false;
      uint32_t output_nr = 0;  // which output of the node: under create_graph it is reattached as that one
      for (size_t j = 0; j < original.size() && !is_input; ++j)
        if (original[j].is_same(t)) {
          t = wired[j];
          is_output = true;
          output_nr = wired[j].output_nr();
        }
      node->saved.emplace_back(t, is_output, output_nr);
    }
  }
  node->cls = keep_python(cls);
  node->ctx = keep_python(ctx);
  if (is_tuple) return py::tuple(outs);
  return outs[0];
}

py::list optional_list(const TensorList& ts) {
  py::list l;
  for (auto& t : ts) l.append(as_python(t));
  return l;
}

TensorList tensors_or_undefined(py::handle seq) {
  TensorList l;
  for (auto x : seq) l.push_back(x.is_none() ? Tensor() : to_tensor(x, "autograd", "gradient"));
  return l;
}

}  // namespace

void init_autograd(py::module_& m, py::class_<Tensor>& cls) {
  py::class_<Node, std::shared_ptr<Node>>(m, "Node")
      .def("name", &Node::name)
      .def_property_readonly("next_functions",
                             [](const Node& n) {
                               py::tuple t(n.next_edges.size());
                               for (size_t i = 0; i < n.next_edges.size(); ++i) {
                                 const auto& e = n.next_edges[i];
                                 t[i] = py::make_tuple(e.fn ? py::cast(e.fn) : py::none(), e.input_nr);
                               }
                               return t;
                             })
      .def("__repr__", [](const Node& n) { return "<" + n.name() + " object>"; });

  py::class_<HookHandle>(m, "RemovableHandle")
      .def_readonly("id", &HookHandle::id)
      .def("remove", &HookHandle::remove)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](HookHandle& h, py::args) { h.remove(); });

  cls.def_property("requires_grad", &Tensor::requires_grad, [](Tensor& t, bool r) { t.requires_grad_(r); })
      .def(
          "requires_grad_",
          [](py::object self, bool r) {
            self.cast<Tensor&>().requires_grad_(r);
            return self;
          },
          py::arg("requires_grad") = true)
      .def_property(
          "grad", [](const Tensor& t) { return as_python(t.grad()); },
          [](const Tensor& t, py::object g) {
            t.set_grad(g.is_none() ? Tensor() : to_tensor(g, "grad", "assigned value"));
          })
      .def_property_readonly("grad_fn",
                             [](const Tensor& t) -> py::object {
                               auto fn = t.grad_fn();
                               if (!fn) return py::none();
                               return py::cast(fn);
                             })
      .def_property_readonly("is_leaf", &Tensor::is_leaf)
      .def_property_readonly("output_nr", &Tensor::output_nr)
      .def_property_readonly("retains_grad", &Tensor::retains_grad)
      .def("retain_grad", &Tensor::retain_grad)
      .def(
          "register_hook",
          [](const Tensor& t, py::object fn) {
            if (!PyCallable_Check(fn.ptr())) throw py::type_error("register_hook(): hook must be callable");
            return HookHandle{t, t.register_hook(python_hook(fn))};
          },
          py::arg("hook"))
      .def(
          "register_post_accumulate_grad_hook",
          [](const Tensor& t, py::object fn) {
            if (!PyCallable_Check(fn.ptr()))
              throw py::type_error("register_post_accumulate_grad_hook(): hook must be callable");
            auto f = keep_python(std::move(fn));
            auto hook = [f](const Tensor& leaf) {
              py::gil_scoped_acquire gil;
              py::object r = (*f)(leaf);
              if (!r.is_none())
                throw py::type_error("register_post_accumulate_grad_hook(): the hook must return None, got " +
                                     py::str(py::type::of(r).attr("__name__")).cast<std::string>());
            };
            return HookHandle{t, autograd::register_post_accumulate_grad_hook(t, hook)};
          },
          py::arg("hook"));

  m.def("is_grad_enabled", &autograd::grad_enabled);
  m.def("_set_grad_enabled", &autograd::set_grad_enabled);
  m.def("_set_anomaly_enabled", &autograd::set_anomaly_enabled, py::arg("enabled"), py::arg("check_nan") = true);
  m.def("_is_anomaly_enabled", &autograd::anomaly_enabled);
  m.def("_is_anomaly_check_nan_enabled", &autograd::anomaly_check_nan);
  // capture() -> str runs when a node is made in anomaly mode; report(node_name, trace) when its backward
  // fails. Either may run on a thread without the GIL (backward releases it).
  m.def("_set_anomaly_hooks", [](py::object capture, py::object report) {
    auto cap = keep_python(std::move(capture));
    auto rep = keep_python(std::move(report));
    autograd::set_anomaly_hooks(
        [cap]() -> std::string {
          py::gil_scoped_acquire gil;
          try {
            return (*cap)().cast<std::string>();
          } catch (py::error_already_set&) {
            return std::string();
          }
        },
        [rep](const std::string& name, const std::string& trace) {
          py::gil_scoped_acquire gil;
          try {
            (*rep)(name, trace);
          } catch (py::error_already_set& e) {
            e.discard_as_unraisable("anomaly report");
          }
        });
  });
  m.def("_backward", [](py::object roots, py::object grads, bool retain_graph, bool create_graph) {
    TensorList r = tensors_or_undefined(roots), g = tensors_or_undefined(grads);
    for (size_t i = 0; i < r.size(); ++i) {
      if (!r[i].defined()) throw py::type_error("backward(): expected Tensors");
      if (!r[i].requires_grad())
        LOOM_THROW(ErrorKind::Runtime, "element ", i, " of tensors does not require grad and does not have a grad_fn");
      if (i >= g.size()) g.emplace_back();
      if (!g[i].defined()) {
        LOOM_CHECK(r[i].numel() == 1,
                   "grad can be implicitly created only for scalar outputs "
                   "(got shape ",
                   r[i].sizes(), ")");
        g[i] = ones_like(r[i]);
      }
    }
    py::gil_scoped_release nogil;
    autograd::backward(r, g, retain_graph, create_graph);
  });
  m.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs, bool retain_graph,
                    bool create_graph, bool allow_unused) {
    TensorList o = tensors_or_undefined(outputs), in = tensors_or_undefined(inputs);
    TensorList g = grad_outputs.is_none() ? TensorList(o.size()) : tensors_or_undefined(grad_outputs);
    LOOM_CHECK(g.size() == o.size(), "grad: got ", g.size(), " grad_outputs for ", o.size(), " outputs");
    for (size_t i = 0; i < in.size(); ++i)
      LOOM_CHECK(in[i].defined() && in[i].requires_grad(), "One of the differentiated Tensors does not require grad");
    for (size_t i = 0; i < o.size(); ++i) {
      LOOM_CHECK(o[i].defined() && o[i].requires_grad(), "element ", i,
                 " of tensors does not require grad and does not have a grad_fn");
      if (!g[i].defined()) {
        LOOM_CHECK(o[i].numel() == 1,
                   "grad can be implicitly created only for scalar outputs "
                   "(got shape ",
                   o[i].sizes(), ")");
        g[i] = ones_like(o[i]);
      }
    }
    TensorList r;
    {
      py::gil_scoped_release nogil;
      r = autograd::grad(o, in, g, retain_graph, create_graph, allow_unused);
    }
    return optional_list(r);
  });
  m.def("_wire_function", &wire_function);
}

}  // namespace loom::python
