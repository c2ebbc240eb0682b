"""Pointwise ops from Python that are composed in the package (loom.isclose / loom.allclose)."""
import math

import pytest

import loom

NAN, INF = float("nan"), float("inf")


def test_isclose_follows_torch_rules():
    a = loom.tensor([1.0, NAN, INF, -INF, 1e10, 2.0, 0.0])
    b = loom.tensor([1.0 + 1e-7, NAN, INF, INF, INF, 2.1, 1e-9])
    assert loom.isclose(a, b).tolist() == [True, False, True, False, False, False, True]
    assert loom.isclose(a, b, equal_nan=True).tolist() == [True, True, True, False, False, False, True]
    assert a.isclose(b, rtol=0.1, atol=0).tolist() == [True, False, True, False, False, True, False]
    # rtol = atol = 0 is exact equality.
    assert loom.isclose(a, b, rtol=0, atol=0).tolist() == [False, False, True, False, False, False, False]


def test_isclose_broadcasts_and_keeps_integer_and_bool_rules():
    x = loom.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=loom.float64)
    y = loom.tensor([1.0, 4.0], dtype=loom.float64)
    assert loom.isclose(x, y).tolist() == [[True, False], [False, True]]
    assert loom.isclose(loom.tensor([1, 2, 3]), loom.tensor([1, 3, 3])).tolist() == [True, False, True]
    assert loom.isclose(loom.tensor([5]), loom.tensor([6]), atol=1).tolist() == [True]
    assert loom.isclose(loom.tensor([True, False]), loom.tensor([True, True])).tolist() == [True, False]


def test_allclose_returns_a_python_bool():
    a = loom.randn(5, 7)
    assert loom.allclose(a, a.clone()) is True
    assert a.allclose(a + 1e-3) is False
    assert a.allclose(a + 1e-3, atol=1e-2) is True
    n = loom.tensor([NAN])
    assert loom.allclose(n, n) is False and loom.allclose(n, n, equal_nan=True) is True
    assert math.isclose(float((a - a.clone()).abs().max()), 0.0)


def test_isclose_rejects_bad_arguments():
    with pytest.raises(RuntimeError, match="same dtype"):
        loom.isclose(loom.tensor([1]), loom.tensor([1.0]))
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero"):
        loom.isclose(loom.ones(2), loom.ones(2), rtol=-1)
    with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
        loom.allclose(loom.ones(2), loom.ones(2), atol=-1)
    with pytest.raises(TypeError, match="must be Tensor"):
        loom.isclose(loom.ones(2), 1.0)
    with pytest.raises(RuntimeError):
        loom.isclose(loom.ones(2), loom.ones(3))
