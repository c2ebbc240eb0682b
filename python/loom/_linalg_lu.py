"""LU factorization and what builds on it: linalg.lu_factor(_ex), linalg.lu, linalg.lu_solve, lu_unpack and
the torch.* forms (lu, lu_solve); with them the tensor forms (tensorinv, tensorsolve) and Householder
products (householder_product / orgqr, geqrf, ormqr).

The factorization runs on the host (NumPy; partial pivoting by rows, one column at a time over the whole
batch, LAPACK's getrf conventions: 1-based pivots, info = the first zero pivot). Its gradient is written in
loom's ops (square, wide and tall matrices); lu_solve and lu_unpack compose from triangular solves, tril /
triu and permutation matrices, so their gradients come from those.
"""
import collections

import numpy as np

from . import _C
from ._C import Tensor
from .autograd.function import Function
from . import _linalg_ops
from ._linalg_ops import LinAlgError, _check_matrix, _mT, _np, _recompute, _tensor, solve, solve_triangular

_lu_factor_t = collections.namedtuple("lu_factor", ["LU", "pivots"])
_lu_factor_ex_t = collections.namedtuple("lu_factor_ex", ["LU", "pivots", "info"])
_plu_t = collections.namedtuple("lu", ["P", "L", "U"])
_lu_unpack_t = collections.namedtuple("lu_unpack", ["P", "L", "U"])
_geqrf_t = collections.namedtuple("geqrf", ["a", "tau"])


# ---- the factorization on the host ----

def _getrf(a, pivot=True):
    """(LU, pivots, info) of a [..., m, n] array: P A = L U packed as LAPACK's getrf does."""
    *batch, m, n = a.shape
    k = min(m, n)
    nb = int(np.prod(batch, dtype=np.int64))
    A = np.array(a, copy=True).reshape(nb, m, n)
    piv = np.tile(np.arange(1, k + 1, dtype=np.int32), (nb, 1))
    info = np.zeros(nb, dtype=np.int32)
    rows = np.arange(nb)
    for j in range(k):
        if pivot:
            p = j + np.argmax(np.abs(A[:, j:, j]), axis=1)
            piv[:, j] = p + 1
            swap = p != j
            if swap.any():
                r, q = rows[swap], p[swap]
                top = A[r, j].copy()
                A[r, j] = A[r, q]
                A[r, q] = top
        d = A[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        if j + 1 < m:
            # a zero pivot leaves its column unscaled (LAPACK); with partial pivoting the column is zero then
            A[:, j + 1:, j] /= np.where(zero, 1, d)[:, None]
            if j + 1 < n:
                A[:, j + 1:, j + 1:] -= A[:, j + 1:, j, None] * A[:, None, j, j + 1:]
    return A.reshape(a.shape), piv.reshape(tuple(batch) + (k,)), info.reshape(tuple(batch))


def _perm_from_pivots(piv, m):
    """perm [..., m] with (Pᵀ A)[i] = A[perm[i]] for the row interchanges of 1-based pivots [..., k]."""
    piv = np.asarray(piv, dtype=np.int64) - 1
    batch = piv.shape[:-1]
    p2 = piv.reshape(int(np.prod(batch, dtype=np.int64)), piv.shape[-1])
    perm = np.tile(np.arange(m), (p2.shape[0], 1))
    rows = np.arange(p2.shape[0])
    for j in range(p2.shape[1]):
        q = p2[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, q]
        perm[rows, q] = top
    return perm.reshape(tuple(batch) + (m,))


def _perm_matrix(perm, like):
    """P [..., m, m] with P[perm[i], i] = 1, in like's dtype and device."""
    m = perm.shape[-1]
    eye = np.eye(m, dtype=np.float64)
    P = np.swapaxes(eye[perm], -1, -2)  # row i of eye[perm] is e_{perm[i]}: its transpose puts it in column i
    return _tensor(np.ascontiguousarray(P), like)


# ---- gradient of P L U ----

def _lu_backward_square(gL, gU, L, U):
    """Pᵀ gA for A = P L U square: L⁻ᵀ [(Lᵀ gL) strictly lower + (gU Uᵀ) upper] U⁻ᵀ."""
    phi = _mT(L).matmul(gL).tril(-1) + gU.matmul(_mT(U)).triu()
    X = solve_triangular(_mT(U), phi, upper=False, left=False)
    return solve_triangular(_mT(L), X, upper=True, unitriangular=True)


def _lu_backward(gL, gU, P, L, U):
    """gA for A = P L U (L m × k, U k × n)."""
    m, n = L.shape[-2], U.shape[-1]
    if m == n:
        return P.matmul(_lu_backward_square(gL, gU, L, U))
    if m < n:  # U = [U1 | U2], Pᵀ A = [L U1 | L U2]: U2 = L⁻¹ Pᵀ A2 also moves with L
        U1, U2 = U.narrow(-1, 0, m), U.narrow(-1, m, n - m)
        gU1, gU2 = gU.narrow(-1, 0, m), gU.narrow(-1, m, n - m)
        W = solve_triangular(_mT(L), gU2, upper=True, unitriangular=True)  # L⁻ᵀ gU2
        X1 = _lu_backward_square(gL - W.matmul(_mT(U2)), gU1, L, U1)
        return P.matmul(_C.cat([X1, W], -1))
    # m > n: L = [L1; L2], Pᵀ A = [L1 U; L2 U]: L2 = A2 U⁻¹ also moves with U
    L1, L2 = L.narrow(-2, 0, n), L.narrow(-2, n, m - n)
    gL1, gL2 = gL.narrow(-2, 0, n), gL.narrow(-2, n, m - n)
    W = solve_triangular(_mT(U), gL2, upper=False, left=False)  # gL2 U⁻ᵀ
    X1 = _lu_backward_square(gL1, gU - _mT(L2).matmul(W), L1, U)
    return P.matmul(_C.cat([X1, W], -2))


def _eye(n, like):
    from ._factories import eye
    return eye(n, dtype=like.dtype, device=like.device)


def _unpack(LU, perm):
    """(P, L, U) from packed factors and the row permutation (a NumPy array), differentiable in LU."""
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    eye = _eye(m, LU).narrow(-1, 0, k)
    L = LU.narrow(-1, 0, k).tril(-1) + eye
    U = LU.narrow(-2, 0, k).triu()
    return _perm_matrix(perm, LU), L, U


class _LUFactor(Function):
    @staticmethod
    def forward(ctx, A, pivot):
        lu, piv, info = _getrf(_np(A), pivot)
        LU = _tensor(lu, A)
        pivots = _tensor(piv, A, _C.int32)
        infos = _tensor(info, A, _C.int32)
        ctx.perm = _perm_from_pivots(piv, A.shape[-2])
        ctx.pivot = pivot
        ctx.save_for_backward(A, LU)
        ctx.mark_non_differentiable(pivots, infos)
        return LU, pivots, infos

    @staticmethod
    def backward(ctx, gLU, g_piv, g_info):
        A, LU = ctx.saved_tensors
        if _recompute():
            LU = _LUFactor.apply(A, ctx.pivot)[0]
        P, L, U = _unpack(LU, ctx.perm)
        m, n = A.shape[-2], A.shape[-1]
        k = min(m, n)
        gL = gLU.narrow(-1, 0, k).tril(-1)
        gU = gLU.narrow(-2, 0, k).triu()
        return _lu_backward(gL, gU, P, L, U), None


def _check_lu_input(A, name):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'A' must be Tensor, not {type(A).__name__}")
    _check_matrix(A, name, square=False)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): P A = L U packed in LU (L unit lower below the diagonal, U on and above it),
    pivots the 1-based row interchanges (int32, min(m, n) per matrix), info the 1-based index of the first
    zero on U's diagonal (0: none). pivot=False factors without interchanges (pivots 1, 2, ...)."""
    _check_lu_input(A, "lu_factor_ex")
    LU, pivots, info = _LUFactor.apply(A, bool(pivot))
    if check_errors:
        _raise_singular(info, "linalg.lu_factor_ex", A)
    return _lu_factor_ex_t(LU, pivots, info)


def _raise_singular(info, name, A):
    bad = info.detach().cpu().numpy().reshape(-1)
    nz = np.flatnonzero(bad)
    if nz.size:
        i = int(bad[nz[0]])
        where = "" if A.dim() == 2 else f"(Batch element {int(nz[0])}): "
        raise LinAlgError(f"{name}: {where}U[{i},{i}] is zero and using it on lu_solve would result in a "
                          "division by zero. If you still want to perform the factorization, consider calling "
                          "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) of lu_factor_ex; a matrix with a zero on U's diagonal raises LinAlgError."""
    _check_lu_input(A, "lu_factor")
    LU, pivots, info = _LUFactor.apply(A, bool(pivot))
    _raise_singular(info, "torch.linalg.lu_factor", A)
    return _lu_factor_t(LU, pivots)


def _check_pivots(LU, pivots, name):
    """The row permutation (NumPy) of lu_factor's pivots, checked against LU."""
    if not isinstance(pivots, Tensor):
        raise TypeError(f"{name}(): argument 'pivots' must be Tensor, not {type(pivots).__name__}")
    if pivots.dtype != _C.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type loom.int32, got {pivots.dtype}")
    k = min(LU.shape[-2], LU.shape[-1])
    if pivots.dim() < 1 or pivots.shape[-1] != k:
        raise RuntimeError(f"{name}: Number of pivots per batch should be same as the dimension of the matrix "
                           f"(LU {list(LU.shape)}, pivots {list(pivots.shape)})")
    if tuple(pivots.shape[:-1]) != tuple(LU.shape[:-2]):
        raise RuntimeError(f"{name}: Expected LU and pivots to have the same batch shape, got LU "
                           f"{list(LU.shape)} and pivots {list(pivots.shape)}")
    p = pivots.detach().cpu().numpy()
    if p.size and (p.min() < 1 or p.max() > LU.shape[-2]):
        raise RuntimeError(f"{name}: Pivots given to lu_solve must all be smaller or equal to LU.size(-2) = "
                           f"{LU.shape[-2]} and at least 1 (got {int(p.min())} to {int(p.max())}). Did you "
                           "properly pass the result of lu_factor?")
    return _perm_from_pivots(p, LU.shape[-2])


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from lu_factor's packed result: A = P L U. Parts not unpacked are empty tensors."""
    _check_matrix(LU_data, "lu_unpack", square=False, arg="LU_data")
    perm = _check_pivots(LU_data, LU_pivots, "lu_unpack")
    P, L, U = _unpack(LU_data, perm)
    from ._factories import empty
    e = empty(0, dtype=LU_data.dtype, device=LU_data.device)
    return _lu_unpack_t(P if unpack_pivots else e, L if unpack_data else e, U if unpack_data else e)


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: P a permutation, L unit lower triangular (m × k), U upper (k × n), k =
    min(m, n). Singular matrices factor without error. pivot=False gives an empty P (A = L U)."""
    _check_lu_input(A, "lu")
    LU, pivots, _ = _LUFactor.apply(A, bool(pivot))
    P, L, U = _unpack(LU, _perm_from_pivots(pivots.cpu().numpy(), A.shape[-2]))
    if not pivot:
        from ._factories import empty
        P = empty(tuple(A.shape[:-2]) + (0, 0), dtype=A.dtype, device=A.device)
    return _plu_t(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (left) or X A = B, A = P L U given by lu_factor; adjoint solves with Aᵀ."""
    _check_matrix(LU, "lu_solve", arg="LU")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.lu_solve(): argument 'B' must be Tensor, not {type(B).__name__}")
    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if B.dtype != LU.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{LU.dtype} and B of type {B.dtype} instead")
    n = LU.shape[-1]
    nb = B.shape[-2] if left else B.shape[-1]
    if nb != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    perm = _check_pivots(LU, pivots, "linalg.lu_solve")
    batch = tuple(_C.broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2])))
    LU = LU.expand(batch + (n, n))
    B = B.expand(batch + tuple(B.shape[-2:]))
    P = _perm_matrix(np.broadcast_to(perm, batch + (n,)), LU)
    LUt = _mT(LU)
    if left and not adjoint:  # X = U⁻¹ L⁻¹ Pᵀ B
        Y = solve_triangular(LU, _mT(P).matmul(B), upper=False, unitriangular=True)
        return solve_triangular(LU, Y, upper=True)
    if left:  # Aᵀ X = B: X = P L⁻ᵀ U⁻ᵀ B
        Y = solve_triangular(LUt, B, upper=False)
        return P.matmul(solve_triangular(LUt, Y, upper=True, unitriangular=True))
    if not adjoint:  # X = B U⁻¹ L⁻¹ Pᵀ
        Y = solve_triangular(LU, B, upper=True, left=False)
        return solve_triangular(LU, Y, upper=False, unitriangular=True, left=False).matmul(_mT(P))
    # X Aᵀ = B: X = B P L⁻ᵀ U⁻ᵀ
    Y = solve_triangular(LUt, B.matmul(P), upper=True, unitriangular=True, left=False)
    return solve_triangular(LUt, Y, upper=False, left=False)


# ---- torch.* forms ----

def lu_top(A, pivot=True, get_infos=False):
    """torch.lu (deprecated there): (LU, pivots) or (LU, pivots, infos), without raising for singular A."""
    _check_lu_input(A, "lu_factor_ex")
    LU, pivots, info = _LUFactor.apply(A, bool(pivot))
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve_top(b, LU_data, LU_pivots):
    """torch.lu_solve (deprecated there): linalg.lu_solve(LU_data, LU_pivots, b)."""
    return lu_solve(LU_data, LU_pivots, b)


# ---- tensor forms ----

def _prod(shape):
    p = 1
    for s in shape:
        p *= int(s)
    return p


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A read as a matrix prod(A.shape[:ind]) × prod(A.shape[ind:]), shaped
    A.shape[ind:] + A.shape[:ind] (so tensordot(tensorinv(A, ind), A, ind) is the identity)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.tensorinv(): argument 'input' must be Tensor, not {type(A).__name__}")
    if not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if _prod(rows) != _prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {_prod(cols)} != {_prod(rows)}")
    from ._linalg_ops import inv
    return inv(A.reshape(_prod(rows), _prod(cols))).reshape(cols + rows)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.dim()) = B: A's trailing dimensions (after moving dims to the end) are X's."""
    if not isinstance(A, Tensor) or not isinstance(B, Tensor):
        bad = A if not isinstance(A, Tensor) else B
        raise TypeError(f"linalg.tensorsolve(): arguments must be Tensors, not {type(bad).__name__}")
    if dims is not None:
        nd = A.dim()
        dims = [d % nd for d in dims]
        rest = [d for d in range(nd) if d not in dims]
        A = A.permute(rest + dims)
    bshape = tuple(B.shape)
    xshape = tuple(A.shape[B.dim():])
    if _prod(xshape) != _prod(bshape):
        raise RuntimeError("linalg.tensorsolve: Expected self to satisfy the requirement "
                           f"prod(self.shape[other.ndim:]) == prod(other.shape), but got {_prod(xshape)} != "
                           f"{_prod(bshape)}")
    n = _prod(bshape)
    return solve(A.reshape(n, n), B.reshape(n)).reshape(xshape)


# ---- Householder products ----

def _check_tau(A, tau, name):
    if not isinstance(tau, Tensor):
        raise TypeError(f"{name}(): argument 'tau' must be Tensor, not {type(tau).__name__}")
    if tau.dim() != A.dim() - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")


def _reflector_vectors(A):
    """V [..., m, k]: the Householder vectors stored below A's diagonal, with ones on it and zeros above."""
    m, k = A.shape[-2], A.shape[-1]
    eye = _eye(m, A).narrow(-1, 0, k)
    return A.tril(-1) + eye


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_iᵀ with v_i stored below A's diagonal
    (column i, an implicit 1 on it): the Q of a QR factorization from geqrf's (a, tau). Differentiable in
    both arguments."""
    _check_matrix(A, "householder_product", square=False)
    if not isinstance(tau, Tensor):
        raise TypeError(f"linalg.householder_product(): argument 'tau' must be Tensor, not {type(tau).__name__}")
    m, n = A.shape[-2], A.shape[-1]
    name = "torch.linalg.householder_product"
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    _check_tau(A, tau, name)
    k = tau.shape[-1]
    if k > n:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    V = _reflector_vectors(A)
    Q = _eye(m, A).narrow(-1, 0, n).expand(tuple(A.shape[:-2]) + (m, n))
    for i in reversed(range(k)):  # Q = H_i Q, right to left
        v = V.narrow(-1, i, 1)
        t = tau.narrow(-1, i, 1).unsqueeze(-1)
        Q = Q - (t * v).matmul(_mT(v).matmul(Q))
    return Q


def orgqr(input, tau):
    """torch.orgqr: householder_product(input, tau)."""
    return householder_product(input, tau)


def _householder_apply(V, tau, C, left, transpose):
    """op(Q) C (left) or C op(Q), Q = H_1 ... H_k from V [..., m, k] and tau [..., k]."""
    k = tau.shape[-1]
    # Q C = H_1 (H_2 (... H_k C)); Qᵀ C = H_k (... H_1 C); C Q = ((C H_1) H_2) ...; C Qᵀ = ((C H_k) ...) H_1
    order = range(k) if left == transpose else reversed(range(k))
    for i in order:
        v = V.narrow(-1, i, 1)
        t = tau.narrow(-1, i, 1).unsqueeze(-1)
        if left:
            C = C - (t * v).matmul(_mT(v).matmul(C))
        else:
            C = C - C.matmul(v).matmul(_mT(t * v))
    return C


def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """op(Q) other (left) or other op(Q), Q the product of the Householder reflectors in (input, tau) as
    geqrf returns them, op the transpose when transpose=True."""
    name = "torch.ormqr"
    _check_matrix(input, "ormqr", square=False, arg="input")
    if not isinstance(other, Tensor):
        raise TypeError(f"ormqr(): argument 'other' must be Tensor, not {type(other).__name__}")
    if other.dim() < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    _check_tau(input, tau, name)
    if tuple(other.shape[:-2]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of other to be equal to input.shape[:-2], but got "
                           f"{list(other.shape[:-2])}")
    if other.dtype != input.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but input has dtype "
                           f"{input.dtype} and other has dtype {other.dtype}")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    k = min(other.shape[side], input.shape[-1])
    if tau.shape[-1] != k:
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    V = _reflector_vectors(input).narrow(-1, 0, tau.shape[-1])
    return _householder_apply(V, tau, other, left, transpose)


def geqrf(input, *, out=None):
    """(a, tau): the QR factorization in LAPACK's form, R on and above a's diagonal, the Householder vectors
    below it (householder_product(a, tau) is Q). Not differentiable (as PyTorch)."""
    _check_matrix(input, "geqrf", square=False, arg="input")
    x = _np(input)
    m, n = x.shape[-2], x.shape[-1]
    if x.size == 0:
        return _geqrf_t(input.clone(), _tensor(np.zeros(x.shape[:-2] + (min(m, n),), x.dtype), input))
    h, tau = np.linalg.qr(x, mode="raw")  # LAPACK geqrf; h is the transpose of its column-major result
    return _geqrf_t(_tensor(np.swapaxes(h, -1, -2), input), _tensor(tau, input))


TOP = {"lu": lu_top, "lu_solve": lu_solve_top, "lu_unpack": lu_unpack, "orgqr": orgqr, "ormqr": ormqr,
       "geqrf": geqrf}


def install(namespace):
    _linalg_ops.install(namespace, TOP)
