// Shared helpers of the loom._C binding: conversions from Python objects to
// the C++ argument types (dtype, device, scalar, dims, shapes) with PyTorch's
// exception types, and the registration entry points of each source file.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "core/tensor.h"

namespace py = pybind11;

namespace loom::python {

// The Python-visible dtype object (loom.float32 ...): one singleton per DType.
struct PyDType {
  DType type;
};
py::object dtype_object(DType t);  // the singleton

DType to_dtype(py::handle h);  // loom dtype, "float32", numpy dtype, float/int/bool
std::optional<DType> to_dtype_opt(py::handle h);
Device to_device(py::handle h);  // loom.device, "cuda:0", int (CUDA index)
std::optional<Device> to_device_opt(py::handle h);
bool is_scalar(py::handle h);                    // bool, int, float, numpy scalar
Scalar to_scalar(py::handle h, const char* op);  // TypeError for anything else
Tensor to_tensor(py::handle h, const char* op,
                 const char* arg = "argument");  // Tensor only
Tensor to_tensor_like(py::handle h, const Tensor& like,
                      const char* op);  // Tensor or scalar (0-d on like's device)
Dims to_dims(py::handle h);             // None, int, sequence of ints
Shape shape_from_args(const py::args& args,
                      const char* op);  // f(2, 3) or f((2, 3))
int64_t to_int(py::handle h, const char* what);

py::object size_object(const Shape& s);  // loom.Size
py::object as_python(const Tensor& t);   // cast, None when undefined
py::object scalar_to_python(const Scalar& s);

// Copies a NumPy array (any layout) into a new tensor.
Tensor from_numpy_copy(pybind11::array arr, std::optional<DType> dtype, Device device);

TensorOptions make_options(py::handle dtype, py::handle device, bool requires_grad,
                           DType default_dtype = DType::Float32);

// A Python callable kept by C++ (hooks, custom functions); drops its
// reference with the GIL held, whichever thread releases it.
std::shared_ptr<py::object> keep_python(py::object o);

void init_tensor(py::module_& m, py::class_<Tensor>& cls);
void init_indexing(py::class_<Tensor>& cls);
void init_ops(py::module_& m, py::class_<Tensor>& cls);
void init_autograd(py::module_& m, py::class_<Tensor>& cls);
void init_cuda(py::module_& m);
void init_dlpack(py::module_& m, py::class_<Tensor>& cls);

// Op families add their functions to loom._C._functional (re-exported by
// loom.nn.functional) from their own source file, without touching this one:
//   static loom::python::RegisterFunctional reg([](py::module_& f) { f.def("conv2d", ...); });
using FunctionalBinder = void (*)(py::module_& functional);
struct RegisterFunctional {
  explicit RegisterFunctional(FunctionalBinder binder);
};
void init_functional(py::module_& m);

}  // namespace loom::python
