// Binds nn/optim as loom._C._functional._optim (registered through
// RegisterFunctional, so module.cpp is untouched):
// - the step functions sgd_step / adam_step / rmsprop_step and the scheduler
//   formulas (step_lr, cosine_annealing_lr, one_cycle ...): loom.optim's
//   Python classes keep PyTorch's param_groups and state dicts and compute
//   every update and learning rate with these, the same code the C++ classes
//   run (docs/architecture.md, "Optimizers and schedulers: one implementation");
// - the C++ classes themselves (used from Python for checks and by
//   C++-trained checkpoints: state_dict() is the flat safetensors-ready map
//   of nn/optim/optimizer.h).
#include "common.h"

#include <pybind11/functional.h>

#include <functional>
#include <memory>

#include "nn/optim/adam.h"
#include "nn/optim/clip_grad.h"
#include "nn/optim/lr_scheduler.h"
#include "nn/optim/rmsprop.h"
#include "nn/optim/sgd.h"

namespace loom::python {
namespace {

using namespace loom::optim;

TensorList to_list(const py::handle& h, const char* op) {
  TensorList out;
  if (py::isinstance<Tensor>(h)) {
    out.push_back(py::cast<Tensor>(h));
    return out;
  }
  for (py::handle x : py::iter(h)) out.push_back(to_tensor(x, op, "params"));
  return out;
}

// An iterable of tensors, or of dicts {"params": ..., option: value, ...}.
std::vector<ParamGroup> to_groups(const py::handle& h, const char* op) {
  std::vector<ParamGroup> groups;
  py::list items;
  if (py::isinstance<Tensor>(h)) items.append(h);
  else
    for (py::handle x : py::iter(h)) items.append(x);
  if (items.size() > 0 && py::isinstance<py::dict>(items[0])) {
    for (py::handle x : items) {
      py::dict d = py::cast<py::dict>(x);
      ParamGroup g;
      for (auto kv : d) {
        std::string k = py::cast<std::string>(kv.first);
        if (k == "params") g.params = to_list(kv.second, op);
        else g.options[k] = py::cast<double>(kv.second);
      }
      groups.push_back(std::move(g));
    }
  } else if (items.size() > 0) {
    groups.emplace_back(to_list(items, op));
  }
  return groups;
}

py::list groups_to_python(const Optimizer& o) {
  py::list out;
  for (auto& g : o.param_groups()) {
    py::dict d;
    py::list ps;
    for (auto& p : g.params) ps.append(py::cast(p));
    d["params"] = ps;
    for (auto& kv : g.options) d[py::str(kv.first)] = kv.second;
    out.append(d);
  }
  return out;
}

// The parameters of a step function's call: the Python objects (the keys of
// optimizer.state) and their tensors.
struct PyParams {
  std::vector<py::handle> objects;
  TensorList tensors;
};

PyParams to_params(const py::handle& h, const char* op) {
  PyParams out;
  for (py::handle x : py::iter(h)) {
    out.tensors.push_back(to_tensor(x, op, "params"));
    out.objects.push_back(x);
  }
  return out;
}

// grads[i] None (a parameter without a gradient) becomes an undefined tensor.
TensorList to_grads(const py::handle& h, size_t n, const char* op) {
  TensorList out;
  for (py::handle x : py::iter(h)) out.push_back(x.is_none() ? Tensor() : to_tensor(x, op, "grads"));
  LOOM_CHECK_VALUE(out.size() == n, op, ": expected ", n, " grads (one per parameter, None for none), got ",
                   out.size());
  return out;
}

// The StateAccess of a step function called from Python. `state` is the
// optimizer's state mapping (PyTorch's optimizer.state: parameter -> dict of
// name -> value). The state of a parameter is read when the step asks for it
// (a tensor per name; a number under "step" as PyTorch's older checkpoints
// hold it; None and other values are left out), and write_back() stores what
// the step created or replaced: a dict for a parameter that had none, and the
// entries whose tensor is new. Entries the step updated in place keep their
// Python objects.
class PyStates {
 public:
  PyStates(py::handle state, const std::vector<py::handle>& params)
      : state_(state), params_(params), loaded_(params.size()) {}

  ParamState& operator()(size_t i) {
    std::unique_ptr<Entry>& e = loaded_.at(i);
    if (!e) {
      e = std::make_unique<Entry>();
      e->dict = lookup(params_[i]);
      auto add = [&](py::handle k, py::handle v) {
        if (!py::isinstance<py::str>(k)) return;
        std::string key = k.cast<std::string>();
        if (py::isinstance<Tensor>(v)) e->state[key] = v.cast<Tensor>();
        else if (key == "step" && (PyLong_Check(v.ptr()) || PyFloat_Check(v.ptr())) && !PyBool_Check(v.ptr()))
          e->state[key] = scalar_tensor(v.cast<double>(), TensorOptions(DType::Float64));
      };
      if (PyDict_Check(e->dict.ptr())) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(e->dict.ptr(), &pos, &k, &v)) add(k, v);
      } else if (!e->dict.is_none()) {
        for (py::handle kv : e->dict.attr("items")()) {
          py::tuple item = py::reinterpret_borrow<py::tuple>(kv);
          add(item[0], item[1]);
        }
      }
    }
    return e->state;
  }

  void write_back() {
    for (size_t i = 0; i < loaded_.size(); ++i) {
      Entry* e = loaded_[i].get();
      if (!e || e->state.empty()) continue;
      if (e->dict.is_none()) {
        e->dict = py::dict();
        if (PyObject_SetItem(state_.ptr(), params_[i].ptr(), e->dict.ptr()) != 0) throw py::error_already_set();
      }
      for (auto& kv : e->state) {
        if (!kv.second.defined()) continue;
        py::str key(kv.first);
        py::object old = py::reinterpret_steal<py::object>(PyObject_GetItem(e->dict.ptr(), key.ptr()));
        if (!old) PyErr_Clear();
        else if (py::isinstance<Tensor>(old) && old.cast<Tensor>().impl() == kv.second.impl()) continue;
        e->dict[key] = py::cast(kv.second);
      }
    }
  }

 private:
  struct Entry {
    py::object dict = py::none();
    ParamState state;
  };

  // state.get(p) without inserting (a defaultdict's __missing__ is not called).
  py::object lookup(py::handle p) const {
    if (PyDict_Check(state_.ptr())) {
      PyObject* v = PyDict_GetItemWithError(state_.ptr(), p.ptr());
      if (!v && PyErr_Occurred()) throw py::error_already_set();
      return v ? py::reinterpret_borrow<py::object>(v) : py::none();
    }
    return state_.attr("get")(p);
  }

  py::handle state_;
  const std::vector<py::handle>& params_;
  std::vector<std::unique_ptr<Entry>> loaded_;
};

// Runs step(params, grads, state access) on Python's lists and state mapping.
template <typename Step>
void run_step(const py::handle& params, const py::handle& grads, const py::handle& state, const char* op, Step&& step) {
  PyParams ps = to_params(params, op);
  TensorList gs = to_grads(grads, ps.tensors.size(), op);
  PyStates states(state, ps.objects);
  try {
    step(ps.tensors, gs, StateAccess(std::ref(states)));
  } catch (...) {
    states.write_back();  // as the C++ classes keep what was created before an error
    throw;
  }
  states.write_back();
}

void bind_functions(py::module_& m) {
  m.def(
      "sgd_step",
      [](const py::handle& params, const py::handle& grads, const py::handle& state, double lr, double momentum,
         double dampening, double weight_decay, bool nesterov, bool maximize) {
        SGDOptions o{lr, momentum, dampening, weight_decay, nesterov, maximize};
        run_step(params, grads, state, "sgd_step",
                 [&](const TensorList& p, const TensorList& g, const StateAccess& s) { sgd_step(o, p, g, s); });
      },
      py::arg("params"), py::arg("grads"), py::arg("state"), py::kw_only(), py::arg("lr"), py::arg("momentum") = 0.0,
      py::arg("dampening") = 0.0, py::arg("weight_decay") = 0.0, py::arg("nesterov") = false,
      py::arg("maximize") = false,
      "One SGD step over a parameter group (loom::optim::sgd_step): grads[i] None skips params[i]; state is the "
      "optimizer's mapping parameter -> dict (momentum_buffer)");
  m.def(
      "adam_step",
      [](const py::handle& params, const py::handle& grads, const py::handle& state, double lr, double beta1,
         double beta2, double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled) {
        AdamOptions o{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize};
        run_step(
            params, grads, state, decoupled ? "adamw_step" : "adam_step",
            [&](const TensorList& p, const TensorList& g, const StateAccess& s) { adam_step(o, decoupled, p, g, s); });
      },
      py::arg("params"), py::arg("grads"), py::arg("state"), py::kw_only(), py::arg("lr"), py::arg("beta1") = 0.9,
      py::arg("beta2") = 0.999, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("amsgrad") = false,
      py::arg("maximize") = false, py::arg("decoupled") = false,
      "One Adam (decoupled=False) or AdamW (decoupled=True) step over a parameter group (loom::optim::adam_step); "
      "state holds step, exp_avg, exp_avg_sq per parameter");
  m.def(
      "rmsprop_step",
      [](const py::handle& params, const py::handle& grads, const py::handle& state, double lr, double alpha,
         double eps, double weight_decay, double momentum, bool centered, bool maximize) {
        RMSpropOptions o{lr, alpha, eps, weight_decay, momentum, centered, maximize};
        run_step(params, grads, state, "rmsprop_step",
                 [&](const TensorList& p, const TensorList& g, const StateAccess& s) { rmsprop_step(o, p, g, s); });
      },
      py::arg("params"), py::arg("grads"), py::arg("state"), py::kw_only(), py::arg("lr"), py::arg("alpha") = 0.99,
      py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false,
      py::arg("maximize") = false,
      "One RMSprop step over a parameter group (loom::optim::rmsprop_step); state holds step, square_avg, "
      "momentum_buffer, grad_avg per parameter");

  // The scheduler formulas (nn/optim/lr_scheduler.h), one group's lr each.
  m.def("step_lr", &step_lr, py::arg("lr"), py::arg("epoch"), py::arg("step_size"), py::arg("gamma"));
  m.def("step_lr_closed_form", &step_lr_closed_form, py::arg("base_lr"), py::arg("epoch"), py::arg("step_size"),
        py::arg("gamma"));
  m.def("multistep_lr", &multistep_lr, py::arg("lr"), py::arg("epoch"), py::arg("milestones"), py::arg("gamma"));
  m.def("multistep_lr_closed_form", &multistep_lr_closed_form, py::arg("base_lr"), py::arg("epoch"),
        py::arg("milestones"), py::arg("gamma"));
  m.def("linear_lr", &linear_lr, py::arg("lr"), py::arg("epoch"), py::arg("start_factor"), py::arg("end_factor"),
        py::arg("total_iters"));
  m.def("linear_lr_closed_form", &linear_lr_closed_form, py::arg("base_lr"), py::arg("epoch"), py::arg("start_factor"),
        py::arg("end_factor"), py::arg("total_iters"));
  m.def("cosine_annealing_lr", &cosine_annealing_lr, py::arg("lr"), py::arg("base_lr"), py::arg("epoch"),
        py::arg("step_count"), py::arg("T_max"), py::arg("eta_min"));
  m.def("cosine_annealing_lr_closed_form", &cosine_annealing_lr_closed_form, py::arg("base_lr"), py::arg("epoch"),
        py::arg("T_max"), py::arg("eta_min"));
  m.def("lambda_lr", &lambda_lr, py::arg("base_lr"), py::arg("factor"));
  m.def(
      "one_cycle",
      [](int64_t step, int64_t total_steps, double pct_start, bool three_phase, bool anneal_cos, double initial_lr,
         double max_lr, double min_lr, double max_momentum, double base_momentum) {
        OneCycleValue v = one_cycle(step, total_steps, pct_start, three_phase, anneal_cos, initial_lr, max_lr, min_lr,
                                    max_momentum, base_momentum);
        return py::make_tuple(v.lr, v.momentum);
      },
      py::arg("step"), py::arg("total_steps"), py::arg("pct_start"), py::arg("three_phase"), py::arg("anneal_cos"),
      py::arg("initial_lr"), py::arg("max_lr"), py::arg("min_lr"), py::arg("max_momentum") = 0.0,
      py::arg("base_momentum") = 0.0, "(lr, momentum) of one group at `step` of the 1cycle policy");
}

void bind(py::module_& f) {
  py::module_ m = f.def_submodule(
      "_optim", "nn/optim (loom::optim): the step functions and lr formulas loom.optim uses, and the C++ classes");
  bind_functions(m);
  py::class_<Optimizer>(m, "Optimizer")
      .def("step", &Optimizer::step)
      .def("zero_grad", &Optimizer::zero_grad, py::arg("set_to_none") = true)
      .def_property_readonly("param_groups", &groups_to_python,
                             "A copy of the groups as dicts; change options with set_option")
      .def(
          "set_option",
          [](Optimizer& o, size_t group, const std::string& key, double value) {
            LOOM_CHECK_INDEX(group < o.param_groups().size(), o.name(), ".set_option: group ", group, " out of range (",
                             o.param_groups().size(), " groups)");
            o.param_groups()[group].options[key] = value;
          },
          py::arg("group"), py::arg("key"), py::arg("value"))
      .def(
          "add_param_group",
          [](Optimizer& o, const py::dict& d) {
            auto g = to_groups(py::make_tuple(d), "add_param_group");
            o.add_param_group(std::move(g.at(0)));
          },
          py::arg("param_group"))
      .def("state_dict", &Optimizer::state_dict)
      .def("load_state_dict", &Optimizer::load_state_dict, py::arg("state_dict"));

  py::class_<SGD, Optimizer>(m, "SGD").def(
      py::init([](const py::object& params, double lr, double momentum, double dampening, double weight_decay,
                  bool nesterov, bool maximize) {
        return std::make_unique<SGD>(to_groups(params, "SGD"),
                                     SGDOptions{lr, momentum, dampening, weight_decay, nesterov, maximize});
      }),
      py::arg("params"), py::arg("lr") = 1e-3, py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
      py::arg("weight_decay") = 0.0, py::arg("nesterov") = false, py::kw_only(), py::arg("maximize") = false);
  auto adam_init = [](const py::object& params, double lr, std::pair<double, double> betas, double eps,
                      double weight_decay, bool amsgrad, bool maximize) {
    return std::make_unique<Adam>(to_groups(params, "Adam"),
                                  AdamOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad, maximize});
  };
  py::class_<Adam, Optimizer>(m, "Adam").def(py::init(adam_init), py::arg("params"), py::arg("lr") = 1e-3,
                                             py::arg("betas") = std::make_pair(0.9, 0.999), py::arg("eps") = 1e-8,
                                             py::arg("weight_decay") = 0.0, py::arg("amsgrad") = false, py::kw_only(),
                                             py::arg("maximize") = false);
  py::class_<AdamW, Adam>(m, "AdamW")
      .def(py::init([](const py::object& params, double lr, std::pair<double, double> betas, double eps,
                       double weight_decay, bool amsgrad, bool maximize) {
             return std::make_unique<AdamW>(to_groups(params, "AdamW"), AdamOptions{lr, betas.first, betas.second, eps,
                                                                                    weight_decay, amsgrad, maximize});
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_pair(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 1e-2, py::arg("amsgrad") = false, py::kw_only(),
           py::arg("maximize") = false);
  py::class_<RMSprop, Optimizer>(m, "RMSprop")
      .def(py::init([](const py::object& params, double lr, double alpha, double eps, double weight_decay,
                       double momentum, bool centered, bool maximize) {
             return std::make_unique<RMSprop>(
                 to_groups(params, "RMSprop"),
                 RMSpropOptions{lr, alpha, eps, weight_decay, momentum, centered, maximize});
           }),
           py::arg("params"), py::arg("lr") = 1e-2, py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false, py::kw_only(),
           py::arg("maximize") = false);

  py::class_<LRScheduler>(m, "LRScheduler")
      .def(
          "step", [](LRScheduler& s, std::optional<int64_t> epoch) { s.step(epoch); }, py::arg("epoch") = py::none())
      .def("get_last_lr", &LRScheduler::get_last_lr)
      .def_property_readonly("last_epoch", &LRScheduler::last_epoch)
      .def_property_readonly("base_lrs", &LRScheduler::base_lrs)
      .def("state_dict", &LRScheduler::state_dict)
      .def("load_state_dict", &LRScheduler::load_state_dict, py::arg("state_dict"));
  py::class_<StepLR, LRScheduler>(m, "StepLR")
      .def(py::init<Optimizer&, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("step_size"),
           py::arg("gamma") = 0.1, py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
  py::class_<MultiStepLR, LRScheduler>(m, "MultiStepLR")
      .def(py::init<Optimizer&, std::vector<int64_t>, double, int64_t>(), py::arg("optimizer"), py::arg("milestones"),
           py::arg("gamma") = 0.1, py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
  py::class_<CosineAnnealingLR, LRScheduler>(m, "CosineAnnealingLR")
      .def(py::init<Optimizer&, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("T_max"),
           py::arg("eta_min") = 0.0, py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
  py::class_<LambdaLR, LRScheduler>(m, "LambdaLR")
      .def(py::init<Optimizer&, LambdaLR::Lambda, int64_t>(), py::arg("optimizer"), py::arg("lr_lambda"),
           py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
  py::class_<LinearLR, LRScheduler>(m, "LinearLR")
      .def(py::init<Optimizer&, double, double, int64_t, int64_t>(), py::arg("optimizer"),
           py::arg("start_factor") = 1.0 / 3, py::arg("end_factor") = 1.0, py::arg("total_iters") = 5,
           py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
  py::class_<OneCycleLR, LRScheduler>(m, "OneCycleLR")
      .def(py::init([](Optimizer& opt, double max_lr, int64_t total_steps, double pct_start,
                       const std::string& anneal_strategy, bool cycle_momentum, double base_momentum,
                       double max_momentum, double div_factor, double final_div_factor, bool three_phase) {
             LOOM_CHECK_VALUE(anneal_strategy == "cos" || anneal_strategy == "linear",
                              "OneCycleLR: anneal_strategy must by one of 'cos' or 'linear', instead got ",
                              anneal_strategy);
             OneCycleOptions o{pct_start,  anneal_strategy == "cos", cycle_momentum, base_momentum, max_momentum,
                               div_factor, final_div_factor,         three_phase};
             return std::make_unique<OneCycleLR>(opt, max_lr, total_steps, o);
           }),
           py::arg("optimizer"), py::arg("max_lr"), py::arg("total_steps"), py::arg("pct_start") = 0.3,
           py::arg("anneal_strategy") = "cos", py::arg("cycle_momentum") = true, py::arg("base_momentum") = 0.85,
           py::arg("max_momentum") = 0.95, py::arg("div_factor") = 25.0, py::arg("final_div_factor") = 1e4,
           py::arg("three_phase") = false, py::keep_alive<1, 2>());

  m.def(
      "clip_grad_norm_",
      [](const py::object& params, double max_norm, double norm_type, bool error_if_nonfinite) {
        return nn::utils::clip_grad_norm_(to_list(params, "clip_grad_norm_"), max_norm, norm_type, error_if_nonfinite);
      },
      py::arg("parameters"), py::arg("max_norm"), py::arg("norm_type") = 2.0, py::arg("error_if_nonfinite") = false);
  m.def(
      "clip_grad_value_",
      [](const py::object& params, double clip_value) {
        nn::utils::clip_grad_value_(to_list(params, "clip_grad_value_"), clip_value);
      },
      py::arg("parameters"), py::arg("clip_value"));
}

RegisterFunctional reg(&bind);

}  // namespace
}  // namespace loom::python
