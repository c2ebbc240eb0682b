"""Scans and sorts: cumsum, cumprod, cummax, cummin, logcumsumexp, sort, argsort, topk against plain Python
references along the dim (stable order, NaN as the largest value, -0 equal to +0)."""
import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import register
from .ops_reduce import norm_dims


def _along(a, axis, fn, out_len=None):
    """fn(list of Python values) -> (values, indices) lists for each 1-D slice along axis."""
    a1 = a.reshape(1) if a.ndim == 0 else a
    moved = np.moveaxis(a1, axis, -1)
    n = moved.shape[-1] if out_len is None else out_len
    vals = np.empty(moved.shape[:-1] + (n,), dtype=object)
    idx = np.zeros(moved.shape[:-1] + (n,), dtype=np.int64)
    for pos in np.ndindex(moved.shape[:-1]):
        v, i = fn(moved[pos].tolist())
        vals[pos], idx[pos] = v, i
    vals, idx = np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)
    return (vals, idx) if a.ndim else (vals.reshape(()), idx.reshape(()))


def _order(v, descending):
    def key(j):
        x = v[j]
        nan = x != x
        if descending:
            return (0 if nan else 1, 0 if nan else -x)
        return (1 if nan else 0, 0 if nan else x)
    return sorted(range(len(v)), key=key)


def _sorted(v, descending, k=None):
    order = _order(v, descending)[: len(v) if k is None else k]
    return [v[j] for j in order], order


def _running(v, op):
    out, where, acc, best = [], [], None, 0
    for k, x in enumerate(v):
        if op in ("max", "min"):
            nan_x, nan_b = x != x, acc is not None and acc != acc
            if acc is None or nan_x or (not nan_b and (x >= acc if op == "max" else x <= acc)):
                acc, best = x, k
        else:
            acc = x if acc is None else (acc + x if op == "sum" else acc * x)
        out.append(acc)
        where.append(best)
    return out, where


def _wild(x):
    """Slices with infinities or huge values: accumulation order decides them."""
    if x.dtype not in S.FLOATS:
        return None
    a = x.arr.astype(np.float64)
    return np.isinf(a) | (np.abs(a) > 1e15)


@st.composite
def scan_examples(draw, name, form):
    x = draw(S.tensors())
    dim = draw(S.dims(x.ndim))
    op = "Tensor." + name if form == "method" else "loom." + name
    call = "r = x.%s(%d)" % (name, dim) if form == "method" else "r = loom.%s(x, %d)" % (name, dim)
    try:
        (axis,) = norm_dims(dim, x.ndim) or (0,)
    except (IndexError, RuntimeError) as exc:
        return Example(op, {"x": x}, call, R.raises(str(exc)))
    kind = name[3:]  # sum, prod, max, min
    if kind in ("sum", "prod"):
        # Floats accumulate in float64 and round once (as loom's CPU kernels); integers wrap in int64.
        dt = x.dtype if x.dtype in S.FLOATS else "int64"
        a = x.arr.astype(np.float64 if dt in S.FLOATS else np.int64)
        ax = axis if x.ndim else None
        with np.errstate(all="ignore"):
            out = np.cumsum(a, axis=ax) if kind == "sum" else np.cumprod(a, axis=ax)
        e = R.value(out.reshape(a.shape), dt, rtol=1e-4, atol=1e-4)
        wild = _wild(x)
        if wild is not None and x.ndim and wild.size:
            e.ignore = np.logical_or.accumulate(wild, axis=axis)  # CUDA accumulates in float
        return Example(op, {"x": x}, call, e)
    vals, idx = _along(x.arr, axis, lambda v: _running(v, kind))
    e = R.value((vals.astype(x.arr.dtype), idx), [x.dtype, "int64"])
    return Example(op, {"x": x}, call, e)


@st.composite
def logcumsumexp_examples(draw, form):
    x = draw(S.tensors())
    dim = draw(S.dims(x.ndim))
    op = "Tensor.logcumsumexp" if form == "method" else "loom.logcumsumexp"
    call = "r = x.logcumsumexp(%d)" % dim if form == "method" else "r = loom.logcumsumexp(x, %d)" % dim
    try:
        (axis,) = norm_dims(dim, x.ndim) or (0,)
    except (IndexError, RuntimeError) as exc:
        return Example(op, {"x": x}, call, R.raises(str(exc)))
    if x.dtype not in S.FLOATS:
        return Example(op, {"x": x}, call, R.raises("floating point input"))
    a = x.arr.astype(np.float64)
    with np.errstate(all="ignore"):
        out = np.logaddexp.accumulate(a.reshape(1) if a.ndim == 0 else a, axis=axis).reshape(a.shape)
    e = R.value(out, x.dtype, rtol=1e-4, atol=1e-4)
    wild = _wild(x)
    if wild is not None and x.ndim and wild.size:
        e.ignore = np.logical_or.accumulate(wild, axis=axis)  # inf - inf orders differ
    return Example(op, {"x": x}, call, e)


@st.composite
def sort_examples(draw, name, form):
    x = draw(S.tensors())
    dim = draw(S.dims(x.ndim))
    desc = draw(st.booleans())
    op = "Tensor." + name if form == "method" else "loom." + name
    args = "%d, %s" % (dim, desc)
    call = "r = x.%s(%s)" % (name, args) if form == "method" else "r = loom.%s(x, %s)" % (name, args)
    try:
        (axis,) = norm_dims(dim, x.ndim) or (0,)
    except (IndexError, RuntimeError) as exc:
        return Example(op, {"x": x}, call, R.raises(str(exc)))
    vals, idx = _along(x.arr, axis, lambda v: _sorted(v, desc))
    if name == "argsort":
        return Example(op, {"x": x}, call, R.value(idx, "int64"))
    return Example(op, {"x": x}, call, R.value((vals.astype(x.arr.dtype), idx), [x.dtype, "int64"]))


@st.composite
def topk_examples(draw, form):
    x = draw(S.tensors())
    dim = draw(S.dims(x.ndim))
    n = x.shape[dim % max(x.ndim, 1)] if x.ndim and -x.ndim <= dim < x.ndim else 1
    k = draw(st.integers(-1, n + 1))
    largest = draw(st.booleans())
    op = "Tensor.topk" if form == "method" else "loom.topk"
    args = "%d, %d, %s" % (k, dim, largest)
    call = "r = x.topk(%s)" % args if form == "method" else "r = loom.topk(x, %s)" % args
    try:
        (axis,) = norm_dims(dim, x.ndim) or (0,)
    except (IndexError, RuntimeError) as exc:
        return Example(op, {"x": x}, call, R.raises(str(exc)))
    if not 0 <= k <= n:
        return Example(op, {"x": x}, call, R.raises("k out of range"))
    if x.ndim == 0 and k == 0:
        return Example(op, {"x": x}, call, R.anything(why="k = 0 of a 0-d tensor"))
    vals, idx = _along(x.arr, axis, lambda v: _sorted(v, largest, k), out_len=k)
    return Example(op, {"x": x}, call, R.value((vals.astype(x.arr.dtype), idx), [x.dtype, "int64"]))


def register_all():
    for name in ("cumsum", "cumprod", "cummax", "cummin"):
        register("Tensor." + name, scan_examples(name, "method"), family="sort")
        register("loom." + name, scan_examples(name, "function"), family="sort")
    for name in ("sort", "argsort"):
        register("Tensor." + name, sort_examples(name, "method"), family="sort")
        register("loom." + name, sort_examples(name, "function"), family="sort")
    register("Tensor.logcumsumexp", logcumsumexp_examples("method"), family="sort")
    register("loom.logcumsumexp", logcumsumexp_examples("function"), family="sort")
    register("Tensor.topk", topk_examples("method"), family="sort")
    register("loom.topk", topk_examples("function"), family="sort")
