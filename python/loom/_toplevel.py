"""PyTorch's top-level names that loom.nn.functional or other modules already implement under another
signature (``torch.batch_norm``'s argument order, the losses' integer ``reduction``), constants, the
global generator's state, anomaly mode switches, and ``torch.gradient``."""
import builtins
import math

from . import _C
from ._C import Tensor

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(name, r):
    if isinstance(r, str) and r in ("none", "mean", "sum"):
        return r
    if isinstance(r, builtins.bool) or r not in _REDUCTIONS:
        raise ValueError(f"{name}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got {r!r}")
    return _REDUCTIONS[r]


def _tensor(name, x, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _f():
    from .nn import functional
    return functional


# ---- the aten signatures of ops loom.nn.functional has ----

def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    return _f().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    return _f().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _f().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def kl_div(input, target, reduction=1, *, log_target=False):
    return _f().kl_div(input, target, reduction=_reduction("kl_div", reduction), log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _f().margin_ranking_loss(input1, input2, target, margin=margin,
                                    reduction=_reduction("margin_ranking_loss", reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _f().hinge_embedding_loss(input, target, margin=margin,
                                     reduction=_reduction("hinge_embedding_loss", reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _f().cosine_embedding_loss(input1, input2, target, margin=margin,
                                      reduction=_reduction("cosine_embedding_loss", reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=1):
    return _f().triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                                    reduction=_reduction("triplet_margin_loss", reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _f().poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps,
                                 reduction=_reduction("poisson_nll_loss", reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _f().binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(
        "binary_cross_entropy_with_logits", reduction), pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1, zero_infinity=False):
    return _f().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank,
                         reduction=_reduction("ctc_loss", reduction), zero_infinity=zero_infinity)


def constant_pad_nd(input, pad, value=0):
    _tensor("constant_pad_nd", input)
    return _f().pad(input, list(pad), mode="constant", value=value)


def adaptive_max_pool1d(input, output_size):
    return _f().adaptive_max_pool1d(input, output_size, return_indices=True)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _f().max_pool1d(input, kernel_size, stride if stride not in ((), []) else None, padding, dilation,
                           ceil_mode=ceil_mode, return_indices=True)


def feature_dropout(input, p, train):
    """Zeroes whole feature maps: each (sample, channel) of an [N, C, *] input is kept with probability
    1 - p and then scaled by 1 / (1 - p)."""
    _tensor("feature_dropout", input)
    if p < 0 or p > 1:
        raise ValueError(f"feature_dropout(): dropout probability has to be between 0 and 1, but got {p}")
    if not train or p == 0:
        return input
    if input.dim() < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got {input.dim()}")
    if p == 1:
        return input * 0
    from . import rand
    keep = rand(list(input.shape[:2]) + [1] * (input.dim() - 2), dtype=input.dtype, device=input.device) >= p
    return input * (keep.to(input.dtype) / (1 - p))


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _C._functional.lstm_cell(input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _C._functional.gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _C._functional.rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _C._functional.rnn_relu_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (torch.rsub)."""
    from . import sub
    _tensor("rsub", input)
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    return (input * (-alpha)) + other if alpha != 1 else other - input


def nuclear_norm(input, dim=None, keepdim=False):
    from . import linalg
    _tensor("nuclear_norm", input)
    if isinstance(dim, builtins.bool):
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", dim=(-2, -1) if dim is None else tuple(dim), keepdim=keepdim)


def frobenius_norm(input, dim, keepdim=False):
    from . import linalg
    _tensor("frobenius_norm", input)
    dims = (dim,) if isinstance(dim, builtins.int) else tuple(dim)
    return linalg.vector_norm(input, 2, dim=dims, keepdim=keepdim)


def fill(input, value):
    """A tensor like ``input`` filled with ``value`` (a number or a 0-d tensor), differentiable in ``value``."""
    from . import full_like
    _tensor("fill", input)
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               "dimensions.")
        return value.to(input.dtype).expand(input.shape).clone()
    return full_like(input, value)


def is_signed(input):
    return _tensor("is_signed", input).dtype != _C.bool


def is_conj(input):
    _tensor("is_conj", input)
    return False  # loom has no complex tensors


def is_neg(input):
    _tensor("is_neg", input)
    return False


def is_inference(input):
    return _tensor("is_inference", input).is_inference()


def typename(obj):
    """'loom.FloatTensor' and the like for tensors, the qualified type name for anything else."""
    if isinstance(obj, Tensor):
        return {"float32": "loom.FloatTensor", "float64": "loom.DoubleTensor", "int32": "loom.IntTensor",
                "int64": "loom.LongTensor", "bool": "loom.BoolTensor"}[obj.dtype.name]
    module, name = type(obj).__module__, type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def is_storage(obj):
    return False


# ---- nextafter ----

_FLOAT_BITS = {"float32": (24, -149, 3.4028234663852886e38), "float64": (53, -1074, 1.7976931348623157e308)}


def nextafter(input, other):
    """The next representable value after ``input`` towards ``other``, elementwise (torch.nextafter):
    computed from the binade of each value (frexp), one unit in the last place up or down, half a unit
    when stepping below a power of two, the smallest subnormal from zero; NaN if either is NaN. Floating
    tensors only; the gradient passes to ``input`` unchanged, as in PyTorch."""
    from . import broadcast_tensors, frexp, full_like, ldexp, no_grad, ones_like, promote_types, where
    if not isinstance(input, Tensor):
        raise TypeError(f"nextafter(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(other, Tensor):
        raise TypeError(f"nextafter(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if not (input.is_floating_point() and other.is_floating_point()):
        raise NotImplementedError(f"nextafter: not implemented for {input.dtype} and {other.dtype} (floating "
                                  "tensors only)")
    dt = promote_types(input.dtype, other.dtype)
    x, y = broadcast_tensors(input.to(dt), other.to(dt))
    bits, min_exp, big = _FLOAT_BITS[dt.name]
    with no_grad():
        xd, yd = x.detach(), y.detach()
        m, e = frexp(xd)
        ulp = ldexp(ones_like(xd), (e - bits).clamp(min=min_exp))
        toward_zero = (yd > xd) != (xd > 0)
        power_of_two_down = toward_zero & (m.abs() == 0.5) & (e - bits > min_exp)
        step = where(power_of_two_down, ulp * 0.5, ulp)
        stepped = where(yd > xd, xd + step, xd - step)
        stepped = where(stepped == 0, xd * 0, stepped)  # stepping to zero keeps the sign: -0.0 from below
        tiny = ldexp(ones_like(xd), full_like(e, min_exp))
        stepped = where(xd == 0, where(yd > 0, tiny, -tiny), stepped)
        stepped = where(xd.isinf(), xd.sign() * big, stepped)
        stepped = where(xd == yd, yd, stepped)
        stepped = where(xd.isnan() | yd.isnan(), xd + yd, stepped)
    return x + (stepped - xd) if x.requires_grad else stepped


# ---- control flow and compilation (eager in loom) ----

def _truth(name, pred):
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
        return builtins.bool(pred.item())
    if isinstance(pred, (builtins.bool, builtins.int, builtins.float)):
        return builtins.bool(pred)
    raise RuntimeError(f"{name}(): Expected pred to be bool or single-element tensor, got {type(pred).__name__}")


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)`` (torch.cond, run eagerly)."""
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"cond(): operands must be a tuple or list, got {type(operands).__name__}")
    return (true_fn if _truth("cond", pred) else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Runs ``carried_inputs = body_fn(*carried_inputs)`` while ``cond_fn(*carried_inputs)`` holds and returns
    them (torch.while_loop, run eagerly)."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"while_loop(): carried_inputs must be a tuple or list, got "
                           f"{type(carried_inputs).__name__}")
    carried = tuple(carried_inputs)
    while _truth("while_loop", cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(carried) != len(carried_inputs):
            raise RuntimeError(f"while_loop(): body_fn returned {len(carried)} values for {len(carried_inputs)} "
                               "carried inputs")
    return carried


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,
            disable=False, **kwargs):
    """torch.compile's signature over loom's eager execution: returns ``model`` itself (or, without one, a
    decorator that does), so scripts that compile their model run unchanged, at eager speed. loom's fused
    kernels are what a compiler would generate for its hot paths; it has no graph compiler."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, name=name, disable=disable, **kwargs)
    if not callable(model):
        raise RuntimeError(f"compile(): model must be callable, got {type(model).__name__}")
    return model


# ---- printing ----

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}
_INT64_MAX = 2**63 - 1


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as torch.set_printoptions: ``precision`` digits after the point (4), more than
    ``threshold`` elements (1000; ``math.inf`` never) summarized with ``edgeitems`` (3) at each end of a
    dimension, rows wrapped at ``linewidth`` (80) characters, ``sci_mode`` True / False to force or forbid
    scientific notation (None: chosen from the values, and reset by every call, as in PyTorch); ``profile``
    ("default", "short", "full") sets the first four before the others apply."""
    opts = _C._get_printoptions()
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be 'default', 'short' or 'full', got {profile!r}")
        opts.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            opts[key] = value
    if sci_mode is not None and not isinstance(sci_mode, builtins.bool):
        raise TypeError(f"set_printoptions(): sci_mode must be a bool or None, got {type(sci_mode).__name__}")
    threshold = opts["threshold"]
    if isinstance(threshold, builtins.float):
        threshold = _INT64_MAX if threshold == math.inf else builtins.int(threshold)
    _C._set_printoptions(builtins.int(opts["precision"]), threshold, builtins.int(opts["edgeitems"]),
                         builtins.int(opts["linewidth"]), sci_mode)


# ---- torch.gradient ----

def _edge_weights(h0, h1):
    """Second-order one-sided weights at an edge with spacings h0 (next) and h1 (after it)."""
    a = -(2 * h0 + h1) / (h0 * (h0 + h1))
    b = (h0 + h1) / (h0 * h1)
    c = -h0 / (h1 * (h0 + h1))
    return a, b, c


def _gradient_dim(f, d, coords, h, edge_order):
    n = f.shape[d]

    def sl(start, length):
        return f.narrow(d, start, length)

    def shape_for(t):
        s = [1] * f.dim()
        s[d] = t.shape[0]
        return t.reshape(s)

    if coords is None:
        interior = (sl(2, n - 2) - sl(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (sl(1, 1) - sl(0, 1)) / h
            last = (sl(n - 1, 1) - sl(n - 2, 1)) / h
        else:
            first = (sl(0, 1) * -1.5 + sl(1, 1) * 2.0 - sl(2, 1) * 0.5) / h
            last = (sl(n - 3, 1) * 0.5 - sl(n - 2, 1) * 2.0 + sl(n - 1, 1) * 1.5) / h
        return _C.cat([first, interior, last], d)
    x = coords.to(f.dtype)
    dx = x[1:] - x[:-1]
    hd, hs = dx[:-1], dx[1:]  # spacing before and after each interior point
    a = shape_for(-hs / (hd * (hd + hs)))
    b = shape_for((hs - hd) / (hd * hs))
    c = shape_for(hd / (hs * (hd + hs)))
    interior = a * sl(0, n - 2) + b * sl(1, n - 2) + c * sl(2, n - 2)
    if edge_order == 1:
        first = (sl(1, 1) - sl(0, 1)) / dx[0]
        last = (sl(n - 1, 1) - sl(n - 2, 1)) / dx[-1]
    else:
        wa, wb, wc = _edge_weights(dx[0], dx[1])
        first = wa * sl(0, 1) + wb * sl(1, 1) + wc * sl(2, 1)
        wa, wb, wc = _edge_weights(-dx[-1], -dx[-2])
        last = wa * sl(n - 1, 1) + wb * sl(n - 2, 1) + wc * sl(n - 3, 1)
    return _C.cat([first, interior, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates the gradient of a function sampled on ``input`` along ``dim`` (every dimension when None)
    by second-order central differences inside and first- or second-order (``edge_order``) one-sided
    differences at the ends; ``spacing`` is one number, one number per dimension, or one coordinate
    tensor per dimension. Returns a tuple with one tensor per dimension, as torch.gradient."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient(): argument 'input' must be Tensor, not {type(input).__name__}")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    nd = input.dim()
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, builtins.int):
        dims = [dim]
    else:
        dims = list(dim)
    dims = [d + nd if d < 0 else d for d in dims]
    for d in dims:
        if not 0 <= d < max(nd, 1) or nd == 0:
            raise IndexError(f"gradient(): dim {d} is out of range for a tensor of {nd} dimensions")
    if len(set(dims)) != len(dims):
        raise RuntimeError("gradient(): dim appears multiple times in the list of dims")
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (builtins.int, builtins.float)) and not isinstance(spacing, builtins.bool):
        spacings = [spacing] * len(dims)
    elif isinstance(spacing, Tensor) and spacing.dim() == 0:
        spacings = [spacing.item()] * len(dims)
    else:
        spacings = list(spacing)
        if len(spacings) == 1 and len(dims) > 1 and not isinstance(spacings[0], Tensor):
            spacings = spacings * len(dims)
        if len(spacings) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                               f"dim arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacings)} and a dim argument of length {len(dims)}.")
    f = input if input.is_floating_point() else input.to(_C._default_dtype())
    out = []
    for d, s in zip(dims, spacings):
        n = input.shape[d]
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least edge_order+1 "
                               f"(got size {n} at dim {d} with edge_order={edge_order})")
        if isinstance(s, Tensor) and s.dim() == 0:
            s = s.item()
        if isinstance(s, Tensor):
            if s.dim() != 1 or s.shape[0] != n:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same device and of the "
                                   f"same size as the input along its dim: got coordinates of shape "
                                   f"{list(s.shape)} for dim {d} of size {n}")
            out.append(_gradient_dim(f, d, s, None, edge_order))
        else:
            out.append(_gradient_dim(f, d, None, builtins.float(s), edge_order))
    return tuple(out)


def install(ns):
    for name in ("batch_norm", "instance_norm", "embedding", "kl_div", "margin_ranking_loss", "hinge_embedding_loss",
                 "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
                 "binary_cross_entropy_with_logits", "ctc_loss", "constant_pad_nd", "adaptive_max_pool1d",
                 "max_pool1d_with_indices", "feature_dropout", "lstm_cell", "gru_cell", "rnn_tanh_cell",
                 "rnn_relu_cell", "rsub", "nuclear_norm", "frobenius_norm", "fill", "is_signed", "is_conj", "is_neg",
                 "is_inference", "typename", "is_storage", "gradient", "set_printoptions", "nextafter", "cond",
                 "while_loop", "compile"):
        if name not in ns:
            ns[name] = globals()[name]
    if not hasattr(Tensor, "nextafter"):
        Tensor.nextafter = lambda self, other: nextafter(self, other)
        Tensor.nextafter_ = lambda self, other: self.copy_(nextafter(self, other))
    ns.update(inf=math.inf, nan=math.nan, pi=math.pi, e=math.e, newaxis=None)
    from . import random
    from .autograd import anomaly_mode
    from .func import vmap
    ns.update(seed=random.seed, get_rng_state=random.get_rng_state, set_rng_state=random.set_rng_state,
              is_anomaly_enabled=anomaly_mode.is_anomaly_enabled,
              is_anomaly_check_nan_enabled=anomaly_mode.is_anomaly_check_nan_enabled,
              set_anomaly_enabled=anomaly_mode.set_anomaly_enabled)
    ns.setdefault("vmap", vmap)
