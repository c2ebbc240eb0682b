// Binds the C++ optimizers, schedulers and gradient clipping of nn/optim as
// loom._C._functional._optim (registered through RegisterFunctional, so
// module.cpp is untouched). loom.optim's Python classes follow PyTorch's API
// on the fused steps directly; these bindings expose the C++ classes
// themselves (used from Python for checks and by C++-trained checkpoints:
// state_dict() is the flat safetensors-ready map of nn/optim/optimizer.h).
#include "common.h"

#include <pybind11/functional.h>

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

void bind(py::module_& f) {
  py::module_ m = f.def_submodule("_optim", "The C++ optimizers of nn/optim (loom::optim)");
  py::class_<Optimizer>(m, "Optimizer")
      .def("step", &Optimizer::step)
      .def("zero_grad", &Optimizer::zero_grad, py::arg("set_to_none") = true)
      .def_property_readonly("param_groups", &groups_to_python,
                             "A copy of the groups as dicts; change options with set_option")
      .def(
          "set_option",
          [](Optimizer& o, size_t group, const std::string& key, double value) {
            LOOM_CHECK_INDEX(group < o.param_groups().size(), o.name(), ".set_option: group ", group,
                             " out of range (", o.param_groups().size(), " groups)");
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
                  bool nesterov) {
        return std::make_unique<SGD>(to_groups(params, "SGD"),
                                     SGDOptions{lr, momentum, dampening, weight_decay, nesterov});
      }),
      py::arg("params"), py::arg("lr") = 1e-3, py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
      py::arg("weight_decay") = 0.0, py::arg("nesterov") = false);
  auto adam_init = [](const py::object& params, double lr, std::pair<double, double> betas, double eps,
                      double weight_decay, bool amsgrad) {
    return std::make_unique<Adam>(to_groups(params, "Adam"),
                                  AdamOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad});
  };
  py::class_<Adam, Optimizer>(m, "Adam").def(py::init(adam_init), py::arg("params"), py::arg("lr") = 1e-3,
                                             py::arg("betas") = std::make_pair(0.9, 0.999), py::arg("eps") = 1e-8,
                                             py::arg("weight_decay") = 0.0, py::arg("amsgrad") = false);
  py::class_<AdamW, Adam>(m, "AdamW")
      .def(py::init([](const py::object& params, double lr, std::pair<double, double> betas, double eps,
                       double weight_decay, bool amsgrad) {
             return std::make_unique<AdamW>(to_groups(params, "AdamW"),
                                            AdamOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad});
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_pair(0.9, 0.999),
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 1e-2, py::arg("amsgrad") = false);
  py::class_<RMSprop, Optimizer>(m, "RMSprop")
      .def(py::init([](const py::object& params, double lr, double alpha, double eps, double weight_decay,
                       double momentum, bool centered) {
             return std::make_unique<RMSprop>(to_groups(params, "RMSprop"),
                                              RMSpropOptions{lr, alpha, eps, weight_decay, momentum, centered});
           }),
           py::arg("params"), py::arg("lr") = 1e-2, py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false);

  py::class_<LRScheduler>(m, "LRScheduler")
      .def("step", &LRScheduler::step)
      .def("get_last_lr", &LRScheduler::get_last_lr)
      .def_property_readonly("last_epoch", &LRScheduler::last_epoch)
      .def_property_readonly("base_lrs", &LRScheduler::base_lrs)
      .def("state_dict", &LRScheduler::state_dict)
      .def("load_state_dict", &LRScheduler::load_state_dict, py::arg("state_dict"));
  py::class_<StepLR, LRScheduler>(m, "StepLR")
      .def(py::init<Optimizer&, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("step_size"),
           py::arg("gamma") = 0.1, py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
  py::class_<MultiStepLR, LRScheduler>(m, "MultiStepLR")
      .def(py::init<Optimizer&, std::vector<int64_t>, double, int64_t>(), py::arg("optimizer"),
           py::arg("milestones"), py::arg("gamma") = 0.1, py::arg("last_epoch") = -1, py::keep_alive<1, 2>());
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
             OneCycleOptions o{pct_start,     anneal_strategy == "cos", cycle_momentum,  base_momentum,
                               max_momentum,  div_factor,               final_div_factor, three_phase};
             return std::make_unique<OneCycleLR>(opt, max_lr, total_steps, o);
           }),
           py::arg("optimizer"), py::arg("max_lr"), py::arg("total_steps"), py::arg("pct_start") = 0.3,
           py::arg("anneal_strategy") = "cos", py::arg("cycle_momentum") = true, py::arg("base_momentum") = 0.85,
           py::arg("max_momentum") = 0.95, py::arg("div_factor") = 25.0, py::arg("final_div_factor") = 1e4,
           py::arg("three_phase") = false, py::keep_alive<1, 2>());

  m.def(
      "clip_grad_norm_",
      [](const py::object& params, double max_norm, double norm_type, bool error_if_nonfinite) {
        return nn::utils::clip_grad_norm_(to_list(params, "clip_grad_norm_"), max_norm, norm_type,
                                          error_if_nonfinite);
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
