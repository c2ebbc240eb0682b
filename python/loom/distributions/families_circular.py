"""VonMises (the circular normal), InverseGamma, FisherSnedecor and GeneralizedPareto: PyTorch's
constructors, shapes and formulas, on loom's ops (the Bessel functions i0e / i1e and the regularized
incomplete gamma functions of loom.special among them)."""
import math

from .. import _C
from .distribution import Distribution, broadcast_all
from .families import Gamma, _rand, _StandardGamma
from .families_more import TransformedDistribution, _check_support, _clamp_min, _full, _require
from .transforms import PowerTransform

_TWO_PI = 2 * math.pi


def _log_i0(k):
    """log I0(k) for k >= 0 without overflow: log(i0e(k)) + k."""
    return k.i0e().log() + k


class VonMises(Distribution):
    """The von Mises distribution on the circle: density exp(concentration cos(x - loc)) / (2 pi
    I0(concentration)) for any real x (2 pi periodic); samples in [-pi, pi) by Best and Fisher's rejection
    scheme (wrapped Cauchy proposals), drawn in float64; not reparametrized (no rsample), as in PyTorch.
    I0 is loom's i0e (full precision; PyTorch evaluates log I0 by polynomial fits, about 1e-7 apart)."""

    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(tuple(self.loc.shape), (), validate_args)
        _require(self, "concentration", self.concentration.gt(0), "positive")

    def _params(self):
        return {"loc": self.loc, "concentration": self.concentration}

    def log_prob(self, value):
        self._check_value(value)  # any real value: the density is 2 pi periodic
        k = self.concentration
        return k * (value - self.loc).cos() - math.log(_TWO_PI) - _log_i0(k)

    def _proposal_r(self, k):
        """The wrapped Cauchy's r of the proposal for concentration k (float64)."""
        tau = (k * k * 4 + 1).sqrt() + 1
        rho = (tau - (tau * 2).sqrt()) / (k * 2)
        r = (rho * rho + 1) / (rho * 2)
        return _C.where(k.lt(1e-5), k.reciprocal() + k, r)  # rho -> 0: the first terms of its expansion

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        loc = self.loc.detach().to(_C.float64).expand(shape)
        k = self.concentration.detach().to(_C.float64).expand(shape)
        r = self._proposal_r(k)
        x = _full(shape, 0.0, loc)
        done = x.ne(x)  # all False
        while True:
            u1, u2, u3 = _rand((3,) + tuple(shape), loc).unbind(0)
            z = (u1 * math.pi).cos()
            f = (r * z + 1) / (r + z)
            c = k * (r - f)
            accept = (c * (2 - c) - u2).gt(0).logical_or(((c / u2).log() + 1 - c).ge(0))
            x = _C.where(accept.logical_and(done.logical_not()), (u3 - 0.5).sign() * f.acos(), x)
            done = done.logical_or(accept)
            if bool(done.all()):
                break
        y = (x + math.pi + loc).remainder(_TWO_PI) - math.pi
        return y.to(self.loc.dtype)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """The circular variance 1 - I1(k) / I0(k)."""
        k = self.concentration
        return 1 - k.i1e() / k.i0e()


class InverseGamma(TransformedDistribution):
    """1 / X for X ~ Gamma(concentration, rate): density x^(-a-1) e^(-b/x) b^a / Gamma(a)."""

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = _full(base.rate.shape, -1.0, base.rate)
        super().__init__(base, PowerTransform(neg_one), validate_args)
        _require(self, "concentration", base.concentration.gt(0), "positive")
        _require(self, "rate", base.rate.gt(0), "positive")

    def _params(self):
        return {"concentration": self.concentration, "rate": self.rate}

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.gt(0), "positive")
        return super().log_prob(value)

    def cdf(self, value):
        """Q(a, b / x): the upper regularized incomplete gamma function."""
        self._check_value(value)
        return self.concentration.gammaincc(self.rate / value)

    def entropy(self):
        a, b = self.concentration, self.rate
        return a + b.log() + a.lgamma() - (1 + a) * a.digamma()

    @property
    def mean(self):
        a = self.concentration
        return _C.where(a.gt(1), self.rate / (a - 1), math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        a = self.concentration
        return _C.where(a.gt(2), self.rate.pow(2) / ((a - 1).pow(2) * (a - 2)), math.inf)


class FisherSnedecor(Distribution):
    """The F distribution with df1 and df2 degrees of freedom: (X1 / df1) / (X2 / df2) for X_i ~ Chi2(df_i)."""

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        super().__init__(tuple(self.df1.shape), (), validate_args)
        _require(self, "df1", self.df1.gt(0), "positive")
        _require(self, "df2", self.df2.gt(0), "positive")

    def _params(self):
        return {"df1": self.df1, "df2": self.df2}

    has_rsample = True

    def _rsample(self, sample_shape):
        shape = self._extended_shape(sample_shape)
        d1, d2 = self.df1, self.df2
        tiny = 1.1754943508222875e-38 if d1.dtype == _C.float32 else 2.2250738585072014e-308
        x1 = _StandardGamma.apply((d1 * 0.5).expand(shape)) / d1
        x2 = (_StandardGamma.apply((d2 * 0.5).expand(shape)) / d2).clamp_min(tiny)
        return (x1 / x2).clamp_min(tiny)

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.gt(0), "positive")
        h1, h2 = self.df1 * 0.5, self.df2 * 0.5
        log_beta = h1.lgamma() + h2.lgamma() - (h1 + h2).lgamma()
        ratio = self.df1 / self.df2
        return (h1 * ratio.log() + (h1 - 1) * value.log() - (h1 + h2) * (ratio * value).log1p() - log_beta)

    @property
    def mean(self):
        d2 = _clamp_min(self.df2, 2.0)
        return _C.where(self.df2.gt(2), d2 / (d2 - 2), math.nan)

    @property
    def mode(self):
        d1 = _clamp_min(self.df1, 2.0)
        m = (d1 - 2) / d1 * self.df2 / (self.df2 + 2)
        return _C.where(self.df1.gt(2), m, math.nan)

    @property
    def variance(self):
        d2 = _clamp_min(self.df2, 4.0)
        v = 2 * d2.pow(2) * (self.df1 + d2 - 2) / (self.df1 * (d2 - 2).pow(2) * (d2 - 4))
        return _C.where(self.df2.gt(4), v, math.nan)


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution of loc, scale > 0 and concentration (shape) xi: support x >= loc,
    and x <= loc - scale / xi when xi < 0; xi = 0 is the exponential distribution."""

    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(tuple(self.loc.shape), (), validate_args)
        _require(self, "scale", self.scale.gt(0), "positive")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale, "concentration": self.concentration}

    def _xi(self):
        """(concentration, where it counts as 0 (|xi| <= 1e-8), concentration with those replaced by 1)."""
        xi = self.concentration
        zero = xi.abs().le(1e-8)
        return xi, zero, _C.where(zero, 1.0, xi)

    def _upper(self):
        xi, _, safe = self._xi()
        return _C.where(xi.lt(0), self.loc - self.scale / safe, math.inf)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.icdf(_rand(shape, self.loc))

    def _log_survival(self, value):
        """log P(X > value) inside the support."""
        _, zero, safe = self._xi()
        z = (value - self.loc) / self.scale
        return _C.where(zero, -z, -(safe * z).log1p() / safe)

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.ge(self.loc).logical_and(v.le(self._upper())),
                       "in the support [loc, loc - scale / concentration]")
        _, zero, safe = self._xi()
        z = (value - self.loc) / self.scale
        power = 1 / safe + 1  # 0 at concentration -1: the uniform density, whatever log1p gives at the end
        general = _C.where(power.eq(0), 0.0, power * (safe * z).log1p())
        lp = -self.scale.log() - _C.where(zero, z, general)
        inside = value.ge(self.loc).logical_and(value.le(self._upper()))
        return _C.where(inside, lp, -math.inf)

    def cdf(self, value):
        self._check_value(value)
        c = -self._log_survival(value).expm1()  # 1 - P(X > value)
        return _C.where(value.lt(self.loc), 0.0, _C.where(value.gt(self._upper()), 1.0, c))

    def icdf(self, value):
        _, zero, safe = self._xi()
        log_tail = (-value).log1p()  # log(1 - u)
        return self.loc + self.scale * _C.where(zero, -log_tail, (-safe * log_tail).expm1() / safe)

    def entropy(self):
        return self.scale.log() + self.concentration + 1

    @property
    def mean(self):
        """loc + scale / (1 - concentration); NaN from concentration 1 on (as PyTorch)."""
        xi = self.concentration
        ok = xi.lt(1)
        return _C.where(ok, self.loc + self.scale / (1 - _C.where(ok, xi, 0.5)), math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 / ((1 - xi)^2 (1 - 2 xi)); NaN from concentration 1/2 on (as PyTorch)."""
        xi = self.concentration
        ok = xi.lt(0.5)
        safe = _C.where(ok, xi, 0.25)
        return _C.where(ok, self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe)), math.nan)
