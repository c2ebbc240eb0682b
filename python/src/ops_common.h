// Helpers shared by the Tensor-op binding files (pointwise.cpp,
// pointwise_bitwise.cpp): a Tensor-or-number right operand, with the
// NotImplemented / TypeError split of Python operators and methods.
#pragma once
#include <string>

#include "common.h"

namespace loom::python {

inline bool is_operand(py::handle h) { return py::isinstance<Tensor>(h) || is_scalar(h); }

// `a op b` where b is a Tensor or a number. Operators return NotImplemented for
// other types (Python then raises TypeError); methods raise TypeError directly.
template <typename FT, typename FS>
py::object binary(const Tensor& a, py::handle b, const char* op, bool is_operator, FT ft, FS fs) {
  if (py::isinstance<Tensor>(b)) return py::cast(ft(a, b.cast<const Tensor&>()));
  if (is_scalar(b)) return py::cast(fs(a, to_scalar(b, op)));
  if (is_operator) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  throw py::type_error(std::string(op) + "(): argument 'other' must be Tensor or Number, not " +
                       std::string(py::str(py::type::of(b).attr("__name__"))));
}

template <typename F>
py::object inplace(py::object self, py::handle b, const char* op, F f) {
  Tensor& t = self.cast<Tensor&>();
  if (!is_operand(b))
    throw py::type_error(std::string(op) + "(): argument 'other' must be Tensor or Number, not " +
                         std::string(py::str(py::type::of(b).attr("__name__"))));
  f(t, b);
  return self;
}

}  // namespace loom::python
