"""Reductions and normalizations: sum, mean, prod, amax/amin, max/min, argmax/argmin,
var/std, norm, logsumexp, any/all, softmax/log_softmax."""
import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import f64, register

TUPLE_DIMS = ("sum", "mean", "amax", "amin", "var", "std", "logsumexp", "norm")
FLOAT_ONLY = ("mean", "var", "std", "norm")


def norm_dims(dim, ndim):
    """Axes reduced for `dim` (None, int or tuple) on an ndim tensor; IndexError if out of range,
    RuntimeError on repeats. 0-d tensors take dim 0 / -1 and reduce nothing."""
    if dim is None:
        return tuple(range(ndim))
    ds = dim if isinstance(dim, (tuple, list)) else (dim,)
    n = max(ndim, 1)
    out = []
    for d in ds:
        if not -n <= d < n:
            raise IndexError("dim %d out of range for %d dims" % (d, ndim))
        d = d % n
        if d in out:
            raise RuntimeError("dim %d appears twice" % d)
        out.append(d)
    return tuple(out) if ndim > 0 else ()


def unstable_slices(x, axis, keepdim):
    """Positions whose reduced slice holds infinities or huge values: float accumulation
    order decides those (overflow, inf - inf), so they are not compared."""
    if x.dtype not in S.FLOATS:
        return None
    a = f64(x.arr)
    wild = (np.isinf(a) | (np.abs(a) > 1e15)) & ~np.isnan(a)
    nan = np.isnan(a)
    w = np.any(wild, axis=axis, keepdims=keepdim) if a.ndim else wild
    n = np.any(nan, axis=axis, keepdims=keepdim) if a.ndim else nan
    return np.asarray(w & ~n)


def _logsumexp(a, axis, keepdim):
    if a.size == 0:
        m = np.zeros(np.sum(a, axis=axis, keepdims=True).shape)
    elif not axis:  # nothing reduced (a 0-d tensor): shifted by each value itself, so that exp(x - m) = 1
        m = np.array(a, dtype=np.float64)
    else:
        m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    if not keepdim:
        out = np.squeeze(out, axis=axis) if axis else out
    return out


def reduce_expect(name, x, dim, keepdim, extra=None):
    extra = extra or {}
    try:
        axis = norm_dims(dim, x.ndim)
    except (IndexError, RuntimeError) as e:
        return R.raises(str(e))
    if name in FLOAT_ONLY and x.dtype not in S.FLOATS:
        return R.raises("%s of an integer tensor" % name)
    a = x.arr
    tol = dict(rtol=1e-4 if x.dtype == "float32" else 1e-9,
               atol=(1e-4 if x.dtype == "float32" else 1e-9) * max(1.0, float(np.nansum(np.abs(f64(a))[np.isfinite(f64(a))])) if a.size else 1.0))
    ign = unstable_slices(x, axis, keepdim)
    if name in ("sum", "prod"):
        dt = x.dtype if x.dtype in S.FLOATS else "int64"
        src = f64(a) if dt in S.FLOATS else a.astype(np.int64)
        fn = np.sum if name == "sum" else np.prod
        if name == "prod":
            tol["atol"] = None
            tol["rtol"] = 1e-4 if x.dtype == "float32" else 1e-9
        return R.ref(lambda: fn(src, axis=axis, keepdims=keepdim), dt, ignore=ign, **tol)
    if name == "mean":
        return R.ref(lambda: np.mean(f64(a), axis=axis, keepdims=keepdim) if a.size or axis else f64(a), x.dtype, ignore=ign, **tol)
    if name in ("amax", "amin"):
        fn = np.max if name == "amax" else np.min
        return R.ref(lambda: fn(a, axis=axis, keepdims=keepdim), x.dtype)
    if name in ("var", "std"):
        c = extra.get("correction", 1)
        def f():
            sq = f64(a) - np.mean(f64(a), axis=axis, keepdims=True) if a.size else f64(a)
            n = int(np.prod([a.shape[i] for i in axis])) if x.ndim else 1
            v = np.sum(sq * sq, axis=axis, keepdims=keepdim) / max(0, n - c)
            return np.sqrt(v) if name == "std" else v
        return R.ref(f, x.dtype, ignore=ign, rtol=1e-4 if x.dtype == "float32" else 1e-8, atol=1e-5)
    if name == "norm":
        p = extra.get("p", 2)
        def f():
            b = np.abs(f64(a))
            if p == 1:
                return np.sum(b, axis=axis, keepdims=keepdim)
            if p == float("inf"):
                return np.max(b, axis=axis, keepdims=keepdim)
            return np.sqrt(np.sum(b * b, axis=axis, keepdims=keepdim))
        e = R.ref(f, x.dtype, ignore=ign, rtol=1e-4 if x.dtype == "float32" else 1e-8, atol=1e-5)
        if p == float("inf") and a.size == 0:
            return R.anything(dtype=x.dtype)
        return e
    if name == "logsumexp":
        dt = R.to_float(x.dtype)
        e = R.ref(lambda: _logsumexp(f64(a.astype(S.NP_DTYPE[dt])), axis, keepdim), dt, ignore=ign, rtol=1e-5 if dt == "float32" else 1e-9, atol=1e-5)
        return e if x.dtype in S.FLOATS else R.either(e, "PyTorch may reject integer input")
    if name in ("any", "all"):
        fn = np.any if name == "any" else np.all
        return R.ref(lambda: fn(a.astype(bool), axis=axis, keepdims=keepdim), "bool")
    raise KeyError(name)


def dim_choice(name, x):
    n = x.ndim
    opts = ["none", "int", "int"]
    if name in TUPLE_DIMS:
        opts.append("tuple")
    return st.sampled_from(opts).flatmap(
        lambda k: st.just(None) if k == "none" else S.dims(n) if k == "int" else
        st.lists(S.dims(n), min_size=1, max_size=max(1, min(n, 3))).map(tuple))


@st.composite
def reduction_examples(draw, name, form):
    x = draw(S.tensors())
    dim = draw(dim_choice(name, x))
    if name == "logsumexp" and dim is None:
        dim = draw(S.dims(x.ndim))
    keepdim = draw(st.booleans())
    extra = {}
    args = []
    if dim is not None:
        args.append("dim=%s" % S.fmt(dim))
        args.append("keepdim=%s" % keepdim)
    else:
        keepdim = False
    if name in ("var", "std"):
        c = draw(st.sampled_from([None, 0, 1, 2, "unbiased"]))
        if c == "unbiased":
            u = draw(st.booleans())
            args.append("unbiased=%s" % u)
            extra["correction"] = 1 if u else 0
        elif c is not None:
            args.append("correction=%d" % c)
            extra["correction"] = c
    if name == "norm":
        p = draw(st.sampled_from([2, 1, float("inf"), "fro"]))
        args.insert(0, "p=%s" % ("'fro'" if p == "fro" else S.fmt(p)))
        extra["p"] = 2 if p == "fro" else p
    e = reduce_expect(name, x, dim, keepdim, extra)
    if name == "amax" and dim is None:
        args = []  # amax() reduces every dim
    call = ("r = x.%s(%s)" if form == "method" else "r = loom.%s(x, %s)") % (name, ", ".join(args))
    call = call.replace("(x, )", "(x)")
    return Example(("Tensor." if form == "method" else "loom.") + name, {"x": x}, call, e)


@st.composite
def minmax_examples(draw, name, form):
    """max/min: no dim -> value; dim -> (values, indices); other tensor -> maximum."""
    x = draw(S.tensors())
    fn, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)
    mode = draw(st.sampled_from(["all", "dim", "dim"]))
    pre = "r = x.%s(" % name if form == "method" else "r = loom.%s(x, " % name
    if mode == "all":
        call = (pre + ")").replace(", )", ")")
        e = R.ref(lambda: fn(x.arr), x.dtype)
        return Example(("Tensor." if form == "method" else "loom.") + name, {"x": x}, call, e)
    dim = draw(S.dims(x.ndim))
    keepdim = draw(st.booleans())
    call = pre + "dim=%d, keepdim=%s)" % (dim, keepdim)
    try:
        (ax,) = norm_dims(dim, x.ndim) or (None,)
    except (IndexError, RuntimeError) as exc:
        return Example(("Tensor." if form == "method" else "loom.") + name, {"x": x}, call, R.raises(str(exc)))
    if ax is None:
        e = R.value((x.arr, np.zeros((), np.int64)), [x.dtype, "int64"])
    elif x.shape[ax] == 0:
        e = R.raises("max/min over an empty dim")
    else:
        vals = fn(x.arr, axis=ax, keepdims=keepdim)
        idx = arg(x.arr, axis=ax, keepdims=keepdim).astype(np.int64)
        e = R.value((vals.astype(x.arr.dtype), idx), [x.dtype, "int64"])
        if x.dtype == "bool":
            e = R.either(e)
    return Example(("Tensor." if form == "method" else "loom.") + name, {"x": x}, call, e)


@st.composite
def argmax_examples(draw, name, form):
    x = draw(S.tensors())
    fn = np.argmax if name == "argmax" else np.argmin
    dim = draw(st.one_of(st.none(), S.dims(x.ndim)))
    keepdim = draw(st.booleans())
    if dim is None:
        args = "" if not keepdim else "keepdim=True"
        e = R.ref(lambda: np.asarray(fn(x.arr)).reshape((1,) * x.ndim if keepdim else ()), "int64")
    else:
        args = "dim=%d, keepdim=%s" % (dim, keepdim)
        try:
            ax = norm_dims(dim, x.ndim)
            if not ax:
                e = R.value(np.zeros(()), "int64")
            else:
                e = R.ref(lambda: fn(x.arr, axis=ax[0], keepdims=keepdim), "int64")
        except (IndexError, RuntimeError) as exc:
            e = R.raises(str(exc))
    if x.dtype == "bool" and e.kind == R.Expect.VALUE:
        e = R.either(e, "PyTorch rejects bool")
    call = "r = x.%s(%s)" % (name, args) if form == "method" else ("r = loom.%s(x%s)" % (name, ", " + args if args else ""))
    return Example(("Tensor." if form == "method" else "loom.") + name, {"x": x}, call, e)


def softmax_expect(name, x, dim, dtype=None):
    try:
        axis = norm_dims(dim, x.ndim)
    except (IndexError, RuntimeError) as exc:
        return R.raises(str(exc))
    dt = dtype or R.to_float(x.dtype)
    a = f64(x.arr.astype(S.NP_DTYPE[dt]))
    with np.errstate(all="ignore"):
        if not axis:
            out = np.zeros(a.shape) if name == "log_softmax" else np.ones(a.shape)
            out = np.where(np.isnan(a), np.nan, out)
        elif a.size == 0:
            out = a
        else:
            m = np.max(a, axis=axis, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            z = np.exp(a - m)
            s = np.sum(z, axis=axis, keepdims=True)
            out = z / s if name == "softmax" else (a - m) - np.log(s)
    e = R.value(out, dt, rtol=1e-5 if dt == "float32" else 1e-9, atol=1e-6)
    e.ignore = unstable_slices(x, axis, True)
    if e.ignore is not None:
        e.ignore = np.broadcast_to(e.ignore, a.shape)
    if x.dtype not in S.FLOATS and dtype is None:
        return R.either(e, "PyTorch rejects integer input without dtype=")
    return e


@st.composite
def softmax_examples(draw, name, form):
    x = draw(S.tensors())
    dim = draw(S.dims(x.ndim))
    dtype = draw(st.sampled_from([None, None, "float32", "float64"]))
    kw = ", dtype=loom.%s" % dtype if dtype else ""
    if form == "method":
        call, op = "r = x.%s(%d%s)" % (name, dim, kw), "Tensor." + name
    elif form == "function":
        call, op = "r = loom.%s(x, %d%s)" % (name, dim, kw), "loom." + name
    else:
        if draw(st.integers(0, 5)) == 0:
            return Example("F." + name, {"x": x}, "r = F.%s(x)" % name, R.anything())
        call, op = "r = F.%s(x, dim=%d%s)" % (name, dim, kw), "F." + name
    return Example(op, {"x": x}, call, softmax_expect(name, x, dim, dtype))


def register_all():
    for name in ("sum", "mean", "prod", "amax", "amin", "var", "std", "norm", "logsumexp", "any", "all"):
        register("Tensor." + name, reduction_examples(name, "method"), family="reduce")
        register("loom." + name, reduction_examples(name, "function"), family="reduce")
    for name in ("max", "min"):
        register("Tensor." + name, minmax_examples(name, "method"), family="reduce")
        register("loom." + name, minmax_examples(name, "function"), family="reduce")
    for name in ("argmax", "argmin"):
        register("Tensor." + name, argmax_examples(name, "method"), family="reduce")
        register("loom." + name, argmax_examples(name, "function"), family="reduce")
    for name in ("softmax", "log_softmax"):
        register("Tensor." + name, softmax_examples(name, "method"), family="reduce")
        register("loom." + name, softmax_examples(name, "function"), family="reduce")
        register("F." + name, softmax_examples(name, "F"), family="reduce")
