// loom._C._functional: layer_norm, batch_norm, cross_entropy, embedding,
// dropout (PyTorch's keyword names and defaults) and the fused optimizer
// updates _sgd_step_ / _adam_step_ that loom.optim builds on.
#include <optional>
#include <string>

#include "autograd/ops/dropout.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/optim.h"
#include "common.h"

namespace loom::python {
namespace {

Tensor opt_tensor(py::handle h, const char* op, const char* arg) {
  return h.is_none() ? Tensor() : to_tensor(h, op, arg);
}

TensorList tensor_list(py::handle h, const char* op, const char* arg) {
  TensorList out;
  if (h.is_none()) return out;
  for (auto item : py::reinterpret_borrow<py::sequence>(h)) out.push_back(to_tensor(item, op, arg));
  return out;
}

// PyTorch's legacy size_average / reduce arguments mapped onto reduction.
std::string legacy_reduction(py::handle size_average, py::handle reduce, const std::string& reduction) {
  if (size_average.is_none() && reduce.is_none()) return reduction;
  const bool avg = size_average.is_none() ? true : size_average.cast<bool>();
  const bool red = reduce.is_none() ? true : reduce.cast<bool>();
  if (!red) return "none";
  return avg ? "mean" : "sum";
}

}  // namespace

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
      py::arg("eps") = 1e-5, "Layer normalization over the trailing normalized_shape dims (fused kernels)");
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
      "Batch normalization over [N, C, *]; updates the running statistics in place when training");
  f.def(
      "cross_entropy",
      [](const py::object& input, const py::object& target, const py::object& weight, const py::object& size_average,
         int64_t ignore_index, const py::object& reduce, const std::string& reduction, double label_smoothing) {
        const char* op = "cross_entropy";
        return cross_entropy(to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                             opt_tensor(weight, op, "weight"), ignore_index,
                             legacy_reduction(size_average, reduce, reduction), label_smoothing);
      },
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("size_average") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduce") = py::none(), py::arg("reduction") = "mean",
      py::arg("label_smoothing") = 0.0, "Fused cross-entropy with class-index targets");
  f.def(
      "embedding",
      [](const py::object& input, const py::object& weight, const py::object& padding_idx, const py::object& max_norm,
         double norm_type, bool scale_grad_by_freq, bool sparse) {
        const char* op = "embedding";
        if (!max_norm.is_none() || scale_grad_by_freq || sparse)
          throw py::type_error("embedding: max_norm, scale_grad_by_freq and sparse are not supported by loom");
        std::optional<int64_t> pad;
        if (!padding_idx.is_none()) pad = to_int(padding_idx, "padding_idx");
        return embedding(to_tensor(input, op, "input"), to_tensor(weight, op, "weight"), pad);
      },
      py::arg("input"), py::arg("weight"), py::arg("padding_idx") = py::none(), py::arg("max_norm") = py::none(),
      py::arg("norm_type") = 2.0, py::arg("scale_grad_by_freq") = false, py::arg("sparse") = false,
      "Rows of weight at the integer indices of input");
  f.def(
      "dropout",
      [](const py::object& input, double p, bool training, bool inplace) {
        const char* op = "dropout";
        Tensor x = to_tensor(input, op, "input");
        Tensor y = dropout(x, p, training);
        if (inplace && !y.is_same(x)) {
          x.copy_(y);
          return x;
        }
        return y;
      },
      py::arg("input"), py::arg("p") = 0.5, py::arg("training") = true, py::arg("inplace") = false,
      "Zeroes elements with probability p (Philox mask, regenerated in backward) and scales by 1/(1-p)");
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
      py::arg("first_step") = false, "Fused in-place SGD update of a list of parameters (torch.optim.SGD's formula)");
  f.def(
      "_adam_step_",
      [](const py::object& params, const py::object& grads, const py::object& exp_avgs, const py::object& exp_avg_sqs,
         int64_t step, double lr, double beta1, double beta2, double eps, double weight_decay, bool decoupled,
         bool amsgrad) {
        const char* op = "_adam_step_";
        adam_step_(tensor_list(params, op, "params"), tensor_list(grads, op, "grads"),
                   tensor_list(exp_avgs, op, "exp_avgs"), tensor_list(exp_avg_sqs, op, "exp_avg_sqs"), step, lr, beta1,
                   beta2, eps, weight_decay, decoupled, amsgrad);
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"), py::arg("step"),
      py::arg("lr") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
      py::arg("weight_decay") = 0.0, py::arg("decoupled") = false, py::arg("amsgrad") = false,
      "Fused in-place Adam (decoupled=False) or AdamW (decoupled=True) update; step counts from 1");
});

}  // namespace loom::python
