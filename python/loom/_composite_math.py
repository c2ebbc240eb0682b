"""More of PyTorch's math composed from loom's ops, with PyTorch's names, argument orders, dtypes and
gradients: pointwise functions (logaddexp, logaddexp2, xlogy, float_power, copysign, signbit, sgn, fmax,
fmin, sinc, the inverse hyperbolic functions and the arc* aliases), NaN-ignoring reductions (nansum,
nanmean), products (cross, kron, tensordot, inner, addmv, addr, addbmm, chain_matmul), distances (cdist),
statistics (cov, corrcoef, bincount, histc), integration (trapezoid, cumulative_trapezoid), vander and isin.

Where a formula has a branch, the branch not taken is fed safe values, so its gradient is zero rather
than NaN (xlogy at x = 0, sinc at 0, cdist at zero distance), as PyTorch's hand-written derivatives give."""
import math
import operator

from . import _C
from ._C import Tensor
from ._composite import _check_tensor, _dims


def _t(x, like):
    """x as a tensor on like's device (numbers become 0-d tensors, which promote as Python scalars do)."""
    if isinstance(x, Tensor):
        return x
    from ._factories import tensor
    return tensor(x, device=like.device)


def _pair(a, b, name):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    like = a if isinstance(a, Tensor) else b
    return _t(a, like), _t(b, like)


def _floating(x):
    return x if x.is_floating_point() else x.float()


# The kernels' bindings (floating tensors only); the functions below, which promote integers and numbers as
# PyTorch, replace them as Tensor methods (install()); prelu's, which broadcasts the weight as it is, is
# called by nn.functional.prelu after it puts a per-channel weight on dim 1 (Tensor.prelu: _composite_more).
_KERNELS = {name: getattr(Tensor, name) for name in ("logaddexp", "logaddexp2", "copysign", "prelu", "xlogy", "xlog1py")}


# ---- pointwise ----

def logaddexp(self, other):
    _check_tensor(self, "logaddexp")
    _check_tensor(other, "logaddexp", "other")
    return _KERNELS["logaddexp"](_floating(self), _floating(other))


def logaddexp2(self, other):
    _check_tensor(self, "logaddexp2")
    _check_tensor(other, "logaddexp2", "other")
    return _KERNELS["logaddexp2"](_floating(self), _floating(other))


def xlogy(self, other):
    x, y = _pair(self, other, "xlogy")
    return _KERNELS["xlogy"](_floating(x), _floating(y))


def xlog1py(self, other):
    x, y = _pair(self, other, "xlog1py")
    return _KERNELS["xlog1py"](_floating(x), _floating(y))


def float_power(self, exponent):
    """self ** exponent computed in float64."""
    if isinstance(self, Tensor):
        base = self.double()
        e = exponent.double() if isinstance(exponent, Tensor) else exponent
        return base.pow(e)
    _check_tensor(exponent, "float_power", "exponent")
    from ._factories import tensor
    return tensor(float(self), dtype=_C.float64, device=exponent.device).pow(exponent.double())


def signbit(self):
    """True where the sign bit is set: negative numbers and -0.0."""
    _check_tensor(self, "signbit")
    if self.dtype == _C.bool:
        return self.ne(self)
    if not self.is_floating_point():
        return self.lt(0)
    neg_zero = self.eq(0).logical_and(self.reciprocal().lt(0))
    return self.lt(0).logical_or(neg_zero)


def copysign(self, other):
    a, b = _pair(self, other, "copysign")
    return _KERNELS["copysign"](_floating(a), b)


for _f, _more in ((logaddexp, "Integer inputs compute in float32."), (logaddexp2, "Integer inputs compute in float32."),
                  (copysign, "Integer inputs give float32; other may be a number."),
                  (xlogy, "Integer inputs give float32; either side may be a number."),
                  (xlog1py, "Integer inputs give float32; either side may be a number.")):
    _f.__doc__ = (_KERNELS[_f.__name__].__doc__ or "") + "\n\n" + _more


def sgn(self):
    """sign(self) (for real tensors, as PyTorch's sgn)."""
    _check_tensor(self, "sgn")
    return self.sign()


def _fminmax(self, other, name, ge):
    _check_tensor(self, name)
    _check_tensor(other, name, "other")
    if self.dtype != other.dtype:
        from ._dtypes import result_type
        dt = result_type(self, other)
        self, other = self.to(dt), other.to(dt)
    keep = (self.ge(other) if ge else self.le(other)).logical_or(other.ne(other))
    return _C.where(keep, self, other)


def fmax(self, other):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    return _fminmax(self, other, "fmax", True)


def fmin(self, other):
    """Elementwise minimum that ignores NaN (NaN only where both are NaN)."""
    return _fminmax(self, other, "fmin", False)


def sinc(self):
    """sin(pi x) / (pi x), 1 at 0."""
    _check_tensor(self, "sinc")
    x = _floating(self)
    zero = x.eq(0)
    px = _C.where(zero, 1.0, x) * math.pi
    return _C.where(zero, 1.0, px.sin() / px)


def _odd(x, f):
    """f on |x| with the sign of x put back, through where, so the gradient at 0 is f'(0)."""
    neg = x.lt(0)
    r = f(_C.where(neg, -x, x))
    return _C.where(neg, -r, r)


def asinh(self):
    _check_tensor(self, "asinh")
    return _odd(_floating(self), lambda t: (t + t * t / ((t * t + 1.0).sqrt() + 1.0)).log1p())


def acosh(self):
    _check_tensor(self, "acosh")
    x = _floating(self)
    return ((x - 1.0) + ((x - 1.0) * (x + 1.0)).sqrt()).log1p()


def atanh(self):
    _check_tensor(self, "atanh")
    x = _floating(self)
    return ((x * 2.0) / (1.0 - x)).log1p() * 0.5


def polygamma(n, input):
    """The n-th derivative of digamma (n = 0, 1)."""
    from .special import polygamma as _pg
    return _pg(n, input)


def _polygamma_method(self, n):
    from .special import polygamma as _pg
    return _pg(n, self)


def mvlgamma(input, p):
    """The log multivariate gamma function (special.multigammaln)."""
    from .special import multigammaln
    return multigammaln(input, p)


def fix(self):
    _check_tensor(self, "fix")
    return self.trunc()


def positive(self):
    _check_tensor(self, "positive")
    if self.dtype == _C.bool:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return self


# ---- reductions that skip NaN ----

def nansum(self, dim=None, keepdim=False, *, dtype=None):
    """The sum treating NaN as zero."""
    _check_tensor(self, "nansum")
    x = _C.where(self.isnan(), 0, self) if self.is_floating_point() else self
    if dim is None:
        return x.sum(dtype=dtype) if not keepdim else x.sum(list(range(x.dim())), keepdim=True, dtype=dtype)
    return x.sum(dim, keepdim=keepdim, dtype=dtype)


def nanmean(self, dim=None, keepdim=False, *, dtype=None):
    """The mean of the elements that are not NaN."""
    _check_tensor(self, "nanmean")
    if not self.is_floating_point():
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {self.dtype}")
    not_nan = self.isnan().logical_not()
    count = nansum(not_nan.to(dtype or self.dtype), dim, keepdim)
    return nansum(self, dim, keepdim, dtype=dtype) / count


# ---- products ----

def cross(self, other, dim=None):
    """The cross product of 3-vectors along dim (None: the first dimension of size 3, as torch.cross)."""
    _check_tensor(self, "cross")
    _check_tensor(other, "cross", "other")
    shape = _C.broadcast_shapes(tuple(self.shape), tuple(other.shape))
    a, b = self.expand(shape), other.expand(shape)
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {list(self.shape)}")
    d = _dims(dim, len(shape), "cross")[0]
    if shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {self.shape[d]} and "
                           f"{other.shape[d]}")
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


def kron(self, other):
    """The Kronecker product: blocks self[i] * other."""
    _check_tensor(self, "kron")
    _check_tensor(other, "kron", "other")
    n = max(self.dim(), other.dim())
    a = self.reshape([1] * (n - self.dim()) + list(self.shape))
    b = other.reshape([1] * (n - other.dim()) + list(other.shape))
    a_shape = [s for d in a.shape for s in (d, 1)]
    b_shape = [s for d in b.shape for s in (1, d)]
    out = a.reshape(a_shape) * b.reshape(b_shape)
    return out.reshape([x * y for x, y in zip(a.shape, b.shape)])


def tensordot(a, b, dims=2, out=None):
    """The sum of a * b over the last dims of a and the first of b (dims an int), or over the given pairs
    (dims = (dims_a, dims_b))."""
    _check_tensor(a, "tensordot", "a")
    _check_tensor(b, "tensordot", "b")
    if out is not None:
        raise NotImplementedError("tensordot(): out= is not supported; use the returned tensor instead")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be an int or a pair of dimension lists")
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
        da = _dims(da, a.dim(), "tensordot") if da else []
        db = _dims(db, b.dim(), "tensordot") if db else []
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    free_a = [d for d in range(a.dim()) if d not in da]
    free_b = [d for d in range(b.dim()) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    ma = a.permute(free_a + da).reshape(-1, k)
    mb = b.permute(db + free_b).reshape(k, -1)
    return ma.mm(mb).reshape([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])


def inner(self, other):
    """The sum over the last dimension of self * other, for every pair of leading indices."""
    _check_tensor(self, "inner")
    _check_tensor(other, "inner", "other")
    if self.dim() == 0 or other.dim() == 0:
        return self * other
    if self.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(self.shape)} and {list(other.shape)}")
    return tensordot(self, other, ([-1], [-1]))


def _beta_alpha(input, prod, beta, alpha):
    """beta * input + alpha * prod, with input ignored (NaN too) when beta is 0, as PyTorch."""
    out = prod if alpha == 1 else prod * alpha
    if beta == 0:  # input's values (NaN and inf too) do not reach the result
        return out + ((input * 0).nan_to_num(0.0, 0.0, 0.0) if input.is_floating_point() else input * 0)
    return out + (input if beta == 1 else input * beta)


def addmv(self, mat, vec, *, beta=1, alpha=1):
    """beta * self + alpha * (mat @ vec)."""
    _check_tensor(self, "addmv")
    _check_tensor(mat, "addmv", "mat")
    _check_tensor(vec, "addmv", "vec")
    if mat.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"addmv: expected a matrix and a vector, got {mat.dim()}-D and {vec.dim()}-D tensors")
    return _beta_alpha(self, mat.mv(vec), beta, alpha)


def addr(self, vec1, vec2, *, beta=1, alpha=1):
    """beta * self + alpha * outer(vec1, vec2)."""
    _check_tensor(self, "addr")
    _check_tensor(vec1, "addr", "vec1")
    _check_tensor(vec2, "addr", "vec2")
    if vec1.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"addr: expected 1-D vectors, got {vec1.dim()}-D and {vec2.dim()}-D tensors")
    return _beta_alpha(self, vec1.outer(vec2), beta, alpha)


def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """beta * self + alpha * the sum over the batch of batch1[i] @ batch2[i]."""
    _check_tensor(self, "addbmm")
    _check_tensor(batch1, "addbmm", "batch1")
    _check_tensor(batch2, "addbmm", "batch2")
    if batch1.dim() != 3 or batch2.dim() != 3:
        raise RuntimeError(f"addbmm: batch1 and batch2 must be 3-D tensors, got {batch1.dim()}-D and "
                           f"{batch2.dim()}-D")
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"addbmm: batch1 and batch2 must have the same number of matrices, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    b, n, k = batch1.shape
    m = batch2.shape[2]
    if batch2.shape[1] != k:
        raise RuntimeError(f"addbmm: incompatible matrix sizes for bmm ({n}x{k} and {batch2.shape[1]}x{m})")
    prod = batch1.permute(1, 0, 2).reshape(n, b * k).mm(batch2.reshape(b * k, m))
    return _beta_alpha(self, prod, beta, alpha)


def chain_matmul(*matrices):
    """The product of the matrices, left to right."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = matrices[0]
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        _check_tensor(m, "chain_matmul", "matrices")
        if m.dim() != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {m.dim()}, expected 2 instead.")
    out = matrices[0]
    for m in matrices[1:]:
        out = out.mm(m)
    return out


# ---- distances ----

def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 [..., P, M] and each row of x2 [..., R, M]: [..., P, R].
    p = 2 uses |a|² + |b|² - 2 a·b when P or R exceeds 25 (or always with 'use_mm_for_euclid_dist'), as
    PyTorch; a zero distance has a zero gradient."""
    _check_tensor(x1, "cdist", "x1")
    _check_tensor(x2, "cdist", "x2")
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D, X2 got: {x2.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.is_floating_point() or not x2.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    batch = _C.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    a = x1.expand(tuple(batch) + tuple(x1.shape[-2:]))
    b = x2.expand(tuple(batch) + tuple(x2.shape[-2:]))
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                         (compute_mode == modes[0] and (a.shape[-2] > 25 or b.shape[-2] > 25)))
    if use_mm:
        d2 = (a * a).sum(-1, keepdim=True) + (b * b).sum(-1).unsqueeze(-2) - a.matmul(b.transpose(-1, -2)) * 2.0
        d2 = d2.clamp_min(0.0)
        pos = d2.gt(0)
        return _C.where(pos, _C.where(pos, d2, 1.0).sqrt(), 0.0)
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)
    return diff.norm(p, -1)


# ---- statistics ----

def cov(self, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of self (observations in the columns)."""
    _check_tensor(self, "cov")
    if self.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{self.dim()} dimensions")
    x = self.reshape(1, -1) if self.dim() < 2 else self
    if not x.is_floating_point():
        x = x.float()
    n = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.dim() > 1 or fweights.numel() != n:
            raise RuntimeError(f"cov(): expected fweights to have one dimension of size {n}, got shape "
                               f"{list(fweights.shape)}")
        if fweights.is_floating_point():
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        w = fweights.to(x.dtype)
    if aweights is not None:
        if aweights.dim() > 1 or aweights.numel() != n:
            raise RuntimeError(f"cov(): expected aweights to have one dimension of size {n}, got shape "
                               f"{list(aweights.shape)}")
        if not aweights.is_floating_point():
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        w_sum = float(n)
        avg = x.mean(1)
        norm = w_sum - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights.to(x.dtype)).sum() / w_sum
    xm = x - avg.unsqueeze(1)
    c = (xm * w if w is not None else xm).mm(xm.t())
    c = c / (norm.clamp_min(0) if isinstance(norm, Tensor) else float(max(norm, 0)))
    return c.squeeze() if self.dim() < 2 else c


def corrcoef(self):
    """Pearson's correlation coefficients of the variables in the rows of self, clipped to [-1, 1]."""
    c = cov(self)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1)


def bincount(self, weights=None, minlength=0):
    """The number of occurrences of each value of a 1-D non-negative integer tensor (or the sum of weights)."""
    _check_tensor(self, "bincount")
    if self.dim() != 1:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {self.dim()}-d input")
    if self.is_floating_point() or self.dtype == _C.bool:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got dtype {self.dtype}")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is not None and not isinstance(weights, Tensor):
        raise TypeError(f"bincount(): argument 'weights' must be Tensor, not {type(weights).__name__}")
    if not isinstance(minlength, int):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not {type(minlength).__name__}")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != self.shape[0]):
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, got shapes "
                           f"{list(weights.shape)} and {list(self.shape)}")
    n = minlength
    if self.numel():
        lo, hi = self.aminmax()  # one pass
        if int(lo) < 0:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        n = max(int(hi) + 1, minlength)
    from ._factories import ones, zeros
    # index_add_ of whole (one-element) rows: the row-write kernel, int32 indices as they are
    if weights is None:
        return zeros(n, dtype=_C.int64, device=self.device).index_add_(
            0, self, ones(self.shape[0], dtype=_C.int64, device=self.device))
    w = weights if weights.is_floating_point() else weights.double()
    return zeros(n, dtype=w.dtype, device=self.device).index_add_(0, self, w.contiguous())


def histc(self, bins=100, min=0, max=0):
    """A histogram of bins equal-width bins over [min, max] (the data's range when both are 0); values
    outside are ignored."""
    _check_tensor(self, "histc")
    if not self.is_floating_point():
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{str(self.dtype).replace('loom.', '')}'")
    if isinstance(bins, bool) or not hasattr(bins, "__index__"):
        raise TypeError(f"histc(): argument 'bins' must be int, not {type(bins).__name__}")
    bins = operator.index(bins)  # an int, or an integer tensor of one element
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bin 1")
    lo, hi = float(min), float(max)
    if lo == hi and self.numel():
        lo, hi = float(self.min()), float(self.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc: max must be larger than min, but got min={min} max={max}")
    if math.isinf(lo) or math.isinf(hi) or math.isnan(lo) or math.isnan(hi):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    from ._factories import zeros
    x = self.detach().flatten()
    inside = x.ge(lo).logical_and(x.le(hi))
    width = hi - lo  # 0 when min == max at the top of the range: everything inside falls in bin 0
    frac = (x - lo) / width if width > 0 else x * 0
    idx = (frac * bins).floor().nan_to_num(0.0, bins - 1, 0.0).clamp(0, bins - 1)
    idx = _C.where(inside, idx, 0).long()
    return zeros(bins, dtype=self.dtype, device=self.device).scatter_add_(0, idx, inside.to(self.dtype))


# ---- integration, Vandermonde, membership ----

def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along dim, over sample points x (a tensor) or a constant spacing dx."""
    _check_tensor(y, "trapezoid", "y")
    d = _dims(dim, y.dim(), "trapezoid")[0]
    n = y.shape[d]
    if n == 0:
        return y.sum(d)
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5
    if isinstance(x, Tensor):
        if x.dim() == 1:
            if x.shape[0] != n:
                raise RuntimeError(f"trapezoid: There must be one `x` value for each sample point, got {x.shape[0]}"
                                   f" and {n}")
            shape = [1] * y.dim()
            shape[d] = n - 1
            spacing = x.diff().reshape(shape)
        else:
            spacing = x.diff(dim=d)
        return (mid * spacing).sum(d)
    spacing = dx if dx is not None else (x if x is not None else 1.0)
    return mid.sum(d) * spacing


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal rule along dim (one fewer element than y along dim)."""
    _check_tensor(y, "cumulative_trapezoid", "y")
    d = _dims(dim, y.dim(), "cumulative_trapezoid")[0]
    n = y.shape[d]
    if n == 0:
        return y
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5
    if isinstance(x, Tensor):
        if x.dim() == 1:
            shape = [1] * y.dim()
            shape[d] = n - 1
            mid = mid * x.diff().reshape(shape)
        else:
            mid = mid * x.diff(dim=d)
    else:
        mid = mid * (dx if dx is not None else (x if x is not None else 1.0))
    return mid.cumsum(d)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D tensor: columns x**(N-1), ..., x**0 (or increasing powers)."""
    _check_tensor(x, "vander", "x")
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from ._factories import ones
    dt = x.dtype if x.is_floating_point() else _C.int64
    if n == 0:
        return ones(x.shape[0], 0, dtype=dt, device=x.device)
    cols = [ones(x.shape[0], dtype=dt, device=x.device)]
    xc = x.to(dt)
    for _ in range(1, n):
        cols.append(cols[-1] * xc)
    out = _C.stack(cols, 1)
    return out if increasing else out.flip(1)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of elements is among test_elements (sorted lookup: O((n + m) log m))."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected at least one of elements and test_elements to be a Tensor")
    if not isinstance(elements, Tensor):
        elements = _t(elements, test_elements)
    if not isinstance(test_elements, Tensor):
        test_elements = _t(test_elements, elements)
    from ._dtypes import result_type
    dt = result_type(elements, test_elements)
    e, t = elements.to(dt), test_elements.to(dt).flatten()
    if t.numel() == 0:
        from ._factories import zeros
        found = zeros(tuple(e.shape), dtype=_C.bool, device=e.device)
    else:
        srt = t.sort().values
        from ._composite import searchsorted
        idx = searchsorted(srt, e.reshape(-1)).clamp_max(srt.numel() - 1)
        found = srt.index_select(0, idx).eq(e.reshape(-1)).reshape(e.shape)
    return found.logical_not() if invert else found


METHODS = [logaddexp, logaddexp2, xlogy, float_power, signbit, copysign, sgn, fmax, fmin, sinc, asinh, acosh,
           atanh, fix, positive, nansum, nanmean, cross, kron, inner, addmv, addr, addbmm, cov, corrcoef, bincount,
           histc]
ALIASES = {"arcsinh": asinh, "arccosh": acosh, "arctanh": atanh}
FUNCTIONS = METHODS + [xlog1py, tensordot, chain_matmul, cdist, trapezoid, trapz, cumulative_trapezoid, vander,
                       isin, polygamma, mvlgamma]


# Tensor methods and loom functions under PyTorch's other names.
_OTHER_NAMES = {"greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne",
                "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2", "clip_": "clamp_",
                "igamma": "gammainc", "igammac": "gammaincc"}


def install(namespace):
    from ._functions import _method
    for alias, target in _OTHER_NAMES.items():
        setattr(Tensor, alias, getattr(Tensor, target))
        if not alias.endswith("_"):
            f = _method(target)
            f.__name__ = f.__qualname__ = alias
            namespace[alias] = f
    for f in METHODS:
        if not hasattr(Tensor, f.__name__) or f.__name__ in _KERNELS:
            setattr(Tensor, f.__name__, f)
    for alias, f in ALIASES.items():
        setattr(Tensor, alias, f)
    for f in FUNCTIONS:
        namespace[f.__name__] = f
    for alias, f in ALIASES.items():
        namespace[alias] = f
    Tensor.polygamma = _polygamma_method
    Tensor.mvlgamma = mvlgamma
