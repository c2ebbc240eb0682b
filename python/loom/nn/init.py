"""torch.nn.init: in-place initialisers (no autograd), PyTorch's formulas; run on the tensor's device."""
import math

from .. import _C, _factories
from ..autograd.grad_mode import no_grad

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "dirac_", "sparse_",
    "_calculate_fan_in_and_fan_out",
]


def calculate_gain(nonlinearity, param=None):
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tuple(tensor.shape)[2:]:
        receptive *= s
    return tensor.size(1) * receptive, tensor.size(0) * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    with no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    r = _factories.rand(*tuple(tensor.shape), dtype=tensor.dtype, device=tensor.device)
    return _fill(tensor, r * (b - a) + a)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    r = _factories.randn(*tuple(tensor.shape), dtype=tensor.dtype, device=tensor.device)
    return _fill(tensor, r * std + mean)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std) restricted to [a, b] (rejection sampling from loom's generator, on the host)."""
    import numpy as np

    n = tensor.numel()
    out = np.empty(0)
    for _ in range(64):
        if out.size >= n:
            break
        z = _factories.randn(max(2 * (n - out.size), 16), dtype=_C.float64).numpy() * std + mean
        out = np.concatenate([out, z[(z >= a) & (z <= b)]])
    if out.size < n:  # a window far in the tail: fall back to clamping
        out = np.concatenate([out, np.full(n - out.size, min(max(mean, a), b))])
    vals = _factories.tensor(out[:n].reshape(tuple(tensor.shape)), dtype=tensor.dtype, device=tensor.device)
    return _fill(tensor, vals)


def constant_(tensor, val):
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, _factories.eye(tensor.size(0), tensor.size(1), dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor, groups=1):
    """The identity of a 3-, 4- or 5-D convolution weight: each output channel of each group passes its input
    channel through the kernel's centre (channels beyond the smaller count stay zero)."""
    import numpy as np
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = list(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    w = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            w[(g * out_per_group + d, d) + centre] = 1.0
    return _fill(tensor, _C.from_numpy(w).to(tensor.dtype).to(tensor.device))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor of N(0, std) values with ceil(sparsity * rows) zeros in every column (at random rows)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    values = _factories.randn(rows, cols, dtype=tensor.dtype, device=tensor.device, generator=generator) * std
    if num_zeros:
        keys = _factories.rand(rows, cols, device=tensor.device, generator=generator)
        idx = keys.argsort(0).narrow(0, 0, num_zeros)
        values = values.scatter(0, idx, 0.0)
    return _fill(tensor, values)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tuple(tensor.shape):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor, gain=1, generator=None):
    """(Semi-)orthogonal init: QR of a Gaussian matrix with R's diagonal made positive (host numpy)."""
    import numpy as np

    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flat = _factories.randn(rows, cols, dtype=_C.float64).numpy()
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    vals = _factories.tensor(np.ascontiguousarray(q).reshape(tuple(tensor.shape)) * gain, dtype=tensor.dtype,
                             device=tensor.device)
    return _fill(tensor, vals)


def _default_weight_bias_(weight, bias):
    """The default initialisation of torch.nn.Linear and ConvNd: kaiming_uniform_
    with a = sqrt(5) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
