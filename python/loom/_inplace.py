"""In-place Tensor methods of PyTorch's API composed from loom's out-of-place ops: the unary math ops
(``x.sqrt_()``, ``x.sigmoid_()``, ...), the binary and ternary helpers (``lerp_``, ``addcmul_``, ``eq_``,
...), and the random fills the initializers use (``uniform_``, ``normal_``, ``bernoulli_``, ...), plus
``fill_diagonal_`` and the ``unfold`` view.

Each writes ``f(self)`` into self with ``copy_``: self keeps its storage, views of it see the new values,
its version counter moves on, and under autograd self's history becomes f's applied to a copy of the old
value, so gradients flow as PyTorch's do (a leaf that requires grad is refused by ``copy_``, as by
PyTorch)."""
import math

from . import _C
from ._C import Tensor

_CATEGORY = {"bool": 0, "int32": 1, "int64": 1, "float32": 2, "float64": 2}


def _category(dt):
    return _CATEGORY[str(dt).replace("loom.", "")]


def apply_(self, name, fn):
    """self.copy_(fn(self)) with PyTorch's in-place rules: the result's dtype must cast to self's within
    its category (bool < int < float), and a tracked self is read through a copy, so the values fn saves
    for backward are not the ones overwritten."""
    if not isinstance(self, Tensor):
        raise TypeError(f"{name}(): argument 'self' must be Tensor, not {type(self).__name__}")
    src = self.clone() if _C.is_grad_enabled() and self.requires_grad else self
    r = fn(src)
    if _category(r.dtype) > _category(self.dtype):
        raise RuntimeError(f"{name}: result type {_type_name(r.dtype)} can't be cast to the desired output type "
                           f"{_type_name(self.dtype)}")
    return self.copy_(r)


def _type_name(dt):
    return {"bool": "Bool", "int32": "Int", "int64": "Long", "float32": "Float",
            "float64": "Double"}[str(dt).replace("loom.", "")]


def _make(name, method):
    def f(self, *args, **kwargs):
        return apply_(self, name + "_", lambda s: getattr(s, method)(*args, **kwargs))

    if name in _UNARY:
        def f(self, *args, **kwargs):  # noqa: F811 -- a unary kernel written straight into self when it can
            if not args and not kwargs and isinstance(self, Tensor) and _C._unary_inplace(self, method):
                return self
            return apply_(self, name + "_", lambda s: getattr(s, method)(*args, **kwargs))

    f.__name__ = name + "_"
    f.__qualname__ = "Tensor." + name + "_"
    f.__doc__ = f"In-place version of Tensor.{method}: self.{method}(...) written into self."
    return f


# Tensor.<name>_ for these methods (each calls the out-of-place Tensor.<name>).
_UNARY = ["abs", "absolute", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp2", "expm1",
          "floor", "log", "log10", "log1p", "log2", "logical_not", "reciprocal", "round", "rsqrt", "sigmoid", "sign",
          "sin", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "frac", "negative", "deg2rad", "rad2deg",
          "logit", "sgn", "sinc", "fix", "arccos", "arcsin", "arctan", "arccosh", "arcsinh", "arctanh", "acosh",
          "asinh", "atanh", "erfinv", "lgamma", "digamma", "i0", "trigamma"]
_OTHER = ["clamp_min", "clamp_max", "clip", "lerp", "addcmul", "addcdiv", "addmm", "addmv", "addr", "addbmm",
          "baddbmm", "heaviside", "hypot", "atan2", "arctan2", "logical_and", "logical_or", "logical_xor", "eq",
          "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "copysign",
          "xlogy", "float_power", "fmod", "remainder", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
          "ldexp", "nextafter", "renorm", "polygamma", "mvlgamma", "igamma", "igammac"]


def float_power_(self, exponent):
    """self ** exponent in float64, written into self: PyTorch requires self to be float64."""
    if str(self.dtype) != "loom.float64":
        raise RuntimeError(f"float_power_(): the base given to float_power_ has dtype {_type_name(self.dtype)} "
                           "but the operation's result requires dtype Double")
    return apply_(self, "float_power_", lambda s: s.float_power(exponent))


# ---- random fills (no gradient: self's old value gets a zero gradient, as in PyTorch) ----

def _check_float(self, name):
    if not self.is_floating_point():
        raise RuntimeError(f"{name}: expected a floating point tensor, but got {self.dtype}")


def _rand(self, generator):
    from ._factories import rand
    return rand(tuple(self.shape), dtype=self.dtype, device=self.device, generator=generator)


def _fill(self, sample):
    with _no_grad():
        values = sample()
    return self.copy_(values)


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


def uniform_(self, a=0.0, b=1.0, *, generator=None, **kwargs):
    """Samples from U[a, b) written into self (``from``/``to`` are accepted as keywords too)."""
    a, b = kwargs.pop("from", a), kwargs.pop("to", b)
    if kwargs:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    _check_float(self, "uniform_")
    if not a <= b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill(self, lambda: _rand(self, generator) * (b - a) + a)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Samples from N(mean, std²) written into self."""
    _check_float(self, "normal_")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    from ._factories import randn
    return _fill(self, lambda: randn(tuple(self.shape), dtype=self.dtype, device=self.device,
                                                generator=generator) * std + mean)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """exp of samples from N(mean, std²) written into self."""
    _check_float(self, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    from ._factories import randn
    return _fill(self, lambda: (randn(tuple(self.shape), dtype=self.dtype, device=self.device,
                                                     generator=generator) * std + mean).exp())


def exponential_(self, lambd=1.0, *, generator=None):
    """Samples from the exponential distribution of rate lambd written into self."""
    _check_float(self, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, lambda: (1.0 - _rand(self, generator)).log() * (-1.0 / lambd))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Samples from the Cauchy distribution written into self."""
    _check_float(self, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(self, lambda: ((_rand(self, generator) - 0.5) * math.pi).tan() * sigma + median)


def geometric_(self, p, *, generator=None):
    """Samples from the geometric distribution (trials to the first success, from 1) written into self."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")

    def sample():
        u = _rand(self, generator) if self.is_floating_point() else _rand(self.double(), generator)
        return ((1.0 - u).log() / math.log1p(-p)).ceil().clamp_min(1.0)
    return _fill(self, sample)


def bernoulli_(self, p=0.5, *, generator=None):
    """1 with probability p (a number or a tensor broadcast to self), else 0, written into self."""
    if isinstance(p, Tensor):
        if not p.is_floating_point():
            raise RuntimeError(f"bernoulli_: expected a floating point probability tensor, but got {p.dtype}")
        if bool(((p < 0) | (p > 1)).any()):
            raise RuntimeError("bernoulli_: all probabilities must be in [0, 1]")
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    dt = self.dtype if self.is_floating_point() else _C.float64
    from ._factories import rand
    return _fill(self, lambda: rand(tuple(self.shape), dtype=dt, device=self.device,
                                                  generator=generator).lt(p))


_RANDOM_DEFAULT_HIGH = {"float32": 2**24 + 1, "float64": 2**53 + 1, "int32": 2**31, "int64": 2**63, "bool": 2}


def random_(self, a=None, b=None, *, generator=None, **kwargs):
    """Integers from [a, b) written into self: random_() draws from [0, 2^mantissa] for floating dtypes and
    the dtype's non-negative range for integers; random_(b) from [0, b)."""
    a, b = kwargs.pop("from", a), kwargs.pop("to", b)
    if kwargs:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if a is None:
        lo, hi = 0, _RANDOM_DEFAULT_HIGH[str(self.dtype).replace("loom.", "")]
    elif b is None:
        lo, hi = 0, a
    else:
        lo, hi = a, b
    if not lo < hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    from ._factories import randint
    dt = _C.int64 if str(self.dtype) in ("loom.bool", "loom.int32") else self.dtype
    hi = min(hi, 2**63 - 1) if dt == _C.int64 else hi
    return _fill(self, lambda: randint(lo, hi, tuple(self.shape), dtype=dt, device=self.device,
                                                  generator=generator))


def fill_diagonal_(self, fill_value, wrap=False):
    """Writes fill_value on the main diagonal: of a matrix (every row, or with wrap=True repeated every
    cols + 1 rows of a tall matrix), or of a tensor whose dimensions are all equal."""
    if self.dim() < 2:
        raise RuntimeError("fill_diagonal_: dimensions must larger than 1")
    shape = tuple(self.shape)
    if self.dim() > 2 and len(set(shape)) != 1:
        raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length")
    import numpy as np
    mask = np.zeros(shape, dtype=bool)
    if self.dim() == 2:
        rows, cols = shape
        n = min(rows, cols)
        mask[np.arange(n), np.arange(n)] = True
        if wrap and rows > cols + 1:
            for r in range(cols + 1, rows, cols + 1):
                k = min(cols, rows - r)
                mask[r + np.arange(k), np.arange(k)] = True
    else:
        idx = np.arange(shape[0])
        mask[(idx,) * self.dim()] = True
    m = _C.from_numpy(mask)
    if self.device.type != "cpu":
        m = m.to(self.device)
    return self.masked_fill_(m, fill_value)


def unfold(self, dimension, size, step):
    """A view with every slice of length size along dimension, step apart, in a new last dimension."""
    n = self.dim()
    if not -max(n, 1) <= dimension < max(n, 1):
        raise IndexError(f"unfold(): Dimension out of range (expected to be in range of [{-max(n, 1)}, "
                         f"{max(n, 1) - 1}], but got {dimension})")
    d = dimension % max(n, 1)
    length = self.shape[d] if n else 1
    if size < 0 or size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if n == 0:
        return self.reshape(size)
    sizes, strides = list(self.shape), list(self.stride())
    sizes[d] = (length - size) // step + 1
    strides[d] = strides[d] * step
    return self.as_strided(sizes + [size], strides + [self.stride(d)], self.storage_offset())


def install():
    for name in _UNARY + _OTHER:
        if not hasattr(Tensor, name + "_") and hasattr(Tensor, name):
            setattr(Tensor, name + "_", _make(name, name))
    Tensor.float_power_ = float_power_
    for f in (uniform_, normal_, log_normal_, exponential_, cauchy_, geometric_, bernoulli_, random_,
              fill_diagonal_, unfold):
        setattr(Tensor, f.__name__, f)
