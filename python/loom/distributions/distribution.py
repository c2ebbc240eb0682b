"""The Distribution base class and the shape and parameter helpers the families share."""
import math

from .. import _C
from .._C import Tensor


def broadcast_all(*values):
    """The values (tensors or numbers) as tensors of one broadcast shape; numbers take the dtype and device
    of the first tensor (float32 on the CPU when there is none)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    from .._factories import tensor
    ts = []
    for v in values:
        if isinstance(v, Tensor):
            ts.append(v if v.is_floating_point() else v.float())
        elif isinstance(v, (int, float)):
            ts.append(tensor(float(v), dtype=like.dtype if like is not None and like.is_floating_point() else None,
                             device=like.device if like is not None else None))
        else:
            raise ValueError(f"Input arguments must all be instances of numbers or Tensor, got {type(v).__name__}")
    shape = _C.broadcast_shapes(*[tuple(t.shape) for t in ts])
    return tuple(t.expand(shape) for t in ts)


def _size(sample_shape):
    if isinstance(sample_shape, int):
        return (sample_shape,)
    return tuple(sample_shape)


class Distribution:
    """Base class: batch_shape, event_shape, sample / rsample, log_prob, and the moments."""

    has_rsample = False
    has_enumerate_support = False
    _validate_default = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = self._validate_default if validate_args is None else validate_args

    @staticmethod
    def set_default_validate_args(value):
        Distribution._validate_default = bool(value)

    @property
    def batch_shape(self):
        from .._size import Size
        return Size(self._batch_shape)

    @property
    def event_shape(self):
        from .._size import Size
        return Size(self._event_shape)

    def _extended_shape(self, sample_shape=()):
        return _size(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()):
        """Samples of shape sample_shape + batch_shape + event_shape, without gradient."""
        from ..autograd.grad_mode import no_grad
        with no_grad():
            return self.rsample(sample_shape) if self.has_rsample else self._sample(_size(sample_shape))

    def rsample(self, sample_shape=()):
        if not self.has_rsample:
            raise NotImplementedError(f"{type(self).__name__} does not support rsample (it is not reparametrizable)")
        return self._rsample(_size(sample_shape))

    def sample_n(self, n):
        return self.sample((n,))

    def _sample(self, shape):
        raise NotImplementedError

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} has no entropy")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _check_value(self, value, name="value"):
        if not isinstance(value, Tensor):
            raise ValueError(f"The value argument to log_prob must be a Tensor, got {type(value).__name__}")
        try:
            _C.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except Exception:
            raise ValueError(f"The value argument must be within the support: shape {list(value.shape)} does not "
                             f"broadcast with batch_shape + event_shape {list(self._batch_shape + self._event_shape)}"
                             ) from None

    def _validate_support(self, ok, what):
        """Raises when validate_args is on and the (CPU, bool) check ok is not all true."""
        if self._validate_args and str(ok.device) == "cpu" and ok.numel() and not bool(ok.all()):
            raise ValueError(f"Expected value argument to be within the support ({what}) of the distribution "
                             f"{self!r}")

    def __repr__(self):
        params = ", ".join(f"{k}: {tuple(v.shape) if v.dim() else v.item()}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self):
        return {}


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
