"""Stateless neural-network functions (torch.nn.functional subset)."""
import math

from .. import _C
from .._factories import eye as _eye


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


# ---- activations: one kernel forward and one backward each (autograd/ops/activation.h) ----

def _inplace(input, out, inplace):
    return input.copy_(out) if inplace else out


def _tensor(input, name):
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where input > 0, else negative_slope * input."""
    _tensor(input, "leaky_relu")
    return _inplace(input, _C._functional.leaky_relu(input, negative_slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha * (exp(input) - 1)."""
    _tensor(input, "elu")
    return _inplace(input, _C._functional.elu(input, alpha), inplace)


def celu(input, alpha=1.0, inplace=False):
    """input where input > 0, else alpha * (exp(input / alpha) - 1)."""
    _tensor(input, "celu")
    return _inplace(input, _C._functional.celu(input, alpha), inplace)


def selu(input, inplace=False):
    """scale * elu(input, alpha) with the self-normalizing constants."""
    _tensor(input, "selu")
    return _inplace(input, _C._functional.selu(input), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold."""
    _tensor(input, "softplus")
    return _C._functional.softplus(input, beta, threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere."""
    _tensor(input, "hardtanh")
    if min_val > max_val:  # equal bounds are allowed, as PyTorch's functional form (the module asks for max > min)
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _inplace(input, _C._functional.hardtanh(input, min_val, max_val), inplace)


def relu6(input, inplace=False):
    """min(max(input, 0), 6)."""
    _tensor(input, "relu6")
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6."""
    _tensor(input, "hardsigmoid")
    return _inplace(input, _C._functional.hardsigmoid(input), inplace)


def hardswish(input, inplace=False):
    """input * relu6(input + 3) / 6."""
    _tensor(input, "hardswish")
    return _inplace(input, _C._functional.hardswish(input), inplace)


def mish(input, inplace=False):
    """input * tanh(softplus(input))."""
    _tensor(input, "mish")
    return _inplace(input, _C._functional.mish(input), inplace)


def logsigmoid(input):
    """log(sigmoid(input)) = -softplus(-input), without overflow."""
    _tensor(input, "logsigmoid")
    return _C._functional.logsigmoid(input)


def softsign(input):
    """input / (1 + |input|)."""
    _tensor(input, "softsign")
    return _C._functional.softsign(input)


def tanhshrink(input):
    """input - tanh(input)."""
    _tensor(input, "tanhshrink")
    return _C._functional.tanhshrink(input)


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value."""
    _tensor(input, "threshold")
    return _inplace(input, _C._functional.threshold(input, threshold, value), inplace)


def hardshrink(input, lambd=0.5):
    """input where |input| > lambd, else 0."""
    _tensor(input, "hardshrink")
    return _C._functional.hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    """input - lambd above lambd, input + lambd below -lambd, else 0."""
    _tensor(input, "softshrink")
    return _C._functional.softshrink(input, lambd)


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
    the edge, "replicate" repeats the edge, "circular" wraps around. One kernel (one per padded dim for the
    gradient), differentiable any number of times."""
    _tensor(input, "pad")
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' must be str, not {type(mode).__name__}")
    return _C._functional._pad(input, tuple(pad), mode, value)


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
for _f in (leaky_relu, elu, celu, selu, softplus, hardtanh, hardsigmoid, hardswish, mish, logsigmoid, softsign,
           tanhshrink, threshold, hardshrink, softshrink):
    _f.__doc__ = _C._registry_docs[_f.__name__]


# Ops implemented in C++ by each kernel family (conv2d, layer_norm, ...).
def _export_native():
    native = getattr(_C, "_functional", None)
    if native is None:
        return
    for name in dir(native):
        if not name.startswith("_") and name not in globals():
            globals()[name] = getattr(native, name)


_export_native()


def _same_padding_wrapper(native, n):
    """conv{n}d with padding='same' and an even effective kernel: the input padded by F.pad, d (k - 1) // 2 on
    the left and the rest on the right (as PyTorch), then the native convolution without padding."""
    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        if (isinstance(padding, str) and padding == "same" and isinstance(weight, _C.Tensor) and weight.dim() == n + 2
                and all(s == 1 for s in ((stride,) * n if isinstance(stride, int) else tuple(stride)))):
            dil = (dilation,) * n if isinstance(dilation, int) else tuple(dilation)
            totals = [d * (k - 1) for d, k in zip(dil, tuple(weight.shape)[2:])]
            if len(dil) == n and any(t % 2 for t in totals):
                pads = tuple(v for t in reversed(totals) for v in (t // 2, t - t // 2))
                return native(pad(input, pads), weight, bias, stride, 0, dilation, groups)
        return native(input, weight, bias, stride, padding, dilation, groups)

    conv.__name__ = conv.__qualname__ = native.__name__
    conv.__doc__ = native.__doc__
    return conv


if getattr(_C, "_functional", None) is not None:
    conv1d = _same_padding_wrapper(_C._functional.conv1d, 1)
    conv2d = _same_padding_wrapper(_C._functional.conv2d, 2)
    conv3d = _same_padding_wrapper(_C._functional.conv3d, 3)

# The composed functions of the sibling modules (they import the helpers above, so they come last).
from ._functional_attention import *  # noqa: E402,F401,F403
from ._functional_layers import *  # noqa: E402,F401,F403
from ._functional_losses import *  # noqa: E402,F401,F403
from ._functional_pooling import *  # noqa: E402,F401,F403
from ._functional_fractional import *  # noqa: E402,F401,F403
