"""Tensor methods and loom functions of PyTorch's API composed from loom's ops, with PyTorch's names,
argument orders and shapes: shape helpers (expand_as, view_as, reshape_as, broadcast_to, movedim, tile,
roll, diff), matrices (tril_, triu_, diagonal, diag, trace, outer, dot, mv, addmm, baddbmm), pointwise
helpers (logit, deg2rad, rad2deg, heaviside), reductions (count_nonzero, aminmax,
var_mean, std_mean, dist), order statistics over sort (msort, kthvalue, median, unique, unique_consecutive,
searchsorted, bucketize, cumsum_, cumprod_), scatter (assignment),
and the stacking functions (hstack, vstack, dstack, column_stack, atleast_1d/2d/3d,
meshgrid). Gradients come from the ops they are made of."""
import collections
import math

from . import _C
from ._C import Tensor
from ._inplace import apply_ as _apply_
from ._factories import arange as _arange, ones as _ones, tensor as _tensor, zeros as _zeros

_aminmax = collections.namedtuple("aminmax", ["min", "max"])
_kthvalue = collections.namedtuple("kthvalue", ["values", "indices"])
_median = collections.namedtuple("median", ["values", "indices"])


def _check_tensor(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _dims(dims, ndim, name):
    if isinstance(dims, int):
        dims = (dims,)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{name}(): Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        out.append(d % max(ndim, 1))
    return out


# ---- shapes ----

def expand_as(self, other):
    _check_tensor(other, "expand_as", "other")
    return self.expand(other.shape)


def view_as(self, other):
    _check_tensor(other, "view_as", "other")
    return self.view(other.shape)


def reshape_as(self, other):
    _check_tensor(other, "reshape_as", "other")
    return self.reshape(other.shape)


def broadcast_to(self, size):
    return self.expand(size)


def movedim(self, source, destination):
    """The dims source moved to the positions destination, the others kept in order."""
    src = _dims(source, self.dim(), "movedim")
    dst = _dims(destination, self.dim(), "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    order = [None] * self.dim()
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(self.dim()) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return self.permute(order)


def tile(self, dims):
    dims = tuple(dims)
    if len(dims) < self.dim():
        dims = (1,) * (self.dim() - len(dims)) + dims
    return self.repeat(*dims)


def roll(self, shifts, dims=None):
    """Elements shifted by shifts along dims (the flattened tensor when dims is None), wrapping around."""
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise RuntimeError("roll: with dims=None, shifts must be a single int")
        return roll(self.flatten(), shifts if isinstance(shifts, int) else shifts[0], 0).view(self.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = _dims(dims, self.dim(), "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    if self.requires_grad and _C.is_grad_enabled():
        return _roll_function().apply(self, shifts, dims)
    return _roll_values(self, shifts, dims)


def _roll_values(x, shifts, dims):
    """The rolled tensor: per dim one cat of its two pieces."""
    out = x
    for s, d in zip(shifts, dims):
        n = out.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            out = _C.cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    return out


_ROLL = []


def _roll_function():
    """The autograd Function of roll (made on first use: loom.autograd loads after this module): the
    gradient is the gradient rolled back, one pass (as PyTorch's RollBackward0), where the composition's
    pieces would each fill and pad a gradient of the whole tensor."""
    if not _ROLL:
        from .autograd.function import Function

        class Roll(Function):
            @staticmethod
            def forward(ctx, x, shifts, dims):
                ctx.shifts, ctx.dims = shifts, dims
                return _roll_values(x, shifts, dims)

            @staticmethod
            def backward(ctx, g):
                return roll(g, tuple(-s for s in ctx.shifts), ctx.dims), None, None

        _ROLL.append(Roll)
    return _ROLL[0]


def diff(self, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (prepend / append joined first)."""
    d = _dims(dim, self.dim(), "diff")[0]
    parts = [t for t in (prepend, self, append) if t is not None]
    x = _C.cat(parts, d) if len(parts) > 1 else self
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        x = x.narrow(d, 1, m - 1) - x.narrow(d, 0, m - 1) if x.dtype != _C.bool else \
            x.narrow(d, 1, m - 1) ^ x.narrow(d, 0, m - 1)
    return x


# ---- matrices ----

def tril_(self, diagonal=0):
    return _apply_(self, "tril_", lambda s: s.tril(diagonal))


def triu_(self, diagonal=0):
    return _apply_(self, "triu_", lambda s: s.triu(diagonal))


def diagonal(self, offset=0, dim1=0, dim2=1):
    """A view of the offset-th diagonal of dims dim1, dim2, as the last dim."""
    if self.dim() < 2:
        raise RuntimeError(f"diagonal(): expected a tensor with at least 2 dims, got {self.dim()}")
    d1, d2 = _dims((dim1, dim2), self.dim(), "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n1, n2 = self.shape[d1], self.shape[d2]
    st = self.stride()
    length = max(0, min(n1 - max(0, -offset), n2 - max(0, offset)))
    start = self.storage_offset() + (offset * st[d2] if offset >= 0 else -offset * st[d1]) if length else \
        self.storage_offset()
    keep = [d for d in range(self.dim()) if d not in (d1, d2)]
    size = [self.shape[d] for d in keep] + [length]
    stride = [st[d] for d in keep] + [st[d1] + st[d2]]
    return self.as_strided(size, stride, start)


def trace(self):
    """The sum of the main diagonal of a matrix."""
    if self.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.dim()}")
    return diagonal(self).sum()


def diag(self, diagonal=0):
    """A 1-d input as the diagonal-th diagonal of a square matrix; a matrix's diagonal-th diagonal (a copy)."""
    if self.dim() == 2:
        return globals()["diagonal"](self, diagonal).clone()
    if self.dim() != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.dim()}D")
    k, n = abs(diagonal), self.shape[0] + abs(diagonal)
    out = _zeros((n, n), dtype=self.dtype, device=self.device)  # first: a size too large raises here
    pad = _zeros(k, dtype=self.dtype, device=self.device)
    row = _C.cat([pad, self] if diagonal >= 0 else [self, pad])  # row[j]: the value of column j
    rows = _arange(n, device=self.device).unsqueeze(1)
    cols = _arange(n, device=self.device).unsqueeze(0)
    return _C.where(cols - rows == diagonal, row, out)


def outer(self, vec2):
    _check_tensor(vec2, "outer", "vec2")
    if self.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got {self.dim()}-D and {vec2.dim()}-D")
    return self.unsqueeze(1) * vec2.unsqueeze(0)


def dot(self, other):
    _check_tensor(other, "dot", "tensor")
    if self.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {self.dim()}D and {other.dim()}D tensors")
    if self.shape[0] != other.shape[0]:
        raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the same number "
                           "of elements, but got %d and %d elements respectively"
                           % (self.shape[0], other.shape[0], self.shape[0], other.shape[0]))
    if self.dtype != other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {self.dtype} and "
                           f"{other.dtype}")
    return (self * other).sum()


def mv(self, vec):
    _check_tensor(vec, "mv", "vec")
    if self.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {self.dim()}, {vec.dim()}")
    return self.matmul(vec)


def addmm(self, mat1, mat2, *, beta=1, alpha=1):
    """beta * self + alpha * (mat1 @ mat2)."""
    _check_tensor(mat1, "addmm", "mat1")
    _check_tensor(mat2, "addmm", "mat2")
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"addmm: mat1 and mat2 must be matrices, got {mat1.dim()}-D and {mat2.dim()}-D")
    prod = mat1.mm(mat2)
    prod = prod if alpha == 1 else prod * alpha
    return prod if beta == 0 else (self + prod if beta == 1 else self * beta + prod)


def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """beta * self + alpha * (batch1 @ batch2), batched."""
    _check_tensor(batch1, "baddbmm", "batch1")
    _check_tensor(batch2, "baddbmm", "batch2")
    prod = batch1.bmm(batch2)
    prod = prod if alpha == 1 else prod * alpha
    return prod if beta == 0 else (self + prod if beta == 1 else self * beta + prod)


# ---- pointwise helpers ----

_LOGIT_KERNEL = Tensor.logit  # the registry's binding (no eps), replaced as the method by logit below


def logit(self, eps=None):
    p = self if eps is None else self.clamp(eps, 1 - eps)
    return _LOGIT_KERNEL(p)


logit.__doc__ = (_LOGIT_KERNEL.__doc__ or "") + "\n\nWith eps, input is clamped to [eps, 1 - eps] first."


def deg2rad(self):
    return self * (math.pi / 180.0)


def rad2deg(self):
    return self * (180.0 / math.pi)


def heaviside(self, values):
    """0 where self < 0, values where self == 0, 1 where self > 0."""
    _check_tensor(values, "heaviside", "values")
    if self.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    return _C.where(self == 0, values, (self > 0).to(self.dtype))


# ---- reductions ----

def count_nonzero(self, dim=None):
    return (self != 0).sum() if dim is None else (self != 0).sum(dim)


def aminmax(self, *, dim=None, keepdim=False):
    if dim is None:
        return _aminmax(self.amin(), self.amax()) if not keepdim else \
            _aminmax(self.amin(list(range(self.dim())), True), self.amax(list(range(self.dim())), True))
    return _aminmax(self.amin(dim, keepdim), self.amax(dim, keepdim))


def var_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim."""
    v = self.var(dim, unbiased, keepdim, correction=correction)
    m = self.mean() if dim is None and not keepdim else self.mean(list(range(self.dim())) if dim is None else dim,
                                                                  keepdim)
    return v, m


def std_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim."""
    v, m = var_mean(self, dim, unbiased, keepdim, correction=correction)
    return v.sqrt(), m


def dist(self, other, p=2):
    """The p-norm of self - other."""
    _check_tensor(other, "dist", "other")
    return (self - other).norm(p)


# ---- order statistics (over sort) ----

def msort(self):
    """The sort of input along dim 0 (values only)."""
    return self.sort(0).values


def kthvalue(self, k, dim=-1, keepdim=False):
    """The k-th smallest value along dim (k from 1) and its index: (values, indices)."""
    d = _dims(dim, self.dim(), "kthvalue")[0]
    n = self.shape[d] if self.dim() else 1
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k = {k} out of range for dimension {dim} of size {n}")
    v, i = self.sort(d)
    if self.dim() == 0:
        return _kthvalue(v, i)
    v, i = v.narrow(d, k - 1, 1), i.narrow(d, k - 1, 1)
    return _kthvalue(v, i) if keepdim else _kthvalue(v.squeeze(d), i.squeeze(d))


def median(self, dim=None, keepdim=False):
    """The lower median (the ((n - 1) // 2)-th smallest) over all values, or along dim with its index;
    NaN when the values contain a NaN (the index of the first one)."""
    if dim is None:
        if self.numel() == 0:
            raise IndexError("median(): Expected reduction dim to be specified for input.numel() == 0")
        return median(self.reshape(-1), 0).values
    d = _dims(dim, self.dim(), "median")[0]
    if self.dim() == 0:
        return _median(*self.sort(0))
    n = self.shape[d]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size")
    v, i = self.sort(d)
    pos = (n - 1) // 2
    if self.is_floating_point():
        # NaN sorts last: a line with one gives its first NaN, at the count of its numbers.
        numbers = (~self.isnan()).sum(d, keepdim=True)
        at = numbers.clamp_max(pos).where(numbers == n, numbers)
        mv, mi = v.gather(d, at), i.gather(d, at)
    else:
        mv, mi = v.narrow(d, pos, 1), i.narrow(d, pos, 1)
    return _median(mv, mi) if keepdim else _median(mv.squeeze(d), mi.squeeze(d))


def _search(sorted_sequence, values, right, name):
    _check_tensor(sorted_sequence, name, "sorted_sequence")
    if not isinstance(values, Tensor):
        if not isinstance(values, (bool, int, float)):
            raise TypeError(f"{name}(): argument 'input' must be Tensor or a number, not {type(values).__name__}")
        values = _tensor(values, device=sorted_sequence.device)  # a 0-d value of its own dtype, then promoted
    return _C._searchsorted(sorted_sequence, values, bool(right))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    """The insertion points of input's values in the innermost dim of sorted_sequence (left: the first
    position where the value fits, right: the last), by binary search (a NaN value goes after every
    boundary); ``sorter`` gives the indices that sort an unsorted sequence."""
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted(): side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if out is not None:
        raise NotImplementedError("searchsorted(): out= is not supported; use the returned tensor instead")
    if sorter is not None:
        _check_tensor(sorter, "searchsorted", "sorter")
        if sorter.shape != sorted_sequence.shape:
            raise RuntimeError(f"searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {list(sorted_sequence.shape)} and got sorter tensor {list(sorter.shape)}")
        if sorter.dtype != _C.int64:
            raise RuntimeError(f"searchsorted(): sorter must be a tensor of long dtype but got {sorter.dtype}")
        sorted_sequence = sorted_sequence.gather(-1, sorter)
    out = _search(sorted_sequence, input, right, "searchsorted")
    return out.to(_C.int32) if out_int32 else out


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of input for 1-D sorted boundaries (searchsorted with the arguments
    swapped)."""
    _check_tensor(boundaries, "bucketize", "boundaries")
    if boundaries.dim() != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    if out is not None:
        raise NotImplementedError("bucketize(): out= is not supported; use the returned tensor instead")
    out = _search(boundaries, input, right, "bucketize")
    return out.to(_C.int32) if out_int32 else out


def cumsum_(self, dim, *, dtype=None):
    return _apply_(self, "cumsum_", lambda s: s.cumsum(dim, dtype=dtype))


def cumprod_(self, dim, *, dtype=None):
    return _apply_(self, "cumprod_", lambda s: s.cumprod(dim, dtype=dtype))


def _run_starts(items, rows):
    """Boolean mask of the items (or rows) that start a run of equal ones; the first one always does."""
    n = items.shape[0]
    first = _tensor([n > 0], dtype=_C.bool, device=items.device)[: min(n, 1)]
    differs = items[1:] != items[:-1]
    if rows:
        differs = differs.reshape(max(n - 1, 0), -1).any(1)
    return _C.cat([first, differs])


def _runs(items, rows, return_inverse, return_counts, order, shape):
    """unique_consecutive's results on items (unique: sorted, `order` the sort's permutation) of an input
    of `shape`."""
    starts = _run_starts(items, rows)
    out = [items[starts]]
    if return_inverse:
        run_of = starts.to(_C.int64).cumsum(0) - 1
        if order is not None:
            run_of = _zeros(order.shape[0], dtype=_C.int64, device=items.device).scatter_add(0, order, run_of)
        out.append(run_of.reshape(shape))
    if return_counts:
        begin = starts.nonzero().reshape(-1)
        end = _C.cat([begin[1:], _tensor([items.shape[0]], dtype=_C.int64, device=items.device)])
        out.append(end - begin)
    return out[0] if len(out) == 1 else tuple(out)


def _unique_along(self, dim, sort, return_inverse, return_counts, name):
    if dim is None:
        flat = self.reshape(-1)
        order = None
        if sort:
            flat, order = flat.sort(stable=True)
        return _runs(flat, False, return_inverse, return_counts, order, self.shape)
    d = _dims(dim, self.dim(), name)[0]
    if self.dim() == 0:
        raise IndexError(f"{name}(): dim {dim} out of range for a 0-d tensor")
    rows = movedim(self, d, 0).reshape(self.shape[d], -1)
    order = None
    if sort:
        # Lexicographic order of the rows: stable sorts by each column, the last one first.
        order = _arange(rows.shape[0], device=self.device)
        for c in range(rows.shape[1] - 1, -1, -1):
            order = order[rows[order, c].argsort(stable=True)]
        rows = rows[order]
    res = _runs(rows, True, return_inverse, return_counts, order, (self.shape[d],))
    values = res[0] if isinstance(res, tuple) else res
    values = movedim(values.reshape((values.shape[0],) + tuple(movedim(self, d, 0).shape[1:])), 0, d)
    return (values,) + res[1:] if isinstance(res, tuple) else values


def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or slices along dim), in ascending order (also when sorted=False, as PyTorch
    on most inputs); with the index of each input item's value and the count of each value. Each NaN
    counts as distinct."""
    return _unique_along(self, dim, True, return_inverse, return_counts, "unique")


def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
    """The first of each run of equal consecutive values (or slices along dim), with inverse and counts."""
    return _unique_along(self, dim, False, return_inverse, return_counts, "unique_consecutive")


# ---- scatter (assignment) over advanced-index writes ----

def scatter(self, dim, index, src=None, value=None, *, reduce=None):
    """self with src's values (or `value`) written at index along dim: out[i][index[i][j]] = src[i][j] for
    dim 1, and so on. An element written twice keeps one of its writes (the last, as PyTorch leaves it
    unspecified). reduce='add' adds instead, reduce='multiply' multiplies (scatter_reduce's sum and prod)."""
    if src is not None and value is not None:
        raise TypeError("scatter() got both src and value")
    if src is None and value is None:
        raise TypeError("scatter() missing required argument: 'src' or 'value'")
    given = src if src is not None else value
    _check_tensor(index, "scatter", "index")
    if index.dtype != _C.int64:
        raise RuntimeError(f"scatter(): Expected dtype int64 for index, got {index.dtype}")
    d = _dims(dim, self.dim(), "scatter")[0]
    if isinstance(given, Tensor) and given.dim() == 0 and src is None:
        given = given.item()
    if not isinstance(given, Tensor):
        _C._check_fits(given, self.dtype, "scatter")  # NaN into an integer tensor: an error naming scatter
    if index.dim() != max(self.dim(), 0) and not (self.dim() == 0 and index.dim() <= 1):
        raise RuntimeError(f"scatter(): Index tensor must have the same number of dimensions as self tensor, got "
                           f"index {list(index.shape)} and self {list(self.shape)}")
    if isinstance(given, Tensor):
        if given.dim() != index.dim() or any(index.shape[k] > given.shape[k] for k in range(index.dim())):
            raise RuntimeError(f"scatter(): Expected index {list(index.shape)} to be smaller than src "
                               f"{list(given.shape)} apart from dimension {d}")
    for k in range(index.dim()):
        if k != d and index.shape[k] > self.shape[k]:
            raise RuntimeError(f"scatter(): Expected index {list(index.shape)} to be smaller than self "
                               f"{list(self.shape)} apart from dimension {d}")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
        part = given[tuple(slice(0, n) for n in index.shape)] if isinstance(given, Tensor) else \
            _zeros(*index.shape, dtype=self.dtype, device=self.device) + given
        return self.scatter_reduce(d, index, part.to(self.dtype), "sum" if reduce == "add" else "prod")
    if index.numel() == 0:
        return self.clone()
    n = self.shape[d] if self.dim() else 1
    if bool(((index < 0) | (index >= n)).any()):
        raise IndexError(f"scatter(): index out of bounds for dimension {d} with size {n}")
    if self.dim() == 0:
        out = self.clone()
        out[...] = given if not isinstance(given, Tensor) else given.reshape(())
        return out
    # The element numbers written, in self's row-major order: one row write (index_copy / index_fill) over
    # the flattened tensor, differentiable in self and src as PyTorch's scatter.
    lin = None
    stride = 1
    for k in range(index.dim() - 1, -1, -1):
        if k == d:
            c = index
        else:
            shape = [1] * index.dim()
            shape[k] = index.shape[k]
            c = _arange(index.shape[k], device=self.device).reshape(shape)
        term = c * stride if stride != 1 else c
        lin = term if lin is None else lin + term
        stride *= self.shape[k]
    lin = lin.expand(index.shape).reshape(-1)
    flat = self.reshape(-1)
    if isinstance(given, Tensor):
        part = given[tuple(slice(0, n) for n in index.shape)].to(self.dtype)
        return flat.index_copy(0, lin, part.reshape(-1)).view(self.shape)
    return flat.index_fill(0, lin, given).view(self.shape)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    return _apply_(self, "scatter_", lambda s: scatter(s, dim, index, src, value, reduce=reduce))


METHODS = [expand_as, view_as, reshape_as, broadcast_to, movedim, tile, roll, diff, tril_, triu_,
           diagonal, trace, diag, outer, dot, mv, addmm, baddbmm, logit, deg2rad, rad2deg,
           heaviside, count_nonzero, aminmax, var_mean, std_mean, dist, msort, kthvalue, median, cumsum_,
           cumprod_, unique, unique_consecutive, scatter, scatter_]
ALIASES = {"moveaxis": movedim, "ger": outer, "vdot": dot}


# ---- functions only ----

def atleast_1d(*tensors):
    out = [t.reshape(1) if t.dim() == 0 else t for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    def one(t):
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.reshape(1, t.shape[0], 1)
        if t.dim() == 2:
            return t.unsqueeze(2)
        return t
    out = [one(t) for t in _flat(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def _flat(tensors, name="atleast_nd"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    for t in tensors:
        _check_tensor(t, name, "tensors")
    return list(tensors)


def hstack(tensors):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError("hstack(): argument 'tensors' must be a sequence of Tensors, not " + type(tensors).__name__)
    ts = atleast_1d(*tensors)
    ts = [ts] if isinstance(ts, Tensor) else list(ts)
    return _C.cat(ts, 0 if ts[0].dim() == 1 else 1)


def vstack(tensors):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError("vstack(): argument 'tensors' must be a sequence of Tensors, not " + type(tensors).__name__)
    ts = atleast_2d(*tensors)
    return _C.cat([ts] if isinstance(ts, Tensor) else list(ts), 0)


def dstack(tensors):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError("dstack(): argument 'tensors' must be a sequence of Tensors, not " + type(tensors).__name__)
    ts = atleast_3d(*tensors)
    return _C.cat([ts] if isinstance(ts, Tensor) else list(ts), 2)


def column_stack(tensors):
    ts = [t.reshape(-1, 1) if t.dim() <= 1 else t for t in _flat((tensors,), "column_stack")]
    return _C.cat(ts, 1)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-d tensors: 'ij' (matrix) or 'xy' (Cartesian) indexing."""
    ts = _flat(tensors, "meshgrid")
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    for t in ts:
        if t.dim() > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.dim()}D")
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.shape[0] for t in ts]
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        grids.append(t.view(view).expand(shape))
    if swap:  # 'xy' is 'ij' of (y, x, ...) with the first two grids swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


FUNCTIONS = [searchsorted, bucketize, atleast_1d, atleast_2d, atleast_3d, hstack, vstack, dstack, column_stack, meshgrid]


def install():
    for f in METHODS:
        if not hasattr(Tensor, f.__name__) or f is logit:  # logit: its eps over the kernel's binding
            setattr(Tensor, f.__name__, f)
    for alias, f in ALIASES.items():
        if not hasattr(Tensor, alias):
            setattr(Tensor, alias, f)
