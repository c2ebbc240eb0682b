// Tensor metadata, conversions (to / cpu / cuda / dtype casts), views,
// NumPy interop (sharing memory both ways) and the factories.
#include "common.h"

#include <cmath>
#include <limits>
#include <string>

#include "python/ops_docs.h"

namespace loom::python {

namespace {

DType dtype_from_numpy(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'b') return DType::Bool;
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  throw py::type_error("can't convert np.ndarray of type " + py::str(dt).cast<std::string>() +
                       ". The only supported types are: float64, float32, "
                       "int64, int32, and bool.");
}

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::Int32: return py::dtype::of<int32_t>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
  }
  throw py::type_error("numpy: unsupported dtype");
}

// Wraps a NumPy array's memory; the array stays alive while the storage does.
Tensor from_numpy_shared(py::array arr) {
  DType dt = dtype_from_numpy(arr.dtype());
  const auto isz = static_cast<int64_t>(arr.itemsize());
  Shape shape, strides;
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    shape.push_back(arr.shape(d));
    const int64_t st = arr.strides(d);
    if (st < 0)
      throw py::value_error(
          "At least one stride in the given numpy array is negative, and "
          "tensors with negative strides are not "
          "currently supported. (You can probably work around this by making a "
          "copy of your array  with "
          "array.copy().) ");
    if (st % isz != 0) throw py::value_error("from_numpy: array strides are not a multiple of the element size");
    strides.push_back(st / isz);
  }
  void* data = arr.mutable_data();
  auto owner = std::static_pointer_cast<void>(keep_python(arr));
  return from_shared(owner, data, shape, strides, dt, Device());
}

}  // namespace

Tensor from_numpy_copy(py::array arr, std::optional<DType> dtype, Device device) {
  DType src = dtype_from_numpy(arr.dtype());
  py::array c = py::array::ensure(arr, py::array::c_style);
  Shape shape(c.shape(), c.shape() + c.ndim());
  Tensor t;
  {
    py::gil_scoped_release nogil;
    t = from_blob(c.data(), shape, src, device);
  }
  if (dtype && *dtype != src) t = t.to(*dtype);
  return t;
}

namespace {

py::array to_numpy(const Tensor& t, bool force) {
  Tensor src = t;
  if (force) src = t.detach().cpu();
  if (!src.device().is_cpu())
    throw py::type_error("can't convert " + src.device().str() +
                         " device type tensor to numpy. Use Tensor.cpu() to "
                         "copy the tensor to host memory first.");
  std::vector<py::ssize_t> shape(src.sizes().begin(), src.sizes().end());
  std::vector<py::ssize_t> strides;
  for (auto s : src.strides()) strides.push_back(s * static_cast<py::ssize_t>(src.element_size()));
  auto* keep = new Tensor(src);
  py::capsule base(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(numpy_dtype(src.dtype()), shape, strides, src.data_ptr(), base);
}

// Tensor.to(...) arguments: (dtype) | (device[, dtype]) | (tensor) plus
// keywords.
Tensor tensor_to(const Tensor& self, const py::args& args, const py::kwargs& kw) {
  std::optional<DType> dtype;
  std::optional<Device> device;
  bool non_blocking = false, copy = false;
  for (auto a : args) {
    if (py::isinstance<Tensor>(a)) {
      const Tensor& o = a.cast<const Tensor&>();
      dtype = o.dtype();
      device = o.device();
    } else if (py::isinstance<Device>(a) || py::isinstance<py::str>(a) ||
               (PyLong_Check(a.ptr()) && !PyBool_Check(a.ptr()))) {
      if (py::isinstance<py::str>(a) && !py::isinstance<Device>(a)) {
        std::string s = a.cast<std::string>();
        if (s.rfind("cpu", 0) != 0 && s.rfind("cuda", 0) != 0) {
          dtype = to_dtype(a);
          continue;
        }
      }
      device = to_device(a);
    } else if (PyBool_Check(a.ptr())) {
      non_blocking = a.cast<bool>();
    } else {
      dtype = to_dtype(a);
    }
  }
  for (auto [k, v] : kw) {
    std::string key = k.cast<std::string>();
    if (key == "dtype") dtype = to_dtype_opt(v);
    else if (key == "device") device = to_device_opt(v);
    else if (key == "non_blocking") non_blocking = v.cast<bool>();
    else if (key == "copy") copy = v.cast<bool>();
    else if (key == "memory_format") continue;
    else throw py::type_error("to() got an unexpected keyword argument '" + key + "'");
  }
  Tensor r = self;
  py::gil_scoped_release nogil;
  if (device && dtype) r = self.to(*device, *dtype, non_blocking);
  else if (device) r = self.to(*device, non_blocking);
  else if (dtype) r = self.to(*dtype);
  if (copy && r.is_same(self)) r = self.clone();
  return r;
}

py::list tensors_to_list(const TensorList& ts) {
  py::list l;
  for (auto& t : ts) l.append(py::cast(t));
  return l;
}

}  // namespace

namespace {

void bind_metadata(py::module_& m, py::class_<Tensor>& cls) {
  // ---- metadata ----
  cls.def_property_readonly("shape", [](const Tensor& t) { return size_object(t.sizes()); })
      .def(
          "size",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return size_object(t.sizes());
            return py::int_(t.size(to_int(dim, "dim")));
          },
          py::arg("dim") = py::none())
      .def("dim", &Tensor::dim)
      .def("ndimension", &Tensor::dim)
      .def_property_readonly("ndim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("nelement", &Tensor::numel)
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_object(t.dtype()); })
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("is_cuda", &Tensor::is_cuda)
      .def_property_readonly("is_cpu", [](const Tensor& t) { return t.device().is_cpu(); })
      .def("is_floating_point", &Tensor::is_floating_point)
      .def(
          "stride",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return py::tuple(py::cast(t.strides()));
            return py::int_(t.stride(to_int(dim, "dim")));
          },
          py::arg("dim") = py::none())
      .def("storage_offset", &Tensor::storage_offset)
      .def("_storage_nbytes", [](const Tensor& t) { return t.storage() ? t.storage()->nbytes() : size_t(0); })
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def("element_size", &Tensor::element_size)
      .def_property_readonly("itemsize", &Tensor::element_size)
      .def_property_readonly("nbytes", &Tensor::nbytes)
      .def(
          "is_contiguous", [](const Tensor& t, py::object) { return t.is_contiguous(); },
          py::arg("memory_format") = py::none())
      .def_property_readonly("_version", [](const Tensor& t) { return t.version(); })
      .def("__repr__", [](const Tensor& t) { return t.str(); })
      .def("__len__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
             return t.size(0);
           })
      .def("__hash__", [](py::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); })
      .def("item",
           [](const Tensor& t) {
             if (t.numel() != 1)
               throw py::value_error("a Tensor with " + std::to_string(t.numel()) +
                                     " elements cannot be converted to Scalar");
             return scalar_to_python(t.item());
           })
      .def("__bool__",
           [](const Tensor& t) {
             if (t.numel() != 1)
               throw std::runtime_error(
                   "Boolean value of Tensor with more "
                   "than one value is ambiguous");
             return t.item().to_bool();
           })
      .def("__float__",
           [](const Tensor& t) {
             if (t.numel() != 1)
               throw py::type_error(
                   "only one element tensors can be converted "
                   "to Python scalars");
             return t.item().to_double();
           })
      .def("__int__",
           [](const Tensor& t) -> py::object {
             if (t.numel() != 1)
               throw py::type_error(
                   "only one element tensors can be converted "
                   "to Python scalars");
             const Scalar s = t.item();
             if (!s.is_floating()) return py::int_(s.to_int());
             // As Python's int(float): exact at any magnitude, OverflowError
             // for infinities, ValueError for NaN.
             py::object r = py::reinterpret_steal<py::object>(PyLong_FromDouble(s.to_double()));
             if (!r) throw py::error_already_set();
             return r;
           })
      .def("__index__",
           [](const Tensor& t) {
             if (t.numel() != 1 || !is_integral(t.dtype(), true))
               throw py::type_error(
                   "only integer tensors of a single element "
                   "can be converted to an index");
             return t.item().to<int64_t>();
           })
      .def("__iter__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw py::type_error("iteration over a 0-d tensor");
             return py::iter(tensors_to_list(t.unbind(0)));
           })
      .def(
          "numpy",
          [](const Tensor& t, bool force) {
            if (!force && t.requires_grad())
              throw std::runtime_error(
                  "Can't call numpy() on Tensor that requires grad. Use "
                  "tensor.detach().numpy() instead.");
            return to_numpy(t, force);
          },
          py::arg("force") = false);
}

void bind_construction(py::module_& m, py::class_<Tensor>& cls) {
  // ---- construction and .data ----
  // Tensor(t) aliases t's data as a new leaf (what nn.Parameter builds on);
  // Tensor(2, 3) is an uninitialized tensor of the default dtype (float32); Tensor([..]) copies data.
  cls.def(py::init([](py::args args) {
    if (args.size() == 1 && py::isinstance<Tensor>(args[0])) return args[0].cast<const Tensor&>().detach();
    if (args.size() == 1 && py::isinstance<py::sequence>(args[0]) && !py::isinstance<py::str>(args[0]) &&
        py::str(py::type::of(args[0]).attr("__name__")).cast<std::string>() != "Size")
      return from_numpy_copy(py::module_::import("numpy").attr("asarray")(args[0], dtype_name(default_dtype())),
                             std::nullopt, Device());
    return empty(shape_from_args(args, "Tensor"), TensorOptions(default_dtype()));
  }));
  // Identity of the underlying tensor: two Python objects wrapping one C++ tensor (a C++ module's parameter
  // fetched twice) have the same _impl_id; Module.parameters() deduplicates by it.
  cls.def_property_readonly("_impl_id", [](const Tensor& self) { return reinterpret_cast<uintptr_t>(self.impl()); });
  cls.def_property("data", &Tensor::detach, [](Tensor& self, const Tensor& other) {
    // Swaps in other's data and metadata; autograd state stays with self.
    auto* a = self.impl();
    auto* b = other.impl();
    a->storage_ = b->storage_;
    a->sizes_ = b->sizes_;
    a->strides_ = b->strides_;
    a->offset_ = b->offset_;
    a->dtype_ = b->dtype_;
  });
}

void bind_conversions(py::module_& m, py::class_<Tensor>& cls) {
  // ---- conversions ----
  // Tensor.to converts the dtype and / or the device: the docs of both registry ops.
  cls.def("to", &tensor_to, (std::string(registry_doc("to_dtype")) + "\n\n" + registry_doc("to_device")).c_str())
      .def("cpu",
           [](const Tensor& t) {
             py::gil_scoped_release g;
             return t.cpu();
           })
      .def(
          "cuda",
          [](const Tensor& t, py::object device, bool non_blocking) {
            Device d = device.is_none() ? Device(DeviceType::CUDA, 0) : to_device(device);
            if (d.is_cpu()) throw py::value_error("cuda(): expected a CUDA device, got cpu");
            py::gil_scoped_release g;
            return t.to(d, non_blocking);
          },
          py::arg("device") = py::none(), py::arg("non_blocking") = false)
      .def("float", [](const Tensor& t) { return t.to(DType::Float32); })
      .def("double", [](const Tensor& t) { return t.to(DType::Float64); })
      .def("long", [](const Tensor& t) { return t.to(DType::Int64); })
      .def("int", [](const Tensor& t) { return t.to(DType::Int32); })
      .def("bool", [](const Tensor& t) { return t.to(DType::Bool); })
      .def(
          "type",
          [](const Tensor& t, py::object dtype) -> py::object {
            if (dtype.is_none()) return py::str(std::string("loom.") + dtype_name(t.dtype()));
            return py::cast(t.to(to_dtype(dtype)));
          },
          py::arg("dtype") = py::none())
      .def("detach", &Tensor::detach)
      .def("detach_",
           [](py::object self) {
             self.cast<Tensor&>().detach_();
             return self;
           })
      .def(
          "clone", [](const Tensor& t, py::object) { return t.clone(); }, py::arg("memory_format") = py::none(),
          registry_doc("clone"))
      .def(
          "flip",
          [](const Tensor& t, py::args a, py::kwargs kw) {
            if (kw.contains("dims")) {
              if (a.size() > 0 || kw.size() > 1)
                throw py::type_error("flip(): takes dims once, as positional integers or as dims=");
              return t.flip(to_dims(kw["dims"]));
            }
            for (auto item : kw)
              throw py::type_error("flip() got an unexpected keyword argument '" +
                                   py::str(item.first).cast<std::string>() + "'");
            if (a.size() == 0) throw py::type_error("flip() missing 1 required positional argument: \"dims\"");
            return t.flip(shape_from_args(a, "flip"));
          },
          registry_doc("flip"))
      .def(
          "contiguous", [](const Tensor& t, py::object) { return t.contiguous(); },
          py::arg("memory_format") = py::none(), registry_doc("contiguous"))
      .def(
          "copy_",
          [](py::object self, py::object src, bool non_blocking) {
            Tensor s = to_tensor(src, "copy_", "src");
            Tensor& t = self.cast<Tensor&>();
            {
              py::gil_scoped_release g;
              t.copy_(s, non_blocking);
            }
            return self;
          },
          py::arg("src"), py::arg("non_blocking") = false, registry_doc("copy_"))
      .def(
          "fill_",
          [](py::object self, py::object v) {
            Tensor& t = self.cast<Tensor&>();
            Scalar s = to_scalar(v, "fill_");
            check_fits(s, t.dtype(), "fill_");
            t.fill_(s);
            return self;
          },
          registry_doc("fill_"))
      .def("zero_", [](py::object self) {
        self.cast<Tensor&>().zero_();
        return self;
      });
}

// squeeze's dim argument (an int or a sequence): wrapped, without repeats, last first.
static Dims squeeze_dims(const Tensor& t, py::handle dim, const char* op) {
  Dims ds = to_dims(dim);
  for (auto& d : ds) d = wrap_dim(d, t.dim(), op);
  std::sort(ds.rbegin(), ds.rend());
  for (size_t i = 1; i < ds.size(); ++i)
    if (ds[i] == ds[i - 1])
      throw std::runtime_error(std::string(op) + ": dim " + std::to_string(ds[i]) +
                               " appears multiple times in the list of dims");
  return ds;
}

void bind_views(py::module_& m, py::class_<Tensor>& cls) {
  // ---- views ----
  cls.def(
         "view",
         [](const Tensor& t, py::args a) {
           if (a.size() == 1 && (py::isinstance<PyDType>(a[0])))
             throw py::type_error("view(dtype) is not supported; use .to(dtype)");
           return t.view(shape_from_args(a, "view"));
         },
         registry_doc("view"))
      .def(
          "reshape", [](const Tensor& t, py::args a) { return t.reshape(shape_from_args(a, "reshape")); },
          registry_doc("reshape"))
      .def("view_as", &Tensor::view_as)
      .def("reshape_as", &Tensor::reshape_as)
      .def(
          "permute", [](const Tensor& t, py::args a) { return t.permute(shape_from_args(a, "permute")); },
          registry_doc("permute"))
      .def("transpose", &Tensor::transpose, py::arg("dim0"), py::arg("dim1"))
      .def("swapaxes", &Tensor::transpose, py::arg("dim0"), py::arg("dim1"))
      .def("t", &Tensor::t)
      .def_property_readonly("T",
                             [](const Tensor& t) {
                               if (t.dim() <= 2) return t.dim() < 2 ? t : t.t();
                               Dims d;
                               for (int64_t i = t.dim() - 1; i >= 0; --i) d.push_back(i);
                               return t.permute(d);
                             })
      .def_property_readonly("mT", [](const Tensor& t) { return t.transpose(-2, -1); })
      .def("narrow", &Tensor::narrow, py::arg("dim"), py::arg("start"), py::arg("length"), registry_doc("narrow"))
      .def("select", &Tensor::select, py::arg("dim"), py::arg("index"), registry_doc("select"))
      .def(
          "expand", [](const Tensor& t, py::args a) { return t.expand(shape_from_args(a, "expand")); },
          registry_doc("expand"))
      .def("expand_as", &Tensor::expand_as)
      .def(
          "squeeze",
          [](const Tensor& t, py::object dim) {
            if (dim.is_none()) return t.squeeze();
            Tensor r = t;
            for (auto d : squeeze_dims(t, dim, "squeeze")) r = r.squeeze(d);
            return r;
          },
          py::arg("dim") = py::none(), registry_doc("squeeze"))
      .def("unsqueeze", &Tensor::unsqueeze, py::arg("dim"), registry_doc("unsqueeze"))
      .def("flatten", &Tensor::flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1)
      .def(
          "unflatten",
          [](const Tensor& t, int64_t dim, py::object sizes) {
            Shape s;
            for (auto x : sizes) s.push_back(to_int(x, "unflatten"));
            return t.unflatten(dim, s);
          },
          py::arg("dim"), py::arg("sizes"))
      .def(
          "as_strided",
          [](const Tensor& t, Shape size, Shape stride, std::optional<int64_t> off) {
            return t.as_strided(size, stride, off);
          },
          py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none(), registry_doc("as_strided"))
      .def(
          "split",
          [](const Tensor& t, py::object s, int64_t dim) {
            if (py::isinstance<py::sequence>(s)) return tensors_to_list(t.split_with_sizes(s.cast<Shape>(), dim));
            return tensors_to_list(t.split(to_int(s, "split_size"), dim));
          },
          py::arg("split_size_or_sections"), py::arg("dim") = 0)
      .def(
          "chunk", [](const Tensor& t, int64_t c, int64_t dim) { return tensors_to_list(t.chunk(c, dim)); },
          py::arg("chunks"), py::arg("dim") = 0)
      .def(
          "unbind", [](const Tensor& t, int64_t dim) { return tensors_to_list(t.unbind(dim)); }, py::arg("dim") = 0);
  // In-place views: the tensor itself (the same Python object) with the view's geometry.
  const auto transpose_ = [](py::object self, int64_t d0, int64_t d1) {
    self.cast<Tensor&>().transpose_(d0, d1);
    return self;
  };
  cls.def("transpose_", transpose_, py::arg("dim0"), py::arg("dim1"))
      .def("swapaxes_", transpose_, py::arg("axis0"), py::arg("axis1"))
      .def("swapdims_", transpose_, py::arg("dim0"), py::arg("dim1"))
      .def("t_",
           [](py::object self) {
             self.cast<Tensor&>().t_();
             return self;
           })
      .def(
          "squeeze_",
          [](py::object self, py::object dim) {
            Tensor& t = self.cast<Tensor&>();
            if (dim.is_none()) {
              t.squeeze_();
              return self;
            }
            for (auto d : squeeze_dims(t, dim, "squeeze_")) t.squeeze_(d);
            return self;
          },
          py::arg("dim") = py::none())
      .def(
          "unsqueeze_",
          [](py::object self, int64_t dim) {
            self.cast<Tensor&>().unsqueeze_(dim);
            return self;
          },
          py::arg("dim"))
      .def(
          "as_strided_",
          [](py::object self, Shape size, Shape stride, std::optional<int64_t> off) {
            self.cast<Tensor&>().as_strided_(size, stride, off);
            return self;
          },
          py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());
}

void bind_numpy_and_factories(py::module_& m, py::class_<Tensor>& cls) {
  // ---- NumPy and factories ----
  m.def(
      "from_numpy",
      [](py::object a) {
        if (!py::isinstance<py::array>(a))
          throw py::type_error("from_numpy(): expected np.ndarray (got " +
                               std::string(py::str(py::type::of(a).attr("__name__"))) + ")");
        return from_numpy_shared(a.cast<py::array>());
      },
      py::arg("ndarray"));
  m.def("_from_numpy_copy", [](py::array a, py::object dtype, py::object device) {
    return from_numpy_copy(a, to_dtype_opt(dtype), to_device_opt(device).value_or(Device()));
  });
  m.def("_numpy_dtype", [](py::object dtype) { return numpy_dtype(to_dtype(dtype)); });
  m.def("_dtype_from_numpy", [](py::dtype d) { return dtype_object(dtype_from_numpy(d)); });

  // Messages use name + 1, the public name without the leading '_' ("rand(): ...").
  // doc: the registry's docstring of the op behind the factory, if it has one.
  auto def_shape_factory = [&m](const char* name, Tensor (*fn)(const Shape&, const TensorOptions&),
                                const char* doc = nullptr) {
    m.def(
        name,
        [fn, name](const Shape& shape, py::object dtype, py::object device, bool rg, py::object generator) {
          TensorOptions o = make_options(dtype, device, false);
          Tensor t = draw_with(generator, o.device, o.device, name + 1, [&] { return fn(shape, o); });
          if (rg) t.requires_grad_(true);
          return t;
        },
        py::arg("shape"), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, py::arg("generator") = py::none(), doc);
  };
  def_shape_factory("_empty", &empty);
  def_shape_factory("_zeros", &zeros);
  def_shape_factory("_ones", &ones);
  def_shape_factory("_rand", &rand, registry_doc("rand"));
  def_shape_factory("_randn", &randn, registry_doc("randn"));
  m.def("_full", [](const Shape& shape, py::object value, py::object dtype, py::object device, bool rg) {
    Scalar v = to_scalar(value, "full");
    TensorOptions o = make_options(dtype, device, false, v.default_dtype());
    check_fits(v, o.dtype, "full");
    Tensor t = full(shape, v, o);
    if (rg) t.requires_grad_(true);
    return t;
  });
  m.def(
      "_arange",
      [](py::object start, py::object end, py::object step, py::object dtype, py::object device, bool rg) {
        Scalar s = to_scalar(start, "arange"), e = to_scalar(end, "arange"), st = to_scalar(step, "arange");
        Tensor t;
        if (dtype.is_none()) {
          t = arange(s, e, st);
          if (!device.is_none()) t = t.to(to_device(device));
        } else {
          t = arange(s, e, st, make_options(dtype, device, false));
        }
        if (rg) t.requires_grad_(true);
        return t;
      },
      registry_doc("arange"));
  m.def(
      "_linspace",
      [](double s, double e, int64_t steps, py::object dtype, py::object device, bool rg) {
        Tensor t = linspace(s, e, steps, make_options(dtype, device, false));
        if (rg) t.requires_grad_(true);
        return t;
      },
      registry_doc("linspace"));
  m.def("_eye", [](int64_t n, std::optional<int64_t> mm, py::object dtype, py::object device, bool rg) {
    Tensor t = eye(n, mm, make_options(dtype, device, false));
    if (rg) t.requires_grad_(true);
    return t;
  });
  m.def(
      "_randint",
      [](py::handle low, py::handle high, const Shape& shape, py::object dtype, py::object device, bool rg,
         py::object generator) {
        TensorOptions o = make_options(dtype, device, false, DType::Int64);
        const int64_t lo = to_int(low, "randint(): low"), hi = to_int(high, "randint(): high");
        // As PyTorch: low and high - 1 must be values of an int32 or bool result
        // (float results only lose precision). high <= low raises in randint().
        if (hi > lo && (o.dtype == DType::Int32 || o.dtype == DType::Bool)) {
          const int64_t mn = o.dtype == DType::Int32 ? std::numeric_limits<int32_t>::min() : 0;
          const int64_t mx = o.dtype == DType::Int32 ? std::numeric_limits<int32_t>::max() : 1;
          const char* name = dtype_name(o.dtype);
          if (lo < mn || lo > mx)
            throw std::runtime_error("randint(): low = " + std::to_string(lo) + " is out of bounds for " + name);
          if (hi - 1 < mn || hi - 1 > mx)
            throw std::runtime_error("randint(): high - 1 = " + std::to_string(hi - 1) + " is out of bounds for " +
                                     name);
        }
        Tensor t = draw_with(generator, o.device, o.device, "randint", [&] { return randint(lo, hi, shape, o); });
        if (rg) t.requires_grad_(true);
        return t;
      },
      registry_doc("randint"));
  m.def("_randperm", [](int64_t n, py::object dtype, py::object device, bool rg, py::object generator) {
    TensorOptions o = make_options(dtype, device, false, DType::Int64);
    // randperm draws its sort keys on the CPU whatever the output device.
    Tensor t = draw_with(generator, o.device, Device(), "randperm", [&] { return randperm(n, o); });
    if (rg) t.requires_grad_(true);
    return t;
  });
  // data=True is tensor(number): as in PyTorch, a float beyond the float32
  // range rounds (to inf) there, while scalar_tensor checks it as a fill value.
  m.def(
      "_scalar_tensor",
      [](py::object v, py::object dtype, py::object device, bool data) {
        Scalar s = to_scalar(v, "tensor");
        TensorOptions o = make_options(dtype, device, false, s.default_dtype());
        if (data && o.dtype == DType::Float32 && s.is_floating() &&
            std::fabs(s.to_double()) > std::numeric_limits<float>::max())
          return scalar_tensor(s, TensorOptions(DType::Float64, o.device)).to(DType::Float32);
        check_fits(s, o.dtype, "tensor");
        return full({}, s, o);
      },
      py::arg("value"), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("data") = false);
  using LikeFn = Tensor (*)(const Tensor&, std::optional<TensorOptions>);
  auto def_like = [&m](const char* name, LikeFn fn) {
    m.def(
        name,
        [fn, name](const Tensor& t, py::object dtype, py::object device, bool rg, py::object generator) {
          TensorOptions o = make_options(dtype, device, false, t.dtype());
          if (device.is_none()) o.device = t.device();
          Tensor r = draw_with(generator, o.device, o.device, name + 1, [&] { return fn(t, o); });
          if (rg) r.requires_grad_(true);
          return r;
        },
        py::arg("input"), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, py::arg("generator") = py::none());
  };
  def_like("_empty_like", &empty_like);
  def_like("_zeros_like", &zeros_like);
  def_like("_ones_like", &ones_like);
  def_like("_rand_like", &rand_like);
  def_like("_randn_like", &randn_like);
  m.def("_full_like", [](const Tensor& t, py::object value, py::object dtype, py::object device, bool rg) {
    TensorOptions o = make_options(dtype, device, false, t.dtype());
    if (device.is_none()) o.device = t.device();
    Scalar v = to_scalar(value, "full_like");
    check_fits(v, o.dtype, "full_like");
    Tensor r = full(t.sizes(), v, o);
    if (rg) r.requires_grad_(true);
    return r;
  });
}

}  // namespace

void init_tensor(py::module_& m, py::class_<Tensor>& cls) {
  bind_metadata(m, cls);
  bind_construction(m, cls);
  bind_conversions(m, cls);
  bind_views(m, cls);
  bind_numpy_and_factories(m, cls);
}

}  // namespace loom::python
