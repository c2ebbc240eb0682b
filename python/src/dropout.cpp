// loom._C._functional: dropout (PyTorch's keyword names and defaults).
#include "autograd/ops/dropout.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_dropout([](py::module_& f) {
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
      registry_doc("dropout"));
});

}  // namespace loom::python
