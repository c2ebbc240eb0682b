// Elementwise ops, Python operators (with reflected and in-place forms),
// reductions, linear algebra, softmax, index ops and the free functions
// (cat, stack, where, matmul, one_hot).
#include "common.h"
#include "core/ops_functions.h"

namespace loom::python {

namespace {

bool is_operand(py::handle h) { return py::isinstance<Tensor>(h) || is_scalar(h); }

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

Tensor clamp_impl(const Tensor& t, py::object min, py::object max) {
  if (min.is_none() && max.is_none())
    throw std::runtime_error("torch.clamp: At least one of 'min' or 'max' must not be None");
  if (py::isinstance<Tensor>(min) || py::isinstance<Tensor>(max)) {
    Tensor lo = min.is_none() ? Tensor() : to_tensor_like(min, t, "clamp");
    Tensor hi = max.is_none() ? Tensor() : to_tensor_like(max, t, "clamp");
    return t.clamp(lo, hi);
  }
  std::optional<Scalar> lo, hi;
  if (!min.is_none()) lo = to_scalar(min, "clamp");
  if (!max.is_none()) hi = to_scalar(max, "clamp");
  return t.clamp(lo, hi);
}

Tensor where_impl(const Tensor& cond, py::object a, py::object b) {
  if (py::isinstance<Tensor>(a) && py::isinstance<Tensor>(b))
    return where(cond, a.cast<const Tensor&>(), b.cast<const Tensor&>());
  if (py::isinstance<Tensor>(a)) return where(cond, a.cast<const Tensor&>(), to_scalar(b, "where"));
  if (py::isinstance<Tensor>(b)) return where(cond, to_scalar(a, "where"), b.cast<const Tensor&>());
  Scalar sa = to_scalar(a, "where"), sb = to_scalar(b, "where");
  DType dt = promote_types(sa.default_dtype(), sb.default_dtype());
  return where(cond, scalar_tensor(sa, TensorOptions(dt, cond.device())), sb);
}

TensorList to_tensor_list(py::handle seq, const char* op) {
  if (py::isinstance<Tensor>(seq) || !py::isinstance<py::sequence>(seq))
    throw py::type_error(std::string(op) + "(): argument 'tensors' must be a sequence of Tensors");
  TensorList l;
  for (auto x : py::reinterpret_borrow<py::sequence>(seq)) l.push_back(to_tensor(x, op, "tensors"));
  return l;
}

}  // namespace

namespace {

void bind_registry(py::module_& m, py::class_<Tensor>& cls) {
  cls.attr("__array_priority__") = 1000;

  // ---- the ops of the registry (core/ops.toml, binding = "generated"), with docstrings ----
#include "python/ops_bindings.inc"
}

void bind_unary(py::module_& m, py::class_<Tensor>& cls) {
  // ---- unary aliases and operators ----
  cls.def("negative", [](const Tensor& t) { return t.neg(); })
      .def("absolute", [](const Tensor& t) { return t.abs(); })
      .def("__neg__", [](const Tensor& t) { return t.neg(); })
      .def("__pos__", [](const Tensor& t) { return t; })
      .def("__abs__", [](const Tensor& t) { return t.abs(); })
      .def("__invert__", [](const Tensor& t) { return t.bitwise_not(); })
      .def("bitwise_not", [](const Tensor& t) { return t.bitwise_not(); })
      .def("bitwise_not_",
           [](py::object s) {
             s.cast<Tensor&>().bitwise_not_();
             return s;
           })
      .def("relu_",
           [](py::object s) {
             s.cast<Tensor&>().relu_();
             return s;
           })
      .def("neg_",
           [](py::object s) {
             s.cast<Tensor&>().neg_();
             return s;
           })
      .def("exp_", [](py::object s) {
        s.cast<Tensor&>().exp_();
        return s;
      });
}

void bind_binary(py::module_& m, py::class_<Tensor>& cls) {
  // ---- binary methods and operators ----
  auto add_t = [](const Tensor& a, const Tensor& b) { return a.add(b); };
  auto add_s = [](const Tensor& a, const Scalar& b) { return a.add(b); };
  auto sub_t = [](const Tensor& a, const Tensor& b) { return a.sub(b); };
  auto sub_s = [](const Tensor& a, const Scalar& b) { return a.sub(b); };
  auto mul_t = [](const Tensor& a, const Tensor& b) { return a.mul(b); };
  auto mul_s = [](const Tensor& a, const Scalar& b) { return a.mul(b); };
  auto div_t = [](const Tensor& a, const Tensor& b) { return a.div(b); };
  auto div_s = [](const Tensor& a, const Scalar& b) { return a.div(b); };
  auto pow_t = [](const Tensor& a, const Tensor& b) { return a.pow(b); };
  auto pow_s = [](const Tensor& a, const Scalar& b) { return a.pow(b); };

  cls.def(
         "add",
         [=](const Tensor& a, py::object b, py::object alpha) {
           if (!alpha.is_none() && py::isinstance<Tensor>(b))
             return py::cast(a.add(b.cast<const Tensor&>(), to_scalar(alpha, "add")));
           if (!alpha.is_none()) return py::cast(a.add(to_tensor_like(b, a, "add"), to_scalar(alpha, "add")));
           return binary(a, b, "add", false, add_t, add_s);
         },
         py::arg("other"), py::kw_only(), py::arg("alpha") = py::none())
      .def(
          "sub",
          [=](const Tensor& a, py::object b, py::object alpha) {
            if (!alpha.is_none()) return py::cast(a.sub(to_tensor_like(b, a, "sub"), to_scalar(alpha, "sub")));
            return binary(a, b, "sub", false, sub_t, sub_s);
          },
          py::arg("other"), py::kw_only(), py::arg("alpha") = py::none())
      .def("mul", [=](const Tensor& a, py::object b) { return binary(a, b, "mul", false, mul_t, mul_s); })
      .def("div", [=](const Tensor& a, py::object b) { return binary(a, b, "div", false, div_t, div_s); })
      .def("true_divide", [=](const Tensor& a, py::object b) { return binary(a, b, "div", false, div_t, div_s); })
      .def("pow", [=](const Tensor& a, py::object b) { return binary(a, b, "pow", false, pow_t, pow_s); })
      .def("__add__", [=](const Tensor& a, py::object b) { return binary(a, b, "add", true, add_t, add_s); })
      .def("__radd__", [=](const Tensor& a, py::object b) { return binary(a, b, "add", true, add_t, add_s); })
      .def("__sub__", [=](const Tensor& a, py::object b) { return binary(a, b, "sub", true, sub_t, sub_s); })
      .def("__rsub__",
           [=](const Tensor& a, py::object b) {
             return binary(
                 a, b, "sub", true, [](const Tensor& x, const Tensor& y) { return y.sub(x); },
                 [](const Tensor& x, const Scalar& y) { return y - x; });
           })
      .def("__mul__", [=](const Tensor& a, py::object b) { return binary(a, b, "mul", true, mul_t, mul_s); })
      .def("__rmul__", [=](const Tensor& a, py::object b) { return binary(a, b, "mul", true, mul_t, mul_s); })
      .def("__truediv__", [=](const Tensor& a, py::object b) { return binary(a, b, "div", true, div_t, div_s); })
      .def("__rtruediv__",
           [=](const Tensor& a, py::object b) {
             return binary(
                 a, b, "div", true, [](const Tensor& x, const Tensor& y) { return y.div(x); },
                 [](const Tensor& x, const Scalar& y) { return y / x; });
           })
      .def("__pow__", [=](const Tensor& a, py::object b) { return binary(a, b, "pow", true, pow_t, pow_s); })
      .def("__rpow__",
           [=](const Tensor& a, py::object b) {
             return binary(
                 a, b, "pow", true, [](const Tensor& x, const Tensor& y) { return y.pow(x); },
                 [](const Tensor& x, const Scalar& y) {
                   return scalar_tensor(y, TensorOptions(promote_with_scalar(x.dtype(), y), x.device())).pow(x);
                 });
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

#define LOOM_CMP(name, dunder)                                                          \
  cls.def(#name, [](const Tensor& a, py::object b) {                                    \
    return binary(                                                                      \
        a, b, #name, false, [](const Tensor& x, const Tensor& y) { return x.name(y); }, \
        [](const Tensor& x, const Scalar& y) { return x.name(y); });                    \
  });                                                                                   \
  cls.def(dunder, [](const Tensor& a, py::object b) {                                   \
    return binary(                                                                      \
        a, b, #name, true, [](const Tensor& x, const Tensor& y) { return x.name(y); },  \
        [](const Tensor& x, const Scalar& y) { return x.name(y); });                    \
  })
  LOOM_CMP(eq, "__eq__");
  LOOM_CMP(ne, "__ne__");
  LOOM_CMP(lt, "__lt__");
  LOOM_CMP(le, "__le__");
  LOOM_CMP(gt, "__gt__");
  LOOM_CMP(ge, "__ge__");
#undef LOOM_CMP
}

void bind_bitwise(py::module_& m, py::class_<Tensor>& cls) {
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
           #name, [=](const Tensor& a, py::object b) { return binary(a, b, #name, false, ft, fs); }, py::arg("other")) \
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

void bind_inplace(py::module_& m, py::class_<Tensor>& cls) {
  // ---- in-place ----
  auto iadd = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.add_(b.cast<const Tensor&>());
    else t.add_(to_scalar(b, "add_"));
  };
  auto isub = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.sub_(b.cast<const Tensor&>());
    else t.sub_(to_scalar(b, "sub_"));
  };
  auto imul = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.mul_(b.cast<const Tensor&>());
    else t.mul_(to_scalar(b, "mul_"));
  };
  auto idiv = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.div_(b.cast<const Tensor&>());
    else t.div_(to_scalar(b, "div_"));
  };
  auto ipow = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.pow_(b.cast<const Tensor&>());
    else t.pow_(to_scalar(b, "pow_"));
  };
  cls.def(
         "add_",
         [](py::object s, py::object b, py::object alpha) {
           Tensor& t = s.cast<Tensor&>();
           if (alpha.is_none())
             return inplace(s, b, "add_", [](Tensor& x, py::handle y) {
               if (py::isinstance<Tensor>(y)) x.add_(y.cast<const Tensor&>());
               else x.add_(to_scalar(y, "add_"));
             });
           t.add_(to_tensor_like(b, t, "add_"), to_scalar(alpha, "add_"));
           return s;
         },
         py::arg("other"), py::kw_only(), py::arg("alpha") = py::none())
      .def(
          "sub_",
          [](py::object s, py::object b, py::object alpha) {
            Tensor& t = s.cast<Tensor&>();
            if (alpha.is_none())
              return inplace(s, b, "sub_", [](Tensor& x, py::handle y) {
                if (py::isinstance<Tensor>(y)) x.sub_(y.cast<const Tensor&>());
                else x.sub_(to_scalar(y, "sub_"));
              });
            t.sub_(to_tensor_like(b, t, "sub_"), to_scalar(alpha, "sub_"));
            return s;
          },
          py::arg("other"), py::kw_only(), py::arg("alpha") = py::none())
      .def("mul_", [=](py::object s, py::object b) { return inplace(s, b, "mul_", imul); })
      .def("div_", [=](py::object s, py::object b) { return inplace(s, b, "div_", idiv); })
      .def("pow_", [=](py::object s, py::object b) { return inplace(s, b, "pow_", ipow); })
      .def("__iadd__", [=](py::object s, py::object b) { return inplace(s, b, "add_", iadd); })
      .def("__isub__", [=](py::object s, py::object b) { return inplace(s, b, "sub_", isub); })
      .def("__imul__", [=](py::object s, py::object b) { return inplace(s, b, "mul_", imul); })
      .def("__itruediv__", [=](py::object s, py::object b) { return inplace(s, b, "div_", idiv); })
      .def("__ipow__", [=](py::object s, py::object b) { return inplace(s, b, "pow_", ipow); })
      .def("clamp", &clamp_impl, py::arg("min") = py::none(), py::arg("max") = py::none())
      .def("clip", &clamp_impl, py::arg("min") = py::none(), py::arg("max") = py::none())
      .def(
          "clamp_",
          [](py::object s, py::object min, py::object max) {
            Tensor& t = s.cast<Tensor&>();
            if (py::isinstance<Tensor>(min) || py::isinstance<Tensor>(max)) {
              t.clamp_(min.is_none() ? Tensor() : to_tensor_like(min, t, "clamp_"),
                       max.is_none() ? Tensor() : to_tensor_like(max, t, "clamp_"));
              return s;
            }
            std::optional<Scalar> lo, hi;
            if (!min.is_none()) lo = to_scalar(min, "clamp_");
            if (!max.is_none()) hi = to_scalar(max, "clamp_");
            t.clamp_(lo, hi);
            return s;
          },
          py::arg("min") = py::none(), py::arg("max") = py::none())
      .def(
          "masked_fill",
          [](const Tensor& t, const Tensor& mask, py::object v) {
            Scalar value = to_scalar(v, "masked_fill");
            check_fits(value, t.dtype(), "masked_fill");
            return t.masked_fill(mask, value);
          },
          py::arg("mask"), py::arg("value"))
      .def(
          "masked_fill_",
          [](py::object s, const Tensor& mask, py::object v) {
            Tensor& t = s.cast<Tensor&>();
            Scalar value = to_scalar(v, "masked_fill_");
            check_fits(value, t.dtype(), "masked_fill_");
            t.masked_fill_(mask, value);
            return s;
          },
          py::arg("mask"), py::arg("value"))
      .def(
          "where",
          [](const Tensor& t, const Tensor& cond, py::object other) { return where_impl(cond, py::cast(t), other); },
          py::arg("condition"), py::arg("other"));
}

void bind_reductions(py::module_& m, py::class_<Tensor>& cls) {
  // ---- reductions ----
  cls.def(
         "sum",
         [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
           if (!dtype.is_none()) return t.sum(to_dims(dim), keepdim, to_dtype(dtype));
           return t.sum(to_dims(dim), keepdim);
         },
         py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none())
      .def(
          "mean",
          [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
            Tensor x = dtype.is_none() ? t : t.to(to_dtype(dtype));
            return x.mean(to_dims(dim), keepdim);
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none())
      .def(
          "prod", [](const Tensor& t, py::object dim, bool keepdim) { return t.prod(to_dims(dim), keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "amax", [](const Tensor& t, py::object dim, bool keepdim) { return t.amax(to_dims(dim), keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "amin", [](const Tensor& t, py::object dim, bool keepdim) { return t.amin(to_dims(dim), keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "max", [](const Tensor& t, py::object dim, bool keepdim) { return minmax(t, dim, keepdim, true); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "min", [](const Tensor& t, py::object dim, bool keepdim) { return minmax(t, dim, keepdim, false); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "argmax", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return t.argmax(dim, keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "argmin", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return t.argmin(dim, keepdim); },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "var",
          [](const Tensor& t, py::object dim, py::object unbiased, bool keepdim, py::object correction) {
            return var_impl(t, dim, unbiased, keepdim, correction, false);
          },
          py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("correction") = py::none())
      .def(
          "std",
          [](const Tensor& t, py::object dim, py::object unbiased, bool keepdim, py::object correction) {
            return var_impl(t, dim, unbiased, keepdim, correction, true);
          },
          py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("correction") = py::none())
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
          py::arg("p") = 2.0, py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "logsumexp", [](const Tensor& t, py::object dim, bool keepdim) { return t.logsumexp(to_dims(dim), keepdim); },
          py::arg("dim"), py::arg("keepdim") = false);
}

void bind_linalg_and_index(py::module_& m, py::class_<Tensor>& cls) {
  // ---- linear algebra, softmax, index ops ----
  cls.def("matmul",
          [](const Tensor& a, const Tensor& b) {
            py::gil_scoped_release g;
            return a.matmul(b);
          })
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
      .def(
          "softmax",
          [](const Tensor& t, int64_t dim, py::object dtype) {
            return (dtype.is_none() ? t : t.to(to_dtype(dtype))).softmax(dim);
          },
          py::arg("dim"), py::arg("dtype") = py::none())
      .def(
          "log_softmax",
          [](const Tensor& t, int64_t dim, py::object dtype) {
            return (dtype.is_none() ? t : t.to(to_dtype(dtype))).log_softmax(dim);
          },
          py::arg("dim"), py::arg("dtype") = py::none())
      .def("index_select", &Tensor::index_select, py::arg("dim"), py::arg("index"))
      .def("gather", &Tensor::gather, py::arg("dim"), py::arg("index"))
      .def("scatter_add", &Tensor::scatter_add, py::arg("dim"), py::arg("index"), py::arg("src"))
      .def(
          "scatter_add_",
          [](py::object s, int64_t dim, const Tensor& index, const Tensor& src) {
            s.cast<Tensor&>().scatter_add_(dim, index, src);
            return s;
          },
          py::arg("dim"), py::arg("index"), py::arg("src"))
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
          py::kw_only(), py::arg("as_tuple") = false);
}

void bind_free_functions(py::module_& m, py::class_<Tensor>& cls) {
  // ---- free functions ----
  m.def(
      "cat", [](py::object ts, int64_t dim) { return cat(to_tensor_list(ts, "cat"), dim); }, py::arg("tensors"),
      py::arg("dim") = 0);
  m.def(
      "concat", [](py::object ts, int64_t dim) { return cat(to_tensor_list(ts, "cat"), dim); }, py::arg("tensors"),
      py::arg("dim") = 0);
  m.def(
      "stack", [](py::object ts, int64_t dim) { return stack(to_tensor_list(ts, "stack"), dim); }, py::arg("tensors"),
      py::arg("dim") = 0);
  m.def(
      "where",
      [](const Tensor& cond, py::object a, py::object b) -> py::object {
        if (a.is_none() && b.is_none()) return py::cast(cond).attr("nonzero")(py::arg("as_tuple") = true);
        return py::cast(where_impl(cond, a, b));
      },
      py::arg("condition"), py::arg("input") = py::none(), py::arg("other") = py::none());
  m.def(
      "matmul",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release g;
        return matmul(a, b);
      },
      py::arg("input"), py::arg("other"));
  m.def("one_hot", &one_hot, py::arg("tensor"), py::arg("num_classes") = -1);
  m.def("broadcast_shapes", [](py::args shapes) {
    Shape r;
    for (auto s : shapes) r = broadcast_shapes(r, to_dims(s));
    return size_object(r);
  });
}

}  // namespace

void init_ops(py::module_& m, py::class_<Tensor>& cls) {
  bind_registry(m, cls);
  bind_unary(m, cls);
  bind_binary(m, cls);
  bind_bitwise(m, cls);
  bind_inplace(m, cls);
  bind_reductions(m, cls);
  bind_linalg_and_index(m, cls);
  bind_free_functions(m, cls);
}

}  // namespace loom::python
