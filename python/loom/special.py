"""loom.special: PyTorch's torch.special functions composed from loom's ops (gradients through them):
expit, logit, erf, erfc, exp2, expm1, log1p, round, sinc, xlogy, xlog1py, entr, ndtr, log_ndtr, softmax,
log_softmax, logsumexp."""
import math

from . import _C
from ._C import Tensor
from ._composite_math import sinc, xlog1py, xlogy

__all__ = ["expit", "logit", "erf", "erfc", "exp2", "expm1", "log1p", "round", "sinc", "xlogy", "xlog1py", "entr",
           "ndtr", "log_ndtr", "softmax", "log_softmax", "logsumexp"]


def _check(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"special.{name}(): argument 'input' must be Tensor, not {type(x).__name__}")


def expit(input):
    _check(input, "expit")
    return input.sigmoid()


def logit(input, eps=None):
    _check(input, "logit")
    return input.logit(eps)


def erf(input):
    _check(input, "erf")
    return input.erf()


def erfc(input):
    _check(input, "erfc")
    return input.erfc()


def exp2(input):
    _check(input, "exp2")
    return input.exp2()


def expm1(input):
    _check(input, "expm1")
    return input.expm1()


def log1p(input):
    _check(input, "log1p")
    return input.log1p()


def round(input, *, decimals=0):
    _check(input, "round")
    return input.round(decimals=decimals)


def entr(input):
    """-x log x elementwise: 0 at 0, -inf for x < 0."""
    _check(input, "entr")
    x = input if input.is_floating_point() else input.float()
    pos = x.gt(0)
    safe = _C.where(pos, x, 1.0)
    r = _C.where(pos, -(safe * safe.log()), 0.0)
    return _C.where(x.lt(0), -math.inf, r)


def ndtr(input):
    """The standard normal CDF."""
    _check(input, "ndtr")
    x = input if input.is_floating_point() else input.float()
    return (x * (-1.0 / math.sqrt(2.0))).erfc() * 0.5


def log_ndtr(input):
    """log of the standard normal CDF, accurate far into the lower tail: computed in float64, from erfc
    down to -20 and from the asymptotic series of the tail below."""
    _check(input, "log_ndtr")
    dt = input.dtype if input.is_floating_point() else _C.float32
    x = input.double()
    tail = x.lt(-20.0)
    xs = _C.where(tail, 1.0, x)
    direct = ((xs * (-1.0 / math.sqrt(2.0))).erfc() * 0.5).log()
    xt = _C.where(tail, x, -30.0)
    z2 = (xt * xt).reciprocal()
    series = 1.0 - z2 * (1.0 - z2 * (3.0 - z2 * (15.0 - z2 * 105.0)))
    asym = -(xt * xt) * 0.5 - (-xt).log() - 0.5 * math.log(2.0 * math.pi) + series.log()
    return _C.where(tail, asym, direct).to(dt)


def softmax(input, dim, *, dtype=None):
    _check(input, "softmax")
    return input.softmax(dim, dtype=dtype) if dtype is not None else input.softmax(dim)


def log_softmax(input, dim, *, dtype=None):
    _check(input, "log_softmax")
    return input.log_softmax(dim, dtype=dtype) if dtype is not None else input.log_softmax(dim)


def logsumexp(input, dim, keepdim=False):
    _check(input, "logsumexp")
    return input.logsumexp(dim, keepdim)
