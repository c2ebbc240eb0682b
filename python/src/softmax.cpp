// Tensor.softmax and Tensor.log_softmax (with PyTorch's dtype= argument).
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

void init_softmax(py::class_<Tensor>& cls) {
  cls.def(
         "softmax",
         [](const Tensor& t, int64_t dim, py::object dtype) {
           return (dtype.is_none() ? t : t.to(to_dtype(dtype))).softmax(dim);
         },
         py::arg("dim"), py::arg("dtype") = py::none(), registry_doc("softmax"))
      .def(
          "log_softmax",
          [](const Tensor& t, int64_t dim, py::object dtype) {
            return (dtype.is_none() ? t : t.to(to_dtype(dtype))).log_softmax(dim);
          },
          py::arg("dim"), py::arg("dtype") = py::none(), registry_doc("log_softmax"));
}

}  // namespace loom::python
