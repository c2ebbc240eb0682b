"""Window functions, as torch.signal.windows: symmetric (``sym=True``, for filter design) or periodic
(``sym=False``: the first M points of a symmetric window of M + 1, for spectral analysis), of the default
dtype unless ``dtype`` (float32 or float64) is given. Computed in float64, then converted."""
import math

import numpy as np

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _check(name, M, dtype):
    from .. import _C
    if not isinstance(M, int) or isinstance(M, bool):
        raise TypeError(f"{name}(): M must be an int, got {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if dtype is not None and dtype not in (_C.float32, _C.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")


def _make(name, M, sym, values, dtype, layout, device, requires_grad, periodic_by_extension=True):
    """values(n): the window of n points (n = M, or M + 1 for a periodic window, which drops the last;
    without periodic_by_extension, values(M) is the window and a single point is not forced to 1)."""
    from .. import tensor, _C
    from .._factories import _check_options
    _check_options(name, None, layout)
    _check(name, M, dtype)
    if M == 0:
        w = np.zeros(0)
    elif not periodic_by_extension:
        w = values(M)
    elif M == 1:
        w = np.ones(1)
    else:
        w = values(M if sym else M + 1)[:M]
    t = tensor(w, dtype=dtype if dtype is not None else _C._default_dtype(), device=device)
    return t.requires_grad_(True) if requires_grad else t


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """sum_k (-1)^k a_k cos(2 pi k n / (N - 1))."""
    coeffs = [float(c) for c in a]
    if not coeffs:
        raise ValueError("Coefficients cannot be empty")

    def values(n):
        fac = np.linspace(-math.pi, math.pi, n)
        return sum(c * np.cos(k * fac) for k, c in enumerate(coeffs))
    return _make("general_cosine", M, sym, values, dtype, layout, device, requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[0.42, 0.50, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / N)."""
    return _make("cosine", M, sym, lambda n: np.sin(math.pi * (np.arange(n) + 0.5) / n), dtype, layout, device,
                 requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangle 1 - |2 n / (N - 1) - 1|."""
    return _make("bartlett", M, sym, lambda n: 1.0 - np.abs(2.0 * np.arange(n) / (n - 1) - 1.0), dtype, layout,
                 device, requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """exp(-((n - (N - 1) / 2) / std)^2 / 2)."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _make("gaussian", M, sym, lambda n: np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2.0) / std) ** 2), dtype,
                 layout, device, requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """exp(-|n - center| / tau), centered at (N - 1) / 2 unless ``center`` (periodic windows only) says."""
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")

    def values(n):
        c = ((n if not sym and n > 1 else n - 1) / 2.0) if center is None else float(center)
        return np.exp(-np.abs(np.arange(n) - c) / tau)
    return _make("exponential", M, sym, values, dtype, layout, device, requires_grad, periodic_by_extension=False)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _make("kaiser", M, sym, lambda n: np.i0(beta * np.sqrt(np.clip(1.0 - (2.0 * np.arange(n) / (n - 1) - 1.0)
                                                                            ** 2, 0.0, None))) / np.i0(beta),
                 dtype, layout, device, requires_grad)
