"""Tensor factories with PyTorch's signatures (sizes as varargs or a tuple)."""
import builtins
import numbers

import numpy as np

from . import _C
from ._C import Tensor


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for s in size:
        if isinstance(s, builtins.bool) or not isinstance(s, (numbers.Integral, np.integer)):
            if not hasattr(s, "__index__"):
                raise TypeError(f"size must be a tuple of ints, but got {type(s).__name__}")
    return [builtins.int(s) for s in size]


def _infer_numpy(data, dtype=None):
    """Converts nested Python data to a NumPy array with PyTorch's dtype rules.
    Python floats become float32 (as in torch.tensor) unless a dtype is given,
    in which case the values are converted once, from full precision."""
    arr = np.asarray(data)
    if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
        if dtype is None:
            arr = arr.astype(np.float32)
    elif arr.dtype == object:
        raise TypeError("tensor(): could not infer dtype of the given data (mixed or unsupported types)")
    elif arr.dtype.kind in "US":
        raise TypeError(f"tensor(): new(): invalid data type '{arr.dtype.kind == 'U' and 'str' or 'bytes'}'")
    elif arr.dtype.kind == "u":
        arr = arr.astype(np.int64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    return arr


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copies ``data`` (numbers, nested lists, NumPy arrays, tensors) into a new tensor."""
    if isinstance(data, Tensor):
        t = data.detach().clone()
        if dtype is not None or device is not None:
            t = t.to(device=device, dtype=dtype)
    elif isinstance(data, (builtins.bool, builtins.int, builtins.float)) and not isinstance(data, np.ndarray):
        t = _C._scalar_tensor(data, dtype, device)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
            data = [x.detach().cpu().numpy() if isinstance(x, Tensor) else x for x in data]
        t = _C._from_numpy_copy(_infer_numpy(data, dtype), dtype, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray) and device is None and (dtype is None or _C._numpy_dtype(dtype) == data.dtype):
        try:
            return _C.from_numpy(data)
        except (TypeError, ValueError):
            pass
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    t = _C._scalar_tensor(s, dtype if dtype is not None else _C.float32, device)
    return t.requires_grad_(True) if requires_grad else t


def _factory(fn, name):
    def f(*size, dtype=None, device=None, requires_grad=False, out=None, **kw):
        return fn(_size(size), dtype, device, requires_grad)

    f.__name__ = name
    f.__doc__ = f"loom.{name}(*size, dtype=None, device=None, requires_grad=False)"
    return f


zeros = _factory(_C._zeros, "zeros")
ones = _factory(_C._ones, "ones")
empty = _factory(_C._empty, "empty")
rand = _factory(_C._rand, "rand")
randn = _factory(_C._randn, "randn")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _C._full(_size((size,)), fill_value, dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    return _C._arange(start, end, step, dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _C._linspace(builtins.float(start), builtins.float(end), steps, dtype, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _C._eye(n, m, dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    return _C._randint(low, high, _size((size,)), dtype, device, requires_grad)


def randperm(n, dtype=None, device=None, requires_grad=False):
    return _C._randperm(n, dtype, device, requires_grad)


def _like(fn, name):
    def f(input, dtype=None, device=None, requires_grad=False, memory_format=None):
        return fn(input, dtype, device, requires_grad)

    f.__name__ = name
    return f


zeros_like = _like(_C._zeros_like, "zeros_like")
ones_like = _like(_C._ones_like, "ones_like")
empty_like = _like(_C._empty_like, "empty_like")
rand_like = _like(_C._rand_like, "rand_like")
randn_like = _like(_C._randn_like, "randn_like")


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _C._full_like(input, fill_value, dtype, device, requires_grad)
