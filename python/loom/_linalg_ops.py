"""The factorizations and solvers of loom.linalg.

Forward: LAPACK through NumPy on the host, batched over the leading dimensions (a CUDA input is copied to
the host and its results back: a synchronization, which PyTorch's cuSOLVER path avoids). Backward: the
standard adjoint formulas, written in loom's ops (and in these functions), so gradients run on the input's
device and differentiate again under create_graph. Each Function recomputes its result from its input in
backward when a graph is being built, so second derivatives see the result's dependence on the input.
"""
import collections
import math

import numpy as np

from . import _C
from ._C import Tensor
from .autograd.function import Function


class LinAlgError(RuntimeError):
    """A factorization or solve failed (a singular matrix, one that is not positive-definite...)."""


_slogdet_t = collections.namedtuple("slogdet", ["sign", "logabsdet"])
_qr_t = collections.namedtuple("qr", ["Q", "R"])
_eigh_t = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
_svd_t = collections.namedtuple("svd", ["U", "S", "Vh"])
_inv_ex_t = collections.namedtuple("inv_ex", ["inverse", "info"])
_cholesky_ex_t = collections.namedtuple("cholesky_ex", ["L", "info"])
_solve_ex_t = collections.namedtuple("solve_ex", ["result", "info"])
_lstsq_t = collections.namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


# ---- host round trip ----

def _np(t):
    return t.detach().cpu().numpy()


def _tensor(a, like, dtype=None):
    a = np.asarray(a)
    t = _C.from_numpy(a if a.flags.c_contiguous else a.copy())
    t = t.to(dtype or like.dtype)
    return t if str(like.device) == "cpu" else t.to(like.device)


def _lapack(fn, message, *arrays, **kwargs):
    """fn(*arrays) with NumPy's LinAlgError raised as loom's, with PyTorch's message."""
    try:
        return fn(*arrays, **kwargs)
    except np.linalg.LinAlgError:
        raise LinAlgError(message) from None


def _np_svd(a, full_matrices):
    """np.linalg.svd, with NaN factors for the matrices that hold an inf or a NaN (as PyTorch's): LAPACK's
    gesdd can loop forever on them."""
    bad = ~np.isfinite(a).all(axis=(-2, -1))
    if not bad.any():
        return np.linalg.svd(a, full_matrices=full_matrices)
    u, s, vh = np.linalg.svd(np.where(bad[..., None, None], 0, a), full_matrices=full_matrices)
    for x in (u, s, vh):
        x[bad] = np.nan
    return u, s, vh


def _check_matrix(A, name, square=True, arg="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}(): argument '{arg}' must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor {arg} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: {arg} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if not A.is_floating_point():
        raise RuntimeError(f"linalg.{name}: Expected a floating point tensor as input. Got {A.dtype}")


def _mT(x):
    return x.transpose(-1, -2)


def _eye_like(n, like):
    from ._factories import eye
    return eye(n, dtype=like.dtype, device=like.device)


def _recompute():
    return _C.is_grad_enabled()


# ---- inverse, determinant ----

class _Inv(Function):
    @staticmethod
    def forward(ctx, A):
        x = _lapack(np.linalg.inv, "linalg.inv: The diagonal element is zero, the inversion could not be completed "
                    "because the input matrix is singular.", _np(A))
        X = _tensor(x, A)
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, g):
        A, X = ctx.saved_tensors
        if _recompute():
            X = _Inv.apply(A)
        Xt = _mT(X)
        return -(Xt.matmul(g).matmul(Xt))


def inv(A, *, out=None):
    """The inverse of each square matrix of A."""
    _check_matrix(A, "inv")
    return _Inv.apply(A)


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): info 0 where A is invertible (the inverse of a singular matrix raises here)."""
    X = inv(A)
    from ._factories import zeros
    return _inv_ex_t(X, zeros(tuple(A.shape[:-2]), dtype=_C.int32, device=A.device))


class _Slogdet(Function):
    @staticmethod
    def forward(ctx, A):
        sign, logabs = np.linalg.slogdet(_np(A))
        ctx.save_for_backward(A)
        S, L = _tensor(sign, A), _tensor(logabs, A)
        ctx.mark_non_differentiable(S)
        return S, L

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        (A,) = ctx.saved_tensors
        return g_logabs.unsqueeze(-1).unsqueeze(-1) * _mT(inv(A))


def slogdet(A, *, out=None):
    """(sign, log|det|) of each square matrix (sign 0 and log|det| -inf for a singular one)."""
    _check_matrix(A, "slogdet")
    sign, logabs = _Slogdet.apply(A)
    return _slogdet_t(sign.detach(), logabs)


class _Det(Function):
    @staticmethod
    def forward(ctx, A):
        d = np.linalg.det(_np(A))
        ctx.save_for_backward(A)
        return _tensor(d, A)

    @staticmethod
    def backward(ctx, g):
        (A,) = ctx.saved_tensors
        d = _Det.apply(A) if _recompute() else _tensor(np.linalg.det(_np(A)), A)
        return (g * d).unsqueeze(-1).unsqueeze(-1) * _mT(inv(A))


def det(A, *, out=None):
    """The determinant of each square matrix (its gradient needs A invertible)."""
    _check_matrix(A, "det")
    return _Det.apply(A)


def logdet(A):
    """log det A: NaN where det < 0, -inf where it is 0."""
    s, la = slogdet(A)
    return _C.where(s.lt(0), math.nan, la)


# ---- solves ----

def _result_dtype(A, B):
    return _C.float64 if _C.float64 in (A.dtype, B.dtype) else A.dtype


def _solve_matrix(A, B):
    """A^-1 B for matrices, the batch dimensions broadcast (expand: the gradients sum back)."""
    batch = _C.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    A = A.expand(tuple(batch) + tuple(A.shape[-2:]))
    B = B.expand(tuple(batch) + tuple(B.shape[-2:]))
    dt = _result_dtype(A, B)
    return _SolveB.apply(A.to(dt), B.to(dt))


class _SolveB(Function):
    """X = A^-1 B for A [..., n, n], B [..., n, k] with equal batch shapes and dtypes."""

    @staticmethod
    def forward(ctx, A, B):
        x = _lapack(np.linalg.solve, "linalg.solve: The solver failed because the input matrix is singular.",
                    _np(A), _np(B))
        X = _tensor(x, A)
        ctx.save_for_backward(A, B, X)
        return X

    @staticmethod
    def backward(ctx, g):
        A, B, X = ctx.saved_tensors
        gB = _SolveB.apply(_mT(A), g)
        if _recompute():
            X = _SolveB.apply(A, B)
        return -(gB.matmul(_mT(X))), gB


def _is_vector_rhs(A, B):
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (left) or X A = B; B a matrix or batch of them, or a vector (batch) as PyTorch."""
    _check_matrix(A, "solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' must be Tensor, not {type(B).__name__}")
    vec = _is_vector_rhs(A, B)
    if vec:
        if B.shape[-1] != A.shape[-1]:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                               f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-1]}x1)")
        Bm = B.unsqueeze(-1)
    else:
        Bm = B
        if B.dim() < 2:
            raise RuntimeError("linalg.solve: B must have at least 1 dimension")
        n_b = B.shape[-2] if left else B.shape[-1]
        if n_b != A.shape[-1]:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                               f"{B.shape[-2]}x{B.shape[-1]})")
    if not B.is_floating_point():
        raise RuntimeError(f"linalg.solve: Expected B to be a floating point tensor, got {B.dtype}")
    if left or vec:
        X = _solve_matrix(A, Bm)
    else:
        X = _mT(_solve_matrix(_mT(A), _mT(Bm)))
    return X.squeeze(-1) if vec else X


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    X = solve(A, B, left=left)
    from ._factories import zeros
    return _solve_ex_t(X, zeros(tuple(A.shape[:-2]), dtype=_C.int32, device=A.device))


def _triangle(A, upper, unitriangular):
    T = A.triu() if upper else A.tril()
    if unitriangular:
        n = A.shape[-1]
        eye = _eye_like(n, A)
        T = T * (1 - eye) + eye
    return T


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (left) or X A = B, reading only A's upper or lower triangle (with ones on its diagonal
    when unitriangular); gradients reach that triangle only."""
    _check_matrix(A, "solve_triangular")
    if not isinstance(B, Tensor) or B.dim() < 2:
        raise RuntimeError("linalg.solve_triangular: B must be a matrix or a batch of matrices")
    T = _triangle(A, upper, unitriangular)
    return solve(T, B, left=left)


# ---- Cholesky ----

class _Cholesky(Function):
    @staticmethod
    def forward(ctx, A):
        L = _lapack(np.linalg.cholesky, "linalg.cholesky: The factorization could not be completed because the "
                    "input is not positive-definite.", _np(A))
        Lt = _tensor(L, A)
        ctx.save_for_backward(A, Lt)
        return Lt

    @staticmethod
    def backward(ctx, gL):
        A, L = ctx.saved_tensors
        if _recompute():
            L = _Cholesky.apply(A)
        gA = _mT(L).matmul(gL).tril()
        gA = (gA + _mT(gA.tril(-1))) * 0.5
        gA = solve_triangular(_mT(L), gA, upper=True)
        return solve_triangular(L, gA, upper=False, left=False)


def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L (lower, A = L Lᵀ) of each symmetric positive-definite matrix (Uᵀ with upper)."""
    _check_matrix(A, "cholesky")
    L = _Cholesky.apply(A)
    return _mT(L) if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    L = cholesky(A, upper=upper)
    from ._factories import zeros
    return _cholesky_ex_t(L, zeros(tuple(A.shape[:-2]), dtype=_C.int32, device=A.device))


# ---- QR ----

def _copyltu(M):
    return M.tril() + _mT(M.tril(-1))


class _QR(Function):
    @staticmethod
    def forward(ctx, A, mode):
        q, r = np.linalg.qr(_np(A), mode="complete" if mode == "complete" else "reduced")
        ctx.mode = mode
        Q, R = _tensor(q, A), _tensor(r, A)
        ctx.save_for_backward(A, Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = A.shape[-2], A.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if _recompute():
            Q, R = _QR.apply(A, ctx.mode)
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R), None
        # wide: A = [X | Y], R = [U | V] with X = Q U square
        U, V = R.narrow(-1, 0, m), R.narrow(-1, m, n - m)
        gU, gV = gR.narrow(-1, 0, m), gR.narrow(-1, m, n - m)
        Y = A.narrow(-1, m, n - m)
        gX = _qr_backward_tall(gQ + Y.matmul(_mT(gV)), gU, Q, U)
        gY = Q.matmul(gV)
        return _C.cat([gX, gY], -1), None


def _qr_backward_tall(gQ, gR, Q, R):
    M = R.matmul(_mT(gR)) - _mT(gQ).matmul(Q)
    B = gQ + Q.matmul(_copyltu(M))
    return _mT(solve_triangular(R, _mT(B), upper=True))  # B R^-T


def qr(A, mode="reduced", *, out=None):
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular: 'reduced' (k = min(m, n)
    columns), 'complete' (Q square) or 'r' (R only; Q empty)."""
    _check_matrix(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    Q, R = _QR.apply(A, "complete" if mode == "complete" else "reduced")
    if mode == "r":
        from ._factories import empty
        return _qr_t(empty(0, dtype=A.dtype, device=A.device), R)
    return _qr_t(Q, R)


# ---- symmetric eigendecomposition ----

class _Eigh(Function):
    @staticmethod
    def forward(ctx, A, uplo):
        w, v = np.linalg.eigh(_np(A), UPLO=uplo)
        ctx.uplo = uplo
        L, V = _tensor(w, A), _tensor(v, A)
        ctx.save_for_backward(A, L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        A, L, V = ctx.saved_tensors
        if _recompute():
            L, V = _Eigh.apply(A, ctx.uplo)
        Vt = _mT(V)
        n = L.shape[-1]
        eye = _eye_like(n, L)
        E = L.unsqueeze(-2) - L.unsqueeze(-1)  # E_ij = L_j - L_i
        E = E * (1 - eye) + eye
        inner = Vt.matmul(gV) / E * (1 - eye) + gL.unsqueeze(-1) * eye
        gA = V.matmul(inner).matmul(Vt)
        return (gA + _mT(gA)) * 0.5, None  # symmetric, as PyTorch's


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix, read from its lower
    (UPLO='L') or upper triangle."""
    _check_matrix(A, "eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L, V = _Eigh.apply(A, UPLO)
    return _eigh_t(L, V)


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues (ascending) of each symmetric matrix."""
    return eigh(A, UPLO).eigenvalues


# ---- SVD ----

class _SVD(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        u, s, vh = _np_svd(_np(A), full_matrices)
        ctx.full = full_matrices
        U, S, Vh = _tensor(u, A), _tensor(s, A), _tensor(vh, A)
        ctx.save_for_backward(A, U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        A, U, S, Vh = ctx.saved_tensors
        m, n = A.shape[-2], A.shape[-1]
        k = min(m, n)
        if ctx.full and m != n:
            raise RuntimeError("linalg.svd: The derivative of U or Vh is not implemented when full_matrices=True "
                               "and the matrix is not square: use full_matrices=False")
        if _recompute():
            U, S, Vh = _SVD.apply(A, ctx.full)
        return _svd_backward(gU, gS, gVh, U, S, Vh, m, n, k), None


def _svd_backward(gU, gS, gVh, U, S, Vh, m, n, k):
    V = _mT(Vh)
    gV = _mT(gVh)
    eye = _eye_like(k, S)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)  # S_j^2 - S_i^2
    E = E * (1 - eye) + eye

    def skew(X):
        return X - _mT(X)

    UhgU = _mT(U).matmul(gU)
    VhgV = Vh.matmul(gV)
    inner = (skew(UhgU) / E * S.unsqueeze(-2) + S.unsqueeze(-1) * (skew(VhgV) / E)) * (1 - eye)
    inner = inner + gS.unsqueeze(-1) * eye
    gA = U.matmul(inner).matmul(Vh)
    Sinv = S.reciprocal()
    if m > k:
        proj = gU - U.matmul(UhgU)
        gA = gA + (proj * Sinv.unsqueeze(-2)).matmul(Vh)
    if n > k:
        proj = gV - V.matmul(VhgV)
        gA = gA + U.matmul(_mT(proj) * Sinv.unsqueeze(-1))
    return gA


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. Gradients need full_matrices=False (or square A)
    and distinct singular values."""
    _check_matrix(A, "svd", square=False)
    U, S, Vh = _SVD.apply(A, bool(full_matrices))
    return _svd_t(U, S, Vh)


class _SVDvals(Function):
    @staticmethod
    def forward(ctx, A):
        u, s, vh = _np_svd(_np(A), False)
        U, S, Vh = _tensor(u, A), _tensor(s, A), _tensor(vh, A)
        ctx.save_for_backward(A, U, Vh)
        return S

    @staticmethod
    def backward(ctx, gS):
        A, U, Vh = ctx.saved_tensors
        if _recompute():
            U, _, Vh = svd(A, full_matrices=False)
        return (U * gS.unsqueeze(-2)).matmul(Vh)


def svdvals(A, *, driver=None, out=None):
    """The singular values of each matrix, descending."""
    _check_matrix(A, "svdvals", square=False)
    return _SVDvals.apply(A)


# ---- built on the above ----

def _tolerance(S, A, atol, rtol):
    smax = S.amax(-1, True) if S.shape[-1] else S.sum(-1, keepdim=True)
    if atol is None and rtol is None:
        rtol = np.finfo(np.float32 if A.dtype == _C.float32 else np.float64).eps * max(A.shape[-2], A.shape[-1])
    tol = smax * (rtol or 0.0)
    if atol is not None:
        tol = tol.clamp_min(float(atol)) if not isinstance(atol, Tensor) else _C.maximum(tol, atol.unsqueeze(-1))
    return tol


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse: singular values at or below max(atol, rtol * largest) count as 0."""
    _check_matrix(A, "pinv", square=False)
    U, S, Vh = svd(A, full_matrices=False)
    keep = S.gt(_tolerance(S.detach(), A, atol, rtol))
    Sinv = _C.where(keep, _C.where(keep, S, 1.0).reciprocal(), 0.0)
    return _mT(Vh).matmul(Sinv.unsqueeze(-1) * _mT(U))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B (pinv(A) B), with the residuals (for m > n and full rank:
    the squared column norms of A X - B), the rank, and singular_values (for the gelsd / gelss drivers)."""
    _check_matrix(A, "lstsq", square=False)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.lstsq(): argument 'B' must be Tensor, not {type(B).__name__}")
    vec = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vec else B
    if Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got {A.shape[-2]} "
                           f"and {Bm.shape[-2]}")
    m, n = A.shape[-2], A.shape[-1]
    S = svdvals(A.detach())
    tol = _tolerance(S, A, None, rcond)
    rank = S.gt(tol).sum(-1)
    X = pinv(A, rtol=rcond).matmul(Bm)
    from ._factories import empty
    residuals = empty(0, dtype=A.dtype, device=A.device)
    if m > n and bool(rank.eq(n).all()):
        residuals = (A.matmul(X) - Bm).pow(2).sum(-2)
        if vec:
            residuals = residuals.squeeze(-1)
    sv = S if driver in ("gelsd", "gelss") else empty(0, dtype=A.dtype, device=A.device)
    return _lstsq_t(X.squeeze(-1) if vec else X, residuals, rank, sv)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values above max(atol, rtol * largest) (rtol defaults to eps * max(m, n))."""
    _check_matrix(A, "matrix_rank", square=False)
    S = svdvals(A.detach())
    return S.gt(_tolerance(S, A, atol, rtol)).sum(-1)


def cond(A, p=None, *, out=None):
    """The condition number ||A|| ||A^-1|| in the norm p (None or 2: the ratio of the extreme singular
    values; -2 its inverse; 'fro', 'nuc', 1, -1, inf, -inf through the inverse)."""
    _check_matrix(A, "cond", square=p in ("fro", "nuc", 1, -1, math.inf, -math.inf))
    if p in (None, 2, -2):
        S = svdvals(A)
        big, small = S.narrow(-1, 0, 1).squeeze(-1), S.narrow(-1, S.shape[-1] - 1, 1).squeeze(-1)
        return big / small if p != -2 else small / big
    from .linalg import matrix_norm
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def matrix_exp(A):
    """exp(A) by scaling and squaring a degree-18 Taylor polynomial (composed: gradients through it)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_exp(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, got shape {list(A.shape)}")
    if not A.is_floating_point():
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point tensor as input. Got {A.dtype}")
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    norm = float(A.detach().abs().sum(-2).amax()) if A.numel() else 0.0
    s = max(0, int(math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0)
    if not math.isfinite(norm):
        s = 0
    X = A / (2.0 ** s)
    eye = _eye_like(n, A).expand(A.shape)
    term, result = eye, eye
    for k in range(1, 19):
        term = term.matmul(X) / k
        result = result + term
    for _ in range(s):
        result = result.matmul(result)
    return result


# ---- PyTorch's top-level (torch.*) forms ----

def inverse(A):
    return inv(A)


def pinverse(A, rcond=1e-15):
    return pinv(A, rtol=rcond)


def cholesky_top(A, upper=False):
    return cholesky(A, upper=upper)


def cholesky_solve(B, L, upper=False):
    """X with A X = B for A = L Lᵀ (or Uᵀ U with upper) given its Cholesky factor."""
    _check_matrix(L, "cholesky_solve", arg="L")
    _check_matrix(B, "cholesky_solve", square=False, arg="B")
    if upper:
        Y = solve_triangular(_mT(L), B, upper=False)
        return solve_triangular(L, Y, upper=True)
    Y = solve_triangular(L, B, upper=False)
    return solve_triangular(_mT(L), Y, upper=True)


def cholesky_inverse(L, upper=False):
    """The inverse of A = L Lᵀ (Uᵀ U with upper) from its Cholesky factor."""
    _check_matrix(L, "cholesky_inverse", arg="L")
    n = L.shape[-1]
    return cholesky_solve(_eye_like(n, L).expand(L.shape), L, upper)


def qr_top(A, some=True):
    return qr(A, "reduced" if some else "complete")


_svd_top_t = collections.namedtuple("svd", ["U", "S", "V"])


def svd_top(A, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with A = U diag(S) Vᵀ (V, not Vh); compute_uv=False gives zero U and V."""
    if not compute_uv:
        S = svdvals(A)
        m, n = A.shape[-2], A.shape[-1]
        from ._factories import zeros
        U = zeros(tuple(A.shape[:-2]) + (m, m if not some else min(m, n)), dtype=A.dtype, device=A.device)
        V = zeros(tuple(A.shape[:-2]) + (n, n if not some else min(m, n)), dtype=A.dtype, device=A.device)
        return _svd_top_t(U, S, V)
    U, S, Vh = svd(A, full_matrices=not some)
    return _svd_top_t(U, S, _mT(Vh))


_triangular_solve_t = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve (deprecated there): (X, A.clone()) with op(A) X = b, op = transpose or not."""
    _check_matrix(A, "triangular_solve")
    _check_matrix(b, "triangular_solve", square=False, arg="b")
    T = _mT(A) if transpose else A
    X = solve_triangular(T, b, upper=upper != transpose, unitriangular=unitriangular)
    return _triangular_solve_t(X, A.clone())


def matrix_power_top(A, n):
    from .linalg import matrix_power
    return matrix_power(A, n)


TOP = {"det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse, "pinverse": pinverse,
       "cholesky": cholesky_top, "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
       "qr": qr_top, "svd": svd_top, "matrix_exp": matrix_exp, "matrix_power": matrix_power_top,
       "triangular_solve": triangular_solve}


def install(namespace, table=None):
    """loom.<name> for each function of table (this module's TOP by default), and Tensor.<name> where the
    Tensor has no such method yet."""
    for name, f in (TOP if table is None else table).items():
        namespace[name] = f
        if not hasattr(Tensor, name):
            setattr(Tensor, name, f)
