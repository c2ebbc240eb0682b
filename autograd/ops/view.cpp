// View ops: new sizes/strides/offset over the same storage, no copy. Each is
// differentiable; the backward maps the view's gradient back to the input.
#include <numeric>

#include "autograd/ops/common.h"
#include "autograd/ops/pad.h"

namespace loom {

using autograd::LambdaNode;

namespace {

Tensor make_view(const Tensor& self, Shape sizes, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>(self.storage(), std::move(sizes), std::move(strides), offset, self.dtype());
  const TensorImpl* s = self.impl();
  impl->view_base_ = s->view_base_ ? s->view_base_ : self.impl_ptr();
  impl->view_epoch_ = impl->view_base_->autograd_ ? impl->view_base_->autograd_->graph_epoch : 0;
  return Tensor(std::move(impl));
}

// Wires a view to its input with `backward` (grad of view -> grad of input).
Tensor finish_view(const Tensor& self, Tensor view, const char* name, std::function<Tensor(const Tensor&)> backward) {
  if (autograd::any_requires_grad({&self})) {
    auto node =
        std::make_shared<LambdaNode>(name, [backward](const TensorList& g) { return TensorList{backward(g[0])}; });
    autograd::attach(node, {self}, view);
  }
  return view;
}

// The gradient of a slice or select: g placed at positions start, start +
// step, ... (n of them) along dim d of a zero tensor of the input's shape.
// Under create_graph it is a scatter_add (differentiable); otherwise a copy
// into a view of the zeros.
Tensor embed_grad(const Tensor& g, const Shape& in_shape, DType dt, int64_t d, int64_t start, int64_t n, int64_t step) {
  if (!autograd::grad_enabled() && step == 1 && g.dtype() == dt) {
    // A run of consecutive positions: g padded with zeros along d, one pass (no zero fill first).
    const int64_t nd = static_cast<int64_t>(in_shape.size());
    Dims pads(static_cast<size_t>(2 * (nd - d)), 0);
    pads[static_cast<size_t>(2 * (nd - 1 - d))] = start;
    pads[static_cast<size_t>(2 * (nd - 1 - d) + 1)] = in_shape[d] - start - n;
    return pad(g.detach(), pads, "constant", 0.0);
  }
  Tensor out = zeros(in_shape, TensorOptions(dt, g.device()));
  if (!autograd::grad_enabled()) {
    out.slice(d, start, start + (n > 0 ? (n - 1) * step + 1 : 0), step).copy_(g);
    return out;
  }
  Shape vshape(g.dim(), 1);
  vshape[d] = n;
  Tensor positions =
      arange(Scalar(start), Scalar(start + n * step), Scalar(step), TensorOptions(DType::Int64, g.device()));
  return out.scatter_add(d, positions.reshape(vshape).expand(g.sizes()), g);
}

Shape contiguous_strides(const Shape& sizes) {
  Shape st(sizes.size());
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    st[d] = s;
    s *= std::max<int64_t>(sizes[d], 1);
  }
  return st;
}

Shape infer_size(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LOOM_CHECK(infer < 0, op, ": only one dimension can be inferred (shape ", shape, ")");
      infer = static_cast<int64_t>(i);
    } else {
      LOOM_CHECK(shape[i] >= 0, op, ": invalid shape dimension ", shape[i], " in ", shape);
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    LOOM_CHECK(known != 0 && numel % known == 0, op, ": shape '", shape, "' is invalid for input of size ", numel);
    out[infer] = numel / known;
  } else {
    LOOM_CHECK(known == numel, op, ": shape '", shape, "' is invalid for input of size ", numel);
  }
  return out;
}

// Strides for viewing (sizes, strides) as `shape` without copying, if possible.
// Old dims are grouped into chunks that are contiguous within themselves; each
// chunk must be covered exactly by a run of new dims, which then get strides
// laid out from the chunk's innermost stride.
std::optional<Shape> view_strides(const Shape& sizes, const Shape& strides, const Shape& shape) {
  int64_t numel = 1;
  for (auto s : sizes) numel *= s;
  if (numel == 0 || sizes.empty()) return contiguous_strides(shape);
  Shape out(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t base_stride = strides.back();
  int64_t chunk_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    chunk_numel *= sizes[d];
    bool chunk_ends = d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != chunk_numel * base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < chunk_numel || shape[view_d] == 1)) {
      out[view_d] = view_numel * base_stride;
      view_numel *= shape[view_d];
      --view_d;
    }
    if (view_numel != chunk_numel) return std::nullopt;
    if (d > 0) {
      base_stride = strides[d - 1];
      chunk_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  OpScope scope(Op::view, {this});
  Shape sz = infer_size(shape, numel(), "view");
  auto st = view_strides(sizes(), strides(), sz);
  LOOM_CHECK(st.has_value(),
             "view size is not compatible with input tensor's size and stride (at least one dimension "
             "spans across two contiguous subspaces): input ",
             sizes(), " with strides ", strides(), ", requested ", shape, ". Use .reshape(...) instead.");
  Shape in_shape = sizes();
  return finish_view(*this, make_view(*this, sz, *st, storage_offset()), "ViewBackward0",
                     [in_shape](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::reshape(const Shape& shape) const {
  OpScope scope(Op::reshape, {this});
  Shape sz = infer_size(shape, numel(), "reshape");
  if (view_strides(sizes(), strides(), sz)) return view(sz);
  return contiguous().view(sz);
}

Tensor Tensor::permute(const Dims& dims) const {
  OpScope scope(Op::permute, {this});
  LOOM_CHECK(static_cast<int64_t>(dims.size()) == dim(),
             "permute(sparse_coo): number of dimensions in the tensor input "
             "does not match the length of the desired ordering of dimensions i.e. input.dim() = ",
             dim(), " is not equal to len(dims) = ", dims.size());
  Shape sz(dim()), st(dim());
  Dims inverse(dim());
  std::vector<bool> seen(dim(), false);
  for (int64_t i = 0; i < dim(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    LOOM_CHECK(!seen[d], "permute: repeated dim in ", dims);
    seen[d] = true;
    sz[i] = sizes()[d];
    st[i] = strides()[d];
    inverse[d] = i;
  }
  return finish_view(*this, make_view(*this, sz, st, storage_offset()), "PermuteBackward0",
                     [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = wrap_dim(d0, dim(), "transpose");
  d1 = wrap_dim(d1, dim(), "transpose");
  if (dim() == 0) return view({});
  Dims p(dim());
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[d0], p[d1]);
  return permute(p);
}

Tensor Tensor::t() const {
  LOOM_CHECK(dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", dim(), "D");
  return dim() < 2 ? view(sizes()) : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, std::optional<int64_t> start_opt, std::optional<int64_t> end_opt, int64_t step) const {
  OpScope scope(Op::slice, {this});
  LOOM_CHECK(dim() > 0, "slice() cannot be applied to a 0-dim tensor.");
  LOOM_CHECK_VALUE(step > 0, "slice: step must be greater than zero, got ", step);
  d = wrap_dim(d, dim(), "slice");
  const int64_t n = sizes()[d];
  auto clampi = [n](int64_t v) {
    if (v < 0) v += n;
    return std::min(std::max<int64_t>(v, 0), n);
  };
  int64_t start = start_opt ? clampi(*start_opt) : 0;
  int64_t end = end_opt ? clampi(*end_opt) : n;
  int64_t len = end > start ? (end - start + step - 1) / step : 0;
  Shape sz = sizes(), st = strides();
  sz[d] = len;
  st[d] *= step;
  Shape in_shape = sizes();
  DType dt = dtype();
  return finish_view(*this, make_view(*this, sz, st, storage_offset() + start * strides()[d]), "SliceBackward0",
                     [in_shape, dt, d, start, end, step](const Tensor& g) {
                       int64_t n = end > start ? (end - start + step - 1) / step : 0;
                       return embed_grad(g, in_shape, dt, d, start, n, step);
                     });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  OpScope scope(Op::narrow, {this});
  LOOM_CHECK(dim() > 0, "narrow() cannot be applied to a 0-dim tensor.");
  d = wrap_dim(d, dim(), "narrow");
  const int64_t n = sizes()[d];
  if (start < 0) start += n;
  LOOM_CHECK_INDEX(start >= 0 && start <= n, "narrow: start (", start, ") out of range for dimension ", d, " of size ",
                   n);
  LOOM_CHECK(length >= 0 && start + length <= n, "narrow: start (", start, ") + length (", length,
             ") exceeds dimension size (", n, ") of shape ", sizes());
  return slice(d, start, start + length, 1);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  OpScope scope(Op::select, {this});
  LOOM_CHECK_INDEX(dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  d = wrap_dim(d, dim(), "select");
  const int64_t n = sizes()[d];
  LOOM_CHECK_INDEX(index >= -n && index < n, "select(): index ", index, " out of range for tensor of size ", sizes(),
                   " at dimension ", d);
  if (index < 0) index += n;
  Shape sz = sizes(), st = strides();
  int64_t off = storage_offset() + index * st[d];
  sz.erase(sz.begin() + d);
  st.erase(st.begin() + d);
  Shape in_shape = sizes();
  DType dt = dtype();
  return finish_view(
      *this, make_view(*this, sz, st, off), "SelectBackward0",
      [in_shape, dt, d, index](const Tensor& g) { return embed_grad(g.unsqueeze(d), in_shape, dt, d, index, 1, 1); });
}

Tensor Tensor::expand(const Shape& shape) const {
  OpScope scope(Op::expand, {this});
  LOOM_CHECK(static_cast<int64_t>(shape.size()) >= dim(), "expand: the number of sizes provided (", shape.size(),
             ") must be greater or equal to the number of dimensions in the tensor (", dim(), ")");
  const int64_t n = static_cast<int64_t>(shape.size()), lead = n - dim();
  Shape sz(n), st(n);
  for (int64_t i = 0; i < n; ++i) {
    if (i < lead) {
      LOOM_CHECK(shape[i] >= 0, "expand: the expanded size ", shape[i],
                 " is not allowed in a leading, non-existing dimension");
      sz[i] = shape[i];
      st[i] = 0;
      continue;
    }
    int64_t have = sizes()[i - lead];
    int64_t want = shape[i] == -1 ? have : shape[i];
    LOOM_CHECK(have == want || have == 1, "The expanded size of the tensor (", want, ") must match the existing size (",
               have, ") at non-singleton dimension ", i, ".  Target sizes: ", shape, ".  Tensor sizes: ", sizes());
    sz[i] = want;
    st[i] = have == want ? strides()[i - lead] : 0;
  }
  Shape in_shape = sizes();
  return finish_view(*this, make_view(*this, sz, st, storage_offset()), "ExpandBackward0",
                     [in_shape](const Tensor& g) { return autograd::sum_to(g, in_shape); });
}

Tensor Tensor::squeeze() const {
  OpScope scope(Op::squeeze, {this});
  Shape sz, st;
  for (int64_t d = 0; d < dim(); ++d)
    if (sizes()[d] != 1) {
      sz.push_back(sizes()[d]);
      st.push_back(strides()[d]);
    }
  Shape in_shape = sizes();
  return finish_view(*this, make_view(*this, sz, st, storage_offset()), "SqueezeBackward0",
                     [in_shape](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::squeeze(int64_t d) const {
  OpScope scope(Op::squeeze, {this});
  if (dim() == 0) {
    wrap_dim(d, 0, "squeeze");
    return view({});
  }
  d = wrap_dim(d, dim(), "squeeze");
  if (sizes()[d] != 1) return view(sizes());
  Shape sz = sizes(), st = strides();
  sz.erase(sz.begin() + d);
  st.erase(st.begin() + d);
  Shape in_shape = sizes();
  return finish_view(*this, make_view(*this, sz, st, storage_offset()), "SqueezeBackward1",
                     [in_shape](const Tensor& g) { return g.reshape(in_shape); });
}

Tensor Tensor::unsqueeze(int64_t d) const {
  OpScope scope(Op::unsqueeze, {this});
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape sz = sizes(), st = strides();
  int64_t new_st = d < dim() ? sizes()[d] * strides()[d] : 1;
  sz.insert(sz.begin() + d, 1);
  st.insert(st.begin() + d, new_st);
  return finish_view(*this, make_view(*this, sz, st, storage_offset()), "UnsqueezeBackward0",
                     [d](const Tensor& g) { return g.squeeze(d); });
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  start = wrap_dim(start, dim(), "flatten");
  end = wrap_dim(end, dim(), "flatten");
  if (dim() == 0) return reshape({1});
  LOOM_CHECK(start <= end, "flatten() has invalid args: start_dim (", start, ") cannot come after end_dim (", end, ")");
  Shape sz(sizes().begin(), sizes().begin() + start);
  int64_t m = 1;
  for (int64_t d = start; d <= end; ++d) m *= sizes()[d];
  sz.push_back(m);
  sz.insert(sz.end(), sizes().begin() + end + 1, sizes().end());
  return reshape(sz);
}

Tensor Tensor::unflatten(int64_t d, const Shape& parts) const {
  d = wrap_sized_dim(d, dim(), "unflatten");
  Shape inner = infer_size(parts, sizes()[d], "unflatten");
  Shape sz(sizes().begin(), sizes().begin() + d);
  sz.insert(sz.end(), inner.begin(), inner.end());
  sz.insert(sz.end(), sizes().begin() + d + 1, sizes().end());
  return view(sz);
}

Tensor Tensor::as_strided(const Shape& sz, const Shape& st, std::optional<int64_t> offset) const {
  OpScope scope(Op::as_strided, {this});
  LOOM_CHECK(sz.size() == st.size(), "as_strided: mismatch in length of strides and shape (", sz.size(), " vs ",
             st.size(), ")");
  int64_t off = offset.value_or(storage_offset());
  int64_t max_index = off;
  for (size_t i = 0; i < sz.size(); ++i) {
    LOOM_CHECK(sz[i] >= 0 && st[i] >= 0, "as_strided: negative size or stride (size ", sz, ", stride ", st, ")");
    if (sz[i] == 0) max_index = -1;
    if (max_index >= 0) max_index += (sz[i] - 1) * st[i];
  }
  LOOM_CHECK(max_index < static_cast<int64_t>(storage()->nbytes() / element_size()), "as_strided: setStorage: sizes ",
             sz, ", strides ", st, ", storage offset ", off, " require more elements than the storage holds (",
             storage()->nbytes() / element_size(), ")");
  Tensor self = *this;
  Shape in_shape = sizes(), in_strides = strides();
  int64_t in_off = storage_offset();
  return finish_view(
      *this, make_view(*this, sz, st, off), "AsStridedBackward0",
      [in_shape, in_strides, in_off, sz, st, off](const Tensor& g) {
        // Map each view element to the input element that owns the same
        // storage slot (inputs assumed non-overlapping), then scatter-add.
        int64_t n_in = 1;
        for (auto s : in_shape) n_in *= s;
        if (in_strides == contiguous_strides(in_shape)) {
          // A contiguous input owns storage slot in_off + i for element i: the view's
          // elements are a strided view of the element numbers (the copy kernel, no
          // element loop on the host), then one scatter-add.
          const int64_t rel = off - in_off;
          int64_t hi = rel, n_out = 1;
          for (size_t i = 0; i < sz.size(); ++i) {
            n_out *= sz[i];
            hi += sz[i] > 0 ? (sz[i] - 1) * st[i] : 0;
          }
          Tensor out = zeros({n_in}, TensorOptions(g.dtype(), g.device()));
          if (n_out == 0) return out.view(in_shape);
          LOOM_CHECK(rel >= 0 && hi < n_in, "as_strided backward: the view reaches storage outside its input");
          Tensor numbers =
              arange(Scalar(int64_t(0)), Scalar(n_in), Scalar(int64_t(1)), TensorOptions(DType::Int64, g.device()));
          Tensor index = numbers.as_strided(sz, st, rel).contiguous().reshape({n_out});
          return out.scatter_add(0, index, g.reshape({n_out})).view(in_shape);
        }
        Tensor slot = full({n_in}, Scalar(int64_t(-1)), TensorOptions(DType::Int64));
        int64_t* sp = static_cast<int64_t*>(slot.data_ptr());
        int64_t max_storage = 0;
        std::vector<int64_t> owner;
        for (int64_t i = 0; i < n_in; ++i) {
          int64_t rem = i, o = in_off;
          for (int64_t d = static_cast<int64_t>(in_shape.size()) - 1; d >= 0; --d) {
            o += (rem % in_shape[d]) * in_strides[d];
            rem /= in_shape[d];
          }
          sp[i] = o;
          max_storage = std::max(max_storage, o + 1);
        }
        Tensor gview = g.contiguous().to(Device());
        owner.assign(std::max<int64_t>(max_storage, 1), -1);
        for (int64_t i = 0; i < n_in; ++i) owner[sp[i]] = i;
        std::vector<int64_t> idx;
        const int64_t n_out = g.numel();
        for (int64_t j = 0; j < n_out; ++j) {
          int64_t rem = j, o = off;
          for (int64_t d = static_cast<int64_t>(sz.size()) - 1; d >= 0; --d) {
            o += (rem % sz[d]) * st[d];
            rem /= sz[d];
          }
          LOOM_CHECK(o < static_cast<int64_t>(owner.size()) && owner[o] >= 0,
                     "as_strided backward: the view reaches storage outside its input");
          idx.push_back(owner[o]);
        }
        Tensor index = from_vector(idx, {n_out}, g.device());
        Tensor out = zeros({n_in}, TensorOptions(g.dtype(), g.device()));
        return out.scatter_add(0, index, g.reshape({n_out})).view(in_shape);
      });
}

namespace {

// The pieces of a split or unbind are views made without autograd and wired
// to one node whose backward concatenates (or stacks) their gradients: one
// pass over the input instead of a zero-filled input per piece.
TensorList multi_view(const Tensor& self, TensorList pieces, const char* name,
                      std::function<Tensor(const TensorList&)> backward) {
  if (autograd::any_requires_grad({&self})) {
    auto node = std::make_shared<LambdaNode>(name, [backward](const TensorList& g) { return TensorList{backward(g)}; });
    autograd::attach(node, {self}, pieces);
    for (auto& p : pieces) autograd::meta(p).multi_output_view = true;
  }
  return pieces;
}

}  // namespace

TensorList Tensor::split_with_sizes(const Shape& parts, int64_t d) const {
  OpScope scope(Op::narrow, {this});
  LOOM_CHECK(dim() > 0, "split_with_sizes expects at least a 1-dimensional tensor");
  d = wrap_dim(d, dim(), "split_with_sizes");
  int64_t total = 0;
  for (auto p : parts) {
    LOOM_CHECK(p >= 0, "split_with_sizes expects split_sizes to be non-negative, but got split_sizes=", parts);
    total += p;
  }
  LOOM_CHECK(total == sizes()[d], "split_with_sizes expects split_sizes to sum exactly to ", sizes()[d],
             " (input tensor's size at dimension ", d, "), but got split_sizes=", parts);
  TensorList out;
  int64_t start = 0;
  for (auto p : parts) {
    Shape sz = sizes();
    sz[d] = p;
    out.push_back(make_view(*this, sz, strides(), storage_offset() + start * strides()[d]));
    start += p;
  }
  return multi_view(*this, std::move(out), "SplitWithSizesBackward0", [d](const TensorList& g) { return cat(g, d); });
}

TensorList Tensor::split(int64_t split_size, int64_t d) const {
  LOOM_CHECK(dim() > 0, "split expects at least a 1-dimensional tensor");
  d = wrap_dim(d, dim(), "split");
  LOOM_CHECK(split_size >= 0, "split expects split_size be non-negative, but got split_size=", split_size);
  LOOM_CHECK(split_size > 0 || sizes()[d] == 0,
             "split_size can only be 0 if dimension size is 0, but got dimension "
             "size of ",
             sizes()[d]);
  Shape parts;
  for (int64_t s = 0; s < sizes()[d]; s += split_size) parts.push_back(std::min(split_size, sizes()[d] - s));
  if (parts.empty()) parts.push_back(0);
  return split_with_sizes(parts, d);
}

TensorList Tensor::chunk(int64_t chunks, int64_t d) const {
  LOOM_CHECK(dim() > 0, "chunk expects at least a 1-dimensional tensor");
  LOOM_CHECK(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  d = wrap_dim(d, dim(), "chunk");
  int64_t n = sizes()[d];
  if (n == 0) {
    // As PyTorch: `chunks` empty pieces. Each is a tensor of its own (~256 bytes), so an absurd count is loom's
    // out-of-memory error up front, not a bad_alloc or minutes spent making them.
    constexpr int64_t kMaxPieces = int64_t(1) << 24;
    LOOM_CHECK_KIND(chunks <= kMaxPieces, ErrorKind::OutOfMemory, "chunk: ", chunks, " empty chunks of dim ", d,
                    " (size 0) of a tensor of shape ", sizes(), " would take about ", chunks * 256,
                    " bytes of tensor objects (at most ", kMaxPieces, " pieces)");
    return split_with_sizes(Shape(chunks, 0), d);
  }
  return split((n + chunks - 1) / chunks, d);
}

TensorList Tensor::unbind(int64_t d) const {
  OpScope scope(Op::select, {this});
  d = wrap_sized_dim(d, dim(), "unbind");
  Shape sz = sizes(), st = strides();
  const int64_t step = st[d], n = sz[d];
  sz.erase(sz.begin() + d);
  st.erase(st.begin() + d);
  TensorList out;
  for (int64_t i = 0; i < n; ++i) out.push_back(make_view(*this, sz, st, storage_offset() + i * step));
  return multi_view(*this, std::move(out), "UnbindBackward0", [d](const TensorList& g) { return stack(g, d); });
}

}  // namespace loom
