"""More of PyTorch's families: Cauchy, the half and relaxed ones, StudentT, Chi2, the discrete counts,
TransformedDistribution and those built on it, MixtureSameFamily and LowRankMultivariateNormal (PyTorch's
formulas, loom's ops)."""
import math

from .. import _C
from .._C import Tensor
from .distribution import Distribution, broadcast_all
from .families import (Categorical, Exponential, Gamma, Independent, Normal, Poisson, Uniform, _eps, _f, _one_of,
                       _rand, _randn, _softplus)
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, PowerTransform,
                         SigmoidTransform, Transform, _sum_rightmost)

EULER = 0.57721566490153286060


def _tiny(t):
    return 1.1754943508222875e-38 if t.dtype == _C.float32 else 2.2250738585072014e-308


def _clamp_probs(p):
    e = _eps(p)
    return p.clamp(e, 1 - e)


def _probs_to_logits(p):
    p = _clamp_probs(p)
    return p.log() - (-p).log1p()


def _full(shape, value, like):
    return _f().full(tuple(shape), value, dtype=like.dtype, device=like.device)


def _as_tensor(v, like):
    """v itself when a tensor, else a 0-d tensor of like's dtype and device."""
    return v if isinstance(v, Tensor) else _f().tensor(float(v), dtype=like.dtype, device=like.device)


def _zeros_like(t):
    return _f().zeros_like(t)


def _require(dist, name, ok, what):
    """ValueError (as PyTorch's validate_args) when checking is on and the CPU check ok is not all true."""
    if dist._validate_args and str(ok.device) == "cpu" and ok.numel() and not bool(ok.all()):
        raise ValueError(f"Expected parameter {name} of {type(dist).__name__} to be {what}")


def _clamp_min(x, v):
    """x.clamp_min(v) whose gradient is zero (not NaN) below v even when the result's own is infinite."""
    return _C.where(x.lt(v), v, x)


def _check_support(dist, value, ok, what):
    """When validate_args is on: value must be a tensor and ok(value) all true (ValueError otherwise)."""
    dist._check_value(value)
    if dist._validate_args:
        dist._validate_support(ok(value), what)


def _in_unit(t):
    return t.ge(0).logical_and(t.le(1))


def _is_int(t):
    return t.eq(t.floor())


def _bce_logits(logits, target):
    from ..nn.functional import binary_cross_entropy_with_logits
    return binary_cross_entropy_with_logits(logits, target, reduction="none")


def _logsigmoid(x):
    return -_softplus(-x)


def _host_sample(fn, *params):
    """fn(numpy Generator, *arrays) drawn on the host with NumPy (seeded from loom's generator), back on the
    device and dtype of params[0]."""
    import numpy as np
    seed = int(_f().randint(0, 2**62, (1,)).item())
    arrays = [p.detach().cpu().numpy() for p in params]
    out = np.asarray(fn(np.random.default_rng(seed), *arrays)).astype(arrays[0].dtype)
    t = _C.from_numpy(out)
    return t if str(params[0].device) == "cpu" else t.to(params[0].device)


class _BinaryParams(Distribution):
    """probs and logits (log-odds) of a family given either."""

    def _set_binary(self, probs, logits, *others):
        _one_of(probs, logits, type(self).__name__)
        ts = broadcast_all(*others, probs if probs is not None else logits)
        self._from_probs = probs is not None
        if self._from_probs:
            self.probs = ts[-1]
            self.logits = _probs_to_logits(self.probs)
        else:
            self.logits = ts[-1]
            self.probs = self.logits.sigmoid()
        self._param = ts[-1]
        return [t.to(self._param.dtype) for t in ts[:-1]]

    @property
    def param_shape(self):
        return self._param.shape

    def _params(self):
        return {"probs": self.probs}


# ----------------------------------------------------------------------------------------------------------------
# Transformed distributions


class _Expanded(Distribution):
    """base with its batch shape broadcast to batch_shape, each element drawn on its own (PyTorch's
    base.expand(batch_shape) for a TransformedDistribution)."""

    def __init__(self, base, batch_shape):
        self.base_dist = base
        super().__init__(batch_shape, base._event_shape, base._validate_args)
        self.has_rsample = base.has_rsample

    def _draw(self, shape, draw):
        new, old, ev = self._batch_shape, self.base_dist._batch_shape, self._event_shape
        k, s = len(new), len(shape)
        old = (1,) * (k - len(old)) + old
        extra = tuple(n if o == 1 else 1 for n, o in zip(new, old))
        x = draw(shape + extra).reshape(shape + extra + old + ev)
        perm = list(range(s)) + [s + j for i in range(k) for j in (i, k + i)] + list(range(s + 2 * k, x.dim()))
        return x.permute(perm).reshape(shape + new + ev)

    def _sample(self, shape):
        return self._draw(shape, self.base_dist.sample)

    def _rsample(self, shape):
        return self._draw(shape, self.base_dist.rsample)

    def _full(self, t):
        return t.expand(self._batch_shape + tuple(t.shape[t.dim() - len(self._event_shape):]))

    def log_prob(self, value):
        lp = self.base_dist.log_prob(value)
        return lp.expand(tuple(_C.broadcast_shapes(tuple(lp.shape), self._batch_shape)))

    def cdf(self, value):
        c = self.base_dist.cdf(value)
        return c.expand(tuple(_C.broadcast_shapes(tuple(c.shape), self._batch_shape)))

    def icdf(self, value):
        c = self.base_dist.icdf(value)
        return c.expand(tuple(_C.broadcast_shapes(tuple(c.shape), self._batch_shape)))

    def entropy(self):
        return self.base_dist.entropy().expand(self._batch_shape)

    @property
    def mean(self):
        return self._full(self.base_dist.mean)

    @property
    def mode(self):
        return self._full(self.base_dist.mode)

    @property
    def variance(self):
        return self._full(self.base_dist.variance)

    def __repr__(self):
        return f"{self.base_dist!r}.expand({list(self._batch_shape)})"


class TransformedDistribution(Distribution):
    """Y = f(X) for X ~ base_distribution and f the transforms applied in order; log p(y) = log p(x) -
    log |det df/dx|."""

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, list):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
            self.transforms = transforms
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")
        base_shape = base_distribution._batch_shape + base_distribution._event_shape
        base_event_dim = len(base_distribution._event_shape)
        transform = ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(f"base_distribution needs to have shape with size at least "
                             f"{transform.domain.event_dim}, but got {list(base_shape)}.")
        forward_shape = transform.forward_shape(base_shape)
        expanded = transform.inverse_shape(forward_shape)
        if tuple(base_shape) != tuple(expanded):
            base_distribution = _Expanded(base_distribution, tuple(expanded[:len(expanded) - base_event_dim]))
        reinterpreted = transform.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        event_dim = max(transform.codomain.event_dim,
                        base_event_dim + transform.codomain.event_dim - transform.domain.event_dim)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    def _sample(self, shape):
        x = self.base_dist.sample(shape)
        for t in self.transforms:
            x = t(x)
        return x

    def _rsample(self, shape):
        x = self.base_dist.rsample(shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        self._check_value(value)
        event_dim = len(self._event_shape)
        lp = 0.0
        y = value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            lp = lp - _sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim)
            y = x
        return lp + _sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist._event_shape))

    def _monotonize_cdf(self, value):
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        for t in self.transforms[::-1]:
            value = t.inv(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value

    def _params(self):
        return {}

    def __repr__(self):
        if type(self) is TransformedDistribution:
            return f"TransformedDistribution({self.base_dist!r}, {self.transforms!r})"
        return super().__repr__()


class Cauchy(Distribution):
    """The Cauchy (Lorentz) distribution of median loc and half width scale."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)
        _require(self, "scale", self.scale.gt(0), "positive")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def _rsample(self, shape):
        u = _rand(self._extended_shape(shape), self.loc)
        return self.loc + ((u - 0.5) * math.pi).tan() * self.scale

    def log_prob(self, value):
        self._check_value(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return ((value - 0.5) * math.pi).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()

    @property
    def mean(self):
        return _full(self._batch_shape, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return _full(self._batch_shape, math.inf, self.loc)


class _Half(TransformedDistribution):
    """|X| for X of a distribution symmetric about 0 with parameter scale (HalfNormal, HalfCauchy)."""

    def __init__(self, base, validate_args=None):
        super().__init__(base, AbsTransform(), validate_args)
        _require(self, "scale", self.scale.gt(0), "positive")

    @property
    def scale(self):
        return self.base_dist.scale

    def _params(self):
        return {"scale": self.scale}

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.ge(0), "nonnegative")
        return _C.where(value.ge(0), self.base_dist.log_prob(value) + math.log(2), -math.inf)

    def cdf(self, value):
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)

    @property
    def mode(self):
        return _zeros_like(self.scale)


class HalfNormal(_Half):
    """|X| for X ~ N(0, scale²)."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Normal(0, scale), validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)


class HalfCauchy(_Half):
    """|X| for X ~ Cauchy(0, scale)."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Cauchy(0, scale), validate_args)

    @property
    def mean(self):
        return _full(self._batch_shape, math.inf, self.scale)

    @property
    def variance(self):
        return self.base_dist.variance


class Gumbel(TransformedDistribution):
    """The Gumbel (type I extreme value) distribution of location loc and scale scale."""

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        base = Uniform(_full(self.loc.shape, _tiny(self.loc), self.loc),
                       _full(self.loc.shape, 1 - _eps(self.loc), self.loc))
        ones = _full(self.scale.shape, 1.0, self.scale)
        transforms = [ExpTransform().inv, AffineTransform(0, -ones), ExpTransform().inv,
                      AffineTransform(loc, -self.scale)]
        super().__init__(base, transforms, validate_args)
        _require(self, "scale", self.scale.gt(0), "positive")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def log_prob(self, value):
        self._check_value(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def entropy(self):
        return self.scale.log() + (1 + EULER)

    @property
    def mean(self):
        return self.loc + self.scale * EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)


class Weibull(TransformedDistribution):
    """The two-parameter Weibull distribution: scale * E^(1/concentration) for E ~ Exponential(1)."""

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(_full(self.scale.shape, 1.0, self.scale))
        super().__init__(base, [PowerTransform(self.concentration_reciprocal), AffineTransform(0, self.scale)],
                         validate_args)
        _require(self, "scale", self.scale.gt(0), "positive")
        _require(self, "concentration", self.concentration.gt(0), "positive")

    def _params(self):
        return {"scale": self.scale, "concentration": self.concentration}

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.gt(0), "positive")
        return super().log_prob(value)

    def entropy(self):
        return EULER * (1 - self.concentration_reciprocal) + (self.scale * self.concentration_reciprocal).log() + 1

    @property
    def mean(self):
        return self.scale * (1 + self.concentration_reciprocal).lgamma().exp()

    @property
    def mode(self):
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self):
        r = self.concentration_reciprocal
        return self.scale.pow(2) * ((1 + 2 * r).lgamma().exp() - (2 * (1 + r).lgamma()).exp())


class Pareto(TransformedDistribution):
    """The Pareto type I distribution: scale * exp(E) for E ~ Exponential(alpha)."""

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        super().__init__(Exponential(self.alpha), [ExpTransform(), AffineTransform(0, self.scale)], validate_args)
        _require(self, "scale", self.scale.gt(0), "positive")
        _require(self, "alpha", self.alpha.gt(0), "positive")

    def _params(self):
        return {"scale": self.scale, "alpha": self.alpha}

    def log_prob(self, value):
        _check_support(self, value, lambda v: v.ge(self.scale), "greater than or equal to scale")
        return super().log_prob(value)

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())

    @property
    def mean(self):
        a = _clamp_min(self.alpha, 1.0)
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = _clamp_min(self.alpha, 2.0)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))


def _kumaraswamy_moment(a, b, n):
    arg1 = 1 + n / a
    return b * (arg1.lgamma() + b.lgamma() - (arg1 + b).lgamma()).exp()


class Kumaraswamy(TransformedDistribution):
    """The Kumaraswamy distribution on (0, 1): (1 - U^(1/concentration0))^(1/concentration1) for U ~ U(0, 1)."""

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        c0 = self.concentration0
        base = Uniform(_full(c0.shape, 0.0, c0), _full(c0.shape, 1.0, c0))
        transforms = [PowerTransform(c0.reciprocal()), AffineTransform(1.0, -1.0),
                      PowerTransform(self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args)
        _require(self, "concentration1", self.concentration1.gt(0), "positive")
        _require(self, "concentration0", self.concentration0.gt(0), "positive")

    def _params(self):
        return {"concentration1": self.concentration1, "concentration0": self.concentration0}

    def log_prob(self, value):
        _check_support(self, value, _in_unit, "[0, 1]")
        return super().log_prob(value)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t1, t0 = 1 - a.reciprocal(), 1 - b.reciprocal()
        h0 = (b + 1).digamma() + EULER
        return t0 + t1 * h0 - a.log() - b.log()

    @property
    def mean(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        return _C.where(b.lt(1).logical_or(a.lt(1)), math.nan, log_mode).exp()

    @property
    def variance(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)


class LogitRelaxedBernoulli(_BinaryParams):
    """The logit of a RelaxedBernoulli sample (the logistic trick: (logit(U) + logits) / temperature)."""
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._set_binary(probs, logits)
        self.temperature = _as_tensor(temperature, self._param)
        super().__init__(tuple(self._param.shape), (), validate_args)
        if probs is not None:
            _require(self, "probs", _in_unit(self.probs), "in [0, 1]")

    def _rsample(self, shape):
        shape = self._extended_shape(shape)
        probs = _clamp_probs(self.probs.expand(shape))
        u = _clamp_probs(_rand(shape, probs))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        self._check_value(value)
        diff = self.logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A relaxed Bernoulli on (0, 1): sigmoid of a LogitRelaxedBernoulli, reparametrized (the binary
    Concrete / Gumbel-softmax distribution of temperature temperature)."""

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits, validate_args), SigmoidTransform(),
                         validate_args)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs

    def _params(self):
        return {"probs": self.probs}

    def log_prob(self, value):
        _check_support(self, value, _in_unit, "[0, 1]")
        return super().log_prob(value)


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample: log_softmax((logits + Gumbel noise) / temperature)."""
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = _as_tensor(temperature, self._categorical.probs)
        super().__init__(self._categorical._batch_shape, (self._categorical._num_events,), validate_args)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def _params(self):
        return {"probs": self.probs}

    def _rsample(self, shape):
        u = _clamp_probs(_rand(self._extended_shape(shape), self.logits))
        gumbels = -((-(u.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        self._check_value(value)
        k = self._categorical._num_events
        log_scale = math.lgamma(k) + self.temperature.log() * (k - 1)
        score = self.logits - value * self.temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A relaxed OneHotCategorical on the simplex: exp of an ExpRelaxedCategorical, reparametrized (the
    Concrete / Gumbel-softmax distribution of temperature temperature)."""

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(ExpRelaxedCategorical(temperature, probs, logits, validate_args), ExpTransform(),
                         validate_args)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs

    def _params(self):
        return {"probs": self.probs}


# ----------------------------------------------------------------------------------------------------------------
# Continuous families of their own


class StudentT(Distribution):
    """Student's t of df degrees of freedom, location loc and scale scale (sample only: its rsample needs a
    reparametrized Gamma, which loom does not have)."""

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(tuple(self.df.shape), (), validate_args)
        _require(self, "df", self.df.gt(0), "positive")
        _require(self, "scale", self.scale.gt(0), "positive")

    def _params(self):
        return {"df": self.df, "loc": self.loc, "scale": self.scale}

    def _sample(self, shape):
        x = _randn(self._extended_shape(shape), self.df)
        z = self._chi2._sample(shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value):
        self._check_value(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + (0.5 * self.df).lgamma()
             - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y ** 2.0 / self.df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (self.scale.log() + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                + 0.5 * df.log() + lbeta)

    @property
    def mean(self):
        return _C.where(self.df.gt(1), self.loc, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        big = df.gt(2)
        safe = _C.where(big, df, 3.0)
        finite = self.scale.pow(2) * safe / (safe - 2)
        return _C.where(big, finite, _C.where(df.gt(1), math.inf, math.nan))


class Chi2(Gamma):
    """The chi-squared distribution of df degrees of freedom: Gamma(df / 2, 1 / 2)."""

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args)
        _require(self, "df", self.concentration.gt(0), "positive")

    @property
    def df(self):
        return self.concentration * 2

    def _params(self):
        return {"df": self.df}


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


class MixtureSameFamily(Distribution):
    """A mixture of the components of component_distribution (its rightmost batch dimension) weighted by the
    Categorical mixture_distribution (sample, log_prob, cdf and the moments; no rsample)."""

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of loom.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of "
                             "loom.distributions.Distribution")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mdbs = mixture_distribution._batch_shape
        cdbs = component_distribution._batch_shape[:-1]
        for s1, s2 in zip(reversed(mdbs), reversed(cdbs)):
            if s1 != 1 and s2 != 1 and s1 != s2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({list(mdbs)}) is not compatible with "
                                 f"`component_distribution.batch_shape`({list(cdbs)})")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution._batch_shape[-1] if component_distribution._batch_shape else None
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._num_component = km
        event_shape = component_distribution._event_shape
        self._event_ndims = len(event_shape)
        super().__init__(cdbs, event_shape, validate_args)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        dist_batch_ndims = len(self._batch_shape)
        cat_batch_ndims = len(self._mixture_distribution._batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        xs = tuple(x.shape)
        return x.reshape(xs[:-1] + (1,) * pad_ndims + xs[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self):
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        comp = self._component_distribution
        mean_cond_var = (probs * comp.variance).sum(-1 - self._event_ndims)
        var_cond_mean = (probs * (comp.mean - self._pad(self.mean)).pow(2.0)).sum(-1 - self._event_ndims)
        return mean_cond_var + var_cond_mean

    def cdf(self, x):
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        self._check_value(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_mix_prob = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix_prob).logsumexp(-1)

    def _sample(self, shape):
        shape = tuple(shape)
        es = self._event_shape
        gather_dim = len(shape) + len(self._batch_shape)
        mix = self._mixture_distribution.sample(shape)
        mix_batch = self._mixture_distribution._batch_shape
        mix = mix.reshape(shape + (1,) * (len(self._batch_shape) - len(mix_batch)) + mix_batch)
        mix = mix.expand(shape + self._batch_shape)
        comp = self._component_distribution.sample(shape)
        idx = mix.reshape(tuple(mix.shape) + (1,) * (len(es) + 1)).expand(shape + self._batch_shape + (1,) + es)
        return comp.gather(gather_dim, idx.contiguous()).squeeze(gather_dim)

    def __repr__(self):
        return f"MixtureSameFamily({self._mixture_distribution!r}, {self._component_distribution!r})"


def _mahalanobis(L, x):
    """x^T (L L^T)^-1 x over the last dimension, L and x broadcast over their batch dimensions."""
    from .. import linalg
    n = x.shape[-1]
    shape = tuple(_C.broadcast_shapes(tuple(x.shape[:-1]), tuple(L.shape[:-2])))
    sol = linalg.solve_triangular(L.expand(shape + (n, n)), x.expand(shape + (n,)).unsqueeze(-1), upper=False)
    return (sol.squeeze(-1) ** 2).sum(-1)


def _capacitance_tril(W, D):
    """The Cholesky factor of I + W^T D^-1 W."""
    from .. import linalg
    m = W.shape[-1]
    K = (W.mT / D.unsqueeze(-2)).matmul(W) + _f().eye(m, dtype=W.dtype, device=W.device)
    return linalg.cholesky(K)


def _lowrank_logdet(W, D, capacitance_tril):
    return 2 * capacitance_tril.diagonal(0, -2, -1).log().sum(-1) + D.log().sum(-1)


def _lowrank_mahalanobis(W, D, x, capacitance_tril):
    wt_dinv = W.mT / D.unsqueeze(-2)
    wt_dinv_x = wt_dinv.matmul(x.unsqueeze(-1)).squeeze(-1)
    return (x.pow(2) / D).sum(-1) - _mahalanobis(capacitance_tril, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor @ cov_factor^T + diag(cov_diag)); log_prob and entropy through the Woodbury
    identity and the matrix determinant lemma on the rank x rank capacitance matrix."""
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if not isinstance(loc, Tensor) or loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {list(event_shape)}")
        try:
            shape = tuple(_C.broadcast_shapes(tuple(loc.shape) + (1,), tuple(cov_factor.shape),
                                              tuple(cov_diag.shape) + (1,)))
        except Exception:
            raise ValueError(f"Incompatible batch shapes: loc {list(loc.shape)}, cov_factor "
                             f"{list(cov_factor.shape)}, cov_diag {list(cov_diag.shape)}") from None
        self.cov_factor = cov_factor.expand(shape)
        self.loc = loc.expand(shape[:-1])
        self.cov_diag = cov_diag.expand(shape[:-1])
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        super().__init__(shape[:-2], event_shape, validate_args)
        _require(self, "cov_diag", cov_diag.gt(0), "positive")
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def _params(self):
        return {"loc": self.loc}

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag).expand(
            self._batch_shape + self._event_shape)

    @property
    def scale_tril(self):
        from .. import linalg
        n = self._event_shape[0]
        d_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        dw = self._unbroadcasted_cov_factor / d_sqrt
        K = dw.matmul(dw.mT) + _f().eye(n, dtype=dw.dtype, device=dw.device)
        return (d_sqrt * linalg.cholesky(K)).expand(self._batch_shape + self._event_shape * 2)

    @property
    def covariance_matrix(self):
        W = self._unbroadcasted_cov_factor
        return (W.matmul(W.mT) + self._unbroadcasted_cov_diag.diag_embed()).expand(
            self._batch_shape + self._event_shape * 2)

    @property
    def precision_matrix(self):
        from .. import linalg
        wt_dinv = self._unbroadcasted_cov_factor.mT / self._unbroadcasted_cov_diag.unsqueeze(-2)
        A = linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        return (self._unbroadcasted_cov_diag.reciprocal().diag_embed() - A.mT.matmul(A)).expand(
            self._batch_shape + self._event_shape * 2)

    def _rsample(self, shape):
        shape = self._extended_shape(shape)
        eps_w = _randn(shape[:-1] + tuple(self.cov_factor.shape[-1:]), self.loc)
        eps_d = _randn(shape, self.loc)
        return (self.loc + self._unbroadcasted_cov_factor.matmul(eps_w.unsqueeze(-1)).squeeze(-1)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def _log_det(self):
        return _lowrank_logdet(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, self._capacitance_tril)

    def log_prob(self, value):
        self._check_value(value)
        M = _lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, value - self.loc,
                                 self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + M)

    def entropy(self):
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(self._batch_shape) if self._batch_shape else h


__all__ = ["Binomial", "Cauchy", "Chi2", "ContinuousBernoulli", "ExpRelaxedCategorical", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Kumaraswamy", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
           "MixtureSameFamily", "Multinomial", "NegativeBinomial", "Pareto", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Weibull"]
