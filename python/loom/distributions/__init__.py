"""loom.distributions: PyTorch's torch.distributions for the common families.

Normal, Uniform, Bernoulli, Categorical, OneHotCategorical, Exponential, Laplace, Gamma, Beta, Dirichlet,
Poisson, LogNormal, MultivariateNormal and Independent, each with PyTorch's constructor arguments, shapes
(sample_shape + batch_shape + event_shape), log_prob / entropy / mean / variance (and cdf / icdf where
PyTorch has them), rsample for the reparametrizable ones, and kl_divergence between pairs of the same
family (register_kl adds more). Samples come from loom's generators; everything else is loom's tensor ops,
so gradients flow and CUDA tensors stay on the device (except Poisson sampling, drawn on the host).
"""
from .distribution import Distribution
from .families import (Bernoulli, Beta, Categorical, Dirichlet, Exponential, Gamma, Independent, Laplace, LogNormal,
                       MultivariateNormal, Normal, OneHotCategorical, Poisson, Uniform)
from .kl import kl_divergence, register_kl

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "OneHotCategorical", "Exponential",
           "Laplace", "Gamma", "Beta", "Dirichlet", "Poisson", "LogNormal", "MultivariateNormal", "Independent",
           "kl_divergence", "register_kl"]
