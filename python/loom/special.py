"""loom.special: PyTorch's torch.special functions: the kernels (erf, erfc, erfinv, gammaln = lgamma,
digamma = psi, polygamma for n = 0 and 1) and, composed from loom's ops (gradients through them), expit,
logit, exp2, expm1, log1p, round, sinc, xlogy, xlog1py, entr, ndtr, ndtri, log_ndtr, multigammaln,
softmax, log_softmax, logsumexp."""
import math

from . import _C
from ._C import Tensor
from ._composite_math import sinc, xlog1py, xlogy

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "round", "sinc", "xlogy", "xlog1py",
           "entr", "ndtr", "ndtri", "log_ndtr", "gammaln", "digamma", "psi", "polygamma", "multigammaln", "softmax",
           "log_softmax", "logsumexp"]


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


def erfinv(input):
    _check(input, "erfinv")
    return input.erfinv()


def gammaln(input):
    _check(input, "gammaln")
    return input.lgamma()


def digamma(input):
    _check(input, "digamma")
    return input.digamma()


psi = digamma


def polygamma(n, input):
    """The n-th derivative of digamma: n = 0 (digamma) and n = 1 (trigamma) have kernels; higher orders
    are not implemented."""
    _check(input, "polygamma")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    if n == 0:
        return input.digamma()
    if n == 1:
        return input.trigamma()
    raise NotImplementedError(f"polygamma: order n={n} is not implemented (n = 0 and 1 are)")


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension p: sum_j lgamma(x - j / 2) + const."""
    _check(input, "multigammaln")
    if not isinstance(p, int) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    x = input if input.is_floating_point() else input.float()
    if x.numel() and str(x.device) == "cpu" and bool(x.le((p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    from ._factories import arange
    half = arange(p, dtype=x.dtype, device=x.device) * 0.5  # p values: a huge p fails to allocate, as PyTorch's
    return (x.unsqueeze(-1) - half).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def ndtri(input):
    """The inverse of the standard normal CDF: sqrt(2) erfinv(2 p - 1)."""
    _check(input, "ndtri")
    x = input if input.is_floating_point() else input.float()
    return (x * 2 - 1).erfinv() * math.sqrt(2.0)
