#include "autograd/ops/common.h"

#include <algorithm>
#include <string>

namespace loom::ops {

Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  const size_t n = shape.size(), k = static_cast<size_t>(t.dim());
  Shape st(n, 0);
  for (size_t i = 0; i < k; ++i) {
    size_t o = n - k + i;
    st[o] = t.sizes()[i] == 1 && shape[o] != 1 ? 0 : t.strides()[i];
  }
  return st;
}

kernels::ElementwiseLoop make_loop(const Shape& shape, const std::vector<Shape>& strides) {
  kernels::ElementwiseLoop loop;
  const int nops = static_cast<int>(strides.size());
  LOOM_CHECK(nops <= kernels::kMaxOperands, "internal: too many operands");
  loop.noperands = nops;
  // Collect non-trivial dims, then merge from the innermost outwards.
  std::vector<int64_t> sz;
  std::vector<std::vector<int64_t>> st(nops);
  int64_t numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    numel *= shape[d];
    if (shape[d] == 1) continue;
    sz.push_back(shape[d]);
    for (int o = 0; o < nops; ++o) st[o].push_back(strides[o][d]);
  }
  loop.numel = numel;
  if (sz.empty() || numel == 0) {
    loop.ndim = 1;
    loop.sizes[0] = numel == 0 ? 0 : 1;
    for (int o = 0; o < nops; ++o) loop.strides[o][0] = 1;
    return loop;
  }
  std::vector<int64_t> msz{sz.back()};
  std::vector<std::vector<int64_t>> mst(nops);
  for (int o = 0; o < nops; ++o) mst[o].push_back(st[o].back());
  for (int d = static_cast<int>(sz.size()) - 2; d >= 0; --d) {
    bool mergeable = true;
    for (int o = 0; o < nops; ++o)
      if (st[o][d] != mst[o].back() * msz.back()) mergeable = false;
    if (mergeable) {
      msz.back() *= sz[d];
    } else {
      msz.push_back(sz[d]);
      for (int o = 0; o < nops; ++o) mst[o].push_back(st[o][d]);
    }
  }
  LOOM_CHECK(static_cast<int>(msz.size()) <= kernels::kMaxDims, "tensors with more than ", kernels::kMaxDims,
             " non-mergeable dimensions are not supported (shape ", shape, ")");
  loop.ndim = static_cast<int>(msz.size());
  for (int d = 0; d < loop.ndim; ++d) {
    loop.sizes[d] = msz[loop.ndim - 1 - d];
    for (int o = 0; o < nops; ++o) loop.strides[o][d] = mst[o][loop.ndim - 1 - d];
  }
  return loop;
}

kernels::ElementwiseLoop make_loop(const Shape& shape, std::initializer_list<const Tensor*> operands) {
  std::vector<Shape> strides;
  for (const Tensor* t : operands) strides.push_back(broadcast_strides(*t, shape));
  return make_loop(shape, strides);
}

kernels::ReduceLoop make_reduce_loop(const Tensor& in, const Tensor& out, const Dims& dims) {
  kernels::ReduceLoop loop;
  std::vector<bool> reduced(in.dim(), false);
  for (auto d : dims) reduced[d] = true;
  // Kept dims: output iteration; use make_loop to merge them for both tensors.
  Shape keep_shape, in_keep_st, out_keep_st, red_shape, red_st;
  for (int64_t d = 0; d < in.dim(); ++d) {
    if (reduced[d]) {
      red_shape.push_back(in.sizes()[d]);
      red_st.push_back(in.strides()[d]);
      keep_shape.push_back(1);
      in_keep_st.push_back(0);
      out_keep_st.push_back(0);
    } else {
      keep_shape.push_back(in.sizes()[d]);
      in_keep_st.push_back(in.strides()[d]);
      out_keep_st.push_back(out.strides()[d]);
    }
  }
  auto kl = make_loop(keep_shape, std::vector<Shape>{out_keep_st, in_keep_st});
  loop.out_ndim = kl.ndim;
  loop.out_numel = kl.numel;
  for (int d = 0; d < kl.ndim; ++d) {
    loop.out_sizes[d] = kl.sizes[d];
    loop.out_strides[d] = kl.strides[0][d];
    loop.in_out_strides[d] = kl.strides[1][d];
  }
  if (red_shape.empty()) {
    red_shape.push_back(1);
    red_st.push_back(0);
  }
  auto rl = make_loop(red_shape, std::vector<Shape>{red_st});
  loop.red_ndim = rl.ndim;
  loop.red_numel = rl.numel;
  for (int d = 0; d < rl.ndim; ++d) {
    loop.red_sizes[d] = rl.sizes[d];
    loop.red_strides[d] = rl.strides[0][d];
  }
  return loop;
}

DType result_type(std::initializer_list<const Tensor*> ts) {
  bool any_dim = false, any_zero = false;
  DType dim_t = DType::Bool, zero_t = DType::Bool;
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    DType& acc = t->dim() > 0 ? dim_t : zero_t;
    bool& seen = t->dim() > 0 ? any_dim : any_zero;
    acc = seen ? promote_types(acc, t->dtype()) : t->dtype();
    seen = true;
  }
  if (!any_dim) return zero_t;
  if (any_zero && dtype_category(zero_t) > dtype_category(dim_t)) return promote_types(dim_t, zero_t);
  return dim_t;
}

Shape broadcast_named(const char* op, const Shape& a, const Shape& b) {
  try {
    return broadcast_shapes(a, b);
  } catch (const Error& e) {
    throw Error(e.kind(), std::string(op) + ": " + e.what());
  }
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    LOOM_CHECK(t->device() == first->device(), op,
               ": Expected all tensors to be on the same device, but found at least two devices, ",
               first->device().str(), " and ", t->device().str(), "!");
  }
}

Dims reduce_dims(const Dims& dims, int64_t ndim, const char* op) {
  Dims out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (auto d : dims) out.push_back(wrap_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  LOOM_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": dim ", dims,
             " appears multiple times in the list of dims");
  if (ndim == 0) out.clear();
  return out;
}

Shape keepdim_shape(const Shape& in, const Dims& dims) {
  Shape s = in;
  for (auto d : dims) s[d] = 1;
  return s;
}

Shape squeeze_dims(const Shape& keep, const Dims& dims) {
  Shape s;
  for (int64_t d = 0; d < static_cast<int64_t>(keep.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) s.push_back(keep[d]);
  return s;
}

void check_no_internal_overlap(const Tensor& t, const char* op) {
  for (int64_t d = 0; d < t.dim(); ++d)
    LOOM_CHECK(t.sizes()[d] <= 1 || t.strides()[d] != 0, op,
               ": unsupported operation: more than one element of the written-to tensor refers to a single memory "
               "location (shape ",
               t.sizes(), ", strides ", t.strides(),
               "). Please clone() the tensor before performing "
               "the operation.");
  check_view_written_in_grad_mode(t, op);
}

void check_inplace(const Tensor& self, const char* op) {
  if (!autograd::grad_enabled()) return;
  if (self.requires_grad() && self.is_leaf())
    LOOM_THROW(ErrorKind::Runtime, op, ": a leaf Variable that requires grad is being used in an in-place operation.");
  check_inplace_view(self, op);
}

}  // namespace loom::ops
