// Shared helpers of the loom._C binding: conversions from Python objects to
// the C++ argument types (dtype, device, scalar, dims, shapes) with PyTorch's
// exception types, and the registration entry points of each source file.
#pragma once
#ifdef PYBIND11_TYPE_CASTER
#error "include python/src/common.h before any pybind11 header: its std::string caster must be declared first"
#endif
#include <pybind11/detail/common.h>

#include <string>

// Every std::string argument of loom._C (paths, device and dtype strings,
// tokenizer text, reductions, and each .cast<std::string>()) loads through
// this caster. pybind11's own one turns a str without a UTF-8 form (a lone
// surrogate such as "\ud800") into "incompatible function arguments"; this
// one raises ValueError saying where the surrogate is. The explicit
// specialization is declared before pybind11 defines the primary template, so
// that no use can precede it; it is defined below, once string_caster exists.
PYBIND11_NAMESPACE_BEGIN(PYBIND11_NAMESPACE)
PYBIND11_NAMESPACE_BEGIN(detail)
template <typename type, typename SFINAE>
class type_caster;
template <>
class type_caster<std::string, void>;
PYBIND11_NAMESPACE_END(detail)
PYBIND11_NAMESPACE_END(PYBIND11_NAMESPACE)

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <memory>
#include <optional>

#include "core/tensor.h"

namespace py = pybind11;

namespace loom::python {
// ValueError for a str that has no UTF-8 form, naming its first lone surrogate.
[[noreturn]] void raise_not_utf8(py::handle str);
}  // namespace loom::python

PYBIND11_NAMESPACE_BEGIN(PYBIND11_NAMESPACE)
PYBIND11_NAMESPACE_BEGIN(detail)
template <>
class type_caster<std::string, void> : public string_caster<std::string> {
 public:
  bool load(handle src, bool convert) {
    if (string_caster<std::string>::load(src, convert)) return true;
    if (src && PyUnicode_Check(src.ptr())) loom::python::raise_not_utf8(src);
    return false;
  }
};
PYBIND11_NAMESPACE_END(detail)
PYBIND11_NAMESPACE_END(PYBIND11_NAMESPACE)

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
// A Python int as int64; RuntimeError naming who and the value when it does
// not fit (PyTorch: "Overflow when unpacking long"), never a silent wrap.
int64_t py_int_to_int64(py::handle h, const std::string& who);
// RuntimeError unless v converts to dtype without overflow (an int into
// int32, a float into an integer dtype or float32), as PyTorch's fill checks.
void check_fits(const Scalar& v, DType dtype, const char* op);
// The bytes of a file name: str (surrogateescape undone, as os.fsencode),
// bytes or os.PathLike; TypeError or ValueError (a lone surrogate) otherwise.
std::string to_fs_path(py::handle path, const char* op);
// A sequence of ints as an argument: a sequence other than str, bytes and
// Tensor (a Tensor converts as one int through __index__, or raises TypeError).
bool is_int_sequence(py::handle h);
// The items of a sequence; an error from its __len__ or __getitem__ raises
// here (iterating a py::sequence would leave it set: SystemError later).
py::list sequence_items(py::handle h);
Dims to_dims(py::handle h);  // None, int, sequence of ints
Shape shape_from_args(const py::args& args,
                      const char* op);  // f(2, 3) or f((2, 3))
int64_t to_int(py::handle h, const char* what);
// An int or a sequence of n ints (one int repeats), as PyTorch's _single /
// _pair: kernel_size, stride, padding and dilation of the conv and pool ops.
Dims int_or_tuple(py::handle h, size_t n, const char* op, const char* name);
// An optional Tensor argument: None gives an undefined Tensor.
Tensor opt_tensor(py::handle h, const char* op, const char* arg);

py::object size_object(const Shape& s);  // loom.Size
py::object as_python(const Tensor& t);   // cast, None when undefined
py::object scalar_to_python(const Scalar& s);

// Copies a NumPy array (any layout) into a new tensor.
Tensor from_numpy_copy(pybind11::array arr, std::optional<DType> dtype, Device device);

// generator=: draw() runs with the loom.Generator's Philox state swapped in
// for the global state of draws_on (the device the op draws from), checking
// that the generator's device type is out's; None runs draw() as it is.
Tensor draw_with(py::handle generator, Device out, Device draws_on, const char* op,
                 const std::function<Tensor()>& draw);
uint64_t to_seed(py::handle h, const char* op);  // PyTorch's [-2^63, 2^64), negative wraps

TensorOptions make_options(py::handle dtype, py::handle device, bool requires_grad,
                           DType default_dtype = ::loom::default_dtype());

// A Python callable kept by C++ (hooks, custom functions); drops its
// reference with the GIL held, whichever thread releases it.
std::shared_ptr<py::object> keep_python(py::object o);

void init_tensor(py::module_& m, py::class_<Tensor>& cls);
void init_index_subscript(py::class_<Tensor>& cls);  // Tensor.__getitem__ / __setitem__
// The Tensor ops: one entry per op family (pointwise.cpp, pointwise_bitwise.cpp,
// reduce.cpp, matmul.cpp, softmax.cpp, index.cpp, copy.cpp).
void init_pointwise(py::module_& m, py::class_<Tensor>& cls);
void init_pointwise_bitwise(py::class_<Tensor>& cls);
void init_reduce(py::class_<Tensor>& cls);
void init_sort(py::module_& m, py::class_<Tensor>& cls);
void init_matmul(py::module_& m, py::class_<Tensor>& cls);
void init_softmax(py::class_<Tensor>& cls);
void init_index(py::module_& m, py::class_<Tensor>& cls);
void init_copy(py::module_& m);
void init_autograd(py::module_& m, py::class_<Tensor>& cls);
void init_cuda(py::module_& m);
void init_dlpack(py::module_& m, py::class_<Tensor>& cls);
void init_generator(py::module_& m);

// Op families add their functions to loom._C._functional (re-exported by
// loom.nn.functional) from their own source file, without touching this one:
//   static loom::python::RegisterFunctional reg([](py::module_& f) { f.def("conv2d", ...); });
using FunctionalBinder = void (*)(py::module_& functional);
struct RegisterFunctional {
  explicit RegisterFunctional(FunctionalBinder binder);
};
void init_functional(py::module_& m);

}  // namespace loom::python
