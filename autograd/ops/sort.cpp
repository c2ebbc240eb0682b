// Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and sorts (sort, argsort, topk)
// along one dim, over kernels/sort.h. Scans see the contiguous input as
// [outer, n, inner]; sorts move the dim last first (a transpose and a copy
// when it is not already last) and transpose their results back.
//
// Gradients: cumsum's is the reverse cumsum of g (itself differentiable);
// cumprod's comes from a kernel exact at zeros (not differentiable again);
// logcumsumexp's is composed from logcumsumexp in the other direction (so
// differentiable again);
// cummax / cummin, sort and topk scatter g to the positions they took.
#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops/common.h"
#include "core/op_cost.h"
#include "kernels/sort.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::Lines;
using kernels::ScanOp;

namespace {

Lines lines_of(const Shape& s, int64_t dim) {
  Lines l;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) l.outer *= s[d];
    else if (d == dim) l.n = s[d];
    else l.inner *= s[d];
  }
  return l;
}

// A 0-d tensor counts as one dim of size 1, as in PyTorch.
int64_t scan_dim(const Tensor& x, int64_t dim, const char* op) {
  return wrap_dim(dim, std::max<int64_t>(1, x.dim()), op);
}

// g (the shape of x's results along dim) scattered into zeros shaped like x.
Tensor scatter_grad(const Tensor& g, const Tensor& indices, const Shape& in_shape, int64_t dim) {
  Tensor out = zeros(in_shape, TensorOptions(g.dtype(), g.device()));
  if (in_shape.empty()) return g.reshape({});
  return out.scatter_add(dim, indices, g);
}

// The plain scan of x (already in the dtype it runs in) into a new tensor.
Tensor run_scan(ScanOp op, const Tensor& x, int64_t dim, bool reverse, Tensor* indices = nullptr) {
  Tensor in = x.detach().contiguous();
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype(), x.device()));
  int64_t* idx = nullptr;
  if (indices) {
    *indices = empty(x.sizes(), TensorOptions(DType::Int64, x.device()));
    idx = static_cast<int64_t*>(indices->data_ptr());
  }
  const Lines l = lines_of(x.sizes(), x.dim() == 0 ? 0 : dim);
  if (l.numel() > 0) {
    LOOM_DEVICE_DISPATCH(
        x.device(), ops::kc::scan(op, x.dtype(), out.data_ptr(), idx, in.data_ptr(), l, reverse),
        ops::kg::scan(op, x.dtype(), out.data_ptr(), idx, in.data_ptr(), l, reverse, ops::stream_of(x.device())));
  }
  return out;
}

void set_scan_cost(const OpScope& scope, const Tensor& x, bool with_indices) {
  if (!scope.observed()) return;
  const double n = static_cast<double>(x.numel());
  scope.set_cost(is_floating(x.dtype()) ? n : 0, 2 * cost_bytes(&x) + (with_indices ? 8 * n : 0));
}

// cumsum forward (reverse false) or its gradient (reverse true); each is the other's gradient.
Tensor sum_scan(const Tensor& x, int64_t dim, bool reverse) {
  Tensor y = run_scan(ScanOp::Sum, x, dim, reverse);
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    auto n = std::make_shared<LambdaNode>(
        "CumsumBackward0", [dim, reverse](const TensorList& g) { return TensorList{sum_scan(g[0], dim, !reverse)}; });
    autograd::attach(n, {x}, y);
  }
  return y;
}

// logcumsumexp forward (reverse false) or from the end of each line (reverse
// true). The gradient of y = logcumsumexp(x) is dx_i = sum_{j >= i} g_j
// exp(x_i - y_j) (j <= i when reverse): g split by sign, each part summed in
// log space by the scan in the other direction, so no exp overflows and the
// gradient is itself differentiable:
//   dx = exp(x + scan'(log g+ - y)) - exp(x + scan'(log g- - y)),
// log g+ = log g where g > 0, else the dtype's lowest value (g- likewise for
// -g): finite, so that no inf - inf arises in the gradient's own gradient.
Tensor lse_scan(const Tensor& x, int64_t dim, bool reverse) {
  Tensor y = run_scan(ScanOp::LogSumExp, x, dim, reverse);
  if (autograd::any_requires_grad({&x})) {
    SavedTensor sx(x), sy(y, true);
    auto n = std::make_shared<LambdaNode>("LogcumsumexpBackward0", [=](const TensorList& g) {
      const Tensor xv = sx.unpack("LogcumsumexpBackward0"), yv = sy.unpack("LogcumsumexpBackward0");
      const Tensor& gg = g[0];
      const double lowest = gg.dtype() == DType::Float32 ? double(std::numeric_limits<float>::lowest())
                                                         : std::numeric_limits<double>::lowest();
      auto part = [&](const Tensor& take, const Tensor& magnitude) {
        Tensor lg = where(take, where(take, magnitude, 1.0).log(), lowest);
        return (lse_scan(lg - yv, dim, !reverse) + xv).exp();
      };
      return TensorList{part(gg.gt(0.0), gg) - part(gg.lt(0.0), gg.neg())};
    });
    autograd::attach(n, {x}, y);
  }
  return y;
}

// The dtype of a cumsum / cumprod: `dtype`, else int64 for bool and integer
// inputs. int32 results are computed in int64 (the same bits after the cast).
DType scan_dtype(const Tensor& x, std::optional<DType> dtype, const char* op) {
  const DType dt = dtype ? *dtype : is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  LOOM_CHECK_TYPE(dt != DType::Bool, op,
                  "(): dtype bool is not supported (use int32, int64, float32 or float64) "
                  "for input of dtype ",
                  dtype_name(x.dtype()), " and shape ", x.sizes());
  return dt;
}

Tensor scan_input(const Tensor& x, DType dt) {
  const DType run = dt == DType::Int32 ? DType::Int64 : dt;
  return x.dtype() == run ? x : x.to(run);
}

std::pair<Tensor, Tensor> running_extreme(const Tensor& x, int64_t dim, bool is_max) {
  const char* op = is_max ? "cummax" : "cummin";
  OpScope scope(is_max ? Op::cummax : Op::cummin, {&x});
  const int64_t d = scan_dim(x, dim, op);
  set_scan_cost(scope, x, true);
  // bool runs through int32: the kernels have no bool case.
  Tensor in = x.dtype() == DType::Bool ? x.detach().to(DType::Int32) : x;
  Tensor indices;
  Tensor values = run_scan(is_max ? ScanOp::Max : ScanOp::Min, in, d, false, &indices);
  if (x.dtype() == DType::Bool) values = values.to(DType::Bool);
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    SavedTensor si(indices, true);
    const Shape shape = x.sizes();
    auto n = std::make_shared<LambdaNode>(is_max ? "CummaxBackward0" : "CumminBackward0", [=](const TensorList& g) {
      return TensorList{scatter_grad(g[0], si.unpack("CummaxBackward0"), shape, d)};
    });
    autograd::attach(n, {x}, TensorList{values});
  }
  return {values, indices};
}

// The first k of the sort of every line along dim (k == n: the whole sort).
std::pair<Tensor, Tensor> sort_impl(const Tensor& x, int64_t dim, bool descending, int64_t k, bool is_topk) {
  const char* op = is_topk ? "topk" : "sort";
  const int64_t d = scan_dim(x, dim, op);
  const int64_t last = std::max<int64_t>(1, x.dim()) - 1;
  // Sort along the last dim of a contiguous copy: lines of inner == 1.
  Tensor src = x.dim() == 0 ? x.detach().reshape({1}) : x.detach();
  if (d != last) src = src.transpose(d, last);
  src = src.contiguous();
  Shape out_shape = src.sizes();
  out_shape.back() = k;
  Tensor values = empty(out_shape, TensorOptions(x.dtype(), x.device()));
  Tensor indices = empty(out_shape, TensorOptions(DType::Int64, x.device()));
  Lines l = lines_of(src.sizes(), last);
  if (l.numel() > 0 && k > 0) {
    auto* idx = static_cast<int64_t*>(indices.data_ptr());
    if (x.device().is_cpu()) {
      if (is_topk) kernels::cpu::topk(x.dtype(), values.data_ptr(), idx, src.data_ptr(), l, k, descending);
      else kernels::cpu::sort(x.dtype(), values.data_ptr(), idx, src.data_ptr(), l, descending);
    } else if (k == l.n) {
      ops::on_device(
          x.device(), op, [] {},
          [&](cudaStream_t stream) {
            Tensor ws = ops::workspace(ops::kg::sort_workspace_bytes(x.dtype(), l), x.device());
            ops::kg::sort(x.dtype(), values.data_ptr(), idx, src.data_ptr(), l, descending, ops::ptr_or_null(ws),
                          stream);
          });
    } else {
      // CUDA topk: the whole sort, then its first k.
      auto full = sort_impl(src, last, descending, l.n, false);
      values.copy_(full.first.narrow(last, 0, k));
      indices.copy_(full.second.narrow(last, 0, k));
    }
  }
  if (d != last) {
    values = values.transpose(d, last).contiguous();
    indices = indices.transpose(d, last).contiguous();
  }
  if (x.dim() == 0) {
    values = values.reshape({});
    indices = indices.reshape({});
  }
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    SavedTensor si(indices, true);
    const Shape shape = x.sizes();
    auto n = std::make_shared<LambdaNode>(is_topk ? "TopkBackward0" : "SortBackward0", [=](const TensorList& g) {
      return TensorList{scatter_grad(g[0], si.unpack("SortBackward0"), shape, d)};
    });
    autograd::attach(n, {x}, TensorList{values});
  }
  return {values, indices};
}

void set_sort_cost(const OpScope& scope, const Tensor& x, int64_t dim, int64_t k) {
  if (!scope.observed()) return;
  const double n = static_cast<double>(x.numel());
  const double len = x.dim() == 0 ? 1.0 : static_cast<double>(x.size(dim));
  const double out = len > 0 ? n / len * static_cast<double>(k) : 0;
  // About n log2(len) comparisons; the input read, values and indices written.
  scope.set_cost(is_floating(x.dtype()) && len > 1 ? n * std::log2(len) : 0,
                 cost_bytes(&x) + out * (static_cast<double>(x.element_size()) + 8));
}

}  // namespace

Tensor Tensor::cumsum(int64_t dim, std::optional<DType> dtype) const {
  OpScope scope(Op::cumsum, {this});
  const int64_t d = scan_dim(*this, dim, "cumsum");
  const DType dt = scan_dtype(*this, dtype, "cumsum");
  Tensor in = scan_input(*this, dt);
  set_scan_cost(scope, in, false);
  Tensor y = sum_scan(in, d, false);
  return y.dtype() == dt ? y : y.to(dt);
}

Tensor Tensor::cumprod(int64_t dim, std::optional<DType> dtype) const {
  OpScope scope(Op::cumprod, {this});
  const int64_t d = scan_dim(*this, dim, "cumprod");
  const DType dt = scan_dtype(*this, dtype, "cumprod");
  Tensor x = scan_input(*this, dt);
  set_scan_cost(scope, x, false);
  Tensor y = run_scan(ScanOp::Prod, x, d, false);
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    SavedTensor sx(x);
    const int64_t ld = x.dim() == 0 ? 0 : d;
    auto n = std::make_shared<LambdaNode>("CumprodBackward0", [sx, ld](const TensorList& g) {
      if (autograd::grad_enabled()) {  // create_graph: composed, sum_(j >= i) g_j y_j / x_i, without zeros in x
        Tensor x = sx.unpack("CumprodBackward0");
        if (x.numel() > 0 && x.eq(0.0).to(DType::Float64).sum().item<double>() > 0)
          LOOM_THROW(ErrorKind::NotImplemented,
                     "cumprod: double backward (create_graph=True) through an input holding zeros is not supported "
                     "(input of shape ",
                     x.sizes(), ")");
        if (x.dim() == 0) return TensorList{g[0]};
        Tensor v = g[0] * x.cumprod(ld);  // the sums from i to the end: total - cumsum + v
        return TensorList{(v.sum({ld}, true) - v.cumsum(ld) + v) / x};
      }
      Tensor xv = sx.unpack("CumprodBackward0").detach().contiguous();
      Tensor gv = g[0].detach().contiguous();
      Tensor gx = empty(xv.sizes(), TensorOptions(xv.dtype(), xv.device()));
      const Lines l = lines_of(xv.sizes(), ld);
      if (l.numel() > 0) {
        LOOM_DEVICE_DISPATCH(xv.device(),
                             ops::kc::cumprod_backward(xv.dtype(), gx.data_ptr(), gv.data_ptr(), xv.data_ptr(), l),
                             ops::kg::cumprod_backward(xv.dtype(), gx.data_ptr(), gv.data_ptr(), xv.data_ptr(), l,
                                                       ops::stream_of(xv.device())));
      }
      return TensorList{gx};
    });
    autograd::attach(n, {x}, y);
  }
  return y.dtype() == dt ? y : y.to(dt);
}

Tensor Tensor::logcumsumexp(int64_t dim) const {
  OpScope scope(Op::logcumsumexp, {this});
  const int64_t d = scan_dim(*this, dim, "logcumsumexp");
  LOOM_CHECK_TYPE(is_floating(dtype()), "logcumsumexp: expected a floating point input (float32 or float64), got ",
                  dtype_name(dtype()), " of shape ", sizes());
  if (scope.observed()) {  // an exp, a log1p and a few flops an element
    const double n = static_cast<double>(numel());
    scope.set_cost(4 * n, 2 * cost_bytes(this));
  }
  return lse_scan(*this, d, false);
}

std::pair<Tensor, Tensor> Tensor::cummax(int64_t dim) const { return running_extreme(*this, dim, true); }
std::pair<Tensor, Tensor> Tensor::cummin(int64_t dim) const { return running_extreme(*this, dim, false); }

std::pair<Tensor, Tensor> Tensor::sort(int64_t dim, bool descending, bool /*stable*/) const {
  OpScope scope(Op::sort, {this});
  const int64_t d = scan_dim(*this, dim, "sort");
  const int64_t n = this->dim() == 0 ? 1 : size(d);
  set_sort_cost(scope, *this, d, n);
  return sort_impl(*this, d, descending, n, false);
}

Tensor Tensor::argsort(int64_t dim, bool descending, bool /*stable*/) const {
  OpScope scope(Op::argsort, {this});
  const int64_t d = scan_dim(*this, dim, "argsort");
  const int64_t n = this->dim() == 0 ? 1 : size(d);
  set_sort_cost(scope, *this, d, n);
  return sort_impl(detach(), d, descending, n, false).second;
}

std::pair<Tensor, Tensor> Tensor::topk(int64_t k, int64_t dim, bool largest, bool /*sorted*/) const {
  OpScope scope(Op::topk, {this});
  const int64_t d = scan_dim(*this, dim, "topk");
  const int64_t n = this->dim() == 0 ? 1 : size(d);
  LOOM_CHECK(k >= 0 && k <= n, "topk(): selected index k = ", k, " out of range: dimension ", dim,
             " of input of shape ", sizes(), " has ", n, " elements");
  set_sort_cost(scope, *this, d, k);
  return sort_impl(*this, d, largest, k, true);
}

Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool right) {
  OpScope scope(Op::searchsorted, {&sorted_sequence, &values});
  const char* op = "searchsorted";
  ops::check_same_device(op, {&sorted_sequence, &values});
  LOOM_CHECK(sorted_sequence.dim() > 0,
             "searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension");
  const bool shared = sorted_sequence.dim() == 1;
  if (!shared) {
    bool ok = values.dim() == sorted_sequence.dim();
    for (int64_t d = 0; ok && d + 1 < values.dim(); ++d) ok = values.size(d) == sorted_sequence.size(d);
    LOOM_CHECK(ok,
               "searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
               "tensor and input value tensor must match, but we got boundaries tensor ",
               sorted_sequence.sizes(), " and input value tensor ", values.sizes());
  }
  const DType dt = promote_types(sorted_sequence.dtype(), values.dtype());
  LOOM_CHECK_KIND(dt != DType::Bool, ErrorKind::NotImplemented,
                  "searchsorted(): not implemented for bool boundaries and values (boundaries ",
                  sorted_sequence.sizes(), ", values ", values.sizes(), ")");
  Tensor b = sorted_sequence.detach().to(dt).contiguous(), v = values.detach().to(dt).contiguous();
  const int64_t n = b.size(-1);
  const int64_t m = shared ? v.numel() : v.size(-1);
  const int64_t rows = shared ? 1 : (m > 0 ? v.numel() / m : 0);
  Tensor out = empty(v.sizes(), TensorOptions(DType::Int64, v.device()));
  if (scope.observed()) {  // about log2(n + 1) comparisons per value; the values read, the indices written
    const double nv = static_cast<double>(v.numel());
    scope.set_cost(nv * std::log2(static_cast<double>(n) + 1),
                   cost_bytes(&sorted_sequence) + cost_bytes(&values) + nv * 8);
  }
  auto* o = static_cast<int64_t*>(out.data_ptr());
  LOOM_DEVICE_DISPATCH(v.device(),
                       kernels::cpu::searchsorted(dt, o, b.data_ptr(), v.data_ptr(), rows, n, m, shared, right),
                       kernels::cuda::searchsorted(dt, o, b.data_ptr(), v.data_ptr(), rows, n, m, shared, right,
                                                   ops::stream_of(v.device())));
  return out;
}

}  // namespace loom
