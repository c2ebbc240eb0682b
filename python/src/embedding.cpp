// loom._C._functional: embedding, embedding_bag (PyTorch's keyword names and
// defaults).
#include <optional>
#include <string>

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
  f.def(
      "embedding_bag",
      [](const py::object& input, const py::object& weight, const py::object& offsets, const py::object& max_norm,
         double norm_type, bool scale_grad_by_freq, const std::string& mode, bool sparse,
         const py::object& per_sample_weights, bool include_last_offset, const py::object& padding_idx) {
        const char* op = "embedding_bag";
        if (!max_norm.is_none() || scale_grad_by_freq || sparse)
          throw py::type_error("embedding_bag: max_norm, scale_grad_by_freq and sparse are not supported by loom");
        std::optional<int64_t> pad;
        if (!padding_idx.is_none()) pad = to_int(padding_idx, "padding_idx");
        return embedding_bag(to_tensor(input, op, "input"), to_tensor(weight, op, "weight"),
                             opt_tensor(offsets, op, "offsets"), mode,
                             opt_tensor(per_sample_weights, op, "per_sample_weights"), include_last_offset, pad);
      },
      py::arg("input"), py::arg("weight"), py::arg("offsets") = py::none(), py::arg("max_norm") = py::none(),
      py::arg("norm_type") = 2.0, py::arg("scale_grad_by_freq") = false, py::arg("mode") = "mean",
      py::arg("sparse") = false, py::arg("per_sample_weights") = py::none(), py::arg("include_last_offset") = false,
      py::arg("padding_idx") = py::none(), registry_doc("embedding_bag"));
});

}  // namespace loom::python
