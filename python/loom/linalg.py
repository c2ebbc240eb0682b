"""loom.linalg: PyTorch's torch.linalg.

Norms (vector_norm, matrix_norm, norm), products (multi_dot, vecdot, matmul, cross, matrix_power),
diagonal and matrix_exp compose from loom's ops. The factorizations and solvers (det, slogdet, inv, solve,
solve_triangular, cholesky, qr, eigh, eigvalsh, svd, svdvals, pinv, lstsq, matrix_rank, cond, and lu_factor
with lu, lu_solve, tensorinv, tensorsolve, householder_product: _linalg_lu.py) run LAPACK
through NumPy on the host, batched over leading dimensions (a CUDA tensor makes a round trip to the host:
a synchronization), and have their gradients written in loom's ops (see _linalg_ops.py), so they
differentiate on any device, twice too. Failures raise LinAlgError (a RuntimeError), as PyTorch's.
"""
import math

from . import _C
from ._C import Tensor
from ._linalg_ops import (LinAlgError, det, slogdet, inv, inv_ex, solve, solve_ex, solve_triangular, cholesky,  # noqa: F401
                          cholesky_ex, qr, eigh, eigvalsh, svd, svdvals, pinv, lstsq, matrix_rank, cond,
                          matrix_exp)
from ._linalg_lu import (lu_factor, lu_factor_ex, lu, lu_solve, tensorinv, tensorsolve,  # noqa: F401
                         householder_product)

__all__ = ["vector_norm", "matrix_norm", "norm", "multi_dot", "vecdot", "matmul", "cross", "matrix_power",
           "diagonal", "LinAlgError", "det", "slogdet", "inv", "inv_ex", "solve", "solve_ex", "solve_triangular",
           "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "lstsq", "matrix_rank",
           "cond", "matrix_exp", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "tensorinv", "tensorsolve",
           "householder_product", "vander"]


def _check(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _wrap(dims, ndim, name):
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"linalg.{name}: Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        out.append(d % max(ndim, 1))
    if len(set(out)) != len(out):
        raise RuntimeError(f"linalg.{name}: dims must be different, got {list(dims)}")
    return out


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x's elements over dim (all of them when None): sum(|x|^ord)^(1/ord); inf: max |x|,
    -inf: min |x|, 0: the number of non-zero elements."""
    _check(x, "vector_norm", "x")
    if out is not None:
        raise NotImplementedError("linalg.vector_norm(): out= is not supported; use the returned tensor instead")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got '{ord}'")
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point tensor as input. Got {x.dtype}")
    ndim = x.dim()
    if dim is None:
        dims = list(range(ndim))
    else:
        dims = _wrap([dim] if isinstance(dim, int) else list(dim), ndim, "vector_norm")
    if x.numel() == 0 and ord < 0 or (x.numel() == 0 and ord == math.inf):
        if any(x.shape[d] == 0 for d in (dims or range(ndim))):
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                               "operation does not have an identity")
    if not dims:  # a 0-d tensor, or dim=() over a tensor: |x| elementwise for ord != 0
        return x.ne(0).to(x.dtype) if ord == 0 else x.abs()
    if ord == -math.inf:
        return x.abs().amin(dims, keepdim)
    if ord == math.inf:
        return x.abs().amax(dims, keepdim)
    if ord == 0:
        return x.ne(0).to(x.dtype).sum(dims, keepdim=keepdim)
    if ord < 0:
        return x.abs().pow(ord).sum(dims, keepdim=keepdim).pow(1.0 / ord)
    return x.norm(ord, dims, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The matrix norm of A over the two dims: 'fro'; 'nuc' (the sum of the singular values), 2 / -2 (the
    largest / smallest one); or the maximum (ord 1, inf) or minimum (-1, -inf) absolute column (1) or row
    (inf) sum."""
    _check(A, "matrix_norm", "A")
    if out is not None:
        raise NotImplementedError("linalg.matrix_norm(): out= is not supported; use the returned tensor instead")
    if A.dim() < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got "
                           f"{A.dim()}")
    if dtype is not None:
        A = A.to(dtype)
    if not A.is_floating_point():
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point tensor as input. Got {A.dtype}")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = _wrap(list(dim), A.dim(), "matrix_norm")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        keep = [d for d in range(A.dim()) if d not in (d0, d1)]
        sv = svdvals(A.permute(keep + [d0, d1]))
        r = sv.sum(-1) if ord == "nuc" else sv.amax(-1) if ord == 2 else sv.amin(-1)
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return r
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # ord 1: the column sums (over d0), then the extreme over d1; inf: the row sums, over d0
    sum_dim, ext_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
    s = A.abs().sum(sum_dim, keepdim=True)
    r = s.amax(ext_dim, True) if ord > 0 else s.amin(ext_dim, True)
    return r if keepdim else r.squeeze([d0, d1]) if hasattr(r, "squeeze") else r


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """vector_norm or matrix_norm: ord=None with dim=None is the 2-norm of the flattened A; otherwise an int
    dim (or a 1-D A) gives a vector norm and a 2-tuple dim (or a 2-D A) a matrix norm."""
    _check(A, "norm", "A")
    if dim is not None and not isinstance(dim, int) and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        if dim is not None and not isinstance(dim, int) and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype, out=out)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype, out=out)
    if dim is None:
        if A.dim() not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.dim()}D.")
        dim = (-2, -1) if A.dim() == 2 else -1
    if isinstance(dim, int) or len(dim) == 1:
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.vector_norm: ord must be a number, got '{ord}'")
        return vector_norm(A, ord, dim, keepdim, dtype=dtype, out=out)
    return matrix_norm(A, ord, dim, keepdim, dtype=dtype, out=out)


def multi_dot(tensors, *, out=None):
    """The product of two or more matrices (the first may be a vector, and the last), in the order that
    needs the fewest multiplications."""
    if out is not None:
        raise NotImplementedError("linalg.multi_dot(): out= is not supported; use the returned tensor instead")
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        _check(t, "multi_dot", "tensors")
        lim = 2 if i in (0, len(tensors) - 1) else 2
        if t.dim() > lim or (t.dim() == 1 and 0 < i < len(tensors) - 1) or t.dim() == 0:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D{' or 1D' if i in (0, len(tensors) - 1) else ''}"
                               f" but got {t.dim()}D")
    first_vec, last_vec = tensors[0].dim() == 1, tensors[-1].dim() == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(1)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    n = len(mats)
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return product(i, k).mm(product(k + 1, j))

    r = product(0, n - 1)
    if first_vec:
        r = r.squeeze(0)
    if last_vec:
        r = r.squeeze(-1)
    return r


def vecdot(x, y, *, dim=-1):
    """The dot product of x and y (broadcast) along dim."""
    _check(x, "vecdot", "x")
    _check(y, "vecdot", "y")
    return (x * y).sum(dim)


def matmul(input, other):
    return _C.matmul(input, other)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along dim (default the last), input and other broadcast."""
    from ._composite_math import cross as _cross
    return _cross(input, other, dim)


def matrix_power(A, n):
    """A @ A @ ... (n times) by repeated squaring; n = 0 gives the identity, n < 0 powers of inv(A)."""
    _check(A, "matrix_power", "A")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() >= 2 else ''} by {A.shape[-1] if A.dim() else ''} matrices")
    if n < 0:
        A, n = inv(A), -n
    if n == 0:
        from ._factories import eye
        return eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(A.shape).clone()
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result.matmul(base)
        n >>= 1
        if n:
            base = base.matmul(base)
    return result


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def vander(x, N=None):
    """The Vandermonde matrices of x [..., n]: [..., n, N] with columns x**0, x**1, ..., x**(N-1)."""
    _check(x, "vander", "x")
    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    dt = x.dtype if x.is_floating_point() else _C.int64
    xc = x.to(dt)
    from ._factories import ones_like
    cols = [ones_like(xc)]
    for _ in range(1, n):
        cols.append(cols[-1] * xc)
    return _C.stack(cols, -1)

