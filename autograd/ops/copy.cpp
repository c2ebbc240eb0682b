// Copies and conversions: copy_, contiguous, clone, flip, to(dtype/device), fill_,
// cat, stack. Same-device copies are one strided kernel that also converts
// dtypes; cross-device copies stage through a contiguous buffer.
#include <algorithm>

#include "autograd/ops/common.h"

namespace loom {

using autograd::LambdaNode;

namespace ops {

// dst <- src on the same device; src already broadcast to dst's shape.
void copy_same_device(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  auto loop = make_loop(dst.sizes(), {&dst, &src});
  LOOM_DEVICE_DISPATCH(
      dst.device(), kc::copy(dst.dtype(), dst.data_ptr(), src.dtype(), src.data_ptr(), loop),
      kg::copy(dst.dtype(), dst.data_ptr(), src.dtype(), src.data_ptr(), loop, stream_of(dst.device())));
}

// dst <- src for any devices and dtypes; no autograd.
void copy_raw(const Tensor& dst, const Tensor& src_in, bool non_blocking) {
  Tensor src = src_in.sizes() == dst.sizes() ? src_in : src_in.expand(dst.sizes()).detach();
  if (dst.device() == src.device()) {
    copy_same_device(dst, src);
    return;
  }
  // Convert on the source side, then move contiguous bytes.
  Tensor staged = src.dtype() == dst.dtype() && src.is_contiguous() ? src : src.detach().to(dst.dtype()).contiguous();
  if (dst.is_contiguous()) {
    cuda::memcpy(dst.data_ptr(), dst.device(), staged.data_ptr(), staged.device(), dst.nbytes(), non_blocking);
  } else {
    Tensor tmp = empty(dst.sizes(), TensorOptions(dst.dtype(), dst.device()));
    cuda::memcpy(tmp.data_ptr(), tmp.device(), staged.data_ptr(), staged.device(), tmp.nbytes(), non_blocking);
    copy_same_device(dst, tmp);
  }
}

}  // namespace ops

Tensor& Tensor::copy_(const Tensor& src, bool non_blocking) {
  OpScope scope(Op::copy_, {this, &src});
  LOOM_CHECK(src.defined(), "copy_: source tensor is undefined");
  ops::check_no_internal_overlap(*this, "copy_");
  ops::broadcast_named("copy_", sizes(), src.sizes());  // raises with both shapes
  LOOM_CHECK(broadcast_shapes(sizes(), src.sizes()) == sizes(), "copy_: source of shape ", src.sizes(),
             " cannot be broadcast to the destination shape ", sizes());
  bool track = autograd::any_requires_grad({this, &src});
  if (track) ops::check_inplace(*this, "copy_");
  if (track && impl()->view_base_) {  // a view: its base takes src's history over the view's elements
    Tensor r = src.to(device(), is_floating(src.dtype()) ? dtype() : src.dtype());
    if (r.sizes() != sizes()) r = r.expand(sizes());
    ops::copy_raw(*this, r, non_blocking);
    bump_version();
    ops::rebase_history(*this, r);
    return *this;
  }
  ops::copy_raw(*this, src, non_blocking);
  bump_version();
  if (track) {
    Shape src_shape = src.sizes();
    DType src_dt = src.dtype();
    Device src_dev = src.device();
    // The overwritten values of self get a zero gradient (as PyTorch's CopyBackwards), src the sum.
    auto node = std::make_shared<LambdaNode>("CopyBackwards", [src_shape, src_dt, src_dev](const TensorList& g) {
      return TensorList{zeros_like(g[0]), autograd::sum_to(g[0], src_shape).to(src_dev, src_dt)};
    });
    autograd::attach(node, {*this, src}, *this);
  }
  return *this;
}

Tensor& Tensor::fill_(const Scalar& value) {
  OpScope scope(Op::fill_, {this});  // no overlap check: every element gets the same value, as in PyTorch
  check_scalar_fits(value, dtype(), "fill_");
  ops::check_view_written_in_grad_mode(*this, "fill_");
  bool track = autograd::any_requires_grad({this});
  if (track) ops::check_inplace(*this, "fill_");
  if (track && impl()->view_base_) {  // a view: its elements leave the base's history
    Tensor r = full(sizes(), value, TensorOptions(dtype(), device()));
    ops::copy_raw(*this, r, false);
    bump_version();
    ops::rebase_history(*this, r);
    return *this;
  }
  if (numel() > 0 && !value.exact_as_double() && dtype() == DType::Int64) {
    ops::copy_raw(*this, full({}, value, TensorOptions(dtype(), device())), false);  // exact beyond 2^53
  } else if (numel() > 0) {
    auto loop = ops::make_loop(sizes(), {this});
    double v = value.to_double();
    LOOM_DEVICE_DISPATCH(device(), ops::kc::fill(dtype(), data_ptr(), v, loop),
                         ops::kg::fill(dtype(), data_ptr(), v, loop, ops::stream_of(device())));
  }
  bump_version();
  if (track) {
    // The overwritten values get a zero gradient (as PyTorch's FillBackward0).
    auto node =
        std::make_shared<LambdaNode>("FillBackward0", [](const TensorList& g) { return TensorList{zeros_like(g[0])}; });
    autograd::attach(node, {*this}, *this);
  }
  return *this;
}

Tensor Tensor::clone() const {
  OpScope scope(Op::clone, {this});
  Tensor out = empty(sizes(), TensorOptions(dtype(), device()));
  ops::copy_same_device(out, *this);
  if (autograd::any_requires_grad({this})) {
    auto node = std::make_shared<LambdaNode>("CloneBackward0", [](const TensorList& g) { return TensorList{g[0]}; });
    autograd::attach(node, {*this}, out);
  }
  return out;
}

// One strided copy whose source walks each flipped dim backwards, from its last element (a negative
// stride): the copy kernels of every device do it in one pass.
Tensor Tensor::flip(const Dims& dims) const {
  OpScope scope(Op::flip, {this});
  const int64_t nd = dim();
  std::vector<bool> flipped(static_cast<size_t>(std::max<int64_t>(nd, 1)), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, nd, "flip");
    LOOM_CHECK(!flipped[w], "flip: dims has duplicates, original flip dims=", dims);
    flipped[w] = true;
  }
  Tensor out = empty(sizes(), TensorOptions(dtype(), device()));
  if (out.numel() > 0) {
    Shape st = strides();
    int64_t first = 0;  // the source element of out's first one
    for (int64_t d = 0; d < nd; ++d)
      if (flipped[d]) {
        first += (size(d) - 1) * st[d];
        st[d] = -st[d];
      }
    const void* src = static_cast<const char*>(data_ptr()) + first * static_cast<int64_t>(itemsize(dtype()));
    auto loop = ops::make_loop(sizes(), std::vector<Shape>{out.strides(), st});
    LOOM_DEVICE_DISPATCH(device(), ops::kc::copy(dtype(), out.data_ptr(), dtype(), src, loop),
                         ops::kg::copy(dtype(), out.data_ptr(), dtype(), src, loop, ops::stream_of(device())));
  }
  if (autograd::any_requires_grad({this})) {
    auto node = std::make_shared<LambdaNode>("FlipBackward0",
                                             [dims](const TensorList& g) { return TensorList{g[0].flip(dims)}; });
    autograd::attach(node, {*this}, out);
  }
  return out;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  OpScope scope(Op::contiguous, {this});
  return clone();
}

Tensor Tensor::to(Device dev, DType dt, bool non_blocking) const {
  if (dev == device() && dt == dtype()) return *this;
  OpScope scope(dev == device() ? Op::to_dtype : Op::to_device, {this});
  if (dev.is_cuda()) {
    LOOM_CHECK(cuda::built_with_cuda(), "to: cannot move a tensor to ", dev.str(), ": loom was built without CUDA");
    LOOM_CHECK(dev.index < cuda::device_count(), "to: CUDA device ", dev.index, " is not available (",
               cuda::device_count(), " device(s) found)");
  }
  Tensor out = empty(sizes(), TensorOptions(dt, dev));
  ops::copy_raw(out, *this, non_blocking);
  if (autograd::any_requires_grad({this}) && is_floating(dt)) {
    Device src_dev = device();
    DType src_dt = dtype();
    auto node = std::make_shared<LambdaNode>(
        "ToCopyBackward0", [src_dev, src_dt](const TensorList& g) { return TensorList{g[0].to(src_dev, src_dt)}; });
    autograd::attach(node, {*this}, out);
  }
  return out;
}
Tensor Tensor::to(DType dt) const { return to(device(), dt); }
Tensor Tensor::to(Device dev, bool non_blocking) const { return to(dev, dtype(), non_blocking); }

Tensor cat(const TensorList& tensors, int64_t dim) {
  OpScope scope(Op::cat, tensors);
  LOOM_CHECK(!tensors.empty(), "cat(): expected a non-empty list of Tensors");
  // Legacy rule (as PyTorch): 1-D empty tensors are skipped, but their
  // dtypes still take part in the result type.
  TensorList ins;
  DType dt = tensors[0].dtype();
  for (auto& t : tensors) {
    dt = promote_types(dt, t.dtype());
    if (!(t.dim() == 1 && t.numel() == 0)) ins.push_back(t);
  }
  if (ins.empty()) return tensors[0].to(dt).clone();
  const Tensor& ref = ins[0];
  LOOM_CHECK(ref.dim() > 0, "cat(): zero-dimensional tensor (at position 0) cannot be concatenated");
  int64_t d = wrap_dim(dim, ref.dim(), "cat");
  Shape out_shape = ref.sizes();
  out_shape[d] = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    const Tensor& t = ins[i];
    LOOM_CHECK(t.dim() == ref.dim(), "cat(): Tensors must have same number of dimensions: got ", ref.dim(), " and ",
               t.dim(), " (tensor ", i, " has shape ", t.sizes(), ")");
    LOOM_CHECK(t.device() == ref.device(), "cat(): Expected all tensors to be on the same device, but found ",
               ref.device().str(), " and ", t.device().str());
    for (int64_t k = 0; k < t.dim(); ++k)
      LOOM_CHECK(k == d || t.sizes()[k] == ref.sizes()[k], "cat(): Sizes of tensors must match except in dimension ", d,
                 ". Expected size ", ref.sizes()[k], " but got size ", t.sizes()[k], " for tensor number ", i,
                 " in the list (shapes ", ref.sizes(), " and ", t.sizes(), ")");
    out_shape[d] += t.sizes()[d];
  }
  Tensor out = empty(out_shape, TensorOptions(dt, ref.device()));
  Shape parts;
  int64_t off = 0;
  {
    autograd::NoGradGuard ng;
    for (auto& t : ins) {
      int64_t n = t.sizes()[d];
      if (n > 0) ops::copy_same_device(out.narrow(d, off, n), t);
      parts.push_back(n);
      off += n;
    }
  }
  if (autograd::any_requires_grad(ins)) {
    auto node = std::make_shared<LambdaNode>(
        "CatBackward0", [parts, d](const TensorList& g) { return g[0].split_with_sizes(parts, d); });
    autograd::attach(node, ins, out);
  }
  return out;
}

Tensor stack(const TensorList& tensors, int64_t dim) {
  OpScope scope(Op::stack, tensors);
  LOOM_CHECK(!tensors.empty(), "stack expects a non-empty TensorList");
  int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  TensorList parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    LOOM_CHECK(tensors[i].sizes() == tensors[0].sizes(), "stack expects each tensor to be equal size, but got ",
               tensors[0].sizes(), " at entry 0 and ", tensors[i].sizes(), " at entry ", i);
    parts.push_back(tensors[i].unsqueeze(d));
  }
  return cat(parts, d);
}

}  // namespace loom
