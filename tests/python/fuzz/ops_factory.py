"""Factories: tensor, as_tensor, from_numpy, scalar_tensor, zeros/ones/empty/full, rand/randn,
randint, randperm, arange, linspace, eye and the *_like family."""
import math

import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import register

ALLOC_LIMIT = 2**33  # bytes: anything larger must raise (out of memory), never crash


def size_expect(size, dtype, make):
    """Expectation for a factory of `size`: negative -> raise, huge -> raise, else make(size)."""
    if any(s < 0 for s in size):
        return R.raises("negative size")
    n = 1
    for s in size:
        n *= s
    if n * 8 > ALLOC_LIMIT:
        return R.raises("too large to allocate")
    if any(s > 2**31 for s in size):
        return R.anything(dtype=dtype)
    return make(tuple(size))


@st.composite
def size_call(draw, fn, size, extra=""):
    """Source of fn called with `size` as varargs, a tuple, a list or size=."""
    form = draw(st.sampled_from(["varargs", "tuple", "list", "kw"]))
    args = {"varargs": ", ".join(map(str, size)), "tuple": S.fmt(tuple(size)), "list": S.fmt(list(size)),
            "kw": "size=%s" % S.fmt(tuple(size))}[form]
    if form == "varargs" and not size:
        args = "()"
    return "r = %s(%s%s)" % (fn, args, extra if args else extra.lstrip(", ")), form


def _check_random(size, dtype, lo=None, hi=None, finite=False):
    def check(r, ns):
        err = R.compare(r, np.zeros(size, S.NP_DTYPE[dtype]), dtype, Tensor=ns["loom"].Tensor)
        if err and not err.startswith("value"):
            return err
        a = r.numpy()
        if a.size and lo is not None and (a.min() < lo or a.max() >= hi):
            return "values %s outside [%s, %s)" % (a.reshape(-1)[:6], lo, hi)
        if finite and a.size and not np.isfinite(a).all():
            return "non-finite random values"
        return None
    return check


@st.composite
def fill_factory_examples(draw, op):
    name = op.split(".")[-1]
    size = list(draw(S.sizes_for_factory()))
    dt = draw(st.sampled_from([None, None] + list(S.DTYPES)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    if draw(st.integers(0, 9)) == 0:
        kw += ", bogus_kwarg=1"
    out_dt = dt or "float32"
    call, form = draw(size_call("loom." + name, size, kw))
    if "bogus" in kw:
        e = R.raises("unexpected keyword argument")
    elif name in ("zeros", "ones"):
        e = size_expect(size, out_dt, lambda s: R.value(np.full(s, 0 if name == "zeros" else 1), out_dt))
    elif name == "empty":
        e = size_expect(size, out_dt, lambda s: R.Expect(R.Expect.VALUE, check=lambda r, ns: R.compare(
            r, np.zeros(s, S.NP_DTYPE[out_dt]), out_dt, Tensor=ns["loom"].Tensor) if tuple(r.shape) != s or R.loom_dtype_name(r) != out_dt else None))
    else:  # rand, randn
        if out_dt not in S.FLOATS:
            e = R.raises("%s of an integer dtype" % name)
        else:
            e = size_expect(size, out_dt, lambda s: R.Expect(R.Expect.VALUE, check=_check_random(
                s, out_dt, *((0.0, 1.0) if name == "rand" else (None, None)), finite=True)))
    return Example(op, {}, call, e, tags={"size=" + form})


@st.composite
def full_examples(draw, op):
    size = list(draw(S.sizes_for_factory()))
    v = draw(S.python_scalars())
    dt = draw(st.sampled_from([None, None] + list(S.DTYPES)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    out_dt = dt or R.scalar_dtype(v)
    call = "r = loom.full(%s, %s%s)" % (S.fmt(tuple(size)), S.fmt(v), kw)
    if out_dt in S.INTS and isinstance(v, float) and not math.isfinite(v):
        e = R.raises("non-finite fill value for an integer dtype")
    elif out_dt in S.INTS and isinstance(v, int) and not isinstance(v, bool) and not S.INT_RANGE[out_dt][0] <= v <= S.INT_RANGE[out_dt][1]:
        e = R.raises("fill value out of range")
    elif out_dt in S.INTS and isinstance(v, float) and not S.INT_RANGE[out_dt][0] <= v <= S.INT_RANGE[out_dt][1]:
        e = R.anything(why="float fill value outside the integer range")
    else:
        with np.errstate(all="ignore"):
            fv = (v != 0) if out_dt == "bool" else (math.trunc(v) if out_dt in S.INTS and isinstance(v, float) else v)
        e = size_expect(size, out_dt, lambda s: R.value(np.full(s, fv), out_dt))
    return Example(op, {}, call, e)


@st.composite
def like_examples(draw, op):
    name = op.split(".")[-1]
    x = draw(S.tensors())
    dt = draw(st.sampled_from([None, None] + list(S.DTYPES)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    out_dt = dt or x.dtype
    s = x.shape
    if name == "full_like":
        v = draw(S.python_scalars(mode="nice"))
        call = "r = loom.full_like(x, %s%s)" % (S.fmt(v), kw)
        with np.errstate(all="ignore"):
            e = R.value(np.full(s, v), out_dt) if out_dt != "bool" else R.value(np.full(s, v != 0), "bool")
        return Example(op, {"x": x}, call, e)
    call = "r = loom.%s(x%s)" % (name, kw)
    if name in ("zeros_like", "ones_like"):
        e = R.value(np.full(s, 0 if name == "zeros_like" else 1), out_dt)
    elif name == "empty_like":
        e = R.Expect(R.Expect.VALUE, check=lambda r, ns: None if tuple(r.shape) == s and R.loom_dtype_name(r) == out_dt else "empty_like gave %s %s" % (r.dtype, tuple(r.shape)))
    else:
        e = R.Expect(R.Expect.VALUE, check=_check_random(s, out_dt, *((0.0, 1.0) if name == "rand_like" else (None, None)), finite=True)) if out_dt in S.FLOATS else R.raises("random of an integer dtype")
    return Example(op, {"x": x}, call, e)


@st.composite
def arange_examples(draw, op):
    num = st.one_of(st.integers(-5, 5), st.integers(-5, 5).map(lambda i: i / 2), st.sampled_from([math.nan, math.inf, 2**40, 0.1]))
    k = draw(st.integers(1, 3))
    args = [draw(num) for _ in range(k)]
    dt = draw(st.sampled_from([None, None, None] + list(S.NUMERIC)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    call = "r = loom.arange(%s%s)" % (", ".join(S.fmt(a) for a in args), kw)
    start, end, step = (0, args[0], 1) if k == 1 else (args[0], args[1], 1) if k == 2 else tuple(args)
    out_dt = dt or ("int64" if all(isinstance(a, int) for a in args) else "float32")
    if any(isinstance(a, float) and not math.isfinite(a) for a in (start, end)):
        e = R.raises("non-finite arange bound")
    elif isinstance(step, float) and not math.isfinite(step):
        e = R.anything(why="non-finite step")
    elif step == 0:
        e = R.raises("step must be nonzero")
    elif (end - start) * step < 0:
        e = R.raises("bound inconsistent with step sign")
    else:
        n = math.ceil((end - start) / step)
        if n > 2**30:
            e = R.raises("too large to allocate")
        else:
            vals = start + np.arange(n, dtype=np.float64) * step
            e = R.value(vals, out_dt, rtol=1e-6, atol=1e-6)
            if out_dt in S.INTS and any(isinstance(a, float) for a in args):
                e = R.anything(dtype=out_dt)
    return Example(op, {}, call, e)


@st.composite
def linspace_examples(draw, op):
    num = st.one_of(st.integers(-5, 5), st.integers(-5, 5).map(lambda i: i / 2), st.sampled_from([math.nan, math.inf, 1e30]))
    a, b = draw(num), draw(num)
    steps = draw(st.sampled_from([0, 1, 2, 5, 7, -1]))
    dt = draw(st.sampled_from([None, None, "float32", "float64"]))
    kw = ", dtype=loom.%s" % dt if dt else ""
    call = "r = loom.linspace(%s, %s, %d%s)" % (S.fmt(a), S.fmt(b), steps, kw)
    out_dt = dt or "float32"
    if steps < 0:
        e = R.raises("negative steps")
    elif not (math.isfinite(a) and math.isfinite(b)):
        e = R.anything(dtype=out_dt)
    else:
        e = R.value(np.linspace(float(a), float(b), steps), out_dt, rtol=1e-5, atol=1e-6 * max(1.0, abs(a), abs(b)))
    return Example(op, {}, call, e)


@st.composite
def eye_examples(draw, op):
    n = draw(st.sampled_from([0, 1, 3, -1, 2**40]))
    m = draw(st.sampled_from([None, 0, 2, -2]))
    dt = draw(st.sampled_from([None, None] + list(S.DTYPES)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    call = "r = loom.eye(%d%s%s)" % (n, "" if m is None else ", %d" % m, kw)
    mm = n if m is None else m
    if n < 0 or mm < 0:
        e = R.raises("negative size")
    elif n * max(mm, 1) * 8 > ALLOC_LIMIT:
        e = R.raises("too large") if mm else R.anything()
    else:
        e = R.value(np.eye(n, mm), dt or "float32")
    return Example(op, {}, call, e)


@st.composite
def randint_examples(draw, op):
    lo = draw(st.sampled_from([0, -3, 5, 2**40]))
    hi = draw(st.sampled_from([1, 4, 0, 2**41]))
    size = draw(S.sizes_for_factory())
    dt = draw(st.sampled_from([None, None] + list(S.NUMERIC)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    two = draw(st.booleans()) and lo == 0
    call = ("r = loom.randint(%d, %s%s)" % (hi, S.fmt(tuple(size)), kw)) if two else ("r = loom.randint(%d, %d, %s%s)" % (lo, hi, S.fmt(tuple(size)), kw))
    out_dt = dt or "int64"
    if hi <= lo:
        e = R.raises("high <= low")
    elif out_dt == "int32" and hi > 2**31:
        e = R.raises("bound out of int32 range") if S.numel(size) else R.anything()
    else:
        e = size_expect(list(size), out_dt, lambda s: R.Expect(R.Expect.VALUE, check=_check_random(s, out_dt, lo, hi)))
    return Example(op, {}, call, e)


@st.composite
def randperm_examples(draw, op):
    n = draw(st.sampled_from([0, 1, 5, -1, 2**40]))
    dt = draw(st.sampled_from([None, None, "int32", "float32"]))
    kw = ", dtype=loom.%s" % dt if dt else ""
    call = "r = loom.randperm(%d%s)" % (n, kw)
    out_dt = dt or "int64"
    if n < 0:
        e = R.raises("negative n")
    elif n * 8 > ALLOC_LIMIT:
        e = R.raises("too large")
    else:
        def check(r, ns):
            err = R.compare(r, np.zeros(n), out_dt, Tensor=ns["loom"].Tensor)
            if err and not err.startswith("value"):
                return err
            return None if sorted(r.numpy().astype(np.int64).tolist()) == list(range(n)) else "not a permutation: %s" % r.numpy()[:8]
        e = R.Expect(R.Expect.VALUE, check=check)
    return Example(op, {}, call, e)


def infer_dtype(values):
    kinds = {type(v) for v in values}
    if float in kinds:
        return "float32"
    if int in kinds:
        return "int64"
    return "bool" if kinds else "float32"


@st.composite
def tensor_examples(draw, op):
    name = op.split(".")[-1]
    t = draw(S.tensors(max_dims=3))
    a = t.arr
    kind = draw(st.sampled_from(["list", "list", "numpy", "tensor", "ragged", "bigint", "scalar"]))
    dt = draw(st.sampled_from([None, None] + list(S.DTYPES)))
    kw = ", dtype=loom.%s" % dt if dt else ""
    if name == "scalar_tensor":
        v = draw(S.python_scalars())
        out = dt or "float32"
        call = "r = loom.scalar_tensor(%s%s)" % (S.fmt(v), kw)
        if out in S.INTS and isinstance(v, float) and not math.isfinite(v):
            return Example(op, {}, call, R.raises("non-finite value into an integer dtype"))
        if out in S.INTS and isinstance(v, (int, float)) and not S.INT_RANGE[out][0] <= v <= S.INT_RANGE[out][1]:
            return Example(op, {}, call, R.anything(why="value out of the dtype's range"))
        with np.errstate(all="ignore"):
            return Example(op, {}, call, R.value(np.array(v != 0 if out == "bool" else v).astype(S.NP_DTYPE[out]) if not (out in S.INTS and isinstance(v, float)) else np.trunc(v), out))
    if kind == "scalar":
        v = draw(S.python_scalars())
        vals, src, data = [v], S.fmt(v), np.array(v)
    elif kind == "bigint":
        v = draw(st.sampled_from([2**63, -(2**63) - 1, 2**64, 2**100]))
        call = "r = loom.%s([1, %d]%s)" % (name, v, kw)
        # As PyTorch's tensor(): an int beyond int64 overflows an integer dtype (or the
        # inferred int64); a float dtype takes it through a double, bool through != 0.
        if dt in ("float32", "float64", "bool"):
            with np.errstate(all="ignore"):
                ref = np.array([1.0, float(v)]).astype(S.NP_DTYPE[dt]) if dt != "bool" else np.array([True, True])
            return Example(op, {}, call, R.value(ref, dt))
        return Example(op, {}, call, R.raises("integer out of int64 range"))
    elif kind == "ragged":
        return Example(op, {}, "r = loom.%s([[1, 2], [3]]%s)" % (name, kw), R.raises("ragged nested sequence"))
    elif kind == "tensor":
        call = "r = loom.%s(x%s)" % (name, kw)
        out = dt or t.dtype
        from .ops_shape import cast_expect
        return Example(op, {"x": t}, call, cast_expect(t, out))
    elif kind == "numpy":
        src = "np.array(%s, dtype=np.%s).reshape(%s)" % (S.fmt_list(a.reshape(-1)), a.dtype, S.fmt(a.shape))
        call = "r = loom.%s(%s%s)" % (name, src, kw)
        out = dt or t.dtype
        from .ops_shape import cast_expect
        return Example(op, {}, call, cast_expect(t, out))
    else:
        vals = [v.item() for v in a.reshape(-1)]
        src = S.fmt_list(a) if a.size else S.fmt_list(a) if a.ndim else "[]"
        if a.size == 0 and a.ndim != 1:
            src = "[]"
            a = np.zeros((0,), a.dtype)
        data = a
    call = "r = loom.%s(%s%s)" % (name, src, kw)
    out = dt or infer_dtype(vals)
    if out in S.INTS and any(isinstance(v, float) and not (math.isfinite(v) and S.INT_RANGE[out][0] <= v <= S.INT_RANGE[out][1]) for v in vals):
        return Example(op, {}, call, R.anything(dtype=out))
    if out in S.INTS and any(isinstance(v, int) and not S.INT_RANGE[out][0] <= v <= S.INT_RANGE[out][1] for v in vals):
        return Example(op, {}, call, R.anything(dtype=out))
    with np.errstate(all="ignore"):
        d = np.asarray(data)
        if out in S.INTS and d.dtype.kind == "f":
            d = np.trunc(d)
        e = R.value(d != 0 if out == "bool" else d.astype(S.NP_DTYPE[out]), out)
    return Example(op, {}, call, e)


@st.composite
def from_numpy_examples(draw, op):
    t = draw(S.tensors(views=False))
    a = t.arr
    kind = draw(st.sampled_from(["plain", "plain", "strided", "float16", "uint8", "complex"]))
    if kind in ("float16", "complex", "uint8"):
        call = "r = loom.from_numpy(np.zeros(3, dtype=np.%s))" % {"float16": "float16", "complex": "complex64", "uint8": "uint8"}[kind]
        e = R.raises("unsupported NumPy dtype") if kind != "uint8" else R.anything()
        return Example(op, {}, call, e)
    src = "np.array(%s, dtype=np.%s).reshape(%s)" % (S.fmt_list(a.reshape(-1)), a.dtype, S.fmt(a.shape))
    if kind == "strided" and a.ndim >= 1:
        src += ".T" if a.ndim >= 2 else "[::2]"
        a = a.T if a.ndim >= 2 else a[::2]
    return Example(op, {}, "r = loom.from_numpy(%s)" % src, R.value(a, t.dtype))


def _np_window(name, n, periodic):
    if n <= 1:
        return np.ones(n)
    m = n if periodic else n - 1
    k = np.arange(n) * (2 * np.pi / m)
    if name == "hann_window":
        return 0.5 - 0.5 * np.cos(k)
    if name == "hamming_window":
        return 0.54 - 0.46 * np.cos(k)
    if name == "blackman_window":
        return 0.42 - 0.5 * np.cos(k) + 0.08 * np.cos(2 * k)
    return 1 - np.abs(np.arange(n) * (2.0 / m) - 1)


@st.composite
def window_examples(draw, op):
    name = op.split(".")[1]
    n = draw(st.sampled_from([0, 1, 2, 5, 8, -1, 2**40]))
    periodic = draw(st.sampled_from([None, True, False]))
    dt = draw(st.sampled_from([None, None, "float32", "float64", "int64"]))
    args = str(n) + ("" if periodic is None else ", %s" % periodic) + (", dtype=loom.%s" % dt if dt else "")
    call = "r = %s(%s)" % (op, args)
    if n < 0 or dt == "int64" or n * 8 > ALLOC_LIMIT:
        e = R.raises("negative or huge length, or an integer dtype")
    else:
        e = R.value(_np_window(name, n, periodic is not False), dt or "float32", rtol=1e-5, atol=1e-6)
    return Example(op, {}, call, e)


@st.composite
def logspace_examples(draw, op):
    a, b = draw(st.sampled_from([-2, 0, 1.5, 3])), draw(st.sampled_from([-1, 0, 2, 2.5]))
    steps = draw(st.sampled_from([0, 1, 2, 5, -1, 2**40]))
    base = draw(st.sampled_from([None, 2.0, 10, 0.5]))
    args = "%s, %s, %d" % (a, b, steps) + ("" if base is None else ", %s" % base)
    call = "r = loom.logspace(%s)" % args
    if steps < 0 or steps * 8 > ALLOC_LIMIT:
        e = R.raises("negative or huge steps")
    else:
        e = R.value(np.logspace(a, b, steps, base=10.0 if base is None else base), "float32", rtol=1e-5, atol=1e-6)
    return Example(op, {}, call, e)


@st.composite
def tri_indices_examples(draw, op):
    row = draw(st.sampled_from([0, 1, 3, 4, -1, 2**40]))
    col = draw(st.sampled_from([0, 1, 3, 5, -2, 2**40]))
    offset = draw(st.sampled_from([0, 1, -1, 3, -5]))
    call = "r = %s(%d, %d, %d)" % (op, row, col, offset)
    upper = op.endswith("triu_indices")
    if row < 0 or col < 0:
        e = R.raises("negative size")
    elif row * col == 0:
        e = R.value(np.zeros((2, 0)), "int64")
    elif row * col * 16 > ALLOC_LIMIT:
        e = R.anything()  # a huge triangle raises out of memory, a thin one may fit
    else:
        idx = np.triu_indices(row, offset, col) if upper else np.tril_indices(row, offset, col)
        e = R.value(np.stack(idx).reshape(2, -1), "int64")
    return Example(op, {}, call, e)


def register_all():
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        register("loom." + name, fill_factory_examples("loom." + name), family="factory")
    register("loom.full", full_examples("loom.full"), family="factory")
    for name in ("zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like"):
        register("loom." + name, like_examples("loom." + name), family="factory")
    register("loom.arange", arange_examples("loom.arange"), family="factory")
    register("loom.linspace", linspace_examples("loom.linspace"), family="factory")
    register("loom.eye", eye_examples("loom.eye"), family="factory")
    register("loom.randint", randint_examples("loom.randint"), family="factory")
    register("loom.randperm", randperm_examples("loom.randperm"), family="factory")
    for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window"):
        register("loom." + name, window_examples("loom." + name), family="factory")
    register("loom.logspace", logspace_examples("loom.logspace"), family="factory")
    for name in ("tril_indices", "triu_indices"):
        register("loom." + name, tri_indices_examples("loom." + name), family="factory")
    for name in ("tensor", "as_tensor", "asarray", "scalar_tensor"):
        register("loom." + name, tensor_examples("loom." + name), family="factory")
    register("loom.from_numpy", from_numpy_examples("loom.from_numpy"), family="factory")
