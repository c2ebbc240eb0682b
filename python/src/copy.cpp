// Joining tensors: loom.cat (and its alias concat) and loom.stack.
#include <string>

#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

namespace {

TensorList to_tensor_list(py::handle seq, const char* op) {
  if (py::isinstance<Tensor>(seq) || !py::isinstance<py::sequence>(seq))
    throw py::type_error(std::string(op) + "(): argument 'tensors' must be a sequence of Tensors");
  TensorList l;
  for (auto x : py::reinterpret_borrow<py::sequence>(seq)) l.push_back(to_tensor(x, op, "tensors"));
  return l;
}

}  // namespace

void init_copy(py::module_& m) {
  m.def(
      "cat", [](py::object ts, int64_t dim) { return cat(to_tensor_list(ts, "cat"), dim); }, py::arg("tensors"),
      py::arg("dim") = 0, registry_doc("cat"));
  m.def(
      "concat", [](py::object ts, int64_t dim) { return cat(to_tensor_list(ts, "cat"), dim); }, py::arg("tensors"),
      py::arg("dim") = 0, registry_doc("cat"));
  m.def(
      "stack", [](py::object ts, int64_t dim) { return stack(to_tensor_list(ts, "stack"), dim); }, py::arg("tensors"),
      py::arg("dim") = 0, registry_doc("stack"));
}

}  // namespace loom::python
