// Index ops: index_select, gather, scatter_add(_), scatter_reduce(_), masked_select,
// nonzero (as_tuple=) and loom.one_hot.
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

void init_index(py::module_& m, py::class_<Tensor>& cls) {
  cls.def("index_select", &Tensor::index_select, py::arg("dim"), py::arg("index"), registry_doc("index_select"))
      .def("gather", &Tensor::gather, py::arg("dim"), py::arg("index"), registry_doc("gather"))
      .def("scatter_add", &Tensor::scatter_add, py::arg("dim"), py::arg("index"), py::arg("src"),
           registry_doc("scatter_add"))
      .def(
          "scatter_add_",
          [](py::object s, int64_t dim, const Tensor& index, const Tensor& src) {
            s.cast<Tensor&>().scatter_add_(dim, index, src);
            return s;
          },
          py::arg("dim"), py::arg("index"), py::arg("src"))
      .def("scatter_reduce", &Tensor::scatter_reduce, py::arg("dim"), py::arg("index"), py::arg("src"),
           py::arg("reduce"), py::kw_only(), py::arg("include_self") = true, registry_doc("scatter_reduce"))
      .def(
          "scatter_reduce_",
          [](py::object s, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
             bool include_self) {
            s.cast<Tensor&>().scatter_reduce_(dim, index, src, reduce, include_self);
            return s;
          },
          py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"), py::kw_only(),
          py::arg("include_self") = true)
      .def("masked_select", &Tensor::masked_select, py::arg("mask"))
      .def(
          "nonzero",
          [](const Tensor& t, bool as_tuple) -> py::object {
            Tensor nz = t.nonzero();
            if (!as_tuple) return py::cast(nz);
            py::tuple r(t.dim());
            for (int64_t d = 0; d < t.dim(); ++d) r[d] = py::cast(nz.select(1, d));
            return std::move(r);
          },
          py::kw_only(), py::arg("as_tuple") = false, registry_doc("nonzero"));
  m.def("one_hot", &one_hot, py::arg("tensor"), py::arg("num_classes") = -1, registry_doc("one_hot"));
}

}  // namespace loom::python
