"""loom.nn.functional, composed layers: RMS / instance / local response norm, PReLU, pixel and channel
shuffles, channel and alpha dropout, the in-place activations, rrelu, bilinear, gumbel_softmax,
pdist (PyTorch's definitions, composed of differentiable ops). Imported into loom.nn.functional."""
from .. import _C, _composite_math
from .._factories import rand as _rand, tensor as _tensor_of, zeros as _zeros
from .functional import (_inplace, _tensor, celu, elu, hardtanh, leaky_relu, pad, relu, selu,
                         threshold as _threshold)

__all__ = ["rms_norm", "instance_norm", "local_response_norm", "prelu", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle", "dropout1d", "dropout2d", "dropout3d", "relu_", "elu_", "celu_",
           "selu_", "leaky_relu_", "hardtanh_", "threshold_", "rrelu", "rrelu_", "bilinear", "gumbel_softmax", "pdist",
           "alpha_dropout", "feature_alpha_dropout"]


# ---- composed layers: RMS norm, instance norm, local response norm, PReLU, pixel and channel shuffles,
# channel dropout (PyTorch's definitions, composed of differentiable ops) ----

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
        if running_mean is not None or running_var is not None:
            from ..autograd.grad_mode import no_grad
            n = 1
            for d in dims:
                n *= input.shape[d]
            with no_grad():
                x = input.detach()
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(x.mean(dims).mean(0) * momentum)
                if running_var is not None:
                    unbiased = x.var(dims, unbiased=False) * (n / max(n - 1, 1))
                    running_var.mul_(1 - momentum).add_(unbiased.mean(0) * momentum)
        # Per-(sample, channel) statistics are group norm with one channel per group: its fused kernels.
        if input.is_floating_point():
            return _C._functional.group_norm(input, C, weight, bias, eps)
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, unbiased=False, keepdim=True)
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
    """input where input > 0, else weight * input; weight has one element, or one per channel (dim 1). One
    kernel each way (the gradient of weight summed over the other dims)."""
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
    return _composite_math._KERNELS["prelu"](input, weight)


prelu.__doc__ += "\n\n" + (_composite_math._KERNELS["prelu"].__doc__ or "")


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
    return _threshold(input, threshold, value, inplace=True)


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
