"""log1p, expm1, log2, log10, exp2, tan, asin, acos, atan, sinh, cosh, erf, erfc and atan2 against NumPy:
values in float32 and float64, integer and bool inputs promoted to float32, special values, gradients by
gradcheck, and the CUDA kernels against the CPU."""
import math

import numpy as np
import pytest

import loom
from loom.autograd import gradcheck

from _helpers import requires_cuda

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])

# name: (NumPy reference, the range of the random inputs)
OPS = {
    "log1p": (np.log1p, (-0.9, 3)),
    "expm1": (np.expm1, (-3, 3)),
    "log2": (np.log2, (0.1, 5)),
    "log10": (np.log10, (0.1, 5)),
    "exp2": (np.exp2, (-4, 4)),
    "tan": (np.tan, (-1.4, 1.4)),
    "asin": (np.arcsin, (-0.99, 0.99)),
    "acos": (np.arccos, (-0.99, 0.99)),
    "atan": (np.arctan, (-5, 5)),
    "sinh": (np.sinh, (-3, 3)),
    "cosh": (np.cosh, (-3, 3)),
    "erf": (_erf, (-3, 3)),
    "erfc": (_erfc, (-3, 3)),
}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype,np_dtype,rtol", [(loom.float32, np.float32, 2e-6), (loom.float64, np.float64, 1e-14)])
def test_values_match_numpy(rng, name, dtype, np_dtype, rtol):
    ref, (lo, hi) = OPS[name]
    a = rng.uniform(lo, hi, size=(7, 9)).astype(np_dtype)
    want = ref(a.astype(np.float64))
    for got in (getattr(loom.tensor(a), name)(), getattr(loom, name)(loom.tensor(a)),
                getattr(loom.tensor(a.T.copy()).t(), name)()):  # a strided input
        assert got.dtype == dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", sorted(OPS))
def test_integer_and_bool_inputs_give_float32(name):
    ref, _ = OPS[name]
    for x in (loom.tensor([0, 1, 2], dtype=loom.int32), loom.tensor([0, 1]), loom.tensor([True, False])):
        y = getattr(x, name)()
        assert y.dtype == loom.float32
        with np.errstate(all="ignore"):
            want = ref(x.numpy().astype(np.float64))
        np.testing.assert_allclose(y.numpy(), want, rtol=2e-6)


def test_special_values():
    x = loom.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, 2.0, -1.0], dtype=loom.float64)
    with np.errstate(all="ignore"):
        a = x.numpy()
        for name, (ref, _) in OPS.items():
            np.testing.assert_allclose(getattr(x, name)().numpy(), ref(a), rtol=1e-15, atol=0, err_msg=name)
    assert math.copysign(1.0, loom.tensor([-0.0]).log1p().item()) < 0  # log1p(-0) is -0
    assert loom.tensor([1e-10], dtype=loom.float64).expm1().item() == pytest.approx(1e-10, rel=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradients(name):
    _, (lo, hi) = OPS[name]
    x = loom.tensor(np.linspace(lo + 0.05, hi - 0.05, 6).reshape(2, 3), dtype=loom.float64, requires_grad=True)
    assert gradcheck(lambda t: getattr(t, name)(), (x,))


def test_atan2():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 6)), rng.standard_normal((6,))
    got = loom.atan2(loom.tensor(a), loom.tensor(b))
    np.testing.assert_allclose(got.numpy(), np.arctan2(a, b), rtol=1e-14)
    np.testing.assert_allclose(loom.tensor(a, dtype=loom.float32).atan2(loom.tensor(b, dtype=loom.float32)).numpy(),
                               np.arctan2(a, b), rtol=2e-6, atol=2e-6)
    z = loom.tensor([0.0, -0.0, 1.0, -1.0], dtype=loom.float64)
    np.testing.assert_array_equal(loom.atan2(z, loom.tensor([-1.0], dtype=loom.float64)).numpy(),
                                  np.arctan2(z.numpy(), -1.0))  # the signs of zero pick the quadrant
    x = loom.tensor([[0.3, -1.2], [2.0, 0.5]], dtype=loom.float64, requires_grad=True)
    y = loom.tensor([0.7, -0.4], dtype=loom.float64, requires_grad=True)
    assert gradcheck(loom.atan2, (x, y))
    with pytest.raises(TypeError, match="atan2"):
        loom.atan2(loom.tensor([1, 2]), loom.tensor([3, 4]))
    with pytest.raises(RuntimeError, match="atan2"):
        loom.atan2(loom.zeros(3), loom.zeros(2))


@requires_cuda
def test_cuda_matches_cpu(rng):
    for name, (ref, (lo, hi)) in OPS.items():
        x = loom.tensor(rng.uniform(lo, hi, size=(33, 65)).astype(np.float32))
        np.testing.assert_allclose(getattr(x.cuda(), name)().cpu().numpy(), getattr(x, name)().numpy(),
                                   rtol=4e-6, atol=4e-6, err_msg=name)
    a, b = loom.randn(33, 65), loom.randn(65)
    np.testing.assert_allclose(loom.atan2(a.cuda(), b.cuda()).cpu().numpy(), loom.atan2(a, b).numpy(), rtol=4e-6,
                               atol=4e-6)


def test_classification_and_cleanup():
    vals = [1.5, -2.25, math.nan, math.inf, -math.inf, 0.0, -0.0]
    for dtype, np_dtype in ((loom.float32, np.float32), (loom.float64, np.float64)):
        x = loom.tensor(vals, dtype=dtype)
        a = np.array(vals, dtype=np_dtype)
        for name in ("isnan", "isinf", "isposinf", "isneginf", "isfinite"):
            assert getattr(x, name)().tolist() == getattr(np, name)(a).tolist(), name
            assert getattr(loom, name)(x).dtype == loom.bool
        np.testing.assert_array_equal(x.nan_to_num().numpy(), np.nan_to_num(a))
        np.testing.assert_array_equal(loom.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0).numpy(),
                                      np.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-3.0))
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(x.frac().numpy(), a - np.trunc(a))
        np.testing.assert_array_equal(x.clamp_min(0.0).numpy(), np.maximum(a, 0.0))  # NaN stays
        np.testing.assert_array_equal(loom.clamp_max(x, 1.0).numpy(), np.minimum(a, 1.0))
    i = loom.tensor([1, -2])
    assert i.isnan().tolist() == [False, False] and i.isinf().tolist() == [False, False]
    assert i.isfinite().tolist() == [True, True] and i.nan_to_num().tolist() == [1, -2]
    with pytest.raises(TypeError, match="frac"):
        i.frac()
    y = loom.tensor([1.0, math.nan, 2.0], requires_grad=True)
    (y.nan_to_num() * 3).sum().backward()
    assert y.grad.tolist() == [3.0, 0.0, 3.0]
    z = loom.tensor([math.nan, math.inf])
    assert z.nan_to_num_() is z and z.tolist() == [0.0, float(np.finfo(np.float32).max)]
    # One kernel: a strided view, +-inf replacements past float32's range, the gradient's gradient.
    m = loom.tensor([[math.nan, 1.0], [math.inf, -math.inf]]).t()
    np.testing.assert_array_equal(m.nan_to_num(posinf=1e39).numpy(),
                                  np.nan_to_num(m.numpy(), posinf=np.float32(np.inf)))
    w = loom.tensor([2.0, math.inf, -1.0], dtype=loom.float64, requires_grad=True)
    (g,) = loom.autograd.grad((w.nan_to_num() ** 2).sum(), [w], create_graph=True)
    assert g.tolist() == [4.0, 0.0, -2.0]
    g.sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 2.0]
