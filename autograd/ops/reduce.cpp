// Reductions over any set of dims with keepdim. The kernel always writes the
// keepdim shape; dropping dims afterwards is a view.
#include <cmath>
#include <limits>

#include "autograd/ops/common.h"
#include "kernels/reduce.h"

namespace loom {

using autograd::LambdaNode;
using autograd::SavedTensor;
using kernels::ReduceOp;

namespace {

struct Reduction {
  Dims dims;          // normalized
  Shape keep_shape;   // input shape with reduced dims set to 1
  Shape out_shape;    // final shape (keepdim or not)
  int64_t count = 1;  // elements reduced into each output
};

Reduction plan(const Tensor& x, const Dims& dims, bool keepdim, const char* op) {
  Reduction r;
  r.dims = ops::reduce_dims(dims, x.dim(), op);
  r.keep_shape = ops::keepdim_shape(x.sizes(), r.dims);
  r.out_shape = keepdim ? r.keep_shape : ops::squeeze_dims(r.keep_shape, r.dims);
  for (auto d : r.dims) r.count *= x.sizes()[d];
  return r;
}

Tensor run_reduce(ReduceOp op, const Tensor& x, const Reduction& r, DType out_dt, double p = 0) {
  Tensor in = x.dtype() == out_dt ? x : x.detach().to(out_dt);
  Tensor out = empty(r.keep_shape, TensorOptions(out_dt, x.device()));
  if (out.numel() > 0) {
    auto loop = ops::make_reduce_loop(in, out, r.dims);
    LOOM_DEVICE_DISPATCH(x.device(), ops::kc::reduce(op, out_dt, out.data_ptr(), in.data_ptr(), loop, p), {
      Tensor ws = ops::workspace(ops::kg::reduce_workspace_bytes(loop), x.device());
      ops::kg::reduce(op, out_dt, out.data_ptr(), in.data_ptr(), loop, p, ops::stream_of(x.device()),
                      ops::ptr_or_null(ws));
    });
  }
  return out;
}

Tensor finish(Tensor keep, const Reduction& r) { return keep.sizes() == r.out_shape ? keep : keep.view(r.out_shape); }

// Gradient of the keepdim-shaped output, broadcast back to the input.
Tensor expand_grad(const Tensor& g, const Shape& keep_shape, const Shape& in_shape) {
  return g.reshape(keep_shape).expand(in_shape);
}

void attach_unary(const char* name, const Tensor& x, Tensor& y, std::function<Tensor(const Tensor&)> grad) {
  if (!is_floating(y.dtype()) || !autograd::any_requires_grad({&x})) return;
  auto n = std::make_shared<LambdaNode>(name, [grad](const TensorList& g) { return TensorList{grad(g[0])}; });
  autograd::attach(n, {x}, y);
}

void check_nonempty(const Tensor& x, const Reduction& r, const char* op) {
  LOOM_CHECK_INDEX(r.count > 0, op,
                   "(): Expected reduction dim to be specified for input.numel() == 0, or the "
                   "reduced dims to have non-zero size (input shape ",
                   x.sizes(), ")");
}

// amax/amin-style gradient: evenly shared between tied extremes.
Tensor extreme_grad(const Tensor& g, const Tensor& x, const Tensor& y_keep, const Reduction& r) {
  Tensor mask = x.eq(y_keep).to(g.dtype());
  Tensor share = mask / mask.sum(r.dims, true);
  return expand_grad(g, r.keep_shape, x.sizes()) * share;
}

Tensor amax_amin(const Tensor& x, const Dims& dims, bool keepdim, bool is_max) {
  // bool: any / all, through the integer kernels (bools are never differentiable).
  if (x.dtype() == DType::Bool) return amax_amin(x.to(DType::Int32), dims, keepdim, is_max).to(DType::Bool);
  const char* op = is_max ? "amax" : "amin";
  OpScope scope(is_max ? Op::amax : Op::amin, {&x});
  Reduction r = plan(x, dims, keepdim, op);
  check_nonempty(x, r, op);
  Tensor keep = run_reduce(is_max ? ReduceOp::Max : ReduceOp::Min, x, r, x.dtype());
  Tensor y = finish(keep, r);
  SavedTensor sx(x), sk(keep, true);
  attach_unary(is_max ? "AmaxBackward0" : "AminBackward0", x, y, [sx, sk, r](const Tensor& g) {
    return extreme_grad(g, sx.unpack("AmaxBackward0"), sk.unpack("AmaxBackward0"), r);
  });
  return y;
}

// `name`: the op that errors name (argmax and argmin run through here too).
std::pair<Tensor, Tensor> minmax_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max,
                                     const char* name = nullptr) {
  const char* op = name ? name : is_max ? "max" : "min";
  OpScope scope(is_max ? Op::max_dim : Op::min_dim, {&x});
  Reduction r = plan(x, {wrap_dim(dim, x.dim(), op)}, keepdim, op);
  LOOM_CHECK_INDEX(r.count > 0, op, "(): Expected reduction dim ", dim, " to have non-zero size (input shape ",
                   x.sizes(), ")");
  Tensor values = empty(r.keep_shape, TensorOptions(x.dtype(), x.device()));
  Tensor indices = empty(r.keep_shape, TensorOptions(DType::Int64, x.device()));
  if (values.numel() > 0) {
    auto loop = ops::make_reduce_loop(x, values, r.dims);
    ReduceOp rop = is_max ? ReduceOp::Max : ReduceOp::Min;
    auto* idx = static_cast<int64_t*>(indices.data_ptr());
    LOOM_DEVICE_DISPATCH(x.device(), ops::kc::arg_reduce(rop, x.dtype(), values.data_ptr(), idx, x.data_ptr(), loop), {
      Tensor ws = ops::workspace(ops::kg::reduce_workspace_bytes(loop), x.device());
      ops::kg::arg_reduce(rop, x.dtype(), values.data_ptr(), idx, x.data_ptr(), loop, ops::stream_of(x.device()),
                          ops::ptr_or_null(ws));
    });
  }
  Tensor v = finish(values, r), i = finish(indices, r);
  if (is_floating(x.dtype()) && autograd::any_requires_grad({&x})) {
    SavedTensor si(indices, true);
    Shape in_shape = x.sizes(), keep_shape = r.keep_shape;
    int64_t d = r.dims[0];
    auto n = std::make_shared<LambdaNode>(is_max ? "MaxBackward0" : "MinBackward0", [=](const TensorList& g) {
      Tensor out = zeros(in_shape, TensorOptions(g[0].dtype(), g[0].device()));
      return TensorList{out.scatter_add(d, si.unpack("MaxBackward0"), g[0].reshape(keep_shape))};
    });
    autograd::attach(n, {x}, TensorList{v});
  }
  return {v, i};
}

Tensor arg_extreme(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  OpScope scope(is_max ? Op::argmax : Op::argmin, {&x});
  if (!dim) {
    LOOM_CHECK_INDEX(x.numel() > 0, is_max ? "argmax" : "argmin",
                     "(): Expected reduction dim to be specified for input.numel() == 0.");
    Tensor flat = x.detach().reshape({x.numel()});
    Tensor i = minmax_dim(flat, 0, false, is_max, is_max ? "argmax" : "argmin").second;
    return keepdim ? i.reshape(Shape(x.dim(), 1)) : i;
  }
  return minmax_dim(x.detach(), *dim, keepdim, is_max, is_max ? "argmax" : "argmin").second;
}

Tensor var_impl(const Tensor& x, const Dims& dims, bool unbiased, bool keepdim, bool take_sqrt) {
  const char* op = take_sqrt ? "std" : "var";
  OpScope scope(take_sqrt ? Op::std : Op::var, {&x});
  LOOM_CHECK_TYPE(is_floating(x.dtype()), op, "(): input dtype should be floating point, got ", dtype_name(x.dtype()));
  Reduction r = plan(x, dims, keepdim, op);
  int64_t correction = unbiased ? 1 : 0;
  Tensor var = empty(r.keep_shape, TensorOptions(x.dtype(), x.device()));
  Tensor mean = empty(r.keep_shape, TensorOptions(x.dtype(), x.device()));
  if (var.numel() > 0) {
    auto loop = ops::make_reduce_loop(x, var, r.dims);
    LOOM_DEVICE_DISPATCH(
        x.device(), ops::kc::var_mean(x.dtype(), var.data_ptr(), mean.data_ptr(), x.data_ptr(), loop, correction), {
          Tensor ws = ops::workspace(ops::kg::reduce_workspace_bytes(loop), x.device());
          ops::kg::var_mean(x.dtype(), var.data_ptr(), mean.data_ptr(), x.data_ptr(), loop, correction,
                            ops::stream_of(x.device()), ops::ptr_or_null(ws));
        });
  }
  Tensor keep = take_sqrt ? var.sqrt() : var;
  Tensor y = finish(keep, r);
  SavedTensor sx(x), sm(mean, true), sk(keep, true);
  double denom = static_cast<double>(std::max<int64_t>(r.count - correction, 0));
  attach_unary(take_sqrt ? "StdBackward0" : "VarBackward0", x, y, [=](const Tensor& g) {
    // With create_graph the mean and the variance carry their dependence on x: the forward's values (exact:
    // 0 for a constant slice) plus a term that is 0 in value and differentiable, (f(x) - f(x).detach()).
    const bool differentiable = autograd::grad_enabled();
    auto tracked = [](const Tensor& value, const Tensor& f) { return value.detach() + (f - f.detach()); };
    Tensor xs = sx.unpack("VarBackward0"), mean = sm.unpack("VarBackward0");
    Tensor xc = xs - (differentiable ? tracked(mean, xs.mean(r.dims, true)) : mean);
    Tensor ge = expand_grad(g, r.keep_shape, xc.sizes());
    if (!take_sqrt) return ge * xc * (2.0 / denom);
    // d std = xc / (std * denom); a constant slice (std 0) gets 0, not 0/0.
    Tensor sd = sk.unpack("StdBackward0");
    Tensor zero = sd.eq(0.0);
    Tensor s = differentiable
                   ? tracked(sd.square(), xc.square().sum(r.dims, true) / denom).masked_fill(zero, 1.0).sqrt()
                   : sd.masked_fill(zero, 1.0);  // (no sqrt of 0: its gradient would be 0 * inf)
    return ge * xc / (s * denom) * zero.logical_not().to(xc.dtype());
  });
  return y;
}

}  // namespace

Tensor Tensor::sum(const Dims& dims, bool keepdim, DType dt) const {
  OpScope scope(Op::sum, {this});
  Reduction r = plan(*this, dims, keepdim, "sum");
  Tensor y = finish(run_reduce(ReduceOp::Sum, *this, r, dt), r);
  Shape in_shape = sizes();
  DType in_dt = dtype();
  attach_unary("SumBackward1", *this, y, [r, in_shape, in_dt](const Tensor& g) {
    Tensor e = expand_grad(g, r.keep_shape, in_shape);
    return e.dtype() == in_dt ? e : e.to(in_dt);
  });
  return y;
}
Tensor Tensor::sum(const Dims& dims, bool keepdim) const {
  return sum(dims, keepdim, is_floating(dtype()) ? dtype() : DType::Int64);
}

Tensor Tensor::mean(const Dims& dims, bool keepdim) const {
  OpScope scope(Op::mean, {this});
  LOOM_CHECK_TYPE(is_floating(dtype()),
                  "mean(): could not infer output dtype. Input dtype must be either a floating "
                  "point or complex dtype. Got: ",
                  dtype_name(dtype()));
  Reduction r = plan(*this, dims, keepdim, "mean");
  Tensor y = finish(run_reduce(ReduceOp::Mean, *this, r, dtype()), r);
  Shape in_shape = sizes();
  double scale = 1.0 / static_cast<double>(std::max<int64_t>(r.count, 1));
  attach_unary("MeanBackward1", *this, y,
               [r, in_shape, scale](const Tensor& g) { return expand_grad(g, r.keep_shape, in_shape) * scale; });
  return y;
}

Tensor Tensor::prod(const Dims& dims, bool keepdim) const {
  OpScope scope(Op::prod, {this});
  Reduction r = plan(*this, dims, keepdim, "prod");
  DType dt = is_floating(dtype()) ? dtype() : DType::Int64;
  Tensor keep = run_reduce(ReduceOp::Prod, *this, r, dt);
  Tensor y = finish(keep, r);
  SavedTensor sx(*this), sk(keep, true);
  attach_unary("ProdBackward1", *this, y, [sx, sk, r](const Tensor& g) {
    // Zeros need care: with one zero in a slice, only it gets a gradient (the
    // product of the others); with two or more, nothing does.
    Tensor x = sx.unpack("ProdBackward1"), yk = sk.unpack("ProdBackward1");
    Tensor ge = expand_grad(g, r.keep_shape, x.sizes());
    Tensor is_zero = x.eq(0.0);
    // No zero (the usual case; counted on the host, on the CPU only): g y / x, two passes.
    if (x.device().is_cpu() && is_zero.sum().item().to_double() == 0.0) return ge * (yk / x);
    Tensor nonzero_prod = x.masked_fill(is_zero, 1.0).prod(r.dims, true);
    Tensor zero_count = is_zero.to(x.dtype()).sum(r.dims, true);
    Tensor safe_x = x.masked_fill(is_zero, 1.0);
    Tensor at_nonzero = yk / safe_x;
    Tensor at_zero = nonzero_prod * zero_count.eq(1.0).to(x.dtype());
    return ge * where(is_zero, at_zero.expand(x.sizes()), at_nonzero);
  });
  return y;
}

Tensor Tensor::amax(const Dims& dims, bool keepdim) const { return amax_amin(*this, dims, keepdim, true); }
Tensor Tensor::amin(const Dims& dims, bool keepdim) const { return amax_amin(*this, dims, keepdim, false); }
Tensor Tensor::max() const { return amax_amin(*this, {}, false, true); }
Tensor Tensor::min() const { return amax_amin(*this, {}, false, false); }
std::pair<Tensor, Tensor> Tensor::max(int64_t dim, bool keepdim) const { return minmax_dim(*this, dim, keepdim, true); }
std::pair<Tensor, Tensor> Tensor::min(int64_t dim, bool keepdim) const {
  return minmax_dim(*this, dim, keepdim, false);
}
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const { return arg_extreme(*this, dim, keepdim, true); }
Tensor Tensor::argmin(std::optional<int64_t> dim, bool keepdim) const {
  return arg_extreme(*this, dim, keepdim, false);
}
Tensor Tensor::var(const Dims& dims, bool unbiased, bool keepdim) const {
  return var_impl(*this, dims, unbiased, keepdim, false);
}
Tensor Tensor::std(const Dims& dims, bool unbiased, bool keepdim) const {
  return var_impl(*this, dims, unbiased, keepdim, true);
}

Tensor Tensor::norm(double p, const Dims& dims, bool keepdim) const {
  OpScope scope(Op::norm, {this});
  LOOM_CHECK_TYPE(is_floating(dtype()), "linalg.vector_norm: Expected a floating point tensor as input. Got ",
                  dtype_name(dtype()));
  if (p < 0) {  // the minimum |x| (p = -inf) or (sum |x|^p)^(1/p), composed (gradients through them)
    Reduction r = plan(*this, dims, keepdim, "norm");
    int64_t outputs = 1;
    for (auto n : r.out_shape) outputs *= n;
    LOOM_CHECK(r.count > 0 || outputs == 0, "linalg.vector_norm cannot compute the ", p,
               " norm on an empty tensor because the operation does not have an identity (input ", sizes(), ")");
    if (std::isinf(p)) return abs().amin(dims, keepdim);
    return abs().pow(p).sum(dims, keepdim).pow(1.0 / p);
  }
  Reduction r = plan(*this, dims, keepdim, "norm");
  Tensor keep = run_reduce(ReduceOp::Norm, *this, r, dtype(), p);
  Tensor y = finish(keep, r);
  SavedTensor sx(*this), sk(keep, true);
  attach_unary("NormBackward1", *this, y, [sx, sk, r, p](const Tensor& g) {
    Tensor x = sx.unpack("NormBackward1"), n = sk.unpack("NormBackward1");
    Tensor ge = expand_grad(g, r.keep_shape, x.sizes());
    if (p == 0.0) return zeros_like(x);
    if (p == 1.0) return ge * x.sign();
    if (std::isinf(p)) return extreme_grad(g, x.abs(), n, r) * x.sign();
    // d||x||_p/dx = x |x|^(p-2) / ||x||^(p-1), taken as 0 where the norm is 0.
    Tensor safe = n.masked_fill(n.eq(0.0), 1.0);
    // x |x|^(p-2) written as sign(x) |x|^(p-1), so x = 0 gives 0 for p < 1 too.
    Tensor num = p == 2.0 ? x : (x.sign() * x.abs().pow(p - 1.0)).masked_fill(x.eq(0.0), 0.0);
    return ge * num / safe.pow(p - 1.0) * n.ne(0.0).to(x.dtype());
  });
  return y;
}

Tensor Tensor::logsumexp(const Dims& dims, bool keepdim) const {
  OpScope scope(Op::logsumexp, {this});
  Tensor x = is_floating(dtype()) ? *this : to(default_dtype());
  Reduction r = plan(x, dims, keepdim, "logsumexp");
  Tensor keep = run_reduce(ReduceOp::LogSumExp, x, r, x.dtype());
  Tensor y = finish(keep, r);
  SavedTensor sx(x), sk(keep, true);
  attach_unary("LogsumexpBackward0", x, y, [sx, sk, r](const Tensor& g) {
    Tensor xx = sx.unpack("LogsumexpBackward0");
    return expand_grad(g, r.keep_shape, xx.sizes()) * (xx - sk.unpack("LogsumexpBackward0")).exp();
  });
  return y;
}

}  // namespace loom
