"""Gradients (names ``grad.<op>``): loom's backward against central differences.

Each example (and, under ``gradgrad.<op>``, its second derivatives by gradgradcheck) builds float64 leaves (contiguous, requires_grad), applies a random view inside the
function (transpose, permute, slices with steps, expand, or none), calls one differentiable op with
random valid arguments (shapes with zero-size and size-1 dims, broadcasting, dims, keepdim, kernel
parameters) and runs ``loom.autograd.gradcheck``. The property: the analytical Jacobian (one backward
per output element) equals the numerical one. Values lie on a grid offset from the kinks of the ops
(integers, zero, ties: every value of every input is distinct), so finite differences are valid; an
example whose forward is not finite checks nothing. The ops: every pointwise op and reduction of the
registry (core/ops.toml) with its domain, and a list of the others with their own arguments.
"""
import os
import tomllib

import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import register

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NO_SECOND = {"logical_not"}  # a bool output: its gradient is no function of the input
GRID = 64  # values lo + (k + offset) / GRID: never an integer, never equal across inputs
OFFSETS = (0.37, 0.71, 0.13, 0.53, 0.89)


class GradExpect(R.Expect):
    def __init__(self, second=False):
        super().__init__(R.Expect.VALUE, check=_check_grad)
        self.second = second

    def describe(self):
        if self.second:
            return "pass gradgradcheck (the backward's own gradients = central differences)"
        return "pass gradcheck (analytical Jacobian = central differences)"


def _finite(y, loom):
    outs = y if isinstance(y, (tuple, list)) else (y,)
    for o in outs:
        if isinstance(o, loom.Tensor) and o.is_floating_point() and not np.isfinite(o.detach().numpy()).all():
            return False
    return True


def _check_grad(r, ns):
    loom = ns["loom"]
    if not _finite(ns.get("y"), loom):
        return None  # a NaN or inf output: nothing to compare
    if r is True:
        return None
    if isinstance(r, str) and r.startswith("not supported: ") and ("double backward" in r or "derivative" in r):
        return None
    try:
        ns["check"](ns["f"], ns["args"])
        detail = "gradcheck returned %r" % (r,)
    except Exception as e:  # the mismatch, with the Jacobians
        detail = str(e)
    return "gradient mismatch: " + " ".join(detail.split())[:600]


def _registry():
    with open(os.path.join(REPO, "core", "ops.toml"), "rb") as f:
        return [op for op in tomllib.load(f)["op"] if "name" in op and op.get("gradcheck", True) is not False]


@st.composite
def leaf(draw, shape, lo=-2.0, hi=2.0, which=0, views=True):
    """(name-less source of a float64 leaf, view suffix) whose viewed value has `shape`; distinct values
    on the grid of input `which`."""
    base, suffix, _, _ = draw(S.views_of(tuple(shape), views))
    n = S.numel(base)
    span = max(int((hi - lo) * GRID), n)
    ks = draw(st.lists(st.integers(0, span - 1), min_size=n, max_size=n, unique=True))
    off = OFFSETS[which % len(OFFSETS)]
    vals = np.array([lo + (k + off) * (hi - lo) / span for k in ks], dtype=np.float64).reshape(base)
    if n == 0:
        src = "loom.zeros(%s, dtype=loom.float64, requires_grad=True)" % S.fmt(tuple(base))
    else:
        src = "loom.tensor(%s, dtype=loom.float64, requires_grad=True)" % S.fmt_list(vals)
    return src, suffix


def example(op, leaves, body, extra=()):
    """leaves: [(source, suffix)]; body: the function's expression with {0}, {1}... for the viewed leaves."""
    names = ["a%d" % i for i in range(len(leaves))]
    inputs = {n: src for n, (src, _) in zip(names, leaves)}
    viewed = [n + suffix for n, (_, suffix) in zip(names, leaves)]
    lines = list(extra) + [
        "f = lambda %s: %s" % (", ".join(names), body.format(*viewed)),
        "args = (%s%s)" % (", ".join(names), "," if len(names) == 1 else ""),
        "y = f(*args)",
        "check = loom.autograd.gradcheck",
        "r = check(f, args, raise_exception=False)",
    ]
    return Example(op, inputs, "\n".join(lines), GradExpect(), tags=("grad",))


def _second(ex):
    """The example's second derivatives: gradgradcheck (the backward taken with create_graph, then checked)."""
    op = "gradgrad." + ex.op.split(".", 1)[1]
    call = ex.call.replace("check = loom.autograd.gradcheck", "check = loom.autograd.gradgradcheck")
    # an op that says its double backward is not supported (NotImplementedError naming it) passes
    call = call.replace("r = check(f, args, raise_exception=False)",
                        "try:\n    r = check(f, args, raise_exception=False)\n"
                        "except NotImplementedError as e:\n    r = 'not supported: %s' % e")
    return Example(op, ex.inputs, call, GradExpect(second=True), tags=("grad",))


def _reg(name, strategy):
    register("grad." + name, strategy, family="grad")
    if name not in NO_SECOND:
        register("gradgrad." + name, strategy.map(_second), family="grad")


# ---------------------------------------------------------------------------------------- pointwise

def _domain(op, key="domain"):
    d = op.get(key) or op.get("domain") or [-2, 2]
    return float(d[0]), float(d[1])


def _unary(op):
    lo, hi = _domain(op)
    name = op["name"]

    @st.composite
    def strat(draw):
        shape = draw(S.shapes(0, 3))
        body = "{0}.%s()" % name
        if name == "gelu" and draw(st.booleans()):
            body = "{0}.gelu(approximate='tanh')"
        return example("grad." + name, [draw(leaf(shape, lo, hi))], body)

    return strat()


def _binary(op):
    lo, hi = _domain(op)
    lo_b, hi_b = _domain(op, "domain_b")
    name = op["name"]
    fn = "loom.%s({0}, {1})" % name if op.get("api") == "function" else "{0}.%s({1})" % name
    if name == "prelu":  # the kernel itself, which broadcasts; loom.prelu puts a channel weight on dim 1
        fn = "loom._composite_math._KERNELS['prelu']({0}, {1})"
    alpha = "alpha" in op["signature"]

    @st.composite
    def strat(draw):
        sa, sb = draw(S.broadcast_pair(0, 3, invalid_ok=False))
        body = fn
        if alpha and draw(st.booleans()):
            body = fn[:-1] + ", alpha=%s)" % draw(st.sampled_from(["2", "-0.5", "3.25"]))
        if name in ("div", "floor_divide", "remainder", "fmod"):  # keep the divisor away from 0
            lo_b2, hi_b2 = (0.5, hi_b) if draw(st.booleans()) else (-hi_b, -0.5)
        else:
            lo_b2, hi_b2 = lo_b, hi_b
        return example("grad." + name, [draw(leaf(sa, lo, hi, 0)), draw(leaf(sb, lo_b2, hi_b2, 1))], body)

    return strat()


@st.composite
def _dim_list(draw, ndim, allow_empty=True):
    if ndim == 0:
        return draw(st.sampled_from([[], [0], [-1]])) if allow_empty else [draw(st.sampled_from([0, -1]))]
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=0 if allow_empty else 1, max_size=ndim, unique=True))
    return [d - ndim if draw(st.booleans()) else d for d in dims]


def _reduce(op):
    lo, hi = _domain(op)
    name = op["name"]
    needs_dim = "int[] dim," in op["signature"]

    @st.composite
    def strat(draw):
        shape = draw(S.shapes(0, 3))
        dims = draw(_dim_list(len(shape), allow_empty=not needs_dim))
        keep = draw(st.booleans())
        if name in ("amax", "amin") and S.numel(shape) == 0:
            shape = tuple(max(s, 1) for s in shape)
        args = []
        if dims or needs_dim or draw(st.booleans()):
            args.append(S.fmt(dims))
        if keep:
            args.append("keepdim=True")
        body = "{0}.%s(%s)" % (name, ", ".join(args))
        return example("grad." + name, [draw(leaf(shape, lo, hi))], body)

    return strat()


# ------------------------------------------------------------------------------------------- others

@st.composite
def _dim_op(draw, body, min_dims=0, nonempty=False, lo=-2.0, hi=2.0):
    """An op of one tensor and one dim: body has {0} and {d}."""
    shape = draw(S.shapes(min_dims, 3))
    if nonempty:
        shape = tuple(max(s, 1) for s in shape)
    d = draw(S.dims(len(shape), invalid=False))
    return [draw(leaf(shape, lo, hi))], body.replace("{d}", str(d))


def _one(name, body_fn):
    @st.composite
    def strat(draw):
        leaves, body = draw(body_fn)
        return example("grad." + name, leaves, body)

    return strat()


@st.composite
def _var_std(draw, name):
    shape = draw(S.shapes(0, 3))
    dims = draw(_dim_list(len(shape)))
    unbiased = draw(st.booleans())
    keep = draw(st.booleans())
    return [draw(leaf(shape))], "{0}.%s(%s, unbiased=%s, keepdim=%s)" % (name, S.fmt(dims), unbiased, keep)


@st.composite
def _norm(draw):
    shape = draw(S.shapes(1, 3))
    p = draw(st.sampled_from(["1", "2", "3", "0.5", "inf", "-inf", "1.5"]))
    dims = draw(_dim_list(len(shape)))
    if p in ("inf", "-inf"):
        shape = tuple(max(s, 1) for s in shape)
    lo, hi = (0.25, 2.0) if p == "0.5" else (-2.0, 2.0)
    return [draw(leaf(shape, lo, hi))], "{0}.norm(%s, %s, keepdim=%s)" % (p if "inf" not in p else "float('%s')" % p,
                                                                         S.fmt(dims), draw(st.booleans()))


@st.composite
def _index(draw, name):
    shape = draw(S.shapes(1, 3))
    shape = tuple(max(s, 1) for s in shape)
    d = draw(st.integers(0, len(shape) - 1))
    if name == "index_select":
        k = draw(st.integers(0, 5))
        idx = draw(st.lists(st.integers(0, shape[d] - 1), min_size=k, max_size=k))
        return [draw(leaf(shape))], "{0}.index_select(%d, loom.tensor(%s, dtype=loom.int64))" % (d, S.fmt(idx))
    ishape = list(shape)
    ishape[d] = draw(st.integers(0, 4))
    idx = np.array(draw(st.lists(st.integers(0, shape[d] - 1), min_size=S.numel(ishape), max_size=S.numel(ishape))),
                   dtype=np.int64).reshape(ishape)
    isrc = "loom.tensor(%s, dtype=loom.int64)" % S.fmt_list(idx) if idx.size else "loom.zeros(%s, dtype=loom.int64)" % S.fmt(tuple(ishape))
    if name == "gather":
        return [draw(leaf(shape))], "{0}.gather(%d, %s)" % (d, isrc)
    src = draw(leaf(tuple(ishape), which=1))
    if name == "scatter_add":
        return [draw(leaf(shape)), src], "{0}.scatter_add(%d, %s, {1})" % (d, isrc)
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    inc = draw(st.booleans())
    lo, hi = (0.5, 1.5) if reduce == "prod" else (-2.0, 2.0)
    return ([draw(leaf(shape, lo, hi)), draw(leaf(tuple(ishape), lo, hi, 1))],
            "{0}.scatter_reduce(%d, %s, {1}, %r, include_self=%s)" % (d, isrc, reduce, inc))


@st.composite
def _where(draw):
    sa, sb = draw(S.broadcast_pair(0, 3, invalid_ok=False))
    shape = np.broadcast_shapes(sa, sb)
    mask = np.array(draw(st.lists(st.booleans(), min_size=S.numel(shape), max_size=S.numel(shape))), dtype=bool).reshape(shape)
    msrc = "loom.tensor(%s)" % S.fmt_list(mask) if mask.size else "loom.zeros(%s, dtype=loom.bool)" % S.fmt(tuple(shape))
    if draw(st.booleans()):
        return [draw(leaf(sa, which=0)), draw(leaf(sb, which=1))], "loom.where(%s, {0}, {1})" % msrc
    return [draw(leaf(shape))], "{0}.masked_fill(%s, %s)" % (msrc, draw(st.sampled_from(["0.5", "-2", "3.0"])))


@st.composite
def _clamp(draw):
    shape = draw(S.shapes(0, 3))
    lo = draw(st.sampled_from([None, "-1.0", "0.25"]))
    hi = draw(st.sampled_from([None, "1.0", "1.5"] if lo is not None else ["1.0", "1.5"]))
    if draw(st.booleans()):  # tensor bounds
        return ([draw(leaf(shape, which=0)), draw(leaf(shape[1:], -1.0, 0.0, 1)), draw(leaf(shape[-1:] if shape else (), 0.0, 1.0, 2))],
                "{0}.clamp({1}, {2})")
    return [draw(leaf(shape))], "{0}.clamp(%s, %s)" % (lo, hi)


@st.composite
def _cat_stack(draw, name):
    shape = draw(S.shapes(1 if name == "cat" else 0, 3))
    k = draw(st.integers(1, 3))
    nd = len(shape) + (1 if name == "stack" else 0)
    d = draw(st.integers(-nd, nd - 1))
    leaves = []
    for i in range(k):
        s = list(shape)
        if name == "cat":
            s[d % len(s)] = draw(st.integers(0, 3))
        leaves.append(draw(leaf(tuple(s), which=i)))
    return leaves, "loom.%s([%s], %d)" % (name, ", ".join("{%d}" % i for i in range(k)), d)


@st.composite
def _shape_op(draw):
    shape = draw(S.shapes(1, 3))
    nd = len(shape)
    kind = draw(st.sampled_from(["permute", "reshape", "flip", "roll", "repeat", "narrow", "select", "unsqueeze", "t",
                                 "squeeze", "expand", "unfold", "diagonal", "tril"]))
    x = [draw(leaf(shape))]
    if kind == "permute":
        return x, "{0}.permute(%s)" % S.fmt(tuple(draw(st.permutations(range(nd)))))
    if kind == "reshape":
        return x, "{0}.reshape(-1, %d)" % (shape[-1] if shape[-1] else 1) if S.numel(shape) else "{0}.reshape(%s)" % S.fmt(shape)
    if kind == "flip":
        return x, "{0}.flip(%s)" % S.fmt(draw(_dim_list(nd, allow_empty=False)))
    if kind == "roll":
        return x, "{0}.roll(%d, %d)" % (draw(st.integers(-3, 3)), draw(st.integers(-nd, nd - 1)))
    if kind == "repeat":
        return x, "{0}.repeat(%s)" % S.fmt(tuple(draw(st.integers(0, 2)) for _ in range(nd + draw(st.integers(0, 1)))))
    d = draw(st.integers(0, nd - 1))
    if kind == "narrow":
        start = draw(st.integers(0, shape[d]))
        return x, "{0}.narrow(%d, %d, %d)" % (d, start, draw(st.integers(0, shape[d] - start)))
    if kind == "select" and shape[d] > 0:
        return x, "{0}.select(%d, %d)" % (d, draw(st.integers(-shape[d], shape[d] - 1)))
    if kind == "unsqueeze":
        return x, "{0}.unsqueeze(%d)" % draw(st.integers(-nd - 1, nd))
    if kind == "t" and nd <= 2:
        return x, "{0}.t()"
    if kind == "squeeze":
        return x, "{0}.squeeze(%d)" % d
    if kind == "expand":
        return x, "{0}.expand(%s)" % S.fmt((2,) + tuple(-1 if draw(st.booleans()) else s for s in shape))
    if kind == "unfold" and shape[d] > 0:
        size = draw(st.integers(1, shape[d]))
        return x, "{0}.unfold(%d, %d, %d)" % (d, size, draw(st.integers(1, 3)))
    if kind == "diagonal" and nd >= 2:
        return x, "{0}.diagonal(%d)" % draw(st.integers(-2, 2))
    if kind == "tril" and nd >= 2:
        return x, "{0}.%s(%d)" % (draw(st.sampled_from(["tril", "triu"])), draw(st.integers(-2, 2)))
    return x, "{0}.clone()"


@st.composite
def _matmul(draw):
    m, k, n = (draw(st.integers(0, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "mv", "vm", "dot", "batched", "broadcast"]))
    shapes = {"mm": ((m, k), (k, n)), "mv": ((m, k), (k,)), "vm": ((k,), (k, n)), "dot": ((k,), (k,)),
              "batched": ((2, m, k), (2, k, n)), "broadcast": ((2, 1, m, k), (3, k, n))}[kind]
    return [draw(leaf(shapes[0], which=0)), draw(leaf(shapes[1], which=1))], "loom.matmul({0}, {1})"


@st.composite
def _sort_like(draw):
    shape = draw(S.shapes(0, 3))
    d = draw(S.dims(len(shape), invalid=False))
    kind = draw(st.sampled_from(["sort", "topk", "max", "min", "cummax", "cummin", "kthvalue", "median"]))
    x = [draw(leaf(shape))]
    n = shape[d] if shape else 1
    if kind == "sort":
        return x, "{0}.sort(%d, descending=%s)[0]" % (d, draw(st.booleans()))
    if kind == "topk":
        return x, "{0}.topk(%d, %d, largest=%s)[0]" % (draw(st.integers(0 if shape else 1, n)), d, draw(st.booleans()))
    if n == 0:
        return x, "{0}.cumsum(%d)" % d
    if kind in ("max", "min", "median"):
        return x, "{0}.%s(%d, keepdim=%s)[0]" % (kind, d, draw(st.booleans()))
    if kind == "kthvalue":
        return x, "{0}.kthvalue(%d, %d)[0]" % (draw(st.integers(1, n)), d)
    return x, "{0}.%s(%d)[0]" % (kind, d)


@st.composite
def _conv(draw):
    nd = draw(st.sampled_from([1, 2]))
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2]))
    N, cin, cout = draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    size = tuple(draw(st.integers(max(1, (kk - 1) * dd + 1 - 2 * p), 5)) for kk, dd, p in zip(k, dil, pad))
    bias = draw(st.booleans())
    x = draw(leaf((N, cin) + size, which=0))
    if transposed:
        w = draw(leaf((cin, cout // groups) + k, which=1))
        outpad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil))
        pad = tuple(p if (i - 1) * s - 2 * p + d * (kk - 1) + o + 1 > 0 else 0
                    for i, s, p, d, kk, o in zip(size, stride, pad, dil, k, outpad))
        call = "F.conv_transpose%dd({0}, {1}, %s, %s, %s, %s, %d, %s)" % (nd, "{2}" if bias else "None", S.fmt(stride),
                                                                       S.fmt(pad), S.fmt(outpad), groups, S.fmt(dil))
    else:
        w = draw(leaf((cout, cin // groups) + k, which=1))
        call = "F.conv%dd({0}, {1}, %s, %s, %s, %s, %d)" % (nd, "{2}" if bias else "None", S.fmt(stride), S.fmt(pad),
                                                             S.fmt(dil), groups)
    leaves = [x, w] + ([draw(leaf((cout,), which=2))] if bias else [])
    return leaves, call


@st.composite
def _pool(draw):
    kind = draw(st.sampled_from(["max", "avg", "adaptive_avg", "adaptive_max", "max1d", "avg1d", "lp"]))
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    if kind.startswith("adaptive"):
        return [draw(leaf((N, C, H, W)))], "F.%s_pool2d({0}, (%d, %d))" % (kind, draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    k = draw(st.integers(1, min(3, H, W)))
    s = draw(st.integers(1, 2))
    p = draw(st.integers(0, k // 2))
    ceil = draw(st.booleans())
    if kind == "max":
        d = draw(st.integers(1, 2))
        if (k - 1) * d + 1 > min(H, W) + 2 * p:
            d = 1
        return [draw(leaf((N, C, H, W)))], "F.max_pool2d({0}, %d, %d, %d, %d, %s)" % (k, s, p, d, ceil)
    if kind == "avg":
        return [draw(leaf((N, C, H, W)))], "F.avg_pool2d({0}, %d, %d, %d, %s, %s)" % (k, s, p, ceil, draw(st.booleans()))
    if kind == "lp":
        return [draw(leaf((N, C, H, W), 0.25, 2.0))], "F.lp_pool2d({0}, %s, %d, %d)" % (draw(st.sampled_from(["2", "3", "1.5"])), k, s)
    op = "max_pool1d" if kind == "max1d" else "avg_pool1d"
    return [draw(leaf((N, C, W)))], "F.%s({0}, %d, %d, %d)" % (op, k, s, p)


@st.composite
def _norms(draw):
    kind = draw(st.sampled_from(["layer_norm", "group_norm", "batch_norm", "instance_norm", "normalize", "rms_norm"]))
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    L = draw(st.integers(1, 4))
    affine = draw(st.booleans())
    if kind == "layer_norm":
        x = draw(leaf((N, C, L)))
        shape = (C, L) if draw(st.booleans()) else (L,)
        if affine:
            return [x, draw(leaf(shape, which=1)), draw(leaf(shape, which=2))], "F.layer_norm({0}, %s, {1}, {2})" % S.fmt(shape)
        return [x], "F.layer_norm({0}, %s)" % S.fmt(shape)
    if kind == "rms_norm":
        return [draw(leaf((N, C, L))), draw(leaf((L,), which=1))], "F.rms_norm({0}, (%d,), {1})" % L
    if kind == "group_norm":
        g = draw(st.sampled_from([1, 2]))
        C = g * draw(st.integers(1, 2))
        x = draw(leaf((N, C, L)))
        if affine:
            return [x, draw(leaf((C,), which=1)), draw(leaf((C,), which=2))], "F.group_norm({0}, %d, {1}, {2})" % g
        return [x], "F.group_norm({0}, %d)" % g
    if kind == "batch_norm":
        N = max(N, 2)
        x = draw(leaf((N, C, L)))
        if affine:
            return [x, draw(leaf((C,), which=1)), draw(leaf((C,), which=2))], "F.batch_norm({0}, None, None, {1}, {2}, training=True)"
        return [x], "F.batch_norm({0}, None, None, training=True)"
    if kind == "instance_norm":
        L = max(L, 2)
        return [draw(leaf((N, C, L)))], "F.instance_norm({0})"
    return [draw(leaf((N, C, L)))], "F.normalize({0}, %s, %d)" % (draw(st.sampled_from(["2.0", "1.0", "3.0"])), draw(st.integers(-3, 2)))


@st.composite
def _activation(draw):
    act = draw(st.sampled_from(["leaky_relu({0}, 0.2)", "elu({0}, 1.5)", "celu({0}, 0.7)", "softplus({0}, 2.0, 1.5)",
                                "hardtanh({0}, -1.0, 0.5)", "hardshrink({0}, 0.5)", "softshrink({0}, 0.5)",
                                "threshold({0}, 0.25, -1.0)", "selu({0})", "hardsigmoid({0})", "hardswish({0})",
                                "mish({0})", "logsigmoid({0})", "softsign({0})", "tanhshrink({0})", "relu6({0})",
                                "silu({0})", "glu({0}, -1)", "softmin({0}, -1)", "prelu({0}, {1})", "rrelu({0})"]))
    shape = draw(S.shapes(1, 3))
    lo, hi = (-4.0, 4.0)
    if act.startswith("glu"):
        shape = shape[:-1] + (2 * draw(st.integers(0, 2)),)
    if act.startswith("prelu"):
        shape = (max(shape[0], 1),) + shape[1:]
        c = shape[1] if len(shape) > 1 else 1
        return [draw(leaf(shape, lo, hi)), draw(leaf((draw(st.sampled_from([1, c])),), 0.0, 0.5, 1))], "F." + act
    return [draw(leaf(shape, lo, hi))], "F." + act


@st.composite
def _losses(draw):
    kind = draw(st.sampled_from(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
                                 "kl_div", "bce", "bce_logits", "cosine_similarity", "pairwise_distance"]))
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    if kind in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        sa, sb = draw(S.broadcast_pair(1, 3, invalid_ok=False))
        extra = ", beta=0.5" if kind == "smooth_l1_loss" else ", delta=0.7" if kind == "huber_loss" else ""
        return [draw(leaf(sa, which=0)), draw(leaf(sb, which=1))], "F.%s({0}, {1}, reduction=%r%s)" % (kind, red, extra)
    if kind in ("cross_entropy", "nll_loss"):
        t = draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N))
        ls = ", label_smoothing=0.2" if kind == "cross_entropy" and draw(st.booleans()) else ""
        ig = ", ignore_index=%d" % t[0] if draw(st.booleans()) else ""
        x = draw(leaf((N, C)))
        if draw(st.booleans()):  # class weights: constants (PyTorch refuses a weight that requires grad)
            w = [round(0.5 + 0.25 * i, 2) for i in range(C)]
            return ([x], "F.%s({0}, loom.tensor(%s), loom.tensor(%s, dtype=loom.float64), reduction=%r%s%s)"
                    % (kind, S.fmt(t), S.fmt(w), red, ig, ls))
        return [x], "F.%s({0}, loom.tensor(%s), reduction=%r%s%s)" % (kind, S.fmt(t), red, ig, ls)
    if kind == "kl_div":
        return ([draw(leaf((N, C), -2.0, 0.0, 0)), draw(leaf((N, C), 0.1, 1.0, 1))],
                "F.kl_div({0}, {1}, reduction=%r)" % draw(st.sampled_from(["batchmean", "sum", "mean"])))
    if kind == "bce":
        return [draw(leaf((N, C), 0.05, 0.95, 0)), draw(leaf((N, C), 0.0, 1.0, 1))], "F.binary_cross_entropy({0}, {1}, reduction=%r)" % red
    if kind == "bce_logits":
        pw = draw(st.booleans())
        leaves = [draw(leaf((N, C), which=0)), draw(leaf((N, C), 0.0, 1.0, 1))] + ([draw(leaf((C,), 0.5, 2.0, 2))] if pw else [])
        return leaves, "F.binary_cross_entropy_with_logits({0}, {1}%s, reduction=%r)" % (", pos_weight={2}" if pw else "", red)
    sa, sb = draw(S.broadcast_pair(2, 3, invalid_ok=False))
    if kind == "cosine_similarity":
        return [draw(leaf(sa, which=0)), draw(leaf(sb, which=1))], "F.cosine_similarity({0}, {1}, -1)"
    return [draw(leaf((N, C), which=0)), draw(leaf((N, C), which=1))], "F.pairwise_distance({0}, {1}, %s)" % draw(st.sampled_from(["2.0", "1.0", "3.0"]))


@st.composite
def _misc(draw):
    kind = draw(st.sampled_from(["linear", "bilinear", "attention", "embedding", "pad", "interpolate", "grid_sample",
                                 "cumsum", "cumprod", "logcumsumexp", "softmax", "log_softmax", "einsum", "cdist", "diff",
                                 "pixel_shuffle", "unfold", "fold", "logsumexp"]))
    if kind == "linear":
        N, i, o = draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if draw(st.booleans()):
            return [draw(leaf((N, i), which=0)), draw(leaf((o, i), which=1)), draw(leaf((o,), which=2))], "F.linear({0}, {1}, {2})"
        return [draw(leaf((2, N, i), which=0)), draw(leaf((o, i), which=1))], "F.linear({0}, {1})"
    if kind == "bilinear":
        return ([draw(leaf((2, 2), which=0)), draw(leaf((2, 3), which=1)), draw(leaf((2, 2, 3), which=2))],
                "F.bilinear({0}, {1}, {2})")
    if kind == "attention":
        B, L, S_, D = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        causal = draw(st.booleans()) and L == S_
        return ([draw(leaf((B, L, D), which=0)), draw(leaf((B, S_, D), which=1)), draw(leaf((B, S_, D), which=2))],
                "F.scaled_dot_product_attention({0}, {1}, {2}, is_causal=%s)" % causal)
    if kind == "embedding":
        n, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        idx = draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=5))
        # padding_idx: its row gets no gradient by definition (not the derivative), so only an unused one
        pad = draw(st.sampled_from([None] + [i for i in range(n) if i not in idx]))
        return [draw(leaf((n, d)))], "F.embedding(loom.tensor(%s, dtype=loom.int64), {0}, padding_idx=%s)" % (S.fmt(idx), pad)
    if kind == "pad":
        mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        shape = (1, 2, draw(st.integers(2, 4)), draw(st.integers(2, 4)))
        pads = tuple(draw(st.integers(0, 1)) for _ in range(4))
        return [draw(leaf(shape))], "F.pad({0}, %s, mode=%r)" % (S.fmt(pads), mode)
    if kind == "interpolate":
        mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic", "area"]))
        size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
        ac = ", align_corners=%s" % draw(st.booleans()) if mode in ("bilinear", "bicubic") else ""
        return [draw(leaf((1, 2, draw(st.integers(1, 4)), draw(st.integers(1, 4)))))], "F.interpolate({0}, size=%s, mode=%r%s)" % (S.fmt(size), mode, ac)
    if kind == "grid_sample":
        mode = draw(st.sampled_from(["bilinear", "nearest"]))
        pm = draw(st.sampled_from(["zeros", "border", "reflection"]))
        return ([draw(leaf((1, 2, 3, 3), which=0)), draw(leaf((1, 2, 2, 2), -0.9, 0.9, 1))],
                "F.grid_sample({0}, {1}, mode=%r, padding_mode=%r, align_corners=%s)" % (mode, pm, draw(st.booleans())))
    if kind in ("cumsum", "cumprod", "logcumsumexp", "softmax", "log_softmax", "logsumexp"):
        lo, hi = (0.5, 1.5) if kind == "cumprod" else (-2.0, 2.0)
        leaves, body = draw(_dim_op("{0}.%s({d})" % kind, lo=lo, hi=hi))
        return leaves, body
    if kind == "einsum":
        eq, shapes = draw(st.sampled_from([("ij,jk->ik", ((2, 3), (3, 2))), ("bij,bjk->bik", ((2, 1, 3), (2, 3, 2))),
                                           ("i,i->", ((3,), (3,))), ("ij->ji", ((2, 3),)), ("ii->i", ((3, 3),)),
                                           ("ij,kj->ikj", ((2, 3), (2, 3)))]))
        leaves = [draw(leaf(s, which=i)) for i, s in enumerate(shapes)]
        return leaves, "loom.einsum(%r, %s)" % (eq, ", ".join("{%d}" % i for i in range(len(shapes))))
    if kind == "cdist":
        return [draw(leaf((2, 3), which=0)), draw(leaf((3, 3), which=1))], "loom.cdist({0}, {1}, %s)" % draw(st.sampled_from(["2.0", "1.0", "3.0"]))
    if kind == "diff":
        shape = draw(S.shapes(1, 3))
        return [draw(leaf(shape))], "loom.diff({0}, %d, %d)" % (draw(st.integers(1, 2)), draw(st.integers(-len(shape), len(shape) - 1)))
    if kind == "pixel_shuffle":
        return [draw(leaf((1, 4, 2, 3)))], "F.pixel_shuffle({0}, 2)"
    if kind == "unfold":
        return [draw(leaf((1, 2, 3, 4)))], "F.unfold({0}, 2, padding=%d, stride=%d)" % (draw(st.integers(0, 1)), draw(st.integers(1, 2)))
    return [draw(leaf((1, 2 * 4, 4)))], "F.fold({0}, (3, 3), 2)"


@st.composite
def _fusion(draw):
    """loom's multimodal kernels and the RNN cells (hand-written backward kernels)."""
    kind = draw(st.sampled_from(["gated_fusion", "film", "linear2", "bilinear_pool", "clip_loss", "lstm_cell",
                                 "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "linear_act"]))
    B, D, Db = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if kind == "gated_fusion":
        return ([draw(leaf((B, D), which=0)), draw(leaf((B, D), which=1)), draw(leaf((D, 2 * D), -1.0, 1.0, 2)),
                 draw(leaf((D,), which=3))], "F.gated_fusion({0}, {1}, {2}, {3})")
    if kind == "film":
        return ([draw(leaf((B, D), which=0)), draw(leaf((B, Db), which=1)), draw(leaf((2 * D, Db), -1.0, 1.0, 2)),
                 draw(leaf((2 * D,), which=3))], "F.film({0}, {1}, {2}, {3})")
    if kind == "linear2":
        lead = draw(st.sampled_from([(), (2,)]))
        O = draw(st.integers(1, 3))
        bias = draw(st.booleans())
        leaves = [draw(leaf(lead + (B, D), which=0)), draw(leaf(lead + (B, Db), which=1)),
                  draw(leaf((O, D + Db), -1.0, 1.0, 2))] + ([draw(leaf((O,), which=3))] if bias else [])
        return leaves, "F.linear2({0}, {1}, {2}%s)" % (", {3}" if bias else "")
    if kind == "bilinear_pool":
        R, O = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return ([draw(leaf((B, D), which=0)), draw(leaf((B, Db), which=1)), draw(leaf((R, D), -1.0, 1.0, 2)),
                 draw(leaf((R, Db), -1.0, 1.0, 3)), draw(leaf((O, R), -1.0, 1.0, 4))],
                "F.bilinear_pool({0}, {1}, {2}, {3}, {4})")
    if kind == "clip_loss":
        N, E = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return ([draw(leaf((N, E), which=0)), draw(leaf((N, E), which=1)), draw(leaf((), -0.5, 0.5, 2))],
                "F.clip_loss({0}, {1}, {2})")
    if kind == "linear_act":
        O = draw(st.integers(1, 3))
        act = draw(st.sampled_from(["none", "relu", "gelu"]))
        return ([draw(leaf((B, D), which=0)), draw(leaf((O, D), -1.0, 1.0, 1)), draw(leaf((O,), which=2))],
                "F.linear({0}, {1}, {2}, activation=%r)" % act if act != "none" else "F.linear({0}, {1}, {2})")
    H = draw(st.integers(1, 3))
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(kind, 1)
    bias = draw(st.booleans())
    x, h = draw(leaf((B, D), which=0)), draw(leaf((B, H), which=1))
    w_ih, w_hh = draw(leaf((gates * H, D), -1.0, 1.0, 2)), draw(leaf((gates * H, H), -1.0, 1.0, 3))
    if kind == "lstm_cell":
        c = draw(leaf((B, H), which=4))
        leaves = [x, h, c, w_ih, w_hh] + ([draw(leaf((4 * H,), which=0)), draw(leaf((4 * H,), which=1))] if bias else [])
        return leaves, "loom.lstm_cell({0}, ({1}, {2}), {3}, {4}%s)[%d]" % (", {5}, {6}" if bias else "", draw(st.integers(0, 1)))
    leaves = [x, h, w_ih, w_hh] + ([draw(leaf((gates * H,), which=0)), draw(leaf((gates * H,), which=1))] if bias else [])
    return leaves, "loom.%s({0}, {1}, {2}, {3}%s)" % (kind, ", {4}, {5}" if bias else "")


@st.composite
def _modules(draw):
    """loom.nn modules in float64 (built in the snippet after loom.manual_seed), the gradient for their input."""
    kind = draw(st.sampled_from(["rnn", "transformer", "mha", "conv", "batchnorm", "layernorm", "groupnorm",
                                 "bilinear"]))
    B = draw(st.integers(1, 2))
    if kind == "rnn":
        cls = draw(st.sampled_from(["LSTM", "GRU", "RNN"]))
        I, H, T = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        layers, bi, bf = draw(st.integers(1, 2)), draw(st.booleans()), draw(st.booleans())
        extra = ", nonlinearity='relu'" if cls == "RNN" and draw(st.booleans()) else ""
        make = "nn.%s(%d, %d, num_layers=%d, bidirectional=%s, batch_first=%s%s)" % (cls, I, H, layers, bi, bf, extra)
        shape = (B, T, I) if bf else (T, B, I)
        out = draw(st.sampled_from(["[0]", "[1]" if cls != "LSTM" else "[1][1]"]))
        return make, [draw(leaf(shape))], "m({0})" + out
    if kind == "transformer":
        E, heads = draw(st.sampled_from([(2, 1), (4, 2), (3, 3)]))
        act = draw(st.sampled_from(["relu", "gelu"]))
        make = ("nn.TransformerEncoderLayer(%d, %d, dim_feedforward=4, dropout=0.0, activation=%r, batch_first=True, "
                "norm_first=%s)" % (E, heads, act, draw(st.booleans())))
        return make, [draw(leaf((B, draw(st.integers(1, 3)), E)))], "m({0})"
    if kind == "mha":
        E, heads = draw(st.sampled_from([(2, 1), (4, 2)]))
        L, S_ = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        make = "nn.MultiheadAttention(%d, %d, batch_first=True)" % (E, heads)
        return make, [draw(leaf((B, L, E), which=0)), draw(leaf((B, S_, E), which=1))], "m({0}, {1}, {1})[0]"
    if kind == "conv":
        mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        k = draw(st.integers(1, 3))
        pad = draw(st.sampled_from(["1", "'same'", "0"]))
        make = "nn.Conv2d(2, 3, %d, padding=%s, padding_mode=%r)" % (k, pad, mode)
        low = k if pad == "0" else 2  # without padding the input holds at least one window
        return make, [draw(leaf((B, 2, draw(st.integers(low, 4)), draw(st.integers(low, 4)))))], "m({0})"
    C = draw(st.integers(1, 3))
    if kind == "batchnorm":
        train = draw(st.booleans())
        make = "nn.BatchNorm1d(%d)%s" % (C, "" if train else ".eval()")
        return make, [draw(leaf((max(B, 2), C, draw(st.integers(1, 3)))))], "m({0})"
    if kind == "layernorm":
        make = "nn.LayerNorm(%d, elementwise_affine=%s)" % (C, draw(st.booleans()))
        return make, [draw(leaf((B, 2, C)))], "m({0})"
    if kind == "groupnorm":
        make = "nn.GroupNorm(%d, %d)" % (C, 2 * C)
        return make, [draw(leaf((B, 2 * C, 2)))], "m({0})"
    make = "nn.Bilinear(2, 3, %d)" % C
    return make, [draw(leaf((B, 2), which=0)), draw(leaf((B, 3), which=1))], "m({0}, {1})"


@st.composite
def _composites(draw):
    """Python-composed functions (their gradient is that of the ops they call) and less common ops."""
    kind = draw(st.sampled_from(["kron", "cross", "tensordot", "outer", "inner", "addmm", "addcmul", "addcdiv", "lerp",
                                 "baddbmm", "trace", "rot90", "diag_embed", "block_diag", "take_along_dim",
                                 "index_add", "index_copy", "index_fill", "masked_scatter", "logaddexp", "xlogy", "sinc", "fmax",
                                 "trapezoid", "cumulative_trapezoid", "dist", "renorm", "nan_to_num", "logit",
                                 "polygamma", "mvlgamma", "copysign", "hypot", "unflatten", "movedim", "tile"]))
    sa = draw(S.shapes(1, 2))
    if kind == "kron":
        return [draw(leaf(sa, which=0)), draw(leaf(draw(S.shapes(1, 2)), which=1))], "loom.kron({0}, {1})"
    if kind == "cross":
        return [draw(leaf((2, 3), which=0)), draw(leaf((2, 3), which=1))], "loom.cross({0}, {1}, dim=-1)"
    if kind == "tensordot":
        return [draw(leaf((2, 3, 2), which=0)), draw(leaf((3, 2, 2), which=1))], "loom.tensordot({0}, {1}, dims=([1, 2], [0, 1]))"
    if kind in ("outer", "inner"):
        return [draw(leaf((3,), which=0)), draw(leaf((draw(st.integers(1, 3)) if kind == "outer" else 3,), which=1))], "loom.%s({0}, {1})" % kind
    if kind == "addmm":
        return ([draw(leaf((2, 1), which=0)), draw(leaf((2, 3), which=1)), draw(leaf((3, 4), which=2))],
                "loom.addmm({0}, {1}, {2}, beta=0.5, alpha=2.0)")
    if kind == "baddbmm":
        return ([draw(leaf((1, 2, 4), which=0)), draw(leaf((2, 2, 3), which=1)), draw(leaf((2, 3, 4), which=2))],
                "loom.baddbmm({0}, {1}, {2}, beta=1.5, alpha=0.5)")
    if kind in ("addcmul", "addcdiv", "lerp"):
        lo = 0.5 if kind == "addcdiv" else -2.0
        args = [draw(leaf(sa, which=0)), draw(leaf(sa[-1:], which=1)), draw(leaf(sa, lo, 2.0, 2))]
        return args, ("loom.lerp({0}, {1}, {2})" if kind == "lerp" else "loom.%s({0}, {1}, {2}, value=0.7)" % kind)
    if kind == "trace":
        return [draw(leaf((draw(st.integers(1, 3)), draw(st.integers(1, 3)))))], "{0}.trace()"
    if kind == "rot90":
        return [draw(leaf((2, 3)))], "loom.rot90({0}, %d, [0, 1])" % draw(st.integers(-2, 3))
    if kind == "diag_embed":
        return [draw(leaf(sa))], "loom.diag_embed({0}, %d)" % draw(st.integers(-1, 1))
    if kind == "block_diag":
        return [draw(leaf((2, 1), which=0)), draw(leaf((1, 3), which=1))], "loom.block_diag({0}, {1})"
    if kind == "take_along_dim":
        idx = draw(st.lists(st.integers(0, 2), min_size=4, max_size=4))
        return [draw(leaf((2, 3)))], "loom.take_along_dim({0}, loom.tensor(%s).view(2, 2), 1)" % S.fmt(idx)
    if kind in ("index_add", "index_copy"):
        idx = draw(st.lists(st.integers(0, 3), min_size=2, max_size=2, unique=kind == "index_copy"))
        alpha = ", alpha=%s" % draw(st.sampled_from(["-1.5", "2"])) if kind == "index_add" else ""
        return ([draw(leaf((4, 2), which=0)), draw(leaf((2, 2), which=1))],
                "{0}.%s(0, loom.tensor(%s), {1}%s)" % (kind, S.fmt(idx), alpha))
    if kind == "index_fill":  # a 0-d tensor value (its gradient: the sum over the filled slices)
        idx = draw(st.lists(st.integers(-3, 2), min_size=1, max_size=3))
        return ([draw(leaf((2, 3), which=0)), draw(leaf((), which=1))],
                "{0}.index_fill(1, loom.tensor(%s), {1})" % S.fmt(idx))
    if kind == "masked_scatter":
        mask = draw(st.lists(st.booleans(), min_size=6, max_size=6))
        return ([draw(leaf((2, 3), which=0)), draw(leaf((6,), which=1))],
                "{0}.masked_scatter(loom.tensor(%s).view(2, 3), {1})" % S.fmt(mask))
    if kind in ("logaddexp", "fmax", "copysign", "hypot"):
        return [draw(leaf(sa, which=0)), draw(leaf(sa[-1:], which=1))], "loom.%s({0}, {1})" % kind
    if kind == "xlogy":
        return [draw(leaf(sa, which=0)), draw(leaf(sa, 0.25, 2.0, 1))], "loom.xlogy({0}, {1})"
    if kind == "sinc":
        return [draw(leaf(sa))], "loom.sinc({0})"
    if kind in ("trapezoid", "cumulative_trapezoid"):
        return [draw(leaf(sa, which=0))], "loom.%s({0}, dx=0.5, dim=-1)" % kind
    if kind == "dist":
        return [draw(leaf(sa, which=0)), draw(leaf(sa, which=1))], "loom.dist({0}, {1}, %s)" % draw(st.sampled_from(["2", "1", "3"]))
    if kind == "renorm":
        return [draw(leaf((3, 2)))], "loom.renorm({0}, 2, 0, 1.0)"
    if kind == "nan_to_num":
        return [draw(leaf(sa))], "loom.nan_to_num({0})"
    if kind == "logit":
        return [draw(leaf(sa, 0.05, 0.95))], "loom.logit({0}, eps=%s)" % draw(st.sampled_from(["None", "0.01"]))
    if kind == "polygamma":
        # (polygamma(1)'s derivative, polygamma(2), is composed in Python: its gradient is not implemented)
        return [draw(leaf(sa, 0.3, 3.0))], "loom.polygamma(0, {0})"
    if kind == "mvlgamma":
        return [draw(leaf(sa, 1.6, 4.0))], "loom.mvlgamma({0}, p=%d)" % draw(st.integers(1, 3))
    if kind == "unflatten":
        return [draw(leaf((2, 6)))], "{0}.unflatten(1, (2, 3))"
    if kind == "movedim":
        return [draw(leaf((2, 3, 1)))], "loom.movedim({0}, 0, 2)"
    return [draw(leaf(sa))], "{0}.tile((2, 1))"


def _module_example(name):
    @st.composite
    def strat(draw):
        make, leaves, body = draw(_modules())
        return example("grad." + name, leaves, body, extra=("from loom import nn", "loom.manual_seed(0)",
                                                            "m = %s.double()" % make))

    return strat()


def register_all():
    for op in _registry():
        kind = op.get("kind", "pointwise")
        args = op["signature"].split("(", 1)[1].rsplit(")", 1)[0]
        if kind == "pointwise" and args in ("Tensor input", 'Tensor input, str approximate = "none"'):
            _reg(op["name"], _unary(op))
        elif kind == "pointwise" and args.startswith("Tensor input, Tensor "):
            _reg(op["name"], _binary(op))
        elif kind == "reduce":
            _reg(op["name"], _reduce(op))
    _reg("var", _one("var", _var_std("var")))
    _reg("std", _one("std", _var_std("std")))
    _reg("norm", _one("norm", _norm()))
    for name in ("index_select", "gather", "scatter_add", "scatter_reduce"):
        _reg(name, _one(name, _index(name)))
    _reg("where_masked_fill", _one("where_masked_fill", _where()))
    _reg("clamp", _one("clamp", _clamp()))
    _reg("cat", _one("cat", _cat_stack("cat")))
    _reg("stack", _one("stack", _cat_stack("stack")))
    _reg("shape_ops", _one("shape_ops", _shape_op()))
    _reg("matmul", _one("matmul", _matmul()))
    _reg("sort_topk_max", _one("sort_topk_max", _sort_like()))
    _reg("conv", _one("conv", _conv()))
    _reg("pool", _one("pool", _pool()))
    _reg("norms", _one("norms", _norms()))
    _reg("activations", _one("activations", _activation()))
    _reg("losses", _one("losses", _losses()))
    _reg("misc", _one("misc", _misc()))
    _reg("fusion_rnn", _one("fusion_rnn", _fusion()))
    _reg("modules", _module_example("modules"))
    _reg("composites", _one("composites", _composites()))
