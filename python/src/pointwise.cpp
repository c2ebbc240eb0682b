// Pointwise Tensor ops: the registry's generated bindings, unary aliases and
// operators, binary methods and operators (with reflected forms), comparisons,
// the in-place forms, clamp, masked_fill, where (method and loom.where), lerp, addcmul, addcdiv, tril, triu,
// and loom.broadcast_shapes.
#include "autograd/ops/pointwise.h"
#include "core/ops_functions.h"
#include "ops_common.h"
#include "python/ops_docs.h"

namespace loom::python {

namespace {

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

// A number on the left of a tensor (2 // x, 2 % x) as a 0-d tensor of the promoted dtype.
Tensor reflected(const Tensor& x, const Scalar& s) {
  return scalar_tensor(s, TensorOptions(promote_with_scalar(x.dtype(), s), x.device()));
}

std::string to_rounding_mode(py::handle mode, const char* op) {
  if (!py::isinstance<py::str>(mode))
    throw py::type_error(std::string(op) + "(): argument 'rounding_mode' must be str or None, not " +
                         std::string(py::str(py::type::of(mode).attr("__name__"))));
  return mode.cast<std::string>();
}

void bind_registry(py::module_& m, py::class_<Tensor>& cls) {
  cls.attr("__array_priority__") = 1000;

  // ---- the ops of the registry (core/ops.toml, binding = "generated"), with docstrings ----
#include "python/ops_bindings.inc"
  // Every op's docstring by name, for the wrappers written in Python (loom.rand, loom.sum...).
  py::dict docs;
  for (const RegistryDoc& e : kRegistryDocs) docs[e.name] = e.doc;
  m.attr("_registry_docs") = docs;
}

void bind_unary(py::module_& m, py::class_<Tensor>& cls) {
  // ---- unary aliases and operators ----
  cls.def("negative", [](const Tensor& t) { return t.neg(); })
      .def("absolute", [](const Tensor& t) { return t.abs(); })
      .def("__neg__", [](const Tensor& t) { return t.neg(); })
      .def("__pos__", [](const Tensor& t) { return t; })
      .def("__abs__", [](const Tensor& t) { return t.abs(); })
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
  auto fdiv_t = [](const Tensor& a, const Tensor& b) { return a.floor_divide(b); };
  auto fdiv_s = [](const Tensor& a, const Scalar& b) { return a.floor_divide(b); };
  auto rem_t = [](const Tensor& a, const Tensor& b) { return a.remainder(b); };
  auto rem_s = [](const Tensor& a, const Scalar& b) { return a.remainder(b); };
  auto fmod_t = [](const Tensor& a, const Tensor& b) { return a.fmod(b); };
  auto fmod_s = [](const Tensor& a, const Scalar& b) { return a.fmod(b); };

  cls.def(
         "add",
         [=](const Tensor& a, py::object b, py::object alpha) {
           if (!alpha.is_none() && py::isinstance<Tensor>(b))
             return py::cast(a.add(b.cast<const Tensor&>(), to_scalar(alpha, "add")));
           if (!alpha.is_none()) return py::cast(a.add(to_tensor_like(b, a, "add"), to_scalar(alpha, "add")));
           return binary(a, b, "add", false, add_t, add_s);
         },
         py::arg("other"), py::kw_only(), py::arg("alpha") = py::none(), registry_doc("add"))
      .def(
          "sub",
          [=](const Tensor& a, py::object b, py::object alpha) {
            if (!alpha.is_none()) return py::cast(a.sub(to_tensor_like(b, a, "sub"), to_scalar(alpha, "sub")));
            return binary(a, b, "sub", false, sub_t, sub_s);
          },
          py::arg("other"), py::kw_only(), py::arg("alpha") = py::none(), registry_doc("sub"))
      .def(
          "mul", [=](const Tensor& a, py::object b) { return binary(a, b, "mul", false, mul_t, mul_s); },
          registry_doc("mul"))
      .def(
          "div",
          [=](const Tensor& a, py::object b, py::object rounding_mode) {
            if (rounding_mode.is_none()) return binary(a, b, "div", false, div_t, div_s);
            const std::string mode = to_rounding_mode(rounding_mode, "div");
            return binary(
                a, b, "div", false, [&](const Tensor& x, const Tensor& y) { return x.div(y, mode); },
                [&](const Tensor& x, const Scalar& y) { return x.div(y, mode); });
          },
          py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none(), registry_doc("div"))
      .def(
          "true_divide", [=](const Tensor& a, py::object b) { return binary(a, b, "div", false, div_t, div_s); },
          registry_doc("div"))
      .def(
          "floor_divide",
          [=](const Tensor& a, py::object b) { return binary(a, b, "floor_divide", false, fdiv_t, fdiv_s); },
          py::arg("other"), registry_doc("floor_divide"))
      .def(
          "remainder", [=](const Tensor& a, py::object b) { return binary(a, b, "remainder", false, rem_t, rem_s); },
          py::arg("other"), registry_doc("remainder"))
      .def(
          "fmod", [=](const Tensor& a, py::object b) { return binary(a, b, "fmod", false, fmod_t, fmod_s); },
          py::arg("other"), registry_doc("fmod"))
      .def("__floordiv__",
           [=](const Tensor& a, py::object b) { return binary(a, b, "floor_divide", true, fdiv_t, fdiv_s); })
      .def("__rfloordiv__",
           [=](const Tensor& a, py::object b) {
             return binary(
                 a, b, "floor_divide", true, [](const Tensor& x, const Tensor& y) { return y.floor_divide(x); },
                 [](const Tensor& x, const Scalar& y) { return reflected(x, y).floor_divide(x); });
           })
      .def("__mod__", [=](const Tensor& a, py::object b) { return binary(a, b, "remainder", true, rem_t, rem_s); })
      .def("__rmod__",
           [=](const Tensor& a, py::object b) {
             return binary(
                 a, b, "remainder", true, [](const Tensor& x, const Tensor& y) { return y.remainder(x); },
                 [](const Tensor& x, const Scalar& y) { return reflected(x, y).remainder(x); });
           })
      .def(
          "pow", [=](const Tensor& a, py::object b) { return binary(a, b, "pow", false, pow_t, pow_s); },
          registry_doc("pow"))
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
      .def("__rpow__", [=](const Tensor& a, py::object b) {
        return binary(
            a, b, "pow", true, [](const Tensor& x, const Tensor& y) { return y.pow(x); },
            [](const Tensor& x, const Scalar& y) {
              return scalar_tensor(y, TensorOptions(promote_with_scalar(x.dtype(), y), x.device())).pow(x);
            });
      });

#define LOOM_CMP(name, dunder)                                                              \
  cls.def(                                                                                  \
      #name,                                                                                \
      [](const Tensor& a, py::object b) {                                                   \
        return binary(                                                                      \
            a, b, #name, false, [](const Tensor& x, const Tensor& y) { return x.name(y); }, \
            [](const Tensor& x, const Scalar& y) { return x.name(y); });                    \
      },                                                                                    \
      registry_doc("compare"));                                                             \
  cls.def(dunder, [](const Tensor& a, py::object b) {                                       \
    return binary(                                                                          \
        a, b, #name, true, [](const Tensor& x, const Tensor& y) { return x.name(y); },      \
        [](const Tensor& x, const Scalar& y) { return x.name(y); });                        \
  })
  LOOM_CMP(eq, "__eq__");
  LOOM_CMP(ne, "__ne__");
  LOOM_CMP(lt, "__lt__");
  LOOM_CMP(le, "__le__");
  LOOM_CMP(gt, "__gt__");
  LOOM_CMP(ge, "__ge__");
#undef LOOM_CMP
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
  auto ifdiv = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.floor_divide_(b.cast<const Tensor&>());
    else t.floor_divide_(to_scalar(b, "floor_divide_"));
  };
  auto irem = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.remainder_(b.cast<const Tensor&>());
    else t.remainder_(to_scalar(b, "remainder_"));
  };
  auto ifmod = [](Tensor& t, py::handle b) {
    if (py::isinstance<Tensor>(b)) t.fmod_(b.cast<const Tensor&>());
    else t.fmod_(to_scalar(b, "fmod_"));
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
      .def(
          "div_",
          [=](py::object s, py::object b, py::object rounding_mode) {
            if (rounding_mode.is_none()) return inplace(s, b, "div_", idiv);
            const std::string mode = to_rounding_mode(rounding_mode, "div_");
            return inplace(s, b, "div_", [&](Tensor& t, py::handle y) {
              if (py::isinstance<Tensor>(y)) t.div_(y.cast<const Tensor&>(), mode);
              else t.div_(to_scalar(y, "div_"), mode);
            });
          },
          py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none())
      .def("floor_divide_", [=](py::object s, py::object b) { return inplace(s, b, "floor_divide_", ifdiv); })
      .def("remainder_", [=](py::object s, py::object b) { return inplace(s, b, "remainder_", irem); })
      .def("fmod_", [=](py::object s, py::object b) { return inplace(s, b, "fmod_", ifmod); })
      .def("__ifloordiv__", [=](py::object s, py::object b) { return inplace(s, b, "floor_divide_", ifdiv); })
      .def("__imod__", [=](py::object s, py::object b) { return inplace(s, b, "remainder_", irem); })
      .def("pow_", [=](py::object s, py::object b) { return inplace(s, b, "pow_", ipow); })
      .def("__iadd__", [=](py::object s, py::object b) { return inplace(s, b, "add_", iadd); })
      .def("__isub__", [=](py::object s, py::object b) { return inplace(s, b, "sub_", isub); })
      .def("__imul__", [=](py::object s, py::object b) { return inplace(s, b, "mul_", imul); })
      .def("__itruediv__", [=](py::object s, py::object b) { return inplace(s, b, "div_", idiv); })
      .def("__ipow__", [=](py::object s, py::object b) { return inplace(s, b, "pow_", ipow); })
      .def("clamp", &clamp_impl, py::arg("min") = py::none(), py::arg("max") = py::none(), registry_doc("clamp"))
      .def("clip", &clamp_impl, py::arg("min") = py::none(), py::arg("max") = py::none(), registry_doc("clamp"))
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
          py::arg("mask"), py::arg("value"), registry_doc("masked_fill"))
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
          py::arg("condition"), py::arg("other"), registry_doc("where"))
      .def(
          "lerp",
          [](const Tensor& t, py::handle end, py::handle weight) {
            Tensor e = to_tensor(end, "lerp", "end");
            if (py::isinstance<Tensor>(weight)) return t.lerp(e, weight.cast<const Tensor&>());
            return t.lerp(e, to_scalar(weight, "lerp"));
          },
          py::arg("end"), py::arg("weight"), registry_doc("lerp"))
      .def(
          "addcmul",
          [](const Tensor& t, py::handle t1, py::handle t2, py::handle value) {
            return t.addcmul(to_tensor(t1, "addcmul", "tensor1"), to_tensor(t2, "addcmul", "tensor2"),
                             to_scalar(value, "addcmul"));
          },
          py::arg("tensor1"), py::arg("tensor2"), py::kw_only(), py::arg("value") = 1, registry_doc("addcmul"))
      .def(
          "addcdiv",
          [](const Tensor& t, py::handle t1, py::handle t2, py::handle value) {
            return t.addcdiv(to_tensor(t1, "addcdiv", "tensor1"), to_tensor(t2, "addcdiv", "tensor2"),
                             to_scalar(value, "addcdiv"));
          },
          py::arg("tensor1"), py::arg("tensor2"), py::kw_only(), py::arg("value") = 1, registry_doc("addcdiv"))
      .def(
          "tril",
          [](const Tensor& t, py::handle d) { return t.tril(py_int_to_int64(d, "tril(): argument 'diagonal'")); },
          py::arg("diagonal") = 0, registry_doc("tril"))
      .def(
          "triu",
          [](const Tensor& t, py::handle d) { return t.triu(py_int_to_int64(d, "triu(): argument 'diagonal'")); },
          py::arg("diagonal") = 0, registry_doc("triu"));
}

void bind_free_functions(py::module_& m) {
  m.def(
      "where",
      [](const Tensor& cond, py::object a, py::object b) -> py::object {
        if (a.is_none() && b.is_none()) return py::cast(cond).attr("nonzero")(py::arg("as_tuple") = true);
        return py::cast(where_impl(cond, a, b));
      },
      py::arg("condition"), py::arg("input") = py::none(), py::arg("other") = py::none(), registry_doc("where"));
  m.def("broadcast_shapes", [](py::args shapes) {
    Shape r;
    for (auto s : shapes) r = broadcast_shapes(r, to_dims(s));
    return size_object(r);
  });
  // Tensor.<unary>_ without a copy (python/loom/_inplace.py): True when written, False for the general path.
  m.def(
      "_unary_inplace", [](Tensor& t, const std::string& name) { return pointwise::unary_inplace_direct(t, name); },
      py::arg("self"), py::arg("name"));
}

}  // namespace

void init_pointwise(py::module_& m, py::class_<Tensor>& cls) {
  bind_registry(m, cls);
  bind_unary(m, cls);
  bind_binary(m, cls);
  bind_inplace(m, cls);
  bind_free_functions(m);
}

}  // namespace loom::python
