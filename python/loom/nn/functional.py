"""Stateless neural-network functions (torch.nn.functional subset)."""
import math

from .. import _C
from .._factories import arange as _arange, eye as _eye, rand as _rand, tensor as _tensor_of, zeros as _zeros


def relu(input, inplace=False):
    _tensor(input, "relu")
    return input.relu_() if inplace else input.relu()


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return input.gelu(approximate=approximate)


def silu(input, inplace=False):
    return input.silu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


# ---- activations composed from the pointwise ops (PyTorch's definitions and gradients) ----
# Where a branch that where() discards could overflow (exp of a large input), its input is clamped
# first, so the discarded branch never feeds inf * 0 = NaN into the gradient.

def _inplace(input, out, inplace):
    return input.copy_(out) if inplace else out


def _tensor(input, name):
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where input > 0, else negative_slope * input."""
    _tensor(input, "leaky_relu")
    return _inplace(input, _C.where(input > 0, input, input * negative_slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha * (exp(input) - 1)."""
    _tensor(input, "elu")
    return _inplace(input, _C.where(input > 0, input, input.clamp(max=0).expm1() * alpha), inplace)


def celu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha * (exp(input / alpha) - 1)."""
    _tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    return _inplace(input, _C.where(input > 0, input, (input.clamp(max=0) / alpha).expm1() * alpha), inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(input, alpha) with the self-normalizing constants."""
    _tensor(input, "selu")
    return _inplace(input, elu(input, _SELU_ALPHA) * _SELU_SCALE, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold."""
    _tensor(input, "softplus")
    bx = input * beta
    return _C.where(bx > threshold, input, bx.clamp(max=threshold).exp().log1p() / beta)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere."""
    _tensor(input, "hardtanh")
    if min_val > max_val:  # equal bounds are allowed, as PyTorch's functional form (the module asks for max > min)
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    inside = (input > min_val) & (input < max_val)
    return _inplace(input, _C.where(inside, input, input.detach().clamp(min_val, max_val)), inplace)


def relu6(input, inplace=False):
    """min(max(input, 0), 6)."""
    _tensor(input, "relu6")
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6."""
    _tensor(input, "hardsigmoid")
    return _inplace(input, hardtanh(input + 3.0, 0.0, 6.0) / 6.0, inplace)


def hardswish(input, inplace=False):
    """input * relu6(input + 3) / 6."""
    _tensor(input, "hardswish")
    return _inplace(input, input * hardsigmoid(input), inplace)


def mish(input, inplace=False):
    """input * tanh(softplus(input))."""
    _tensor(input, "mish")
    return _inplace(input, input * softplus(input).tanh(), inplace)


def logsigmoid(input):
    """log(sigmoid(input)) = -softplus(-input), without overflow."""
    _tensor(input, "logsigmoid")
    return -softplus(-input)


def softsign(input):
    """input / (1 + |input|)."""
    _tensor(input, "softsign")
    return input / (input.abs() + 1.0)


def tanhshrink(input):
    """input - tanh(input)."""
    _tensor(input, "tanhshrink")
    return input - input.tanh()


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value."""
    _tensor(input, "threshold")
    return _inplace(input, _C.where(input > threshold, input, value), inplace)


def hardshrink(input, lambd=0.5):
    """input where |input| > lambd, else 0."""
    _tensor(input, "hardshrink")
    return _C.where(input.abs() > lambd, input, 0.0)


def softshrink(input, lambd=0.5):
    """input - lambd above lambd, input + lambd below -lambd, else 0."""
    _tensor(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    return _C.where(input > lambd, input - lambd, _C.where(input < -lambd, input + lambd, 0.0))


def glu(input, dim=-1):
    """a * sigmoid(b) for the two halves a, b of input along dim."""
    _tensor(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {n}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def pad(input, pad, mode="constant", value=None):
    """Pads the last len(pad) // 2 dims: pad = (left of the last dim, right of it, left of the one before, ...).
    mode "constant" fills with value (0 by default; negative pads crop), "reflect" mirrors without repeating
    the edge, "replicate" repeats the edge, "circular" wraps around. Made of cat, narrow and index_select,
    so the gradient flows back to input."""
    _tensor(input, "pad")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > input.dim():
        raise ValueError(f"pad: padding length must be divisible by 2 and at most twice the input's {input.dim()} "
                         f"dims, got {len(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unknown padding mode {mode!r} (constant, reflect, replicate, circular)")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    out = input
    for k in range(len(pad) // 2):
        d = input.dim() - 1 - k
        left, right = int(pad[2 * k]), int(pad[2 * k + 1])
        n = out.shape[d]
        if mode == "constant":
            if left < 0 or right < 0:  # negative pads crop
                start, stop = max(-left, 0), n - max(-right, 0)
                if stop < start:
                    raise RuntimeError(f"pad: the padding ({left}, {right}) leaves a negative size of dim {d} "
                                       f"(size {n})")
                out = out.narrow(d, start, stop - start)
                left, right = max(left, 0), max(right, 0)
            parts = []
            for m in (left, right):
                shape = list(out.shape)
                shape[d] = m
                parts.append(out.new_full(shape, 0 if value is None else value) if m else None)
            out = _C.cat([t for t in (parts[0], out, parts[1]) if t is not None], d)
            continue
        if left < 0 or right < 0:
            raise RuntimeError(f"pad: negative padding is only supported in constant mode, got ({left}, {right})")
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and (left > limit or right > limit):
            raise RuntimeError(f"pad: padding size should be less than {'the' if mode == 'reflect' else 'or equal to the'}"
                               f" corresponding input dimension, but got: padding ({left}, {right}) at dimension "
                               f"{d} of input {list(input.shape)}")
        if n == 0:
            raise RuntimeError(f"pad: {mode} padding of an empty dim {d}")
        idx = _arange(-left, n + right, device=out.device)
        if mode == "replicate":
            idx = idx.clamp(0, n - 1)
        elif mode == "reflect":
            idx = idx.abs()
            idx = _C.where(idx > n - 1, 2 * (n - 1) - idx, idx)
        else:
            idx = idx.remainder(n)
        out = out.index_select(d, idx)
    return out


def _dim(dim, name):
    if dim is None:
        raise TypeError(f"{name}(): argument 'dim' is required (implicit dim choice is deprecated in PyTorch)")
    return dim


def softmax(input, dim=None, dtype=None):
    return input.softmax(_dim(dim, "softmax"), dtype=dtype)


def log_softmax(input, dim=None, dtype=None):
    return input.log_softmax(_dim(dim, "log_softmax"), dtype=dtype)


def softmin(input, dim=None, dtype=None):
    """softmax(-input, dim)."""
    _tensor(input, "softmin")
    return (-input).softmax(_dim(dim, "softmin"), dtype=dtype)


def one_hot(tensor, num_classes=-1):
    return _C.one_hot(tensor, num_classes)


_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _pair_or(value, n, name):
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"interpolate: {name} shape must match input shape. Input is {n}D, {name} is "
                             f"{len(value)}")
        return list(value)
    return [value] * n


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes [N, C, W] or [N, C, H, W] to `size` or by `scale_factor` (PyTorch's rules for the output size
    and the source coordinates). Modes: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' and 'bicubic'
    (4-D) and 'area' (adaptive average pooling)."""
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not isinstance(mode, str):
        raise TypeError(f"interpolate(): mode must be a str, not {type(mode).__name__}")
    dims = input.dim() - 2
    if dims not in (1, 2):
        raise NotImplementedError(f"interpolate: input of {input.dim()} dims is not supported by loom: 3-D "
                                  f"[N, C, W] and 4-D [N, C, H, W] inputs are")
    if mode in _INTERPOLATING:
        want = {1: ("linear",), 2: ("bilinear", "bicubic")}[dims]
        if mode not in want:
            raise NotImplementedError(f"interpolate: got {input.dim()}-D input, but mode '{mode}' is not supported "
                                      f"for it by loom ('linear' takes 3-D input, 'bilinear' and 'bicubic' 4-D)")
        align = bool(align_corners) if align_corners is not None else False
    elif mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
        align = False
    else:
        raise ValueError(f"interpolate: unknown mode {mode!r} (nearest, nearest-exact, linear, bilinear, bicubic, "
                         f"area)")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by loom")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    spatial = list(input.shape[2:])
    if size is not None:
        out = [int(v) for v in _pair_or(size, dims, "size")]
        scales = None
    else:
        factors = [float(v) for v in _pair_or(scale_factor, dims, "scale_factor")]
        out = [int(math.floor(float(n) * f)) for n, f in zip(spatial, factors)]
        scales = None if recompute_scale_factor else factors
    if dims == 1:  # [N, C, W] as [N, C, 1, W]
        return _resize2d(input.unsqueeze(2), [1] + out, mode, align, None if scales is None else [1.0] + scales) \
            .squeeze(2)
    return _resize2d(input, out, mode, align, scales)


def _resize2d(input, out, mode, align, scales):
    if mode == "area":
        return _C._functional.adaptive_avg_pool2d(input, out)
    if mode in ("bilinear", "linear"):
        return _C._functional._upsample_bilinear2d(input, out, align, scales)
    if mode == "bicubic":
        return _C._functional._upsample_bicubic2d(input, out, align, scales)
    return _C._functional._upsample_nearest2d(input, out, scales, mode == "nearest-exact")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """interpolate under its former name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _pair(value, name, op):
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(isinstance(v, int) for v in value):
            raise TypeError(f"{op}(): {name} must be an int or a pair of ints, got {value!r}")
        return tuple(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}(): {name} must be an int or a pair of ints, got {type(value).__name__}")
    return (value, value)


def _patch_weight(channels, kernel, like):
    """[C * kh * kw, 1, kh, kw]: for each channel, one kernel per patch position that picks that position."""
    kh, kw = kernel
    return _eye(kh * kw, dtype=like.dtype, device=like.device).reshape(kh * kw, 1, kh, kw).repeat(channels, 1, 1, 1)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding patches of [N, C, H, W] (or [C, H, W]) as columns: [N, C * kh * kw, L], L the number of
    patch positions (im2col), in PyTorch's order. It is a grouped convolution with one-hot kernels, so it runs
    the convolution kernels forward and backward."""
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not {type(input).__name__}")
    k, d = _pair(kernel_size, "kernel_size", "unfold"), _pair(dilation, "dilation", "unfold")
    p, st = _pair(padding, "padding", "unfold"), _pair(stride, "stride", "unfold")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"unfold(): expected 3D or 4D (batch mode) input, but got input of size {list(input.shape)}")
    if min(k) <= 0 or min(d) <= 0 or min(st) <= 0 or min(p) < 0:
        raise RuntimeError(f"unfold(): kernel_size, dilation and stride must be positive and padding non-negative, got "
                           f"kernel_size={k}, dilation={d}, padding={p}, stride={st}")
    x = input if input.dim() == 4 else input.unsqueeze(0)
    C = x.shape[1]
    cols = _C._functional.conv2d(x, _patch_weight(C, k, x), None, st, p, d, C)
    cols = cols.reshape(x.shape[0], C * k[0] * k[1], -1)
    return cols if input.dim() == 4 else cols.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse arrangement of unfold: columns [N, C * kh * kw, L] (or [C * kh * kw, L]) summed back into
    [N, C, H, W] at their patch positions (col2im); overlapping patches add up. A transposed grouped convolution
    with one-hot kernels."""
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"fold(): argument 'input' must be Tensor, not {type(input).__name__}")
    out = _pair(output_size, "output_size", "fold")
    k, d = _pair(kernel_size, "kernel_size", "fold"), _pair(dilation, "dilation", "fold")
    p, st = _pair(padding, "padding", "fold"), _pair(stride, "stride", "fold")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"fold(): expected 2D or 3D (batch mode) input, but got input of size {list(input.shape)}")
    if min(k) <= 0 or min(d) <= 0 or min(st) <= 0 or min(p) < 0 or min(out) <= 0:
        raise RuntimeError(f"fold(): output_size, kernel_size, dilation and stride must be positive and padding "
                           f"non-negative, got output_size={out}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"stride={st}")
    cols = input if input.dim() == 3 else input.unsqueeze(0)
    kk = k[0] * k[1]
    if cols.shape[1] % kk != 0:
        raise RuntimeError(f"fold(): expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={cols.shape[1]} and kernel_size={k}")
    blocks = [(out[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // st[i] + 1 for i in range(2)]
    if blocks[0] <= 0 or blocks[1] <= 0 or blocks[0] * blocks[1] != cols.shape[2]:
        raise RuntimeError(f"fold(): expected input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)="
                           f"{cols.shape[2]}")
    C = cols.shape[1] // kk
    # The transposed convolution's natural size, and the output padding that reaches output_size.
    natural = [(blocks[i] - 1) * st[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i in range(2)]
    extra = [out[i] - natural[i] for i in range(2)]
    x = cols.reshape(cols.shape[0], C * kk, blocks[0], blocks[1])
    y = _C._functional.conv_transpose2d(x, _patch_weight(C, k, x), None, st, p, [0, 0], C, d)
    if extra[0] or extra[1]:  # rows / columns no patch reaches: zeros, as PyTorch
        y = pad(y, (0, extra[1], 0, extra[0]))
    return y if input.dim() == 3 else y.squeeze(0)


# The registry's docstrings (core/ops.toml).
softmax.__doc__ = _C._registry_docs["softmax"]
log_softmax.__doc__ = _C._registry_docs["log_softmax"]
one_hot.__doc__ = _C._registry_docs["one_hot"]


# ---- composed layers: RMS norm, instance norm, local response norm, PReLU, pixel and channel shuffles,
# channel dropout, embedding bags (PyTorch's definitions, composed of differentiable ops) ----

_EPS = {"float32": 1.1920928955078125e-07, "float64": 2.220446049250313e-16}


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """input / sqrt(mean(input^2 over the trailing normalized_shape dims) + eps) * weight; eps None is the
    dtype's machine epsilon, as PyTorch."""
    _tensor(input, "rms_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or input.dim() < n or tuple(input.shape[input.dim() - n:]) != shape:
        raise RuntimeError(f"rms_norm: given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    if eps is None:
        eps = _EPS.get(str(input.dtype).replace("loom.", ""), 1.1920928955078125e-07)
    dims = tuple(range(input.dim() - n, input.dim()))
    y = input * (input.square().mean(dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Each (sample, channel) of input [N, C, *] normalized over its own spatial positions; with running
    stats, use_input_stats also updates them (the batch's mean of the per-instance mean and unbiased
    variance), and use_input_stats=False normalizes by them instead."""
    _tensor(input, "instance_norm")
    if input.dim() < 3:
        raise ValueError(f"instance_norm: expected input [N, C, *] with at least one spatial dim, got "
                         f"{list(input.shape)}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and not isinstance(t, _C.Tensor):
            raise TypeError(f"instance_norm(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"instance_norm: expected {name} of shape [{C}] for input {list(input.shape)}, "
                               f"got {list(t.shape)}")
    dims = tuple(range(2, input.dim()))
    bshape = (1, C) + (1,) * (input.dim() - 2)
    if use_input_stats:
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, unbiased=False, keepdim=True)
        if running_mean is not None or running_var is not None:
            from ..autograd.grad_mode import no_grad
            n = 1
            for d in dims:
                n *= input.shape[d]
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.detach().mean((0,) + dims) * momentum)
                if running_var is not None:
                    unbiased = var.detach() * (n / max(n - 1, 1))
                    running_var.mul_(1 - momentum).add_(unbiased.mean((0,) + dims) * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: expected running_mean and running_var when use_input_stats=False")
        mean, var = running_mean.reshape(bshape), running_var.reshape(bshape)
    y = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of input^2 over `size` neighbouring channels)^beta (channels dim 1; the
    window zero padded, as PyTorch)."""
    _tensor(input, "local_response_norm")
    if input.dim() < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensional input, got "
                         f"{input.dim()} dimensions")
    if input.numel() == 0:
        return input
    N, C = input.shape[0], input.shape[1]
    sq = input.square().reshape(N, 1, C, -1)  # channels as rows of a plane
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = _C._functional.avg_pool2d(sq, (size, 1), (1, 1)).reshape(tuple(input.shape))
    return input / (div * alpha + k).pow(beta)


def prelu(input, weight):
    """input where input > 0, else weight * input; weight has one element, or one per channel (dim 1)."""
    _tensor(input, "prelu")
    _tensor(weight, "prelu")
    n = weight.numel()
    if n != 1:
        if input.dim() < 2 or input.shape[1] != n:
            raise RuntimeError(f"prelu: mismatch of parameter numbers and input channel size: weight has {n} "
                               f"elements, input is {list(input.shape)}")
        weight = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    elif weight.dim() > 0:
        weight = weight.reshape(())
    return _C.where(input > 0, input, input * weight)


def pixel_shuffle(input, upscale_factor):
    """[*, C r^2, H, W] -> [*, C, H r, W r]."""
    _tensor(input, "pixel_shuffle")
    r = upscale_factor
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *b, c, h, w = input.shape
    if c % (r * r) != 0:
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(b)
    x = input.reshape(*b, c // (r * r), r, r, h, w)
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return x.reshape(*b, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """[*, C, H r, W r] -> [*, C r^2, H, W]."""
    _tensor(input, "pixel_unshuffle")
    r = downscale_factor
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *b, c, h, w = input.shape
    if h % r != 0 or w % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by "
                           f"downscale_factor ({r})")
    nb = len(b)
    x = input.reshape(*b, c, h // r, r, w // r, r)
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return x.reshape(*b, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """[N, C, *]: the channels as [groups, C / groups], transposed (ShuffleNet)."""
    _tensor(input, "channel_shuffle")
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def _channel_dropout(input, p, training, inplace, name, dims):
    _tensor(input, name)
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.dim() not in dims:
        raise RuntimeError(f"{name}: expected {' or '.join(f'{d}D' for d in dims)} input, but got input of size: "
                           f"{list(input.shape)}")
    if not training or p == 0:
        return input
    batched = input.dim() == dims[-1]
    x = input if batched else input.unsqueeze(0)
    shape = tuple(x.shape[:2]) + (1,) * (x.dim() - 2)
    keep = (_rand(*shape, device=x.device) >= p).to(x.dtype)
    y = x * (keep * (0.0 if p == 1 else 1.0 / (1.0 - p)))
    y = y if batched else y.squeeze(0)
    return input.copy_(y) if inplace else y


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of input [N, C, L] (or [C, L]) with probability p, scaling the others by 1/(1-p)."""
    return _channel_dropout(input, p, training, inplace, "dropout1d", (2, 3))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of input [N, C, H, W] (or [C, H, W]) with probability p, scaling the others."""
    return _channel_dropout(input, p, training, inplace, "dropout2d", (3, 4))


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of input [N, C, D, H, W] (or [C, D, H, W]) with probability p."""
    return _channel_dropout(input, p, training, inplace, "dropout3d", (4, 5))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of the embeddings of each bag: rows of input [B, L], or the runs of a 1-D input
    that start at offsets [B] (plus a last offset with include_last_offset). Entries equal to padding_idx
    take no part; an empty bag gives zeros. per_sample_weights (mode 'sum') scale each entry."""
    _tensor(input, "embedding_bag")
    _tensor(weight, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: max_norm, scale_grad_by_freq and sparse are not supported by loom")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}')")
    if weight.dim() != 2:
        raise ValueError(f"embedding_bag: weight has to be a 2D tensor, got {list(weight.shape)}")
    if input.dtype not in (_C.int64, _C.int32):
        raise TypeError(f"embedding_bag: expected an int64 or int32 input, got {input.dtype}")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: per_sample_weights has shape {list(per_sample_weights.shape)}, expected "
                         f"the input's {list(input.shape)}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as input is treated as "
                             "a mini-batch of fixed length sequences")
        B, L = input.shape
        bag = _arange(B, device=input.device).reshape(B, 1).expand(B, L).reshape(-1)
        idx = input.reshape(-1)
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D tensor but got None")
        if offsets.dim() != 1:
            raise ValueError(f"embedding_bag: offsets has to be a 1D tensor, got {list(offsets.shape)}")
        offs = [int(v) for v in offsets.tolist()]
        T = input.shape[0]
        if offs and offs[0] != 0:
            raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                             f"has to start from position 0. However, got {offs[0]}")
        if any(b < a for a, b in zip(offs, offs[1:])) or (offs and offs[-1] > T):
            raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the input length {T}, "
                             f"got {offs}")
        if include_last_offset:
            if not offs:
                raise ValueError("embedding_bag: include_last_offset needs at least one offset")
            # the last bag runs to the end of input whatever the last offset says, as PyTorch's kernels
            offs = offs[:-1]
            ends = offs[1:] + [T]
        else:
            ends = offs[1:] + [T]
        B = len(offs)
        bag = _tensor_of([b for b, (a, e) in enumerate(zip(offs, ends)) for _ in range(e - a)], dtype=_C.int64,
                         device=input.device)
        used = ends[-1] if ends else 0
        idx = input[:used]
        psw = per_sample_weights[:used] if per_sample_weights is not None else None
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    D = weight.shape[1]
    idx = idx.to(_C.int64)
    rows = embedding(idx, weight)  # [T, D]; raises for indices out of range
    keep = None
    if padding_idx is not None:
        pi = padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx
        keep = (idx != pi).to(weight.dtype).reshape(-1, 1)
    out = _zeros(B, D, dtype=weight.dtype, device=weight.device)
    if idx.numel() == 0:
        return out
    index = bag.reshape(-1, 1).expand(idx.shape[0], D)
    if mode == "max":
        src = rows if keep is None else _C.where(keep > 0, rows, float("-inf"))
        red = out.scatter_reduce(0, index, src, "amax", include_self=False)
        return _C.where(red == float("-inf"), 0.0, red)
    if psw is not None:
        rows = rows * psw.reshape(-1, 1).to(weight.dtype)
    if keep is not None:
        rows = rows * keep
    total = out.scatter_add(0, index, rows)
    if mode == "sum":
        return total
    ones = keep if keep is not None else _zeros(rows.shape[0], 1, dtype=weight.dtype, device=weight.device) + 1.0
    count = _zeros(B, 1, dtype=weight.dtype, device=weight.device).scatter_add(0, bag.reshape(-1, 1), ones)
    return total / count.clamp(min=1)


# ---- in-place activations (torch.nn.functional's trailing-underscore names) ----

def relu_(input):
    return relu(_tensor(input, "relu_"), inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, inplace=True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each negative element's slope is drawn from U(lower, upper); in
    evaluation the slope is (lower + upper) / 2."""
    _tensor(input, "rrelu")
    if training:
        slope = _rand(*tuple(input.shape), dtype=input.dtype, device=input.device) * (upper - lower) + lower
    else:
        slope = (lower + upper) / 2
    return _inplace(input, _C.where(input >= 0, input, input * slope), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ---- more composed functions ----

def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k for weight [out, in1, in2]; inputs [*, in1] and [*, in2]."""
    _tensor(input1, "bilinear")
    _tensor(input2, "bilinear")
    _tensor(weight, "bilinear")
    if weight.dim() != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2] or \
            tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear: expected input1 [*, {weight.shape[1] if weight.dim() == 3 else '?'}] and "
                           f"input2 [*, {weight.shape[2] if weight.dim() == 3 else '?'}] with the same leading dims "
                           f"for weight {list(weight.shape)}, got {list(input1.shape)} and {list(input2.shape)}")
    out, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    a, b = input1.reshape(-1, in1), input2.reshape(-1, in2)
    t = a.matmul(weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
    y = (t * b.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out,))


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g Gumbel(0, 1) noise; hard=True returns the one-hot of the argmax in
    the forward pass with the soft sample's gradient (the straight-through estimator)."""
    _tensor(logits, "gumbel_softmax")
    u = _rand(*tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    g = -(-(u.clamp(min=1e-20)).log()).clamp(min=1e-20).log()
    y = ((logits + g) / tau).softmax(dim)
    if not hard:
        return y
    idx = y.argmax(dim, keepdim=True)
    y_hard = _zeros(*tuple(logits.shape), dtype=logits.dtype, device=logits.device).scatter(
        dim, idx, _zeros(*tuple(idx.shape), dtype=logits.dtype, device=logits.device) + 1.0)
    return y_hard - y.detach() + y


def pdist(input, p=2):
    """The p-norm distances between the N rows of input [N, M], every pair i < j, as [N (N - 1) / 2]."""
    _tensor(input, "pdist")
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    if n < 2:
        return _zeros(0, dtype=input.dtype, device=input.device)
    ii = [i for i in range(n) for j in range(i + 1, n)]
    jj = [j for i in range(n) for j in range(i + 1, n)]
    a = input.index_select(0, _tensor_of(ii, dtype=_C.int64, device=input.device))
    b = input.index_select(0, _tensor_of(jj, dtype=_C.int64, device=input.device))
    return (a - b).norm(p, dim=1)


def _alpha_dropout(input, p, training, inplace, feature, name):
    _tensor(input, name)
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    alpha_p = -1.7580993408473766  # -SELU's lambda * alpha: the value a dropped unit takes
    if p == 1:
        return _inplace(input, input * 0.0, inplace)
    shape = tuple(input.shape)
    if feature:
        if input.dim() < 2:
            raise RuntimeError(f"{name}: expected input with at least 2 dims, got {list(input.shape)}")
        shape = shape[:2] + (1,) * (input.dim() - 2)
    keep = (_rand(*shape, dtype=input.dtype, device=input.device) >= p).to(input.dtype)
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * p
    return _inplace(input, (input * keep + alpha_p * (1 - keep)) * a + b, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and the result is
    rescaled to keep zero mean and unit variance."""
    return _alpha_dropout(input, p, training, inplace, False, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dim 1) of input [N, C, *]."""
    return _alpha_dropout(input, p, training, inplace, True, "feature_alpha_dropout")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x^p)^(1/p): avg_pool2d of x^p times the window size, to the power 1/p."""
    _tensor(input, "lp_pool2d")
    kw, kh = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    out = _C._functional.avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x^p)^(1/p) along the last dim of [N, C, L] or [C, L]."""
    x = _pool1d_input(input, "lp_pool1d")
    k = _single(kernel_size, "kernel_size", "lp_pool1d")
    s = k if stride is None else _single(stride, "stride", "lp_pool1d")
    out = _C._functional.avg_pool2d(x.pow(norm_type), (1, k), (1, s), 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k).pow(1.0 / norm_type).squeeze(-2)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d: each value written at its saved index (ih * W + iw of its plane) of a zero
    output [N, C, H, W] ([C, H, W]); H, W from the pooling arguments or output_size."""
    _tensor(input, "max_unpool2d")
    _tensor(indices, "max_unpool2d")
    if tuple(input.shape) != tuple(indices.shape) or input.dim() not in (3, 4):
        raise RuntimeError(f"max_unpool2d: expected input and indices of the same shape, 3D or 4D, got "
                           f"{list(input.shape)} and {list(indices.shape)}")
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    st = k if stride is None else ((stride, stride) if isinstance(stride, int) else tuple(stride))
    pd = (padding, padding) if isinstance(padding, int) else tuple(padding)
    if output_size is None:
        size = [(input.shape[-2 + i] - 1) * st[i] - 2 * pd[i] + k[i] for i in range(2)]
    else:
        size = [int(v) for v in tuple(output_size)[-2:]]
        defaults = [(input.shape[-2 + i] - 1) * st[i] - 2 * pd[i] + k[i] for i in range(2)]
        for i in range(2):
            if not defaults[i] - st[i] < size[i] < defaults[i] + st[i]:
                raise ValueError(f"max_unpool2d: invalid output_size {list(output_size)} (dim {i} must be between "
                                 f"{defaults[i] - st[i]} and {defaults[i] + st[i]}, exclusive)")
    lead = tuple(input.shape[:-2])
    hw = size[0] * size[1]
    x = input.reshape(-1, input.shape[-2] * input.shape[-1])
    idx = indices.reshape(-1, input.shape[-2] * input.shape[-1])
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= hw):
        raise IndexError(f"max_unpool2d: an index is out of bounds for output planes of {size[0]}x{size[1]}")
    zero = _zeros(x.shape[0], hw, dtype=input.dtype, device=input.device)
    # The value of a scatter (an index saved twice by overlapping windows holds one of its equal values), the
    # gradient of a gather: every input element gets the output gradient at its index, as PyTorch's.
    added = zero.scatter_add(1, idx, x)
    out = zero.scatter(1, idx, x.detach()) + (added - added.detach())
    return out.reshape(lead + (size[0], size[1]))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool2d along the last dim of [N, C, L] or [C, L] (indices are positions along L)."""
    _tensor(input, "max_unpool1d")
    _tensor(indices, "max_unpool1d")
    k = _single(kernel_size, "kernel_size", "max_unpool1d")
    s = k if stride is None else _single(stride, "stride", "max_unpool1d")
    p = _single(padding, "padding", "max_unpool1d")
    osz = None if output_size is None else (1, int(tuple(output_size)[-1]))
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), (1, k), (1, s), (0, p), osz).squeeze(-2)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample: the sum over target classes j (target's leading non-negative entries, up to the first -1)
    and non-target classes i of max(0, 1 - (x[j] - x[i])), divided by C."""
    _tensor(input, "multilabel_margin_loss")
    _tensor(target, "multilabel_margin_loss")
    if size_average is not None or reduce is not None:
        avg = True if size_average is None else bool(size_average)
        red = True if reduce is None else bool(reduce)
        reduction = "none" if not red else ("mean" if avg else "sum")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if target.dtype != _C.int64:
        raise TypeError(f"multilabel_margin_loss: expected an int64 target, got {target.dtype}")
    if tuple(input.shape) != tuple(target.shape) or input.dim() not in (1, 2):
        raise RuntimeError(f"multilabel_margin_loss: expected input and target of the same shape, [C] or [N, C], "
                           f"got {list(input.shape)} and {list(target.shape)}")
    x = input.unsqueeze(0) if input.dim() == 1 else input
    t = target.unsqueeze(0) if target.dim() == 1 else target
    N, C = x.shape
    if N * C and (int(t.max()) >= C or int(t.min()) < -1):
        raise IndexError(f"multilabel_margin_loss: target values must be in [-1, {C - 1}]")
    # valid[n, k]: target[n, k] is one of the classes (before the first -1)
    valid = (t >= 0).to(_C.int64).cumprod(1) > 0
    safe = _C.where(valid, t, 0)
    is_target = _zeros(N, C, dtype=x.dtype, device=x.device).scatter_add(1, safe, valid.to(x.dtype)) > 0
    xj = x.gather(1, safe)  # [N, K]: the scores of the target classes
    hinge = (1.0 - (xj.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0)  # [N, K, C]
    mask = valid.unsqueeze(2) & is_target.logical_not().unsqueeze(1)
    loss = _C.where(mask, hinge, 0.0).sum((1, 2)) / C
    if input.dim() == 1:
        loss = loss.squeeze(0)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def _int_list(values, name, op):
    if isinstance(values, _C.Tensor):
        return [int(v) for v in values.reshape(-1).tolist()]
    if isinstance(values, int):
        return [values]
    try:
        return [int(v) for v in values]
    except TypeError:
        raise TypeError(f"{op}: {name} must be a Tensor or a sequence of ints, got {type(values).__name__}") from None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification: -log of the total probability of every alignment of each target
    sequence to its input's log_probs [T, N, C] ([T, C] unbatched), blank separating repeats. targets are
    padded [N, S] or concatenated 1-D; 'mean' divides each loss by its target length, then averages.
    The forward (alpha) recursion in log space, one step per time step over the extended labels, composed of
    differentiable ops: the gradient is d loss / d log_probs itself (PyTorch's kernel returns the gradient
    with respect to the logits of a log_softmax instead; through log_softmax the two agree)."""
    _tensor(log_probs, "ctc_loss")
    _tensor(targets, "ctc_loss")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.dim() != 3 or not lp.is_floating_point():
        raise RuntimeError(f"ctc_loss: expected floating log_probs [T, N, C] or [T, C], got {list(log_probs.shape)} "
                           f"{log_probs.dtype}")
    T, N, C = lp.shape
    in_lens = _int_list(input_lengths, "input_lengths", "ctc_loss")
    tg_lens = _int_list(target_lengths, "target_lengths", "ctc_loss")
    if len(in_lens) != N or len(tg_lens) != N:
        raise RuntimeError(f"ctc_loss: expected {N} input_lengths and target_lengths, got {len(in_lens)} and "
                           f"{len(tg_lens)}")
    if not 0 <= blank < C:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {C}), got {blank}")
    if any(n < 0 or n > T for n in in_lens):
        raise RuntimeError(f"ctc_loss: input_lengths must be in [0, {T}], got {in_lens}")
    if any(n < 0 for n in tg_lens):
        raise RuntimeError(f"ctc_loss: target_lengths must be non-negative, got {tg_lens}")
    flat = [int(v) for v in targets.reshape(-1).tolist()]
    if unbatched or targets.dim() == 2:
        rows = [flat] if unbatched else [flat[n * targets.shape[1]:(n + 1) * targets.shape[1]] for n in range(N)]
        if any(L > len(r) for L, r in zip(tg_lens, rows)):
            raise RuntimeError(f"ctc_loss: a target length exceeds the targets' {len(rows[0])} columns")
        labels = [r[:L] for r, L in zip(rows, tg_lens)]
    elif targets.dim() == 1:
        if sum(tg_lens) > len(flat):
            raise RuntimeError(f"ctc_loss: the target lengths sum to {sum(tg_lens)}, more than the {len(flat)} "
                               f"concatenated targets")
        labels, o = [], 0
        for L in tg_lens:
            labels.append(flat[o:o + L])
            o += L
    else:
        raise RuntimeError(f"ctc_loss: expected targets [N, S] or concatenated 1-D, got {list(targets.shape)}")
    if any(not 0 <= v < C or v == blank for lab in labels for v in lab):
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {C}) and differ from blank ({blank})")
    S = max(tg_lens, default=0)
    Sp = 2 * S + 1
    ext = [[blank] * Sp for _ in range(N)]
    for n, lab in enumerate(labels):
        for k, v in enumerate(lab):
            ext[n][2 * k + 1] = v
    dev = lp.device
    ext_t = _tensor_of(ext, dtype=_C.int64, device=dev)
    skip = _tensor_of([[s >= 2 and e[s] != blank and e[s] != e[s - 2] for s in range(Sp)] for e in ext],
                      dtype=_C.bool, device=dev)
    valid = _tensor_of([[s < 2 * L + 1 for s in range(Sp)] for L in tg_lens], dtype=_C.bool, device=dev)
    in_len = _tensor_of(in_lens, dtype=_C.int64, device=dev).reshape(N, 1)
    tg_len = _tensor_of(tg_lens, dtype=_C.int64, device=dev)
    NEG = -1e30  # log 0 kept finite: logsumexp of all-impossible states stays differentiable
    em = lp.clamp(min=NEG).gather(2, ext_t.unsqueeze(0).expand(T, N, Sp))  # [T, N, Sp]
    first = _tensor_of([[s < 2 for s in range(Sp)]], dtype=_C.bool, device=dev)
    if T == 0:
        alpha = _zeros(N, Sp, dtype=lp.dtype, device=dev) + NEG
    else:
        alpha = _C.where(first & valid & (in_len > 0), em[0], NEG)
    pad1 = _zeros(N, 1, dtype=lp.dtype, device=dev) + NEG
    pad2 = _zeros(N, 2, dtype=lp.dtype, device=dev) + NEG
    for t in range(1, T):
        a1 = _C.cat([pad1, alpha[:, :Sp - 1]], 1)
        a2 = _C.where(skip, _C.cat([pad2, alpha[:, :max(Sp - 2, 0)]], 1)[:, :Sp], NEG)
        new = _C.where(valid, _C.stack([alpha, a1, a2], 0).logsumexp((0,)) + em[t], NEG)
        alpha = _C.where(in_len > t, new, alpha)
    end = (tg_len * 2).reshape(N, 1)
    last = alpha.gather(1, end)
    prev = _C.where(end > 0, alpha.gather(1, (end - 1).clamp(min=0)), NEG)
    ll = _C.cat([last, prev], 1).logsumexp((1,))
    ll = _C.where((in_len.reshape(N) == 0) & (tg_len == 0), 0.0, ll)
    impossible = ll < -1e29
    loss = _C.where(impossible, 0.0 if zero_infinity else float("inf"), -ll)
    if reduction == "mean":
        loss = (loss / tg_len.clamp(min=1).to(loss.dtype)).mean()
    elif reduction == "sum":
        loss = loss.sum()
    elif unbatched:
        loss = loss.squeeze(0)
    return loss


# ---- multi-head attention (the computation of nn.MultiheadAttention, callable on its own) ----

def _merge_masks(attn_mask, key_padding_mask, N, H, L, S, dtype):
    """One additive float mask broadcastable to [N, H, L, S] (PyTorch: bool True = masked out), or None."""
    mask = None
    if attn_mask is not None:
        if attn_mask.dtype == _C.bool:
            attn_mask = _zeros(*tuple(attn_mask.shape), dtype=dtype, device=attn_mask.device).masked_fill(
                attn_mask, float("-inf"))
        else:
            attn_mask = attn_mask.to(dtype)
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be {(L, S)}.")
            mask = attn_mask.reshape(1, 1, L, S)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (N * H, L, S):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be {(N * H, L, S)}.")
            mask = attn_mask.reshape(N, H, L, S)
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise RuntimeError(f"expected key_padding_mask of shape {(N, S)}, but got {tuple(key_padding_mask.shape)}")
        if key_padding_mask.dtype == _C.bool:
            kpm = _zeros(N, S, dtype=dtype, device=key_padding_mask.device).masked_fill(
                key_padding_mask, float("-inf"))
        else:
            kpm = key_padding_mask.to(dtype)
        kpm = kpm.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, _kdim=None, _vdim=None):
    """Multi-head attention of query [L, N, E] over key / value [S, N, *] (sequence first; [L, E] unbatched):
    the projections (one packed in_proj_weight [3E, E], or q/k/v_proj_weight with use_separate_proj_weight),
    bias_k / bias_v and a zero slot appended to the keys, masks (bool: True is masked out; or additive), the
    scaled dot-product attention per head, the output projection. Returns (output, weights): weights [N, L, S]
    (averaged over heads, or [N, H, L, S]) when need_weights, else None."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not supported by loom")
    _tensor(query, "multi_head_attention_forward")
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = tuple(query.shape)
    S = key.size(0)
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint")
    kdim = _kdim if _kdim is not None else (k_proj_weight.shape[1] if use_separate_proj_weight else E)
    vdim = _vdim if _vdim is not None else (v_proj_weight.shape[1] if use_separate_proj_weight else E)
    for name, t, dim in (("key", key, kdim), ("value", value, vdim)):
        if t.dim() != 3 or t.size(-1) != dim or t.size(1) != N or t.size(0) != S:
            raise AssertionError(f"MultiheadAttention: expected {name} of shape [{S}, {N}, {dim}] "
                                 f"(sequence first), got {list(t.shape)}")
    H = num_heads
    if E % H != 0:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    hd = E // H
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.narrow(0, 0, E), in_proj_bias.narrow(0, E, E), in_proj_bias.narrow(0, 2 * E, E)
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = in_proj_weight.narrow(0, 0, E), in_proj_weight.narrow(0, E, E), in_proj_weight.narrow(0, 2 * E, E)
    q = linear(query, wq, bq)
    k = linear(key, wk, bk)
    v = linear(value, wv, bv)
    extra = 0  # key positions added after the sequence: bias_k / bias_v, then a zero slot
    if bias_k is not None:
        if bias_v is None:
            raise AssertionError("bias_k and bias_v go together")
        k = _C.cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)], 0)
        v = _C.cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)], 0)
        extra += 1

    def heads(t, n):  # [n, N, E] -> [N, H, n, hd]
        return t.reshape(n, N, H, hd).permute(1, 2, 0, 3)

    q, k, v = heads(q, L), heads(k, S + extra), heads(v, S + extra)
    if add_zero_attn:
        z = _zeros(N, H, 1, hd, dtype=k.dtype, device=k.device)
        k, v = _C.cat([k, z], 2), _C.cat([v, z], 2)
        extra += 1
    mask = _merge_masks(attn_mask, key_padding_mask, N, H, L, S, q.dtype)
    if extra and mask is not None:
        # The added positions are never masked (PyTorch pads both masks with zeros).
        mask = _C.cat([mask, _zeros(*(tuple(mask.shape[:-1]) + (extra,)), dtype=mask.dtype, device=mask.device)], -1)
    S += extra
    p = dropout_p if training else 0.0
    if need_weights:
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        if mask is not None:
            scores = scores + mask
        attn = scores.softmax(-1)
        if p > 0:
            attn = dropout(attn, p, True)
        out = attn.matmul(v)
        weights = attn.mean(1) if average_attn_weights else attn
    else:
        if mask is not None:
            mask = mask.expand(N, H, L, S)
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        weights = None
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)  # [L, N, E]
    if unbatched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


# ---- 3-D convolution and pooling: [N, C, D, H, W] as one 2-D op per tap along D, over the N * OD
# depth slices of the input as one batch (the 2-D kernels of loom, CPU and CUDA) ----

def _triple(value, name, op):
    if isinstance(value, (tuple, list)):
        if len(value) != 3:
            raise RuntimeError(f"{op}: {name} must be an int or a 3-tuple, got {tuple(value)}")
        return tuple(int(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int or a tuple of 3 ints, got {type(value).__name__}")
    return (value,) * 3


def _input5d(input, op):
    _tensor(input, op)
    if input.dim() not in (4, 5):
        raise RuntimeError(f"{op}: expected 4D (unbatched) or 5D (batched) input, but got input of size: "
                           f"{list(input.shape)}")
    return (input.unsqueeze(0), True) if input.dim() == 4 else (input, False)


def _depth_taps(x, kd, sd, dd, od):
    """For each tap along D, the input depth slices it meets, as a batch [N * OD, C, H, W]."""
    N, C, _, H, W = x.shape
    for k in range(kd):
        start = k * dd
        sl = x[:, :, start:start + (od - 1) * sd + 1:sd]  # [N, C, OD, H, W]
        yield k, sl.transpose(1, 2).reshape(N * od, C, H, W)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input [N, C, D, H, W] ([C, D, H, W]) with weight [K, C / groups, kD, kH, kW]: the sum
    over the kD depth taps of a 2-D convolution of the matching depth slices (loom's conv2d kernels)."""
    x, unbatched = _input5d(input, "conv3d")
    _tensor(weight, "conv3d")
    if weight.dim() != 5:
        raise RuntimeError(f"conv3d: expected a 5-D weight [out, in / groups, kD, kH, kW], got {list(weight.shape)}")
    st, dl = _triple(stride, "stride", "conv3d"), _triple(dilation, "dilation", "conv3d")
    K, Cg, kd, kh, kw = weight.shape
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        if padding == "same" and any(v != 1 for v in st):
            raise ValueError("padding='same' is not supported for strided convolutions")
        if padding == "valid":
            pads = [(0, 0)] * 3
        else:
            pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for d, k in zip(dl, (kd, kh, kw))]
    else:
        pads = [(v, v) for v in _triple(padding, "padding", "conv3d")]
    if x.shape[1] != Cg * groups:
        raise RuntimeError(f"conv3d: expected input with {Cg * groups} channels (weight {list(weight.shape)}, "
                           f"groups={groups}), got input of size {list(input.shape)}")
    if pads[0] != (0, 0) or pads[1][0] != pads[1][1] or pads[2][0] != pads[2][1]:
        x = pad(x, (pads[2][0], pads[2][1], pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
        p2 = (0, 0)
    else:
        p2 = (pads[1][0], pads[2][0])
    N, D = x.shape[0], x.shape[2]
    od = (D - dl[0] * (kd - 1) - 1) // st[0] + 1
    if od <= 0:
        raise RuntimeError(f"conv3d: the input's depth {input.shape[-3]} (padded {D}) is smaller than the kernel's "
                           f"reach {dl[0] * (kd - 1) + 1}")
    out = None
    for k, sl in _depth_taps(x, kd, st[0], dl[0], od):
        y = _C._functional.conv2d(sl, weight[:, :, k], None, st[1:], p2, dl[1:], groups)
        out = y if out is None else out + y
    out = out.reshape(N, od, K, out.shape[-2], out.shape[-1]).transpose(1, 2)
    if bias is not None:
        out = out + bias.reshape(1, K, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def _window_counts(n_in, k, s, p, n_out, include_pad):
    """Per output position along one axis: the window's size clipped to the padded input (include_pad) or
    to the input."""
    out = []
    for o in range(n_out):
        a = o * s - p
        b = min(a + k, n_in + p)
        out.append(b - a if include_pad else min(b, n_in) - max(a, 0))
    return out


def _pool3d_geometry(x, kernel_size, stride, padding, ceil_mode, op, dilation=1):
    k = _triple(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        _triple(stride, "stride", op)
    p = _triple(padding, "padding", op)
    d = _triple(dilation, "dilation", op)
    if any(v <= 0 for v in k + s + d):
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive, got {k}, {s}, {d}")
    if any(pv > kv // 2 for pv, kv in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                           f"kernel_size={k}")
    outs = []
    for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d):
        num = n + 2 * pp - dd * (kk - 1) - 1 + (ss - 1 if ceil_mode else 0)
        o = num // ss + 1
        if ceil_mode and (o - 1) * ss >= n + pp:
            o -= 1
        outs.append(o)
    if any(o <= 0 for o in outs):
        raise RuntimeError(f"{op}: given input size {list(x.shape[1:])}, calculated output size "
                           f"{[x.shape[1]] + outs} is too small")
    return k, s, p, d, outs


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean over each window of input [N, C, D, H, W] ([C, D, H, W]): the window sums of avg_pool2d over
    the depth slices, added over the depth taps, divided as PyTorch (the window clipped to the padded input,
    or to the input, or divisor_override)."""
    x, unbatched = _input5d(input, "avg_pool3d")
    k, s, p, _, (od, oh, ow) = _pool3d_geometry(x, kernel_size, stride, padding, ceil_mode, "avg_pool3d")
    N, C, D, H, W = x.shape
    # zero depth padding, and enough on the right for a ceil_mode window reaching past it
    right = max(0, (od - 1) * s[0] + k[0] - (D + p[0]))
    xp = pad(x, (0, 0, 0, 0, p[0], p[0] + right))
    rows = _window_counts(H, k[1], s[1], p[1], oh, True)
    cols = _window_counts(W, k[2], s[2], p[2], ow, True)
    area = _tensor_of([[r * c for c in cols] for r in rows], dtype=x.dtype, device=x.device)
    total = None
    for _, sl in _depth_taps(xp, k[0], s[0], 1, od):
        y = _C._functional.avg_pool2d(sl, k[1:], s[1:], p[1:], ceil_mode, True) * area  # window sums
        total = y if total is None else total + y
    total = total.reshape(N, od, C, oh, ow).transpose(1, 2)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("avg_pool3d: divisor must be not zero")
        out = total / divisor_override
    else:
        dep = _window_counts(D, k[0], s[0], p[0], od, count_include_pad)
        if not count_include_pad:
            rows = _window_counts(H, k[1], s[1], p[1], oh, False)
            cols = _window_counts(W, k[2], s[2], p[2], ow, False)
        div = _tensor_of([[[a * b * c for c in cols] for b in rows] for a in dep], dtype=x.dtype, device=x.device)
        out = total / div
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    if divisor_override is None:
        return _C._functional.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)
    # window sums (the mean over the window clipped to the padded input, times that size) / divisor_override
    _tensor(input, "avg_pool2d")
    if divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    y = _C._functional.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, True)
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    k = k * 2 if len(k) == 1 else k
    st = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        ((stride, stride) if isinstance(stride, int) else tuple(stride) * (2 if len(tuple(stride)) == 1 else 1))
    pd = (padding, padding) if isinstance(padding, int) else tuple(padding) * (2 if len(tuple(padding)) == 1 else 1)
    rows = _window_counts(input.shape[-2], k[0], st[0], pd[0], y.shape[-2], True)
    cols = _window_counts(input.shape[-1], k[1], st[1], pd[1], y.shape[-1], True)
    area = _tensor_of([[r * c for c in cols] for r in rows], dtype=y.dtype, device=y.device)
    return y * area / divisor_override


avg_pool2d.__doc__ = _C._functional.avg_pool2d.__doc__


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """(values, indices) of max_pool3d; indices are flat d * H * W + h * W + w inside each [D, H, W] volume."""
    x, unbatched = _input5d(input, "max_pool3d")
    k, s, p, dl, (od, oh, ow) = _pool3d_geometry(x, kernel_size, stride, padding, ceil_mode, "max_pool3d", dilation)
    N, C, D, H, W = x.shape
    right = max(0, (od - 1) * s[0] + dl[0] * (k[0] - 1) + 1 - (D + p[0]))
    xp = pad(x, (0, 0, 0, 0, p[0], p[0] + right), value=float("-inf"))
    best = arg = None
    d0 = _tensor_of([o * s[0] - p[0] for o in range(od)], dtype=_C.int64, device=x.device).reshape(1, 1, od, 1, 1)
    for kk, sl in _depth_taps(xp, k[0], s[0], dl[0], od):
        v, i = _C._functional.max_pool2d(sl, k[1:], s[1:], p[1:], dl[1:], ceil_mode, True)
        v = v.reshape(N, od, C, oh, ow).transpose(1, 2)
        i = i.reshape(N, od, C, oh, ow).transpose(1, 2) + (d0 + kk * dl[0]) * (H * W)
        if best is None:
            best, arg = v, i
        else:
            # the first maximum in (d, h, w) order, the first NaN over everything (max_pool2d's rule)
            take = (v > best) | ((v != v) & (best == best))
            best, arg = _C.where(take, v, best), _C.where(take, i, arg)
    return (best.squeeze(0), arg.squeeze(0)) if unbatched else (best, arg)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum over each window of input [N, C, D, H, W] ([C, D, H, W]); padding counts as -inf."""
    v, i = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (v, i) if return_indices else v


def _adaptive3d(input, output_size, op):
    x, unbatched = _input5d(input, op)
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(size) != 3:
        raise ValueError(f"{op}: output_size must be an int or 3 values, got {tuple(size)}")
    size = [x.shape[2 + i] if v is None else int(v) for i, v in enumerate(size)]
    return x, unbatched, size


def adaptive_avg_pool3d(input, output_size):
    """The mean over windows [floor(i D / OD), ceil((i + 1) D / OD)) of each of D, H, W: over H, W per depth
    slice, then over D (a mean of a box is the mean of its slices' means)."""
    x, unbatched, (od, oh, ow) = _adaptive3d(input, output_size, "adaptive_avg_pool3d")
    N, C, D, H, W = x.shape
    y = _C._functional.adaptive_avg_pool2d(x.reshape(N * C, D, H, W), (oh, ow))  # [NC, D, oh, ow]
    y = _C._functional.adaptive_avg_pool2d(y.reshape(N * C, 1, D, oh * ow), (od, oh * ow))
    y = y.reshape(N, C, od, oh, ow)
    return y.squeeze(0) if unbatched else y


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    x, unbatched, (od, oh, ow) = _adaptive3d(input, output_size, "adaptive_max_pool3d")
    N, C, D, H, W = x.shape
    v1, i1 = _C._functional.adaptive_max_pool2d(x.reshape(N * C, D, H, W), (oh, ow), True)  # [NC, D, oh, ow]
    v2, i2 = _C._functional.adaptive_max_pool2d(v1.reshape(N * C, 1, D, oh * ow), (od, oh * ow), True)
    d = i2.reshape(N * C, od, oh * ow) // (oh * ow)  # the depth slice each maximum came from
    hw = i1.reshape(N * C, D, oh * ow).gather(1, d)
    idx = (d * (H * W) + hw).reshape(N, C, od, oh, ow)
    val = v2.reshape(N, C, od, oh, ow)
    return (val.squeeze(0), idx.squeeze(0)) if unbatched else (val, idx)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """The maximum over the windows of adaptive_avg_pool3d (the first maximum in (d, h, w) order)."""
    v, i = adaptive_max_pool3d_with_indices(input, output_size)
    return (v, i) if return_indices else v


# ---- 1-D pooling: [N, C, L] (or [C, L]) pooled as [N, C, 1, L] by the 2-D kernels ----

def _pool1d_input(input, name):
    _tensor(input, name)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{name}: expected 2D or 3D input, but got input of size: {list(input.shape)}")
    return input.unsqueeze(-2)


def _single(value, name, op):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{op}: {name} must be an int or a 1-element tuple, got {tuple(value)}")
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    return value


def _pool1d_args(op, kernel_size, stride, padding):
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _single(stride, "stride", op)
    return k, s, _single(padding, "padding", op)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """(values, indices) of max_pool1d; indices are positions along L."""
    x = _pool1d_input(input, "max_pool1d")
    k, s, p = _pool1d_args("max_pool1d", kernel_size, stride, padding)
    d = _single(dilation, "dilation", "max_pool1d")
    y, i = _C._functional.max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, True)
    return y.squeeze(-2), i.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum over each window along the last dim of input [N, C, L] or [C, L] (padding counts as -inf)."""
    y, i = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (y, i) if return_indices else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """The mean over each window along the last dim of input [N, C, L] or [C, L]."""
    x = _pool1d_input(input, "avg_pool1d")
    k, s, p = _pool1d_args("avg_pool1d", kernel_size, stride, padding)
    return _C._functional.avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """The mean over windows [floor(i L / O), ceil((i + 1) L / O)) of the last dim."""
    x = _pool1d_input(input, "adaptive_avg_pool1d")
    return _C._functional.adaptive_avg_pool2d(x, (1, _single(output_size, "output_size", "adaptive_avg_pool1d"))) \
        .squeeze(-2)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    x = _pool1d_input(input, "adaptive_max_pool1d")
    size = (1, _single(output_size, "output_size", "adaptive_max_pool1d"))
    y, i = _C._functional.adaptive_max_pool2d(x, size, True)
    return y.squeeze(-2), i.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The maximum over windows [floor(i L / O), ceil((i + 1) L / O)) of the last dim (output_size=1: the maximum
    over time of a text CNN)."""
    y, i = adaptive_max_pool1d_with_indices(input, output_size)
    return (y, i) if return_indices else y


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance function d (a callable of two
    tensors giving one distance per sample; pairwise_distance by default)."""
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        if not isinstance(t, _C.Tensor):
            raise TypeError(f"triplet_margin_with_distance_loss(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError("triplet_margin_with_distance_loss: the anchor, positive and negative tensors are "
                           "expected to have the same number of dimensions, got anchor "
                           f"{list(anchor.shape)}, positive {list(positive.shape)} and negative "
                           f"{list(negative.shape)}")
    d = distance_function if distance_function is not None else _C._functional.pairwise_distance
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(d(positive, negative))
    loss = (d_pos - d_neg + margin).clamp(min=0)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


# Ops implemented in C++ by each kernel family (conv2d, layer_norm, ...).
def _export_native():
    native = getattr(_C, "_functional", None)
    if native is None:
        return
    for name in dir(native):
        if not name.startswith("_") and name not in globals():
            globals()[name] = getattr(native, name)


_export_native()
