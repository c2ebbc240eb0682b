// loom._C._functional: the fused in-place optimizer updates _sgd_step_ and
// _adam_step_ of autograd/ops/optim.h (lists of parameters, gradients and
// state tensors). The optimizer and scheduler classes of nn/optim are bound
// in nn_optim.cpp.
#include <string>

#include "autograd/ops/optim.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

// The registry's docstring of optim_step, then what is particular to one update.
std::string optim_doc(const char* particular) { return std::string(registry_doc("optim_step")) + "\n\n" + particular; }

TensorList tensor_list(py::handle h, const char* op, const char* arg) {
  TensorList out;
  if (h.is_none()) return out;
  for (auto item : py::reinterpret_borrow<py::sequence>(h)) out.push_back(to_tensor(item, op, arg));
  return out;
}

}  // namespace

static RegisterFunctional reg_optim([](py::module_& f) {
  f.def(
      "_sgd_step_",
      [](const py::object& params, const py::object& grads, const py::object& momentum_buffers, double lr,
         double momentum, double dampening, bool nesterov, double weight_decay, bool first_step) {
        const char* op = "_sgd_step_";
        sgd_step_(tensor_list(params, op, "params"), tensor_list(grads, op, "grads"),
                  tensor_list(momentum_buffers, op, "momentum_buffers"), lr, momentum, dampening, nesterov,
                  weight_decay, first_step);
      },
      py::arg("params"), py::arg("grads"), py::arg("momentum_buffers") = py::none(), py::arg("lr") = 1e-3,
      py::arg("momentum") = 0.0, py::arg("dampening") = 0.0, py::arg("nesterov") = false, py::arg("weight_decay") = 0.0,
      py::arg("first_step") = false,
      optim_doc("Fused in-place SGD update of a list of parameters (torch.optim.SGD's formula)").c_str());
  f.def(
      "_adam_step_",
      [](const py::object& params, const py::object& grads, const py::object& exp_avgs, const py::object& exp_avg_sqs,
         int64_t step, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled,
         bool amsgrad, const py::object& max_exp_avg_sqs) {
        const char* op = "_adam_step_";
        adam_step_(tensor_list(params, op, "params"), tensor_list(grads, op, "grads"),
                   tensor_list(exp_avgs, op, "exp_avgs"), tensor_list(exp_avg_sqs, op, "exp_avg_sqs"), step, lr, beta1,
                   beta2, eps, weight_decay, decoupled, amsgrad,
                   max_exp_avg_sqs.is_none() ? TensorList{} : tensor_list(max_exp_avg_sqs, op, "max_exp_avg_sqs"));
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"), py::arg("step"),
      py::arg("lr") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
      py::arg("weight_decay") = 0.0, py::arg("decoupled") = false, py::arg("amsgrad") = false,
      py::arg("max_exp_avg_sqs") = py::none(),
      optim_doc("Fused in-place Adam (decoupled=False) or AdamW (decoupled=True) update; step counts from 1").c_str());
});

}  // namespace loom::python
