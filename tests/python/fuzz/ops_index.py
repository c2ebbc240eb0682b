"""Index ops, joins, clamp, matmul: index_select, gather, scatter_add, scatter_reduce, index_add /
index_copy / index_fill, masked_fill, masked_select, where, nonzero, cat/concat/stack, clamp/clip, one_hot,
mm/bmm/matmul."""
import math

import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import f64, in_place_expect, register
from .ops_shape import wrap


def index_tensor(shape, hi, dtype="int64"):
    """An index tensor: mostly in [-1, hi], sometimes far out of range."""
    el = st.one_of(st.integers(0, max(hi - 1, 0)), st.integers(0, max(hi - 1, 0)), st.sampled_from([-1, hi, 100]))
    return S.tensors(dtype, shape=shape, elements=el, views=False)


@st.composite
def index_select_examples(draw, op):
    x = draw(S.tensors())
    d = draw(S.dims(x.ndim))
    w = wrap(d, x.ndim)
    n = x.shape[w] if (w is not None and x.ndim) else 1
    idx = draw(index_tensor(draw(st.sampled_from([(2,), (0,), (3,), (), (1, 2)])), n, draw(st.sampled_from(["int64", "int64", "int32", "float32"]))))
    call = "r = x.index_select(%d, i)" % d if op.startswith("Tensor.") else "r = loom.index_select(x, %d, i)" % d
    if w is None:
        e = R.raises("dim out of range")
    elif idx.dtype == "float32" or idx.ndim > 1:
        e = R.raises("index must be a 1-D integer tensor")
    elif x.ndim == 0 and idx.arr.size != 1:
        e = R.raises("index_select of a 0-d tensor takes exactly one index")
    elif idx.arr.size and (idx.arr.min() < 0 or idx.arr.max() >= n):
        e = R.raises("index out of range") if x.arr.size else R.anything(why="out-of-range index into an empty tensor")
    else:
        flat = idx.arr.reshape(-1).astype(np.int64)
        e = R.value(np.take(x.arr, flat, axis=w) if x.ndim else x.arr.reshape(1)[flat].reshape(idx.arr.shape if idx.ndim else ()), x.dtype)
        if idx.ndim == 0 or x.ndim == 0:
            e = R.either(e, "0-d index or input")
    return Example(op, {"x": x, "i": idx}, call, e)


@st.composite
def gather_examples(draw, op):
    x = draw(S.tensors(min_dims=1, max_dims=3))
    d = draw(S.dims(x.ndim))
    w = wrap(d, x.ndim)
    ishape = tuple(draw(st.integers(0, s)) if draw(st.booleans()) else s for s in x.shape)
    if draw(st.integers(0, 6)) == 0:
        ishape = draw(S.shapes(1, 3))
    n = x.shape[w] if w is not None else 1
    idx = draw(index_tensor(ishape, n))
    call = "r = x.gather(%d, i)" % d if op.startswith("Tensor.") else "r = loom.gather(x, %d, i)" % d
    if w is None:
        e = R.raises("dim out of range")
    elif len(ishape) != x.ndim or any(ishape[k] > x.shape[k] for k in range(x.ndim) if k != w):
        e = R.raises("index shape does not fit the input")
    elif idx.arr.size and (idx.arr.min() < 0 or idx.arr.max() >= n):
        e = R.raises("index out of range")
    else:
        sl = tuple(slice(0, s) if k != w else slice(None) for k, s in enumerate(ishape))
        e = R.value(np.take_along_axis(x.arr[sl], idx.arr, axis=w), x.dtype)
    return Example(op, {"x": x, "i": idx}, call, e)


def _scatter_inputs(draw):
    """self, dim, the wrapped dim (None when out of range), the index's shape, the size along dim, index, src."""
    x = draw(S.tensors(S.NUMERIC, min_dims=1, max_dims=3))
    d = draw(S.dims(x.ndim))
    w = wrap(d, x.ndim)
    ishape = tuple(draw(st.integers(0, s)) for s in x.shape)
    n = x.shape[w] if w is not None else 1
    idx = draw(index_tensor(ishape, n))
    src = draw(S.tensors(x.dtype if draw(st.integers(0, 4)) else S.NUMERIC, shape=ishape, mode="nice"))
    return x, d, w, ishape, n, idx, src


def _scatter_targets(ishape, w, idx):
    """(target element, index position) of every index position, in order."""
    for pos in np.ndindex(*ishape):
        tgt = list(pos)
        tgt[w] = idx.arr[pos]
        yield tuple(tgt), pos


@st.composite
def scatter_add_examples(draw, op):
    x, d, w, ishape, n, idx, src = _scatter_inputs(draw)
    inplace = op.endswith("_")
    call = ("r = x.scatter_add_(%d, i, s)" if inplace else "r = x.scatter_add(%d, i, s)" if op.startswith("Tensor.")
            else "r = loom.scatter_add(x, %d, i, s)") % d
    if w is None:
        e = R.raises("dim out of range")
    elif src.dtype != x.dtype:
        e = R.raises("scatter_add: src dtype differs from self")
    elif idx.arr.size and (idx.arr.min() < 0 or idx.arr.max() >= n):
        e = R.raises("index out of range")
    else:
        out = x.arr.astype(np.float64 if x.dtype in S.FLOATS else x.arr.dtype).copy()
        for tgt, pos in _scatter_targets(ishape, w, idx):
            with np.errstate(all="ignore"):
                out[tgt] += src.arr[pos]
        e = R.value(out, x.dtype, rtol=1e-5, atol=1e-5)
        if inplace:
            e = in_place_expect(x, e.value, x.dtype)
    return Example(op, {"x": x, "i": idx, "s": src}, call, e)


@st.composite
def scatter_reduce_examples(draw, op):
    x, d, w, ishape, n, idx, src = _scatter_inputs(draw)
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"] + ([] if draw(st.integers(0, 9)) else
                                                                              ["max"])))
    include_self = draw(st.booleans())
    inplace = op.endswith("_")
    args = "%d, i, s, %r, include_self=%r" % (d, reduce, include_self)
    call = ("r = x.scatter_reduce_(%s)" if inplace else "r = x.scatter_reduce(%s)" if op.startswith("Tensor.")
            else "r = loom.scatter_reduce(x, %s)") % args
    if w is None:
        e = R.raises("dim out of range")
    elif reduce == "max":
        e = R.raises("scatter_reduce: unknown reduction")
    elif src.dtype != x.dtype:
        e = R.raises("scatter_reduce: src dtype differs from self")
    elif idx.arr.size and (idx.arr.min() < 0 or idx.arr.max() >= n):
        e = R.raises("index out of range")
    else:
        floating = x.dtype in S.FLOATS
        out = x.arr.astype(np.float64 if floating else x.arr.dtype).copy()
        sent = {}
        for tgt, pos in _scatter_targets(ishape, w, idx):
            sent.setdefault(tgt, []).append(src.arr[pos])
        with np.errstate(all="ignore"):
            for tgt, vals in sent.items():
                v = np.array(([out[tgt]] if include_self else []) + vals, dtype=out.dtype)
                # Integer sums and products wrap in the dtype, as loom's (and PyTorch's) do; NumPy would
                # widen an int32 sum to int64, which then does not fit back.
                if reduce == "sum":
                    out[tgt] = v.sum(dtype=out.dtype)
                elif reduce == "prod":
                    out[tgt] = v.prod(dtype=out.dtype)
                elif reduce == "mean":
                    out[tgt] = v.sum() / len(v) if floating else v.sum(dtype=out.dtype) // len(v)
                elif reduce == "amax":
                    out[tgt] = v.max()
                else:
                    out[tgt] = v.min()
        e = R.value(out, x.dtype, rtol=1e-5, atol=1e-5)
        if inplace:
            e = in_place_expect(x, e.value, x.dtype)
    return Example(op, {"x": x, "i": idx, "s": src}, call, e)


def _row_scalar(x, v):
    """index_fill's value or index_add's alpha converted to x's dtype, or an Expect when it must raise."""
    if x.dtype == "bool":
        return bool(v != 0)
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if x.dtype in S.INTS:
        if isinstance(v, (float, np.floating)):
            if not math.isfinite(v):
                return R.raises("non-finite value into an integer tensor")
            v = math.trunc(v)
        lo, hi = S.INT_RANGE[x.dtype]
        return int(v) if lo <= v <= hi else R.raises("value out of the dtype's range")
    if x.dtype == "float32" and isinstance(v, (float, np.floating)) and math.isfinite(v) and abs(v) > S.F32_MAX:
        return R.raises("value out of float32's range")
    return v


@st.composite
def index_rows_examples(draw, op):
    """index_add / index_copy / index_fill and their in-place forms against a loop over the index in order
    (repeated indices: add sums, copy keeps the last row, as loom's CPU kernel)."""
    kind = op.split(".")[-1].rstrip("_")
    inplace = op.endswith("_")
    x = draw(S.tensors(max_dims=3))
    d = draw(S.dims(x.ndim))
    w = wrap(d, x.ndim)
    n = x.shape[w] if (w is not None and x.ndim) else 1
    k = draw(st.integers(0, 4))
    ishape = draw(st.sampled_from([(k,), (k,), (k,), (), (1, k)]))
    lo = -n if kind == "index_fill" else 0
    el = st.one_of(st.integers(lo, max(n - 1, lo)), st.integers(lo, max(n - 1, lo)), st.sampled_from([-1, n, -n - 1, 100]))
    idx = draw(S.tensors(draw(st.sampled_from(["int64", "int64", "int32", "float32"])), shape=ishape, elements=el,
                         views=False))
    inputs = {"x": x, "i": idx}
    args = "%d, i" % d
    scalar = 1
    src = None
    if kind == "index_fill":
        v = draw(S.python_scalars()) if draw(st.integers(0, 3)) else draw(S.tensors(shape=()))
        args += ", " + S.operand_src(inputs, "v", v)
        scalar = v.arr.item() if isinstance(v, S.T) else v
    else:
        sshape = list(x.shape)
        if x.ndim and w is not None:
            sshape[w] = int(idx.arr.size)
        if draw(st.integers(0, 6)) == 0:
            sshape = list(draw(S.shapes(0, 3)))
        src = draw(S.tensors(x.dtype if draw(st.integers(0, 5)) else S.DTYPES, shape=tuple(sshape), mode="nice"))
        inputs["s"] = src
        args += ", s"
        if kind == "index_add" and draw(st.booleans()):
            scalar = draw(st.sampled_from([2, -1, 0.5, True, -2.5]))
            args += ", alpha=%r" % scalar
    call = ("r = x.%s_(%s)" if inplace else "r = x.%s(%s)" if op.startswith("Tensor.") else "r = loom.%s(x, %s)") % (
        kind, args)
    ex = lambda e: Example(op, inputs, call, e)  # noqa: E731
    if idx.dtype == "float32":
        return ex(R.raises("index must be an integer tensor"))
    if idx.ndim > 1:
        return ex(R.raises("index must be a vector"))
    if w is None:
        return ex(R.raises("dim out of range"))
    a = _row_scalar(x, scalar)
    if isinstance(a, R.Expect):
        return ex(a)
    flat = idx.arr.reshape(-1).astype(np.int64)
    if src is not None:
        if src.dtype != x.dtype:
            return ex(R.raises("source dtype differs from self"))
        if x.ndim and src.ndim:
            fits = src.ndim == x.ndim and all(src.shape[j] == x.shape[j] for j in range(x.ndim) if j != w)
        else:
            fits = src.arr.size == 1 and (x.ndim == 0 or x.arr.size == x.shape[w])
        if not fits:
            return ex(R.raises("source shape does not match self outside dim"))
        if flat.size != (src.shape[w] if src.ndim else 1):
            return ex(R.raises("index count differs from source.size(dim)"))
    if flat.size and (flat.min() < lo or flat.max() >= n):
        return ex(R.raises("index out of range"))
    # The loop, in x's own dtype (float32 rounds as the kernel does); 0-d x / source as one slice.
    out = x.arr.copy().reshape(x.shape if x.ndim else (1,))
    ax = w if x.ndim else 0
    s_arr = None
    if src is not None:
        s_arr = src.arr.reshape(src.shape if src.ndim and x.ndim else [flat.size if j == ax else out.shape[j]
                                                                        for j in range(out.ndim)])
    with np.errstate(all="ignore"):
        for j, kk in enumerate(flat):
            tgt = (slice(None),) * ax + (int(kk),)
            if kind == "index_fill":
                out[tgt] = a
                continue
            row = s_arr[(slice(None),) * ax + (j,)]
            if kind == "index_copy":
                out[tgt] = row
            elif x.dtype == "bool":
                out[tgt] = out[tgt] | (row & bool(a))
            else:
                out[tgt] = out[tgt] + np.asarray(a).astype(out.dtype) * row
    out = out.reshape(x.shape)
    e = R.value(out, x.dtype, rtol=1e-5, atol=1e-5)
    if inplace:
        e = in_place_expect(x, out, x.dtype)
    return ex(e)


def fill_value_expect(x, v):
    """The value masked_fill/fill_ writes for scalar v, or an Expect when it must raise."""
    if x.dtype in S.INTS and isinstance(v, float) and not math.isfinite(v):
        return R.raises("non-finite value into an integer tensor")
    if x.dtype in S.INTS and isinstance(v, int) and not isinstance(v, bool) and not S.INT_RANGE[x.dtype][0] <= v <= S.INT_RANGE[x.dtype][1]:
        return R.raises("value out of the dtype's range")
    if x.dtype == "bool":
        return v != 0
    if x.dtype in S.INTS and isinstance(v, float):
        return math.trunc(v)
    return v


@st.composite
def masked_fill_examples(draw, op):
    sm, sx = draw(S.broadcast_pair())
    x = draw(S.tensors(shape=sx))
    m = draw(S.tensors("bool" if draw(st.integers(0, 5)) else "int64", shape=sm, mode="nice"))
    v = draw(S.python_scalars()) if draw(st.integers(0, 3)) else draw(S.tensors(shape=()))
    inplace = op.endswith("_")
    inputs = {"x": x, "m": m}
    vsrc = S.operand_src(inputs, "v", v)
    call = ("r = x.masked_fill_(m, %s)" if inplace else "r = x.masked_fill(m, %s)" if op.startswith("Tensor.") else "r = loom.masked_fill(x, m, %s)") % vsrc
    try:
        shape = np.broadcast_shapes(m.shape, x.shape)
    except ValueError as exc:
        return Example(op, inputs, call, R.raises(str(exc)))
    if m.dtype != "bool":
        e = R.raises("mask must be bool")
    elif inplace and shape != x.shape:
        e = R.raises("mask does not broadcast to self")
    else:
        fv = fill_value_expect(x, v.arr.item() if isinstance(v, S.T) else v)
        if isinstance(fv, R.Expect):
            e = fv
        else:
            try:
                with np.errstate(all="ignore"):
                    out = np.where(m.arr, np.asarray(fv).astype(x.arr.dtype), x.arr)
            except OverflowError:
                return Example(op, inputs, call, R.anything(why="value out of the dtype's range"))
            e = R.value(out, x.dtype)
            if isinstance(v, S.T) and R.CATEGORY[v.dtype] > R.CATEGORY[x.dtype]:
                e = R.either(e, "0-d value of a higher category")
            if inplace:
                e = in_place_expect(x, out, x.dtype) if e.kind == R.Expect.VALUE else e
    return Example(op, inputs, call, e)


@st.composite
def masked_select_examples(draw, op):
    sm, sx = draw(S.broadcast_pair())
    x = draw(S.tensors(shape=sx))
    m = draw(S.tensors("bool" if draw(st.integers(0, 5)) else "int32", shape=sm, mode="nice"))
    call = "r = x.masked_select(m)" if op.startswith("Tensor.") else "r = loom.masked_select(x, m)"
    try:
        shape = np.broadcast_shapes(m.shape, x.shape)
        e = R.value(np.broadcast_to(x.arr, shape)[np.broadcast_to(m.arr, shape)], x.dtype) if m.dtype == "bool" else R.raises("mask must be bool")
    except ValueError as exc:
        e = R.raises(str(exc))
    return Example(op, {"x": x, "m": m}, call, e)


@st.composite
def where_examples(draw, op):
    if draw(st.integers(0, 4)) == 0:
        c = draw(S.tensors())
        e = R.value(tuple(np.nonzero(c.arr)) if c.ndim else (np.zeros(int(c.arr != 0), np.int64),), "int64")
        if c.ndim == 0:
            e = R.anything()
        return Example(op, {"c": c}, "r = loom.where(c)", e)
    s1, s2 = draw(S.broadcast_pair())
    c = draw(S.tensors("bool" if draw(st.integers(0, 6)) else "int64", shape=draw(st.sampled_from([s1, s2, ()])), mode="nice"))
    x = draw(S.tensors(shape=s1)) if draw(st.integers(0, 3)) or op != "loom.where" else draw(S.python_scalars())
    y = draw(S.tensors(shape=s2)) if draw(st.integers(0, 3)) else draw(S.python_scalars())
    inputs = {"c": c}
    srcs = [S.operand_src(inputs, "x", x), S.operand_src(inputs, "y", y)]
    call = ("r = loom.where(c, %s, %s)" if op == "loom.where" else "r = %s.where(c, %s)") % tuple(srcs)
    try:
        shape = np.broadcast_shapes(c.shape, np.shape(x.arr) if isinstance(x, S.T) else (), np.shape(y.arr) if isinstance(y, S.T) else ())
    except ValueError as exc:
        return Example(op, inputs, call, R.raises(str(exc)))
    if c.dtype != "bool":
        return Example(op, inputs, call, R.raises("condition must be bool"))
    dt = R.result_type(x, y)
    if dt in S.INTS and any(isinstance(v, (int, float)) and not isinstance(v, bool) and not (
            math.isfinite(v) and S.INT_RANGE[dt][0] <= v <= S.INT_RANGE[dt][1]) for v in (x, y)):
        return Example(op, inputs, call, R.anything(dtype=dt, why="a scalar outside the dtype's range"))
    a, b = R.arr_of(x, dt), R.arr_of(y, dt)
    e = R.value(np.broadcast_to(np.where(c.arr, a, b), shape), dt)
    if not isinstance(x, S.T) and not isinstance(y, S.T):
        e = R.either(e, "two scalars")
    return Example(op, inputs, call, e)


@st.composite
def nonzero_examples(draw, op):
    x = draw(S.tensors())
    a = x.arr
    if draw(st.integers(0, 3)) == 0:
        e = R.value(tuple(np.nonzero(a)) if x.ndim else (np.zeros(int(a != 0), np.int64),), "int64")
        call = "r = x.nonzero(as_tuple=True)" if op.startswith("Tensor.") else "r = loom.nonzero(x, as_tuple=True)"
        if x.ndim == 0:
            e = R.anything()
        return Example(op, {"x": x}, call, e)
    nz = np.argwhere(a) if x.ndim else np.zeros((int(a != 0), 0), np.int64)
    call = "r = x.nonzero()" if op.startswith("Tensor.") else "r = loom.nonzero(x)"
    return Example(op, {"x": x}, call, R.value(nz, "int64"))


@st.composite
def cat_examples(draw, op):
    name = op.split(".")[-1]
    base = draw(S.shapes(0, 3))
    k = draw(st.integers(0, 3))
    ts = []
    d = draw(S.dims(len(base)))
    w = wrap(d, len(base) + (1 if name == "stack" else 0))
    for _ in range(k):
        shape = list(base)
        if name != "stack" and w is not None and shape and w < len(shape) and draw(st.booleans()):
            shape[w] = draw(st.sampled_from([0, 1, 2]))
        if draw(st.integers(0, 7)) == 0:
            shape = list(draw(st.sampled_from([(0,), (), (2,)])))
        ts.append(draw(S.tensors(shape=tuple(shape))))
    names = ["t%d" % i for i in range(k)]
    inputs = dict(zip(names, ts))
    seq = "[%s]" % ", ".join(names) if draw(st.booleans()) else "(%s%s)" % (", ".join(names), "," if k == 1 else "")
    call = "r = loom.%s(%s, %d)" % (name, seq, d) if draw(st.booleans()) else "r = loom.%s(%s, dim=%d)" % (name, seq, d)
    if k == 0:
        return Example(op, inputs, call, R.raises("empty list of tensors"))
    dt = None
    for t in ts:
        dt = R.promote(dt, t.dtype)  # every input takes part in promotion, empty ones included
    try:
        if name == "stack":
            if len({t.shape for t in ts}) != 1:
                raise ValueError("stack: shapes differ")
            wd = wrap(d, ts[0].ndim + 1)
            if wd is None:
                raise IndexError("dim out of range")
            out = np.stack([t.arr.astype(S.NP_DTYPE[dt]) for t in ts], axis=wd)
        else:
            parts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)]  # legacy: 1-D empties are skipped
            if not parts:
                out = np.zeros((0,), S.NP_DTYPE[dt])
            else:
                nd = parts[0].ndim
                if nd == 0 or any(t.ndim != nd for t in parts):
                    raise ValueError("cat: zero-dim or mismatched ranks")
                wd = wrap(d, nd)
                if wd is None:
                    raise IndexError("dim out of range")
                out = np.concatenate([t.arr.astype(S.NP_DTYPE[dt]) for t in parts], axis=wd)
            if any(t.ndim == 0 for t in ts):
                raise ValueError("zero-dim tensor cannot be concatenated")
            if any(wrap(d, t.ndim) is None for t in parts):
                raise IndexError("dim out of range")
        e = R.value(out, dt)
    except (ValueError, IndexError) as exc:
        e = R.raises(str(exc))
    return Example(op, inputs, call, e)


@st.composite
def clamp_examples(draw, op):
    x = draw(S.tensors(S.NUMERIC + ("bool",) if draw(st.integers(0, 9)) == 0 else S.NUMERIC))
    name = op.split(".")[-1].rstrip("_")
    inplace = op.endswith("_")

    def bound():
        k = draw(st.integers(0, 5))
        if k == 0:
            return None
        if k == 1:
            return draw(S.tensors(S.NUMERIC, shape=x.shape[len(x.shape) - draw(st.integers(0, x.ndim)):], mode="nice"))
        return draw(S.python_scalars(("int", "float"), mode=draw(st.sampled_from(["nice", None]))))

    lo, hi = bound(), bound()
    inputs = {"x": x}
    srcs = [S.operand_src(inputs, "lo", lo), S.operand_src(inputs, "hi", hi)]
    kwform = draw(st.booleans())
    args = "min=%s, max=%s" % tuple(srcs) if kwform else "%s, %s" % tuple(srcs)
    call = ("r = x.%s_(%s)" if inplace else "r = x.%s(%s)") % (name, args) if op.startswith("Tensor.") else "r = loom.%s(x, %s)" % (name, args)
    if lo is None and hi is None:
        return Example(op, inputs, call, R.raises("clamp needs min or max"))
    if x.dtype == "bool":
        return Example(op, inputs, call, R.anything())
    mixed = isinstance(lo, S.T) != isinstance(hi, S.T) and lo is not None and hi is not None
    nan_bound = any(isinstance(v, float) and math.isnan(v) for v in (lo, hi))
    if nan_bound or mixed:
        return Example(op, inputs, call, R.anything(why="NaN bound or mixed tensor/scalar bounds: PyTorch leaves it open"))
    dt = R.result_type(x, lo, hi)
    try:
        shape = np.broadcast_shapes(x.shape, *[v.shape for v in (lo, hi) if isinstance(v, S.T)])
    except ValueError as exc:
        return Example(op, inputs, call, R.raises(str(exc)))
    a = R.arr_of(x, dt)
    with np.errstate(all="ignore"):  # NaN in the input or in a bound propagates, as in PyTorch
        out = a
        if lo is not None:
            out = np.maximum(out, R.arr_of(lo, dt))
        if hi is not None:
            out = np.minimum(out, R.arr_of(hi, dt))
    out = np.broadcast_to(out, shape)
    e = R.value(out, dt)
    big = any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**31 for v in (lo, hi))
    if big and dt in S.INTS:
        return Example(op, inputs, call, R.anything(why="a bound outside the dtype's range"))
    if inplace:
        k = e.kind
        e = in_place_expect(x, out, dt)
        if k == R.Expect.EITHER and e.kind == R.Expect.VALUE:
            e = R.either(e)
    return Example(op, inputs, call, e)


@st.composite
def one_hot_examples(draw, op):
    x = draw(S.tensors(draw(st.sampled_from(["int64", "int64", "int32", "float32"])), max_dims=2,
                       elements=st.one_of(st.integers(0, 3), st.sampled_from([-1, 5])), views=False))
    nc = draw(st.sampled_from([-1, 4, 3, 0, 6]))
    call = "r = loom.one_hot(x, %d)" % nc if op == "loom.one_hot" else "r = F.one_hot(x, num_classes=%d)" % nc
    a = x.arr
    if x.dtype == "float32":
        e = R.raises("one_hot needs an integer tensor")
    elif nc <= 0 and a.size == 0:
        e = R.raises("one_hot of an empty tensor needs num_classes")
    else:
        n = (int(a.max()) + 1 if a.size else 0) if nc == -1 else nc
        if a.size and (a.min() < 0 or a.max() >= n):
            e = R.raises("class values out of range")
        else:
            e = R.value((a[..., None] == np.arange(n)).astype(np.int64), "int64")
            if x.dtype == "int32":
                e = R.either(e, "PyTorch wants int64")
    return Example(op, {"x": x}, call, e)


# ----------------------------------------------------------------------------- matmul

@st.composite
def matmul_examples(draw, op):
    name = op.split(".")[-1]
    k = draw(st.sampled_from([1, 2, 3, 0]))
    if name == "mm":
        sa, sb = (draw(st.sampled_from([1, 2, 3, 0])), k), (k, draw(st.sampled_from([1, 2, 3, 0])))
    elif name == "bmm":
        b = draw(st.sampled_from([1, 2, 0]))
        sa, sb = (b, draw(st.sampled_from([1, 2])), k), (b, k, draw(st.sampled_from([1, 2])))
    else:
        la, lb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        batch = tuple(draw(st.lists(st.sampled_from([1, 2]), max_size=2)))
        sa = (batch[len(batch) - max(la - 2, 0):] + (2,) if la >= 2 else ()) + (k,)
        sb = (batch[len(batch) - max(lb - 2, 0):] + (k,) if lb >= 2 else (k,)) + ((3,) if lb >= 2 else ())
    if draw(st.integers(0, 6)) == 0:
        sa, sb = draw(S.shapes(0, 3)), draw(S.shapes(0, 3))
    dts = S.NUMERIC + ("bool",)
    da = draw(st.sampled_from(dts))
    db = da if draw(st.integers(0, 4)) else draw(st.sampled_from(dts))
    x = draw(S.tensors(da, shape=sa, mode="nice"))
    y = draw(S.tensors(db, shape=sb, mode="nice"))
    call = {"Tensor.mm": "r = x.mm(y)", "loom.mm": "r = loom.mm(x, y)", "Tensor.bmm": "r = x.bmm(y)", "loom.bmm": "r = loom.bmm(x, y)",
            "Tensor.matmul": "r = x.matmul(y)", "loom.matmul": "r = loom.matmul(x, y)", "Tensor.__matmul__": "r = x @ y",
            "Tensor.__rmatmul__": "r = y.__rmatmul__(x)"}[op]
    ok_rank = {"mm": (2, 2), "bmm": (3, 3)}.get(name)
    if ok_rank and (x.ndim, y.ndim) != ok_rank:
        e = R.raises("%s expects ranks %s" % (name, ok_rank))
    elif x.ndim == 0 or y.ndim == 0:
        e = R.raises("matmul of a 0-d tensor")
    elif da != db:
        e = R.raises("matmul operands of different dtypes")
    else:
        try:
            if name == "bmm" and x.shape[0] != y.shape[0]:
                raise ValueError("batch mismatch")
            with np.errstate(all="ignore"):
                out = np.matmul(f64(x.arr), f64(y.arr)) if da in S.FLOATS else np.matmul(x.arr.astype(np.int64), y.arr.astype(np.int64))
            e = R.value(out, da, rtol=1e-5, atol=1e-5)
            if da == "bool":
                e = R.either(R.value(out != 0, "bool"), "bool matmul")
        except ValueError as exc:
            e = R.raises(str(exc))
    return Example(op, {"x": x, "y": y}, call, e)


@st.composite
def linear_examples(draw, op):
    fin = draw(st.sampled_from([1, 2, 3, 0]))
    fout = draw(st.sampled_from([1, 2, 0]))
    xs = tuple(draw(st.lists(st.sampled_from([1, 2, 0]), max_size=2))) + (fin,)
    ws = (fout, fin if draw(st.integers(0, 6)) else fin + 1)
    dt = draw(st.sampled_from(S.FLOATS))
    x = draw(S.tensors(dt, shape=xs, mode="nice"))
    w = draw(S.tensors(dt if draw(st.integers(0, 6)) else "int64", shape=ws, mode="nice"))
    use_b = draw(st.booleans())
    inputs = {"x": x, "w": w}
    if use_b:
        inputs["b"] = draw(S.tensors(dt, shape=(fout,) if draw(st.integers(0, 6)) else (fout + 1,), mode="nice"))
    call = "r = F.linear(x, w%s)" % (", b" if use_b else "")
    if w.dtype != dt or ws[1] != fin or (use_b and inputs["b"].shape != (fout,)):
        e = R.raises("linear shape or dtype mismatch")
    else:
        out = f64(x.arr) @ f64(w.arr).T + (f64(inputs["b"].arr) if use_b else 0)
        e = R.value(out, dt, rtol=1e-5, atol=1e-5)
    return Example(op, inputs, call, e)


def register_all():
    for pre in ("Tensor.", "loom."):
        register(pre + "index_select", index_select_examples(pre + "index_select"), family="index")
        register(pre + "gather", gather_examples(pre + "gather"), family="index")
        register(pre + "scatter_add", scatter_add_examples(pre + "scatter_add"), family="index")
        register(pre + "scatter_reduce", scatter_reduce_examples(pre + "scatter_reduce"), family="index")
        register(pre + "masked_fill", masked_fill_examples(pre + "masked_fill"), family="index")
        for name in ("index_add", "index_copy", "index_fill"):
            register(pre + name, index_rows_examples(pre + name), family="index")
        register(pre + "masked_select", masked_select_examples(pre + "masked_select"), family="index")
        register(pre + "nonzero", nonzero_examples(pre + "nonzero"), family="index")
        for name in ("clamp", "clip"):
            register(pre + name, clamp_examples(pre + name), family="index")
        for name in ("mm", "bmm", "matmul"):
            register(pre + name, matmul_examples(pre + name), family="matmul")
    register("Tensor.scatter_add_", scatter_add_examples("Tensor.scatter_add_"), family="index")
    register("Tensor.scatter_reduce_", scatter_reduce_examples("Tensor.scatter_reduce_"), family="index")
    register("Tensor.masked_fill_", masked_fill_examples("Tensor.masked_fill_"), family="index")
    for name in ("index_add_", "index_copy_", "index_fill_"):
        register("Tensor." + name, index_rows_examples("Tensor." + name), family="index")
    register("Tensor.clamp_", clamp_examples("Tensor.clamp_"), family="index")
    register("Tensor.where", where_examples("Tensor.where"), family="index")
    register("loom.where", where_examples("loom.where"), family="index")
    for name in ("cat", "concat", "stack"):
        register("loom." + name, cat_examples("loom." + name), family="join")
    register("loom.one_hot", one_hot_examples("loom.one_hot"), family="index")
    register("F.one_hot", one_hot_examples("F.one_hot"), family="index")
    register("Tensor.__matmul__", matmul_examples("Tensor.__matmul__"), family="matmul")
    register("Tensor.__rmatmul__", matmul_examples("Tensor.__rmatmul__"), family="matmul")
    register("F.linear", linear_examples("F.linear"), family="matmul")
