// Scans and sorts: cumsum / cumprod (dtype=), cummax / cummin, logcumsumexp, sort, argsort
// and topk, with the (values, indices) named tuples PyTorch returns; _searchsorted (loom.searchsorted and
// loom.bucketize in python/loom/_composite.py take PyTorch's arguments around it).
#include <map>
#include <string>

#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

namespace {

py::object named_pair(const char* name, const std::pair<Tensor, Tensor>& p) {
  // One tuple type per op, made once (a fresh type per call would defeat isinstance) and
  // never released (the interpreter may be gone when statics are destroyed).
  static auto* types = new std::map<std::string, py::handle>();
  auto it = types->find(name);
  if (it == types->end()) {
    py::object make = py::module_::import("collections").attr("namedtuple");
    it = types->emplace(name, make(name, "values indices").release()).first;
  }
  return it->second(p.first, p.second);
}

}  // namespace

void init_sort(py::module_& m, py::class_<Tensor>& cls) {
  m.def(
      "_searchsorted",
      [](const Tensor& sorted_sequence, const Tensor& values, bool right) {
        return searchsorted(sorted_sequence, values, right);
      },
      py::arg("sorted_sequence"), py::arg("values"), py::arg("right") = false, registry_doc("searchsorted"));
  cls.def(
         "cumsum", [](const Tensor& t, int64_t dim, py::object dtype) { return t.cumsum(dim, to_dtype_opt(dtype)); },
         py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none(), registry_doc("cumsum"))
      .def(
          "cumprod", [](const Tensor& t, int64_t dim, py::object dtype) { return t.cumprod(dim, to_dtype_opt(dtype)); },
          py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none(), registry_doc("cumprod"))
      .def("logcumsumexp", &Tensor::logcumsumexp, py::arg("dim"), registry_doc("logcumsumexp"))
      .def(
          "cummax", [](const Tensor& t, int64_t dim) { return named_pair("cummax", t.cummax(dim)); }, py::arg("dim"),
          registry_doc("cummax"))
      .def(
          "cummin", [](const Tensor& t, int64_t dim) { return named_pair("cummin", t.cummin(dim)); }, py::arg("dim"),
          registry_doc("cummin"))
      .def(
          "sort",
          [](const Tensor& t, int64_t dim, bool descending, bool stable) {
            return named_pair("sort", t.sort(dim, descending, stable));
          },
          py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false,
          registry_doc("sort"))
      .def("argsort", &Tensor::argsort, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
           py::arg("stable") = false, registry_doc("argsort"))
      .def(
          "topk",
          [](const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted) {
            return named_pair("topk", t.topk(k, dim, largest, sorted));
          },
          py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true, registry_doc("topk"));
}

}  // namespace loom::python
