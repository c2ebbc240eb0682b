"""The op table: every fuzzed public API name, its argument strategy and its reference.

Each entry maps a public name (``Tensor.add``, ``loom.add``, ``Tensor.__add__``,
``F.conv2d``) to a Hypothesis strategy of Examples; the Example carries the expected
outcome computed from NumPy (references.Expect). Names without a reference get the
generic "no crash, normal exception" strategy (ops_generic.py). Families live in
ops_*.py; this module collects them.
"""
import math
import os

import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example

OPS = {}  # name -> OpSpec


class OpSpec:
    def __init__(self, name, strategy, has_ref=True, family=""):
        self.name = name
        self.strategy = strategy
        self.has_ref = has_ref
        self.family = family


def register(name, strategy, has_ref=True, family=""):
    if name in OPS:
        raise ValueError("op %s registered twice" % name)
    OPS[name] = OpSpec(name, strategy, has_ref, family)


def f64(a):
    return np.asarray(a, dtype=np.float64)


def in_place_expect(x, res_value, res_dtype, why_shape=None, overlap_ok=False):
    """Expectation of an in-place op on T `x` whose out-of-place result would be (value, dtype)."""
    if "overlap" in x.tags and not overlap_ok:
        return R.raises("in-place write into an expanded tensor (internal overlap)")
    if not R.can_cast(res_dtype, x.dtype):
        return R.raises("result type %s can't be cast to the in-place tensor's %s" % (res_dtype, x.dtype))
    if why_shape is None and np.shape(res_value) != x.shape:
        return R.raises("in-place result shape %s differs from the tensor's %s" % (np.shape(res_value), x.shape))
    with np.errstate(all="ignore"):
        v = np.asarray(res_value).astype(S.NP_DTYPE[x.dtype])
    e = R.value(v, x.dtype)
    e.after = {"x": (v, x.dtype)}
    return e


# ============================================================================ unary

def _sigmoid(a):
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


def _gelu(a):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * a * (1.0 + erf(a / math.sqrt(2.0))) if a.size else a


def _gelu_tanh(a):
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a ** 3)))


# name: (numpy function on float64, rule) with rule "same" (dtype kept), "float" (ints -> float32),
# "bool" (result bool), "floatonly" (PyTorch rejects ints; loom may promote), "bitwise" (bool and ints
# only, dtype kept; floats raise)
UNARY = {
    "neg": (lambda a: -a, "same"),
    "negative": (lambda a: -a, "same"),
    "abs": (np.abs, "same"),
    "absolute": (np.abs, "same"),
    "sign": (np.sign, "same"),
    "square": (lambda a: a * a, "same"),
    "relu": (lambda a: np.where(a > 0, a, np.where(np.isnan(a), a, 0.0)), "same"),
    "exp": (np.exp, "float"),
    "log": (np.log, "float"),
    "sqrt": (np.sqrt, "float"),
    "rsqrt": (lambda a: 1.0 / np.sqrt(a), "float"),
    "reciprocal": (lambda a: 1.0 / a, "float"),
    "sin": (np.sin, "float"),
    "cos": (np.cos, "float"),
    "tanh": (np.tanh, "float"),
    "sigmoid": (_sigmoid, "float"),
    "silu": (lambda a: a * _sigmoid(a), "floatonly"),
    "gelu": (_gelu, "floatonly"),
    "logical_not": (lambda a: a == 0, "bool"),
    "bitwise_not": (np.invert, "bitwise"),
    "log1p": (np.log1p, "float"),
    "expm1": (np.expm1, "float"),
    "log2": (np.log2, "float"),
    "log10": (np.log10, "float"),
    "exp2": (np.exp2, "float"),
    "tan": (np.tan, "float"),
    "asin": (np.arcsin, "float"),
    "acos": (np.arccos, "float"),
    "atan": (np.arctan, "float"),
    "sinh": (np.sinh, "float"),
    "cosh": (np.cosh, "float"),
    "erf": (np.vectorize(math.erf, otypes=[np.float64]), "float"),
    "erfc": (np.vectorize(math.erfc, otypes=[np.float64]), "float"),
    # Integers are integral: the identity on them (PyTorch returns a copy).
    "floor": (lambda a: a if a.dtype.kind in "iu" else np.floor(a), "same"),
    "ceil": (lambda a: a if a.dtype.kind in "iu" else np.ceil(a), "same"),
    "round": (lambda a: a if a.dtype.kind in "iu" else np.round(a), "same"),
    "trunc": (lambda a: a if a.dtype.kind in "iu" else np.trunc(a), "same"),
}
SMOOTH_AT_INF = {"silu", "gelu", "sigmoid", "tanh"}


def unary_expect(name, x, fn=None, rule=None):
    fn0, rule0 = UNARY.get(name, (None, None))
    fn = fn or fn0
    rule = rule or rule0
    if rule == "bool":
        return R.value(fn(x.arr), "bool")
    if rule == "bitwise":
        if x.dtype in S.FLOATS:
            return R.raises("%s on a floating tensor" % name)
        return R.value(fn(x.arr), x.dtype)
    if x.dtype == "bool":
        if name in ("neg", "negative"):
            return R.raises("negation of a bool tensor")
        if rule == "same":
            return R.anything()
    if rule == "same":
        dt = x.dtype
        if dt in S.INTS:
            with np.errstate(all="ignore"):
                if name == "relu":
                    return R.value(np.maximum(x.arr, 0), dt)
                if name == "sign":
                    return R.value(np.sign(x.arr), dt)
                return R.value(fn(x.arr), dt)  # wraps like C++ (abs(INT_MIN) == INT_MIN)
    else:
        dt = R.to_float(x.dtype)
    with np.errstate(all="ignore"):
        out = fn(f64(x.arr.astype(S.NP_DTYPE[dt])))
    if name == "sign":
        out = np.where(np.isnan(out), 0.0, out)  # PyTorch's sign(NaN) = 0 (NumPy's is NaN)
    e = R.value(out, dt)
    if name in SMOOTH_AT_INF | {"relu"}:
        e.ignore = np.isinf(f64(x.arr))
    if rule == "floatonly" and x.dtype not in S.FLOATS:
        return R.either(e, "PyTorch rejects integer input")
    return e


@st.composite
def unary_examples(draw, name, form):
    x = draw(S.tensors())
    e = unary_expect(name, x)
    if form == "method":
        call = "r = x.%s()" % name
    elif form == "function":
        call = "r = loom.%s(x)" % name
    elif form == "F":
        call = "r = F.%s(x)" % name
    elif form == "inplace":
        call = "r = x.%s_()" % name
        if e.kind in (R.Expect.VALUE, R.Expect.EITHER):
            ign = e.ignore
            e = in_place_expect(x, e.value, e.dtype, why_shape=True)
            e.ignore = ign
        elif e.kind == R.Expect.ANY and "overlap" in x.tags:
            e = R.raises("in-place write into an expanded tensor")
    elif form == "gelu_tanh":
        call = "r = x.gelu(approximate='tanh')"
        dt = R.to_float(x.dtype)
        with np.errstate(all="ignore"):
            e = R.value(_gelu_tanh(f64(x.arr.astype(S.NP_DTYPE[dt]))), dt, ignore=np.isinf(f64(x.arr)))
        if x.dtype not in S.FLOATS:
            e = R.either(e, "PyTorch rejects integer input")
    opname = {"method": "Tensor.%s", "function": "loom.%s", "F": "F.%s", "inplace": "Tensor.%s_",
              "gelu_tanh": "Tensor.%s(approximate='tanh')"}[form] % name
    return Example(opname, {"x": x}, call, e)


def _reg_unary():
    for name in UNARY:
        register("Tensor." + name, unary_examples(name, "method"), family="unary")
        register("loom." + name, unary_examples(name, "function"), family="unary")
    import loom
    for name in sorted(set(UNARY) | {"bitwise_not"}):
        if hasattr(loom.Tensor, name + "_"):
            register("Tensor.%s_" % name, unary_examples(name, "inplace"), family="unary")
    for name in ("relu", "sigmoid", "tanh", "silu", "gelu"):
        register("F." + name, unary_examples(name, "F"), family="unary")
    register("Tensor.gelu(approximate='tanh')", unary_examples("gelu", "gelu_tanh"), family="unary")


@st.composite
def operator_unary(draw, op):
    x = draw(S.tensors())
    name = op
    op = "Tensor." + op
    if name == "__neg__":
        return Example(op, {"x": x}, "r = -x", unary_expect("neg", x))
    if name == "__pos__":
        return Example(op, {"x": x}, "r = +x", R.value(x.arr, x.dtype))
    if name == "__abs__":
        return Example(op, {"x": x}, "r = abs(x)", unary_expect("abs", x))
    # __invert__: logical not on bool, bitwise not on ints, rejected on floats
    if x.dtype == "bool":
        e = R.value(~x.arr, "bool")
    elif x.dtype in S.INTS:
        e = R.value(np.invert(x.arr), x.dtype)
    else:
        e = R.raises("~ on a floating tensor")
    return Example(op, {"x": x}, "r = ~x", e)


def _reg_operator_unary():
    for op in ("__neg__", "__pos__", "__abs__", "__invert__"):
        register("Tensor." + op, operator_unary(op), family="unary")


# ============================================================================ binary

def _np_binary(name, a, b, dt):
    """NumPy value of a binary op with both operands already cast to dtype dt."""
    if dt in S.FLOATS:
        a, b = f64(a), f64(b)
    with np.errstate(all="ignore"):
        if name in ("add", "__add__", "__radd__"):
            return np.logical_or(a, b) if dt == "bool" else a + b
        if name in ("sub", "subtract", "__sub__", "__rsub__"):
            return a - b
        if name in ("mul", "multiply", "__mul__", "__rmul__"):
            return np.logical_and(a, b) if dt == "bool" else a * b
        if name in ("div", "divide", "true_divide", "__truediv__", "__rtruediv__"):
            return f64(a) / f64(b)
        if name in ("pow", "__pow__", "__rpow__"):
            r = np.power(a, b)
            if dt in S.FLOATS:
                # C's pow (PyTorch's too) gives pow(-inf, y) = +inf for y > 0 and +0 for y < 0 when y is
                # not an odd integer; NumPy gives nan there.
                odd = np.equal(np.mod(b, 2), 1)
                fix = np.isneginf(a) & ~odd & ~np.isnan(b) & (b != 0)
                r = np.where(fix, np.where(b > 0, np.inf, 0.0), r)
            return r
        if name == "floor_divide":  # NumPy's // and % are Python's, as PyTorch's
            return np.floor_divide(a, b)
        if name == "remainder":
            return np.remainder(a, b)
        if name == "fmod":
            return np.fmod(a, b)
        if name in ("maximum",):
            return np.maximum(a, b)
        if name in ("minimum",):
            return np.minimum(a, b)
        if name in ("__and__",):
            return np.bitwise_and(a, b)
        if name in ("__or__",):
            return np.bitwise_or(a, b)
        if name in ("__xor__",):
            return np.bitwise_xor(a, b)
        cmp = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
               "ge": np.greater_equal}
        key = name.strip("_")
        return cmp[key](a, b)


COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
BITWISE = ("bitwise_and", "bitwise_or", "bitwise_xor")
ROUNDED = ("floor_divide", "remainder", "fmod")
BINARY = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "maximum", "minimum") + \
    COMPARE + ROUNDED


def binary_expect(name, x, y, alpha=None):
    """Expectation of name(x, y) where x, y are T or Python scalars (first operand first)."""
    base = name.strip("_").replace("r", "", 1) if name.startswith("__r") else name.strip("_")
    base = {"subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div", "truediv": "div",
            "negative": "neg", "bitwise_and": "and", "bitwise_or": "or", "bitwise_xor": "xor",
            "floordiv": "floor_divide", "mod": "remainder"}.get(base, base)
    try:
        shape = np.broadcast_shapes(np.shape(x.arr) if isinstance(x, S.T) else (), np.shape(y.arr) if isinstance(y, S.T) else ())
    except ValueError as e:
        return R.raises("shapes do not broadcast: %s" % e)
    for v in (x, y):
        if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**63:
            return R.raises("Python int out of int64 range")
    dt = R.result_type(x, y)
    if base in ("maximum", "minimum") and not (isinstance(x, S.T) and isinstance(y, S.T)):
        e = R.anything()  # PyTorch takes tensors only; a scalar is allowed to raise TypeError
        return e
    if base == "sub" and "bool" in (_dt(x), _dt(y)):
        return R.raises("subtraction with a bool tensor")
    if base in ("and", "or", "xor") and R.CATEGORY[dt] == 2:
        return R.raises("bitwise op on floating tensors")
    if base == "div":
        dt = R.to_float(dt)
    if base == "pow" and dt == "bool":
        return R.anything()
    out_dt = "bool" if base in COMPARE else dt
    scalar_out_of_range = any(
        isinstance(v, (int, float)) and not isinstance(v, bool) and dt in S.INTS and (not math.isfinite(v) or not S.INT_RANGE[dt][0] <= v <= S.INT_RANGE[dt][1])
        for v in (x, y))
    if scalar_out_of_range:
        return R.anything(dtype=out_dt, why="a Python scalar outside the tensor dtype's range")
    a, b = R.arr_of(x, dt), R.arr_of(y, dt)
    if base in ROUNDED:
        if dt == "bool":
            return R.raises("%s of bool tensors" % base)
        if dt in S.INTS and (np.asarray(b) == 0).any():
            return R.raises("integer division by zero (ZeroDivisionError)")
    negative_powers = None
    if base == "pow" and dt in S.INTS and (np.asarray(b) < 0).any():
        if not isinstance(y, S.T):
            return R.raises("integers to negative integer powers")
        # A tensor of exponents computes, as PyTorch's: x^-n is the truncated 1 / x^n (0 unless x is +-1).
        negative_powers = np.asarray(b) < 0
        b = np.where(negative_powers, 0, b).astype(np.asarray(b).dtype)
    if alpha is not None:
        if dt in S.INTS and isinstance(alpha, float):
            return R.raises("float alpha with integer inputs")
        if dt == "bool":
            return R.anything()
        with np.errstate(all="ignore"):
            b = (f64(b) * alpha) if dt in S.FLOATS else (b * np.asarray(alpha).astype(b.dtype))
    with np.errstate(all="ignore"):
        out = _np_binary("__%s__" % base if base in ("and", "or", "xor") else base, a, b, dt)
    if negative_powers is not None:
        aa = np.broadcast_to(np.asarray(a), shape)
        odd = np.broadcast_to(np.asarray(y.arr) % 2 != 0, shape)
        inverse = np.where(aa == 1, 1, np.where(aa == -1, np.where(odd, -1, 1), 0))
        out = np.where(np.broadcast_to(negative_powers, shape), inverse, np.broadcast_to(out, shape))
        out = out.astype(S.NP_DTYPE[dt])
    e = R.value(np.broadcast_to(out, shape), out_dt)
    if scalar_out_of_range:
        return R.anything(dtype=out_dt, why="a Python scalar outside the tensor dtype's range")
    return e


def _dt(v):
    if isinstance(v, S.T):
        return v.dtype
    return R.scalar_dtype(v) if v is not None else None


@st.composite
def operand_pair(draw, dtypes=S.DTYPES, scalar=True):
    """(x, y): x a tensor; y a tensor (broadcastable or not, maybe 0-d) or a Python scalar."""
    kind = draw(st.sampled_from(["tensor", "tensor", "scalar", "zerodim"] if scalar else ["tensor", "tensor", "zerodim"]))
    if kind == "scalar":
        return draw(S.tensors(dtypes)), draw(S.python_scalars())
    if kind == "zerodim":
        x = draw(S.tensors(dtypes))
        y = draw(S.tensors(dtypes, shape=()))
        return (x, y) if draw(st.booleans()) else (y, x)
    sx, sy = draw(S.broadcast_pair())
    return draw(S.tensors(dtypes, shape=sx)), draw(S.tensors(dtypes, shape=sy))


SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "and": "&", "or": "|", "xor": "^", "eq": "==", "ne": "!=",
          "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "floordiv": "//", "mod": "%"}


@st.composite
def binary_examples(draw, name, form):
    x, y = draw(operand_pair())
    inputs = {"x": x}
    ysrc = "y"
    if isinstance(y, S.T):
        inputs["y"] = y
    else:
        ysrc = S.fmt(y)
    alpha = None
    if form == "method":
        if name in ("add", "sub") and draw(st.integers(0, 3)) == 0:
            alpha = draw(st.sampled_from([2, -1, 0.5, 0]))
            call = "r = x.%s(%s, alpha=%s)" % (name, ysrc, S.fmt(alpha))
        else:
            call = "r = x.%s(%s)" % (name, ysrc)
        e = binary_expect(name, x, y, alpha)
    elif form == "function":
        call = "r = loom.%s(x, %s)" % (name, ysrc)
        e = binary_expect(name, x, y)
    elif form == "operator":
        call = "r = x %s %s" % (SYMBOL[name], ysrc if ysrc == "y" else "(%s)" % ysrc)
        e = binary_expect(name, x, y)
    elif form == "reflected":  # scalar OP tensor
        s = draw(S.python_scalars())
        call = "r = (%s) %s x" % (S.fmt(s), SYMBOL[name])
        inputs = {"x": x}
        e = binary_expect(name, s, x)
    else:  # in-place: method_ or augmented assignment
        call = ("r = x.%s_(%s)" % (name, ysrc)) if form == "inplace" else ("x %s= (%s)\nr = x" % (SYMBOL[name], ysrc))
        e = binary_expect(name, x, y)
        if e.kind in (R.Expect.VALUE, R.Expect.EITHER):
            kind = e.kind
            e = in_place_expect(x, e.value, e.dtype)
            if kind == R.Expect.EITHER and e.kind == R.Expect.VALUE:
                e = R.either(e)
        elif e.kind == R.Expect.ANY and "overlap" in x.tags:
            e = R.raises("in-place write into an expanded tensor")
    opname = {"method": "Tensor.%s", "function": "loom.%s", "operator": "Tensor.__%s__", "reflected": "Tensor.__r%s__",
              "inplace": "Tensor.%s_", "augmented": "Tensor.__i%s__"}[form] % (
        {"div": "truediv"}.get(name, name) if form in ("operator", "reflected", "augmented") else name)
    return Example(opname, inputs, call, e, tags={"alpha"} if alpha is not None else ())


def _reg_binary():
    for name in BINARY:
        register("Tensor." + name, binary_examples(name, "method"), family="binary")
        register("loom." + name, binary_examples(name, "function"), family="binary")
    for name in ("add", "sub", "mul", "div", "pow", "and", "or", "xor", "floordiv", "mod") + COMPARE:
        register("Tensor.__%s__" % {"div": "truediv"}.get(name, name), binary_examples(name, "operator"), family="binary")
    for name in ("add", "sub", "mul", "div", "pow", "floordiv", "mod"):
        register("Tensor.__r%s__" % {"div": "truediv"}.get(name, name), binary_examples(name, "reflected"), family="binary")
        register("Tensor.__i%s__" % {"div": "truediv"}.get(name, name), binary_examples(name, "augmented"), family="binary")
    for name in ("add", "sub", "mul", "div", "pow") + ROUNDED:
        register("Tensor.%s_" % name, binary_examples(name, "inplace"), family="binary")
    for name in ("and", "or", "xor"):
        register("Tensor.__r%s__" % name, binary_examples(name, "reflected"), family="binary")
        register("Tensor.__i%s__" % name, binary_examples(name, "augmented"), family="binary")
    for name in BITWISE:
        register("Tensor." + name, binary_examples(name, "method"), family="binary")
        register("loom." + name, binary_examples(name, "function"), family="binary")
        register("Tensor.%s_" % name, binary_examples(name, "inplace"), family="binary")


# ---- lerp, addcmul, addcdiv: three broadcast operands (TernaryOp kernels) ----

@st.composite
def ternary_examples(draw, name, form):
    s1, s2 = draw(S.broadcast_pair(invalid_ok=True))
    s3 = draw(st.sampled_from([s1, s2, (), (1,)]))
    odd = draw(st.integers(0, 7)) == 0  # sometimes integer or bool operands
    dt = draw(st.sampled_from(S.DTYPES)) if odd else draw(st.sampled_from(S.FLOATS))
    x = draw(S.tensors((dt,), shape=s1))
    y = draw(S.tensors((dt,), shape=s2))
    inputs = {"x": x, "y": y}
    number_weight = name == "lerp" and draw(st.booleans())
    v = draw(st.sampled_from([1, 2, -1, 0, 0.5, -0.25])) if name != "lerp" else None
    if number_weight:
        w = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 2.0]))
        third = S.fmt(w)
    else:
        z = draw(S.tensors((dt,), shape=s3))
        inputs["z"] = z
        third = "z"
    if name == "lerp":
        call = ("r = x.lerp(y, %s)" if form == "method" else "r = loom.lerp(x, y, %s)") % third
    else:
        call = ("r = x.%s(y, z, value=%s)" if form == "method" else "r = loom.%s(x, y, z, value=%s)") % (name, S.fmt(v))
    opname = ("Tensor.%s" if form == "method" else "loom.%s") % name
    try:
        shape = np.broadcast_shapes(x.shape, y.shape, *([] if number_weight else [inputs["z"].shape]))
    except ValueError:
        return Example(opname, inputs, call, R.raises("shapes do not broadcast"))
    if dt == "bool" or (dt in S.INTS and (name != "addcmul" or isinstance(v, float))):
        return Example(opname, inputs, call, R.raises("%s of %s tensors" % (name, dt)))
    def rnd(t):  # the intermediate rounded to the dtype, as the kernel's arithmetic (overflow included)
        return t if dt not in S.FLOATS else np.asarray(t).astype(S.NP_DTYPE[dt]).astype(np.float64)

    with np.errstate(all="ignore"):
        a, b = f64(x.arr), f64(y.arr)
        c = np.float64(w) if number_weight else f64(inputs["z"].arr)
        if name == "lerp":
            d = rnd(b - a)
            out = np.where(np.abs(c) < 0.5, a + rnd(c * d), b - rnd(d * rnd(1 - c)))
            scale = np.maximum(np.abs(a), np.abs(b)) * np.maximum(1, np.abs(c))
        elif name == "addcmul":
            p = rnd(rnd(v * b) * c)
            out = a + p
            scale = np.abs(a) + np.abs(p)
        else:
            q = rnd(v * rnd(b / c))
            out = a + q
            scale = np.abs(a) + np.abs(q)
    if dt in S.INTS:
        info = np.iinfo(S.NP_DTYPE[dt])
        if np.any(np.abs(out) > info.max):  # wraps in C++
            return Example(opname, inputs, call, R.anything(dtype=dt))
        return Example(opname, inputs, call, R.value(np.broadcast_to(out, shape), dt))
    # each operation rounds in the dtype: a few ulp of the largest term
    finite = scale[np.isfinite(scale)] if np.ndim(scale) else np.array([scale])[np.isfinite([scale])]
    eps = 4e-7 if dt == "float32" else 1e-15
    atol = eps * (1 + (finite.max() if finite.size else 0))
    return Example(opname, inputs, call, R.value(np.broadcast_to(out, shape), dt, atol=atol))


def _reg_ternary():
    for name in ("lerp", "addcmul", "addcdiv"):
        register("Tensor." + name, ternary_examples(name, "method"), family="binary")
        register("loom." + name, ternary_examples(name, "function"), family="binary")


_LOADED = []


def all_ops():
    """Registers every family once and returns the table."""
    if not _LOADED:
        _LOADED.append(True)
        _reg_unary()
        _reg_operator_unary()
        _reg_binary()
        _reg_ternary()
        from . import ops_reduce, ops_shape, ops_index, ops_factory, ops_nn, ops_sort, ops_grad, ops_generic  # noqa: F401

        for mod in (ops_reduce, ops_shape, ops_index, ops_factory, ops_nn, ops_sort, ops_grad):
            mod.register_all()
        ops_generic.register_all()  # last: covers public names no family claimed
        if os.environ.get("LOOM_FUZZ_SELFTEST"):
            _reg_selftest()
    return OPS


def _reg_selftest():
    """Ops that crash and hang on purpose: the runner's isolation is tested with them."""
    crash = st.just(Example("selftest.crash", {}, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\nr = None", R.anything()))
    hang = st.just(Example("selftest.hang", {}, "import time\ntime.sleep(3600)\nr = None", R.anything()))
    register("selftest.crash", crash, has_ref=False, family="selftest")
    register("selftest.hang", hang, has_ref=False, family="selftest")
