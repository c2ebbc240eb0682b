"""Still more of PyTorch's Tensor API composed from loom's ops: order statistics (quantile, nanquantile,
nanmedian, mode), scatters into copies (index_put, masked_scatter, index_reduce, diagonal_scatter,
select_scatter, slice_scatter, put), renorm, sum_to_size, split_with_sizes, integer gcd / lcm, ldexp, the
real-number forms of the complex API (conj, real, angle, mH, adjoint, is_conj...), histograms (histogram,
histogramdd), frexp, and the small conveniences (is_signed, get_device, new, apply_, map_, hardshrink,
prelu)."""
import collections
import math

import numpy as np

from . import _C, _composite_math
from ._C import Tensor
from ._composite import _check_tensor, _dims
from ._inplace import _type_name

_mode_t = collections.namedtuple("mode", ["values", "indices"])
_nanmedian_t = collections.namedtuple("nanmedian", ["values", "indices"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(self, q, dim, keepdim, interpolation, ignore_nan, name):
    _check_tensor(self, name)
    if not self.is_floating_point():
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. Got "
                         f"{interpolation}")
    scalar_q = not isinstance(q, Tensor)
    from ._factories import tensor
    qt = tensor([float(q)], dtype=self.dtype, device=self.device) if scalar_q else q.to(self.dtype).reshape(-1)
    if not scalar_q and q.dim() > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if str(qt.device) == "cpu" and qt.numel() and bool(qt.lt(0).logical_or(qt.gt(1)).any()):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        x, d = self.reshape(-1), 0
    else:
        d = _dims(dim, self.dim(), name)[0]
        x = self if self.dim() else self.reshape(1)
    if x.shape[d] == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    srt = x.sort(d).values.movedim(d, -1)  # NaN last
    n = srt.shape[-1]
    nan = srt.isnan()
    if ignore_nan:
        valid = nan.logical_not().sum(-1, keepdim=True).to(self.dtype)  # [..., 1]
    else:
        valid = srt.new_full(tuple(srt.shape[:-1]) + (1,), float(n))
    pos = (valid - 1).clamp_min(0).unsqueeze(0) * qt.reshape((-1,) + (1,) * srt.dim())  # [Q, ..., 1]
    if interpolation == "lower":
        pos = pos.floor()
    elif interpolation == "higher":
        pos = pos.ceil()
    elif interpolation == "nearest":
        pos = pos.round()
    lo = pos.floor()
    hi = pos.ceil()
    src = srt.unsqueeze(0).expand((qt.numel(),) + tuple(srt.shape))
    v_lo = src.gather(-1, lo.long())
    v_hi = src.gather(-1, hi.long())
    if interpolation == "midpoint":
        out = v_lo + (v_hi - v_lo) * _C.where(hi.gt(lo), 0.5, 0.0)
    else:
        out = v_lo + (v_hi - v_lo) * (pos - lo)
    out = out.squeeze(-1)
    bad = valid.squeeze(-1).eq(0) if ignore_nan else nan.any(-1)
    out = _C.where(bad.unsqueeze(0), math.nan, out)  # a NaN in the slice (all NaN: nanquantile)
    if keepdim:
        if dim is None:
            out = out.reshape((qt.numel(),) + (1,) * self.dim())
        else:
            out = out.unsqueeze(d + 1)
    return out.squeeze(0) if scalar_q else out


def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (a number or a 1-D tensor of them, in [0, 1]) over dim (the flattened input by
    default), interpolating between order statistics; NaN where a slice holds a NaN."""
    return _quantile(self, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile over the values that are not NaN (NaN where a slice has none)."""
    return _quantile(self, q, dim, keepdim, interpolation, True, "nanquantile")


def nanmedian(self, dim=None, keepdim=False):
    """The lower median ignoring NaN; along dim, with the index of that element (NaN, index 0, where all are
    NaN)."""
    _check_tensor(self, "nanmedian")
    if dim is None:
        x = self.reshape(-1)
        if x.numel() == 0:
            return x.new_full((), math.nan)
        srt = x.sort().values
        valid = int(x.isnan().logical_not().sum()) if x.is_floating_point() else x.numel()
        return srt[(valid - 1) // 2 if valid else 0]
    d = _dims(dim, self.dim(), "nanmedian")[0]
    x = self if self.dim() else self.reshape(1)
    s = x.sort(d)
    if x.is_floating_point():
        k = ((x.isnan().logical_not().sum(d, keepdim=True) - 1) // 2).clamp_min(0)
    else:
        k = x.new_full(tuple(1 if i == d else n for i, n in enumerate(x.shape)), (x.shape[d] - 1) // 2).long()
    values = s.values.gather(d, k)
    indices = s.indices.gather(d, k)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    if self.dim() == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _nanmedian_t(values, indices)


def mode(self, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest of equally frequent ones) and the index of its last
    occurrence (counted on the host)."""
    _check_tensor(self, "mode")
    x = self if self.dim() else self.reshape(1)
    d = _dims(dim, x.dim(), "mode")[0]
    if x.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    a = np.moveaxis(x.detach().cpu().numpy(), d, -1)
    flat = a.reshape(-1, a.shape[-1])
    idx = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        best = vals[np.argmax(counts)]
        idx[r] = np.nonzero(row == best)[0][-1] if best == best else np.nonzero(row != row)[0][-1]
    ind = _C.from_numpy(idx.reshape(a.shape[:-1])).to(x.device) if str(x.device) != "cpu" else \
        _C.from_numpy(idx.reshape(a.shape[:-1]))
    values = x.gather(d, ind.unsqueeze(d)).squeeze(d)
    if keepdim:
        values, ind = values.unsqueeze(d), ind.unsqueeze(d)
    if self.dim() == 0:
        values, ind = values.reshape(()), ind.reshape(())
    return _mode_t(values, ind)


# ---- scatters into a copy ----

def index_put(self, indices, values, accumulate=False):
    """A copy of self with self[indices] = values (or += values, duplicates summed, with accumulate)."""
    _check_tensor(self, "index_put")
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    for i in indices:
        if i is not None and not isinstance(i, Tensor):
            raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, but found element of type "
                            f"{type(i).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if values.dtype != self.dtype:  # PyTorch converts nothing here (x[i] = v does)
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {_type_name(self.dtype)} "
                           f"for the destination and {_type_name(values.dtype)} for the source.")
    out = self.clone()
    if not accumulate:
        out[tuple(indices)] = values
        return out
    idx = [i.long() if i.dtype != _C.bool else i for i in indices]
    if any(i.dtype == _C.bool for i in idx):
        if len(idx) != 1:
            raise NotImplementedError("index_put(accumulate=True) with a boolean mask takes the mask alone")
        idx = list(idx[0].nonzero().unbind(1))
    k = len(idx)
    shape = _C.broadcast_shapes(*[tuple(i.shape) for i in idx])
    lin = None
    for dim_i, i in enumerate(idx):
        n = self.shape[dim_i]
        i = _C.where(i.lt(0), i + n, i).expand(shape)
        lin = i if lin is None else lin * n + i
    rest = tuple(self.shape[k:])
    flat = out.reshape((-1,) + rest)
    v = values.expand(tuple(shape) + rest).reshape((-1,) + rest)
    return flat.index_add(0, lin.reshape(-1), v).reshape(self.shape)


def index_put_(self, indices, values, accumulate=False):
    from ._inplace import apply_
    return apply_(self, "index_put_", lambda s: index_put(s, indices, values, accumulate))


def masked_scatter(self, mask, source):
    """A copy of self whose positions where mask (broadcast) is True take source's elements in order."""
    _check_tensor(self, "masked_scatter")
    _check_tensor(mask, "masked_scatter", "mask")
    _check_tensor(source, "masked_scatter", "source")
    if mask.dtype != _C.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    m = mask.expand(self.shape).reshape(-1)
    pos = m.long().cumsum(0) - 1
    if str(m.device) == "cpu" and m.numel() and int(pos[-1]) + 1 > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as ones in mask")
    src = source.reshape(-1).to(self.dtype)
    take = src.index_select(0, pos.clamp(0, max(src.numel() - 1, 0))) if src.numel() else src.new_zeros(m.shape)
    return _C.where(m, take, self.reshape(-1)).reshape(self.shape)


def masked_scatter_(self, mask, source):
    from ._inplace import apply_
    return apply_(self, "masked_scatter_", lambda s: masked_scatter(s, mask, source))


def index_reduce(self, dim, index, source, reduce, *, include_self=True):
    """self with source's slices along dim reduced ('prod', 'mean', 'amax', 'amin') into the slices index
    names."""
    _check_tensor(self, "index_reduce")
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    d = _dims(dim, self.dim(), "index_reduce")[0]
    if index.dim() > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    shape = [1] * source.dim()
    shape[d] = index.shape[0]
    idx = index.long().reshape(shape).expand(source.shape)
    return self.scatter_reduce(d, idx, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    from ._inplace import apply_
    return apply_(self, "index_reduce_", lambda s: index_reduce(s, dim, index, source, reduce,
                                                                  include_self=include_self))


def _scatter_view(self, src, view, name):
    _check_tensor(self, name)
    _check_tensor(src, name, "src")
    out = self.clone()
    target = view(out)
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"{name}(): expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(target.shape)}")
    target.copy_(src)
    return out


def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
    """A copy of self with its diagonal (offset, dim1, dim2) replaced by src."""
    return _scatter_view(self, src, lambda t: t.diagonal(offset, dim1, dim2), "diagonal_scatter")


def select_scatter(self, src, dim, index):
    """A copy of self with self.select(dim, index) replaced by src."""
    return _scatter_view(self, src, lambda t: t.select(dim, index), "select_scatter")


def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
    """A copy of self with self[start:end:step] along dim replaced by src."""
    _check_tensor(self, "slice_scatter")
    d = _dims(dim, self.dim(), "slice_scatter")[0]
    sl = [slice(None)] * self.dim()
    sl[d] = slice(start, end, step)
    return _scatter_view(self, src, lambda t: t[tuple(sl)], "slice_scatter")


def put(self, index, source, accumulate=False):
    """A copy of self with the flat positions index set to (or, with accumulate, increased by) source."""
    _check_tensor(self, "put")
    _check_tensor(index, "put", "index")
    _check_tensor(source, "put", "source")
    if source.dtype != self.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_type_name(self.dtype)} and source.dtype = {_type_name(source.dtype)}")
    flat = self.reshape(-1)
    idx = index.reshape(-1).long()
    idx = _C.where(idx.lt(0), idx + flat.numel(), idx)
    return index_put(flat, (idx,), source.reshape(-1), accumulate).reshape(self.shape)


def put_(self, index, source, accumulate=False):
    from ._inplace import apply_
    return apply_(self, "put_", lambda s: put(s, index, source, accumulate))


# ---- norms and shapes ----

def renorm(self, p, dim, maxnorm):
    """self with each slice along dim whose p-norm exceeds maxnorm scaled down to norm maxnorm."""
    _check_tensor(self, "renorm")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = _dims(dim, self.dim(), "renorm")[0]
    others = [i for i in range(self.dim()) if i != d]
    norm = self.abs().pow(p).sum(others, keepdim=True).pow(1.0 / p) if others else self.abs()
    factor = _C.where(norm.gt(maxnorm), maxnorm / (norm + 1e-7), 1.0)
    return self * factor.to(self.dtype)


def renorm_(self, p, dim, maxnorm):
    from ._inplace import apply_
    return apply_(self, "renorm_", lambda s: renorm(s, p, dim, maxnorm))


def sum_to_size(self, *size):
    """self summed over the broadcast dimensions down to size (self must expand from size)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    try:
        if tuple(_C.broadcast_shapes(size, tuple(self.shape))) != tuple(self.shape):
            raise ValueError
    except Exception:
        raise RuntimeError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, self.shape))}}}.") from None
    lead = self.dim() - len(size)
    out = self.sum(list(range(lead))) if lead else self
    dims = [i for i, s in enumerate(size) if s == 1 and out.shape[i] != 1]
    return out.sum(dims, keepdim=True) if dims else out


def split_with_sizes(self, split_sizes, dim=0):
    _check_tensor(self, "split_with_sizes")
    if not isinstance(split_sizes, (list, tuple)) or not all(isinstance(s, int) for s in split_sizes):
        raise TypeError("split_with_sizes(): argument 'split_sizes' must be a sequence of ints")
    if sum(split_sizes) != self.shape[_dims(dim, self.dim(), "split_with_sizes")[0]]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {self.shape[dim]} (input "
                           f"tensor's size at dimension {dim}), but got split_sizes={list(split_sizes)}")
    return self.split(list(split_sizes), dim)


# ---- integers ----

def _int_pair(self, other, name):
    _check_tensor(self, name)
    if self.is_floating_point() or self.dtype == _C.bool:
        raise RuntimeError(f"\"{name}_cpu\" not implemented for '{str(self.dtype).replace('loom.', '')}'")
    o = other if isinstance(other, Tensor) else self.new_full((), int(other))
    shape = _C.broadcast_shapes(tuple(self.shape), tuple(o.shape))
    return self.expand(shape).abs(), o.to(self.dtype).expand(shape).abs()


def gcd(self, other):
    """The greatest common divisor, elementwise (Euclid's algorithm; gcd(0, 0) = 0)."""
    a, b = _int_pair(self, other, "gcd")
    for _ in range(100):  # each round at least halves the smaller of two nonzero values every two rounds
        if not bool(b.ne(0).any()):
            break
        nz = b.ne(0)
        safe = _C.where(nz, b, 1)
        a, b = _C.where(nz, b, a), _C.where(nz, a.remainder(safe), b)
    return a


def lcm(self, other):
    """The least common multiple, elementwise (0 when either is 0)."""
    a, b = _int_pair(self, other, "lcm")
    g = gcd(a, b)
    return _C.where(g.eq(0), 0, (a // _C.where(g.eq(0), 1, g)) * b)


def ldexp(self, other):
    """self * 2 ** other."""
    _check_tensor(self, "ldexp")
    e = other if isinstance(other, Tensor) else self.new_full((), float(other))
    x = self if self.is_floating_point() else self.float()
    return x * e.to(x.dtype if e.is_floating_point() else x.dtype).exp2()


# ---- the complex API on real tensors ----

def _identity(name):
    def f(self):
        _check_tensor(self, name)
        return self
    f.__name__ = name
    f.__doc__ = f"self: loom's tensors are real ({name} is the identity)."
    return f


def _false(name):
    def f(self):
        return False
    f.__name__ = name
    return f


def imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def angle(self):
    """The argument of each element as a real number: pi where negative, else 0 (NaN stays NaN)."""
    _check_tensor(self, "angle")
    x = self if self.is_floating_point() else self.float()
    return _C.where(x.lt(0), math.pi, x * 0)


def isreal(self):
    _check_tensor(self, "isreal")
    return self.eq(self).logical_or(self.ne(self))


def _mH(self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.dim()}-D "
                           "tensor.")
    return self.transpose(-2, -1)


def adjoint(self):
    _check_tensor(self, "adjoint")
    return _mH(self)


def _H(self):
    if self.dim() not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
    return self.t() if self.dim() == 2 else self


# ---- conveniences ----

def is_signed(self):
    return self.dtype != _C.bool


def get_device(self):
    return -1 if self.device.type == "cpu" else (self.device.index or 0)


def new(self, *args, **kwargs):
    """Legacy constructor: new() an empty tensor, new(sizes...) an uninitialized one, new(data) a copy of
    data, all with self's dtype and device."""
    from ._factories import empty, tensor
    dev = kwargs.pop("device", self.device)
    if kwargs:
        raise TypeError(f"new() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if not args:
        return empty(0, dtype=self.dtype, device=dev)
    if len(args) == 1 and not isinstance(args[0], int):
        return tensor(args[0], dtype=self.dtype, device=dev)
    return empty(*args, dtype=self.dtype, device=dev)


def apply_(self, callable):
    """self[i] = callable(self[i]) for every element, in place (a Python loop: CPU tensors only)."""
    if self.device.type != "cpu":
        raise TypeError("apply_ is only implemented on CPU tensors")
    a = self.detach().numpy()
    out = np.vectorize(callable, otypes=[a.dtype])(a) if a.size else a
    return self.copy_(_C.from_numpy(np.ascontiguousarray(out)))


def map_(self, other, callable):
    """self[i] = callable(self[i], other[i]) (other broadcast), in place (CPU tensors only)."""
    _check_tensor(other, "map_", "other")
    if self.device.type != "cpu" or other.device.type != "cpu":
        raise TypeError("map_ is only implemented on CPU tensors")
    a = self.detach().numpy()
    b = np.broadcast_to(other.detach().numpy(), a.shape)
    out = np.vectorize(callable, otypes=[a.dtype])(a, b) if a.size else a
    return self.copy_(_C.from_numpy(np.ascontiguousarray(out)))


def hardshrink(self, lambd=0.5):
    from .nn.functional import hardshrink as _hs
    return _hs(self, lambd)


def prelu(self, weight):
    from .nn.functional import prelu as _prelu
    return _prelu(self, weight)


prelu.__doc__ = _composite_math._KERNELS["prelu"].__doc__


# ---- histograms, frexp ----

_histogram_t = collections.namedtuple("histogram", ["hist", "bin_edges"])
_histogramdd_t = collections.namedtuple("histogramdd", ["hist", "bin_edges"])


def _histogram_edges(points, bins, rng, d, op):
    """The bin edges of dimension d: a 1-D tensor given, or bins + 1 evenly spaced over rng or the data's range
    (widened by 0.5 on each side when it is a single value)."""
    from ._factories import linspace
    if isinstance(bins, Tensor):
        if bins.dim() != 1:
            raise RuntimeError(f"torch.{op}: bins tensor should have one dimension, but got {bins.dim()} "
                               f"dimensions in the bins tensor for dimension {d}")
        return bins.to(points.dtype).to(points.device)
    bins = int(bins)
    if bins <= 0:
        raise RuntimeError(f"torch.{op}(): bins must be > 0, but got {bins} for dimension {d}")
    if rng is not None:
        lo, hi = float(rng[2 * d]), float(rng[2 * d + 1])
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {rng[2 * d]} max "
                               f"{rng[2 * d + 1]} for dimension {d}")
    elif points.shape[0]:
        col = points.select(1, d)
        lo, hi = float(col.min()), float(col.max())
    else:
        lo, hi = 0.0, 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{lo:g}, {hi:g}] is not finite")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return linspace(lo, hi, bins + 1, dtype=points.dtype, device=points.device)


def _histogramdd(points, bins, rng, weight, density, op):
    """(hist, [edges per dim]) of points [N, D]: each point in the bin with edges[i] <= x < edges[i + 1] along
    every dim (the last bin closed on the right); points outside the edges are left out."""
    from ._composite import searchsorted
    from ._factories import zeros
    n, D = points.shape
    if isinstance(bins, (int, Tensor)):
        bins = [bins] * D
    bins = list(bins)
    if len(bins) != D:
        raise RuntimeError(f"torch.{op}: expected {D} sequences of bin edges for each of the {D} dimensions of the "
                           f"input, but got {len(bins)}")
    if rng is not None and len(rng) != 2 * D:
        raise RuntimeError(f"torch.{op}: for a {D}-dimensional histogram range should have {2 * D} elements, but "
                           f"got {len(rng)}")
    edges = [_histogram_edges(points, b, rng, d, op) for d, b in enumerate(bins)]
    nbins = [max(e.numel() - 1, 0) for e in edges]
    keep = zeros(n, dtype=_C.bool, device=points.device).logical_not()
    flat = zeros(n, dtype=_C.int64, device=points.device)
    for d, e in enumerate(edges):
        x = points.select(1, d).contiguous()
        if e.numel() < 2:
            keep = keep.logical_and(x.ne(x))
            continue
        pos = searchsorted(e.contiguous(), x, right=True) - 1
        last = e.numel() - 1
        pos = _C.where(x.eq(e[last]), last - 1, pos)
        posc = pos.clamp(0, last - 1)
        inside = pos.ge(0).logical_and(pos.lt(last)).logical_and(e.index_select(0, posc).le(x))
        inside = inside.logical_and(e.index_select(0, posc + 1).gt(x).logical_or(x.eq(e[last])))
        keep = keep.logical_and(inside)
        flat = flat * nbins[d] + posc
    total = 1
    for b in nbins:
        total *= b
    w = keep.to(points.dtype) if weight is None else _C.where(keep, weight.reshape(-1).to(points.dtype), 0)
    hist = zeros(total, dtype=points.dtype, device=points.device).scatter_add_(0, _C.where(keep, flat, 0), w)
    hist = hist.reshape(tuple(nbins))
    if density:
        volume = None
        for d, e in enumerate(edges):
            width = (e.narrow(0, 1, nbins[d]) - e.narrow(0, 0, nbins[d])).reshape(
                [nbins[d] if i == d else 1 for i in range(D)])
            volume = width if volume is None else volume * width
        hist = hist / (hist.sum() * volume)
    return hist, edges


def _check_histogram_input(input, weight, op, d_last):
    _check_tensor(input, op)
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{str(input.dtype).replace('loom.', '')}'")
    if weight is not None:
        _check_tensor(weight, op, "weight")
        want = tuple(input.shape[:-1]) if d_last else tuple(input.shape)
        if tuple(weight.shape) != want:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               f"input tensor excluding its innermost dimension, but got input with shape "
                               f"{list(input.shape) + ([] if d_last else [1])} and weight with shape "
                               f"{list(weight.shape)}")


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): a histogram of input's values over bins equal-width bins (over range, or the data's
    range) or between the given edges (a 1-D tensor); weight gives each value's weight, density normalizes
    to unit area. Each bin holds edges[i] <= x < edges[i + 1], the last one x == edges[-1] too."""
    _check_histogram_input(input, weight, "histogram", False)
    x = input.detach().reshape(-1, 1)
    hist, edges = _histogramdd(x, bins, range, None if weight is None else weight.detach(), density, "histogram")
    return _histogram_t(hist, edges[0])


def histogramdd(input, bins=10, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): the D-dimensional histogram of the points input [..., D] (bins: an int, one per
    dimension, or a 1-D tensor of edges per dimension; range: [min_0, max_0, min_1, ...])."""
    _check_histogram_input(input, weight, "histogramdd", True)
    if input.dim() < 1:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 1 dimension, but got 0")
    D = input.shape[-1]
    x = input.detach().reshape(-1, D)
    hist, edges = _histogramdd(x, bins, range, None if weight is None else weight.detach(), density, "histogramdd")
    return _histogramdd_t(hist, tuple(edges))


# ---- floating-point decomposition ----

_FREXP = []


def _frexp_function():
    """The autograd Function of frexp (made on first use: loom.autograd loads after this module)."""
    if not _FREXP:
        from .autograd.function import Function

        class Frexp(Function):
            """mantissa = x / 2**exponent; its gradient g / 2**exponent in x's dtype (0 where it overflows)."""

            @staticmethod
            def forward(ctx, x):
                m, e = _frexp_values(x)
                ctx.save_for_backward(e)
                ctx.mark_non_differentiable(e)
                return m, e

            @staticmethod
            def backward(ctx, gm, ge):
                (e,) = ctx.saved_tensors
                return gm / e.to(gm.dtype).exp2()

        _FREXP.append(Frexp)
    return _FREXP[0]


def _frexp_values(x):
    """(mantissa, exponent int32) with x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1 (0, inf and NaN keep
    their value with exponent 0), computed in float64 with exact power-of-two scaling."""
    v = x.detach().double()
    a = v.abs()
    normal = a.gt(0).logical_and(a.isfinite())
    safe = _C.where(normal, a, 1.0)
    e = safe.log2().floor() + 1
    # log2 may round across a power of two: bring |m| into [0.5, 1) exactly
    for _ in range(2):
        h = (-e / 2).floor()
        m = safe * h.exp2() * (-e - h).exp2()
        e = e + m.ge(1.0).double() - m.lt(0.5).double()
    h = (-e / 2).floor()
    m = v * h.exp2() * (-e - h).exp2()
    mant = _C.where(normal, m, v).to(x.dtype)
    expo = _C.where(normal, e, 0.0).to(_C.int32)
    return mant, expo


_frexp_t = collections.namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input, *, out=None):
    """(mantissa, exponent): input = mantissa * 2**exponent with 0.5 <= |mantissa| < 1 and an int32 exponent
    (0, inf and NaN: themselves and 0); the mantissa's gradient is grad / 2**exponent."""
    _check_tensor(input, "frexp")
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = _frexp_function().apply(input)
    return _frexp_t(m, e)


METHODS = [quantile, nanquantile, nanmedian, mode, index_put, index_put_, masked_scatter, masked_scatter_,
           index_reduce, index_reduce_, diagonal_scatter, select_scatter, slice_scatter, put, put_, renorm, renorm_,
           sum_to_size, split_with_sizes, gcd, lcm, ldexp, angle, isreal, adjoint, is_signed, get_device,
           new, apply_, map_, hardshrink, prelu, histogram, frexp]
FUNCTIONS = [quantile, nanquantile, nanmedian, mode, index_put, index_put_, masked_scatter, index_reduce,
             diagonal_scatter, select_scatter, slice_scatter, put, renorm, split_with_sizes, gcd, lcm, ldexp, imag,
             angle, isreal, adjoint, hardshrink, prelu, histogram, histogramdd, frexp]


def install(namespace):
    for f in METHODS:
        if not hasattr(Tensor, f.__name__) or f is prelu:  # prelu: over the kernel's binding (dim 1 weight)
            setattr(Tensor, f.__name__, f)
    for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real"):
        if not hasattr(Tensor, name) and name != "real":
            setattr(Tensor, name, _identity(name))
        namespace[name] = _identity(name)
    Tensor.real = property(lambda self: self, doc="self: loom's tensors are real")
    Tensor.imag = property(imag, doc="raises: loom's tensors are real")
    for name in ("is_conj", "is_neg", "is_inference"):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _false(name))
    Tensor.mH = property(_mH)
    Tensor.H = property(_H)
    for f in FUNCTIONS:
        namespace.setdefault(f.__name__, f)
    from ._inplace import _make
    for name in ("gcd", "lcm", "ldexp"):
        setattr(Tensor, name + "_", _make(name, name))
