"""MixtureSameFamily and LowRankMultivariateNormal (PyTorch's formulas, loom's ops)."""
import math

from .. import _C
from .._C import Tensor
from .distribution import Distribution
from .families import (Categorical, _f, _randn)
from .families_more import _require


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


__all__ = ["MixtureSameFamily", "LowRankMultivariateNormal"]
