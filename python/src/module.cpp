// loom._C: module entry point, exception translation, dtype and device
// objects, argument conversions shared by the other binding files, and the
// global switches (seed, threads, TF32).
#include "common.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/autotune.h"
#include "core/print.h"
#include "core/random.h"
#include "kernels/cpu/thread_pool.h"

namespace loom::python {

namespace {
PyObject* g_oom_error = nullptr;
py::object g_size_cls;  // loom.Size, set by loom/__init__.py

void translate_errors(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const Error& e) {
    PyObject* type = PyExc_RuntimeError;
    switch (e.kind()) {
      case ErrorKind::Runtime: type = PyExc_RuntimeError; break;
      case ErrorKind::Value: type = PyExc_ValueError; break;
      case ErrorKind::Index: type = PyExc_IndexError; break;
      case ErrorKind::Type: type = PyExc_TypeError; break;
      case ErrorKind::NotImplemented: type = PyExc_NotImplementedError; break;
      case ErrorKind::OutOfMemory: type = g_oom_error; break;
    }
    // A message may quote bytes that are not UTF-8 (a file name, a corrupt
    // token): escape them rather than raise UnicodeDecodeError instead.
    const std::string msg = e.what();
    py::object text = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeUTF8(msg.data(), static_cast<Py_ssize_t>(msg.size()), "backslashreplace"));
    PyErr_SetObject(type, text.ptr());
  }
}

std::string device_repr(const Device& d) {
  if (d.is_cpu()) return "device(type='cpu')";
  return "device(type='cuda', index=" + std::to_string(d.index) + ")";
}
}  // namespace

void raise_not_utf8(py::handle str) {
  // Only the surrogates U+D800..U+DFFF have no UTF-8 form.
  const Py_ssize_t n = PyUnicode_GetLength(str.ptr());
  for (Py_ssize_t i = 0; i < n; ++i) {
    const Py_UCS4 c = PyUnicode_ReadChar(str.ptr(), i);
    if (c >= 0xD800 && c <= 0xDFFF) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
      throw py::value_error("str argument must be valid UTF-8 text (lone surrogate " + std::string(code) +
                            " at position " + std::to_string(i) + ")");
    }
  }
  throw py::value_error("str argument must be valid UTF-8 text");
}

int64_t py_int_to_int64(py::handle h, const std::string& who) {
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow != 0)
    throw std::runtime_error(who + ": Python int " + py::str(h).cast<std::string>() +
                             " is out of the range of int64 [-9223372036854775808, 9223372036854775807]");
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

void check_fits(const Scalar& v, DType dtype, const char* op) {
  if (v.is_bool() || dtype == DType::Bool) return;
  bool fits = true;
  if (dtype == DType::Int32 && v.is_integral()) {
    fits = v.to_int() >= std::numeric_limits<int32_t>::min() && v.to_int() <= std::numeric_limits<int32_t>::max();
  } else if (is_integral(dtype) && v.is_floating()) {
    // Truncation toward zero must land in the range: -2^31 - 0.5 still fits.
    const double t = std::trunc(v.to_double());
    fits = dtype == DType::Int32 ? t >= -2147483648.0 && t <= 2147483647.0
                                 : t >= -9223372036854775808.0 && t < 9223372036854775808.0;
  } else if (dtype == DType::Float32 && v.is_floating()) {
    fits = !std::isfinite(v.to_double()) || std::fabs(v.to_double()) <= std::numeric_limits<float>::max();
  }
  if (!fits)
    throw std::runtime_error(std::string(op) + "(): value " + py::repr(scalar_to_python(v)).cast<std::string>() +
                             " cannot be converted to " + dtype_name(dtype) + " without overflow");
}

std::string to_fs_path(py::handle path, const char* op) {
  py::object p;
  try {
    p = py::module_::import("os").attr("fspath")(path);
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    throw py::type_error(std::string(op) + ": path must be a str, bytes or os.PathLike, not " +
                         py::str(py::type::of(path).attr("__name__")).cast<std::string>());
  }
  if (py::isinstance<py::bytes>(p)) return p.cast<std::string>();
  // os.fsencode gives the bytes of the file name, undoing surrogateescape;
  // other surrogates have no bytes.
  try {
    return py::module_::import("os").attr("fsencode")(p).cast<std::string>();
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_UnicodeEncodeError)) throw;
    raise_not_utf8(p);
  }
}

py::object dtype_object(DType t) {
  // Leaked on purpose: these live as long as the interpreter.
  static py::object* objs = new py::object[kNumDTypes];
  auto& o = objs[static_cast<int>(t)];
  if (!o) o = py::cast(PyDType{t});
  return o;
}

DType to_dtype(py::handle h) {
  if (py::isinstance<PyDType>(h)) return h.cast<PyDType>().type;
  if (py::isinstance<py::str>(h)) return parse_dtype(h.cast<std::string>());
  if ((h.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type))) return DType::Float64;
  if ((h.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type))) return DType::Bool;
  if ((h.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type))) return DType::Int64;
  if (py::hasattr(h, "dtype") || py::isinstance<py::dtype>(h) || py::isinstance<py::type>(h)) {
    try {
      auto dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(h));
      return parse_dtype(py::str(dt.attr("name")).cast<std::string>());
    } catch (py::error_already_set&) {
    }
  }
  throw py::type_error("expected a loom dtype (loom.float32, loom.int64, ...), got " + py::repr(h).cast<std::string>());
}
std::optional<DType> to_dtype_opt(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return to_dtype(h);
}

Device to_device(py::handle h) {
  if (py::isinstance<Device>(h)) return h.cast<Device>();
  if (py::isinstance<py::str>(h)) return Device(h.cast<std::string>());
  if (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) return Device(DeviceType::CUDA, h.cast<int>());
  throw py::type_error("expected a device (loom.device, 'cpu', 'cuda:0' or a CUDA index), got " +
                       py::repr(h).cast<std::string>());
}
std::optional<Device> to_device_opt(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return to_device(h);
}

bool is_scalar(py::handle h) {
  if (PyBool_Check(h.ptr()) || PyLong_Check(h.ptr()) || PyFloat_Check(h.ptr())) return true;
  static py::handle np_generic = py::object(py::module_::import("numpy").attr("generic")).release();
  return py::isinstance(h, np_generic) && !py::isinstance<py::str>(h) && !py::isinstance<py::bytes>(h);
}

Scalar to_scalar(py::handle h, const char* op) {
  if (PyBool_Check(h.ptr())) return Scalar(h.cast<bool>());
  if (PyLong_Check(h.ptr())) return Scalar(py_int_to_int64(h, std::string(op) + "()"));
  if (PyFloat_Check(h.ptr())) return Scalar(h.cast<double>());
  if (is_scalar(h)) {
    py::object kind = h.attr("dtype").attr("kind");
    std::string k = kind.cast<std::string>();
    if (k == "b") return Scalar(py::bool_(py::reinterpret_borrow<py::object>(h)).cast<bool>());
    if (k == "i" || k == "u")
      return Scalar(py_int_to_int64(py::int_(py::reinterpret_borrow<py::object>(h)), std::string(op) + "()"));
    if (k == "f") return Scalar(py::float_(py::reinterpret_borrow<py::object>(h)).cast<double>());
  }
  if (py::isinstance<Tensor>(h)) {
    const Tensor& t = h.cast<const Tensor&>();
    if (t.numel() == 1) return t.item();
  }
  throw py::type_error(std::string(op) + "(): expected a number, got " +
                       std::string(py::str(py::type::of(h).attr("__name__"))));
}

Tensor to_tensor(py::handle h, const char* op, const char* arg) {
  if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
  throw py::type_error(std::string(op) + "(): " + arg + " must be a Tensor, not " +
                       std::string(py::str(py::type::of(h).attr("__name__"))));
}

Tensor to_tensor_like(py::handle h, const Tensor& like, const char* op) {
  if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
  Scalar s = to_scalar(h, op);
  // A bool stays bool (it never raises the result type, and ops that refuse
  // bool operands, such as `-`, must still see one).
  DType dt = s.is_bool() ? DType::Bool : promote_with_scalar(like.dtype(), s);
  return scalar_tensor(s, TensorOptions(dt, like.device()));
}

int64_t to_int(py::handle h, const char* what) {
  if (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) return py_int_to_int64(h, what);
  // __index__ only (PyNumber_Index): int() would also truncate floats and
  // float tensors. A one-element integer tensor converts; other tensors raise
  // their own TypeError.
  if (PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr())) {
    py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(h.ptr()));
    if (!i) throw py::error_already_set();
    return py_int_to_int64(i, what);
  }
  throw py::type_error(std::string(what) + " must be an int, not " +
                       std::string(py::str(py::type::of(h).attr("__name__"))));
}

bool is_int_sequence(py::handle h) {
  return py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h) && !py::isinstance<py::bytes>(h) &&
         !py::isinstance<Tensor>(h);
}

py::list sequence_items(py::handle h) {
  py::object l = py::reinterpret_steal<py::object>(PySequence_List(h.ptr()));
  if (!l) throw py::error_already_set();
  return py::reinterpret_borrow<py::list>(l);
}

Dims to_dims(py::handle h) {
  Dims d;
  if (h.is_none()) return d;
  if (is_int_sequence(h)) {
    for (auto x : sequence_items(h)) d.push_back(to_int(x, "dim"));
    return d;
  }
  d.push_back(to_int(h, "dim"));
  return d;
}

Dims int_or_tuple(py::handle h, size_t n, const char* op, const char* name) {
  Dims d;
  if (is_int_sequence(h)) {
    for (auto x : sequence_items(h)) d.push_back(to_int(x, name));
    if (d.size() == 1 && n > 1) d.assign(n, d[0]);
    if (d.size() != n)
      throw py::value_error(std::string(op) + ": expected " + name + " to be a single integer or a tuple of " +
                            std::to_string(n) + " integers, got " + std::to_string(d.size()) + " values");
    return d;
  }
  return Dims(n, to_int(h, name));
}

Tensor opt_tensor(py::handle h, const char* op, const char* arg) {
  return h.is_none() ? Tensor() : to_tensor(h, op, arg);
}

Shape shape_from_args(const py::args& args, const char* op) {
  Shape s;
  if (args.size() == 1 && is_int_sequence(args[0])) {
    for (auto x : sequence_items(args[0])) s.push_back(to_int(x, op));
    return s;
  }
  for (auto x : args) s.push_back(to_int(x, op));
  return s;
}

py::object size_object(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = py::int_(s[i]);
  if (g_size_cls) return g_size_cls(t);
  return std::move(t);
}

py::object as_python(const Tensor& t) {
  if (!t.defined()) return py::none();
  return py::cast(t);
}

py::object scalar_to_python(const Scalar& s) {
  if (s.is_bool()) return py::bool_(s.to_bool());
  if (s.is_integral()) return py::int_(s.to_int());
  return py::float_(s.to_double());
}

TensorOptions make_options(py::handle dtype, py::handle device, bool requires_grad, DType default_dtype) {
  TensorOptions o(to_dtype_opt(dtype).value_or(default_dtype));
  if (auto d = to_device_opt(device)) o.device = *d;
  o.requires_grad = requires_grad;
  return o;
}

std::shared_ptr<py::object> keep_python(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    if (!Py_IsInitialized()) {
      p->release();
      delete p;
      return;
    }
    py::gil_scoped_acquire gil;
    delete p;
  });
}

}  // namespace loom::python

using namespace loom;
using namespace loom::python;

PYBIND11_MODULE(_C, m) {
  m.doc() = "loom C++ core";
  g_oom_error = PyErr_NewException("loom.OutOfMemoryError", PyExc_RuntimeError, nullptr);
  m.attr("OutOfMemoryError") = py::handle(g_oom_error);
  py::register_exception_translator(&translate_errors);

  py::class_<PyDType>(m, "dtype")
      .def_property_readonly("is_floating_point", [](const PyDType& d) { return is_floating(d.type); })
      .def_property_readonly("itemsize", [](const PyDType& d) { return itemsize(d.type); })
      .def_property_readonly("name", [](const PyDType& d) { return std::string(dtype_name(d.type)); })
      .def("__repr__", [](const PyDType& d) { return std::string("loom.") + dtype_name(d.type); })
      .def("__eq__", [](const PyDType& a,
                        py::object b) { return py::isinstance<PyDType>(b) && b.cast<PyDType>().type == a.type; })
      .def("__hash__", [](const PyDType& d) { return static_cast<int>(d.type); })
      .def("__reduce__", [](const PyDType& d) { return std::string(dtype_name(d.type)); });
  for (DType t : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64})
    m.attr(dtype_name(t)) = dtype_object(t);

  py::class_<Device>(m, "device")
      .def(py::init([](py::object spec, std::optional<int> index) {
             if (py::isinstance<Device>(spec)) return spec.cast<Device>();
             if (PyLong_Check(spec.ptr())) return Device(DeviceType::CUDA, spec.cast<int>());
             Device d(spec.cast<std::string>());
             if (index) {
               if (spec.cast<std::string>().find(':') != std::string::npos)
                 throw py::value_error("device string already has an index: " + spec.cast<std::string>());
               d = Device(d.type, *index);
             }
             return d;
           }),
           py::arg("type"), py::arg("index") = py::none())
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index",
                             [](const Device& d) -> py::object {
                               if (d.is_cpu()) return py::none();
                               return py::int_(d.index);
                             })
      .def("__str__", [](const Device& d) { return d.str(); })
      .def("__repr__", &device_repr)
      .def("__eq__",
           [](const Device& a, py::object b) {
             if (py::isinstance<Device>(b)) return a == b.cast<Device>();
             if (py::isinstance<py::str>(b)) {
               // A string that names no device is simply not equal ("auto", "mps"), not an error.
               try {
                 return a == Device(b.cast<std::string>());
               } catch (const loom::Error&) {
                 return false;
               }
             }
             return false;
           })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 1000 + d.index; });

  m.def("_set_size_class", [](py::object cls) { g_size_cls = cls; });
  m.def(
      "manual_seed", [](py::handle s) { manual_seed(to_seed(s, "manual_seed")); }, py::arg("seed"));
  m.def("initial_seed", &initial_seed);
  // RuntimeError naming `op` unless the number converts to dtype without overflow (the Python ops' fills).
  m.def(
      "_check_fits",
      [](py::handle value, py::handle dtype, const std::string& op) {
        check_fits(to_scalar(value, op.c_str()), to_dtype(dtype), op.c_str());
      },
      py::arg("value"), py::arg("dtype"), py::arg("op"));
  m.def("_default_dtype", [] { return dtype_object(default_dtype()); });
  m.def("_get_printoptions", [] {
    using namespace pybind11::literals;
    PrintOptions o = print_options();
    return py::dict("precision"_a = o.precision, "threshold"_a = o.threshold, "edgeitems"_a = o.edgeitems,
                    "linewidth"_a = o.linewidth,
                    "sci_mode"_a = o.sci_mode < 0 ? py::object(py::none()) : py::object(py::bool_(o.sci_mode == 1)));
  });
  m.def("_set_printoptions",
        [](int precision, int64_t threshold, int64_t edgeitems, int64_t linewidth, std::optional<bool> sci_mode) {
          set_print_options(PrintOptions{precision, threshold, edgeitems, linewidth, sci_mode ? int(*sci_mode) : -1});
        });
  m.def("_set_default_dtype", [](py::handle t) { set_default_dtype(to_dtype(t)); });
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("_blas_core", &kernels::cpu::blas_core);
  m.def("_set_allow_tf32", &set_allow_tf32);
  m.def("_allow_tf32", [] { return allow_tf32(); });
  // warn_only is PyTorch's switch between raising and warning for ops without a
  // deterministic implementation; loom has no such raising op yet, so it is
  // accepted (ported scripts keep working) and changes nothing.
  m.def(
      "use_deterministic_algorithms",
      [](bool mode, bool warn_only) {
        (void)warn_only;
        use_deterministic_algorithms(mode);
      },
      py::arg("mode"), py::kw_only(), py::arg("warn_only") = false);
  m.def("are_deterministic_algorithms_enabled", &are_deterministic_algorithms_enabled);
  // The autotuner's cache (core/autotune.h); loom.backends wraps it.
  m.def("_autotune_entries", [](const std::string& family) {
    py::list out;
    for (const auto& e : autotune::entries(family)) {
      py::dict timings;
      for (const auto& t : e.timings) timings[py::str(t.name)] = t.ms < 0 ? py::object(py::none()) : py::float_(t.ms);
      py::dict d;
      d["family"] = e.family, d["problem"] = e.problem, d["choice"] = e.choice, d["timings_ms"] = timings,
      d["tuning_s"] = e.tuning_s;
      out.append(d);
    }
    return out;
  });
  m.def("_autotune_text", &autotune::to_text, py::arg("family") = "");
  m.def("_autotune_json", &autotune::to_json, py::arg("family") = "");
  m.def("_autotune_save", &autotune::save, py::arg("path"), py::arg("family") = "");
  m.def("_autotune_load", &autotune::load, py::arg("path"));
  m.def(
      "_autotune_clear", [](const std::string& family) { autotune::clear(family); }, py::arg("family") = "");
  m.def("_autotune_tuning_seconds", &autotune::tuning_seconds);
  m.def("_autotune_set_budget", &autotune::set_budget_seconds, py::arg("seconds"));
  m.def("_autotune_budget", &autotune::budget_seconds);
  m.def("_get_rng_state", [](py::object dev) {
    auto s = get_rng_state(to_device(dev));
    return py::make_tuple(s.seed, s.offset);
  });
  m.def("_set_rng_state", [](py::object dev, uint64_t seed, uint64_t offset) {
    set_rng_state(to_device(dev), PhiloxState{seed, offset});
  });

  // Release the references this module holds before the interpreter goes away.
  py::module_::import("atexit").attr("register")(py::cpp_function([] { g_size_cls = py::object(); }));

  py::class_<Tensor> tensor_cls(m, "Tensor", py::dynamic_attr());
  init_tensor(m, tensor_cls);
  init_index_subscript(tensor_cls);
  init_pointwise(m, tensor_cls);
  init_pointwise_bitwise(tensor_cls);
  init_reduce(tensor_cls);
  init_sort(m, tensor_cls);
  init_matmul(m, tensor_cls);
  init_softmax(tensor_cls);
  init_index(m, tensor_cls);
  init_copy(m);
  init_autograd(m, tensor_cls);
  init_cuda(m);
  init_dlpack(m, tensor_cls);
  init_generator(m);
  init_functional(m);
}
