// DLPack exchange: Tensor.__dlpack__ / __dlpack_device__ (producer) and
// loom.from_dlpack (consumer). Both directions share memory. The producer's
// manager context holds a Tensor, so the loom storage lives until the
// consumer calls the deleter; the consumer's storage calls the producer's
// deleter when the last loom view of it goes away.
#include "dlpack.h"

#include "common.h"
#include "core/cuda.h"

namespace loom::python {

namespace {

constexpr const char* kCapsule = "dltensor";
constexpr const char* kUsedCapsule = "used_dltensor";

struct ExportCtx {
  Tensor tensor;
  std::vector<int64_t> shape, strides;
  DLManagedTensor managed;
};

DLDataType to_dl(DType t) {
  switch (t) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
  }
  throw py::type_error("__dlpack__: unsupported dtype");
}

DType from_dl(DLDataType t) {
  if (t.lanes != 1) throw py::type_error("from_dlpack: vector (lanes > 1) types are not supported");
  if (t.code == kDLBool && t.bits == 8) return DType::Bool;
  if (t.code == kDLInt && t.bits == 32) return DType::Int32;
  if (t.code == kDLInt && t.bits == 64) return DType::Int64;
  if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
  if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
  throw py::type_error("from_dlpack: unsupported DLPack dtype (code " + std::to_string(t.code) + ", bits " +
                       std::to_string(t.bits) + "); loom supports bool, int32, int64, float32 and float64");
}

DLDevice dl_device(const Device& d) { return d.is_cuda() ? DLDevice{kDLCUDA, d.index} : DLDevice{kDLCPU, 0}; }

void export_deleter(DLManagedTensor* m) { delete static_cast<ExportCtx*>(m->manager_ctx); }

void capsule_destructor(PyObject* capsule) {
  // Only a capsule nobody consumed still owns its tensor.
  if (PyCapsule_IsValid(capsule, kCapsule)) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsule));
    if (m && m->deleter) m->deleter(m);
  } else {
    PyErr_Clear();
  }
}

py::object to_dlpack(const Tensor& t, py::object stream) {
  if (t.requires_grad()) throw std::runtime_error("Can't export tensors that require gradient, use tensor.detach()");
  if (t.is_cuda() && !stream.is_none()) {
    // The consumer's stream must see our writes; the simplest correct answer
    // is to finish all work on the device first.
    py::gil_scoped_release nogil;
    cuda::synchronize(t.device().index);
  }
  auto* ctx = new ExportCtx;
  ctx->tensor = t;
  ctx->shape = t.sizes();
  ctx->strides = t.strides();
  DLTensor& dl = ctx->managed.dl_tensor;
  dl.data = t.data_ptr();
  dl.device = dl_device(t.device());
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = to_dl(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  dl.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = &export_deleter;
  PyObject* cap = PyCapsule_New(&ctx->managed, kCapsule, &capsule_destructor);
  if (!cap) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(cap);
}

Tensor from_capsule(py::object capsule) {
  PyObject* cap = capsule.ptr();
  if (!PyCapsule_IsValid(cap, kCapsule)) {
    if (PyCapsule_CheckExact(cap) && PyCapsule_IsValid(cap, kUsedCapsule))
      throw py::value_error("from_dlpack: this DLPack capsule was already consumed");
    throw py::type_error(
        "from_dlpack: expected an object with __dlpack__ or a "
        "'dltensor' capsule");
  }
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, kCapsule));
  const DLTensor& dl = m->dl_tensor;
  // Until the capsule is renamed, it still owns the tensor: errors here leave
  // it to the capsule's destructor.
  DType dt = from_dl(dl.dtype);
  Device dev;
  if (dl.device.device_type == kDLCPU || dl.device.device_type == kDLCUDAHost) {
    dev = Device();
  } else if (dl.device.device_type == kDLCUDA || dl.device.device_type == kDLCUDAManaged) {
    if (!cuda::built_with_cuda())
      throw std::runtime_error("from_dlpack: got a CUDA tensor, but loom was built without CUDA");
    dev = Device(DeviceType::CUDA, dl.device.device_id);
  } else {
    throw py::type_error("from_dlpack: unsupported device type " + std::to_string(dl.device.device_type));
  }
  Shape shape(dl.shape, dl.shape + dl.ndim), strides(dl.ndim);
  if (dl.strides) {
    for (int i = 0; i < dl.ndim; ++i) strides[i] = dl.strides[i];
  } else {
    int64_t s = 1;
    for (int i = dl.ndim - 1; i >= 0; --i) {
      strides[i] = s;
      s *= shape[i];
    }
  }
  void* data = static_cast<char*>(dl.data) + dl.byte_offset;
  // From here on loom owns the producer's tensor.
  if (PyCapsule_SetName(cap, kUsedCapsule) != 0) throw py::error_already_set();
  std::shared_ptr<void> owner(static_cast<void*>(m), [](void* p) {
    auto* mt = static_cast<DLManagedTensor*>(p);
    if (!mt->deleter) return;
    if (Py_IsInitialized()) {
      py::gil_scoped_acquire gil;  // producers such as NumPy touch Python objects
      mt->deleter(mt);
    } else {
      mt->deleter(mt);
    }
  });
  return from_shared(owner, data, shape, strides, dt,
                     dev);  // on error, `owner` releases the tensor
}

}  // namespace

void init_dlpack(py::module_& m, py::class_<Tensor>& cls) {
  cls.def(
      "__dlpack__", [](const Tensor& t, py::object stream, py::kwargs) { return to_dlpack(t, stream); },
      py::arg("stream") = py::none());
  cls.def("__dlpack_device__", [](const Tensor& t) {
    DLDevice d = dl_device(t.device());
    return py::make_tuple(static_cast<int>(d.device_type), d.device_id);
  });
  m.def("to_dlpack", [](const Tensor& t) { return to_dlpack(t, py::none()); });
  m.def(
      "from_dlpack",
      [](py::object obj) {
        if (py::hasattr(obj, "__dlpack__")) {
          py::object cap;
          if (py::hasattr(obj, "__dlpack_device__")) {
            py::tuple dev = obj.attr("__dlpack_device__")();
            // CUDA producers take the consumer's stream; loom works on the
            // legacy default stream (1).
            if (dev[0].cast<int>() == kDLCUDA) cap = obj.attr("__dlpack__")(py::arg("stream") = 1);
          }
          if (!cap) cap = obj.attr("__dlpack__")();
          return from_capsule(cap);
        }
        return from_capsule(obj);
      },
      py::arg("ext_tensor"));
}

}  // namespace loom::python
