"""loom.utils.checkpoint: gradients equal those of the plain run, dropout masks drawn again, both variants'
requires_grad rules as PyTorch's, checkpoint_sequential."""
import warnings

import pytest

import loom
import loom.nn as nn
from loom.utils.checkpoint import checkpoint, checkpoint_sequential


def _model():
    loom.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))


def _grads(model):
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_matches_the_plain_run(use_reentrant):
    model = _model()
    x = loom.randn(6, 5, requires_grad=True)
    loom.manual_seed(1)
    model(x).pow(2).sum().backward()
    want_x, want_p = x.grad.clone(), _grads(model)
    model.zero_grad()
    x.grad = None
    loom.manual_seed(1)  # the same dropout mask, drawn again in backward from the saved state
    y = checkpoint(model, x, use_reentrant=use_reentrant)
    assert y.requires_grad
    y.pow(2).sum().backward()
    assert loom.allclose(x.grad, want_x, atol=1e-6)
    for g, w in zip(_grads(model), want_p):
        assert loom.allclose(g, w, atol=1e-6)


def test_requires_grad_rules_of_the_two_variants():
    lin = nn.Linear(3, 2)
    data = loom.randn(4, 3)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        assert not checkpoint(lin, data, use_reentrant=True).requires_grad
    out = checkpoint(lin, data, use_reentrant=False)
    assert out.requires_grad
    out.sum().backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum().item() > 0
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lin, loom.randn(4, 3, requires_grad=True))
    with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
        checkpoint(lambda t, k=1: t * k, data, k=2, use_reentrant=True)
    assert loom.equal(checkpoint(lambda t, k=1: t * k, data, k=2, use_reentrant=False), data * 2)
    with loom.no_grad():
        assert not checkpoint(lin, data, use_reentrant=False).requires_grad


def test_multiple_outputs_and_non_tensor_arguments():
    a = loom.randn(3, requires_grad=True)
    b = loom.randn(3, requires_grad=True)

    def f(x, scale, y):
        return x * scale, (x * y).sin()

    p, q = checkpoint(f, a, 3.0, b, use_reentrant=True)
    (p.sum() + q.sum()).backward()
    assert loom.allclose(a.grad, 3.0 + (a * b).detach().cos() * b.detach(), atol=1e-6)
    assert loom.allclose(b.grad, (a * b).detach().cos() * a.detach(), atol=1e-6)


def test_checkpoint_sequential():
    model = _model().eval()
    x = loom.randn(4, 5, requires_grad=True)
    model(x).sum().backward()
    want = _grads(model)
    model.zero_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = checkpoint_sequential(model, 3, x, use_reentrant=False)
    assert loom.allclose(y, model(x))
    y.sum().backward()
    for g, w in zip(_grads(model), want):
        assert loom.allclose(g, w, atol=1e-6)
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(model, 0, x, use_reentrant=False)
