// Indexing ops: index_select, gather, scatter_add, scatter_reduce,
// index_add / index_copy / index_fill, masked_select, nonzero, one_hot. CPU kernels report the first bad index, raised
// here as IndexError; CUDA kernels set the device error flag, raised at the next sync point.
#include <algorithm>
#include <cstring>
#include <memory>

#include "autograd/ops/common.h"
#include "kernels/index.h"
#include "core/op_cost.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;

namespace {

Tensor as_index(const Tensor& index, const char* op) {
  LOOM_CHECK_TYPE(index.dtype() == DType::Int64 || index.dtype() == DType::Int32, op,
                  "(): Expected dtype int32/int64 for index, got ", dtype_name(index.dtype()));
  return index.dtype() == DType::Int64 ? index.detach() : index.detach().to(DType::Int64);
}

[[noreturn]] void bad_index(const char* op, const Tensor& index, int64_t pos, int64_t size, int64_t dim) {
  Tensor flat = index.contiguous().reshape({index.numel()}).to(Device());
  int64_t v = static_cast<const int64_t*>(flat.data_ptr())[pos];
  LOOM_THROW(ErrorKind::Index, op, "(): index ", v, " is out of bounds for dimension ", dim, " with size ", size);
}

int* error_flag(const Device& d) { return cuda::device_error_flag(d.index); }

// Strides of `t` over `shape` with the stride along `dim` set to 0.
Shape strides_without(const Tensor& t, int64_t dim, int64_t ndim) {
  Shape st(ndim, 0);
  for (int64_t d = 0; d < ndim; ++d) st[d] = d == dim ? 0 : t.strides()[d];
  return st;
}

void check_gather_shapes(const char* op, const Tensor& self, const Tensor& index, int64_t d, const Tensor* src) {
  LOOM_CHECK(index.dim() == self.dim() || (index.dim() <= 1 && self.dim() <= 1), op,
             "(): Index tensor must have the same number of dimensions as ", src ? "self" : "input", " tensor (index ",
             index.sizes(), ", input ", self.sizes(), ")");
  if (src)
    LOOM_CHECK(index.dim() == src->dim() || (index.dim() <= 1 && src->dim() <= 1), op,
               "(): Index tensor must have the same number of dimensions as src tensor (index ", index.sizes(),
               ", src ", src->sizes(), ")");
  // A 0-d operand acts as one element along the (single) dimension of a 1-d index.
  auto size_at = [](const Tensor& t, int64_t k) { return t.dim() == 0 ? int64_t(1) : t.sizes()[k]; };
  for (int64_t k = 0; k < index.dim(); ++k) {
    if (k != d)
      LOOM_CHECK(index.sizes()[k] <= size_at(self, k), op, "(): Size does not match at dimension ", k,
                 " expected index ", index.sizes(), " to be smaller than self ", self.sizes(), " apart from dimension ",
                 d);
    if (src)
      LOOM_CHECK(index.sizes()[k] <= size_at(*src, k), op, "(): Expected index ", index.sizes(),
                 " to be smaller than src ", src->sizes(), " at dimension ", k);
  }
}

// self[..., index[p], ...] += src[p] in place; no autograd.
void scatter_add_raw(const Tensor& self, int64_t d, const Tensor& idx, const Tensor& src) {
  if (idx.numel() == 0) return;
  const int64_t nd = std::max<int64_t>(idx.dim(), 1);
  Shape ishape = idx.dim() == 0 ? Shape{1} : idx.sizes();
  auto self_st = self.dim() == 0 ? Shape{0} : strides_without(self, d, nd);
  auto src_st = src.dim() == 0 ? Shape{1} : src.strides();
  src_st.resize(nd);
  auto idx_st = idx.dim() == 0 ? Shape{1} : idx.strides();
  auto loop = ops::make_loop(ishape, std::vector<Shape>{self_st, src_st, idx_st});
  const int64_t dim_stride = self.dim() == 0 ? 0 : self.strides()[d];
  const int64_t dim_size = self.dim() == 0 ? 1 : self.sizes()[d];
  const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
  ops::on_device(
      self.device(), "scatter_add",
      [&] {
        int64_t bad =
            ops::kc::scatter_add(self.dtype(), self.data_ptr(), src.data_ptr(), ip, loop, dim_stride, dim_size);
        if (bad >= 0) bad_index("scatter_add", idx, bad, dim_size, d);
      },
      [&](cudaStream_t stream) {
        ops::kg::scatter_add(self.dtype(), self.data_ptr(), src.data_ptr(), ip, loop, dim_stride, dim_size,
                             error_flag(self.device()), stream);
      });
}

using kernels::ScatterReduce;

ScatterReduce parse_reduce(const std::string& reduce, const char* op) {
  if (reduce == "sum") return ScatterReduce::Sum;
  if (reduce == "prod") return ScatterReduce::Prod;
  if (reduce == "mean") return ScatterReduce::Mean;
  if (reduce == "amax") return ScatterReduce::Amax;
  if (reduce == "amin") return ScatterReduce::Amin;
  LOOM_THROW(ErrorKind::Runtime, op, "(): reduce argument must be either sum, prod, mean, amax or amin, got ", reduce);
}

// out[..., index[p], ...] = reduce(out's element, src[p]) in place on a
// contiguous out; mean then divides by the count (floor division for
// integers). No autograd.
void scatter_reduce_raw(Tensor& out, int64_t d, const Tensor& idx, const Tensor& src, ScatterReduce op,
                        bool include_self) {
  if (idx.numel() == 0) return;
  const int64_t nd = std::max<int64_t>(idx.dim(), 1);
  Shape ishape = idx.dim() == 0 ? Shape{1} : idx.sizes();
  auto out_st = out.dim() == 0 ? Shape{0} : strides_without(out, d, nd);
  auto src_st = src.dim() == 0 ? Shape{1} : src.strides();
  src_st.resize(nd);
  auto idx_st = idx.dim() == 0 ? Shape{1} : idx.strides();
  auto loop = ops::make_loop(ishape, std::vector<Shape>{out_st, src_st, idx_st});
  const int64_t dim_stride = out.dim() == 0 ? 0 : out.strides()[d];
  const int64_t dim_size = out.dim() == 0 ? 1 : out.sizes()[d];
  const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
  Tensor count;
  if (op == ScatterReduce::Mean)
    count = full(out.sizes(), Scalar(int64_t(include_self ? 1 : 0)), TensorOptions(out.dtype(), out.device()));
  void* cp = count.defined() ? count.data_ptr() : nullptr;
  ops::on_device(
      out.device(), "scatter_reduce",
      [&] {
        int64_t bad = ops::kc::scatter_reduce(out.dtype(), op, include_self, out.data_ptr(), cp, src.data_ptr(), ip,
                                              loop, dim_stride, dim_size);
        if (bad >= 0) bad_index("scatter_reduce", idx, bad, dim_size, d);
      },
      [&](cudaStream_t stream) {
        ops::kg::scatter_reduce(out.dtype(), op, include_self, out.data_ptr(), cp, src.data_ptr(), ip, loop, dim_stride,
                                dim_size, error_flag(out.device()), stream);
      });
  if (op == ScatterReduce::Mean) {
    count.clamp_(Scalar(int64_t(1)), std::nullopt);
    if (is_floating(out.dtype())) out.div_(count);
    else out.floor_divide_(count);
  }
}

// t with the elements the index names set to 0 (differentiable).
Tensor zero_at(const Tensor& t, int64_t d, const Tensor& idx) {
  return t.scatter_reduce(d, idx, zeros(idx.sizes(), TensorOptions(t.dtype(), t.device())), "sum", false);
}

// g (index-shaped) as a gradient of a src of shape src_shape: zeros beyond
// the index, joined on with cat (differentiable).
Tensor pad_to(Tensor g, const Shape& src_shape) {
  if (g.dim() != static_cast<int64_t>(src_shape.size())) {  // a 0-d src or index beside a 1-d one
    if (g.numel() == 0) return zeros(src_shape, TensorOptions(g.dtype(), g.device()));
    g = g.reshape(src_shape.empty() ? Shape{} : Shape{1});
  }
  for (int64_t k = 0; k < g.dim(); ++k) {
    if (g.sizes()[k] == src_shape[k]) continue;
    Shape rest = g.sizes();
    rest[k] = src_shape[k] - g.sizes()[k];
    g = cat({g, zeros(rest, TensorOptions(g.dtype(), g.device()))}, k);
  }
  return g;
}

// The gradients of scatter_reduce (self, src), composed of differentiable ops.
// x: self, s: src narrowed to the index's shape, y: the result.
TensorList scatter_reduce_grads(const Tensor& g, const Tensor& x, const Tensor& s, const Tensor& ix, const Tensor& y,
                                int64_t d, ScatterReduce op, bool include_self) {
  const TensorOptions opts(g.dtype(), g.device());
  Tensor gx, gs;
  switch (op) {
    case ScatterReduce::Sum:
      gx = g;
      gs = g.gather(d, ix);
      break;
    case ScatterReduce::Mean: {
      Tensor n =
          (include_self ? ones(g.sizes(), opts) : zeros(g.sizes(), opts)).scatter_add(d, ix, ones(ix.sizes(), opts));
      Tensor gn = g / n.clamp(Scalar(1.0), std::nullopt);
      gx = gn;
      gs = gn.gather(d, ix);
      break;
    }
    case ScatterReduce::Prod: {
      // Products of the others, without dividing by a zero: self's zeros as 1
      // (their gradient is the product of the rest), and a src zero alone in
      // its group as 1 (the product of the rest); a zero among several gets 0.
      Tensor masked_x = x.masked_fill(x.eq(Scalar(0.0)), Scalar(1.0));
      Tensor yx = masked_x.scatter_reduce(d, ix, s, "prod", include_self);
      gx = g * yx / masked_x;
      Tensor s_zero = s.eq(Scalar(0.0));
      Tensor zeros_in_group = zeros(x.sizes(), opts).scatter_add(d, ix, s_zero.to(g.dtype())).gather(d, ix);
      Tensor single = s_zero.bitwise_and(zeros_in_group.eq(Scalar(1.0)));
      Tensor ys = x.scatter_reduce(d, ix, s.masked_fill(single, Scalar(1.0)), "prod", include_self);
      gs = where(single, (g * ys).gather(d, ix), (g * y).gather(d, ix) / s.masked_fill(s_zero, Scalar(1.0)));
      break;
    }
    case ScatterReduce::Amax:
    case ScatterReduce::Amin: {
      // The gradient is shared evenly among the values equal to the result.
      Tensor x_is = x.eq(y).to(g.dtype());
      if (!include_self) x_is = zero_at(x_is, d, ix);
      Tensor s_is = s.eq(y.gather(d, ix)).to(g.dtype());
      Tensor share = g / x_is.scatter_add(d, ix, s_is).clamp(Scalar(1.0), std::nullopt);
      gx = x_is * share;
      gs = s_is * share.gather(d, ix);
      break;
    }
  }
  if (!include_self) gx = zero_at(gx, d, ix);
  return {gx, gs};
}

// ---- index_add / index_copy / index_fill: rows written along one dim ----

enum class RowWrite { Add, Copy, Fill };

const char* row_op_name(RowWrite w, bool inplace) {
  switch (w) {
    case RowWrite::Add: return inplace ? "index_add_" : "index_add";
    case RowWrite::Copy: return inplace ? "index_copy_" : "index_copy";
    default: return inplace ? "index_fill_" : "index_fill";
  }
}

// One element of dt holding v (the row kernels' alpha and value; int64 values stay exact).
struct ScalarBytes {
  alignas(8) unsigned char bytes[8] = {};
};
ScalarBytes scalar_bytes(DType dt, const Scalar& v, const char* op) {
  ScalarBytes r;
  LOOM_DISPATCH_ALL(dt, op, [&] {
    const scalar_t x = v.to<scalar_t>();
    std::memcpy(r.bytes, &x, sizeof x);
  });
  return r;
}

// Checks the arguments of a row write (src: index_add / index_copy's source, else null) and returns
// the wrapped dim and the index as a contiguous int64 vector.
std::pair<int64_t, Tensor> row_args(RowWrite w, const char* op, const Tensor& self, int64_t dim, const Tensor& index,
                                    const Tensor* src) {
  Tensor idx = as_index(index, op);
  if (w == RowWrite::Fill)  // PyTorch: RuntimeError for index_fill, IndexError for index_add / index_copy
    LOOM_CHECK(idx.dim() <= 1, op, "(): Index has to be a vector/scalar, got shape ", idx.sizes());
  else LOOM_CHECK_INDEX(idx.dim() <= 1, op, "(): Index is supposed to be a vector, got shape ", idx.sizes());
  if (src) ops::check_same_device(op, {&self, &idx, src});
  else ops::check_same_device(op, {&self, &idx});
  const int64_t d = wrap_dim(dim, self.dim(), op);
  const int64_t n = idx.numel();
  if (src) {
    LOOM_CHECK(src->dtype() == self.dtype(), op, "(): self (", dtype_name(self.dtype()), ") and source (",
               dtype_name(src->dtype()), ") must have the same scalar type");
    bool ok;
    if (self.dim() > 0 && src->dim() > 0) {
      ok = src->dim() == self.dim();
      for (int64_t k = 0; ok && k < self.dim(); ++k) ok = k == d || src->sizes()[k] == self.sizes()[k];
    } else {  // a 0-d self or source: one slice of one element (as PyTorch's index_copy)
      ok = src->numel() == 1 && (self.dim() == 0 || self.numel() == self.sizes()[d]);
    }
    LOOM_CHECK(ok, op,
               "(): source tensor shape must match self tensor shape, excluding the specified dimension. "
               "Got self.shape = ",
               self.sizes(), " source.shape = ", src->sizes());
    const int64_t k = src->dim() > 0 ? src->sizes()[d] : 1;
    LOOM_CHECK(n == k, op, "(): Number of indices (", n, ") should be equal to source.size(dim) (", k,
               "), for dim: ", d);
  }
  return {d, idx.contiguous().reshape({n})};
}

// The row write in place on a contiguous out (src contiguous, shaped as checked); no autograd.
void row_write_raw(RowWrite w, const char* op, const Tensor& out, int64_t d, const Tensor& idx, const Tensor& src,
                   const Scalar& scalar) {
  if (w != RowWrite::Copy) check_scalar_fits(scalar, out.dtype(), op);  // no NaN into an int, say
  const int64_t n = idx.numel();
  if (n == 0) return;
  int64_t outer = 1, size = out.dim() == 0 ? 1 : out.sizes()[d], inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= out.sizes()[k];
  for (int64_t k = d + 1; k < out.dim(); ++k) inner *= out.sizes()[k];
  const ScalarBytes sb = scalar_bytes(out.dtype(), scalar, op);
  const void* sp = w == RowWrite::Copy ? nullptr : sb.bytes;
  const void* rp = src.defined() ? src.data_ptr() : nullptr;
  const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
  ops::on_device(
      out.device(), op,
      [&] {
        int64_t bad = -1;
        switch (w) {
          case RowWrite::Add:
            bad = ops::kc::index_add(out.dtype(), out.data_ptr(), rp, ip, n, outer, size, inner, sp);
            break;
          case RowWrite::Copy:
            bad = ops::kc::index_copy(out.dtype(), out.data_ptr(), rp, ip, n, outer, size, inner);
            break;
          case RowWrite::Fill: bad = ops::kc::index_fill(out.dtype(), out.data_ptr(), ip, n, outer, size, inner, sp);
        }
        if (bad >= 0) bad_index(op, idx, bad, size, d);
      },
      [&](cudaStream_t stream) {
        int* flag = error_flag(out.device());
        switch (w) {
          case RowWrite::Add:
            ops::kg::index_add(out.dtype(), out.data_ptr(), rp, ip, n, outer, size, inner, sp, flag, stream);
            break;
          case RowWrite::Copy:
            ops::kg::index_copy(out.dtype(), out.data_ptr(), rp, ip, n, outer, size, inner, flag, stream);
            break;
          case RowWrite::Fill:
            ops::kg::index_fill(out.dtype(), out.data_ptr(), ip, n, outer, size, inner, sp, flag, stream);
        }
      });
}

// self with the row write applied: a contiguous copy (or self itself when `inplace` and self is contiguous
// and tracks no gradient), with the backward node of the out-of-place op. value: index_fill's 0-d tensor value
// (its gradient is the sum of g over the filled slices), else undefined.
Tensor row_write(RowWrite w, bool inplace, const Tensor& self, int64_t dim, const Tensor& index, const Tensor* src,
                 const Scalar& scalar, const Tensor& value) {
  const char* op = row_op_name(w, inplace);
  auto [d, idx] = row_args(w, op, self, dim, index, src);
  Tensor s = src ? src->detach().contiguous() : Tensor();
  if (inplace && s.defined() && s.storage() == self.storage()) s = s.clone();  // source overlapping self
  if (inplace && self.is_contiguous()) {
    row_write_raw(w, op, self, d, idx, s, scalar);
    return self;
  }
  Tensor out = self.detach().contiguous();
  if (out.storage() == self.storage()) out = out.clone();
  row_write_raw(w, op, out, d, idx, s, scalar);
  std::vector<Tensor> inputs{self};
  if (src) inputs.push_back(*src);
  if (value.defined()) inputs.push_back(value);
  if (!is_floating(self.dtype()) || !autograd::any_requires_grad(inputs)) return out;
  SavedTensor si(idx);
  const Shape src_shape = src ? src->sizes() : Shape{};
  const double alpha = scalar.to_double();
  const DType value_dtype = value.defined() ? value.dtype() : self.dtype();
  const Device value_device = value.defined() ? value.device() : self.device();
  const bool has_value = value.defined();
  const char* name = w == RowWrite::Add    ? "IndexAddBackward0"
                     : w == RowWrite::Copy ? "IndexCopyBackward0"
                     : has_value           ? "IndexFillBackward1"
                                           : "IndexFillBackward0";
  auto node = std::make_shared<LambdaNode>(name, [=](const TensorList& g) {
    Tensor ix = si.unpack(name);
    if (w == RowWrite::Add) {
      Tensor gs = g[0].index_select(d, ix).reshape(src_shape);
      return TensorList{g[0], alpha == 1.0 ? gs : gs * Scalar(alpha)};
    }
    Tensor gx = g[0].index_fill(d, ix, Scalar(0.0));
    if (w == RowWrite::Copy) return TensorList{gx, g[0].index_select(d, ix).reshape(src_shape)};
    if (!has_value) return TensorList{gx};
    return TensorList{gx, (g[0] - gx).sum().to(value_dtype).to(value_device)};
  });
  autograd::attach(node, inputs, out);
  return out;
}

}  // namespace

Tensor Tensor::index_select(int64_t dim, const Tensor& index) const {
  OpScope scope(Op::index_select, {this, &index});
  Tensor idx = as_index(index, "index_select");
  LOOM_CHECK_INDEX(idx.dim() <= 1, "index_select(): Index is supposed to be a vector, got shape ", idx.sizes());
  ops::check_same_device("index_select", {this, &idx});
  int64_t d = wrap_dim(dim, this->dim(), "index_select");
  if (scope.observed()) {  // the index, then one slice along d read and written per index
    const double slice = this->dim() > 0 && size(d) > 0 ? double(numel()) / double(size(d)) : 1;
    scope.set_cost(0, cost_bytes(&idx) + 2 * double(idx.numel()) * slice * double(element_size()));
  }
  LOOM_CHECK_INDEX(this->dim() > 0 || idx.numel() == 1, "index_select(): Index to scalar can have only 1 value, got ",
                   idx.numel(), " value(s)");
  Tensor in = contiguous();
  idx = idx.contiguous();
  const int64_t n = idx.numel();
  Shape out_shape = sizes();
  if (this->dim() > 0) out_shape[d] = n;
  int64_t outer = 1, size = this->dim() == 0 ? 1 : sizes()[d], inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= sizes()[i];
  for (int64_t i = d + 1; i < this->dim(); ++i) inner *= sizes()[i];
  Tensor out = empty(out_shape, TensorOptions(dtype(), device()));
  const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
  if (n > 0 && outer * inner > 0) {
    ops::on_device(
        device(), "index_select",
        [&] {
          int64_t bad = ops::kc::index_select(dtype(), out.data_ptr(), in.data_ptr(), ip, n, outer, size, inner);
          if (bad >= 0) bad_index("index_select", idx, bad, size, d);
        },
        [&](cudaStream_t stream) {
          ops::kg::index_select(dtype(), out.data_ptr(), in.data_ptr(), ip, n, outer, size, inner, error_flag(device()),
                                stream);
        });
  }
  if (is_floating(dtype()) && autograd::any_requires_grad({this})) {
    SavedTensor si(idx);
    Shape in_shape = sizes();
    auto node = std::make_shared<LambdaNode>("IndexSelectBackward0", [=](const TensorList& g) {
      Tensor ix = si.unpack("IndexSelectBackward0");
      Tensor out = zeros(in_shape, TensorOptions(g[0].dtype(), g[0].device()));
      out.index_add_(d, ix, g[0]);  // into the zeros (under create_graph: the out-of-place op's history)
      return TensorList{out};
    });
    autograd::attach(node, {*this}, out);
  }
  return out;
}

Tensor Tensor::gather(int64_t dim, const Tensor& index) const {
  OpScope scope(Op::gather, {this, &index});
  Tensor idx = as_index(index, "gather");
  ops::check_same_device("gather", {this, &idx});
  int64_t d = wrap_dim(dim, this->dim(), "gather");
  check_gather_shapes("gather", *this, idx, d, nullptr);
  Tensor out = empty(idx.sizes(), TensorOptions(dtype(), device()));
  if (out.numel() > 0) {
    const int64_t nd = std::max<int64_t>(idx.dim(), 1);
    Shape ishape = idx.dim() == 0 ? Shape{1} : idx.sizes();
    Shape out_st = idx.dim() == 0 ? Shape{1} : out.strides();
    Shape in_st = this->dim() == 0 ? Shape{0} : strides_without(*this, d, nd);
    Shape idx_st = idx.dim() == 0 ? Shape{1} : idx.strides();
    auto loop = ops::make_loop(ishape, std::vector<Shape>{out_st, in_st, idx_st});
    const int64_t dim_stride = this->dim() == 0 ? 0 : strides()[d];
    const int64_t dim_size = this->dim() == 0 ? 1 : sizes()[d];
    const auto* ip = static_cast<const int64_t*>(idx.data_ptr());
    ops::on_device(
        device(), "gather",
        [&] {
          int64_t bad = ops::kc::gather(dtype(), out.data_ptr(), data_ptr(), ip, loop, dim_stride, dim_size);
          if (bad >= 0) bad_index("gather", idx, bad, dim_size, d);
        },
        [&](cudaStream_t stream) {
          ops::kg::gather(dtype(), out.data_ptr(), data_ptr(), ip, loop, dim_stride, dim_size, error_flag(device()),
                          stream);
        });
  }
  if (is_floating(dtype()) && autograd::any_requires_grad({this})) {
    SavedTensor si(idx);
    Shape in_shape = sizes();
    auto node = std::make_shared<LambdaNode>("GatherBackward0", [=](const TensorList& g) {
      Tensor out = zeros(in_shape, TensorOptions(g[0].dtype(), g[0].device()));
      return TensorList{out.scatter_add(d, si.unpack("GatherBackward0"), g[0])};
    });
    autograd::attach(node, {*this}, out);
  }
  return out;
}

Tensor& Tensor::scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) {
  OpScope scope(Op::scatter_add, {this, &index, &src});
  Tensor idx = as_index(index, "scatter_add_");
  ops::check_same_device("scatter_add_", {this, &idx, &src});
  LOOM_CHECK(src.dtype() == dtype(), "scatter_add_(): Expected self.dtype to be equal to src.dtype (",
             dtype_name(dtype()), " vs ", dtype_name(src.dtype()), ")");
  int64_t d = wrap_dim(dim, this->dim(), "scatter_add_");
  ops::check_no_internal_overlap(*this, "scatter_add_");
  check_gather_shapes("scatter_add_", *this, idx, d, &src);
  bool track = autograd::any_requires_grad({this, &src});
  if (track) ops::check_inplace(*this, "scatter_add_");
  if (!track) {
    scatter_add_raw(*this, d, idx, src);
    bump_version();
    return *this;
  }
  Tensor r = scatter_add(dim, index, src);
  ops::copy_raw(*this, r, false);
  bump_version();
  ops::rebase_history(*this, r);
  return *this;
}

Tensor Tensor::scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const {
  OpScope scope(Op::scatter_add, {this, &index, &src});
  Tensor idx = as_index(index, "scatter_add");
  ops::check_same_device("scatter_add", {this, &idx, &src});
  LOOM_CHECK(src.dtype() == dtype(), "scatter_add(): Expected self.dtype to be equal to src.dtype (",
             dtype_name(dtype()), " vs ", dtype_name(src.dtype()), ")");
  int64_t d = wrap_dim(dim, this->dim(), "scatter_add");
  check_gather_shapes("scatter_add", *this, idx, d, &src);
  Tensor out = detach().clone();
  scatter_add_raw(out, d, idx, src);
  if (is_floating(dtype()) && autograd::any_requires_grad({this, &src})) {
    SavedTensor si(idx);
    Shape src_shape = src.sizes();
    auto node = std::make_shared<LambdaNode>("ScatterAddBackward0", [=](const TensorList& g) {
      Tensor ix = si.unpack("ScatterAddBackward0");
      // src larger than the index: the rest gets no gradient.
      return TensorList{g[0], pad_to(g[0].gather(d, ix), src_shape)};
    });
    autograd::attach(node, {*this, src}, out);
  }
  return out;
}

Tensor Tensor::scatter_reduce(int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                              bool include_self) const {
  OpScope scope(Op::scatter_reduce, {this, &index, &src});
  const ScatterReduce op = parse_reduce(reduce, "scatter_reduce");
  Tensor idx = as_index(index, "scatter_reduce");
  ops::check_same_device("scatter_reduce", {this, &idx, &src});
  LOOM_CHECK(src.dtype() == dtype(), "scatter_reduce(): Expected self.dtype to be equal to src.dtype (",
             dtype_name(dtype()), " vs ", dtype_name(src.dtype()), ")");
  LOOM_CHECK_TYPE(!(op == ScatterReduce::Mean && dtype() == DType::Bool),
                  "scatter_reduce(): reduce='mean' is not supported for bool tensors");
  LOOM_CHECK_TYPE(!(device().is_cuda() && dtype() == DType::Bool), "scatter_reduce(): bool tensors are not ",
                  "supported on CUDA (self ", sizes(), ")");
  int64_t d = wrap_dim(dim, this->dim(), "scatter_reduce");
  check_gather_shapes("scatter_reduce", *this, idx, d, &src);
  Tensor out = detach().clone();
  scatter_reduce_raw(out, d, idx, src.detach(), op, include_self);
  if (is_floating(dtype()) && autograd::any_requires_grad({this, &src})) {
    SavedTensor sx(*this), ss(src), si(idx), sy(out, true);
    Shape src_shape = src.sizes();
    auto node = std::make_shared<LambdaNode>("ScatterReduceBackward0", [=](const TensorList& g) {
      const char* name = "ScatterReduceBackward0";
      Tensor ix = si.unpack(name), s = ss.unpack(name);
      for (int64_t k = 0; k < ix.dim(); ++k) s = s.narrow(k, 0, ix.sizes()[k]);
      TensorList r = scatter_reduce_grads(g[0], sx.unpack(name), s, ix, sy.unpack(name), d, op, include_self);
      return TensorList{r[0], pad_to(r[1], src_shape)};
    });
    autograd::attach(node, {*this, src}, out);
  }
  return out;
}

Tensor& Tensor::scatter_reduce_(int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                                bool include_self) {
  OpScope scope(Op::scatter_reduce, {this, &index, &src});
  ops::check_no_internal_overlap(*this, "scatter_reduce_");
  bool track = autograd::any_requires_grad({this, &src});
  if (track) ops::check_inplace(*this, "scatter_reduce_");
  // Under autograd from a clone: the backward keeps self's values, which the write below replaces.
  Tensor r = (track ? clone() : detach()).scatter_reduce(dim, index, src, reduce, include_self);
  ops::copy_raw(*this, r, false);
  bump_version();
  if (track) ops::rebase_history(*this, r);
  return *this;
}

Tensor Tensor::index_add(int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) const {
  OpScope scope(Op::index_add, {this, &index, &source});
  return row_write(RowWrite::Add, false, *this, dim, index, &source, alpha, Tensor());
}

Tensor Tensor::index_copy(int64_t dim, const Tensor& index, const Tensor& source) const {
  OpScope scope(Op::index_copy, {this, &index, &source});
  return row_write(RowWrite::Copy, false, *this, dim, index, &source, Scalar(), Tensor());
}

Tensor Tensor::index_fill(int64_t dim, const Tensor& index, const Scalar& value) const {
  OpScope scope(Op::index_fill, {this, &index});
  return row_write(RowWrite::Fill, false, *this, dim, index, nullptr, value, Tensor());
}

// value: the 0-d tensor read with item() (a sync, as PyTorch), its gradient the sum of g over the filled slices.
Tensor Tensor::index_fill(int64_t dim, const Tensor& index, const Tensor& value) const {
  OpScope scope(Op::index_fill, {this, &index});
  LOOM_CHECK(value.dim() == 0, "index_fill(): only supports a 0-dimensional value tensor, but got tensor with ",
             value.dim(), " dimension(s)");
  return row_write(RowWrite::Fill, false, *this, dim, index, nullptr, value.item(), value);
}

namespace {

// An in-place row write: straight into a contiguous self that tracks no gradient, else the out-of-place
// op copied back (self's history then that op's).
Tensor& row_write_(Tensor& self, RowWrite w, int64_t dim, const Tensor& index, const Tensor* src, const Scalar& scalar,
                   const Tensor& value) {
  const char* op = row_op_name(w, true);
  ops::check_no_internal_overlap(self, op);
  std::vector<Tensor> inputs{self};
  if (src) inputs.push_back(*src);
  if (value.defined()) inputs.push_back(value);
  const bool track = is_floating(self.dtype()) && autograd::any_requires_grad(inputs);
  if (track) ops::check_inplace(self, op);
  Tensor r = track ? row_write(w, false, self, dim, index, src, scalar, value)
                   : row_write(w, true, self.detach(), dim, index, src, scalar, value);
  if (r.storage() != self.storage() || r.storage_offset() != self.storage_offset()) ops::copy_raw(self, r, false);
  self.bump_version();
  if (track) ops::rebase_history(self, r);
  return self;
}

}  // namespace

Tensor& Tensor::index_add_(int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  OpScope scope(Op::index_add, {this, &index, &source});
  return row_write_(*this, RowWrite::Add, dim, index, &source, alpha, Tensor());
}

Tensor& Tensor::index_copy_(int64_t dim, const Tensor& index, const Tensor& source) {
  OpScope scope(Op::index_copy, {this, &index, &source});
  return row_write_(*this, RowWrite::Copy, dim, index, &source, Scalar(), Tensor());
}

Tensor& Tensor::index_fill_(int64_t dim, const Tensor& index, const Scalar& value) {
  OpScope scope(Op::index_fill, {this, &index});
  return row_write_(*this, RowWrite::Fill, dim, index, nullptr, value, Tensor());
}

Tensor& Tensor::index_fill_(int64_t dim, const Tensor& index, const Tensor& value) {
  OpScope scope(Op::index_fill, {this, &index});
  LOOM_CHECK(value.dim() == 0, "index_fill_(): only supports a 0-dimensional value tensor, but got tensor with ",
             value.dim(), " dimension(s)");
  return row_write_(*this, RowWrite::Fill, dim, index, nullptr, value.item(), value);
}

Tensor Tensor::nonzero() const {
  OpScope scope(Op::nonzero, {this});
  Tensor mask = (dtype() == DType::Bool ? detach() : ne(0.0)).contiguous().to(Device());
  const int64_t n = mask.numel();
  std::unique_ptr<int64_t[]> flat(new int64_t[static_cast<size_t>(n)]);  // uninitialized: the kernel fills it
  int64_t count = n > 0 ? ops::kc::nonzero_flat(static_cast<const bool*>(mask.data_ptr()), n, flat.get()) : 0;
  const int64_t nd = dim();
  Tensor out = empty({count, nd}, TensorOptions(DType::Int64));
  auto* o = static_cast<int64_t*>(out.data_ptr());
  // The coordinates of increasing flat positions: advance the previous ones by
  // the (usually small) step with carries, dividing only for a long jump.
  const Shape& sz = sizes();
  Shape coord(static_cast<size_t>(nd), 0);
  int64_t prev = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t step = flat[i] - prev;
    prev = flat[i];
    if (nd > 0 && step < sz[nd - 1]) {
      coord[nd - 1] += step;
      for (int64_t d = nd - 1; d > 0 && coord[d] >= sz[d]; --d) {
        coord[d] -= sz[d];
        ++coord[d - 1];
      }
    } else {
      int64_t rem = prev;
      for (int64_t d = nd - 1; d >= 0; --d) {
        coord[d] = rem % sz[d];
        rem /= sz[d];
      }
    }
    std::copy(coord.begin(), coord.end(), o + i * nd);
  }
  return out.to(device());
}

Tensor Tensor::masked_select(const Tensor& mask) const {
  LOOM_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_select: expected BoolTensor for mask, got ",
                  dtype_name(mask.dtype()));
  Shape shape = broadcast_shapes(sizes(), mask.sizes());
  Tensor m = mask.expand(shape).contiguous().to(Device());
  const int64_t n = m.numel();
  std::vector<int64_t> flat(n);
  int64_t count = n > 0 ? ops::kc::nonzero_flat(static_cast<const bool*>(m.data_ptr()), n, flat.data()) : 0;
  flat.resize(count);
  Tensor idx = from_vector(flat, {count}, device());
  return expand(shape).reshape({n}).index_select(0, idx);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  OpScope scope(Op::one_hot, {&indices});
  LOOM_CHECK_TYPE(indices.dtype() == DType::Int64, "one_hot is only applicable to index tensor of type int64, got ",
                  dtype_name(indices.dtype()));
  if (indices.numel() > 0) {
    int64_t lo = indices.min().item<int64_t>(), hi = indices.max().item<int64_t>();
    LOOM_CHECK(lo >= 0, "one_hot: Class values must be non-negative (got ", lo, ")");
    if (num_classes == -1) num_classes = hi + 1;
    LOOM_CHECK(hi < num_classes, "one_hot: Class values must be smaller than num_classes (got ", hi,
               " with num_classes ", num_classes, ")");
    scope.set_cost(0, cost_bytes(&indices) + double(indices.numel()) * double(num_classes) * 8);
  } else {
    LOOM_CHECK(num_classes > 0, "one_hot: Can not infer total number of classes from empty tensor.");
  }
  Tensor classes = arange(Scalar(int64_t(0)), Scalar(num_classes), Scalar(int64_t(1)),
                          TensorOptions(DType::Int64, indices.device()));
  return indices.unsqueeze(-1).eq(classes).to(DType::Int64);
}

}  // namespace loom
