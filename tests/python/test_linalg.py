"""loom.linalg beyond the PyTorch comparison (test_linalg_torch.py): second derivatives, errors, the
device round trip, and the autograd fix that multi-output custom functions needed."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck
from loom.autograd.gradcheck import gradgradcheck
from _helpers import requires_cuda

F64 = loom.float64


def _spd(n, batch=()):
    a = loom.randn(*batch, n, n, dtype=F64)
    return a @ a.mT + n * loom.eye(n, dtype=F64)


def _fix(V):
    return V * V.sum(-2, keepdim=True).sign()


FUNCS = {
    "inv": lambda a: loom.linalg.inv(a),
    "det": lambda a: loom.linalg.det(a),
    "slogdet": lambda a: loom.linalg.slogdet(a).logabsdet,
    "solve": lambda a: loom.linalg.solve(a, a[..., :2] * 0.5 + 1.0),
    "cholesky": lambda a: loom.linalg.cholesky(a @ a.mT + 4 * loom.eye(a.shape[-1], dtype=F64)),
    "qr": lambda a: loom.linalg.qr(a[..., :2]),
    "eigh": lambda a: (lambda e: (e.eigenvalues, _fix(e.eigenvectors)))(loom.linalg.eigh(a + a.mT)),
    "svd": lambda a: (lambda s: (_fix(s.U), s.S))(loom.linalg.svd(a[..., :2], full_matrices=False)),
    "svdvals": lambda a: loom.linalg.svdvals(a),
    "pinv": lambda a: loom.linalg.pinv(a[..., :2]),
    "matrix_exp": lambda a: loom.linalg.matrix_exp(a),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_first_and_second_derivatives(name):
    a = (loom.randn(2, 3, 3, dtype=F64) + 2 * loom.eye(3, dtype=F64)).requires_grad_(True)
    assert gradcheck(FUNCS[name], (a,), eps=1e-6, atol=1e-5, rtol=1e-4)
    b = a[:1].detach().clone().requires_grad_(True)
    assert gradgradcheck(FUNCS[name], (b,), eps=1e-6, atol=1e-4, rtol=1e-3)


def test_custom_function_saving_several_outputs_under_create_graph():
    # each saved output is reattached as its own output of the node (it was always output 0)
    class Two(loom.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            a, b = x * 2, (x * 3).sum(-1)
            ctx.save_for_backward(a, b)
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            a, b = ctx.saved_tensors
            assert a.shape == (4, 3) and b.shape == (4,)
            return ga * 2 + gb.unsqueeze(-1) * 3

    x = loom.randn(4, 3, dtype=F64, requires_grad=True)
    a, b = Two.apply(x)
    (g,) = loom.autograd.grad(a.sum() + b.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.full((4, 3), 5.0))


def test_errors():
    with pytest.raises(loom.linalg.LinAlgError, match="singular"):
        loom.linalg.inv(loom.zeros(2, 2))
    assert issubclass(loom.linalg.LinAlgError, RuntimeError)
    with pytest.raises(loom.linalg.LinAlgError, match="not positive-definite"):
        loom.linalg.cholesky(-loom.eye(3))
    with pytest.raises(loom.linalg.LinAlgError, match="singular"):
        loom.linalg.solve(loom.zeros(2, 2), loom.ones(2))
    with pytest.raises(RuntimeError, match="square matrices"):
        loom.linalg.inv(loom.zeros(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        loom.linalg.det(loom.zeros(3))
    with pytest.raises(RuntimeError, match="floating point"):
        loom.linalg.inv(loom.eye(2, dtype=loom.int64))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        loom.linalg.solve(loom.eye(3), loom.ones(2, 2))
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        loom.linalg.qr(loom.eye(2), mode="full")
    with pytest.raises(RuntimeError, match="UPLO"):
        loom.linalg.eigh(loom.eye(2), UPLO="X")
    x = loom.randn(4, 2, dtype=F64, requires_grad=True)
    with pytest.raises(RuntimeError, match="full_matrices=True"):
        loom.linalg.svd(x).U.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        loom.linalg.qr(x, mode="complete").Q.sum().backward()


def test_batches_float32_and_identities():
    a = _spd(4, (2, 3)).float()
    L = loom.linalg.cholesky(a)
    np.testing.assert_allclose((L @ L.mT).numpy(), a.numpy(), rtol=1e-4, atol=1e-4)
    assert L.dtype == loom.float32 and L.shape == (2, 3, 4, 4)
    np.testing.assert_allclose((loom.linalg.inv(a) @ a).numpy(), np.broadcast_to(np.eye(4), (2, 3, 4, 4)), atol=1e-4)
    x = loom.linalg.solve(a, loom.ones(4))  # one right-hand side for every matrix
    np.testing.assert_allclose((a @ x.unsqueeze(-1)).squeeze(-1).numpy(), np.ones((2, 3, 4)), atol=1e-4)
    q, r = loom.linalg.qr(loom.randn(5, 3))
    np.testing.assert_allclose((q.mT @ q).numpy(), np.eye(3), atol=1e-5)
    assert loom.linalg.matrix_rank(loom.eye(3)).item() == 3
    np.testing.assert_allclose(loom.linalg.matrix_exp(loom.zeros(3, 3)).numpy(), np.eye(3))
    sol = loom.linalg.lstsq(loom.randn(6, 3, dtype=F64), loom.randn(6, dtype=F64))
    assert sol.solution.shape == (3,) and sol.residuals.shape == () and sol.rank.item() == 3


@requires_cuda
def test_cuda_round_trip():
    a = _spd(3, (2,)).cuda().requires_grad_(True)
    out = loom.linalg.inv(a)
    assert out.device.type == "cuda"
    out.sum().backward()
    assert a.grad.device.type == "cuda"
    ref = np.linalg.inv(a.detach().cpu().numpy())
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref, rtol=1e-10)
