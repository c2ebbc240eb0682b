// Matrix products: Tensor.matmul / mm / bmm, the @ operator (with its
// reflected form) and loom.matmul; each releases the GIL while it runs.
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

void init_matmul(py::module_& m, py::class_<Tensor>& cls) {
  cls.def(
         "matmul",
         [](const Tensor& a, const Tensor& b) {
           py::gil_scoped_release g;
           return a.matmul(b);
         },
         registry_doc("matmul"))
      .def("mm",
           [](const Tensor& a, const Tensor& b) {
             py::gil_scoped_release g;
             return a.mm(b);
           })
      .def("bmm",
           [](const Tensor& a, const Tensor& b) {
             py::gil_scoped_release g;
             return a.bmm(b);
           })
      .def("__matmul__",
           [](const Tensor& a, py::object b) -> py::object {
             if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
             Tensor o = b.cast<Tensor>(), r;
             {
               py::gil_scoped_release g;
               r = a.matmul(o);
             }
             return py::cast(r);
           })
      .def("__rmatmul__", [](const Tensor& a, py::object b) -> py::object {
        if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        return py::cast(b.cast<const Tensor&>().matmul(a));
      });
  m.def(
      "matmul",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release g;
        return matmul(a, b);
      },
      py::arg("input"), py::arg("other"), registry_doc("matmul"));
}

}  // namespace loom::python
