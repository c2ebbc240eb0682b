"""More of PyTorch's families: Cauchy, the half and relaxed ones, StudentT, Chi2, TransformedDistribution and
those built on it, and the helpers of families_discrete.py and families_joint.py (PyTorch's formulas, loom's ops)."""
import math

from .. import _C
from .._C import Tensor
from .distribution import Distribution, broadcast_all
from .families import (Categorical, Exponential, Gamma, Independent, Normal, Uniform, _eps, _f, _one_of, _rand,
                       _randn, _softplus)
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
    """Student's t of df degrees of freedom, location loc and scale scale: loc + scale X / sqrt(Z / df) for
    X ~ Normal(0, 1), Z ~ Chi2(df) (rsample differentiable in df through the Gamma's)."""

    has_rsample = True

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

    def _rsample(self, shape):
        x = _randn(self._extended_shape(shape), self.df)
        z = self._chi2._rsample(shape)
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


__all__ = ["Cauchy", "Chi2", "ExpRelaxedCategorical", "Gumbel", "HalfCauchy", "HalfNormal", "Kumaraswamy",
           "LogitRelaxedBernoulli", "Pareto", "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT",
           "TransformedDistribution", "Weibull"]
