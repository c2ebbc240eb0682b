"""LU, its solves and the Householder products beyond the PyTorch comparison (test_linalg_torch.py): first
and second derivatives of every factor shape, pivot=False, singular and empty matrices, errors, the device
round trip."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck
from loom.autograd.gradcheck import gradgradcheck
from _helpers import requires_cuda

F64 = loom.float64
LA = loom.linalg

FUNCS = {
    "lu_square": (lambda a: LA.lu(a)[1:], (2, 4, 4)),
    "lu_wide": (lambda a: LA.lu(a)[1:], (3, 5)),
    "lu_tall": (lambda a: LA.lu(a)[1:], (2, 5, 3)),
    "lu_factor_wide": (lambda a: LA.lu_factor(a).LU, (2, 3, 4)),
    "lu_factor_tall": (lambda a: LA.lu_factor(a).LU, (4, 2)),
    "lu_solve": (lambda a: LA.lu_solve(*LA.lu_factor(a), a[..., :2] * 0.5 + 1.0), (2, 3, 3)),
    "lu_solve_adjoint": (lambda a: LA.lu_solve(*LA.lu_factor(a), a[..., :2] + 1.0, adjoint=True), (3, 3)),
    "lu_solve_right": (lambda a: LA.lu_solve(*LA.lu_factor(a), a[..., :2, :] - 1.0, left=False), (3, 3)),
    "lu_solve_right_adjoint": (lambda a: LA.lu_solve(*LA.lu_factor(a), a[..., :1, :], left=False, adjoint=True),
                               (2, 3, 3)),
    "householder_product": (lambda a: LA.householder_product(a, a[..., 0, :2].sin()), (2, 4, 3)),
    "ormqr": (lambda a: loom.ormqr(a, a[0, :3].cos(), a.mT @ a, transpose=True), (3, 3)),
    "tensorinv": (lambda a: LA.tensorinv(a.reshape(2, 2, 4), ind=2), (4, 4)),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_first_and_second_derivatives(name):
    f, shape = FUNCS[name]
    a = loom.randn(*shape, dtype=F64)
    if shape[-1] == shape[-2]:
        a = a + 3 * loom.eye(shape[-1], dtype=F64)
    a.requires_grad_(True)
    assert gradcheck(f, (a,), eps=1e-6, atol=1e-5, rtol=1e-4)
    b = a.detach().clone().requires_grad_(True)
    assert gradgradcheck(f, (b,), eps=1e-6, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (2, 6, 3), (1, 1), (5, 1), (1, 5)])
def test_factors_rebuild_the_matrix(shape):
    a = loom.randn(*shape, dtype=F64)
    P, L, U = LA.lu(a)
    k = min(shape[-2:])
    assert L.shape == shape[:-1] + (k,) and U.shape == shape[:-2] + (k, shape[-1])
    np.testing.assert_allclose((P @ L @ U).numpy(), a.numpy(), atol=1e-12)
    assert np.all(np.abs(L.numpy()) <= 1 + 1e-12)  # partial pivoting: multipliers at most 1
    np.testing.assert_array_equal(np.triu(L.numpy(), 1), 0)
    np.testing.assert_array_equal(np.tril(U.numpy(), -1), 0)
    LU, piv = LA.lu_factor(a)
    assert piv.dtype == loom.int32 and piv.shape == shape[:-2] + (k,)
    P2, L2, U2 = loom.lu_unpack(LU, piv)
    np.testing.assert_array_equal(P2.numpy(), P.numpy())
    np.testing.assert_array_equal(L2.numpy(), L.numpy())


def test_without_pivoting_and_singular_matrices():
    a = loom.randn(3, 4, 4, dtype=F64) + 4 * loom.eye(4, dtype=F64)
    P, L, U = LA.lu(a, pivot=False)
    assert P.shape == (3, 0, 0)
    np.testing.assert_allclose((L @ U).numpy(), a.numpy(), atol=1e-12)
    LU, piv = LA.lu_factor(a, pivot=False)
    np.testing.assert_array_equal(piv.numpy(), np.tile(np.arange(1, 5, dtype=np.int32), (3, 1)))
    x = LA.lu_solve(LU, piv, loom.ones(3, 4, 1, dtype=F64))
    np.testing.assert_allclose((a @ x).numpy(), np.ones((3, 4, 1)), atol=1e-12)
    # a singular matrix factors (info names the zero on U's diagonal); lu_factor refuses it
    s = loom.tensor([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]], dtype=F64)
    LU, piv, info = LA.lu_factor_ex(s)
    np.testing.assert_array_equal(info.numpy(), [2, 0])
    with pytest.raises(loom.linalg.LinAlgError, match=r"\(Batch element 0\): U\[2,2\] is zero"):
        LA.lu_factor(s)
    with pytest.raises(RuntimeError, match=r"U\[2,2\] is zero"):
        LA.lu_factor_ex(s, check_errors=True)
    P, L, U = LA.lu(s)
    np.testing.assert_allclose((P @ L @ U).numpy(), s.numpy())
    LU, piv, info = loom.lu(s, get_infos=True)
    assert info.tolist() == [2, 0]


def test_empty_and_float32():
    P, L, U = LA.lu(loom.zeros(0, 3, 3))
    assert P.shape == L.shape == U.shape == (0, 3, 3)
    LU, piv = LA.lu_factor(loom.zeros(3, 0))
    assert LU.shape == (3, 0) and piv.shape == (0,)
    a = loom.randn(5, 5) + 5 * loom.eye(5)
    LU, piv = LA.lu_factor(a)
    assert LU.dtype == loom.float32
    x = LA.lu_solve(LU, piv, loom.ones(5, 2))
    np.testing.assert_allclose((a @ x).numpy(), np.ones((5, 2)), atol=1e-4)
    q = LA.householder_product(*loom.geqrf(loom.randn(6, 3)))
    np.testing.assert_allclose((q.mT @ q).numpy(), np.eye(3), atol=1e-5)
    np.testing.assert_allclose(LA.vander(loom.tensor([2, 3])).numpy(), [[1, 2], [1, 3]])
    assert LA.vander(loom.tensor([2, 3])).dtype == loom.int64


def test_tensor_forms():
    a = loom.randn(6, 2, 3, dtype=F64)
    ainv = LA.tensorinv(a, ind=1)
    assert ainv.shape == (2, 3, 6)
    np.testing.assert_allclose(loom.tensordot(ainv, a, 1).reshape(6, 6).numpy(), np.eye(6), atol=1e-10)
    b = loom.randn(6, dtype=F64)
    x = LA.tensorsolve(a, b)
    np.testing.assert_allclose(loom.tensordot(a, x, 2).numpy(), b.numpy(), atol=1e-10)


def test_errors():
    with pytest.raises(RuntimeError, match="floating point"):
        LA.lu_factor(loom.eye(2, dtype=loom.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.lu(loom.ones(3))
    LU, piv = LA.lu_factor(loom.eye(2))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.lu_solve(LU, piv, loom.ones(2))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"):
        LA.lu_solve(LU, piv, loom.ones(3, 1))
    with pytest.raises(RuntimeError, match="pivots should be a Tensor of scalar type loom.int32"):
        LA.lu_solve(LU, piv.long(), loom.ones(2, 1))
    with pytest.raises(RuntimeError, match="must all be smaller or equal to LU.size"):
        LA.lu_solve(LU, loom.tensor([1, 3], dtype=loom.int32), loom.ones(2, 1))
    with pytest.raises(RuntimeError, match="Number of pivots"):
        LA.lu_solve(LU, loom.tensor([1], dtype=loom.int32), loom.ones(2, 1))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.lu_solve(LU, piv, loom.ones(2, 1, dtype=F64))
    with pytest.raises(RuntimeError, match="prod"):
        LA.tensorinv(loom.zeros(2, 3), ind=1)
    with pytest.raises(RuntimeError, match="strictly positive integer"):
        LA.tensorinv(loom.eye(4).reshape(4, 2, 2), ind=0)
    with pytest.raises(RuntimeError, match="6 != 4"):
        LA.tensorsolve(loom.eye(6).reshape(2, 3, 6), loom.ones(2, 2))
    with pytest.raises(RuntimeError, match="greater than or equal to input.shape"):
        LA.householder_product(loom.randn(2, 3), loom.randn(2))
    with pytest.raises(RuntimeError, match="greater than or equal to tau.shape"):
        LA.householder_product(loom.randn(3, 2), loom.randn(3))
    with pytest.raises(RuntimeError, match="does not match input dtype"):
        LA.householder_product(loom.randn(3, 2), loom.randn(2, dtype=F64))
    with pytest.raises(RuntimeError, match="must be equal to min"):
        loom.ormqr(loom.randn(5, 3), loom.randn(2), loom.randn(5, 2))
    with pytest.raises(RuntimeError, match="other must have at least 2 dimensions"):
        loom.ormqr(loom.randn(4, 3), loom.randn(3), loom.randn(4), left=False)
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        LA.vander(loom.ones(3), N=1)


@requires_cuda
def test_cuda_round_trip():
    a = (loom.randn(2, 4, 4, dtype=F64) + 4 * loom.eye(4, dtype=F64)).cuda().requires_grad_(True)
    LU, piv = LA.lu_factor(a)
    assert LU.device.type == "cuda" and piv.device.type == "cuda"
    x = LA.lu_solve(LU, piv, loom.ones(2, 4, 1, dtype=F64, device="cuda"))
    x.sum().backward()
    assert a.grad.device.type == "cuda"
    np.testing.assert_allclose((a.detach() @ x.detach()).cpu().numpy(), np.ones((2, 4, 1)), atol=1e-10)
