"""Random sampling functions and signal windows with PyTorch's signatures: bernoulli, multinomial, normal,
randint_like, logspace and the hann / hamming / blackman / bartlett windows. Samples come from loom's
Philox generators (the global one, or ``generator=``), so a seed gives the same numbers on CPU and CUDA."""
import math

from . import _C
from ._C import Tensor


def _check(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input (or p) elementwise, else 0, in input's dtype."""
    _check(input, "bernoulli")
    if out is not None:
        raise NotImplementedError("bernoulli(): out= is not supported; use the returned tensor instead")
    if not input.is_floating_point():
        raise RuntimeError(f"bernoulli(): expected a floating point input, got {input.dtype}")
    prob = input.detach() if p is None else p
    if str(input.device) == "cpu" and isinstance(prob, Tensor) and prob.numel():
        if bool(prob.lt(0).logical_or(prob.gt(1)).any()):
            raise RuntimeError("bernoulli(): all elements of input should be between 0 and 1")
    elif not isinstance(prob, Tensor) and not 0 <= prob <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={prob}")
    from ._factories import rand
    u = rand(tuple(input.shape), dtype=input.dtype, device=input.device, generator=generator)
    return u.lt(prob).to(input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """num_samples category indices per row of the (unnormalized, non-negative) weights input [.., C]:
    with replacement by inverting the cumulative weights, without it by the exponential-race
    (Gumbel top-k) trick."""
    _check(input, "multinomial")
    if out is not None:
        raise NotImplementedError("multinomial(): out= is not supported; use the returned tensor instead")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {input.dim()}")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, got {num_samples}")
    n_cat = input.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement, got "
                           f"n_sample = {num_samples} and prob_dist.size(-1) = {n_cat}")
    w = input.detach().reshape(-1, n_cat)
    if str(w.device) == "cpu":
        if w.numel() and (bool(w.lt(0).any()) or bool(w.isinf().any()) or bool(w.isnan().any())):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if w.numel() and bool(w.sum(1).le(0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and w.numel() and int(w.gt(0).sum(1).min()) < num_samples:
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough non-negative "
                               "category to sample)")
    from ._factories import rand
    rows = w.shape[0]
    if replacement:
        cdf = w.double().cumsum(1)
        cdf = cdf / cdf.narrow(1, n_cat - 1, 1)
        u = rand(rows, num_samples, dtype=_C.float64, device=w.device, generator=generator)
        from ._composite import searchsorted
        idx = searchsorted(cdf, u, right=True).clamp_max(n_cat - 1)
    else:
        u = rand(rows, n_cat, dtype=_C.float64, device=w.device, generator=generator)
        # key = w / E with E ~ Exp(1): the k largest keys are a weighted sample without replacement
        e = (1.0 - u).log().neg()
        keys = _C.where(w.gt(0), w.double() / e, -1.0)
        idx = keys.topk(num_samples, 1).indices
    return idx.reshape(list(input.shape[:-1]) + [num_samples])


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Samples of N(mean, std²): mean and std tensors (broadcast) or numbers with a size."""
    from ._factories import randn
    if out is not None:
        raise NotImplementedError("normal(): out= is not supported; use the returned tensor instead")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        if isinstance(std, Tensor) and str(std.device) == "cpu" and std.numel() and bool(std.lt(0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        if not isinstance(std, Tensor) and std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = _C.broadcast_shapes(tuple(mean.shape) if isinstance(mean, Tensor) else (),
                                    tuple(std.shape) if isinstance(std, Tensor) else ())
        dt = like.dtype if like.is_floating_point() else _C._default_dtype()
        z = randn(tuple(shape), dtype=dt, device=like.device, generator=generator)
        return z * std + mean
    if size is None:
        raise TypeError("normal(): with a number mean and std, size is required")
    if not isinstance(size, (tuple, list)) or not all(isinstance(d, int) for d in size):
        raise TypeError(f"normal(): size must be a tuple of ints, got {type(size).__name__}")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return randn(size, dtype=dtype, device=device, generator=generator) * std + mean


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """Integers from [low, high) in the shape of input (randint_like(input, high) for [0, high))."""
    _check(input, "randint_like")
    if high is None:
        low, high = 0, low
    from ._factories import randint
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """base ** linspace(start, end, steps)."""
    from ._factories import linspace
    exps = linspace(start, end, steps, dtype=_C.float64, device=device)
    from ._factories import full
    out_t = full((steps,), float(base), dtype=_C.float64, device=device).pow(exps)
    out_t = out_t.to(dtype or _C._default_dtype())
    return out_t.requires_grad_(requires_grad) if requires_grad else out_t


def _cosine_sum(coeffs):
    """w(t) = sum_i coeffs[i] cos(2 pi i t) for t = k / N in [0, 1]."""
    def shape(t):
        w = t * 0
        for i, a in enumerate(coeffs):
            w = w + ((t * (2.0 * math.pi * i)).cos() * a if i else a)
        return w
    return shape


def _window(name, n, periodic, dtype, device, requires_grad, shape):
    """shape(t) at t = k / N, k < n (N = n if periodic, else n - 1) in float64, cast to dtype; the lengths 0
    and 1 give empty and [1]."""
    if not isinstance(n, int):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    from ._factories import arange, ones, empty
    dt = dtype or _C._default_dtype()
    if dt not in (_C.float32, _C.float64):
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if n == 0:
        w = empty(0, dtype=dt, device=device)
    elif n == 1:
        w = ones(1, dtype=dt, device=device)
    else:
        m = n if periodic else n - 1
        w = shape(arange(n, dtype=_C.float64, device=device) / m).to(dt)
    return w.requires_grad_(True) if requires_grad else w


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.5 - 0.5 cos(2πk / N) (N = window_length if periodic, else window_length - 1)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum((0.5, -0.5)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """alpha - beta cos(2πk / N)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum((alpha, -beta)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.42 - 0.5 cos(2πk / N) + 0.08 cos(4πk / N)."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum((0.42, -0.5, 0.08)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangular window 1 - |2k / N - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda t: 1.0 - (t * 2.0 - 1.0).abs())


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """I0(beta sqrt(1 - (2k / N - 1)^2)) / I0(beta), I0 the modified Bessel function of order 0."""
    def shape(t):
        r = (1.0 - (t * 2.0 - 1.0) ** 2).clamp_min(0.0).sqrt()
        return (r * beta).i0() / _i0_scalar(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, shape)


def _i0_scalar(x):
    from ._factories import tensor
    return float(tensor([float(x)], dtype=_C.float64).i0().item())


FUNCTIONS = [bernoulli, multinomial, normal, randint_like, logspace, hann_window, hamming_window, blackman_window,
             bartlett_window, kaiser_window]


def install(namespace):
    Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
    Tensor.multinomial = (lambda self, num_samples, replacement=False, *, generator=None:
                          multinomial(self, num_samples, replacement, generator=generator))
    for f in FUNCTIONS:
        namespace[f.__name__] = f
