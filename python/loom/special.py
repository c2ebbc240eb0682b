"""loom.special: PyTorch's torch.special functions: the kernels (erf, erfc, erfinv, gammaln = lgamma,
digamma = psi, polygamma for n = 0 and 1, the modified Bessel functions i0, i0e, i1, i1e (=
modified_bessel_i0 / i1 unscaled), erfcx, the regularized incomplete gamma functions gammainc and
gammaincc, the Bessel functions bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_k0,
modified_bessel_k1, scaled_modified_bessel_k0 / k1, spherical_bessel_j0, the Airy function airy_ai, and the
orthogonal polynomials chebyshev_polynomial_t / u / v / w, shifted_chebyshev_polynomial_t / u / v / w,
hermite_polynomial_h / he, laguerre_polynomial_l, legendre_polynomial_p) and, composed from loom's ops (gradients through them), expit,
logit, exp2, expm1, log1p, round, sinc, xlogy, xlog1py, entr, ndtr, ndtri, log_ndtr, multigammaln,
zeta (Hurwitz) and polygamma for n >= 2 through it, softmax, log_softmax, logsumexp."""
import math

from . import _C
from ._C import Tensor
from ._composite_math import _pair, sinc, xlog1py, xlogy

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "round", "sinc", "xlogy", "xlog1py",
           "entr", "ndtr", "ndtri", "log_ndtr", "gammaln", "digamma", "psi", "polygamma", "multigammaln", "softmax",
           "log_softmax", "logsumexp", "zeta", "i0", "i0e", "i1", "i1e", "modified_bessel_i0", "modified_bessel_i1",
           "erfcx", "gammainc", "gammaincc"]
_UNARY = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
          "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"]
_POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
                "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
                "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
                "laguerre_polynomial_l", "legendre_polynomial_p"]
__all__ += _UNARY + _POLYNOMIALS


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


def i0(input):
    _check(input, "i0")
    return input.i0()


def i0e(input):
    _check(input, "i0e")
    return input.i0e()


def i1(input):
    _check(input, "i1")
    return input.i1()


def i1e(input):
    _check(input, "i1e")
    return input.i1e()


modified_bessel_i0 = i0
modified_bessel_i1 = i1


def erfcx(input):
    _check(input, "erfcx")
    return input.erfcx()


def gammainc(input, other):
    _check(input, "gammainc")
    return input.gammainc(other)


def gammaincc(input, other):
    _check(input, "gammaincc")
    return input.gammaincc(other)


for _f, _op in ((i0, "i0"), (i0e, "i0e"), (i1, "i1"), (i1e, "i1e"), (erfcx, "erfcx"), (gammainc, "gammainc"),
                (gammaincc, "gammaincc")):
    _f.__doc__ = getattr(Tensor, _op).__doc__


def _unary(name):
    method = getattr(Tensor, name)

    def f(input):
        _check(input, name)
        return method(input)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = method.__doc__
    return f


def _polynomial(name):
    """input and n: tensors or (one of them) a Python number, which takes the other's device and promotes as
    PyTorch's wrapped numbers."""
    method = getattr(Tensor, name)

    def f(input, n):
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"special.{name}(): expected at least one Tensor argument, got {type(input).__name__} "
                            f"and {type(n).__name__}")
        like = input if isinstance(input, Tensor) else n
        # a number takes the tensor's floating dtype, so that 0.3 is not rounded to float32 on the way
        dt = like.dtype if like.is_floating_point() else None
        x, m = (_scalar_like(v, like, dt) for v in (input, n))
        return method(x, m)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = method.__doc__
    return f


def _scalar_like(v, like, dtype):
    if isinstance(v, Tensor):
        return v
    from ._factories import tensor
    return tensor(v, dtype=dtype, device=like.device) if dtype is not None else _pair(v, like, "special")[0]


for _name in _UNARY:
    globals()[_name] = _unary(_name)
for _name in _POLYNOMIALS:
    globals()[_name] = _polynomial(_name)
del _name


def polygamma(n, input):
    """The n-th derivative of digamma: n = 0 (digamma) and n = 1 (trigamma) have kernels; higher orders are
    (-1)^(n+1) n! zeta(n + 1, x), composed."""
    _check(input, "polygamma")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    if n == 0:
        return input.digamma()
    if n == 1:
        return input.trigamma()
    x = input if input.is_floating_point() else input.float()
    log_fact = math.lgamma(n + 1)  # n! overflows a double past n = 170 (math.factorial would take forever)
    scale = math.exp(log_fact) if log_fact < 709.0 else math.inf
    return _hurwitz_zeta(float(n + 1), x) * (scale if n % 2 else -scale)


# (2j)! / B_2j: the Euler-Maclaurin tail of the Hurwitz zeta function (Cephes' zeta.c).
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)


_ZETA_MAX_TERMS = 1 << 16


def _hurwitz_zeta(s, q):
    """sum_k (q + k)^-s: the terms up to where q + m >= 9 summed directly (one [..., m] tensor; m from the
    smallest q, read on the host), the rest by Euler-Maclaurin from w = q + m. Cephes' special values: s = 1
    gives inf, s < 1 nan, q a non-positive integer inf, q < 0 with s not an integer nan."""
    from ._factories import arange
    qmin = float(q.min()) if q.numel() else 9.0
    m = 9 if not math.isfinite(qmin) else max(9, math.ceil(9.0 - qmin))
    if m > _ZETA_MAX_TERMS:
        raise RuntimeError(f"zeta: an argument q = {qmin} below {9 - _ZETA_MAX_TERMS} is not supported (loom sums "
                           f"the terms up to q + k >= 9 directly)")
    k = arange(m, dtype=q.dtype, device=q.device)
    sx = s.unsqueeze(-1) if isinstance(s, Tensor) else s
    total = (q.unsqueeze(-1) + k).pow(-sx).sum(-1)
    w = q + m
    b = w.pow(-s)
    total = total + w * b / (s - 1) + 0.5 * b  # the tail from w = q + m: its integral and half its first term
    a, j = 1.0, 0.0
    for coef in _ZETA_A:
        a = a * (s + j)
        b = b / w
        total = total + a * b / coef
        a = a * (s + j + 1)
        b = b / w
        j += 2
    inf, nan = float("inf"), float("nan")
    pole = q.le(0).logical_and(q.eq(q.floor()))
    s_int = s.eq(s.floor()) if isinstance(s, Tensor) else s == math.floor(s)
    negative = q.lt(0)  # q^-s of a negative q needs an integer s
    if isinstance(s_int, Tensor):
        negative = negative.logical_and(s_int.logical_not())
    if isinstance(s_int, Tensor) or not s_int:
        total = _C.where(negative, nan, total)
    total = _C.where(pole, inf, total)
    if isinstance(s, Tensor):
        return _C.where(s.eq(1), inf, _C.where(s.lt(1), nan, total))
    return total * 0 + (inf if s == 1 else nan) if s <= 1 else total


def zeta(input, other):
    """The Hurwitz zeta function sum_k (other + k)^-input (torch.special.zeta); either may be a number."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special.zeta(): expected at least one Tensor argument")
    like = input if isinstance(input, Tensor) else other
    dt = like.dtype if like.is_floating_point() else _C.float32
    from ._factories import tensor as _tensor
    s = input.to(dt) if isinstance(input, Tensor) else float(input)
    q = other.to(dt) if isinstance(other, Tensor) else _tensor(float(other), dtype=dt, device=like.device)
    return _hurwitz_zeta(s, q)


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension p: sum_j lgamma(x - j / 2) + const."""
    _check(input, "multigammaln")
    if not isinstance(p, int) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    x = input if input.is_floating_point() else input.float()
    if x.numel() and str(x.device) == "cpu" and bool(x.le((p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    from ._factories import arange
    const = p * (p - 1) / 4 * math.log(math.pi)
    if x.numel() == 0:
        return x * 0 + const  # no terms to sum, whatever p is
    # The p offsets j / 2 as one tensor, as PyTorch builds them: a huge p fails to allocate at once. The
    # terms lgamma(x - j / 2) are then summed in chunks of at most 2^22 values, so that the intermediate
    # stays bounded (the work is x.numel() * p lgamma calls either way).
    half = arange(p, dtype=x.dtype, device=x.device) * 0.5
    chunk = max(1, (1 << 22) // x.numel())
    out = None
    for j0 in range(0, p, chunk):
        part = (x.unsqueeze(-1) - half[j0:j0 + chunk]).lgamma().sum(-1)
        out = part if out is None else out + part
    return out + const


def ndtri(input):
    """The inverse of the standard normal CDF: sqrt(2) erfinv(2 p - 1)."""
    _check(input, "ndtri")
    x = input if input.is_floating_point() else input.float()
    return (x * 2 - 1).erfinv() * math.sqrt(2.0)
