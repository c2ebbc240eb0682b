// loom._C._cuda's run-time kernels (core/rtc.h): compile_kernel and the
// RtcKernel object that loom.cuda.compile_kernel wraps.
#include "common.h"

#include "core/rtc.h"

namespace loom::python {

namespace {

cuda::Dim3 to_dim3(py::handle h, const char* what) {
  cuda::Dim3 d;
  std::vector<int64_t> v;
  if (py::isinstance<py::int_>(h)) {
    v.push_back(h.cast<int64_t>());
  } else if (py::isinstance<py::tuple>(h) || py::isinstance<py::list>(h)) {
    for (auto x : h) {
      if (!py::isinstance<py::int_>(x)) throw py::type_error(std::string(what) + " must be an int or a tuple of ints");
      v.push_back(x.cast<int64_t>());
    }
  } else {
    throw py::type_error(std::string(what) + " must be an int or a tuple of up to 3 ints");
  }
  if (v.empty() || v.size() > 3) throw py::value_error(std::string(what) + " must have 1 to 3 dimensions");
  for (int64_t x : v)
    if (x < 1 || x > int64_t(UINT32_MAX)) throw py::value_error(std::string(what) + " dimensions must be >= 1");
  d.x = unsigned(v[0]);
  if (v.size() > 1) d.y = unsigned(v[1]);
  if (v.size() > 2) d.z = unsigned(v[2]);
  return d;
}

std::vector<cuda::KernelArg> to_args(py::handle args) {
  std::vector<cuda::KernelArg> out;
  for (auto a : args) {
    if (py::isinstance<Tensor>(a)) out.push_back(cuda::KernelArg::of(a.cast<Tensor>()));
    else if (py::isinstance<py::bool_>(a) || py::isinstance<py::int_>(a))
      out.push_back(cuda::KernelArg::of(a.cast<int64_t>()));
    else if (py::isinstance<py::float_>(a)) out.push_back(cuda::KernelArg::of(a.cast<double>()));
    else
      throw py::type_error("kernel arguments must be tensors, ints or floats, got " +
                           std::string(py::str(py::type::handle_of(a).attr("__name__"))));
  }
  return out;
}

const char* kind_name(cuda::KernelParam::Kind k) {
  switch (k) {
    case cuda::KernelParam::Kind::Pointer: return "pointer";
    case cuda::KernelParam::Kind::Int32: return "int32";
    case cuda::KernelParam::Kind::Int64: return "int64";
    case cuda::KernelParam::Kind::Float32: return "float32";
    case cuda::KernelParam::Kind::Float64: return "float64";
    case cuda::KernelParam::Kind::Bool: return "bool";
    default: return "other";
  }
}

}  // namespace

void init_rtc(py::module_& c) {
  py::class_<cuda::RtcKernel, std::shared_ptr<cuda::RtcKernel>>(c, "RtcKernel")
      .def_property_readonly("name", &cuda::RtcKernel::name)
      .def_property_readonly("lowered_name", &cuda::RtcKernel::lowered_name)
      .def_property_readonly("arch", &cuda::RtcKernel::arch)
      .def_property_readonly("log", &cuda::RtcKernel::log)
      .def_property_readonly("origin", &cuda::RtcKernel::origin)
      .def_property_readonly("binary_size", &cuda::RtcKernel::binary_size)
      .def_property_readonly("params",
                             [](const cuda::RtcKernel& k) {
                               py::list out;
                               for (const auto& p : k.params())
                                 out.append(py::make_tuple(p.type, p.name, kind_name(p.kind)));
                               return out;
                             })
      .def_property_readonly("flops", &cuda::RtcKernel::flops)
      .def_property_readonly("bytes", &cuda::RtcKernel::bytes)
      .def("set_cost", &cuda::RtcKernel::set_cost, py::arg("flops"), py::arg("bytes"))
      .def(
          "launch",
          [](const cuda::RtcKernel& k, py::handle grid, py::handle block, py::handle args, size_t shared_mem,
             uintptr_t stream) {
            const auto g = to_dim3(grid, "grid"), b = to_dim3(block, "block");
            const auto a = to_args(args);
            py::gil_scoped_release nogil;
            k.launch(g, b, a, shared_mem, reinterpret_cast<void*>(stream));
          },
          py::arg("grid"), py::arg("block"), py::arg("args"), py::arg("shared_mem") = 0, py::arg("stream") = 0);
  c.def(
      "compile_kernel",
      [](const std::string& source, const std::string& name, const std::vector<std::string>& options,
         const std::string& arch) {
        py::gil_scoped_release nogil;
        return cuda::RtcKernel::compile(source, name, options, arch);
      },
      py::arg("source"), py::arg("name"), py::arg("options") = std::vector<std::string>{}, py::arg("arch") = "");
  c.def("rtc_available", &cuda::rtc_available);
  c.def("rtc_default_arch", &cuda::rtc_default_arch);
  c.def("rtc_cache_dir", &cuda::rtc_cache_dir);
  c.def("rtc_clear_memory_cache", &cuda::rtc_clear_memory_cache);
}

}  // namespace loom::python
