"""kl_divergence(p, q) and register_kl: the closed forms PyTorch has for pairs of one family."""
import math

from .. import _C
from .families import (Bernoulli, Beta, Categorical, Dirichlet, Exponential, Gamma, Independent, Laplace, LogNormal,
                       MultivariateNormal, Normal, OneHotCategorical, Poisson, Uniform, _softplus)

_KL = {}


def register_kl(type_p, type_q):
    """Decorator: @register_kl(P, Q) def kl(p, q) -> the KL divergence of a P from a Q (subclasses match
    through their most specific registered bases)."""
    def decorator(fn):
        _KL[(type_p, type_q)] = fn
        return fn
    return decorator


def _lookup(tp, tq):
    best, rank = None, None
    for (p, q), fn in _KL.items():
        if issubclass(tp, p) and issubclass(tq, q):
            r = (tp.__mro__.index(p), tq.__mro__.index(q))
            if rank is None or r < rank:
                best, rank = fn, r
    return best


def kl_divergence(p, q):
    """KL(p || q) = E_p[log p - log q], batched over the common batch shape."""
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    return fn(p, q)


def _inf_where(t, mask):
    return _C.where(mask, math.inf, t)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (_softplus(-q.logits) - _softplus(-p.logits))
    t1 = _C.where(p.probs.eq(0), 0.0, _inf_where(t1, q.probs.eq(0)))
    t2 = (1 - p.probs) * (_softplus(q.logits) - _softplus(p.logits))
    t2 = _C.where(p.probs.eq(1), 0.0, _inf_where(t2, q.probs.eq(1)))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    shape = t.shape
    t = _inf_where(t, q.probs.eq(0).expand(shape))
    t = _C.where(p.probs.eq(0).expand(shape), 0.0, t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _inf_where(result, q.low.gt(p.low).logical_or(q.high.lt(p.high)))


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return -ratio.log() + ratio - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + diff / q.scale + scale_ratio * (-diff / p.scale).exp() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = q.concentration.lgamma() - p.concentration.lgamma()
    t3 = (p.concentration - q.concentration) * p.concentration.digamma()
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sp = p.concentration1 + p.concentration0
    sq = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sp.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sq.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    t5 = (sq - sp) * sp.digamma()
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sp = p.concentration.sum(-1)
    sq = q.concentration.sum(-1)
    t1 = sp.lgamma() - sq.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sp.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    from .. import linalg
    if p._event_shape != q._event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot be "
                         "computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = Lq.diagonal(0, -2, -1).log().sum(-1) - Lp.diagonal(0, -2, -1).log().sum(-1)
    n = p._event_shape[0]
    batch = _C.broadcast_shapes(p._batch_shape, q._batch_shape)
    M = linalg.solve_triangular(Lq.expand(tuple(batch) + (n, n)), Lp.expand(tuple(batch) + (n, n)), upper=False)
    term2 = (M * M).sum([-2, -1])
    diff = (q.loc - p.loc).expand(tuple(batch) + (n,))
    sol = linalg.solve_triangular(Lq.expand(tuple(batch) + (n, n)), diff.unsqueeze(-1), upper=False)
    term3 = (sol.squeeze(-1) ** 2).sum(-1)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different reinterpreted_batch_ndims")
    return p._sum(kl_divergence(p.base_dist, q.base_dist))
