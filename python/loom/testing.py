"""Test helpers, as ``torch.testing``: ``assert_close`` and ``make_tensor``.

``assert_close`` compares tensors, NumPy arrays, Python numbers and (nested) sequences and mappings of
them, with PyTorch's default tolerances per dtype (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7,
1e-7; integers and bool: exact) and PyTorch's messages: what differs (shape, dtype, device, stride),
or how many elements are not close and the greatest absolute and relative differences, with where.
"""
import builtins
import collections.abc
import math

import numpy as np

from . import _C
from ._C import Tensor

__all__ = ["assert_close", "make_tensor"]

_TOLERANCES = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _tolerances(*dtypes):
    pairs = [_TOLERANCES.get(d.name, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


class _Mismatch(AssertionError):
    pass


def _fail(msg, default, path):
    if callable(msg):
        text = msg(default)
    elif msg is not None:
        text = msg
    else:
        text = default
        if path:
            text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    raise _Mismatch(text)


def _attr_mismatch(attr, a, e, msg, path):
    _fail(msg, f"The values for attribute '{attr}' do not match: {a} != {e}.", path)


def _tensor_pair(a, e, allow_subclasses):
    """Both as tensors where both are tensors (or both NumPy arrays), else None."""
    if isinstance(a, np.ndarray) and isinstance(e, np.ndarray):
        from ._factories import as_tensor
        return as_tensor(a), as_tensor(e)
    if isinstance(a, Tensor) and isinstance(e, Tensor):
        if not allow_subclasses and type(a) is not type(e):
            raise TypeError(f"No comparison pair was able to handle inputs of type {type(a)} and {type(e)}.")
        return a, e
    return None


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _compare_tensors(a, e, rtol, atol, equal_nan, check_device, check_dtype, check_stride, msg, path):
    if tuple(a.shape) != tuple(e.shape):
        _attr_mismatch("shape", a.shape, e.shape, msg, path)
    if check_device and a.device != e.device:
        _attr_mismatch("device", a.device, e.device, msg, path)
    if check_dtype and a.dtype != e.dtype:
        _attr_mismatch("dtype", a.dtype, e.dtype, msg, path)
    if check_stride and a.stride() != e.stride():
        _attr_mismatch("stride()", a.stride(), e.stride(), msg, path)
    if rtol is None:
        rtol, atol = _tolerances(a.dtype, e.dtype)
    av, ev = a.detach().cpu().numpy(), e.detach().cpu().numpy()
    exact = not (a.is_floating_point() or e.is_floating_point())
    # The differences in the promoted dtype, as PyTorch reports them (bools as integers).
    common = np.promote_types(av.dtype, ev.dtype)
    if common == np.bool_:
        common = np.dtype(np.int64)
    av, ev = av.astype(common), ev.astype(common)
    with np.errstate(invalid="ignore", over="ignore"):
        if exact:
            close = np.asarray(av == ev)
        else:  # equal infinities are close; NaN against NaN only with equal_nan
            close = np.asarray(np.isclose(av, ev, rtol=rtol, atol=atol, equal_nan=equal_nan))
    if close.all():
        return
    total, bad = close.size, int((~close).sum())
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        abs_diff = np.abs(av - ev)
        rel_diff = (abs_diff / np.abs(ev)).astype(common if not exact else np.float64)
    abs_diff = np.where(close, 0, abs_diff).astype(abs_diff.dtype)
    rel_diff = np.where(close, 0, rel_diff).astype(rel_diff.dtype)
    kind = "equal" if exact else "close"
    ai = int(np.nanargmax(abs_diff)) if not np.isnan(abs_diff).all() else int(np.argmax(~close))
    ri = int(np.nanargmax(rel_diff)) if not np.isnan(rel_diff).all() else int(np.argmax(~close))
    shape = tuple(a.shape)
    fmt = lambda v: repr(v.item())  # noqa: E731  (an int for integer tensors, else a float)
    lines = [f"Tensor-likes are not {kind}!", "", f"Mismatched elements: {bad} / {total} ({100.0 * bad / total:.1f}%)"]
    if exact:
        lines.append(f"Greatest absolute difference: {fmt(abs_diff.flat[ai])} at index {_index(ai, shape)}")
        lines.append(f"Greatest relative difference: {fmt(rel_diff.flat[ri])} at index {_index(ri, shape)}")
    else:
        lines.append(f"Greatest absolute difference: {fmt(abs_diff.flat[ai])} at index {_index(ai, shape)} "
                     f"(up to {atol} allowed)")
        lines.append(f"Greatest relative difference: {fmt(rel_diff.flat[ri])} at index {_index(ri, shape)} "
                     f"(up to {rtol} allowed)")
    _fail(msg, "\n".join(lines), path)


def _is_number(x):
    return isinstance(x, (builtins.bool, builtins.int, builtins.float, np.number, np.bool_))


def _compare_numbers(a, e, rtol, atol, equal_nan, check_dtype, msg, path):
    if check_dtype and type(a) is not type(e):
        _fail(msg, f"The (d)types do not match: {type(a)} != {type(e)}.", path)
    exact = not isinstance(a, (builtins.float, np.floating)) and not isinstance(e, (builtins.float, np.floating))
    if rtol is None:
        rtol, atol = (0.0, 0.0) if exact else _TOLERANCES["float64"]
    fa, fe = builtins.float(a), builtins.float(e)
    if fa == fe or (equal_nan and math.isnan(fa) and math.isnan(fe)):
        return
    if not exact and not math.isinf(fe) and abs(fa - fe) <= atol + rtol * abs(fe):
        return
    diff = abs(a - e) if exact else abs(fa - fe)
    rel = abs(fa - fe) / abs(fe) if fe != 0 else math.inf
    if exact:
        text = f"Scalars are not equal!\n\nExpected {e} but got {a}.\nAbsolute difference: {diff}\n" \
               f"Relative difference: {rel}"
    else:
        text = f"Scalars are not close!\n\nExpected {e} but got {a}.\nAbsolute difference: {diff} " \
               f"(up to {atol} allowed)\nRelative difference: {rel} (up to {rtol} allowed)"
    _fail(msg, text, path)


def _compare(a, e, opts, path):
    pair = _tensor_pair(a, e, opts["allow_subclasses"])
    if pair is not None:
        return _compare_tensors(pair[0], pair[1], opts["rtol"], opts["atol"], opts["equal_nan"], opts["check_device"],
                                opts["check_dtype"], opts["check_stride"], opts["msg"], path)
    if _is_number(a) and _is_number(e):
        return _compare_numbers(a, e, opts["rtol"], opts["atol"], opts["equal_nan"], opts["check_dtype"],
                                opts["msg"], path)
    tensorish = (Tensor, np.ndarray)
    if isinstance(a, str) or isinstance(e, str) or isinstance(a, tensorish) or isinstance(e, tensorish):
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(a)} and {type(e)}.")
    if isinstance(a, collections.abc.Mapping) and isinstance(e, collections.abc.Mapping):
        if set(a.keys()) != set(e.keys()):
            missing, extra = sorted(set(e) - set(a), key=repr), sorted(set(a) - set(e), key=repr)
            raise AssertionError(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                                 f"{missing}\nAdditional keys in the actual mapping: {extra}")
        for k in e:
            _compare(a[k], e[k], opts, path + [k])
        return
    if isinstance(a, collections.abc.Sequence) and isinstance(e, collections.abc.Sequence):
        if len(a) != len(e):
            raise AssertionError(f"The length of the sequences mismatch: {len(a)} != {len(e)}"
                                 + ("\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
                                    if path else ""))
        for i, (x, y) in enumerate(zip(a, e)):
            _compare(x, y, opts, path + [i])
        return
    if a is None and e is None:
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(a)} and {type(e)}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raises AssertionError unless ``actual`` and ``expected`` are close: ``|actual - expected| <= atol +
    rtol * |expected|`` elementwise, shapes equal, and dtypes and devices equal where checked."""
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    opts = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                check_device=check_device, check_dtype=check_dtype, check_stride=check_stride, msg=msg)
    try:
        _compare(actual, expected, opts, [])
    except _Mismatch as err:
        raise AssertionError(str(err)) from None


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` filled with random values: floats uniform in [low, high) (default [-9, 9)),
    integers in [low, high) (default [-9, 10)), bools at random. ``noncontiguous`` returns a view with a
    gap between elements; ``exclude_zero`` replaces zeros (by 1 for integers, the smallest normal float
    for floats)."""
    from . import _factories
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if memory_format is not None:
        raise NotImplementedError("make_tensor(): memory_format is not supported: loom tensors are row-major")
    if requires_grad and not dtype.is_floating_point:
        raise ValueError("make_tensor(): requires_grad=True is not supported for boolean or integer dtypes")
    for bound in (low, high):
        if bound is not None and isinstance(bound, builtins.float) and math.isnan(bound):
            raise ValueError(f"make_tensor(): low and high cannot be NaN, but got low={low} and high={high}")
    if low is not None and high is not None and low > high:
        raise ValueError(f"make_tensor(): low must be less than or equal to high, but got low={low} and "
                         f"high={high}")
    n = list(shape)
    if noncontiguous and n and int(np.prod(n)) > 1:
        n = n[:-1] + [n[-1] * 2]
    if dtype == _C.bool:
        t = _factories.randint(0, 2, n, dtype=_C.int64).to(_C.bool)
    elif dtype.is_floating_point:
        lo = -9.0 if low is None else builtins.float(low)
        hi = 9.0 if high is None else builtins.float(high)
        t = _factories.rand(n, dtype=dtype) * (hi - lo) + lo
    else:
        lo = -9 if low is None else math.ceil(low)
        hi = 10 if high is None else math.ceil(high)
        t = _factories.full(n, lo, dtype=dtype) if hi <= lo else _factories.randint(lo, hi, n, dtype=dtype)
    if noncontiguous and n != list(shape):
        t = t[..., ::2]
    if exclude_zero:
        repl = 1 if not dtype.is_floating_point else np.finfo(np.dtype(dtype.name)).tiny
        t = t.masked_fill(t.eq(0), repl) if dtype != _C.bool else t.masked_fill(t.eq(False), True)
    t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t
