"""loom.nn.functional: fractional max pooling (Graham, "Fractional Max-Pooling", 2014), 2-D and 3-D.

Each (sample, channel) plane draws one number u in [0, 1) per spatial dim; along a dim of input size n pooled
to m outputs by windows of k, window i starts at trunc((i + u) α) − trunc(u α) with α = (n − k) / (m − 1),
computed in the input's dtype, and the last window starts at n − k (PyTorch's sequence, so a given
_random_samples gives PyTorch's windows). The maximum of each window comes from one gather of all window
elements (an index tensor over the flattened plane) and a max over the window: the first maximum wins, and
the gradient reaches each window's maximum through the gather (overlapping windows add). Composed from
loom's ops, so it runs on either device without a kernel of its own. Imported into loom.nn.functional.
"""
import numpy as np

from .. import _C
from .._C import Tensor
from .._factories import arange as _arange, full as _full, rand as _rand

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
           "fractional_max_pool3d_with_indices"]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}
# The sample of each spatial dim (PyTorch's order: 2-D reads (width, height), 3-D (time, height, width)).
_SAMPLE_OF = {2: (1, 0), 3: (0, 1, 2)}


def _tuple(v, nd, what, op, cast):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (cast(v),) * nd
    v = tuple(v)
    if len(v) == 1:
        v = v * nd
    if len(v) != nd:
        raise RuntimeError(f"{op}: {what} must either be a single Int or tuple of Ints")
    return tuple(cast(x) for x in v)


def _starts(u, n, m, k, dtype):
    """Window starts [N, C, m] (int64) along a dim of size n for samples u [N, C]."""
    last = _full(tuple(u.shape) + (1,), n - k, dtype=_C.int64, device=u.device)
    if m <= 1:
        return last.narrow(-1, 0, m)
    # α rounded to the input's dtype first, as the reference sequence computes it
    if dtype == _C.float32:
        alpha = float(np.float32(n - k) / np.float32(m - 1))
    else:
        alpha = float(n - k) / float(m - 1)
    i = _arange(m - 1, dtype=u.dtype, device=u.device)
    seq = ((u.unsqueeze(-1) + i) * alpha).trunc() - (u * alpha).trunc().unsqueeze(-1)
    return _C.cat([seq.long(), last], -1)


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, samples, nd, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    k = _tuple(kernel_size, nd, "kernel_size", op, int)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}(): kernel size should be greater than zero, but got {'x'.join(map(str, k))}")
    for d in range(1 if input.dim() == nd + 2 else 0, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but got "
                               f"{list(input.shape)} with dimension {d} being empty.")
    if not input.is_floating_point():
        raise RuntimeError(f"{op}(): expected a floating point input, got {input.dtype}")
    x = input if input.dim() == nd + 2 else input.unsqueeze(0)
    N, C = x.shape[0], x.shape[1]
    spatial = tuple(x.shape[2:])
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        out = _tuple(output_size, nd, "output_size", op, int)
    else:
        ratio = _tuple(output_ratio, nd, "output_ratio", op, float)
        if not all(0 < r < 1 for r in ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")
        out = tuple(int(s * r) for s, r in zip(spatial, ratio))
    for name, kk, o, s in zip(_DIM_NAMES[nd], k, out, spatial):
        if o < 0 or o + kk - 1 > s - (nd == 3):  # 3-D asks for a strict margin, as PyTorch's
            raise RuntimeError(f"{op}(): pool {name} {kk} too large relative to input {name} {s}")
    if samples is None:
        samples = _rand(N, C, nd, dtype=x.dtype, device=x.device)
    else:
        if not isinstance(samples, Tensor):
            raise TypeError(f"{op}(): _random_samples must be a Tensor, not {type(samples).__name__}")
        if samples.dim() != 3:
            raise RuntimeError(f"Expect _random_samples to be 3D, got {list(samples.shape)}")
        if samples.shape[2] != nd:
            raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {samples.shape[2]}.")
        if samples.dtype != x.dtype:
            raise RuntimeError("Expect _random_samples to have the same dtype as input")
        if samples.shape[0] < N:
            raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
        if samples.shape[1] != C:
            raise RuntimeError(f"Expect _random_samples.size(1) equals to input channel size ({C}); got "
                               f"{samples.shape[1]}.")
        samples = samples.detach().narrow(0, 0, N).to(x.device)
    # the flat index (within the plane / volume) of every element of every window: [N, C, *out, *k]
    flat = None
    for d in range(nd):
        st = _starts(samples.select(2, _SAMPLE_OF[nd][d]), spatial[d], out[d], k[d], x.dtype)
        shape = [N, C] + [1] * (2 * nd)
        shape[2 + d] = out[d]
        kshape = [1] * (2 + 2 * nd)
        kshape[2 + nd + d] = k[d]
        pos = st.reshape(shape) + _arange(k[d], device=x.device).reshape(kshape)
        flat = pos if flat is None else flat * spatial[d] + pos
    window = int(np.prod(k))
    flat = flat.reshape(N, C, -1)
    vals = x.reshape(N, C, -1).gather(2, flat).reshape((N, C) + out + (window,))
    values, arg = vals.max(-1)
    indices = flat.reshape((N, C) + out + (window,)).gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    if input.dim() == nd + 1:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(values, indices) of fractional_max_pool2d (indices: h * W + w within each plane)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, True, _random_samples, 2,
                                "fractional_max_pool2d")


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Max over pseudo-random windows of kernel_size on [N, C, H, W] ([C, H, W]) down to output_size (or the
    input size times output_ratio, each in (0, 1)); _random_samples [N, C, 2] in [0, 1) fixes the windows."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2,
                                "fractional_max_pool2d")


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """(values, indices) of fractional_max_pool3d (indices: t * H * W + h * W + w within each volume)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, True, _random_samples, 3,
                                "fractional_max_pool3d")


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """fractional_max_pool2d over [N, C, T, H, W] ([C, T, H, W]); _random_samples [N, C, 3]."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3,
                                "fractional_max_pool3d")
