// Bitwise Tensor ops (bool and integer tensors): bitwise_not and ~, and
// bitwise_and / or / xor with the & | ^ operators, their reflected forms and
// the in-place forms.
#include "ops_common.h"
#include "python/ops_docs.h"

namespace loom::python {

void init_pointwise_bitwise(py::class_<Tensor>& cls) {
  cls.def("__invert__", [](const Tensor& t) { return t.bitwise_not(); })
      .def(
          "bitwise_not", [](const Tensor& t) { return t.bitwise_not(); }, registry_doc("bitwise_not"))
      .def("bitwise_not_", [](py::object s) {
        s.cast<Tensor&>().bitwise_not_();
        return s;
      });

  // ---- bitwise (bool and integer tensors); & | ^ commute, so the reflected forms are the same call ----
#define LOOM_BITWISE(name, sym)                                                                                        \
  do {                                                                                                                 \
    auto ft = [](const Tensor& x, const Tensor& y) { return x.name(y); };                                              \
    auto fs = [](const Tensor& x, const Scalar& y) { return x.name(y); };                                              \
    auto fi = [](Tensor& x, py::handle y) {                                                                            \
      if (py::isinstance<Tensor>(y)) x.name##_(y.cast<const Tensor&>());                                               \
      else x.name##_(to_scalar(y, #name "_"));                                                                         \
    };                                                                                                                 \
    cls.def(                                                                                                           \
           #name, [=](const Tensor& a, py::object b) { return binary(a, b, #name, false, ft, fs); }, py::arg("other"), \
           registry_doc(#name))                                                                                        \
        .def("__" sym "__", [=](const Tensor& a, py::object b) { return binary(a, b, #name, true, ft, fs); })          \
        .def("__r" sym "__", [=](const Tensor& a, py::object b) { return binary(a, b, #name, true, ft, fs); })         \
        .def(                                                                                                          \
            #name "_", [=](py::object s, py::object b) { return inplace(s, b, #name "_", fi); }, py::arg("other"))     \
        .def("__i" sym "__", [=](py::object s, py::object b) { return inplace(s, b, #name "_", fi); });                \
  } while (0)
  LOOM_BITWISE(bitwise_and, "and");
  LOOM_BITWISE(bitwise_or, "or");
  LOOM_BITWISE(bitwise_xor, "xor");
#undef LOOM_BITWISE
}

}  // namespace loom::python
