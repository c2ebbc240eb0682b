"""loom.nn.functional, composed pooling and the 3-D wrappers: the 1-D pools over the 2-D kernels ([N, C, L] as
[N, C, 1, L]), conv3d / conv_transpose3d and max / avg_pool3d over their C++ ops, the adaptive 3-D pools (the
2-D pools per depth slice), avg_pool2d's divisor_override, lp pools, max_unpool. Imported into
loom.nn.functional."""
import math

from .. import _C
from .._factories import tensor as _tensor_of, zeros as _zeros
from .functional import _tensor, pad

__all__ = ["lp_pool2d", "lp_pool1d", "lp_pool3d", "max_unpool2d", "max_unpool1d", "max_unpool3d", "conv3d",
           "conv_transpose3d", "avg_pool3d", "avg_pool2d",
           "max_pool3d_with_indices", "max_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d_with_indices",
           "adaptive_max_pool3d", "max_pool1d_with_indices", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool1d"]


def _norm_type(norm_type, op):
    """The p of an Lp pool: a nonzero number (PyTorch divides 1 by it: ZeroDivisionError at 0)."""
    if isinstance(norm_type, _C.Tensor) and norm_type.numel() == 1:
        norm_type = norm_type.item()
    if not isinstance(norm_type, (int, float)):
        raise TypeError(f"{op}: norm_type must be a number, got {type(norm_type).__name__}")
    if norm_type == 0:
        raise ValueError(f"{op}: norm_type must be nonzero (the result is a power 1 / norm_type), got {norm_type}")
    return norm_type


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x^p)^(1/p): avg_pool2d of x^p times the window size, to the power 1/p."""
    _tensor(input, "lp_pool2d")
    norm_type = _norm_type(norm_type, "lp_pool2d")
    kw, kh = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    out = _C._functional.avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x^p)^(1/p) along the last dim of [N, C, L] or [C, L]."""
    x = _pool1d_input(input, "lp_pool1d")
    norm_type = _norm_type(norm_type, "lp_pool1d")
    k = _single(kernel_size, "kernel_size", "lp_pool1d")
    s = k if stride is None else _single(stride, "stride", "lp_pool1d")
    out = _C._functional.avg_pool2d(x.pow(norm_type), (1, k), (1, s), 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k).pow(1.0 / norm_type).squeeze(-2)


def _max_unpool(input, indices, nd, kernel_size, stride, padding, output_size, op):
    """max_unpool2d / 3d (nd spatial dims): each value written at its saved index (the flat position in its
    plane or volume) of a zero output; its size from the pooling arguments or output_size."""
    _tensor(input, op)
    _tensor(indices, op)
    if tuple(input.shape) != tuple(indices.shape) or input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected input and indices of the same shape, {nd + 1}D or {nd + 2}D, got "
                           f"{list(input.shape)} and {list(indices.shape)}")

    def per_dim(v):
        return (v,) * nd if isinstance(v, int) else tuple(v)
    k = per_dim(kernel_size)
    st = k if stride is None else per_dim(stride)
    pd = per_dim(padding)
    spatial = tuple(input.shape[-nd:])
    defaults = [(spatial[i] - 1) * st[i] - 2 * pd[i] + k[i] for i in range(nd)]
    if output_size is None:
        size = defaults
    else:
        size = [int(v) for v in tuple(output_size)[-nd:]]
        for i in range(nd):
            if not defaults[i] - st[i] < size[i] < defaults[i] + st[i]:
                raise ValueError(f"{op}: invalid output_size {list(output_size)} (dim {i} must be between "
                                 f"{defaults[i] - st[i]} and {defaults[i] + st[i]}, exclusive)")
    lead = tuple(input.shape[:-nd])
    volume = math.prod(size)
    x = input.reshape(-1, math.prod(spatial))
    idx = indices.reshape(-1, math.prod(spatial))
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= volume):
        raise IndexError(f"{op}: an index is out of bounds for outputs of {'x'.join(str(v) for v in size)}")
    zero = _zeros(x.shape[0], volume, dtype=input.dtype, device=input.device)
    # The value of a scatter (an index saved twice by overlapping windows holds one of its equal values), the
    # gradient of a gather: every input element gets the output gradient at its index, as PyTorch's.
    added = zero.scatter_add(1, idx, x)
    out = zero.scatter(1, idx, x.detach()) + (added - added.detach())
    return out.reshape(lead + tuple(size))


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d: each value written at its saved index (ih * W + iw of its plane) of a zero
    output [N, C, H, W] ([C, H, W]); H, W from the pooling arguments or output_size."""
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool3d: each value written at its saved index (id * H * W + ih * W + iw of its
    volume) of a zero output [N, C, D, H, W] ([C, D, H, W])."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x^p)^(1/p) over [N, C, D, H, W] ([C, D, H, W]): avg_pool3d of x^p times the
    window's volume, to the power 1/p."""
    _tensor(input, "lp_pool3d")
    norm_type = _norm_type(norm_type, "lp_pool3d")
    k = _triple(kernel_size, "kernel_size", "lp_pool3d")
    out = avg_pool3d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k[0] * k[1] * k[2]).pow(1.0 / norm_type)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool2d along the last dim of [N, C, L] or [C, L] (indices are positions along L)."""
    _tensor(input, "max_unpool1d")
    _tensor(indices, "max_unpool1d")
    k = _single(kernel_size, "kernel_size", "max_unpool1d")
    s = k if stride is None else _single(stride, "stride", "max_unpool1d")
    p = _single(padding, "padding", "max_unpool1d")
    osz = None if output_size is None else (1, int(tuple(output_size)[-1]))
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), (1, k), (1, s), (0, p), osz).squeeze(-2)


# ---- 3-D convolution and pooling ----

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


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _tensor(input, "conv3d")
    _tensor(weight, "conv3d")
    if isinstance(padding, str) and padding == "same" and weight.dim() == 5:
        dl = _triple(dilation, "dilation", "conv3d")
        total = [d * (k - 1) for d, k in zip(dl, weight.shape[2:])]
        if any(t % 2 for t in total) and all(v == 1 for v in _triple(stride, "stride", "conv3d")):
            # an even effective kernel: PyTorch pads one more at the end
            input = pad(input, (total[2] // 2, total[2] - total[2] // 2, total[1] // 2, total[1] - total[1] // 2,
                                total[0] // 2, total[0] - total[0] // 2))
            padding = 0
    return _C._functional.conv3d(input, weight, bias, stride, padding, dilation, groups)


conv3d.__doc__ = _C._functional.conv3d.__doc__


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    _tensor(input, "conv_transpose3d")
    _tensor(weight, "conv_transpose3d")
    return _C._functional.conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


conv_transpose3d.__doc__ = _C._functional.conv_transpose3d.__doc__


def _window_counts(n_in, k, s, p, n_out, include_pad):
    """Per output position along one axis: the window's size clipped to the padded input (include_pad) or
    to the input."""
    out = []
    for o in range(n_out):
        a = o * s - p
        b = min(a + k, n_in + p)
        out.append(b - a if include_pad else min(b, n_in) - max(a, 0))
    return out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    _tensor(input, "avg_pool3d")
    return _C._functional.avg_pool3d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                     divisor_override)


avg_pool3d.__doc__ = _C._functional.avg_pool3d.__doc__


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
    _tensor(input, "max_pool3d")
    return _C._functional.max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    _tensor(input, "max_pool3d")
    return _C._functional.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


max_pool3d.__doc__ = _C._functional.max_pool3d.__doc__


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
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    x = _pool1d_input(input, "max_pool1d")
    k, s, p = _pool1d_args("max_pool1d", kernel_size, stride, padding)
    d = _single(dilation, "dilation", "max_pool1d")
    return _C._functional.max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, False).squeeze(-2)


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
