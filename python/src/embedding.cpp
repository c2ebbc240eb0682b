// loom._C._functional: embedding (PyTorch's keyword names and defaults).
#include <optional>

#include "autograd/ops/embedding.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_embedding([](py::module_& f) {
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
      registry_doc("embedding"));
});

}  // namespace loom::python
