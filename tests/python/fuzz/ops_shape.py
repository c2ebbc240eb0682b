"""Views and shape ops, indexing with [], conversions and tensor attributes."""
import math

import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import f64, in_place_expect, register


def wrap(d, n, extra=0):
    """Wraps dim d for an n-dim tensor (0-d tensors take -1 and 0); None when out of range."""
    m = max(n, 1) + extra
    if not -m <= d < m:
        return None
    return d % m


def same(x, arr=None, dtype=None, **kw):
    return R.value(x.arr if arr is None else arr, dtype or x.dtype, **kw)


@st.composite
def target_shape(draw, x):
    """A shape to reshape x into: usually with x's numel (maybe one -1), sometimes not."""
    n = x.arr.size
    k = draw(st.integers(0, 5))
    if k == 0:
        return draw(S.shapes(0, 3))
    if k == 1:
        return (n,)
    shape = list(x.shape)
    draw(st.randoms(use_true_random=False)).shuffle(shape)
    if draw(st.booleans()):
        shape.insert(draw(st.integers(0, len(shape))), 1)
    if shape and draw(st.booleans()):
        shape[draw(st.integers(0, len(shape) - 1))] = -1
    return tuple(shape)


def reshape_np(a, shape):
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        raise ValueError("bad shape")
    return np.reshape(a, shape)


@st.composite
def shape_examples(draw, op):
    x = draw(S.tensors())
    nd = x.ndim
    a = x.arr
    name = op.split(".")[-1]
    pre = "r = x.%s(" % name if op.startswith("Tensor.") else "r = loom.%s(x, " % name

    def call(args):
        return (pre + args + ")").replace(", )", ")")

    if name in ("reshape", "view"):
        shape = draw(target_shape(x))
        e = R.ref(lambda: reshape_np(a, shape), x.dtype)
        if name == "view" and x.tags & {"noncontig", "expanded"}:
            e = R.either(e, "view of a non-contiguous tensor may raise")
        args = S.fmt(shape) if draw(st.booleans()) else ", ".join(map(str, shape))
        return Example(op, {"x": x}, call(args), e)
    if name == "flatten":
        s, t = draw(S.dims(nd)), draw(S.dims(nd))
        ws, wt = wrap(s, nd), wrap(t, nd)
        if ws is None or wt is None or ws > wt:
            e = R.raises("bad flatten dims")
        elif nd == 0:
            e = same(x, a.reshape(1))
        else:
            e = same(x, a.reshape(a.shape[:ws] + (-1 if a.size else int(np.prod(a.shape[ws:wt + 1])),) + a.shape[wt + 1:]))
        return Example(op, {"x": x}, call("%d, %d" % (s, t)), e)
    if name == "unflatten":
        d = draw(S.dims(nd))
        sizes = draw(st.lists(st.sampled_from([1, 2, 3, -1, 0]), min_size=1, max_size=3).map(tuple))
        wd = wrap(d, nd)
        if nd == 0 or wd is None:
            e = R.raises("unflatten of a 0-d tensor or bad dim")
        else:
            n = a.shape[wd]
            known = int(np.prod([s for s in sizes if s != -1]))
            if sizes.count(-1) > 1 or (sizes.count(-1) == 1 and (known == 0 or n % known)) or (sizes.count(-1) == 0 and known != n):
                e = R.raises("sizes do not multiply to the dim")
            else:
                full = tuple(n // known if s == -1 else s for s in sizes)
                e = same(x, a.reshape(a.shape[:wd] + full + a.shape[wd + 1:]))
        return Example(op, {"x": x}, call("%d, %s" % (d, S.fmt(sizes))), e)
    if name == "squeeze":
        d = draw(st.one_of(st.none(), S.dims(nd)))
        if d is None:
            return Example(op, {"x": x}, call(""), same(x, a.reshape(tuple(s for s in a.shape if s != 1))))
        wd = wrap(d, nd)
        if wd is None:
            e = R.raises("dim out of range")
        elif nd and a.shape[wd] == 1:
            e = same(x, np.squeeze(a, wd))
        else:
            e = same(x)
        return Example(op, {"x": x}, call(str(d)), e)
    if name == "unsqueeze":
        d = draw(st.integers(-nd - 2, nd + 1))
        wd = wrap(d, nd + 1) if nd else (d % 1 if -1 <= d <= 0 else None)
        if not -nd - 1 <= d <= nd:
            e = R.raises("dim out of range")
        else:
            e = same(x, np.expand_dims(a, d))
        return Example(op, {"x": x}, call(str(d)), e)
    if name in ("transpose", "swapaxes"):
        d0, d1 = draw(S.dims(nd)), draw(S.dims(nd))
        w0, w1 = wrap(d0, nd), wrap(d1, nd)
        if w0 is None or w1 is None:
            e = R.raises("dim out of range")
        else:
            e = same(x, np.swapaxes(a, w0, w1) if nd else a)
        return Example(op, {"x": x}, call("%d, %d" % (d0, d1)), e)
    if name == "permute":
        perm = list(draw(st.permutations(range(nd))))
        perm = [p - nd if draw(st.integers(0, 3)) == 0 else p for p in perm]
        k = draw(st.integers(0, 6))
        if k == 0 and perm:
            perm[0] = perm[-1]
        elif k == 1:
            perm.append(0)
        ok = sorted(p % nd for p in perm) == list(range(nd)) if nd else perm == []
        e = same(x, np.transpose(a, [p % nd for p in perm])) if ok else R.raises("not a permutation")
        args = S.fmt(tuple(perm)) if draw(st.booleans()) else ", ".join(map(str, perm))
        return Example(op, {"x": x}, call(args), e)
    if name in ("t",):
        e = same(x, a.T) if nd <= 2 else R.raises("t() expects <= 2 dims")
        return Example(op, {"x": x}, call(""), e)
    if name == "narrow":
        d = draw(S.dims(nd))
        start = draw(st.integers(-4, 5))
        length = draw(st.integers(-1, 4))
        wd = wrap(d, nd)
        if nd == 0 or wd is None:
            e = R.raises("narrow of a 0-d tensor or bad dim")
        else:
            n = a.shape[wd]
            st0 = start + n if start < 0 else start
            if not (-n <= start <= n) or length < 0 or st0 + length > n:
                e = R.raises("narrow out of range")
            else:
                e = same(x, np.take(a, range(st0, st0 + length), axis=wd))
        return Example(op, {"x": x}, call("%d, %d, %d" % (d, start, length)), e)
    if name == "select":
        d = draw(S.dims(nd))
        i = draw(st.integers(-4, 4))
        wd = wrap(d, nd)
        if nd == 0 or wd is None or not -a.shape[wd] <= i < a.shape[wd]:
            e = R.raises("select out of range")
        else:
            e = same(x, np.take(a, i, axis=wd))
        return Example(op, {"x": x}, call("%d, %d" % (d, i)), e)
    if name in ("split", "chunk", "unbind"):
        d = draw(S.dims(nd))
        wd = wrap(d, nd)
        bad = nd == 0 or wd is None
        if name == "unbind":
            e = R.raises("unbind of a 0-d tensor or bad dim") if bad else R.value(
                tuple(np.take(a, i, axis=wd) for i in range(a.shape[wd])), x.dtype)
            return Example(op, {"x": x}, call("%d" % d), e)
        if name == "chunk":
            c = draw(st.integers(-1, 5))
            args = "%d, %d" % (c, d)
            if bad or c <= 0:
                e = R.raises("chunk of a 0-d tensor, bad dim or chunks <= 0")
            else:
                n = a.shape[wd]
                s = -(-n // c)
                sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0] * c
                e = R.value(tuple(np.take(a, range(sum(sizes[:i]), sum(sizes[:i + 1])), axis=wd) for i in range(len(sizes))), x.dtype)
            return Example(op, {"x": x}, call(args), e)
        if draw(st.booleans()):
            s = draw(st.integers(-1, 4))
            args = "%d, %d" % (s, d)
            if bad or s < 0:
                e = R.raises("split of a 0-d tensor, bad dim or negative size")
            else:
                n = a.shape[wd]
                if s == 0:
                    sizes = [0] if n == 0 else None
                else:
                    k = max(-(-n // s), 1)
                    sizes = [s] * (k - 1) + [n - s * (k - 1)]
                if sizes is None:
                    e = R.raises("split_size 0 of a non-empty dim")
                else:
                    e = R.value(tuple(np.take(a, range(sum(sizes[:i]), sum(sizes[:i + 1])), axis=wd) for i in range(len(sizes))), x.dtype)
        else:
            sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
            args = "%s, %d" % (S.fmt(sizes), d)
            if bad or sum(sizes) != a.shape[wd]:
                e = R.raises("split sizes do not sum to the dim")
            else:
                e = R.value(tuple(np.take(a, range(sum(sizes[:i]), sum(sizes[:i + 1])), axis=wd) for i in range(len(sizes))), x.dtype)
        return Example(op, {"x": x}, call(args), e)
    if name == "flip":
        ds = draw(st.lists(S.dims(nd), min_size=1, max_size=max(1, nd)))
        w = [wrap(d, nd) for d in ds]
        if None in w or len(set(w)) != len(w):
            e = R.raises("bad or repeated flip dims")
        elif nd == 0:
            e = R.either(same(x), "flip of a 0-d tensor: PyTorch returns it, NumPy raises")
        else:
            e = same(x, np.flip(a, tuple(w)))
        args = S.fmt(tuple(ds)) if draw(st.booleans()) else S.fmt(list(ds))
        return Example(op, {"x": x}, call(args), e)
    raise KeyError(op)


@st.composite
def expand_examples(draw, op):
    x = draw(S.tensors())
    a = x.arr
    sizes = [s if s != 1 else draw(st.sampled_from([1, 2, 3, 0])) for s in a.shape]
    sizes = [-1 if draw(st.integers(0, 3)) == 0 else s for s in sizes]
    lead = draw(st.lists(st.sampled_from([2, 1, 0, -1]), max_size=2))
    sizes = lead + sizes
    if draw(st.integers(0, 6)) == 0:
        sizes = list(draw(S.shapes(0, 3)))
    if op == "Tensor.expand_as":
        other = draw(S.tensors(shape=draw(S.shapes(0, 3))))
        e = R.ref(lambda: np.broadcast_to(a, other.shape), x.dtype)
        return Example(op, {"x": x, "y": other}, "r = x.expand_as(y)", e)
    nl = len(sizes) - a.ndim
    if nl < 0 or any(s == -1 for s in sizes[:nl]) or any(s < -1 for s in sizes):
        e = R.raises("bad expand sizes")
    else:
        target = tuple(sizes[:nl]) + tuple(a.shape[i] if s == -1 else s for i, s in enumerate(sizes[nl:]))
        e = R.ref(lambda: np.broadcast_to(a, target), x.dtype)
    args = S.fmt(tuple(sizes)) if draw(st.booleans()) else ", ".join(map(str, sizes))
    return Example(op, {"x": x}, "r = x.expand(%s)" % args, e)


@st.composite
def repeat_examples(draw, op):
    x = draw(S.tensors(max_dims=3))
    a = x.arr
    reps = draw(st.lists(st.sampled_from([1, 2, 0, 3, -1, 2**40]), min_size=max(0, a.ndim - 1), max_size=a.ndim + 1))
    if len(reps) < a.ndim or any(r < 0 for r in reps):
        e = R.raises("repeat dims fewer than tensor dims or negative")
    elif math.prod(max(r, 1) for r in reps) * max(a.size, 1) > 2**20:
        e = R.raises("repeat result too large to allocate") if a.size else R.anything(dtype=x.dtype)
        if a.size and 0 in reps:
            e = R.anything(dtype=x.dtype)
    else:
        e = R.value(np.tile(a.reshape((1,) * (len(reps) - a.ndim) + a.shape), reps), x.dtype)
    return Example(op, {"x": x}, "r = x.repeat(%s)" % ", ".join(map(str, reps)), e)


# ----------------------------------------------------------------------------- getitem / setitem

@st.composite
def index_key(draw, x):
    """(source, numpy key, extra inputs, raises?) for x[...] with basic and one advanced index."""
    nd = x.ndim
    parts, keys, inputs = [], [], {}
    n_idx = draw(st.integers(0, nd + 1))
    advanced_used = False
    for i in range(n_idx):
        k = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis", "tensor", "mask"]))
        if k == "int":
            v = draw(st.integers(-4, 4))
            parts.append(str(v))
            keys.append(v)
        elif k == "slice":
            lo = draw(st.one_of(st.none(), st.integers(-4, 4)))
            hi = draw(st.one_of(st.none(), st.integers(-4, 5)))
            step = draw(st.sampled_from([None, 1, 2, 3, -1, 0]))
            parts.append("%s:%s%s" % ("" if lo is None else lo, "" if hi is None else hi, "" if step is None else ":%d" % step))
            keys.append(slice(lo, hi, step))
        elif k == "none":
            parts.append("None")
            keys.append(None)
        elif k == "ellipsis" and not any(kk is Ellipsis for kk in keys):
            parts.append("...")
            keys.append(Ellipsis)
        elif k == "tensor" and "j" not in inputs:
            # Up to two index tensors: they broadcast together (NumPy's rules, integers beside them
            # counting as advanced indices too).
            advanced_used = True
            name = "j" if "i" in inputs else "i"
            idx = draw(S.tensors("int64", shape=draw(S.shapes(0, 2, sides=[1, 2, 3])), elements=st.integers(-4, 4), views=False))
            inputs[name] = idx
            parts.append(name)
            keys.append(idx.arr)
        elif k == "mask" and not advanced_used and i == 0 and n_idx == 1:
            advanced_used = True
            m = draw(S.tensors("bool", shape=x.shape, views=False))
            inputs["m"] = m
            parts.append("m")
            keys.append(m.arr)
    src = ", ".join(parts) if parts else "..."
    key = tuple(keys) if keys else Ellipsis
    if len(keys) == 1:
        key = keys[0]
        src = parts[0]
    if draw(st.integers(0, 7)) == 0 and len(keys) == 1 and isinstance(keys[0], int):
        src = "(%s,)" % src
        key = (key,)
    return src, key, inputs


def np_index(a, key):
    ks = key if isinstance(key, tuple) else (key,)
    for k in ks:
        if isinstance(k, slice) and k.step is not None and k.step <= 0:
            raise ValueError("step must be greater than zero")
    return a[key]


@st.composite
def getitem_examples(draw, op):
    x = draw(S.tensors())
    src, key, inputs = draw(index_key(x))
    e = R.ref(lambda: np.array(np_index(x.arr, key)), x.dtype)
    return Example(op, dict({"x": x}, **inputs), "r = x[%s]" % src, e)


@st.composite
def setitem_examples(draw, op):
    x = draw(S.tensors())
    src, key, inputs = draw(index_key(x))
    try:
        target = np_index(x.arr, key)
        tshape = np.shape(target)
    except (IndexError, ValueError, TypeError) as exc:
        v = draw(S.python_scalars(mode="nice"))
        return Example(op, dict({"x": x}, **inputs), "x[%s] = %s\nr = x" % (src, S.fmt(v)), R.raises(str(exc)))
    if draw(st.booleans()):
        v = draw(S.python_scalars())
        vsrc = S.fmt(v)
        val = v
    else:
        vt = draw(S.tensors(shape=tshape[len(tshape) - draw(st.integers(0, len(tshape))):], mode="nice"))
        inputs["v"] = vt
        vsrc = "v"
        val = vt.arr
    out = x.arr.copy()
    e = None
    if x.dtype in S.INTS and isinstance(val, float) and not math.isfinite(val):
        e = R.raises("non-finite value into an integer tensor")
    elif x.dtype in S.INTS and isinstance(val, float) and not S.INT_RANGE[x.dtype][0] <= val <= S.INT_RANGE[x.dtype][1]:
        e = R.anything(why="float value outside the integer range")
    elif x.dtype in S.INTS and isinstance(val, int) and not isinstance(val, bool) and not S.INT_RANGE[x.dtype][0] <= val <= S.INT_RANGE[x.dtype][1]:
        e = R.anything(why="value out of the dtype's range")
    else:
        try:
            with np.errstate(all="ignore"):
                v = np.asarray(val)
                if x.dtype in S.INTS and v.dtype.kind == "f":
                    v = np.trunc(v)
                out[key] = v.astype(out.dtype) if x.dtype != "bool" else (v != 0)
            e = R.value(out, x.dtype)
            e.after = {"x": (out, x.dtype)}
        except (IndexError, ValueError, TypeError) as exc:
            e = R.raises(str(exc))
    if "overlap" in x.tags and e.kind != R.Expect.RAISES:
        e = R.anything()
    return Example(op, dict({"x": x}, **inputs), "x[%s] = %s\nr = x" % (src, vsrc), e)


# ----------------------------------------------------------------------------- conversions

def cast_expect(x, dt):
    a = x.arr
    if x.dtype in S.FLOATS and dt in S.INTS:
        lo, hi = S.INT_RANGE[dt]
        fa = f64(a)
        if not np.isfinite(fa).all() or (fa.size and (fa.min() < lo or fa.max() > hi)):
            return R.anything(dtype=dt)  # undefined in C++ and in PyTorch
    with np.errstate(all="ignore"):
        return R.value(a.astype(S.NP_DTYPE[dt]) if dt != "bool" else (a != 0), dt)


@st.composite
def convert_examples(draw, op):
    x = draw(S.tensors())
    name = op.split(".")[-1]
    dt = draw(st.sampled_from(S.DTYPES))
    if name == "to":
        form = draw(st.integers(0, 3))
        call = ["r = x.to(loom.%s)" % dt, "r = x.to(dtype=loom.%s)" % dt, "r = x.to('cpu', loom.%s)" % dt, "r = x.to(y)"][form]
        inputs = {"x": x}
        if form == 3:
            inputs["y"] = draw(S.tensors(dt, shape=(1,)))
        return Example(op, inputs, call, cast_expect(x, dt))
    if name == "type":
        return Example(op, {"x": x}, "r = x.type(loom.%s)" % dt, cast_expect(x, dt))
    if name == "type_as":
        y = draw(S.tensors(dt, shape=(2,)))
        return Example(op, {"x": x, "y": y}, "r = x.type_as(y)", cast_expect(x, dt))
    dt = {"float": "float32", "double": "float64", "int": "int32", "long": "int64", "bool": "bool"}[name]
    return Example(op, {"x": x}, "r = x.%s()" % name, cast_expect(x, dt))


def _py_scalar(v, dtype):
    if dtype == "bool":
        return bool(v)
    if dtype in S.INTS:
        return int(v)
    return float(v)


def _check_numpy(x):
    def check(r, ns):
        if not isinstance(r, np.ndarray):
            return "returned %s, expected numpy.ndarray" % type(r).__name__
        if r.dtype != x.arr.dtype or r.shape != x.shape:
            return "numpy() gave %s %s, expected %s %s" % (r.dtype, r.shape, x.arr.dtype, x.shape)
        return R.close(r, x.arr, x.dtype, 0, 0)
    return check


def _check_list(x):
    def check(r, ns):
        exp = x.arr.tolist()
        if x.arr.size == 0:
            return None if r == exp else "tolist() gave %r, expected %r" % (r, exp)
        got = np.array(r, dtype=S.NP_DTYPE[x.dtype]) if not isinstance(r, (int, float, bool)) else np.array(r)
        if x.ndim == 0:
            if type(r) is not type(exp):
                return "tolist() of 0-d gave %s, expected %s" % (type(r).__name__, type(exp).__name__)
        if got.shape != x.shape:
            return "tolist() gave shape %s, expected %s" % (got.shape, x.shape)
        return R.close(got.astype(S.NP_DTYPE[x.dtype]), x.arr, x.dtype, 0, 0)
    return check


@st.composite
def scalar_examples(draw, op):
    x = draw(S.tensors(max_dims=2))
    a = x.arr
    name = op.split(".")[-1]
    if name == "item":
        e = R.Expect(R.Expect.VALUE, value=_py_scalar(a.reshape(-1)[0], x.dtype)) if a.size == 1 else R.raises("item() of %d elements" % a.size)
        return Example(op, {"x": x}, "r = x.item()", e)
    if name == "tolist":
        return Example(op, {"x": x}, "r = x.tolist()", R.Expect(R.Expect.VALUE, check=_check_list(x)))
    if name == "numpy":
        return Example(op, {"x": x}, "r = x.numpy()", R.Expect(R.Expect.VALUE, check=_check_numpy(x)))
    if name == "__len__":
        e = R.raises("len() of a 0-d tensor") if x.ndim == 0 else R.Expect(R.Expect.VALUE, value=x.shape[0])
        return Example(op, {"x": x}, "r = len(x)", e)
    if name == "__bool__":
        e = R.Expect(R.Expect.VALUE, value=bool(a.reshape(-1)[0])) if a.size == 1 else R.raises("bool() of %d elements" % a.size)
        return Example(op, {"x": x}, "r = bool(x)", e)
    if name in ("__int__", "__float__", "__index__"):
        fn = {"__int__": int, "__float__": float, "__index__": None}[name]
        if a.size != 1:
            e = R.raises("%s of %d elements" % (name, a.size))
        elif name == "__index__":
            e = R.Expect(R.Expect.VALUE, value=int(a.reshape(-1)[0])) if x.dtype in S.INTS else (
                R.raises("__index__ of a non-integer tensor") if x.dtype in S.FLOATS else R.anything())
        else:
            v = a.reshape(-1)[0]
            try:
                e = R.Expect(R.Expect.VALUE, value=fn(v.item()))
            except (ValueError, OverflowError) as exc:
                e = R.raises(str(exc))
        call = {"__int__": "r = int(x)", "__float__": "r = float(x)", "__index__": "r = [10, 20, 30, 40, 50][x]"}[name]
        if name == "__index__" and e.kind == R.Expect.VALUE:
            try:
                e = R.Expect(R.Expect.VALUE, value=[10, 20, 30, 40, 50][e.value])
            except IndexError as exc:
                e = R.raises(str(exc))
        return Example(op, {"x": x}, call, e)
    if name == "__iter__":
        e = R.raises("iteration over a 0-d tensor") if x.ndim == 0 else R.value(tuple(a[i] for i in range(a.shape[0])), x.dtype)
        return Example(op, {"x": x}, "r = tuple(iter(x))", e)
    if name in ("__repr__", "__str__"):
        def check(r, ns):
            return None if isinstance(r, str) and r else "returned %r, expected a non-empty str" % (r,)
        return Example(op, {"x": x}, "r = %s(x)" % name.strip("_"), R.Expect(R.Expect.VALUE, check=check))
    if name == "size":
        d = draw(st.one_of(st.none(), S.dims(x.ndim)))
        if d is None:
            return Example(op, {"x": x}, "r = tuple(x.size())", R.Expect(R.Expect.VALUE, value=tuple(x.shape)))
        w = wrap(d, x.ndim) if x.ndim else None
        e = R.Expect(R.Expect.VALUE, value=x.shape[w]) if w is not None else R.raises("dim out of range")
        return Example(op, {"x": x}, "r = x.size(%d)" % d, e)
    if name == "__contains__":
        v = draw(S.python_scalars(mode="nice"))
        with np.errstate(all="ignore"):
            e = R.Expect(R.Expect.VALUE, value=bool((a == v).any()))
        return Example(op, {"x": x}, "r = %s in x" % S.fmt(v), e)
    simple = {"dim": x.ndim, "ndimension": x.ndim, "numel": int(a.size), "nelement": int(a.size),
              "element_size": a.itemsize, "itemsize": a.itemsize, "nbytes": a.itemsize * a.size, "ndim": x.ndim}
    if name in simple:
        attr = name in ("itemsize", "nbytes", "ndim")
        return Example(op, {"x": x}, "r = x.%s%s" % (name, "" if attr else "()"), R.Expect(R.Expect.VALUE, value=simple[name]))
    if name == "stride":
        def check(r, ns):
            r = tuple(r)
            return None if len(r) == x.ndim and all(isinstance(s, int) for s in r) else "stride() gave %r" % (r,)
        return Example(op, {"x": x}, "r = x.stride()", R.Expect(R.Expect.VALUE, check=check))
    raise KeyError(op)


@st.composite
def copy_examples(draw, op):
    """contiguous, clone, detach, copy_, fill_, zero_, view_as, reshape_as."""
    x = draw(S.tensors())
    a = x.arr
    name = op.split(".")[-1]
    if name in ("contiguous", "clone", "detach"):
        call = "r = x.%s()" % name if op.startswith("Tensor.") else "r = loom.%s(x)" % name
        e = R.value(a, x.dtype)
        if name == "contiguous":
            base = e

            def check(r, ns):
                err = R.compare(r, base.value, x.dtype, Tensor=ns["loom"].Tensor)
                return err or (None if r.is_contiguous() else "contiguous() returned a non-contiguous tensor")
            e = R.Expect(R.Expect.VALUE, check=check)
        return Example(op, {"x": x}, call, e)
    if name == "zero_":
        e = in_place_expect(x, np.zeros_like(a), x.dtype, overlap_ok=True)  # fill is idempotent
        return Example(op, {"x": x}, "r = x.zero_()", e)
    if name == "fill_":
        v = draw(S.python_scalars())
        if x.dtype in S.INTS and isinstance(v, float) and not math.isfinite(v):
            e = R.raises("non-finite fill of an integer tensor")
        elif x.dtype == "int32" and isinstance(v, int) and not isinstance(v, bool) and not -(2**31) <= v < 2**31:
            e = R.raises("fill value out of int32 range")
        elif x.dtype in S.INTS and isinstance(v, float) and not S.INT_RANGE[x.dtype][0] <= v <= S.INT_RANGE[x.dtype][1]:
            e = R.anything(why="float fill value outside the integer range")
        else:
            with np.errstate(all="ignore"):
                fv = (v != 0) if x.dtype == "bool" else (np.trunc(v) if isinstance(v, float) and x.dtype in S.INTS else v)
                e = in_place_expect(x, np.full(a.shape, fv).astype(a.dtype), x.dtype, overlap_ok=True)
        return Example(op, {"x": x}, "r = x.fill_(%s)" % S.fmt(v), e)
    if name == "copy_":
        sx, sy = draw(S.broadcast_pair())
        x = draw(S.tensors(shape=sy))
        src = draw(S.tensors(shape=sx, mode="nice"))
        try:
            b = np.broadcast_to(src.arr, x.shape)
            c = cast_expect(S.T("", np.array(b, order="C", copy=True), src.dtype), x.dtype)
            e = in_place_expect(x, c.value, x.dtype) if c.kind == R.Expect.VALUE else c
        except ValueError as exc:
            e = R.raises(str(exc))
        return Example(op, {"x": x, "y": src}, "r = x.copy_(y)", e)
    if name in ("view_as", "reshape_as"):
        ys = draw(target_shape(x)) if draw(st.booleans()) else draw(S.shapes(0, 3))
        if any(s < 0 for s in ys):
            ys = (a.size,)
        y = draw(S.tensors(shape=ys))
        e = R.ref(lambda: a.reshape(y.shape), x.dtype)
        if name == "view_as" and x.tags & {"noncontig", "expanded"}:
            e = R.either(e)
        return Example(op, {"x": x, "y": y}, "r = x.%s(y)" % name, e)
    raise KeyError(op)


@st.composite
def new_factory_examples(draw, op):
    x = draw(S.tensors(shape=(2,)))
    name = op.split(".")[-1]
    size = draw(S.shapes(0, 3))
    if name == "new_tensor":
        data = draw(S.tensors(shape=size, mode="nice"))
        src = S.fmt_list(data.arr)
        val = np.array(eval(src, {"nan": math.nan, "inf": math.inf})).astype(data.arr.dtype) if data.arr.size == 0 else data.arr
        return Example(op, {"x": x}, "r = x.new_tensor(%s)" % src, R.value(val, x.dtype))
    if name == "new_full":
        v = draw(S.python_scalars(mode="nice"))
        with np.errstate(all="ignore"):
            val = np.full(size, v).astype(S.NP_DTYPE[x.dtype]) if x.dtype != "bool" else np.full(size, v != 0)
        return Example(op, {"x": x}, "r = x.new_full(%s, %s)" % (S.fmt(size), S.fmt(v)), R.value(val, x.dtype))
    fill = {"new_zeros": 0, "new_ones": 1, "new_empty": None}[name]
    if fill is None:
        return Example(op, {"x": x}, "r = x.new_empty(%s)" % S.fmt(size), R.Expect(R.Expect.VALUE, check=lambda r, ns: (
            None if tuple(r.shape) == size and R.loom_dtype_name(r) == x.dtype else "new_empty gave %s %s" % (r.dtype, tuple(r.shape)))))
    return Example(op, {"x": x}, "r = x.%s(%s)" % (name, S.fmt(size)), R.value(np.full(size, fill), x.dtype))


def register_all():
    for name in ("reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes", "permute", "t",
                 "narrow", "select", "split", "chunk", "unbind", "flip"):
        register("Tensor." + name, shape_examples("Tensor." + name), family="shape")
        register("loom." + name, shape_examples("loom." + name), family="shape")
    register("Tensor.view", shape_examples("Tensor.view"), family="shape")
    register("Tensor.expand", expand_examples("Tensor.expand"), family="shape")
    register("Tensor.expand_as", expand_examples("Tensor.expand_as"), family="shape")
    register("Tensor.repeat", repeat_examples("Tensor.repeat"), family="shape")
    register("Tensor.__getitem__", getitem_examples("Tensor.__getitem__"), family="shape")
    register("Tensor.__setitem__", setitem_examples("Tensor.__setitem__"), family="shape")
    for name in ("to", "type", "type_as", "float", "double", "int", "long", "bool"):
        register("Tensor." + name, convert_examples("Tensor." + name), family="convert")
    for name in ("item", "tolist", "numpy", "__len__", "__bool__", "__int__", "__float__", "__index__", "__iter__",
                 "__repr__", "__str__", "size", "__contains__", "dim", "ndimension", "numel", "nelement",
                 "element_size", "itemsize", "nbytes", "ndim", "stride"):
        register("Tensor." + name, scalar_examples("Tensor." + name), family="convert")
    for name in ("contiguous", "clone", "detach", "zero_", "fill_", "copy_", "view_as", "reshape_as"):
        register("Tensor." + name, copy_examples("Tensor." + name), family="convert")
    for name in ("clone", "detach"):
        register("loom." + name, copy_examples("loom." + name), family="convert")
    for name in ("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"):
        register("Tensor." + name, new_factory_examples("Tensor." + name), family="factory")
