"""loom.distributions: PyTorch's torch.distributions for the common families.

Normal, Uniform, Bernoulli, Categorical, OneHotCategorical, Exponential, Laplace, Gamma, Beta, Dirichlet,
Poisson, LogNormal, MultivariateNormal and Independent (families.py); Cauchy, HalfNormal, HalfCauchy, Gumbel,
StudentT, Chi2, Geometric, Binomial, NegativeBinomial, Multinomial, Weibull, Pareto, Kumaraswamy,
ContinuousBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical, MixtureSameFamily, LowRankMultivariateNormal
and TransformedDistribution over the transforms of loom.distributions.transforms (families_more.py,
families_discrete.py, families_joint.py); VonMises, InverseGamma, FisherSnedecor and GeneralizedPareto
(families_circular.py). Each has PyTorch's constructor arguments, shapes (sample_shape + batch_shape +
event_shape), log_prob / entropy / mean /
variance (and cdf / icdf where PyTorch has them), rsample for the reparametrizable ones (the Gamma family
through the implicit derivative of its samples), and kl_divergence
for the pairs PyTorch has among them (register_kl adds more). Samples come from loom's generators;
everything else is loom's tensor ops, so gradients flow and CUDA tensors stay on the device (except the
Poisson, Binomial and NegativeBinomial draws, made on the host). ``constraints`` holds PyTorch's
constraints (each family's ``arg_constraints`` and ``support``), ``biject_to`` / ``transform_to`` map
unconstrained reals onto them (constraint_registry.py).
"""
from . import transforms
from .distribution import Distribution
from .families import (Bernoulli, Beta, Categorical, Dirichlet, Exponential, Gamma, Independent, Laplace, LogNormal,
                       MultivariateNormal, Normal, OneHotCategorical, Poisson, Uniform)
from .families_discrete import Binomial, ContinuousBernoulli, Geometric, Multinomial, NegativeBinomial
from .families_circular import FisherSnedecor, GeneralizedPareto, InverseGamma, VonMises
from .families_joint import LowRankMultivariateNormal, MixtureSameFamily
from .families_more import (Cauchy, Chi2, ExpRelaxedCategorical, Gumbel, HalfCauchy, HalfNormal, Kumaraswamy,
                            LogitRelaxedBernoulli, Pareto, RelaxedBernoulli, RelaxedOneHotCategorical, StudentT,
                            TransformedDistribution, Weibull)
from .kl import kl_divergence, register_kl
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, IndependentTransform,
                         LowerCholeskyTransform, PositiveDefiniteTransform, PowerTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StickBreakingTransform, TanhTransform, Transform,
                         identity_transform)
from . import constraints, constraint_registry  # noqa: E402
from .constraint_registry import biject_to, transform_to  # noqa: E402

constraint_registry.install(globals())  # each family's arg_constraints and support, as PyTorch's

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "OneHotCategorical", "Exponential",
           "Laplace", "Gamma", "Beta", "Dirichlet", "Poisson", "LogNormal", "MultivariateNormal", "Independent",
           "Cauchy", "HalfNormal", "HalfCauchy", "Gumbel", "StudentT", "Chi2", "Geometric", "Binomial",
           "NegativeBinomial", "Multinomial", "Weibull", "Pareto", "Kumaraswamy", "ContinuousBernoulli",
           "LogitRelaxedBernoulli", "RelaxedBernoulli", "ExpRelaxedCategorical", "RelaxedOneHotCategorical",
           "MixtureSameFamily", "LowRankMultivariateNormal", "TransformedDistribution", "Transform",
           "ComposeTransform", "IndependentTransform", "ExpTransform", "PowerTransform", "AffineTransform",
           "SigmoidTransform", "TanhTransform", "SoftplusTransform", "AbsTransform", "SoftmaxTransform",
           "StickBreakingTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "identity_transform", "transforms", "kl_divergence", "register_kl", "VonMises", "InverseGamma",
           "FisherSnedecor", "GeneralizedPareto", "constraints", "constraint_registry", "biject_to", "transform_to"]
