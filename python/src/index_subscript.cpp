// Tensor.__getitem__ / __setitem__ with PyTorch semantics for ints, slices
// (positive steps), None, Ellipsis, tuples of these, and advanced indices:
// bool masks (NumPy/PyTorch mask semantics) and integer tensors / lists /
// arrays (one gathers along the dimension it indexes; several broadcast
// together, see index_multi). Basic indexing returns a
// view; assignment through an advanced index is PyTorch's index_put_
// (index_put below).
#include "common.h"

#include <algorithm>
#include <numeric>

#include "python/ops_docs.h"

namespace loom::python {

namespace {

bool is_advanced(py::handle h) {
  return py::isinstance<Tensor>(h) || py::isinstance<py::list>(h) || py::isinstance<py::array>(h);
}

// An advanced index as a tensor (bool mask or int64 indices) on `device`.
Tensor advanced_tensor(py::handle h, Device device) {
  Tensor t;
  if (py::isinstance<Tensor>(h)) {
    t = h.cast<Tensor>();
  } else if (py::isinstance<py::array>(h)) {
    t = from_numpy_copy(h.cast<py::array>(), std::nullopt, Device());
  } else {
    py::array a = py::module_::import("numpy").attr("asarray")(h);
    if (a.size() == 0) a = py::module_::import("numpy").attr("zeros")(0, "int64");
    t = from_numpy_copy(a, std::nullopt, Device());
  }
  if (t.dtype() == DType::Int32) t = t.to(DType::Int64);
  if (t.dtype() != DType::Bool && t.dtype() != DType::Int64)
    throw py::index_error("tensors used as indices must be long, int or bool tensors");
  if (t.device() != device) t = t.to(device);
  return t;
}

// Number of dimensions of self an index item consumes.
int64_t consumed_dims(py::handle item) {
  if (item.is_none() || (item.ptr() == Py_Ellipsis)) return 0;
  if (py::isinstance<Tensor>(item)) {
    const Tensor& t = item.cast<const Tensor&>();
    return t.dtype() == DType::Bool ? t.dim() : 1;
  }
  if (py::isinstance<py::array>(item)) {
    py::array a = item.cast<py::array>();
    return a.dtype().kind() == 'b' ? a.ndim() : 1;
  }
  return 1;
}

py::tuple as_index_tuple(py::handle index) {
  if (py::isinstance<py::tuple>(index)) return py::reinterpret_borrow<py::tuple>(index);
  return py::make_tuple(index);
}

bool is_int_like(py::handle h) {
  if (PyBool_Check(h.ptr())) return false;
  if (PyLong_Check(h.ptr())) return true;
  if (py::isinstance<Tensor>(h)) {
    const Tensor& t = h.cast<const Tensor&>();
    return t.dim() == 0 && is_integral(t.dtype());
  }
  return is_scalar(h) && py::hasattr(h, "__index__");
}

// Applies an advanced index covering dims [d, d + k) of `r`.
Tensor apply_advanced(const Tensor& r, int64_t d, const Tensor& idx) {
  if (idx.dtype() == DType::Bool) {
    const int64_t k = idx.dim();
    if (k == 0) {  // x[True] / x[False]: a new leading dim of size 1 or 0
      Tensor u = r.unsqueeze(d);
      return idx.item().to_bool() ? u : u.narrow(d, 0, 0);
    }
    for (int64_t j = 0; j < k; ++j)
      if (d + j >= r.dim() || idx.size(j) != r.size(d + j))
        LOOM_THROW(ErrorKind::Index, "The shape of the mask ", idx.sizes(), " at index ", j,
                   " does not match the shape of the indexed tensor ", r.sizes(), " at index ", d + j);
    Tensor nz = idx.nonzero();  // [n, k]
    Tensor flat = r;
    if (k > 1) flat = r.flatten(d, d + k - 1);
    Tensor lin;
    if (k == 1) {
      lin = nz.select(1, 0);
    } else {
      Shape strides(k);
      int64_t s = 1;
      for (int64_t j = k - 1; j >= 0; --j) {
        strides[j] = s;
        s *= idx.size(j);
      }
      lin = nz.select(1, 0).mul(Scalar(strides[0]));
      for (int64_t j = 1; j < k; ++j) lin = lin.add(nz.select(1, j).mul(Scalar(strides[j])));
    }
    return flat.index_select(d, lin.contiguous());
  }
  if (d >= r.dim()) throw py::index_error("too many indices for tensor of dimension " + std::to_string(r.dim()));
  const int64_t n = r.size(d);
  Tensor flat_idx = idx.reshape({-1});
  if (flat_idx.numel() > 0) {
    const int64_t lo = flat_idx.min().item().to_int(), hi = flat_idx.max().item().to_int();
    if (lo < -n || hi >= n)
      throw py::index_error("index " + std::to_string(hi >= n ? hi : lo) + " is out of bounds for dimension " +
                            std::to_string(d) + " with size " + std::to_string(n));
    if (lo < 0) flat_idx = where(flat_idx.lt(Scalar(0)), flat_idx.add(Scalar(n)), flat_idx);
  }
  Tensor out = r.index_select(d, flat_idx.contiguous());
  if (idx.dim() != 1) out = out.unflatten(d, idx.dim() == 0 ? Shape{} : idx.sizes());
  if (idx.dim() == 0) out = out.squeeze(d);
  return out;
}

// r sliced along dim d by the Python slice `it` (positive steps only). With skip_full, a slice that
// keeps the whole dim (x[:, 1:3]'s `:`) returns r itself, as PyTorch does inside a tuple index: no
// slice view and no SliceBackward0 node whose backward fills and copies the whole gradient.
Tensor apply_slice(const Tensor& r, int64_t d, py::handle it, bool skip_full = false) {
  py::slice sl = py::reinterpret_borrow<py::slice>(it);
  auto get = [](py::object o) -> std::optional<int64_t> {
    if (o.is_none()) return std::nullopt;
    return to_int(o, "slice index");
  };
  auto start = get(sl.attr("start")), stop = get(sl.attr("stop")), step = get(sl.attr("step"));
  if (step && *step <= 0) throw py::value_error("step must be greater than zero");
  if (skip_full && step.value_or(1) == 1 && d < r.dim()) {
    const int64_t n = r.size(d);
    auto at = [n](std::optional<int64_t> v, int64_t dflt) {
      if (!v) return dflt;
      return std::clamp<int64_t>(*v < 0 ? *v + n : *v, 0, n);
    };
    if (at(start, 0) == 0 && at(stop, n) == n) return r;
  }
  return r.slice(d, start, stop, step.value_or(1));
}

struct Indexed {
  Tensor result;
  bool advanced = false;
};

// Several advanced indices (x[rows, cols], x[mask, idx], x[:, 0, :, [1, 2]]),
// with NumPy's and PyTorch's rules: integers count as advanced indices here,
// a k-dim bool mask is the k index tensors of its nonzero(), and all of them
// broadcast to one shape B. The result has B's dims where the advanced
// indices stood when they are adjacent in the index, else in front, followed
// by the dims the basic items (slices, None, Ellipsis) leave. One index_select
// over the advanced dims flattened, so the gradient flows as for one index.
Tensor index_multi(const Tensor& self, const py::tuple& items, int64_t consumed) {
  Tensor r = self;
  int64_t d = 0;
  std::vector<int64_t> pos;  // dims of r the index tensors apply to
  std::vector<Tensor> idx;   // int64 index tensors, one per entry of pos
  bool gap = false, seen = false, closed = false;
  for (auto it : items) {
    const bool adv = is_int_like(it) || is_advanced(it);
    if (adv) {
      if (closed) gap = true;  // a basic item stood between two advanced ones
      seen = true;
    } else if (seen) {
      closed = true;
    }
    if (it.is_none()) {
      r = r.unsqueeze(d++);
    } else if (it.ptr() == Py_Ellipsis) {
      const int64_t skip = self.dim() - consumed;
      if (skip == 0 && seen) closed = false;  // an empty Ellipsis separates nothing
      d += skip;
    } else if (py::isinstance<py::slice>(it)) {
      r = apply_slice(r, d++, it, true);
    } else if (is_int_like(it)) {
      const int64_t i = py::isinstance<Tensor>(it) ? it.cast<const Tensor&>().item().to_int()
                                                   : py::int_(py::reinterpret_borrow<py::object>(it)).cast<int64_t>();
      pos.push_back(d++);
      idx.push_back(scalar_tensor(Scalar(i), TensorOptions(DType::Int64, self.device())));
    } else if (is_advanced(it)) {
      Tensor t = advanced_tensor(it, self.device());
      if (t.dtype() == DType::Bool) {
        const int64_t k = t.dim();
        if (k == 0)
          LOOM_THROW(ErrorKind::NotImplemented,
                     "a 0-dim bool index (x[True]) together with other tensor indices is not supported");
        for (int64_t j = 0; j < k; ++j)
          if (d + j >= r.dim() || t.size(j) != r.size(d + j))
            LOOM_THROW(ErrorKind::Index, "The shape of the mask ", t.sizes(), " at index ", j,
                       " does not match the shape of the indexed tensor ", r.sizes(), " at index ", d + j);
        Tensor nz = t.nonzero();  // [n, k]
        for (int64_t j = 0; j < k; ++j) {
          pos.push_back(d + j);
          idx.push_back(nz.select(1, j));
        }
        d += k;
      } else {
        pos.push_back(d++);
        idx.push_back(t);
      }
    } else {
      throw py::type_error(
          "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got " +
          std::string(py::str(py::type::of(it).attr("__name__"))) + ")");
    }
  }
  // Broadcast the index tensors together, check their bounds, wrap negatives.
  Shape bshape = idx[0].sizes();
  for (size_t j = 1; j < idx.size(); ++j) {
    try {
      bshape = broadcast_shapes(bshape, idx[j].sizes());
    } catch (const Error&) {
      std::string shapes;
      for (const Tensor& t : idx) shapes += (shapes.empty() ? "" : ", ") + ::loom::detail::str(t.sizes());
      throw py::index_error("shape mismatch: indexing tensors could not be broadcast together with shapes " + shapes);
    }
  }
  const int64_t m = static_cast<int64_t>(pos.size());
  Tensor lin;
  int64_t span = 1;
  for (int64_t j = m - 1; j >= 0; --j) {
    const int64_t n = r.size(pos[j]);
    Tensor t = idx[j];
    if (t.numel() > 0) {
      const int64_t lo = t.min().item().to_int(), hi = t.max().item().to_int();
      if (lo < -n || hi >= n)
        throw py::index_error("index " + std::to_string(hi >= n ? hi : lo) + " is out of bounds for dimension " +
                              std::to_string(pos[j]) + " with size " + std::to_string(n));
      if (lo < 0) t = where(t.lt(Scalar(0)), t.add(Scalar(n)), t);
    }
    Tensor term = span == 1 ? t : t.mul(Scalar(span));
    lin = lin.defined() ? lin.add(term) : term;
    span *= n;
  }
  lin = lin.expand(bshape).reshape({-1}).contiguous();
  // The advanced dims first (in order), flattened into one, then the others.
  Dims perm(pos.begin(), pos.end());
  Shape rest;
  for (int64_t k = 0; k < r.dim(); ++k)
    if (std::find(pos.begin(), pos.end(), k) == pos.end()) {
      perm.push_back(k);
      rest.push_back(r.size(k));
    }
  Shape flat{span};
  flat.insert(flat.end(), rest.begin(), rest.end());
  Tensor out = r.permute(perm).reshape(flat).index_select(0, lin);
  Shape full = bshape;
  full.insert(full.end(), rest.begin(), rest.end());
  out = out.reshape(full);
  // Adjacent advanced indices keep their place: B's dims go where the first one was.
  const int64_t first = pos[0], nb = static_cast<int64_t>(bshape.size());
  if (!gap && first > 0) {
    Dims back;
    for (int64_t k = 0; k < first; ++k) back.push_back(nb + k);
    for (int64_t k = 0; k < nb; ++k) back.push_back(k);
    for (int64_t k = nb + first; k < out.dim(); ++k) back.push_back(k);
    out = out.permute(back);
  }
  return out;
}

Indexed index_tensor(const Tensor& self, py::handle index) {
  py::tuple items = as_index_tuple(index);
  // A list as the whole index is one advanced index, not a tuple of indices.
  int64_t consumed = 0, ellipses = 0;
  for (auto it : items) {
    consumed += consumed_dims(it);
    if ((it.ptr() == Py_Ellipsis)) ++ellipses;
  }
  if (ellipses > 1) throw py::index_error("an index can only have a single ellipsis ('...')");
  if (consumed > self.dim())
    throw py::index_error("too many indices for tensor of dimension " + std::to_string(self.dim()));

  // Two or more advanced indices, counting integers beside a tensor index (as NumPy does).
  int64_t tensors = 0, ints = 0;
  for (auto it : items) {
    if (is_int_like(it)) ++ints;
    else if (!it.is_none() && it.ptr() != Py_Ellipsis && !py::isinstance<py::slice>(it) && is_advanced(it)) ++tensors;
  }
  if (tensors >= 2 || (tensors == 1 && ints >= 1)) return Indexed{index_multi(self, items, consumed), true};

  // A single slice (x[1:3], x[:]) is always a slice, as in PyTorch; inside a tuple the ones that keep
  // their whole dim are skipped.
  const bool tuple_index = py::isinstance<py::tuple>(index);
  Indexed out;
  Tensor r = self;
  int64_t d = 0;        // current dim of r
  int64_t src_dim = 0;  // dim of self (for messages)
  for (auto it : items) {
    if (it.is_none()) {
      r = r.unsqueeze(d++);
    } else if ((it.ptr() == Py_Ellipsis)) {
      d += self.dim() - consumed;
      src_dim += self.dim() - consumed;
    } else if (is_int_like(it)) {
      int64_t i = py::isinstance<Tensor>(it) ? it.cast<const Tensor&>().item().to_int()
                                             : py::int_(py::reinterpret_borrow<py::object>(it)).cast<int64_t>();
      const int64_t n = r.size(d);
      if (i < -n || i >= n)
        throw py::index_error("index " + std::to_string(i) + " is out of bounds for dimension " +
                              std::to_string(src_dim) + " with size " + std::to_string(n));
      r = r.select(d, i);
      ++src_dim;
    } else if (py::isinstance<py::slice>(it)) {
      r = apply_slice(r, d++, it, tuple_index);
      ++src_dim;
    } else if (is_advanced(it)) {
      Tensor idx = advanced_tensor(it, r.device());
      out.advanced = true;
      const int64_t before = r.dim();
      r = apply_advanced(r, d, idx);
      const int64_t k = idx.dtype() == DType::Bool ? idx.dim() : 1;
      d += r.dim() - before + k;
      src_dim += k;
    } else {
      throw py::type_error(
          "only integers, slices (`:`), ellipsis (`...`), None and long or "
          "byte Variables are "
          "valid indices (got " +
          std::string(py::str(py::type::of(it).attr("__name__"))) + ")");
    }
  }
  // x[...], x[:, :], x[()]: a view of x (PyTorch's alias), never x itself.
  out.result = r.is_same(self) ? r.view(r.sizes()) : r;
  return out;
}

// Whether index_tensor would apply an advanced index (a 0-d integer tensor is
// a plain int there).
bool has_advanced(py::handle index) {
  for (auto it : as_index_tuple(index))
    if (!it.is_none() && it.ptr() != Py_Ellipsis && !is_int_like(it) && !py::isinstance<py::slice>(it) &&
        is_advanced(it))
      return true;
  return false;
}

// value as the written elements: PyTorch drops its leading 1s, then it broadcasts to the indexing result.
Tensor value_for(const Tensor& self, const Tensor& value, const Shape& sel) {
  Tensor v = value.to(self.device(), self.dtype());
  while (v.dim() > static_cast<int64_t>(sel.size()) && v.size(0) == 1) v = v.squeeze(0);
  bool fits = v.dim() <= static_cast<int64_t>(sel.size());
  for (int64_t k = 1; fits && k <= v.dim(); ++k)
    fits = v.size(-k) == 1 || v.size(-k) == sel[sel.size() - static_cast<size_t>(k)];
  if (!fits)
    LOOM_THROW(ErrorKind::Runtime, "shape mismatch: value tensor of shape ", value.sizes(),
               " cannot be broadcast to indexing result of shape ", sel);
  return v.expand(sel);
}

// x[idx] = v with one integer index tensor: the rows of dim 0 it names, written by index_copy_ (index_fill_
// for a number) in one kernel. A row named twice keeps its last write on the CPU and one of them on CUDA
// (PyTorch leaves it unspecified).
bool put_rows(Tensor& self, py::handle index, const Tensor& value, const std::optional<Scalar>& fill) {
  py::tuple items = as_index_tuple(index);
  if (items.size() != 1 || self.dim() == 0 || !is_advanced(items[0]) || is_int_like(items[0])) return false;
  Tensor idx = advanced_tensor(items[0], self.device());
  if (idx.dtype() != DType::Int64) return false;
  const int64_t n0 = self.size(0);
  Tensor rows = idx.reshape({-1});
  if (rows.numel() > 0) {
    const int64_t lo = rows.min().item().to_int(), hi = rows.max().item().to_int();
    const int64_t bad = lo < -n0 ? lo : hi;
    if (lo < -n0 || hi >= n0)
      throw py::index_error("index " + std::to_string(bad) + " is out of bounds for dimension 0 with size " +
                            std::to_string(n0));
    if (lo < 0) rows = where(rows.lt(Scalar(int64_t(0))), rows + Scalar(n0), rows);
  }
  Shape sel = idx.sizes();
  sel.insert(sel.end(), self.sizes().begin() + 1, self.sizes().end());
  if (fill) {
    if (rows.numel() > 0) self.index_fill_(0, rows, *fill);
    return true;
  }
  Tensor v = value_for(self, value, sel);
  if (rows.numel() == 0) return true;
  Shape flat{rows.numel()};
  flat.insert(flat.end(), self.sizes().begin() + 1, self.sizes().end());
  self.index_copy_(0, rows, v.reshape(flat));
  return true;
}

// self[index] = value (or = fill) through an advanced index, as PyTorch's
// non-accumulating index_put_. One integer index tensor: put_rows. Otherwise
// the elements self[index] covers are found by indexing a tensor of element
// numbers the same way, so every index form of __getitem__ works and the value
// broadcasts to that result's shape; a contiguous self takes them through a
// flat view (index_copy_ / index_fill_: an element written twice keeps its last
// write on the CPU, one of them on CUDA; PyTorch leaves it unspecified), any
// other through copy_(where(mask, values, self)) with the last write kept. The
// gradient reaches value and the untouched elements of self.
void index_put(Tensor& self, py::handle index, const Tensor& value, const std::optional<Scalar>& fill) {
  if (put_rows(self, index, value, fill)) return;
  const int64_t n = self.numel();
  const Device dev = self.device();
  const TensorOptions i64(DType::Int64, dev), i32(DType::Int32, dev);
  Tensor pos = arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), i64).view(self.sizes());
  Tensor sel = index_tensor(pos, index).result;
  Tensor v;
  if (!fill) v = value_for(self, value, sel.sizes()).reshape({-1});
  Tensor p = sel.reshape({-1}).contiguous();
  const int64_t m = p.numel();
  if (m == 0) return;
  // The element positions written through a flat view (the last write of an element wins on the CPU).
  if (self.is_contiguous()) {
    Tensor flat = self.view({-1});
    if (fill) flat.index_fill_(0, p, *fill);
    else flat.index_copy_(0, p, v);
    return;
  }
  Tensor hit = zeros({n}, i32).scatter_add(0, p, ones({m}, i32)).ne(Scalar(0)).view(self.sizes());
  if (fill) {  // one value everywhere: duplicates do not matter
    self.masked_fill_(hit, *fill);
    return;
  }
  // Keep the last write of each element: a stable sort by position on the
  // host (the positions are index-sized, not self-sized).
  Tensor hp = p.cpu();
  const int64_t* pp = static_cast<const int64_t*>(hp.data_ptr());
  std::vector<int64_t> order(m);
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [pp](int64_t a, int64_t b) { return pp[a] < pp[b]; });
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < m; ++i)
    if (i + 1 == m || pp[order[i]] != pp[order[i + 1]]) keep.push_back(order[i]);
  if (static_cast<int64_t>(keep.size()) < m) {
    Tensor k = from_vector(keep, {static_cast<int64_t>(keep.size())}, dev);
    p = p.index_select(0, k);
    v = v.index_select(0, k);
  }
  // Scatter into -0.0 (int: 0): -0.0 + x is exactly x for every float x.
  const DType acc = self.dtype() == DType::Bool ? DType::Int32 : self.dtype();
  Tensor dense = full({n}, is_floating(acc) ? Scalar(-0.0) : Scalar(int64_t(0)), TensorOptions(acc, dev))
                     .scatter_add(0, p, v.to(acc));
  if (acc != self.dtype()) dense = dense.to(self.dtype());
  self.copy_(where(hit, dense.view(self.sizes()), self));
}

}  // namespace

void init_index_subscript(py::class_<Tensor>& cls) {
  // x[a:b:c] is the registry's slice op (torch.Tensor.__getitem__ with a slice).
  cls.def(
      "__getitem__",
      [](const Tensor& self, py::object index) {
        if (self.dim() == 0 && !index.is_none() && !(index.ptr() == Py_Ellipsis) && !py::isinstance<py::tuple>(index) &&
            !py::isinstance<Tensor>(index))
          throw py::index_error(
              "invalid index of a 0-dim tensor. Use "
              "`tensor.item()` in Python to convert a 0-dim "
              "tensor to a number");
        return index_tensor(self, index).result;
      },
      registry_doc("slice"));
  cls.def("__setitem__", [](Tensor& self, py::object index, py::object value) {
    Tensor v;
    const bool scalar_value = is_scalar(value);
    Scalar fill;
    if (scalar_value) {
      fill = to_scalar(value, "__setitem__");
      check_fits(fill, self.dtype(), "__setitem__");
    } else {
      if (py::isinstance<Tensor>(value)) v = value.cast<Tensor>();
      else if (py::isinstance<py::array>(value) || py::isinstance<py::list>(value))
        v = from_numpy_copy(py::module_::import("numpy").attr("asarray")(value), self.dtype(), self.device());
      else
        throw py::type_error("can't assign a " + std::string(py::str(py::type::of(value).attr("__name__"))) +
                             " to a loom Tensor");
    }
    if (has_advanced(index)) {
      // x[mask] = number with a mask over the whole tensor: masked_fill_ directly.
      py::tuple items = as_index_tuple(index);
      if (scalar_value && items.size() == 1) {
        Tensor idx = advanced_tensor(items[0], self.device());
        if (idx.dtype() == DType::Bool && idx.sizes() == self.sizes()) {
          self.masked_fill_(idx, fill);
          return;
        }
      }
      index_put(self, index, v, scalar_value ? std::optional<Scalar>(fill) : std::nullopt);
      return;
    }
    Indexed ix = index_tensor(self, index);
    if (scalar_value) ix.result.fill_(fill);
    else ix.result.copy_(v);
  });
}

}  // namespace loom::python
