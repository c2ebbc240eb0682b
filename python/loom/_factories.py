"""Tensor factories with PyTorch's signatures.

A size is given as ints (``zeros(2, 3)``), one sequence (``zeros((2, 3))``) or
``size=``. The options are keyword-only, as in PyTorch: ``dtype``, ``layout``
(``loom.strided`` or None), ``device``, ``requires_grad``, ``pin_memory``
(False: loom does not allocate page-locked CPU tensors), ``out`` (None: assign
the result instead) and, for the random factories, ``generator`` (a
``loom.Generator``, drawn from instead of the global generator). A misspelt
keyword raises TypeError, as it does for any Python function.
"""
import builtins
import operator

import numpy as np

from . import _C
from ._C import Tensor


class layout:
    """The memory layout of a tensor. loom tensors are dense: ``loom.strided``
    is the only layout, accepted wherever PyTorch takes ``layout=``."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"loom.{self._name}"

    def __reduce__(self):
        return self._name


strided = layout("strided")

_INT_RANGES = {"int64": (-(2**63), 2**63 - 1), "int32": (-(2**31), 2**31 - 1)}


def _check_options(name, out=None, layout=None, pin_memory=False):
    if out is not None:
        raise NotImplementedError(f"{name}(): out= is not supported; use the returned tensor instead")
    if layout is not None and layout is not strided:
        raise TypeError(f"{name}(): layout must be loom.strided or None, got {layout!r}")
    if pin_memory:
        raise NotImplementedError(f"{name}(): pin_memory=True is not supported: loom does not allocate "
                                  "page-locked CPU tensors")


def _shape(name, args, size=None):
    """The size of f(2, 3), f((2, 3)), f([2, 3]) or f(size=(2, 3)) as a list of ints."""
    if size is not None:
        if args:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        args = (size,)
    if not args:
        raise TypeError(f"{name}() missing 1 required positional argument: 'size'")
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    shape = []
    for s in args:
        if isinstance(s, builtins.bool) or not hasattr(type(s), "__index__"):
            raise TypeError(f"{name}(): size must be a tuple of ints, but got {type(s).__name__}")
        shape.append(_int64(name, operator.index(s), "size"))
    return shape


def _int64(name, value, what):
    lo, hi = _INT_RANGES["int64"]
    if not lo <= value <= hi:
        raise RuntimeError(f"{name}(): {what} {value} is out of the range of int64 [{lo}, {hi}]")
    return value


def _leaves(data):
    if isinstance(data, (list, tuple)):
        for x in data:
            yield from _leaves(x)
    elif isinstance(data, np.ndarray):
        yield from data.ravel().tolist()
    else:
        yield data


def _check_python_ints(data, arr, dtype):
    """Raises for Python ints that do not fit the tensor's integer dtype, which
    NumPy would otherwise turn into uint64 (then wrapped), float64 or object
    arrays. Returns arr, or a float64 array where the target is not integral."""
    target = None if dtype is None else np.dtype(_C._numpy_dtype(dtype)).name
    kind = arr.dtype.kind
    if target == "int32" and kind == "i":
        lo, hi = _INT_RANGES["int32"]
        bad = (arr < lo) | (arr > hi)
        if bad.any():
            raise RuntimeError(f"tensor(): Python int {arr[bad].flat[0]} is out of the range of int32 [{lo}, {hi}]")
        return arr
    # Only ints beyond int64 make NumPy infer these.
    big_float = kind == "f" and arr.size > 0 and np.abs(arr).max() >= 2.0**63
    if kind not in "uO" and not big_float:
        return arr
    leaves = list(_leaves(data))
    if not all(isinstance(x, (builtins.int, builtins.float, np.integer, np.floating)) for x in leaves):
        return arr  # strings, None, ...: tensor() says it cannot infer the dtype
    has_float = any(isinstance(x, (builtins.float, np.floating)) for x in leaves)
    integral = target in _INT_RANGES or (target is None and not has_float)
    if not integral:
        return np.asarray(data, dtype=np.float64)
    name = target or "int64"
    lo, hi = _INT_RANGES[name]
    for x in leaves:
        if isinstance(x, (builtins.int, np.integer)) and not isinstance(x, builtins.bool) and not lo <= x <= hi:
            raise RuntimeError(f"tensor(): Python int {x} is out of the range of {name} [{lo}, {hi}]")
    return arr


def _infer_numpy(data, dtype=None):
    """Converts nested Python data to a NumPy array with PyTorch's dtype rules.
    Python floats become the default dtype (float32, as in torch.tensor) unless a dtype is given,
    in which case the values are converted once, from full precision. Python
    ints must fit the integer dtype (int64 unless dtype says otherwise)."""
    arr = np.asarray(data)
    if not isinstance(data, (np.ndarray, np.generic)):
        arr = _check_python_ints(data, arr, dtype)
    if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):  # NumPy scalars keep theirs
        if dtype is None and _C._default_dtype() == _C.float32:
            with np.errstate(over="ignore"):  # beyond the float32 range is inf, as in PyTorch
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
    _check_options("tensor", pin_memory=pin_memory)
    if isinstance(data, Tensor):
        t = data.detach().clone()
        if dtype is not None or device is not None:
            t = t.to(device=device, dtype=dtype)
    elif isinstance(data, (builtins.bool, builtins.int, builtins.float)) and not isinstance(data, np.generic):
        t = _C._scalar_tensor(data, dtype, device, data=True)
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
    t = _C._scalar_tensor(s, dtype if dtype is not None else _C._default_dtype(), device)
    return t.requires_grad_(True) if requires_grad else t


def _factory(fn, name, doc):
    def f(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
        _check_options(name, out, layout, pin_memory)
        return fn(_shape(name, args, size), dtype, device, requires_grad)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"loom.{name}(*size, *, dtype=None, layout=None, device=None, requires_grad=False): {doc}"
    return f


def _random_factory(fn, name, doc):
    def f(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
        _check_options(name, out, layout, pin_memory)
        return fn(_shape(name, args, size), dtype, device, requires_grad, generator)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"loom.{name}(*size, *, generator=None, dtype=None, layout=None, device=None, "
                 f"requires_grad=False): {doc}")
    return f


zeros = _factory(_C._zeros, "zeros", "a tensor of zeros.")
ones = _factory(_C._ones, "ones", "a tensor of ones.")
empty = _factory(_C._empty, "empty", "an uninitialized tensor.")
rand = _random_factory(_C._rand, "rand", "uniform samples in [0, 1).")
randn = _random_factory(_C._randn, "randn", "standard normal samples.")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ``fill_value``, of its dtype (bool, int64 or the default float32) unless ``dtype`` is
    given; the value must fit the dtype."""
    _check_options("full", out, layout, pin_memory)
    return _C._full(_shape("full", (size,)), fill_value, dtype, device, requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    _check_options("arange", out, layout, pin_memory)
    if end is None:
        start, end = 0, start
    return _C._arange(start, end, step, dtype, device, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    _check_options("linspace", out, layout, pin_memory)
    return _C._linspace(builtins.float(start), builtins.float(end), steps, dtype, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _check_options("eye", out, layout, pin_memory)
    return _C._eye(n, m, dtype, device, requires_grad)


def randint(low=None, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """randint(high, size) or randint(low=0, high, size): integers uniform in [low, high), int64 unless
    ``dtype`` is given."""
    _check_options("randint", out, layout, pin_memory)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = None, low, high
    elif high is None:  # randint(high, size=...)
        low, high = None, low
    if high is None:
        raise TypeError("randint() missing 1 required argument: 'high'")
    if size is None:
        raise TypeError("randint() missing 1 required argument: 'size'")
    return _C._randint(0 if low is None else low, high, _shape("randint", (size,)), dtype, device, requires_grad,
                       generator)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1, int64 unless ``dtype`` is given."""
    _check_options("randperm", out, layout, pin_memory)
    return _C._randperm(n, dtype, device, requires_grad, generator)


def _like(fn, name):
    def f(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        _check_options(name, layout=layout)
        return fn(input, dtype, device, requires_grad)

    f.__name__ = f.__qualname__ = name
    return f


def _random_like(fn, name):
    def f(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        _check_options(name, layout=layout)
        return fn(input, dtype, device, requires_grad, generator)

    f.__name__ = f.__qualname__ = name
    return f


zeros_like = _like(_C._zeros_like, "zeros_like")
ones_like = _like(_C._ones_like, "ones_like")
empty_like = _like(_C._empty_like, "empty_like")
rand_like = _random_like(_C._rand_like, "rand_like")
randn_like = _random_like(_C._randn_like, "randn_like")


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    _check_options("full_like", layout=layout)
    return _C._full_like(input, fill_value, dtype, device, requires_grad)


# The registry's docstring (core/ops.toml) after each factory's own.
for _f, _op in ((rand, "rand"), (randn, "randn"), (randint, "randint"), (arange, "arange"), (linspace, "linspace")):
    _f.__doc__ = (_f.__doc__ or "") + "\n\n" + _C._registry_docs[_op]
del _f, _op
