"""The distribution families (PyTorch's formulas, loom's ops)."""
import math

from .. import _C
from .._C import Tensor
from .distribution import LOG_SQRT_2PI, Distribution, broadcast_all


def _f():
    from .. import _factories
    return _factories


def _randn(shape, like):
    return _f().randn(tuple(shape), dtype=like.dtype, device=like.device)


def _rand(shape, like):
    return _f().rand(tuple(shape), dtype=like.dtype, device=like.device)


def _eps(t):
    return 1.1920928955078125e-07 if t.dtype == _C.float32 else 2.220446049250313e-16


def _min_real(t):
    return -3.4028234663852886e38 if t.dtype == _C.float32 else -1.7976931348623157e308


def _softplus(x):
    return x.clamp_min(0) + (-x.abs()).exp().log1p()


def _one_of(probs, logits, name):
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both.")


class _LocationFamily(Distribution):
    """A family whose mean and mode are its loc."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


class Normal(_LocationFamily):
    """N(loc, scale²), elementwise (batch_shape: the broadcast shape of loc and scale)."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)
        if self._validate_args and str(self.scale.device) == "cpu" and not bool(self.scale.gt(0).all()):
            raise ValueError("Expected parameter scale of Normal to be positive")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def _rsample(self, shape):
        return self.loc + _randn(self._extended_shape(shape), self.loc) * self.scale

    def log_prob(self, value):
        self._check_value(value)
        var = self.scale * self.scale
        return -((value - self.loc) ** 2) / (var * 2) - self.scale.log() - LOG_SQRT_2PI

    def cdf(self, value):
        return ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf().add(1.0).mul(0.5)

    def icdf(self, value):
        return self.loc + self.scale * (value * 2 - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return self.scale.log() + (0.5 + 0.5 * math.log(2 * math.pi))

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale * self.scale


class LogNormal(Distribution):
    """exp(X) for X ~ N(loc, scale²)."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.base_dist = Normal(loc, scale, validate_args)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def _rsample(self, shape):
        return self.base_dist._rsample(shape).exp()

    def log_prob(self, value):
        self._check_value(value)
        y = value.log()
        return self.base_dist.log_prob(y) - y

    def cdf(self, value):
        return self.base_dist.cdf(value.log())

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc

    @property
    def mean(self):
        return (self.loc + self.scale * self.scale / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale * self.scale).exp()

    @property
    def variance(self):
        s2 = self.scale * self.scale
        return s2.expm1() * (self.loc * 2 + s2).exp()


class Uniform(Distribution):
    """U[low, high), elementwise."""
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(tuple(self.low.shape), (), validate_args)
        if self._validate_args and str(self.low.device) == "cpu" and not bool(self.low.lt(self.high).all()):
            raise ValueError("Expected parameter low of Uniform to be less than high")

    def _params(self):
        return {"low": self.low, "high": self.high}

    def _rsample(self, shape):
        return self.low + _rand(self._extended_shape(shape), self.low) * (self.high - self.low)

    def log_prob(self, value):
        self._check_value(value)
        lb = self.low.le(value).to(self.low.dtype)
        ub = self.high.gt(value).to(self.low.dtype)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12


class Bernoulli(Distribution):
    """1 with probability probs (or sigmoid(logits)), else 0."""
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits, "Bernoulli")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            p = self.probs.clamp(_eps(self.probs), 1 - _eps(self.probs))
            self.logits = p.log() - (-p).log1p()
        else:
            (self.logits,) = broadcast_all(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(tuple(self.probs.shape), (), validate_args)

    def _params(self):
        return {"probs": self.probs}

    def _sample(self, shape):
        p = self.probs.detach().expand(self._extended_shape(shape))
        return _rand(p.shape, p).lt(p).to(p.dtype)

    def log_prob(self, value):
        self._check_value(value)
        logits, value = self.logits, value.to(self.logits.dtype) if not value.is_floating_point() else value
        return -(logits.clamp_min(0) - logits * value + (-logits.abs()).exp().log1p())

    def entropy(self):
        l = self.logits  # noqa: E741
        return l.clamp_min(0) - l * self.probs + (-l.abs()).exp().log1p()

    def enumerate_support(self, expand=True):
        from .._factories import arange
        values = arange(2, dtype=self.probs.dtype, device=self.probs.device).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((2,) + self._batch_shape) if expand else values

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        m = self.probs.ge(0.5).to(self.probs.dtype)
        return _C.where(self.probs.eq(0.5), math.nan, m)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)


class Categorical(Distribution):
    """One of K categories with probabilities probs (normalized over the last dimension) or softmax(logits)."""
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits, "Categorical")
        param = probs if probs is not None else logits
        if not isinstance(param, Tensor) or param.dim() < 1:
            raise ValueError("`probs` / `logits` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(_eps(self.probs), 1 - _eps(self.probs)).log()
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = param.shape[-1]
        super().__init__(tuple(param.shape[:-1]), (), validate_args)

    def _params(self):
        return {"probs": self.probs}

    @property
    def param_shape(self):
        return self.probs.shape

    def _sample(self, shape):
        from .._sampling import multinomial
        n = 1
        for s in shape:
            n *= s
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples = multinomial(probs_2d, max(n, 1), True).t()
        return samples.reshape(tuple(shape) + self._batch_shape) if n else samples.narrow(0, 0, 0).reshape(
            tuple(shape) + self._batch_shape)

    def log_prob(self, value):
        self._check_value(value)
        value = value.long().unsqueeze(-1)
        shape = _C.broadcast_shapes(tuple(value.shape), tuple(self.logits.shape))
        value = value.expand(tuple(shape[:-1]) + (1,))
        log_pmf = self.logits.expand(shape)
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp_min(_min_real(self.logits))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        from .._factories import arange
        values = arange(self._num_events, device=self.probs.device).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((self._num_events,) + self._batch_shape) if expand else values

    @property
    def mean(self):
        return _f().full(self._batch_shape, math.nan, dtype=self.probs.dtype, device=self.probs.device)

    @property
    def variance(self):
        return self.mean

    @property
    def mode(self):
        return self.probs.argmax(-1)


class OneHotCategorical(Distribution):
    """A Categorical whose samples are one-hot vectors (event_shape (K,))."""
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical._batch_shape, (self._categorical._num_events,), validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    def _params(self):
        return {"probs": self.probs}

    def _sample(self, shape):
        idx = self._categorical._sample(shape)
        from ..nn.functional import one_hot
        return one_hot(idx, self._categorical._num_events).to(self.probs.dtype)

    def log_prob(self, value):
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @property
    def mode(self):
        from ..nn.functional import one_hot
        return one_hot(self.probs.argmax(-1), self._categorical._num_events).to(self.probs.dtype)


class Exponential(Distribution):
    """The exponential distribution of rate rate."""
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    def _params(self):
        return {"rate": self.rate}

    def _rsample(self, shape):
        u = _rand(self._extended_shape(shape), self.rate)
        return (1.0 - u).log().neg() / self.rate

    def log_prob(self, value):
        self._check_value(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def variance(self):
        return self.rate.pow(-2)


class Laplace(_LocationFamily):
    """The Laplace distribution of location loc and scale scale."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def _rsample(self, shape):
        e = _eps(self.loc)
        u = _rand(self._extended_shape(shape), self.loc) * (2 - e) + (e - 1)  # U[eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        self._check_value(value)
        return -(self.scale * 2).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (term.abs() * -2).log1p()

    def entropy(self):
        return 1 + (self.scale * 2).log()

    @property
    def variance(self):
        return self.scale * self.scale * 2


def _standard_gamma(alpha):
    """Gamma(alpha, 1) samples: Marsaglia and Tsang's squeeze (alpha < 1 boosted by U^(1/alpha)), every
    element retried until accepted (about 1.05 rounds each)."""
    a = alpha.detach()
    boost = a.lt(1)
    a1 = _C.where(boost, a + 1, a)
    d = a1 - 1.0 / 3
    c = (d * 9).rsqrt()
    out = a * 0
    done = a.ne(a)  # all False (NaN concentration: never accepted, stays NaN below)
    for _ in range(64):
        x = _randn(a.shape, a)
        v = (x * c + 1) ** 3
        u = _rand(a.shape, a)
        vs = _C.where(v.gt(0), v, 1.0)
        ok = v.gt(0).logical_and(u.log().lt(x * x * 0.5 + d - d * vs + d * vs.log()))
        new = ok.logical_and(done.logical_not())
        out = _C.where(new, d * vs, out)
        done = done.logical_or(ok)
        if bool(done.all()):
            break
    u = _rand(a.shape, a)
    out = _C.where(boost, out * u.pow(a.reciprocal()), out)
    return _C.where(a.isnan(), math.nan, out)


def _standard_gamma_grad(alpha, x):
    """d x / d alpha of Gamma(alpha, 1) samples x with their uniform held fixed (implicit reparametrization):
    -(d/d alpha) P(alpha, x) / p(x; alpha), P the regularized incomplete gamma function and p the density.
    The derivative in alpha is a central difference (step 1e-5 alpha) in float64 on whichever of P and
    Q = 1 - P is the smaller (so its relative precision is kept in both tails): about 1e-9 relative."""
    a = alpha.detach().to(_C.float64)
    z = x.detach().to(_C.float64)
    h = a * 1e-5
    lower = z.lt(a)

    def tail(s):
        return _C.where(lower, s.gammainc(z), s.gammaincc(z))
    d_tail = (tail(a + h) - tail(a - h)) / (h * 2)
    d_p = _C.where(lower, d_tail, -d_tail)
    from .._composite_math import xlogy
    log_pdf = xlogy(a - 1, z) - z - a.lgamma()
    grad = -d_p * (-log_pdf).exp()
    return _C.where(grad.isfinite(), grad, 0.0).to(alpha.dtype)


class _StandardGamma:
    """Gamma(alpha, 1) samples differentiable in alpha (loom.autograd.Function, made on first use)."""
    fn = None

    @classmethod
    def apply(cls, alpha):
        if cls.fn is None:
            from ..autograd import Function

            class StandardGamma(Function):
                @staticmethod
                def forward(ctx, a):
                    x = _standard_gamma(a)
                    ctx.save_for_backward(a, x)
                    return x

                @staticmethod
                def backward(ctx, g):
                    a, x = ctx.saved_tensors
                    return g * _standard_gamma_grad(a, x)
            cls.fn = StandardGamma
        return cls.fn.apply(alpha)


class Gamma(Distribution):
    """Gamma(concentration, rate): density x^(a-1) e^(-b x) b^a / Gamma(a). rsample is differentiable in
    both parameters (the concentration by implicit reparametrization, _standard_gamma_grad)."""

    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(tuple(self.concentration.shape), (), validate_args)

    def _params(self):
        return {"concentration": self.concentration, "rate": self.rate}

    def _sample(self, shape):
        a = self.concentration.expand(self._extended_shape(shape))
        return (_standard_gamma(a) / self.rate.expand(a.shape)).clamp_min(1.1754943508222875e-38)

    def _rsample(self, shape):
        a = self.concentration.expand(self._extended_shape(shape))
        return (_StandardGamma.apply(a) / self.rate.expand(a.shape)).clamp_min(1.1754943508222875e-38)

    def log_prob(self, value):
        self._check_value(value)
        from .._composite_math import xlogy
        a, b = self.concentration, self.rate
        return xlogy(a, b) + xlogy(a - 1, value) - b * value - a.lgamma()

    def cdf(self, value):
        """P(concentration, rate * value), the regularized lower incomplete gamma function (no gradient in the
        concentration, as PyTorch's)."""
        self._check_value(value)
        return self.concentration.gammainc(self.rate * value)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp_min(0)

    @property
    def variance(self):
        return self.concentration / (self.rate * self.rate)


class Dirichlet(Distribution):
    """The Dirichlet distribution of concentration [..., K] (event_shape (K,))."""

    def __init__(self, concentration, validate_args=None):
        if not isinstance(concentration, Tensor) or concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(tuple(concentration.shape[:-1]), tuple(concentration.shape[-1:]), validate_args)

    def _params(self):
        return {"concentration": self.concentration}

    has_rsample = True

    def _sample(self, shape):
        g = _standard_gamma(self.concentration.expand(self._extended_shape(shape)))
        return g / g.sum(-1, keepdim=True)

    def _rsample(self, shape):
        g = _StandardGamma.apply(self.concentration.expand(self._extended_shape(shape)))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        self._check_value(value)
        from .._composite_math import xlogy
        a = self.concentration
        return xlogy(a - 1.0, value).sum(-1) + a.sum(-1).lgamma() - a.lgamma().sum(-1)

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return a.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((a - 1.0) * a.digamma()).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        a = (self.concentration - 1).clamp_min(0)
        return a / a.sum(-1, keepdim=True)

    @property
    def variance(self):
        a = self.concentration
        a0 = a.sum(-1, keepdim=True)
        return a * (a0 - a) / (a0 * a0 * (a0 + 1))


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]."""

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(_C.stack([self.concentration1, self.concentration0], -1))
        super().__init__(tuple(self.concentration1.shape), (), validate_args)

    def _params(self):
        return {"concentration1": self.concentration1, "concentration0": self.concentration0}

    has_rsample = True

    def _sample(self, shape):
        return self._dirichlet._sample(shape).select(-1, 0)

    def _rsample(self, shape):
        return self._dirichlet._rsample(shape).select(-1, 0)

    def log_prob(self, value):
        self._check_value(value)
        return self._dirichlet.log_prob(_C.stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode.select(-1, 0)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total * total * (total + 1))


class Poisson(Distribution):
    """The Poisson distribution of rate rate (samples drawn on the host with NumPy, seeded from loom's
    generator)."""

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    def _params(self):
        return {"rate": self.rate}

    def _sample(self, shape):
        import numpy as np
        seed = int(_f().randint(0, 2**62, (1,)).item())
        lam = self.rate.detach().expand(self._extended_shape(shape)).cpu().numpy()
        out = np.random.default_rng(seed).poisson(lam).astype(lam.dtype)
        t = _C.from_numpy(out)
        return t if str(self.rate.device) == "cpu" else t.to(self.rate.device)

    def log_prob(self, value):
        self._check_value(value)
        from .._composite_math import xlogy
        v = value if value.is_floating_point() else value.to(self.rate.dtype)
        return xlogy(v, self.rate) - self.rate - (v + 1).lgamma()

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over the last dimension, Sigma given as covariance_matrix, precision_matrix or its
    Cholesky factor scale_tril."""
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        from .. import linalg
        if not isinstance(loc, Tensor) or loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        m = given[0]
        if m.dim() < 2:
            raise ValueError("the covariance / precision / scale_tril matrix must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        if scale_tril is not None:
            L = scale_tril
        elif covariance_matrix is not None:
            L = linalg.cholesky(covariance_matrix)
        else:
            L = linalg.cholesky(linalg.inv(precision_matrix))
        batch = _C.broadcast_shapes(tuple(m.shape[:-2]), tuple(loc.shape[:-1]))
        n = loc.shape[-1]
        self._unbroadcasted_scale_tril = L
        self.loc = loc.expand(tuple(batch) + (n,))
        self._given = ("covariance_matrix" if covariance_matrix is not None else
                       "precision_matrix" if precision_matrix is not None else "scale_tril", m)
        super().__init__(tuple(batch), (n,), validate_args)

    def _params(self):
        return {"loc": self.loc}

    @property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape * 2)

    @property
    def covariance_matrix(self):
        if self._given[0] == "covariance_matrix":  # the matrix given (its gradient flows to it as it is)
            return self._given[1].expand(self._batch_shape + self._event_shape * 2)
        L = self._unbroadcasted_scale_tril
        return L.matmul(L.transpose(-1, -2)).expand(self._batch_shape + self._event_shape * 2)

    @property
    def precision_matrix(self):
        if self._given[0] == "precision_matrix":
            return self._given[1].expand(self._batch_shape + self._event_shape * 2)
        from .. import linalg
        return linalg.inv(self.covariance_matrix)

    def _rsample(self, shape):
        eps = _randn(self._extended_shape(shape), self.loc)
        return self.loc + self._unbroadcasted_scale_tril.matmul(eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def log_prob(self, value):
        self._check_value(value)
        from .. import linalg
        diff = value - self.loc
        L = self._unbroadcasted_scale_tril
        shape = _C.broadcast_shapes(tuple(diff.shape[:-1]), tuple(L.shape[:-2]))
        n = self._event_shape[0]
        sol = linalg.solve_triangular(L.expand(tuple(shape) + (n, n)),
                                      diff.expand(tuple(shape) + (n,)).unsqueeze(-1), upper=False)
        maha = (sol.squeeze(-1) ** 2).sum(-1)
        return -0.5 * (n * math.log(2 * math.pi) + maha) - self._half_log_det()

    def entropy(self):
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape) if self._batch_shape else h

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        L = self._unbroadcasted_scale_tril
        return (L * L).sum(-1).expand(self._batch_shape + self._event_shape)


class Independent(Distribution):
    """base_distribution with its last reinterpreted_batch_ndims batch dimensions made event dimensions
    (log_prob and entropy sum over them)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        b = base_distribution._batch_shape
        if reinterpreted_batch_ndims > len(b):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), actual "
                             f"{reinterpreted_batch_ndims} vs {len(b)}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        k = len(b) - reinterpreted_batch_ndims
        super().__init__(b[:k], b[k:] + base_distribution._event_shape, validate_args)
        self.has_rsample = base_distribution.has_rsample

    def _sum(self, x):
        n = self.reinterpreted_batch_ndims
        return x.sum(list(range(x.dim() - n, x.dim()))) if n else x

    def _sample(self, shape):
        return self.base_dist.sample(shape)

    def _rsample(self, shape):
        return self.base_dist.rsample(shape)

    def log_prob(self, value):
        return self._sum(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum(self.base_dist.entropy())

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
