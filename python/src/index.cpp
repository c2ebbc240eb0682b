// Index ops: index_select, gather, scatter_add(_), scatter_reduce(_), index_add(_), index_copy(_),
// index_fill(_) (a number or a 0-d tensor value), masked_select, nonzero (as_tuple=) and loom.one_hot.
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
      .def(
          "index_add",
          [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, py::handle alpha) {
            return t.index_add(dim, index, source, to_scalar(alpha, "index_add"));
          },
          py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1,
          registry_doc("index_add"))
      .def(
          "index_add_",
          [](py::object s, int64_t dim, const Tensor& index, const Tensor& source, py::handle alpha) {
            s.cast<Tensor&>().index_add_(dim, index, source, to_scalar(alpha, "index_add_"));
            return s;
          },
          py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1)
      .def("index_copy", &Tensor::index_copy, py::arg("dim"), py::arg("index"), py::arg("source"),
           registry_doc("index_copy"))
      .def(
          "index_copy_",
          [](py::object s, int64_t dim, const Tensor& index, const Tensor& source) {
            s.cast<Tensor&>().index_copy_(dim, index, source);
            return s;
          },
          py::arg("dim"), py::arg("index"), py::arg("source"))
      .def(
          "index_fill",
          [](const Tensor& t, int64_t dim, const Tensor& index, py::handle value) {
            if (py::isinstance<Tensor>(value)) return t.index_fill(dim, index, value.cast<const Tensor&>());
            Scalar v = to_scalar(value, "index_fill");
            check_fits(v, t.dtype(), "index_fill");
            return t.index_fill(dim, index, v);
          },
          py::arg("dim"), py::arg("index"), py::arg("value"), registry_doc("index_fill"))
      .def(
          "index_fill_",
          [](py::object s, int64_t dim, const Tensor& index, py::handle value) {
            Tensor& t = s.cast<Tensor&>();
            if (py::isinstance<Tensor>(value)) {
              t.index_fill_(dim, index, value.cast<const Tensor&>());
              return s;
            }
            Scalar v = to_scalar(value, "index_fill_");
            check_fits(v, t.dtype(), "index_fill_");
            t.index_fill_(dim, index, v);
            return s;
          },
          py::arg("dim"), py::arg("index"), py::arg("value"))
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
