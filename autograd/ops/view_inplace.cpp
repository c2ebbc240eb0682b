// In-place ops on views, as PyTorch records them. A view keeps its base (the
// tensor owning the storage: TensorImpl::view_base_). When an in-place op
// writes through a view under autograd, the base's history becomes a
// CopySlices node: the base's old history for the elements outside the view,
// the op's result for those inside. The view itself becomes a view of that new
// history. Other views of the base see the change lazily: each records the
// base's graph epoch when its grad_fn was set, and a view whose base has moved
// on since is regenerated as a view of the base's current history (the check
// runs in Tensor::requires_grad / grad_fn / output_nr and gradient_edge).
#include "autograd/ops/common.h"

namespace loom {

using autograd::LambdaNode;

namespace ops {

namespace {

// The storage offset of every element of a tensor with these sizes, strides
// and offset, in row-major order.
std::vector<int64_t> storage_offsets(const Shape& sizes, const Shape& strides, int64_t offset) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  std::vector<int64_t> out(static_cast<size_t>(n));
  const int64_t nd = static_cast<int64_t>(sizes.size());
  Shape coord(sizes.size(), 0);
  int64_t o = offset;
  for (int64_t i = 0; i < n; ++i) {
    out[static_cast<size_t>(i)] = o;
    for (int64_t d = nd - 1; d >= 0; --d) {  // advance the coordinate with carries
      o += strides[d];
      if (++coord[d] < sizes[d]) break;
      o -= strides[d] * sizes[d];
      coord[d] = 0;
    }
  }
  return out;
}

}  // namespace

Tensor view_positions(const Tensor& base, const Tensor& view) {
  const int64_t n_base = base.numel();
  const auto outside = [&] {
    LOOM_THROW(ErrorKind::NotImplemented, "in-place write through a view: the view (shape ", view.sizes(), ", strides ",
               view.strides(), ", offset ", view.storage_offset(), ") reaches storage outside its base (shape ",
               base.sizes(), ", strides ", base.strides(), ", offset ", base.storage_offset(), ")");
  };
  if (base.is_contiguous()) {
    // The view's extent in storage, checked against the base's; the positions are then a strided view of
    // the base's element numbers, copied by the copy kernel (no element loop on the host).
    const int64_t rel = view.storage_offset() - base.storage_offset();
    int64_t lo = rel, hi = rel;
    bool empty = false;
    for (int64_t d = 0; d < view.dim(); ++d) {
      const int64_t n = view.sizes()[d], st = view.strides()[d];
      if (n == 0) empty = true;
      else (st < 0 ? lo : hi) += (n - 1) * st;
    }
    if (empty) return loom::empty({0}, TensorOptions(DType::Int64, base.device()));
    if (lo < 0 || hi >= n_base) outside();
    Tensor numbers =
        arange(Scalar(int64_t(0)), Scalar(n_base), Scalar(int64_t(1)), TensorOptions(DType::Int64, base.device()));
    return numbers.as_strided(view.sizes(), view.strides(), rel).contiguous().view({-1});
  }
  // A strided base: the element of the base owning each storage slot, found on the host.
  std::vector<int64_t> pos = storage_offsets(view.sizes(), view.strides(), view.storage_offset());
  std::vector<int64_t> slots = storage_offsets(base.sizes(), base.strides(), 0);
  int64_t span = 0;
  for (int64_t s : slots) span = std::max(span, s + 1);
  std::vector<int64_t> owner(static_cast<size_t>(span), -1);
  for (int64_t i = 0; i < n_base; ++i) owner[static_cast<size_t>(slots[static_cast<size_t>(i)])] = i;
  for (int64_t& p : pos) {
    const int64_t rel = p - base.storage_offset();
    if (rel < 0 || rel >= span || owner[static_cast<size_t>(rel)] < 0) outside();
    p = owner[static_cast<size_t>(rel)];
  }
  const int64_t n = static_cast<int64_t>(pos.size());
  return from_vector(pos, {n}, base.device());
}

void check_inplace_view(const Tensor& self, const char* op) {
  const auto& base_impl = self.impl()->view_base_;
  if (!base_impl || !autograd::grad_enabled()) return;
  Tensor base(base_impl);
  if (base.requires_grad() && base.is_leaf())
    LOOM_THROW(ErrorKind::Runtime, op,
               ": a view of a leaf Variable that requires grad is being used in an in-place operation.");
  const autograd::AutogradMeta* m = autograd::meta_if(self);
  if (m && m->multi_output_view && self.requires_grad())
    LOOM_THROW(ErrorKind::Runtime, op, ": output ", m->output_nr, " of ", m->grad_fn ? m->grad_fn->name() : "a split",
               " is a view and is being modified in place. It is one of the views that split, chunk or unbind "
               "return together, which may not be modified in place under autograd; use the out-of-place form (or "
               "clone the piece).");
}

void check_view_written_in_grad_mode(const Tensor& self, const char* op) {
  const auto& base_impl = self.impl()->view_base_;
  if (!base_impl || !autograd::grad_enabled() || self.requires_grad()) return;
  Tensor base(base_impl);
  if (base.requires_grad())
    LOOM_THROW(ErrorKind::Runtime, op, ": a view made in no_grad mode is being modified in place with grad mode ",
               "enabled; its base (shape ", base.sizes(), ") requires grad and its history would not see the write. ",
               "Modify the view under no_grad, or make it again in grad mode.");
}

void rebase_history(const Tensor& self, const Tensor& r) {
  const auto& base_impl = self.impl()->view_base_;
  if (!base_impl) {
    auto& m = autograd::meta(self);
    m.grad_fn = r.grad_fn();
    m.output_nr = r.output_nr();
    if (!m.grad_fn && r.requires_grad()) {  // r is a leaf: self takes its values through a copy
      auto node = std::make_shared<LambdaNode>("CopyBackwards", [](const TensorList& g) { return TensorList{g[0]}; });
      autograd::attach(node, {r}, TensorList{self});
    }
    ++m.graph_epoch;
    return;
  }
  Tensor base(base_impl);
  const Shape base_shape = base.sizes(), view_shape = self.sizes();
  const DType r_dtype = r.dtype();
  if (base.is_contiguous() && self.is_contiguous() && self.numel() == base.numel() &&
      self.storage_offset() == base.storage_offset()) {
    // The view is the whole base in its order (x.view(-1), x.reshape(...)): the write replaced every
    // element, so the base's old history gets no gradient and r gets the base's, reshaped.
    auto node = std::make_shared<LambdaNode>("CopySlices", [view_shape, r_dtype](const TensorList& g) {
      Tensor g_r = g[0].reshape(view_shape);
      return TensorList{Tensor(), g_r.dtype() == r_dtype ? g_r : g_r.to(r_dtype)};
    });
    autograd::attach(node, {base, r}, base);
    autograd::regenerate_view(self);
    return;
  }
  Tensor pos = view_positions(base, self);
  auto node = std::make_shared<LambdaNode>("CopySlices", [pos, base_shape, view_shape, r_dtype](const TensorList& g) {
    const TensorOptions opts(g[0].dtype(), g[0].device());
    const int64_t n = g[0].numel();
    Tensor hit = zeros({n}, opts).scatter_add(0, pos, ones(pos.sizes(), opts)).gt(0.0).view(base_shape);
    Tensor g_base = g[0].masked_fill(hit, Scalar(0.0));
    Tensor g_r = g[0].reshape({n}).index_select(0, pos).view(view_shape);
    return TensorList{g_base, g_r.dtype() == r_dtype ? g_r : g_r.to(r_dtype)};
  });
  autograd::attach(node, {base, r}, base);  // advances the base's graph epoch
  autograd::regenerate_view(self);
}

}  // namespace ops

// ---- in-place views: t_, transpose_, squeeze_, unsqueeze_, as_strided_ ----
// The tensor takes the sizes, strides and offset of the view the out-of-place
// op made of it, and that view's history (so a non-leaf's gradient flows
// through the view's backward). The data is untouched, but the version counter
// advances as PyTorch's does: a node that saved the tensor with its old shape
// raises instead of reading it with the new one, and its views are made views
// of the new history.

namespace {

Tensor& take_view(Tensor& self, const Tensor& v) {
  TensorImpl* s = self.impl();
  const TensorImpl* w = v.impl();
  s->sizes_ = w->sizes_;
  s->strides_ = w->strides_;
  s->offset_ = w->offset_;
  const autograd::AutogradMeta* vm = autograd::meta_if(v);
  if (vm && vm->grad_fn) {
    auto& m = autograd::meta(self);
    m.grad_fn = vm->grad_fn;
    m.output_nr = vm->output_nr;
    ++m.graph_epoch;
    if (s->view_base_) s->view_epoch_ = w->view_epoch_;
  }
  self.bump_version();
  return self;
}

}  // namespace

Tensor& Tensor::transpose_(int64_t dim0, int64_t dim1) {
  ops::check_inplace(*this, "transpose_");
  return take_view(*this, transpose(dim0, dim1));
}

Tensor& Tensor::t_() {
  LOOM_CHECK(dim() <= 2, "t_() expects a tensor with <= 2 dimensions, but self is ", dim(), "D");
  ops::check_inplace(*this, "t_");
  return take_view(*this, t());
}

Tensor& Tensor::squeeze_() {
  ops::check_inplace(*this, "squeeze_");
  return take_view(*this, squeeze());
}

Tensor& Tensor::squeeze_(int64_t dim) {
  ops::check_inplace(*this, "squeeze_");
  return take_view(*this, squeeze(dim));
}

Tensor& Tensor::unsqueeze_(int64_t dim) {
  ops::check_inplace(*this, "unsqueeze_");
  return take_view(*this, unsqueeze(dim));
}

Tensor& Tensor::as_strided_(const Shape& sizes, const Shape& strides, std::optional<int64_t> offset) {
  ops::check_inplace(*this, "as_strided_");
  return take_view(*this, as_strided(sizes, strides, offset));
}

namespace autograd {

void regenerate_view(const Tensor& view) {
  Tensor base(view.impl()->view_base_);
  Tensor pos = ops::view_positions(base, view);
  const Shape base_shape = base.sizes();
  const int64_t n_base = base.numel();
  auto node = std::make_shared<LambdaNode>("AsStridedBackward0", [pos, base_shape, n_base](const TensorList& g) {
    Tensor out = zeros({n_base}, TensorOptions(g[0].dtype(), g[0].device()));
    return TensorList{out.scatter_add(0, pos, g[0].reshape({pos.numel()})).view(base_shape)};
  });
  attach(node, {base}, TensorList{view});  // records the base's epoch
}

}  // namespace autograd
}  // namespace loom
