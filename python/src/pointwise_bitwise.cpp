// Bitwise Tensor ops (bool and integer tensors): bitwise_not and ~,
// bitwise_and / or / xor with the & | ^ operators, the shifts
// bitwise_left_shift / bitwise_right_shift with << and >>, their reflected
// and in-place forms.
#include "ops_common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

// A Python int (or bool) as a 0-d int64 tensor on t's device: the left operand of `2 << t`, which
// then takes t's integer dtype as a number would (a 0-d tensor does not widen a dimensioned one).
Tensor scalar_like(py::handle v, const Tensor& t) {
  const int64_t x = py::isinstance<py::bool_>(v) ? int64_t(v.cast<bool>()) : v.cast<int64_t>();
  return loom::full({}, Scalar(x), TensorOptions(DType::Int64, t.device()));
}

}  // namespace

void init_pointwise_bitwise(py::class_<Tensor>& cls) {
  cls.def("__invert__", [](const Tensor& t) { return t.bitwise_not(); })
      .def(
          "bitwise_not", [](const Tensor& t) { return t.bitwise_not(); }, registry_doc("bitwise_not"))
      .def("bitwise_not_", [](py::object s) {
        s.cast<Tensor&>().bitwise_not_();
        return s;
      });

  // ---- bitwise (bool and integer tensors) and shifts (integer tensors). `reflected` is `b sym a`: & | ^
  // commute, so it is the same call; << and >> shift the number, as a 0-d tensor ----
#define LOOM_BITWISE(name, sym, reflected)                                                                             \
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
        .def("__r" sym "__", reflected)                                                                                \
        .def(                                                                                                          \
            #name "_", [=](py::object s, py::object b) { return inplace(s, b, #name "_", fi); }, py::arg("other"))     \
        .def("__i" sym "__", [=](py::object s, py::object b) { return inplace(s, b, #name "_", fi); });                \
  } while (0)
#define LOOM_COMMUTES(name) [=](const Tensor& a, py::object b) { return binary(a, b, #name, true, ft, fs); }
#define LOOM_SHIFTS_NUMBER(name)                                       \
  [](const Tensor& a, py::object b) -> py::object {                    \
    if (!py::isinstance<py::int_>(b) && !py::isinstance<py::bool_>(b)) \
      return py::reinterpret_borrow<py::object>(Py_NotImplemented);    \
    return py::cast(scalar_like(b, a).name(a));                        \
  }
  LOOM_BITWISE(bitwise_and, "and", LOOM_COMMUTES(bitwise_and));
  LOOM_BITWISE(bitwise_or, "or", LOOM_COMMUTES(bitwise_or));
  LOOM_BITWISE(bitwise_xor, "xor", LOOM_COMMUTES(bitwise_xor));
  LOOM_BITWISE(bitwise_left_shift, "lshift", LOOM_SHIFTS_NUMBER(bitwise_left_shift));
  LOOM_BITWISE(bitwise_right_shift, "rshift", LOOM_SHIFTS_NUMBER(bitwise_right_shift));
#undef LOOM_SHIFTS_NUMBER
#undef LOOM_COMMUTES
#undef LOOM_BITWISE
}

}  // namespace loom::python
