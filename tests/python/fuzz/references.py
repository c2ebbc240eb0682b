"""PyTorch's type promotion, expected outcomes and the comparison of results.

An expected outcome (Expect) is one of
  VALUE   loom must return this value (shape, dtype, values; floats within tolerance)
  RAISES  loom must raise a normal exception (NumPy or PyTorch rejects the input)
  EITHER  loom may raise a normal exception or return this value (PyTorch and NumPy disagree)
  ANY     no reference: loom must not crash and must raise only normal exceptions;
          if `dtype` is set a returned tensor must have it
"""
import math

import numpy as np

from .strategies import NP_DTYPE, T

ORDER = ("bool", "int32", "int64", "float32", "float64")
CATEGORY = {"bool": 0, "int32": 1, "int64": 1, "float32": 2, "float64": 2}


def promote(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a if ORDER.index(a) >= ORDER.index(b) else b


def scalar_dtype(v):
    """The dtype PyTorch gives a Python scalar operand (wrapped number)."""
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int64"
    return "float32"  # the default dtype


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if CATEGORY[higher] == 2:
        return higher
    if higher == "bool" or CATEGORY[lower] == 2:
        return promote(higher, lower)
    return higher


def result_type(*operands):
    """torch.result_type over tensors (T) and Python scalars: dimensioned tensors (empty ones
    included) decide unless a 0-d tensor or a scalar is of a higher category."""
    dim = zero = wrapped = None
    for o in operands:
        if isinstance(o, T):
            if o.ndim > 0:
                dim = promote(dim, o.dtype)
            else:
                zero = promote(zero, o.dtype)
        elif o is not None:
            wrapped = promote(wrapped, scalar_dtype(o))
    return _combine(dim, _combine(zero, wrapped))


def to_float(dtype):
    return dtype if CATEGORY[dtype] == 2 else "float32"


def can_cast(frm, to):
    """torch.can_cast: no narrowing across categories (float->int, int->bool)."""
    return CATEGORY[frm] <= CATEGORY[to]


def arr_of(o, dtype):
    """The NumPy value of an operand (T or scalar) cast to `dtype`."""
    with np.errstate(all="ignore"):
        if isinstance(o, T):
            return o.arr.astype(NP_DTYPE[dtype])
        if dtype in ("int32", "int64") and isinstance(o, float):
            return np.array(int(o) if math.isfinite(o) else 0).astype(NP_DTYPE[dtype])
        if dtype in ("int32", "int64"):
            return np.array(o, dtype=object).astype(np.int64).astype(NP_DTYPE[dtype]) if abs(int(o)) < 2**63 else np.array(0, NP_DTYPE[dtype])
        return np.array(o).astype(NP_DTYPE[dtype])


class Expect:
    VALUE, RAISES, EITHER, ANY = "value", "raises", "either", "any"

    def __init__(self, kind, value=None, dtype=None, rtol=None, atol=None, check=None, after=None, why="", ignore=None):
        self.kind = kind
        self.ignore = ignore  # boolean mask of result positions not compared (limits PyTorch leaves open)
        self.value = value
        self.dtype = dtype
        self.rtol = rtol
        self.atol = atol
        self.check = check  # callable(result, ns) -> error string or None, instead of `value`
        self.after = after or {}  # variable name -> (array, dtype) it must hold after the call
        self.why = why

    def describe(self):
        if self.kind == self.RAISES:
            return "raise a normal exception (%s)" % (self.why or "invalid input")
        if self.kind == self.ANY:
            return "no crash" + (", dtype %s" % self.dtype if self.dtype else "")
        v = describe_value(self.value)
        return ("return " if self.kind == self.VALUE else "raise or return ") + v


def value(arr, dtype, **kw):
    with np.errstate(all="ignore"):
        if isinstance(arr, (tuple, list)):
            return Expect(Expect.VALUE, value=type(arr)(np.asarray(a) for a in arr), dtype=dtype, **kw)
        return Expect(Expect.VALUE, value=np.asarray(arr).astype(NP_DTYPE[dtype]), dtype=dtype, **kw)


def raises(why=""):
    return Expect(Expect.RAISES, why=why)


def either(e, why=""):
    if e.kind == Expect.VALUE:
        e.kind = Expect.EITHER
    e.why = why
    return e


def anything(dtype=None, why=""):
    return Expect(Expect.ANY, dtype=dtype, why=why)


NUMPY_ERRORS = (ValueError, IndexError, TypeError, ZeroDivisionError, OverflowError)


def ref(fn, dtype, **kw):
    """VALUE of fn() cast to dtype, or RAISES where NumPy raises."""
    try:
        with np.errstate(all="ignore"):
            out = fn()
    except NUMPY_ERRORS as e:
        return raises("NumPy raises %s: %s" % (type(e).__name__, e))
    return value(out, dtype, **kw)


def describe_value(v):
    if isinstance(v, np.ndarray):
        with np.printoptions(threshold=20, precision=6):
            return "%s %s shape %s" % (v.dtype, np.array2string(v, separator=", "), tuple(v.shape))
    if isinstance(v, (tuple, list)):
        return "%s of %d: (%s)" % (type(v).__name__, len(v), "; ".join(describe_value(x) for x in v))
    return repr(v)


# ----------------------------------------------------------------------------- comparison

DEFAULT_TOL = {"float32": (1e-5, 1e-6), "float64": (1e-9, 1e-12)}
LARGE = {"float32": 1e38, "float64": 1e307}


def loom_dtype_name(t):
    return str(t.dtype).replace("loom.", "")


def close(got, exp, dtype, rtol=None, atol=None, ignore=None):
    """None when `got` (NumPy) equals `exp`, else a short description of the difference."""
    if got.shape != exp.shape:
        return "shape %s, expected %s" % (tuple(got.shape), tuple(exp.shape))
    if ignore is not None:
        got = np.where(ignore, exp, got)
    if dtype not in DEFAULT_TOL:
        bad = got != exp
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return "value %r at %s, expected %r" % (got[i].item(), i, exp[i].item())
        return None
    r0, a0 = DEFAULT_TOL[dtype]
    rtol = r0 if rtol is None else rtol
    atol = a0 if atol is None else atol
    g = got.astype(np.float64)
    e = exp.astype(np.float64)
    gn, en = np.isnan(g), np.isnan(e)
    with np.errstate(all="ignore"):
        ok = (gn & en) | (g == e) | (np.abs(g - e) <= atol + rtol * np.abs(e))
        big = LARGE[dtype]
        ok |= (~gn & ~en & (np.abs(g) >= big) & (np.abs(e) >= big) & (np.sign(g) == np.sign(e)))
    if not ok.all():
        i = tuple(np.argwhere(~ok)[0])
        return "value %r at %s, expected %r (rtol %g, atol %g)" % (g[i], i, e[i], rtol, atol)
    return None


def compare(result, expected, dtype, rtol=None, atol=None, Tensor=None, ignore=None):
    """None when loom's `result` matches the expected value, else what differs."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(result, (tuple, list)):
            return "returned %s, expected a sequence of %d" % (type(result).__name__, len(expected))
        if len(result) != len(expected):
            return "returned %d items, expected %d" % (len(result), len(expected))
        dts = dtype if isinstance(dtype, (tuple, list)) else [dtype] * len(expected)
        for k, (r, e, d) in enumerate(zip(result, expected, dts)):
            err = compare(r, e, d, rtol, atol, Tensor)
            if err:
                return "item %d: %s" % (k, err)
        return None
    if isinstance(expected, np.ndarray):
        if not isinstance(result, Tensor):
            return "returned %s, expected a Tensor" % type(result).__name__
        got_dtype = loom_dtype_name(result)
        if got_dtype != dtype:
            return "dtype %s, expected %s" % (got_dtype, dtype)
        if tuple(result.shape) != expected.shape:
            return "shape %s, expected %s" % (tuple(result.shape), expected.shape)
        got = result.detach().cpu().contiguous().numpy()
        return close(got, expected, dtype, rtol, atol, ignore)
    # a Python scalar
    if type(result) is not type(expected):
        return "returned %s %r, expected %s %r" % (type(result).__name__, result, type(expected).__name__, expected)
    if isinstance(expected, float):
        if math.isnan(expected) and math.isnan(result):
            return None
        if not (result == expected or abs(result - expected) <= 1e-6 * max(1.0, abs(expected))):
            return "returned %r, expected %r" % (result, expected)
        return None
    if result != expected:
        return "returned %r, expected %r" % (result, expected)
    return None
