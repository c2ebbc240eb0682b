// loom.nn.functional.scaled_dot_product_attention with PyTorch's keywords:
// (query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None).
#include <optional>

#include "autograd/ops/attention.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_attention([](py::module_& f) {
  f.def(
      "scaled_dot_product_attention",
      [](const py::object& query, const py::object& key, const py::object& value, const py::object& attn_mask,
         double dropout_p, bool is_causal, std::optional<double> scale) {
        const char* op = "scaled_dot_product_attention";
        Tensor mask = attn_mask.is_none() ? Tensor() : to_tensor(attn_mask, op, "attn_mask");
        return scaled_dot_product_attention(to_tensor(query, op, "query"), to_tensor(key, op, "key"),
                                            to_tensor(value, op, "value"), mask, dropout_p, is_causal, scale);
      },
      py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(), py::arg("dropout_p") = 0.0,
      py::arg("is_causal") = false, py::arg("scale") = py::none(), registry_doc("attention"));
});

}  // namespace loom::python
