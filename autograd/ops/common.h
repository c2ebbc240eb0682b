// Shared by the op front ends: building kernel loops from tensors, dispatching
// to the CPU or CUDA kernel, allocating outputs.
#pragma once
#include <initializer_list>
#include <vector>

#include "autograd/node.h"
#include "core/cuda.h"
#include "core/dispatch.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "kernels/loops.h"
#include "kernels/pointwise.h"

namespace loom::ops {

namespace kc = kernels::cpu;
namespace kg = kernels::cuda;

// stream_of and on_device (core/dispatch.h): the one dispatch mechanism.
using loom::on_device;
using loom::stream_of;

// on_device for one statement per device: LOOM_DEVICE_DISPATCH(dev,
// kc::f(args), kg::f(args, ops::stream_of(dev))).
#define LOOM_DEVICE_DISPATCH(dev, cpu_call, ...) \
  ::loom::ops::on_device((dev), __func__, [&] { cpu_call; }, [&](cudaStream_t) { __VA_ARGS__; })

// An iteration space over `shape` for operands already broadcast to it
// (operand 0 is the output). Size-1 dims are dropped and dims that are
// contiguous in every operand are merged, so contiguous tensors give ndim 1.
kernels::ElementwiseLoop make_loop(const Shape& shape, std::initializer_list<const Tensor*> operands);
kernels::ElementwiseLoop make_loop(const Shape& shape, const std::vector<Shape>& strides);

// The loop for reducing `in` over `dims` (sorted, unique) into `out`, whose
// shape keeps the reduced dims as 1 (keepdim form).
kernels::ReduceLoop make_reduce_loop(const Tensor& in, const Tensor& out_keepdim, const Dims& dims);

// Strides of `t` viewed with the broadcast shape `shape` (0 where broadcast).
Shape broadcast_strides(const Tensor& t, const Shape& shape);

// PyTorch's result dtype of an op on these tensors (undefined ones are
// skipped): dimensioned tensors promote among themselves, and 0-d tensors only
// count when their category (bool < integral < floating) is higher.
DType result_type(std::initializer_list<const Tensor*> ts);

// g summed to `shape` (autograd::sum_to) in dtype dt: the gradient of a broadcast input
// (autograd/ops/pointwise.cpp).
Tensor grad_for(const Tensor& g, const Shape& shape, DType dt);

// All tensors on the same device, else a RuntimeError naming the op.
void check_same_device(const char* op, std::initializer_list<const Tensor*> ts);
// broadcast_shapes whose error begins with the op's name ("where: The size of tensor a ...").
Shape broadcast_named(const char* op, const Shape& a, const Shape& b);

// A new tensor of `shape` like PyTorch's empty (contiguous).
inline Tensor new_empty(const Shape& shape, DType dt, Device dev) { return empty(shape, TensorOptions(dt, dev)); }

// Scratch memory of `bytes` on `dev` for a kernel, from the caching allocator
// (stream-ordered on the current stream); undefined when bytes is 0. Keep the
// tensor alive until the kernel is enqueued.
inline Tensor workspace(size_t bytes, Device dev) {
  if (bytes == 0) return Tensor();
  return new_empty({static_cast<int64_t>(bytes)}, DType::Bool, dev);
}
inline void* ptr_or_null(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

// Normalized, sorted, unique dims; empty input means all dims.
Dims reduce_dims(const Dims& dims, int64_t ndim, const char* op);
Shape keepdim_shape(const Shape& in, const Dims& dims);
Shape squeeze_dims(const Shape& keep, const Dims& dims);

// dst <- src (broadcast to dst) for any devices and dtypes; no autograd.
void copy_raw(const Tensor& dst, const Tensor& src, bool non_blocking);
void copy_same_device(const Tensor& dst, const Tensor& src);
// Elementwise kernels into an existing output (which may alias an input).
void run_unary(kernels::UnaryOp op, const Tensor& out, const Tensor& in);
void run_binary(kernels::BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void run_binary_scalar(kernels::BinaryOp op, const Tensor& out, const Tensor& a, double s);

// Raises for a written-to tensor in which two elements share one memory
// location (a stride of 0 on a dimension of size > 1, as expand makes): the
// result would depend on the write order. Other layouts pass, as in PyTorch.
// Also runs check_view_written_in_grad_mode (every in-place op calls this).
void check_no_internal_overlap(const Tensor& t, const char* op);

// ---- in-place ops and views (autograd/ops/view_inplace.cpp) ----
// The position, in its base's row-major order, of each element of a view
// (int64 [numel], on the base's device).
Tensor view_positions(const Tensor& base, const Tensor& view);
// Raises for an in-place op on a view of a leaf that requires grad (called by check_inplace).
void check_inplace_view(const Tensor& self, const char* op);
// Raises, in grad mode, for a write into a view that does not require grad
// (made in no_grad mode) of a base that does: the base's history would not
// see the write (called by check_no_internal_overlap and fill_).
void check_view_written_in_grad_mode(const Tensor& self, const char* op);
// After an in-place op wrote r's values into self: self's history becomes
// r's; for a view, its base's history becomes a CopySlices node over the
// base's old history and r, and self a view of it.
void rebase_history(const Tensor& self, const Tensor& r);

// Makes a tensor safe to modify in place under autograd: raises for leaves
// that require grad and for tensors that saved nodes depend on.
void check_inplace(const Tensor& self, const char* op);

}  // namespace loom::ops
