// loom._C._functional: layer_norm, group_norm and batch_norm (PyTorch's keyword names and
// defaults). cross_entropy is bound in loss.cpp, the fused optimizer updates
// _sgd_step_ / _adam_step_ in optim.cpp.
#include "autograd/ops/norm.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_norm([](py::module_& f) {
  f.def(
      "layer_norm",
      [](const py::object& input, const py::object& normalized_shape, const py::object& weight, const py::object& bias,
         double eps) {
        const char* op = "layer_norm";
        return layer_norm(to_tensor(input, op, "input"), to_dims(normalized_shape), opt_tensor(weight, op, "weight"),
                          opt_tensor(bias, op, "bias"), eps);
      },
      py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
      py::arg("eps") = 1e-5, registry_doc("layer_norm"));
  f.def(
      "group_norm",
      [](const py::object& input, int64_t num_groups, const py::object& weight, const py::object& bias, double eps) {
        const char* op = "group_norm";
        return group_norm(to_tensor(input, op, "input"), num_groups, opt_tensor(weight, op, "weight"),
                          opt_tensor(bias, op, "bias"), eps);
      },
      py::arg("input"), py::arg("num_groups"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
      py::arg("eps") = 1e-5, registry_doc("group_norm"));
  f.def(
      "batch_norm",
      [](const py::object& input, const py::object& running_mean, const py::object& running_var,
         const py::object& weight, const py::object& bias, bool training, double momentum, double eps) {
        const char* op = "batch_norm";
        return batch_norm(to_tensor(input, op, "input"), opt_tensor(running_mean, op, "running_mean"),
                          opt_tensor(running_var, op, "running_var"), opt_tensor(weight, op, "weight"),
                          opt_tensor(bias, op, "bias"), training, momentum, eps);
      },
      py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
      py::arg("bias") = py::none(), py::arg("training") = false, py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
      registry_doc("batch_norm"));
});

}  // namespace loom::python
