"""Hypothesis strategies for loom inputs: dtypes, shapes, values, views, scalars, dims.

Every generated tensor is a snippet of Python (``loom.tensor([...]).transpose(0, 1)``)
plus the NumPy array it must hold. The worker executes exactly that snippet, so a
reported failure is reproduced by pasting the printed code.
"""
import math

import numpy as np
from hypothesis import strategies as st

DTYPES = ("bool", "int32", "int64", "float32", "float64")
INTS = ("int32", "int64")
FLOATS = ("float32", "float64")
NUMERIC = INTS + FLOATS
NP_DTYPE = {"bool": np.bool_, "int32": np.int32, "int64": np.int64, "float32": np.float32, "float64": np.float64}
INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
F32_MAX = float(np.finfo(np.float32).max)

MAX_NUMEL = 36

# Where generated tensors live: "cpu", or "cuda" when the worker runs with --device cuda
# (the runner adds a CUDA pass only when loom.cuda.is_available()).
DEVICE = "cpu"


class T:
    """A tensor argument: the expression that builds it and the values it must hold."""

    def __init__(self, expr, arr, dtype, tags=()):
        self.expr = expr
        self.arr = arr
        self.dtype = dtype
        self.tags = set(tags)
        self.tags.add(dtype)
        if arr.ndim == 0:
            self.tags.add("0d")
        if arr.size == 0:
            self.tags.add("empty")

    @property
    def shape(self):
        return self.arr.shape

    @property
    def ndim(self):
        return self.arr.ndim

    def __repr__(self):
        return self.expr


def fmt_value(v):
    """Python source for one scalar (nan/inf come from `from math import nan, inf`)."""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return repr(f)


def fmt_list(a):
    if a.ndim == 0:
        return fmt_value(a.item())
    return "[" + ", ".join(fmt_list(s) for s in a) + "]"


def operand_src(inputs, name, v):
    """Source of an operand that may be a tensor (bound as input `name`) or a Python scalar (a literal)."""
    if isinstance(v, T):
        inputs[name] = v
        return name
    return fmt(v)


def fmt(v):
    """Python source for an argument: tensors by expression, tuples, lists, scalars, dtypes."""
    if isinstance(v, T):
        return v.expr
    if isinstance(v, Raw):
        return v.src
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, (bool, int, float, np.generic)) and not isinstance(v, str):
        return fmt_value(v)
    if isinstance(v, slice):
        return "slice(%s, %s, %s)" % (fmt(v.start), fmt(v.stop), fmt(v.step))
    return repr(v)


class Raw:
    """Python source passed through fmt() verbatim (a dtype, a keyword value)."""

    def __init__(self, src):
        self.src = src

    def __repr__(self):
        return self.src


def dtype_src(name):
    return Raw("loom." + name)


# ----------------------------------------------------------------------------- values


def nice_floats():
    return st.integers(-8, 8).map(lambda i: i / 2.0)


def float_specials(dtype):
    big = F32_MAX if dtype == "float32" else 1.7976931348623157e308
    return st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.0, 1e30, -1e-30, 1e-40, big, -big, 0.1, 88.5, -100.0])


def float_elems(dtype, mode):
    if mode == "nice":
        return nice_floats()
    width = 32 if dtype == "float32" else 64
    return st.one_of(nice_floats(), float_specials(dtype), st.floats(width=width), nice_floats())


def int_elems(dtype, mode):
    lo, hi = INT_RANGE[dtype]
    if mode == "nice":
        return st.integers(-5, 5)
    extremes = [lo, hi, lo + 1, hi - 1, 2**31 - 1, -(2**31), 2**53 + 1, 1000003, -1]
    extremes = [v for v in extremes if lo <= v <= hi]
    return st.one_of(st.integers(-5, 5), st.sampled_from(extremes), st.integers(lo, hi), st.integers(-5, 5))


def elems(dtype, mode="nice"):
    if dtype == "bool":
        return st.booleans()
    if dtype in INTS:
        return int_elems(dtype, mode)
    return float_elems(dtype, mode)


def cast_values(values, dtype, shape):
    with np.errstate(all="ignore"):
        return np.array(values, dtype=NP_DTYPE[dtype]).reshape(shape)


# ----------------------------------------------------------------------------- shapes

SIDES = [1, 2, 3, 0, 4]


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def shapes(min_dims=0, max_dims=4, sides=SIDES, max_numel=MAX_NUMEL):
    return st.lists(st.sampled_from(sides), min_size=min_dims, max_size=max_dims).map(tuple).filter(
        lambda s: numel(s) <= max_numel
    )


@st.composite
def broadcast_pair(draw, min_dims=0, max_dims=3, invalid_ok=True):
    """Two shapes that broadcast (usually) or may not (sometimes)."""
    if invalid_ok and draw(st.integers(0, 9)) == 0:
        return draw(shapes(min_dims, max_dims)), draw(shapes(min_dims, max_dims))
    full = draw(shapes(min_dims, max_dims))

    def part():
        k = draw(st.integers(0, len(full)))
        s = list(full[len(full) - k:])
        for i in range(len(s)):
            if draw(st.integers(0, 3)) == 0:
                s[i] = 1
        return tuple(s)

    if draw(st.booleans()):
        return full, part()
    return part(), full


# ----------------------------------------------------------------------------- tensors


def _base_expr(base, dtype):
    d = "loom." + dtype
    if base.size == 0:
        return "loom.zeros(%s, dtype=%s)" % (fmt(tuple(base.shape)), d)
    return "loom.tensor(%s, dtype=%s)" % (fmt_list(base), d)


@st.composite
def views_of(draw, shape, allow_views=True):
    """(base shape, suffix source, numpy transform, tags) producing a tensor of `shape`."""
    nd = len(shape)
    kinds = ["contig"]
    if allow_views:
        kinds += ["slice", "expand"]
        if nd >= 2:
            kinds += ["transpose", "permute"]
    kind = draw(st.sampled_from(kinds))
    if kind == "contig":
        return shape, "", (lambda a: a), ()
    if kind == "transpose":
        d0, d1 = draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True))
        base = list(shape)
        base[d0], base[d1] = base[d1], base[d0]
        return tuple(base), ".transpose(%d, %d)" % (d0, d1), (lambda a: np.swapaxes(a, d0, d1)), ("noncontig",)
    if kind == "permute":
        perm = draw(st.permutations(range(nd)))
        base = tuple(shape[int(np.where(np.array(perm) == i)[0][0])] for i in range(nd))
        return base, ".permute(%s)" % ", ".join(map(str, perm)), (lambda a: np.transpose(a, perm)), ("noncontig",)
    if kind == "slice":
        base, keys, srcs = [], [], []
        for n in shape:
            step = draw(st.sampled_from([1, 2, 3]))
            start = draw(st.sampled_from([0, 1]))
            stop = start + (n - 1) * step + 1 if n > 0 else start
            extra = draw(st.sampled_from([0, 1]))
            base.append(stop + extra)
            keys.append(slice(start, stop, step))
            srcs.append("%d:%d:%d" % (start, stop, step))
        if numel(base) > 4 * MAX_NUMEL:
            return shape, "", (lambda a: a), ()
        if nd == 0:
            return shape, "", (lambda a: a), ()
        key = tuple(keys)
        return tuple(base), "[%s]" % ", ".join(srcs), (lambda a: a[key]), ("noncontig", "sliced")
    # expand: some dims (and maybe some leading dims) come from size 1
    lead = draw(st.integers(0, min(nd, 1)))
    base = [1 if draw(st.booleans()) else s for s in shape[lead:]]
    if tuple(base) == tuple(shape):
        return shape, "", (lambda a: a), ()
    target = tuple(shape)
    full_base = (1,) * lead + tuple(base)
    overlap = any(b == 1 and s > 1 for b, s in zip(full_base, target))
    tags = ("expanded", "overlap") if overlap else ("expanded",)
    return tuple(base), ".expand(%s)" % fmt(target), (lambda a: np.broadcast_to(a, target)), tags


@st.composite
def tensors(draw, dtypes=DTYPES, shape=None, min_dims=0, max_dims=4, mode=None, views=True, elements=None):
    """A T: random dtype, shape (or the given one), values and memory layout."""
    dtype = dtypes if isinstance(dtypes, str) else draw(st.sampled_from(list(dtypes)))
    if shape is None:
        shape = draw(shapes(min_dims, max_dims))
    shape = tuple(shape)
    base_shape, suffix, transform, tags = draw(views_of(shape, views))
    if mode is None:
        mode = draw(st.sampled_from(["nice", "full"]))
    el = elements if elements is not None else elems(dtype, mode)
    n = numel(base_shape)
    values = draw(st.lists(el, min_size=n, max_size=n))
    base = cast_values(values, dtype, base_shape)
    arr = np.array(transform(base), order="C", copy=True)
    on = "" if DEVICE == "cpu" else ".to(%r)" % DEVICE
    return T(_base_expr(base, dtype) + on + suffix, arr, dtype, tuple(tags) + ((DEVICE,) if on else ()))


def python_scalars(kinds=("bool", "int", "float"), mode=None):
    out = []
    if "bool" in kinds:
        out.append(st.booleans())
    if "int" in kinds:
        out.append(st.integers(-5, 5) if mode == "nice" else st.one_of(st.integers(-5, 5), st.sampled_from([2**31, -(2**31) - 1, 2**40])))
    if "float" in kinds:
        out.append(nice_floats() if mode == "nice" else st.one_of(nice_floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e-3, 1e20])))
    return st.one_of(*out)


def dims(ndim, invalid=True):
    """A dim for a tensor of `ndim` dims; 0-d tensors accept -1 and 0 as in PyTorch."""
    n = max(ndim, 1)
    valid = st.integers(-n, n - 1)
    if not invalid:
        return valid
    return st.one_of(valid, valid, valid, st.sampled_from([n, -n - 1, 7, -9]))


def sizes_for_factory():
    """Size tuples for factories: mostly small, sometimes negative or huge."""
    return st.one_of(
        shapes(0, 3),
        shapes(0, 3),
        st.lists(st.sampled_from([2, -1, -3, 2**40, 2**62, 0]), min_size=1, max_size=3).map(tuple),
    )
