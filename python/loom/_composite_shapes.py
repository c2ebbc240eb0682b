"""More of PyTorch's shape and index functions composed from loom's views and index ops: tensor_split,
hsplit / vsplit / dsplit, take, take_along_dim, rot90, fliplr, flipud, broadcast_tensors, block_diag,
cartesian_prod, combinations, repeat_interleave, diag_embed, diagflat, argwhere, unravel_index,
tril_indices / triu_indices, and the aliases ravel, swapdims, concatenate, row_stack. Results are views
where PyTorch's are; gradients come from the ops they are made of."""
import itertools
import math

import numpy as np

from . import _C
from ._C import Tensor
from ._composite import _check_tensor, _dims


def _index_tensor(values, device):
    t = _C.from_numpy(np.ascontiguousarray(values, dtype=np.int64))
    return t if str(device) == "cpu" else t.to(device)


_MAX_PARTS = 2**24  # more tensors than this from one split is a mistake, not a request


def tensor_split(self, indices_or_sections, dim=0):
    """Views of self split along dim: into n parts (the first size % n one longer), or at the indices."""
    _check_tensor(self, "tensor_split")
    if self.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _dims(dim, self.dim(), "tensor_split")[0]
    n = self.shape[d]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.is_floating_point() or indices_or_sections.dim() > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               "one-dimensional tensor of integers")
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        if sections > _MAX_PARTS:
            raise RuntimeError(f"tensor_split: {sections} sections would make more than {_MAX_PARTS} tensors")
        small, extra = divmod(n, sections)
        bounds = [0]
        for i in range(sections):
            bounds.append(bounds[-1] + small + (1 if i < extra else 0))
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else n + int(i), 0), n) for i in indices_or_sections] + [n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo = min(lo, n)
        out.append(self.narrow(d, lo, max(hi - lo, 0)))
    return tuple(out)


def _split_dim(self, indices_or_sections, dim, name, need):
    _check_tensor(self, name)
    if self.dim() < need:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {need} dimension, but got a tensor with "
                           f"{self.dim()} dimensions!")
    if isinstance(indices_or_sections, int) and (indices_or_sections == 0 or
                                                 self.shape[dim] % indices_or_sections != 0):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{self.shape[dim]} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(self, indices_or_sections, dim)


def hsplit(self, indices_or_sections):
    """Split along the columns (dim 1; dim 0 of a 1-D tensor)."""
    _check_tensor(self, "hsplit")
    return _split_dim(self, indices_or_sections, 1 if self.dim() > 1 else 0, "hsplit", 1)


def vsplit(self, indices_or_sections):
    """Split along the rows (dim 0) of a tensor of at least 2 dimensions."""
    return _split_dim(self, indices_or_sections, 0, "vsplit", 2)


def dsplit(self, indices_or_sections):
    """Split along the depth (dim 2) of a tensor of at least 3 dimensions."""
    return _split_dim(self, indices_or_sections, 2, "dsplit", 3)


def take(self, index):
    """self's elements at the flat (row-major) positions index, in index's shape."""
    _check_tensor(self, "take")
    _check_tensor(index, "take", "index")
    if index.dtype not in (_C.int64, _C.int32):
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    flat = self.reshape(-1)
    n = flat.shape[0]
    idx = index.reshape(-1).long()
    if idx.numel() and str(idx.device) == "cpu":
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            raise IndexError(f"take(): index {hi if hi >= n else lo} out of range for tensor of size "
                             f"{list(self.shape)}.")
    idx = _C.where(idx.lt(0), idx + n, idx)
    return flat.index_select(0, idx).reshape(index.shape)


def take_along_dim(self, indices, dim=None):
    """self's values at indices along dim (self and indices broadcast in the other dimensions); dim None:
    over the flattened tensor."""
    _check_tensor(self, "take_along_dim")
    _check_tensor(indices, "take_along_dim", "indices")
    if indices.dtype not in (_C.int64, _C.int32):
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {indices.dtype}")
    if dim is None:
        return self.reshape(-1).gather(0, indices.reshape(-1).long())
    if self.dim() != indices.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {self.dim()} dimensions for input, and {indices.dim()} dimensions "
                           f"for indices")
    d = _dims(dim, self.dim(), "take_along_dim")[0]
    s_shape, i_shape = list(self.shape), list(indices.shape)
    s_shape[d] = i_shape[d] = 1
    b = list(_C.broadcast_shapes(tuple(s_shape), tuple(i_shape)))
    bs, bi = list(b), list(b)
    bs[d], bi[d] = self.shape[d], indices.shape[d]
    return self.expand(bs).gather(d, indices.long().expand(bi))


def rot90(self, k=1, dims=(0, 1)):
    """self rotated by 90° k times in the plane dims, from the first axis towards the second."""
    _check_tensor(self, "rot90")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if self.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.dim()}")
    d0, d1 = _dims(dims, self.dim(), "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return self.flip(d1).transpose(d0, d1)
    if k == 2:
        return self.flip([d0, d1])
    if k == 3:
        return self.flip(d0).transpose(d0, d1)
    return self.clone()


def fliplr(self):
    _check_tensor(self, "fliplr")
    if self.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return self.flip(1)


def flipud(self):
    _check_tensor(self, "flipud")
    if self.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return self.flip(0)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    for t in tensors:
        _check_tensor(t, "broadcast_tensors", "tensors")
    shape = _C.broadcast_shapes(*[tuple(t.shape) for t in tensors]) if tensors else ()
    return tuple(t.expand(shape) for t in tensors)


def block_diag(*tensors):
    """A block-diagonal matrix of the tensors (0-d: 1 × 1 blocks, 1-d: one-row blocks), in their promoted
    dtype."""
    blocks = []
    for t in tensors:
        _check_tensor(t, "block_diag", "tensors")
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                               f"{len(blocks)} has {t.dim()} dimensions")
        blocks.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
    from ._factories import zeros
    if not blocks:
        return zeros(1, 0)
    dt = blocks[0].dtype
    for b in blocks[1:]:
        dt = (_C._zeros([1], dt, _C.device("cpu"), False) + _C._zeros([1], b.dtype, _C.device("cpu"), False)).dtype
    cols = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = []
        if left:
            parts.append(zeros(r, left, dtype=dt, device=b.device))
        parts.append(b.to(dt))
        if cols - left - c:
            parts.append(zeros(r, cols - left - c, dtype=dt, device=b.device))
        rows.append(_C.cat(parts, 1))
        left += c
    return _C.cat(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, as the rows of a matrix (one tensor: itself)."""
    for t in tensors:
        _check_tensor(t, "cartesian_prod", "tensors")
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from ._composite import meshgrid
    return _C.stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The r-length combinations of a 1-D tensor's elements (itertools' order), as the rows of a matrix."""
    _check_tensor(input, "combinations")
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        from ._factories import empty
        return empty(0, dtype=input.dtype, device=input.device)
    n = input.shape[0]
    rows = math.comb(n + r - 1, r) if with_replacement else math.comb(n, r)
    from ._factories import empty
    if rows == 0:
        return empty(0, r, dtype=input.dtype, device=input.device)
    empty(rows * r, dtype=input.dtype, device=input.device)  # a result too big to hold fails here, not after
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    combos = list(gen(range(n), r))
    idx = _index_tensor(combos, input.device)
    return input.index_select(0, idx.reshape(-1)).reshape(len(combos), r)


def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated repeats times (an int, or a tensor with one count per
    element); repeat_interleave(counts) alone gives arange(n) repeated counts[i] times."""
    if repeats is None:
        _check_tensor(self, "repeat_interleave", "repeats")
        if self.dim() > 1 or self.is_floating_point():
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        from ._factories import arange
        return repeat_interleave(arange(self.numel(), device=self.device), self.reshape(-1), 0,
                                 output_size=output_size)
    _check_tensor(self, "repeat_interleave")
    x = self.reshape(-1) if dim is None else self
    d = 0 if dim is None else _dims(dim, self.dim(), "repeat_interleave")[0]
    if x.dim() == 0:
        x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.dim() <= 1 and not repeats.is_floating_point():
        repeats = int(repeats.item())  # one count for every slice: the expand below, no index
    if isinstance(repeats, int):
        if repeats < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        if output_size is not None and output_size != n * repeats:
            raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the sum of repeats "
                               f"{n * repeats}")
        shape = list(x.shape)
        expanded = x.unsqueeze(d + 1).expand(shape[:d + 1] + [repeats] + shape[d + 1:])
        shape[d] = n * repeats
        # Always new memory, as PyTorch's: a copy of the expanded view (repeats > 1), or of x (repeats <= 1,
        # where the view is x's own memory).
        return (expanded.contiguous() if repeats > 1 else expanded.clone()).reshape(shape)
    _check_tensor(repeats, "repeat_interleave", "repeats")
    if repeats.dim() != 1 or repeats.is_floating_point():
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{repeats.shape[0]} and input.size({d}) = {n}")
    counts = repeats.cpu().numpy()
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    try:
        idx = np.repeat(np.arange(n), counts)
    except MemoryError:
        raise _C.OutOfMemoryError(f"repeat_interleave: an index of {int(counts.sum())} elements does not fit in "
                                  "memory") from None
    if output_size is not None and output_size != idx.shape[0]:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the sum of repeats "
                           f"{idx.shape[0]}")
    return x.index_select(d, _index_tensor(idx, x.device))


def diag_embed(self, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (offset, in the planes dim1 × dim2 of the result) hold self's last
    dimension; the other entries are zero."""
    _check_tensor(self, "diag_embed")
    nd = self.dim() + 1
    d1, d2 = _dims((dim1, dim2), nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = self.shape[-1] if self.dim() else 1
    x = self.reshape(1) if self.dim() == 0 else self
    m = n + abs(offset)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    pos = _index_tensor(rows * m + cols, x.device)
    batch = list(x.shape[:-1])
    from ._factories import zeros
    flat = zeros(batch + [m * m], dtype=x.dtype, device=x.device).index_add(x.dim() - 1, pos, x)
    out = flat.reshape(batch + [m, m])
    return out.movedim([nd - 2, nd - 1], [d1, d2]) if (d1, d2) != (nd - 2, nd - 1) else out


def diagflat(self, offset=0):
    """A matrix with the flattened self on its offset diagonal."""
    _check_tensor(self, "diagflat")
    return diag_embed(self.reshape(-1), offset)


def argwhere(self):
    """The indices of the non-zero elements, one row each (nonzero())."""
    _check_tensor(self, "argwhere")
    return self.nonzero()


def unravel_index(indices, shape):
    """Flat indices as a tuple of coordinate tensors into a tensor of the given shape."""
    _check_tensor(indices, "unravel_index", "indices")
    if indices.is_floating_point() or indices.dtype == _C.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, int):
        shape = (shape,)
    shape = [int(s) for s in shape]
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(tuple(shape)))
    total = int(np.prod(shape)) if shape else 1
    idx = indices.long()
    if idx.numel() and str(idx.device) == "cpu":
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -total or hi >= total:
            raise ValueError("'indices' must be in range [-{0}, {1})".format(total, total))
    idx = _C.where(idx.lt(0), idx + total, idx)
    out = []
    for s in reversed(shape):
        out.append(idx.remainder(s) if s else idx * 0)
        idx = idx.floor_divide(s) if s else idx
    return tuple(reversed(out))


def _tri_count(row, col, offset, upper):
    """The number of (r, c) in a row × col matrix with c <= r + offset (lower) or c >= r + offset (upper),
    in O(1)."""
    def arith(lo, hi, a0, step=1):  # sum of a0 + step * (r - lo) for r in [lo, hi)
        n = max(hi - lo, 0)
        return n * a0 + step * (n * (n - 1) // 2)
    if not upper:  # row r holds min(col, r + offset + 1) elements where that is positive
        r0 = max(0, -offset)
        r1 = min(row, max(col - offset - 1, r0))  # rows below r1 grow by one; from r1 on they are full
        return arith(r0, r1, r0 + offset + 1) + max(row - max(r1, r0), 0) * col
    # row r holds col - max(0, r + offset) elements while that is positive
    full = min(row, max(-offset, 0))
    r_end = min(row, max(col - offset, 0))
    return full * col + (arith(full, r_end, col - full - offset, -1) if r_end > full else 0)


def _tri_indices(row, col, offset, upper, dtype, device, name):
    for v, what in ((row, "row"), (col, "col"), (offset, "offset")):
        if not isinstance(v, int):
            raise TypeError(f"{name}(): argument '{what}' must be int, not {type(v).__name__}")
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row and col must be non-negative, got row={row} and col={col}")
    n = _tri_count(row, col, offset, upper)
    if n * 16 > 2**36:
        raise _C.OutOfMemoryError(f"{name}: the {n} coordinates of a {row} x {col} triangle need {n * 16} bytes")
    if n == 0:
        r = c = np.zeros(0, dtype=np.int64)
    else:
        rows_needed = min(row, col - offset if upper else row)
        start = max(0, -offset) if not upper else 0
        rr = np.arange(start, max(rows_needed, start))
        if upper:
            lo = np.maximum(rr + offset, 0)
            counts = np.maximum(col - lo, 0)
            r = np.repeat(rr, counts)
            c = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
        else:
            counts = np.minimum(col, rr + offset + 1)
            r = np.repeat(rr, counts)
            c = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    from . import int64
    t = _C.from_numpy(np.stack([r, c]).astype(np.int64).reshape(2, -1))
    t = t.to(dtype or int64)
    return t if device is None or str(device) == "cpu" else t.to(device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The coordinates (2 × N) of the lower triangle of a row × col matrix, from diagonal offset."""
    return _tri_indices(row, col, offset, False, dtype, device, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The coordinates (2 × N) of the upper triangle of a row × col matrix, from diagonal offset."""
    return _tri_indices(row, col, offset, True, dtype, device, "triu_indices")


def ravel(self):
    _check_tensor(self, "ravel")
    return self.reshape(-1)


def swapdims(self, dim0, dim1):
    _check_tensor(self, "swapdims")
    return self.transpose(dim0, dim1)


def narrow_copy(self, dim, start, length):
    _check_tensor(self, "narrow_copy")
    return self.narrow(dim, start, length).clone()


def row_stack(tensors):
    from ._composite import vstack
    return vstack(tensors)


def concatenate(tensors, dim=0, *, axis=None):
    return _C.cat(tensors, axis if axis is not None else dim)


METHODS = [tensor_split, hsplit, vsplit, dsplit, take, take_along_dim, rot90, fliplr, flipud, repeat_interleave,
           diag_embed, diagflat, argwhere, ravel, swapdims, narrow_copy]
FUNCTIONS = METHODS + [broadcast_tensors, block_diag, cartesian_prod, combinations, unravel_index, tril_indices,
                       triu_indices, row_stack, concatenate]


def install(namespace):
    for f in METHODS:
        if not hasattr(Tensor, f.__name__):
            setattr(Tensor, f.__name__, f)
    for f in FUNCTIONS:
        namespace[f.__name__] = f
