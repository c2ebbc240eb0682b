"""loom.nn.functional with NumPy references: losses, layer_norm, conv2d, conv3d, pooling, normalize,
cosine_similarity, embedding, embedding_bag, dropout, grid_sample, affine_grid, ctc_loss."""
import itertools

import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import f64, register

RED = ("mean", "sum", "none")


def _reduce(v, reduction, dt, **kw):
    if reduction == "mean":
        v = np.mean(v) if v.size else np.float64("nan")
    elif reduction == "sum":
        v = np.sum(v)
    return R.value(v, dt, rtol=1e-4 if dt == "float32" else 1e-8, atol=1e-5, **kw)


@st.composite
def pointwise_loss_examples(draw, op):
    name = op.split(".")[-1]
    s1, s2 = draw(S.broadcast_pair(invalid_ok=True)) if draw(st.integers(0, 5)) == 0 else (None, None)
    shape = draw(S.shapes(0, 3))
    dt = draw(st.sampled_from(S.FLOATS + ("int64",) if draw(st.integers(0, 8)) == 0 else S.FLOATS))
    x = draw(S.tensors(dt, shape=s1 if s1 is not None else shape))
    y = draw(S.tensors(dt if draw(st.integers(0, 6)) else draw(st.sampled_from(S.DTYPES)), shape=s2 if s2 is not None else shape))
    red = draw(st.sampled_from(RED + ("bogus",)))
    extra = ""
    beta = 1.0
    if name in ("smooth_l1_loss", "huber_loss") and draw(st.booleans()):
        beta = draw(st.sampled_from([0.5, 2.0, 0.0, -1.0]))
        extra = ", %s=%s" % ("beta" if name == "smooth_l1_loss" else "delta", beta)
    call = "r = F.%s(x, y, reduction=%r%s)" % (name, red, extra)
    if red == "bogus":
        return Example(op, {"x": x, "y": y}, call, R.raises("unknown reduction"))
    bce = name == "binary_cross_entropy_with_logits"
    if x.shape != y.shape:  # PyTorch warns and broadcasts, but BCE with logits raises
        return Example(op, {"x": x, "y": y}, call, R.raises("target size differs") if bce else R.anything())
    if bce and (x.dtype not in S.FLOATS or y.dtype not in S.FLOATS):
        return Example(op, {"x": x, "y": y}, call, R.raises("integer or bool input"))
    if x.dtype != y.dtype or x.dtype not in S.FLOATS:
        return Example(op, {"x": x, "y": y}, call, R.anything())
    if beta < 0 or (beta == 0 and name == "huber_loss"):
        return Example(op, {"x": x, "y": y}, call, R.raises("beta/delta must be positive") if beta < 0 else R.anything())
    d = f64(x.arr) - f64(y.arr)
    ad = np.abs(d)
    with np.errstate(all="ignore"):
        if name == "mse_loss":
            v = d * d
        elif name == "l1_loss":
            v = ad
        elif bce:
            xa, ya = f64(x.arr), f64(y.arr)
            v = (1 - ya) * xa + np.maximum(-xa, 0) + np.log1p(np.exp(-np.abs(xa)))
        elif name == "smooth_l1_loss":
            v = np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta) if beta > 0 else ad
        else:
            v = np.where(ad < beta, 0.5 * d * d, beta * (ad - 0.5 * beta))
    e = _reduce(v, red, x.dtype)
    if bce:  # (1 - t) x rounds in the dtype: an error of a few ulp of |x| in every element's loss
        finite = np.abs(f64(x.arr))[np.isfinite(f64(x.arr))]
        e.atol = ((4e-7 if x.dtype == "float32" else 1e-15) * (1 + (finite.max() if finite.size else 0))
                  * (max(x.arr.size, 1) if red == "sum" else 1))
    if red != "none":
        wild = ~np.isfinite(f64(x.arr)) | ~np.isfinite(f64(y.arr)) | (np.abs(f64(x.arr)) > 1e15) | (np.abs(f64(y.arr)) > 1e15)
        if wild.any() and not np.isnan(e.value).all():
            e = R.anything(dtype=x.dtype)
    return Example(op, {"x": x, "y": y}, call, e)


def _log_softmax(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return a - m - np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


@st.composite
def class_loss_examples(draw, op):
    name = op.split(".")[-1]
    n = draw(st.sampled_from([1, 2, 3, 0]))
    c = draw(st.sampled_from([1, 2, 3]))
    dt = draw(st.sampled_from(S.FLOATS))
    x = draw(S.tensors(dt, shape=(n, c) if draw(st.integers(0, 8)) else draw(S.shapes(0, 3)), mode="nice"))
    tdt = "int64" if draw(st.integers(0, 6)) else draw(st.sampled_from(["int32", "float32"]))
    t = draw(S.tensors(tdt, shape=(n,) if draw(st.integers(0, 8)) else draw(S.shapes(0, 2)),
                       elements=st.one_of(st.integers(0, c - 1), st.integers(0, c - 1), st.sampled_from([-100, -1, c])), views=False))
    red = draw(st.sampled_from(RED))
    call = "r = F.%s(x, t, reduction=%r)" % (name, red)
    inputs = {"x": x, "t": t}
    if x.ndim != 2 or t.shape != (x.shape[0],) or t.dtype != "int64":
        e = R.raises("input must be [N, C] with int64 targets [N]") if x.ndim == 2 and t.dtype != "float32" else R.anything()
        return Example(op, inputs, call, e)
    tg = t.arr
    valid = tg != -100
    c = x.shape[1]  # a random 2-D shape may have another class count than the one the targets were drawn for
    if c == 0:  # no classes: every target is out of range, or ignored (PyTorch's result is then unspecified)
        return Example(op, inputs, call, R.raises("no classes") if valid.any() else R.anything())
    if ((tg[valid] < 0) | (tg[valid] >= c)).any():
        return Example(op, inputs, call, R.raises("target out of range"))
    with np.errstate(all="ignore"):
        lp = _log_softmax(f64(x.arr), 1) if name == "cross_entropy" else f64(x.arr)
        picked = np.where(valid, -lp[np.arange(len(tg)), np.where(valid, tg, 0)] if len(tg) else np.zeros(0), 0.0)
        if red == "mean":
            v = picked.sum() / valid.sum() if valid.sum() else np.float64("nan")
            return Example(op, inputs, call, R.value(v, dt, rtol=1e-4, atol=1e-5))
    return Example(op, inputs, call, _reduce(picked, red, dt))


@st.composite
def layer_norm_examples(draw, op):
    shape = draw(S.shapes(1, 3))
    dt = draw(st.sampled_from(S.FLOATS))
    x = draw(S.tensors(dt, shape=shape, mode="nice"))
    k = draw(st.integers(1, len(shape)))
    ns = shape[len(shape) - k:]
    if draw(st.integers(0, 6)) == 0:
        ns = tuple(s + 1 for s in ns)
    use_w = draw(st.booleans())
    inputs = {"x": x}
    args = ""
    if use_w:
        inputs["w"] = draw(S.tensors(dt, shape=ns, mode="nice"))
        inputs["b"] = draw(S.tensors(dt, shape=ns, mode="nice"))
        args = ", w, b"
    call = "r = F.layer_norm(x, %s%s)" % (S.fmt(tuple(ns)), args)
    if ns != shape[len(shape) - k:]:
        return Example(op, inputs, call, R.raises("normalized_shape does not match the input"))
    a = f64(x.arr)
    ax = tuple(range(len(shape) - k, len(shape)))
    with np.errstate(all="ignore"):
        mu = a.mean(axis=ax, keepdims=True) if a.size else a
        var = ((a - mu) ** 2).mean(axis=ax, keepdims=True) if a.size else a
        y = (a - mu) / np.sqrt(var + 1e-5)
        if use_w:
            y = y * f64(inputs["w"].arr) + f64(inputs["b"].arr)
    return Example(op, inputs, call, R.value(y, dt, rtol=1e-4, atol=1e-4))


def _conv(x, w, b, stride, padding):
    """Cross-correlation of x [N, C, *spatial] with w [O, C, *kernel] (2 or 3 spatial dims), plus b."""
    nd = x.ndim - 2
    xp = np.pad(x, ((0, 0), (0, 0)) + ((padding, padding),) * nd)
    out_size = [(s + 2 * padding - k) // stride + 1 for s, k in zip(x.shape[2:], w.shape[2:])]
    if any(o <= 0 for o in out_size):
        raise ValueError("output size is too small")
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(out_size))
    axes = list(range(1, nd + 2))
    for pos in itertools.product(*(range(o) for o in out_size)):
        window = (slice(None), slice(None)) + tuple(slice(p * stride, p * stride + k) for p, k in zip(pos, w.shape[2:]))
        out[(slice(None), slice(None)) + pos] = np.tensordot(xp[window], w, axes=(axes, axes))
    if b is not None:
        out += b.reshape((-1,) + (1,) * nd)
    return out


@st.composite
def conv_examples(draw, op, nd):
    """F.conv2d (nd = 2) or F.conv3d (nd = 3): valid and invalid shapes, strides and paddings; an input with
    one dim fewer is one unbatched image (volume)."""
    dt = draw(st.sampled_from(S.FLOATS))
    n, c, o = draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 2]))
    spatial = tuple(draw(st.sampled_from([1, 2, 3, 4])) for _ in range(nd))
    k = draw(st.sampled_from([1, 2, 3]))
    xs = (n, c) + spatial if draw(st.integers(0, 8)) else draw(S.shapes(nd, nd + 2))
    ws = (o, c) + (k,) * nd if draw(st.integers(0, 8)) else (o, c + 1) + (k,) * nd
    x = draw(S.tensors(dt, shape=xs, mode="nice"))
    wt = draw(S.tensors(dt, shape=ws, mode="nice"))
    use_b = draw(st.booleans())
    stride = draw(st.sampled_from([1, 2, 0]))
    padding = draw(st.sampled_from([0, 1, -1]))
    inputs = {"x": x, "w": wt}
    if use_b:
        inputs["b"] = draw(S.tensors(dt, shape=(o,), mode="nice"))
    call = "r = F.conv%dd(x, w%s, stride=%d, padding=%d)" % (nd, ", b" if use_b else "", stride, padding)
    channels = {nd + 1: xs[0], nd + 2: xs[1]}.get(x.ndim)
    if channels != ws[1] or stride <= 0 or padding < 0:
        return Example(op, inputs, call, R.raises("bad conv%dd arguments" % nd))
    batched = x.ndim == nd + 2
    xb = f64(x.arr) if batched else f64(x.arr)[None]

    def ref():
        y = _conv(xb, f64(wt.arr), f64(inputs["b"].arr) if use_b else None, stride, padding)
        return y if batched else y[0]
    return Example(op, inputs, call, R.ref(ref, dt, rtol=1e-5, atol=1e-5))


@st.composite
def pool_examples(draw, op):
    name = op.split(".")[-1]
    dt = draw(st.sampled_from(S.FLOATS))
    shape = (draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2, 3, 4])), draw(st.sampled_from([1, 2, 4])))
    if draw(st.integers(0, 8)) == 0:
        shape = draw(S.shapes(0, 4))
    x = draw(S.tensors(dt, shape=shape))
    k = draw(st.sampled_from([1, 2, 3, 0]))
    s = draw(st.sampled_from([None, 1, 2]))
    call = "r = F.%s(x, %d%s)" % (name, k, "" if s is None else ", stride=%d" % s)
    s = s or k
    if x.ndim not in (3, 4) or k <= 0:
        return Example(op, {"x": x}, call, R.raises("bad pooling arguments") if k <= 0 or x.ndim < 3 else R.anything())
    h, w = shape[-2:]
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    if h < k or w < k or 0 in shape:
        return Example(op, {"x": x}, call, R.raises("output size too small") if (h < k or w < k) else R.anything())
    a = f64(x.arr)
    out = np.zeros(a.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = a[..., i * s:i * s + k, j * s:j * s + k]
            with np.errstate(all="ignore"):
                out[..., i, j] = np.max(win, axis=(-2, -1)) if name == "max_pool2d" else np.mean(win, axis=(-2, -1))
    e = R.value(out, dt, rtol=1e-5, atol=1e-5)
    if name == "avg_pool2d":
        e.ignore = ~np.isfinite(out) | (np.abs(out) > 1e15)
    return Example(op, {"x": x}, call, e)


@st.composite
def normalize_examples(draw, op):
    name = op.split(".")[-1]
    dt = draw(st.sampled_from(S.FLOATS))
    shape = draw(S.shapes(1, 3))
    x = draw(S.tensors(dt, shape=shape, mode="nice"))
    d = draw(S.dims(len(shape)))
    from .ops_shape import wrap
    w = wrap(d, len(shape))
    if name == "normalize":
        call = "r = F.normalize(x, dim=%d)" % d
        if w is None:
            return Example(op, {"x": x}, call, R.raises("dim out of range"))
        a = f64(x.arr)
        nrm = np.sqrt(np.sum(a * a, axis=w, keepdims=True)) if a.size else a
        return Example(op, {"x": x}, call, R.value(a / np.maximum(nrm, 1e-12), dt, rtol=1e-5, atol=1e-6))
    y = draw(S.tensors(dt, shape=shape if draw(st.integers(0, 6)) else draw(S.shapes(1, 3)), mode="nice"))
    call = "r = F.cosine_similarity(x, y, dim=%d)" % d
    try:
        bs = np.broadcast_shapes(x.shape, y.shape)
    except ValueError as exc:
        return Example(op, {"x": x, "y": y}, call, R.raises(str(exc)))
    w = wrap(d, len(bs))
    if w is None:
        return Example(op, {"x": x, "y": y}, call, R.raises("dim out of range"))
    a, b = np.broadcast_to(f64(x.arr), bs), np.broadcast_to(f64(y.arr), bs)
    num = np.sum(a * b, axis=w)
    den = np.sqrt(np.maximum(np.sum(a * a, axis=w) * np.sum(b * b, axis=w), 1e-16))
    e = R.value(num / den, dt, rtol=1e-4, atol=1e-5)
    if x.shape != y.shape:
        e = R.either(e)
    return Example(op, {"x": x, "y": y}, call, e)


@st.composite
def pad_examples(draw, op):
    """F.pad in every mode against numpy.pad: negative pads crop in constant mode, reflect / replicate /
    circular are numpy's reflect / edge / wrap; errors for an odd or too long pad list, an unknown mode, a
    value with a non-constant mode, a value an integer tensor cannot hold, a negative pad or one past the
    dim's limit (reflect: size - 1, circular: size) outside constant mode, and a crop past the dim."""
    x = draw(S.tensors(max_dims=4))
    k = draw(st.integers(0, min(x.ndim, 3)))
    pads = [draw(st.integers(-3, 4)) for _ in range(2 * k)]
    if draw(st.integers(0, 9)) == 0:
        pads = pads + [draw(st.integers(0, 2))] * draw(st.sampled_from([1, 2, 3]))  # odd or beyond the dims
    mode = draw(st.sampled_from(["constant", "constant", "reflect", "replicate", "circular"] +
                                ([] if draw(st.integers(0, 19)) else ["wrap"])))
    value = None
    if draw(st.integers(0, 2)) == 0:
        value = draw(st.sampled_from([0, 1.5, -2, 7, True, 0.0, float("nan"), 1e20, 2**40]))
    call = "r = F.pad(x, %s, mode=%r%s)" % (S.fmt(tuple(pads)), mode, "" if value is None else ", value=%r" % value)
    ex = lambda e: Example(op, {"x": x}, call, e)  # noqa: E731
    if len(pads) % 2 or len(pads) // 2 > x.ndim:
        return ex(R.raises("pad length odd or beyond the input's dims"))
    if mode not in ("constant", "reflect", "replicate", "circular"):
        return ex(R.raises("unknown padding mode"))
    if mode != "constant" and value not in (None, 0, 0.0, False):
        return ex(R.raises("a value with a non-constant mode"))
    fill = 0 if value is None else value
    if x.dtype == "bool":
        fill = bool(fill != 0)
    elif x.dtype in S.INTS:
        if isinstance(fill, float) and not np.isfinite(fill):
            return ex(R.raises("non-finite value into an integer tensor"))
        t = int(np.trunc(fill))
        lo, hi = S.INT_RANGE[x.dtype]
        if not lo <= t <= hi:
            return ex(R.raises("value out of the dtype's range"))
        fill = t
    a = x.arr
    for j in range(len(pads) // 2):
        d = x.ndim - 1 - j
        left, right, n = pads[2 * j], pads[2 * j + 1], a.shape[d]
        if mode == "constant":
            if n + min(left, 0) + min(right, 0) < 0:
                return ex(R.raises("a crop past the dim"))
            a = a[(slice(None),) * d + (slice(max(-left, 0), n - max(-right, 0)),)]
            width = [(0, 0)] * a.ndim
            width[d] = (max(left, 0), max(right, 0))
            a = np.pad(a, width, mode="constant", constant_values=np.asarray(fill).astype(a.dtype))
            continue
        limit = n - 1 if mode == "reflect" else n
        if left < 0 or right < 0 or (mode != "replicate" and (left > limit or right > limit)) or n == 0:
            return ex(R.raises("a pad outside the mode's limits"))
        width = [(0, 0)] * a.ndim
        width[d] = (left, right)
        a = np.pad(a, width, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])
    return ex(R.value(a, x.dtype))


@st.composite
def embedding_examples(draw, op):
    dt = draw(st.sampled_from(S.FLOATS))
    v, dim = draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 2, 3]))
    w = draw(S.tensors(dt, shape=(v, dim) if draw(st.integers(0, 8)) else draw(S.shapes(1, 3)), mode="nice"))
    idx = draw(S.tensors(draw(st.sampled_from(["int64", "int64", "int32", "float32"])), shape=draw(S.shapes(0, 2)),
                         elements=st.one_of(st.integers(0, v - 1), st.sampled_from([-1, v])), views=False))
    call = "r = F.embedding(i, w)"
    if w.ndim != 2 or idx.dtype == "float32":
        e = R.raises("embedding needs a 2-D weight and integer indices")
    elif idx.arr.size and (idx.arr.min() < 0 or idx.arr.max() >= w.shape[0]):
        e = R.raises("index out of range")
    else:
        e = R.value(w.arr[idx.arr.astype(np.int64)], dt)
        if idx.dtype == "int32":
            e = R.either(e)
    return Example(op, {"i": idx, "w": w}, call, e)


def _embedding_bag(w, idx, offsets, mode, psw, pad):
    """Per bag (offsets[b] to the next offset, the last to the end) the sum / mean / max of w's rows."""
    n, D = len(idx), w.shape[1]
    out = np.zeros((len(offsets), D))
    for b, start in enumerate(offsets):
        end = offsets[b + 1] if b + 1 < len(offsets) else n
        rows = [w[r] * (psw[i] if psw is not None else 1.0) for i, r in enumerate(idx[start:end], start) if r != pad]
        if rows:
            out[b] = np.max(rows, 0) if mode == "max" else np.sum(rows, 0) / (len(rows) if mode == "mean" else 1)
    return out


@st.composite
def embedding_bag_examples(draw, op):
    dt = draw(st.sampled_from(S.FLOATS))
    v, dim = draw(st.integers(1, 5)), draw(st.integers(0, 3))
    w = draw(S.tensors(dt, shape=(v, dim) if draw(st.integers(0, 10)) else draw(S.shapes(1, 3)), mode="nice"))
    mode = draw(st.sampled_from(["sum", "mean", "max"] + (["avg"] if draw(st.integers(0, 10)) == 0 else [])))
    two_d = draw(st.booleans())
    shape = (draw(st.integers(0, 3)), draw(st.integers(0, 3))) if two_d else (draw(st.integers(0, 7)),)
    elements = st.integers(0, max(v - 1, 0)) if draw(st.integers(0, 8)) else st.integers(-1, v)
    idx = draw(S.tensors("int64", shape=shape, mode="nice", elements=elements, views=two_d))
    n = int(np.prod(shape))
    offsets, ilo = None, False
    if not two_d or draw(st.integers(0, 10)) == 0:
        k = draw(st.integers(0, 4))
        offsets = sorted(draw(st.lists(st.integers(0, n), min_size=k, max_size=k)))
        if offsets and draw(st.integers(0, 6)):
            offsets[0] = 0
        ilo = bool(offsets) and draw(st.booleans())
    psw = draw(S.tensors(dt, shape=shape, mode="nice")) if mode == "sum" and draw(st.booleans()) else None
    pad = draw(st.sampled_from([None, 0, -1, v]))
    call = "r = F.embedding_bag(i, w, %s, mode=%r, per_sample_weights=%s, include_last_offset=%r, padding_idx=%r)" % (
        "None" if offsets is None else "loom.tensor(%r, dtype=loom.int64)" % offsets, mode,
        "p" if psw is not None else "None", ilo, pad)
    inputs = {"i": idx, "w": w}
    if psw is not None:
        inputs["p"] = psw
    iv = np.asarray(idx.arr).reshape(-1)
    if (w.ndim != 2 or mode == "avg" or (two_d and offsets is not None) or (not two_d and offsets is None)
            or (pad is not None and not -w.shape[0] <= pad < w.shape[0])):
        return Example(op, inputs, call, R.raises("bad embedding_bag arguments"))
    if two_d:
        offsets = [b * shape[1] for b in range(shape[0])]
    elif offsets and offsets[0] != 0:
        return Example(op, inputs, call, R.raises("offsets[0] must be 0"))
    elif ilo:
        offsets = offsets[:-1]
    if iv.size and (iv.min() < 0 or iv.max() >= w.shape[0]):
        # the CPU checks every index; CUDA only the ones its kernels read (none without bags or columns)
        read = bool(offsets) and dim > 0
        return Example(op, inputs, call, R.raises("index out of range") if read or S.DEVICE == "cpu" else
                       R.anything())
    pi = None if pad is None else pad % w.shape[0]
    ps = None if psw is None else f64(psw.arr).reshape(-1)
    with np.errstate(all="ignore"):
        out = _embedding_bag(f64(w.arr), iv.tolist(), offsets, mode, ps, pi)
    return Example(op, inputs, call, R.value(out, dt, rtol=1e-5 if dt == "float32" else 1e-10, atol=1e-5))


@st.composite
def dropout_examples(draw, op):
    x = draw(S.tensors(S.FLOATS))
    p = draw(st.sampled_from([0.0, 0.5, 1.0, -0.1, 1.5]))
    training = draw(st.booleans())
    call = "r = F.dropout(x, p=%s, training=%s)" % (p, training)
    if not 0 <= p <= 1:
        e = R.raises("p must be in [0, 1]")
    elif not training or p == 0:
        e = R.value(x.arr, x.dtype)
    else:
        e = R.anything(dtype=x.dtype)
    return Example(op, {"x": x}, call, e)


def _grid_source(g, size, padding, align):
    x = (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2
    if padding == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align else (-1, 2 * size - 1)
        if lo2 == hi2:
            x = np.zeros_like(x)
        else:
            lo, span = lo2 / 2, (hi2 - lo2) / 2
            d = np.abs(x - lo)
            flips = np.floor(d / span)
            x = np.where(flips % 2 == 0, d - flips * span + lo, span - (d - flips * span) + lo)
    return np.clip(x, 0, size - 1) if padding != "zeros" else x


def _grid_sample(x, grid, mode, padding, align):
    N, C, H, W = x.shape
    ix, iy = _grid_source(grid[..., 0], W, padding, align), _grid_source(grid[..., 1], H, padding, align)

    def at(yy, xx):
        ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
        v = x[np.arange(N)[:, None, None], :, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        return np.where(ok[..., None], v, 0.0)

    with np.errstate(all="ignore"):
        if mode == "nearest":
            out = at(np.rint(iy).astype(np.int64), np.rint(ix).astype(np.int64))
        else:
            x0, y0 = np.floor(ix).astype(np.int64), np.floor(iy).astype(np.int64)
            fx, fy = (ix - x0)[..., None], (iy - y0)[..., None]
            taps = [(at(y0, x0), (1 - fx) * (1 - fy)), (at(y0, x0 + 1), fx * (1 - fy)),
                    (at(y0 + 1, x0), (1 - fx) * fy), (at(y0 + 1, x0 + 1), fx * fy)]
            out = sum(v * w for v, w in taps)  # a tap outside the image reads 0
    return out.transpose(0, 3, 1, 2)


@st.composite
def grid_sample_examples(draw, op):
    dt = draw(st.sampled_from(S.FLOATS))
    n, c = draw(st.sampled_from([1, 2])), draw(st.sampled_from([0, 1, 3]))
    xs = (n, c, draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    gs = (n, draw(st.integers(0, 3)), draw(st.integers(1, 3)), 2)
    if draw(st.integers(0, 8)) == 0:
        xs = draw(S.shapes(2, 5))
    if draw(st.integers(0, 8)) == 0:
        gs = gs[:3] + (draw(st.sampled_from([1, 3])),)
    x = draw(S.tensors(dt, shape=xs, mode="nice"))
    g = draw(S.tensors(dt if draw(st.integers(0, 8)) else S.FLOATS, shape=gs, mode="nice"))
    mode = draw(st.sampled_from(["bilinear", "nearest"] + ([] if draw(st.integers(0, 8)) else ["linear"])))
    padding = draw(st.sampled_from(["zeros", "border", "reflection"]))
    align = draw(st.booleans())
    call = "r = F.grid_sample(x, g, mode=%r, padding_mode=%r, align_corners=%r)" % (mode, padding, align)
    inputs = {"x": x, "g": g}
    if (mode == "linear" or len(xs) != 4 or gs[3] != 2 or xs[0] != gs[0] or 0 in xs[2:] or g.dtype != x.dtype):
        return Example(op, inputs, call, R.raises("bad grid_sample arguments"))
    gv = np.clip(f64(g.arr), -3, 3)  # "nice" values; keep the references' integer casts in range
    if not np.array_equal(gv, f64(g.arr)):
        return Example(op, inputs, call, R.anything())
    if dt == "float32" and mode == "nearest":  # a point halfway between pixels may round either way
        return Example(op, inputs, call, R.anything())
    e = R.value(_grid_sample(f64(x.arr), gv, mode, padding, align), dt, rtol=1e-4, atol=1e-4)
    return Example(op, inputs, call, e)


@st.composite
def affine_grid_examples(draw, op):
    dt = draw(st.sampled_from(S.FLOATS))
    n = draw(st.integers(1, 3))
    ts = (n, 2, 3) if draw(st.integers(0, 8)) else draw(S.shapes(1, 4))
    size = [n, draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))]
    if draw(st.integers(0, 8)) == 0:
        size = size[:3]
    theta = draw(S.tensors(dt, shape=ts, mode="nice"))
    align = draw(st.booleans())
    call = "r = F.affine_grid(th, %r, align_corners=%r)" % (size, align)
    if ts != (n, 2, 3) or len(size) != 4:
        return Example(op, {"th": theta}, call, R.raises("bad affine_grid arguments"))
    H, W = size[2], size[3]

    def coords(k):
        if k <= 1:
            return np.zeros(k)
        c = np.linspace(-1, 1, k)
        return c if align else c * (k - 1) / k

    base = np.stack([np.broadcast_to(coords(W)[None, :], (H, W)), np.broadcast_to(coords(H)[:, None], (H, W)),
                     np.ones((H, W))], -1)
    with np.errstate(all="ignore"):
        out = np.einsum("hwk,njk->nhwj", base, f64(theta.arr))
    return Example(op, {"th": theta}, call, R.value(out, dt, rtol=1e-5, atol=1e-5))


def _ctc_nll(lp, targets, il, tl, blank, concatenated):
    """-log of the summed probability of every alignment, the alpha recursion in log space (float64)."""
    T, N, C = lp.shape
    out, off = np.zeros(N), 0
    for n in range(N):
        L = tl[n]
        lab = [int(v) for v in (targets.reshape(-1)[off:off + L] if concatenated else targets[n, :L])]
        off += L
        ext = [blank]
        for v in lab:
            ext += [v, blank]
        if il[n] == 0:
            out[n] = 0.0 if L == 0 else np.inf
            continue
        a = np.full(len(ext), -np.inf)
        a[:2] = lp[0, n, ext[:2]]
        for t in range(1, il[n]):
            prev, a = a, np.full(len(ext), -np.inf)
            for s in range(len(ext)):
                terms = [prev[s]] + ([prev[s - 1]] if s >= 1 else [])
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    terms.append(prev[s - 2])
                a[s] = np.logaddexp.reduce(terms) + lp[t, n, ext[s]]
        out[n] = -np.logaddexp.reduce(a[-2:] if len(ext) > 1 else a[-1:])
    return out


@st.composite
def ctc_loss_examples(draw, op):
    dt = draw(st.sampled_from(S.FLOATS))
    T, N, C = draw(st.integers(0, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    blank = draw(st.integers(0, C - 1)) if draw(st.integers(0, 8)) else draw(st.sampled_from([C, -1]))
    concatenated = draw(st.booleans())
    tl = [draw(st.integers(0, 3)) for _ in range(N)]
    il = [draw(st.integers(0, T)) for _ in range(N)]
    labels = [c for c in range(C) if c != blank] or [0]
    tshape = (sum(tl),) if concatenated else (N, max(tl + [1]))
    elements = st.sampled_from(labels) if draw(st.integers(0, 8)) else st.integers(-1, C)
    tg = draw(S.tensors("int64", shape=tshape, mode="nice", elements=elements))
    x = draw(S.tensors(dt, shape=(T, N, C), mode="nice"))
    red = draw(st.sampled_from(RED + (("bogus",) if draw(st.integers(0, 10)) == 0 else ())))
    zi = draw(st.booleans())
    if draw(st.integers(0, 10)) == 0:  # a length out of range, or one length too many
        il = il + [1] if draw(st.booleans()) else [T + 1] + il[1:]
    call = "r = F.ctc_loss(x, tg, %r, %r, blank=%d, reduction=%r, zero_infinity=%r)" % (il, tl, blank, red, zi)
    inputs = {"x": x, "tg": tg}
    tv = np.asarray(tg.arr)
    used = np.concatenate([tv.reshape(-1)[:sum(tl)]] if concatenated else [tv[n, :tl[n]] for n in range(N)] or [[]])
    if (red == "bogus" or not 0 <= blank < C or len(il) != N or any(v > T for v in il)
            or any(v < 0 or v >= C or v == blank for v in used.tolist())):
        return Example(op, inputs, call, R.raises("bad ctc_loss arguments"))
    with np.errstate(all="ignore"):
        nll = _ctc_nll(f64(x.arr), tv, il, tl, blank, concatenated)
    if zi:
        nll = np.where(np.isinf(nll), 0.0, nll)
    if red == "mean":
        v = np.mean(nll / np.maximum(np.array(tl), 1))
    else:
        v = np.sum(nll) if red == "sum" else nll
    return Example(op, inputs, call, R.value(v, dt, rtol=1e-4 if dt == "float32" else 1e-8, atol=1e-5))


def register_all():
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy_with_logits"):
        register("F." + name, pointwise_loss_examples("F." + name), family="nn")
    for name in ("cross_entropy", "nll_loss"):
        register("F." + name, class_loss_examples("F." + name), family="nn")
    register("F.layer_norm", layer_norm_examples("F.layer_norm"), family="nn")
    register("F.conv2d", conv_examples("F.conv2d", 2), family="nn")
    register("F.conv3d", conv_examples("F.conv3d", 3), family="nn")
    for name in ("max_pool2d", "avg_pool2d"):
        register("F." + name, pool_examples("F." + name), family="nn")
    for name in ("normalize", "cosine_similarity"):
        register("F." + name, normalize_examples("F." + name), family="nn")
    register("F.embedding", embedding_examples("F.embedding"), family="nn")
    register("F.pad", pad_examples("F.pad"), family="nn")
    register("F.embedding_bag", embedding_bag_examples("F.embedding_bag"), family="nn")
    register("F.dropout", dropout_examples("F.dropout"), family="nn")
    register("F.grid_sample", grid_sample_examples("F.grid_sample"), family="nn")
    register("F.affine_grid", affine_grid_examples("F.affine_grid"), family="nn")
    register("F.ctc_loss", ctc_loss_examples("F.ctc_loss"), family="nn")
