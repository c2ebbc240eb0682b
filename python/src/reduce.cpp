// Reductions: sum, mean, prod, amax / amin, max / min (with the
// (values, indices) named tuples of a dim reduction), argmax / argmin,
// var / std (unbiased= or correction=), norm and logsumexp.
#include <algorithm>

#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

namespace {

std::pair<Tensor, Tensor> reduce_pair(const Tensor& t, int64_t dim, bool keepdim, bool is_max) {
  return is_max ? t.max(dim, keepdim) : t.min(dim, keepdim);
}

py::object minmax(const Tensor& t, py::object dim, bool keepdim, bool is_max) {
  static py::handle max_t = py::module_::import("collections").attr("namedtuple")("max", "values indices").release();
  static py::handle min_t = py::module_::import("collections").attr("namedtuple")("min", "values indices").release();
  if (dim.is_none()) return py::cast(is_max ? t.max() : t.min());
  if (py::isinstance<Tensor>(dim)) {
    const Tensor& o = dim.cast<const Tensor&>();
    return py::cast(is_max ? t.maximum(o) : t.minimum(o));
  }
  auto [v, i] = reduce_pair(t, to_int(dim, "dim"), keepdim, is_max);
  return (is_max ? max_t : min_t)(v, i);
}

bool unbiased_from(py::object unbiased, py::object correction, double* scale, const Tensor& t, const Dims& dims) {
  *scale = 1.0;
  if (!correction.is_none()) {
    double c = correction.cast<double>();
    if (c == 0) return false;
    if (c == 1) return true;
    int64_t n = 1;
    if (dims.empty()) n = t.numel();
    else
      for (auto d : dims) n *= t.dim() == 0 ? 1 : t.size(d);  // a 0-d tensor reduces over its one element
    *scale = static_cast<double>(n) / std::max(0.0, n - c);
    return false;
  }
  return unbiased.is_none() ? true : unbiased.cast<bool>();
}

Tensor var_impl(const Tensor& t, py::object dim, py::object unbiased, bool keepdim, py::object correction,
                bool is_std) {
  Dims dims = to_dims(dim);
  double scale;
  bool ub = unbiased_from(unbiased, correction, &scale, t, dims);
  Tensor v = t.var(dims, ub, keepdim);
  if (scale != 1.0) v = v * Scalar(scale);
  return is_std ? (scale != 1.0 ? v.sqrt() : t.std(dims, ub, keepdim)) : v;
}

}  // namespace

void init_reduce(py::class_<Tensor>& cls) {
  // ---- reductions ----
  cls.def(
         "sum",
         [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
           if (!dtype.is_none()) return t.sum(to_dims(dim), keepdim, to_dtype(dtype));
           return t.sum(to_dims(dim), keepdim);
         },
         py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none(),
         registry_doc("sum"))
      .def(
          "mean",
          [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
            Tensor x = dtype.is_none() ? t : t.to(to_dtype(dtype));
            return x.mean(to_dims(dim), keepdim);
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none(),
          registry_doc("mean"))
      .def(
          "prod", [](const Tensor& t, py::object dim, bool keepdim) { return t.prod(to_dims(dim), keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("prod"))
      .def(
          "amax", [](const Tensor& t, py::object dim, bool keepdim) { return t.amax(to_dims(dim), keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("amax"))
      .def(
          "amin", [](const Tensor& t, py::object dim, bool keepdim) { return t.amin(to_dims(dim), keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("amin"))
      .def(
          "max", [](const Tensor& t, py::object dim, bool keepdim) { return minmax(t, dim, keepdim, true); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("max_dim"))
      .def(
          "min", [](const Tensor& t, py::object dim, bool keepdim) { return minmax(t, dim, keepdim, false); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("min_dim"))
      .def(
          "argmax", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return t.argmax(dim, keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("argmax"))
      .def(
          "argmin", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return t.argmin(dim, keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("argmin"))
      .def(
          "var",
          [](const Tensor& t, py::object dim, py::object unbiased, bool keepdim, py::object correction) {
            return var_impl(t, dim, unbiased, keepdim, correction, false);
          },
          py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("correction") = py::none(), registry_doc("var"))
      .def(
          "std",
          [](const Tensor& t, py::object dim, py::object unbiased, bool keepdim, py::object correction) {
            return var_impl(t, dim, unbiased, keepdim, correction, true);
          },
          py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("correction") = py::none(), registry_doc("std"))
      .def(
          "norm",
          [](const Tensor& t, py::object p, py::object dim, bool keepdim) {
            double pv = 2.0;
            if (py::isinstance<py::str>(p)) {
              if (p.cast<std::string>() != "fro") throw py::value_error("norm: unsupported p " + p.cast<std::string>());
            } else if (!p.is_none()) {
              pv = p.cast<double>();
            }
            return t.norm(pv, to_dims(dim), keepdim);
          },
          py::arg("p") = 2.0, py::arg("dim") = py::none(), py::arg("keepdim") = false, registry_doc("norm"))
      .def(
          "logsumexp", [](const Tensor& t, py::object dim, bool keepdim) { return t.logsumexp(to_dims(dim), keepdim); },
          py::arg("dim"), py::arg("keepdim") = false, registry_doc("logsumexp"));
}

}  // namespace loom::python
