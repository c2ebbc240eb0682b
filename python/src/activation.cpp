// loom._C._functional: the activations of autograd/ops/activation.h (PyTorch's keyword names and
// defaults; loom.nn.functional adds the inplace= forms).
#include "autograd/ops/activation.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_activation([](py::module_& f) {
  using py::arg;
  f.def("leaky_relu", &leaky_relu, arg("input"), arg("negative_slope") = 0.01, registry_doc("leaky_relu"));
  f.def("elu", &elu, arg("input"), arg("alpha") = 1.0, registry_doc("elu"));
  f.def("celu", &celu, arg("input"), arg("alpha") = 1.0, registry_doc("celu"));
  f.def("selu", &selu, arg("input"), registry_doc("selu"));
  f.def("softplus", &softplus, arg("input"), arg("beta") = 1.0, arg("threshold") = 20.0, registry_doc("softplus"));
  f.def("hardtanh", &hardtanh, arg("input"), arg("min_val") = -1.0, arg("max_val") = 1.0, registry_doc("hardtanh"));
  f.def("hardsigmoid", &hardsigmoid, arg("input"), registry_doc("hardsigmoid"));
  f.def("hardswish", &hardswish, arg("input"), registry_doc("hardswish"));
  f.def("mish", &mish, arg("input"), registry_doc("mish"));
  f.def("logsigmoid", &logsigmoid, arg("input"), registry_doc("logsigmoid"));
  f.def("softsign", &softsign, arg("input"), registry_doc("softsign"));
  f.def("tanhshrink", &tanhshrink, arg("input"), registry_doc("tanhshrink"));
  f.def("hardshrink", &hardshrink, arg("input"), arg("lambd") = 0.5, registry_doc("hardshrink"));
  f.def("softshrink", &softshrink, arg("input"), arg("lambd") = 0.5, registry_doc("softshrink"));
  f.def("threshold", &threshold, arg("input"), arg("threshold"), arg("value"), registry_doc("threshold"));
  f.def("nan_to_num", &nan_to_num, arg("input"), arg("nan") = 0.0, arg("posinf") = py::none(),
        arg("neginf") = py::none(), registry_doc("nan_to_num"));
});

}  // namespace loom::python
