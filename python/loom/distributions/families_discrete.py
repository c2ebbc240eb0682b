"""Discrete (and continuous-Bernoulli) families of PyTorch: ContinuousBernoulli, Geometric, Binomial,
NegativeBinomial, Multinomial (PyTorch's formulas, loom's ops; counts sampled on the host as Poisson)."""
import math

from .. import _C
from .distribution import Distribution, broadcast_all
from .families import (Categorical, Gamma, Poisson, _f, _one_of, _rand)
from .families_more import (_tiny, _clamp_probs, _full, _zeros_like, _require, _check_support, _in_unit, _is_int,
                            _bce_logits, _logsigmoid, _host_sample, _BinaryParams)


class ContinuousBernoulli(_BinaryParams):
    """The continuous Bernoulli on [0, 1] (Loaiza-Ganem and Cunningham, 2019), density proportional to
    probs^x (1 - probs)^(1 - x); lims is the interval around 1/2 where Taylor expansions are used."""
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        _one_of(probs, logits, "ContinuousBernoulli")
        given = None
        if probs is not None:
            (given,) = broadcast_all(probs)
            probs = _clamp_probs(given)  # probs is clamped to [eps, 1 - eps] (checked unclamped below)
        self._set_binary(probs, logits)
        if logits is not None:
            self.probs = _clamp_probs(self.probs)
        self._lims = lims
        super().__init__(tuple(self._param.shape), (), validate_args)
        if given is not None and self._validate_args and str(given.device) == "cpu" and not bool(
                _in_unit(given).all()):
            raise ValueError("The parameter probs has invalid values")

    def _outside_unstable_region(self):
        return self.probs.le(self._lims[0]).logical_or(self.probs.gt(self._lims[1]))

    def _cut_probs(self):
        return _C.where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self):
        cut = self._cut_probs()
        below = _C.where(cut.le(0.5), cut, 0.0)
        above = _C.where(cut.ge(0.5), cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - _C.where(
            cut.le(0.5), (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return _C.where(self._outside_unstable_region(), log_norm, taylor)

    def _rsample(self, shape):
        return self.icdf(_rand(self._extended_shape(shape), self.probs))

    def log_prob(self, value):
        _check_support(self, value, _in_unit, "[0, 1]")
        logits, value = broadcast_all(self.logits, value)
        return -_bce_logits(logits, value) + self._cont_bern_log_norm()

    def cdf(self, value):
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = _C.where(self._outside_unstable_region(), cdfs, value)
        return _C.where(value.le(0.0), 0.0, _C.where(value.ge(1.0), 1.0, unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inner = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (cut.log() - (-cut).log1p())
        return _C.where(self._outside_unstable_region(), inner, value)

    def entropy(self):
        log_p0, log_p1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return _C.where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self):
        cut = self._cut_probs()
        v = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + 1.0 / ((-cut).log1p() - cut.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return _C.where(self._outside_unstable_region(), v, taylor)


# ----------------------------------------------------------------------------------------------------------------
# Counts


class Geometric(_BinaryParams):
    """The number of failures before the first success of Bernoulli(probs) trials (support 0, 1, ...)."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._set_binary(probs, logits)
        super().__init__(tuple(self._param.shape), (), validate_args)
        if probs is not None:
            _require(self, "probs", self.probs.gt(0).logical_and(self.probs.le(1)), "in (0, 1]")

    def _sample(self, shape):
        p = self.probs.detach()
        u = _rand(self._extended_shape(shape), p).clamp_min(_tiny(p))
        return (u.log() / (-p).log1p()).floor()

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.ge(0).logical_and(_is_int(v)), "nonnegative integers")
        value, probs = broadcast_all(value, self.probs)
        probs = _C.where(probs.eq(1).logical_and(value.eq(0)), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return _bce_logits(self.logits, self.probs) / self.probs

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return _zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs


def _clamp_by_zero(x):
    return (x.clamp_min(0) + x - x.clamp_max(0)) / 2


class Binomial(_BinaryParams):
    """The number of successes in total_count Bernoulli(probs) trials (samples drawn on the host with
    NumPy, seeded from loom's generator)."""
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        (self.total_count,) = self._set_binary(probs, logits, total_count)
        super().__init__(tuple(self._param.shape), (), validate_args)
        n = self.total_count
        _require(self, "total_count", n.ge(0).logical_and(_is_int(n)), "a nonnegative integer")
        if probs is not None:
            _require(self, "probs", _in_unit(self.probs), "in [0, 1]")

    def _params(self):
        return {"total_count": self.total_count, "probs": self.probs}

    def _sample(self, shape):
        shape = self._extended_shape(shape)
        return _host_sample(lambda g, n, p: g.binomial(n.astype("int64"), p), self.total_count.expand(shape),
                            self.probs.expand(shape))

    def log_prob(self, value):
        n = self.total_count
        _check_support(self, value, lambda v: v.ge(0).logical_and(v.le(n)).logical_and(_is_int(v)),
                       "integers in [0, total_count]")
        value = value if value.is_floating_point() else value.to(n.dtype)
        log_factorial_n = (n + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (n - value + 1).lgamma()
        normalize = n * _clamp_by_zero(self.logits) + n * (-self.logits.abs()).exp().log1p() - log_factorial_n
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize

    def _homogeneous_count(self, what):
        n = int(self.total_count.max().item())
        if not int(self.total_count.min().item()) == n:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return n

    def entropy(self):
        self._homogeneous_count("entropy")
        lp = self.log_prob(self.enumerate_support(False))
        return -(lp.exp() * lp).sum(0)

    def enumerate_support(self, expand=True):
        n = self._homogeneous_count("enumerate_support")
        values = _f().arange(1 + n, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((1 + n,) + self._batch_shape) if expand else values

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)


class NegativeBinomial(_BinaryParams):
    """The number of successes before total_count failures of Bernoulli(probs) trials (a Gamma-Poisson
    mixture; the Poisson draws are on the host)."""

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        (self.total_count,) = self._set_binary(probs, logits, total_count)
        super().__init__(tuple(self._param.shape), (), validate_args)
        _require(self, "total_count", self.total_count.ge(0), "nonnegative")
        if probs is not None:
            _require(self, "probs", self.probs.ge(0).logical_and(self.probs.lt(1)), "in [0, 1)")

    def _params(self):
        return {"total_count": self.total_count, "probs": self.probs}

    def _sample(self, shape):
        rate = Gamma(self.total_count.detach(), (-self.logits.detach()).exp())._sample(shape)
        return Poisson(rate)._sample(())

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.ge(0).logical_and(_is_int(v)), "nonnegative integers")
        n = self.total_count
        value = value if value.is_floating_point() else value.to(n.dtype)
        log_unnormalized = n * _logsigmoid(-self.logits) + value * _logsigmoid(self.logits)
        log_normalization = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        log_normalization = _C.where((n + value).eq(0.0), 0.0, log_normalization)
        return log_unnormalized - log_normalization

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp_min(0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()


class Multinomial(Distribution):
    """Counts over K categories of total_count draws from Categorical(probs / logits) (event_shape (K,))."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs, logits)
        self._binomial = Binomial(total_count, probs=self.probs)
        super().__init__(self._categorical._batch_shape, (self._categorical._num_events,), validate_args)
        if probs is not None:
            _require(self, "probs", probs.ge(0), "nonnegative")

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def _params(self):
        return {"probs": self.probs}

    def _sample(self, shape):
        from ..nn.functional import one_hot
        k = self._categorical._num_events
        if self.total_count == 0:
            return _full(self._extended_shape(shape), 0.0, self.probs)
        idx = self._categorical._sample((self.total_count,) + tuple(shape))
        return one_hot(idx, k).to(self.probs.dtype).sum(0)

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.ge(0).logical_and(_is_int(v)).all(-1).logical_and(
            v.sum(-1).le(self.total_count)), "counts summing to at most total_count")
        value = value if value.is_floating_point() else value.to(self.probs.dtype)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        logits = _C.where(value.eq(0).logical_and(logits.eq(-math.inf)), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

    def entropy(self):
        n = float(self.total_count)
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False).narrow(0, 1, self.total_count)
        binomial_probs = self._binomial.log_prob(support).exp()
        return term1 + (binomial_probs * (support + 1).lgamma()).sum([0, -1])

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)


# ----------------------------------------------------------------------------------------------------------------
# Mixtures and low-rank Gaussians


__all__ = ["ContinuousBernoulli", "Geometric", "Binomial", "NegativeBinomial", "Multinomial"]
