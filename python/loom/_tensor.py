"""Tensor methods written in Python on top of the bound C++ ones."""
import copy

from . import _C
from ._C import Tensor


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradient of this tensor w.r.t. graph leaves (see loom.autograd.backward)."""
    from .autograd import backward as _backward

    _backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def tolist(self):
    if self.dim() == 0:
        return self.item()
    return self.detach().cpu().numpy().tolist()


def __array__(self, dtype=None, copy=None):
    a = self.numpy()
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


def __format__(self, spec):
    if self.dim() == 0:
        return self.item().__format__(spec)
    return object.__format__(self, spec)


def __contains__(self, element):
    if isinstance(element, (Tensor, int, float, bool)):
        return bool((self == element).any())
    raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")


def __reversed__(self):
    if self.dim() == 0:
        return self
    return self.flip(0)


def _logical(name, op):
    def f(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
        return getattr(self.ne(0), op)(other.ne(0))  # nonzero is true (NaN too), as PyTorch

    f.__name__ = name
    f.__doc__ = f"Elementwise {name.split('_')[1]} of the truth values of self and other (a bool tensor)."
    return f


logical_and = _logical("logical_and", "bitwise_and")
logical_or = _logical("logical_or", "bitwise_or")
logical_xor = _logical("logical_xor", "bitwise_xor")


def any(self, dim=None, keepdim=False):
    return self.ne(0).sum(dim=dim, keepdim=keepdim).gt(0)


def all(self, dim=None, keepdim=False):
    return self.eq(0).sum(dim=dim, keepdim=keepdim).eq(0)


def __deepcopy__(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    t = self.detach().clone()
    t.requires_grad_(self.requires_grad)
    if self.grad is not None:
        t.grad = self.grad.detach().clone()
    memo[id(self)] = t
    return t


def __reduce_ex__(self, proto):
    from ._factories import tensor

    return (_rebuild, (self.detach().cpu().numpy().copy(), str(self.device), self.requires_grad))


def _rebuild(array, device, requires_grad):
    from ._factories import tensor

    return tensor(array, device=device if device != "cpu" else None, requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from ._factories import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_factory(name):
    def f(self, *size, dtype=None, device=None, requires_grad=False):
        from . import _factories

        fn = getattr(_factories, name)
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    f.__name__ = "new_" + name
    return f


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    from ._factories import full

    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def repeat(self, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    x = self
    lead = len(sizes) - x.dim()
    if lead < 0:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    for r in sizes:
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r}: {list(sizes)}")
    shape = (1,) * lead + tuple(x.shape)
    x = x.reshape(shape)
    # One copy: view as [r0, s0, r1, s1, ...] (the repeats broadcast), then
    # merge each pair; the output's size is checked before it is allocated.
    inter, out = [], []
    for r, s in zip(sizes, shape):
        inter += [r, s]
        out.append(r * s)
    x = x.reshape(tuple(v for s in shape for v in (1, s))).expand(*inter).clone()
    return x.view(tuple(out))


def type_as(self, other):
    return self.to(other.dtype)


def _no_alpha(alpha):
    return type(alpha) is int and alpha == 1


def subtract(self, other, *, alpha=1):
    """Alias of sub."""
    return self.sub(other) if _no_alpha(alpha) else self.sub(other, alpha=alpha)


def subtract_(self, other, *, alpha=1):
    return self.sub_(other) if _no_alpha(alpha) else self.sub_(other, alpha=alpha)


def multiply(self, other):
    """Alias of mul."""
    return self.mul(other)


def multiply_(self, other):
    return self.mul_(other)


def divide(self, other, *, rounding_mode=None):
    """Alias of div."""
    return self.div(other, rounding_mode=rounding_mode)


def divide_(self, other, *, rounding_mode=None):
    return self.div_(other, rounding_mode=rounding_mode)


def _round_method(rnd):
    def round(self, *, decimals=0):
        if decimals == 0:
            return rnd(self)
        if not isinstance(decimals, int) or isinstance(decimals, bool):
            raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
        if not self.is_floating_point():
            raise RuntimeError(f"round(): decimals={decimals} needs a floating dtype, got {self.dtype}")
        # As torch.round: x * 10^d rounded, then divided back, in the tensor's dtype.
        if decimals > 0:
            scale = 10.0 ** decimals
            return rnd(self * scale) / scale
        scale = 10.0 ** -decimals
        return rnd(self / scale) * scale

    round.__doc__ = rnd.__doc__
    return round


# ---- float classification and cleanup (torch.isnan, isinf, isfinite composed; nan_to_num a kernel) ----

def isnan(self):
    """True where self is NaN (never for integer and bool tensors)."""
    return self != self


def isinf(self):
    """True where self is +inf or -inf."""
    if not self.is_floating_point():
        return self != self
    return self.abs() == float("inf")


def isposinf(self):
    return self == float("inf") if self.is_floating_point() else self != self


def isneginf(self):
    return self == float("-inf") if self.is_floating_point() else self != self


def isfinite(self):
    """True where self is neither inf nor NaN."""
    if not self.is_floating_point():
        return self == self
    return (self - self) == 0  # inf - inf and NaN - NaN are NaN


def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
    return _C._functional.nan_to_num(self, nan, posinf, neginf)


nan_to_num.__doc__ = _C._functional.nan_to_num.__doc__


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return self.copy_(nan_to_num(self, nan, posinf, neginf))


def clamp_min(self, min):
    return self.clamp(min=min)


def clamp_max(self, max):
    return self.clamp(max=max)


def frac(self):
    """self - trunc(self), the fractional part with self's sign; floating dtypes."""
    if not self.is_floating_point():
        raise TypeError(f"frac(): expected a floating tensor, got {self.dtype}")
    return self - self.trunc()


def equal(self, other):
    """True when other has the same shape and equal elements (NaN equals nothing), as torch.equal."""
    if not isinstance(other, Tensor):
        raise TypeError(f"equal(): argument 'other' must be Tensor, not {type(other).__name__}")
    return tuple(self.shape) == tuple(other.shape) and bool((self == other).all())


def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|self - other| <= atol + rtol * |other| elementwise, as torch.isclose (same dtypes; infinities are
    close only to themselves; NaN only with equal_nan)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' must be Tensor, not {type(other).__name__}")
    if self.dtype != other.dtype:
        raise RuntimeError(f"isclose(): self ({self.dtype}) and other ({other.dtype}) must have the same dtype")
    if rtol < 0:
        raise RuntimeError(f"isclose(): rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"isclose(): atol must be greater than or equal to zero, but got {atol}")
    close = self.eq(other)
    if self.dtype == _bool_dtype():
        return close
    a, b = self, other
    if not a.is_floating_point():
        a, b = a.double(), b.double()
    if equal_nan:
        close = close.logical_or(a.ne(a).logical_and(b.ne(b)))
    if rtol == 0 and atol == 0:
        return close
    err = (a - b).abs()
    finite = err.eq(err).logical_and(err.ne(float("inf")))
    return close.logical_or(finite.logical_and(err.le(b.abs() * rtol + atol)))


def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of self is close to other (isclose), as torch.allclose."""
    return bool(isclose(self, other, rtol, atol, equal_nan).all())


def _bool_dtype():
    from . import bool as loom_bool
    return loom_bool


def _install():
    Tensor.backward = backward
    Tensor.tolist = tolist
    Tensor.__array__ = __array__
    Tensor.__format__ = __format__
    Tensor.__contains__ = __contains__
    Tensor.__reversed__ = __reversed__
    Tensor.__deepcopy__ = __deepcopy__
    Tensor.__reduce_ex__ = __reduce_ex__
    Tensor.any = any
    Tensor.logical_and = logical_and
    Tensor.logical_or = logical_or
    Tensor.logical_xor = logical_xor
    Tensor.all = all
    Tensor.new_tensor = new_tensor
    Tensor.new_zeros = _new_factory("zeros")
    Tensor.new_ones = _new_factory("ones")
    Tensor.new_empty = _new_factory("empty")
    Tensor.new_full = new_full
    Tensor.repeat = repeat
    Tensor.type_as = type_as
    Tensor.subtract = subtract
    Tensor.subtract_ = subtract_
    Tensor.multiply = multiply
    Tensor.multiply_ = multiply_
    Tensor.divide = divide
    Tensor.divide_ = divide_
    Tensor.isclose = isclose
    Tensor.equal = equal
    for f in (isnan, isinf, isposinf, isneginf, isfinite, nan_to_num, nan_to_num_, clamp_min, clamp_max, frac):
        setattr(Tensor, f.__name__, f)
    Tensor.allclose = allclose
    Tensor.true_divide_ = Tensor.div_
    Tensor.round = _round_method(Tensor.round)
    Tensor.__module__ = "loom"
    Tensor.is_tensor_like = True
