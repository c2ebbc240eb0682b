"""torch.special's Bessel functions (J0, J1, Y0, Y1, K0, K1, e^x K0, e^x K1, spherical j0), the Airy function Ai
and the orthogonal polynomials (Chebyshev T, U, V, W and their shifted forms, Hermite H and He, Laguerre L,
Legendre P) against PyTorch 2.15 at full precision (the "special" cases of tests/data/torch_functions.json,
written by tests/data/make_function_fixtures.py), and their gradients: PyTorch 2.15 differentiates J0, J1, Y0,
Y1, K0 and K1 (checked against its values in test_functions_torch.py and here by finite differences); for the
others loom's backward raises a RuntimeError naming the function.

Tolerances, |loom - torch| <= rtol |torch| + atol * scale:
  float64  rtol 4e-15 (18 ulp) for the polynomials' and the Bessel functions' values; atol 2e-15 times the
           function's local amplitude (sqrt(2 / (pi |x|)) for J and Y, |x|^(-1/4) / sqrt(pi) for Ai below 0:
           PyTorch's value near a zero is accurate in absolute terms only), plus |x| ulp(x) times the
           derivative's size where the argument itself is large (J, Y and j0 from |x| > 8 and Ai below -2 turn
           an argument's last bit into that much phase; PyTorch and loom reduce it differently)
  float32  rtol 2e-5, atol 2e-6 times the amplitude (PyTorch computes these in float32, less accurately:
           its Ai is 1.6e-5 off at 0.127; loom in double and rounds once); the polynomials, in float32 on both
           (float64 polynomials: rtol times n / 8 past degree 8, the recurrences' roundings adding up)
The float64 Bessel values are also checked against 40-digit values stored beside PyTorch's (its J0 is 2e-5
relative off near 5.5), and against PyTorch only where PyTorch is that close to them.
"""
import math

import numpy as np
import pytest

import loom
from _helpers import load_fixture

SPECIAL = load_fixture("torch_functions.json")["special"]
OSCILLATING = {"bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "spherical_bessel_j0"}
POLYNOMIALS = {"chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"}
_NP = {"float32": np.float32, "float64": np.float64, "int64": np.int64}


def _arg(a):
    if isinstance(a, dict):
        return loom.from_numpy(np.asarray(a["data"], dtype=_NP[a["dtype"]]).reshape(a["shape"]))
    return a


def _scale(fn, x):
    """The size an absolute error is measured against at x (1 where the function does not oscillate)."""
    ax = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if fn in OSCILLATING:
            amp = np.minimum(1.0, np.sqrt(2 / (np.pi * ax)))
            return np.where(ax > 8, amp * (1 + ax), amp)  # the phase of a large argument: |x| ulp(x)
        if fn == "airy_ai":
            amp = np.where(x < -1, ax ** -0.25 / np.sqrt(np.pi), 0.6)
            return np.where(x < -2, amp * (1 + ax ** 1.5), amp)
    return np.ones_like(x)


def _finite_scale(fn, x):
    return np.nan_to_num(_scale(fn, x), nan=1.0, posinf=1.0)


def _tolerances(fn, dtype):
    if dtype == "float32":
        return 2e-5, 2e-6
    return 4e-15, 2e-15


@pytest.mark.parametrize("case", SPECIAL, ids=[f"{i}-{c['fn']}" for i, c in enumerate(SPECIAL)])
def test_matches_torch(case):
    fn = case["fn"]
    args = [_arg(a) for a in case["args"]]
    got = getattr(loom.special, fn)(*args)
    want = np.asarray(case["out"]["data"], dtype=_NP[case["out"]["dtype"]]).reshape(case["out"]["shape"])
    assert str(got.dtype) == "loom." + case["out"]["dtype"], (fn, got.dtype)
    assert tuple(got.shape) == want.shape
    g = got.numpy().astype(np.float64)
    w = want.astype(np.float64)
    overflow = np.zeros(w.shape, dtype=bool)
    if fn in POLYNOMIALS and case["out"]["dtype"] == "float32":
        # a float32 recurrence that overflows at its last steps: -inf in PyTorch, NaN (inf - inf a step later
        # or earlier, as the compilers contract a * b - c differently) in loom
        overflow = ~np.isfinite(g) & ~np.isfinite(w)
    assert np.array_equal(np.isnan(g) | overflow, np.isnan(w) | overflow), (fn, np.argwhere(np.isnan(g) != np.isnan(w)))
    inf = np.isinf(w) & ~overflow
    assert np.array_equal(g[inf], w[inf]), fn
    w = np.where(overflow, np.nan, w)
    rtol, atol = _tolerances(fn, case["out"]["dtype"])
    if fn in POLYNOMIALS and case["out"]["dtype"] == "float64":  # n steps of a recurrence: n roundings apart
        n = args[1].double().numpy() if isinstance(args[1], loom.Tensor) else np.float64(args[1])
        rtol = rtol * np.maximum(1.0, np.nan_to_num(np.abs(n), posinf=1.0) / 8)
    x = args[0].double().numpy() if isinstance(args[0], loom.Tensor) else np.float64(args[0])
    scale = np.broadcast_to(_finite_scale(fn, x) if fn not in POLYNOMIALS else 1.0, w.shape)
    close = (lambda want: np.abs(g - want) <= rtol * np.abs(want) + atol * scale)
    ok = np.isnan(w) | inf | close(w)
    if "exact" in case:  # float64: against 40-digit values, and against PyTorch only where it is as accurate
        e = np.asarray(case["exact"], dtype=np.float64).reshape(w.shape)
        known = ~np.isnan(e) & np.isfinite(e)
        bad = np.argwhere(known & ~close(e))[:3]
        assert not len(bad), (fn, [(float(x.flat[i[0]]), float(g.flat[i[0]]), float(e.flat[i[0]])) for i in bad])
        torch_accurate = ~known | (np.abs(w - e) <= rtol * np.abs(e) + atol * scale)
        ok = ok | ~torch_accurate
    if not ok.all():
        bad = np.argwhere(~ok)[:5]
        detail = [(tuple(i), float(g[tuple(i)]), float(w[tuple(i)])) for i in bad]
        raise AssertionError(f"{fn}: {(~ok).sum()} of {ok.size} differ: {detail}")


def test_gradients_of_the_bessel_functions():
    from loom.autograd import gradcheck
    x = loom.tensor([-9.5, -2.0, 0.4, 1.7, 2.4048, 7.9, 8.3, 30.0], dtype=loom.float64, requires_grad=True)
    for f in (loom.special.bessel_j0, loom.special.bessel_j1):
        assert gradcheck(f, (x,)), f
    p = loom.tensor([0.05, 0.4, 0.9, 1.7, 3.0, 7.9, 8.3, 30.0], dtype=loom.float64, requires_grad=True)
    for f in (loom.special.bessel_y0, loom.special.bessel_y1, loom.special.modified_bessel_k0,
              loom.special.modified_bessel_k1):
        assert gradcheck(f, (p,)), f
    # PyTorch's values at 0: J1' = 1/2, Y1' = +inf, K1' = -inf (+0) and NaN (-0)
    z = loom.tensor([0.0, -0.0], dtype=loom.float64, requires_grad=True)
    assert loom.autograd.grad(loom.special.bessel_j1(z).sum(), z)[0].tolist() == [0.5, 0.5]
    assert loom.autograd.grad(loom.special.bessel_y1(z).sum(), z)[0].tolist() == [math.inf, math.inf]
    k1 = loom.autograd.grad(loom.special.modified_bessel_k1(z).sum(), z)[0].tolist()
    assert k1[0] == -math.inf and math.isnan(k1[1])
    assert loom.special.bessel_j0(x).grad_fn.name() == "SpecialBesselJ0Backward0"


@pytest.mark.parametrize("fn", ["scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
                                "airy_ai"] + sorted(POLYNOMIALS))
def test_no_derivative_raises(fn):
    x = loom.tensor([0.3, 0.7], dtype=loom.float64, requires_grad=True)
    f = getattr(loom.special, fn)
    y = f(x) if fn not in POLYNOMIALS else f(x, 3)
    with pytest.raises(RuntimeError, match=fn):
        y.sum().backward()
    if fn in POLYNOMIALS:  # through n too
        y = f(0.5, loom.tensor([2.0, 3.0], dtype=loom.float64, requires_grad=True))
        with pytest.raises(RuntimeError, match=fn):
            y.sum().backward()


def test_arguments():
    with pytest.raises(TypeError, match="chebyshev_polynomial_t"):
        loom.special.chebyshev_polynomial_t(0.5, 3)
    with pytest.raises(TypeError, match="bessel_j0"):
        loom.special.bessel_j0([1.0])
    assert loom.special.legendre_polynomial_p(loom.tensor([1, 2]), loom.tensor([2, 3])).dtype == loom.float32


@pytest.mark.parametrize("dtype", [loom.float32, loom.float64])
def test_huge_degrees_return_at_once(dtype):
    # PyTorch runs the n-step recurrence (a degree of 2.5e16 would take years); loom gives NaN above 2^24
    # where no closed form applies, and keeps the closed forms at any degree.
    import time
    big = loom.tensor([2.5e16, 2.0**25 + 4, 3e9], dtype=dtype)
    t0 = time.perf_counter()
    for fn in ("laguerre_polynomial_l", "legendre_polynomial_p", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
               "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w"):
        f = getattr(loom.special, fn)
        x = loom.tensor([1.5, 1.5, 1.5], dtype=dtype) if "chebyshev" in fn else loom.tensor([0.5, 0.5, 0.5], dtype=dtype)
        assert np.isnan(f(x, big).numpy()).all(), fn
    assert time.perf_counter() - t0 < 5
    assert loom.special.laguerre_polynomial_l(loom.tensor([0.0], dtype=dtype), big[:1]).item() == 1.0
    n_odd = loom.tensor([2.5e16, 3.0], dtype=dtype)
    assert loom.special.legendre_polynomial_p(loom.tensor([-1.0, -1.0], dtype=dtype), n_odd).tolist() == [1.0, -1.0]
    assert loom.special.legendre_polynomial_p(loom.tensor([1.0], dtype=dtype), big[:1]).item() == 1.0
    t = loom.special.chebyshev_polynomial_t(loom.tensor([0.5], dtype=dtype), big[:1]).item()  # cos(n acos x)
    assert -1.0 <= t <= 1.0
    # at the cap itself the recurrence still runs (2^24 steps)
    n = loom.tensor([2.0**24], dtype=dtype)
    assert np.isfinite(loom.special.laguerre_polynomial_l(loom.tensor([0.5], dtype=dtype), n).item())
