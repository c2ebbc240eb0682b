"""Tensor attributes PyTorch scripts query about layouts and backends loom does not have (every loom
tensor is dense and strided: is_sparse, is_quantized, ... are False, layout is loom.strided), the
strided allocation forms (empty_strided, new_empty_strided, as_strided, the unsafe_ split aliases) and
the in-place storage changes resize_, resize_as_ and set_."""
import builtins

from ._C import Tensor

_FALSE_PROPERTIES = ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested", "is_mkldnn", "is_xpu",
                     "is_mps", "is_ipu", "is_xla", "is_vulkan", "is_maia", "is_mtia")


def _false(self):
    return False


def _storage_numel(size, stride):
    if any(s == 0 for s in size):
        return 0
    return 1 + builtins.sum((s - 1) * st for s, st in zip(size, stride))


def _size_stride(name, size, stride):
    size, stride = [builtins.int(s) for s in size], [builtins.int(s) for s in stride]
    if len(size) != len(stride):
        raise RuntimeError(f"{name}(): mismatch in length of strides and shape: size {size}, stride {stride}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"{name}(): sizes and strides must be non-negative, got size {size}, stride {stride}")
    return size, stride


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialized tensor with the given sizes and strides (over a storage just large enough)."""
    from . import _factories
    _factories._check_options("empty_strided", None, layout, pin_memory)
    size, stride = _size_stride("empty_strided", size, stride)
    base = _factories.empty(_storage_numel(size, stride), dtype=dtype, device=device)
    t = base.as_strided(size, stride, 0)
    if requires_grad:
        t = t.detach().requires_grad_(True)
    return t


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                       pin_memory=False):
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device, requires_grad=requires_grad,
                         layout=layout, pin_memory=pin_memory)


def as_strided(input, size, stride, storage_offset=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"as_strided(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.as_strided(size, stride, storage_offset)


def _dim_order(self, *, ambiguity_check=False):
    """The dimensions from outermost to innermost in memory (largest stride first; ties in order)."""
    strides = self.stride()
    return tuple(sorted(range(self.dim()), key=lambda d: -strides[d]))


def _to_dense(self, dtype=None, *, masked_grad=None):
    return self if dtype is None else self.to(dtype)


def _no_sparse(name):
    def f(self, *args, **kwargs):
        raise NotImplementedError(f"Tensor.{name}(): loom has no sparse tensors (every tensor is dense and strided)")
    f.__name__ = name
    return f


def _function_form(name, method):
    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return method(input, *args, **kwargs)
    f.__name__ = name
    return f


def _contiguous_strides(size):
    strides, step = [], 1
    for s in reversed(size):
        strides.append(step)
        step *= max(s, 1)
    return list(reversed(strides))


def _sizes(name, args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for s in args:
        if isinstance(s, builtins.bool) or not hasattr(type(s), "__index__"):
            raise TypeError(f"{name}(): size must be a tuple of ints, but got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{name}(): Trying to create tensor with negative dimension {s}: {list(args)}")
        out.append(builtins.int(s))
    return out


def _check_inplace_meta(self, name):
    from . import is_grad_enabled
    if self.requires_grad and is_grad_enabled():
        raise RuntimeError("cannot resize variables that require grad" if name == "resize_" else
                           "set_(): a leaf Variable that requires grad is being used in an in-place operation.")


def _bump_version(self):
    # A view onto itself: changes nothing but advances the version counter, as PyTorch's resize_ / set_ do.
    self.as_strided_(list(self.shape), list(self.stride()), self.storage_offset())


def _resize_(self, *sizes, memory_format=None):
    """Gives the tensor ``sizes`` in place, as torch.Tensor.resize_: the storage is kept when it holds enough
    elements (read as C-contiguous from the storage offset), else a larger one is allocated with the old
    elements first; new elements are uninitialized."""
    from . import empty
    size = _sizes("resize_", sizes)
    _check_inplace_meta(self, "resize_")
    if memory_format is not None:
        raise NotImplementedError("resize_(): memory_format is not supported: loom tensors are row-major")
    if size == list(self.shape):
        return self
    n = 1
    for s in size:
        n *= s
    item, offset = self.element_size(), self.storage_offset()
    have = self._storage_nbytes() // item - offset
    if n <= have:
        self.as_strided_(size, _contiguous_strides(size), offset)
        return self
    grown = empty(n, dtype=self.dtype, device=self.device)
    if have > 0:
        grown[:have].copy_(self.detach().as_strided([have], [1], offset))
    self.data = grown.view(size)
    _bump_version(self)
    return self


def _resize_as_(self, other, memory_format=None):
    if not isinstance(other, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' must be Tensor, not {type(other).__name__}")
    return _resize_(self, list(other.shape), memory_format=memory_format)


def _set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Makes the tensor a view of ``source``'s storage (its sizes and strides, or ``size`` / ``stride`` from
    ``storage_offset``), as torch.Tensor.set_; with no source, an empty tensor."""
    from . import empty
    _check_inplace_meta(self, "set_")
    if source is None:
        self.data = empty(0, dtype=self.dtype, device=self.device)
    else:
        if not isinstance(source, Tensor):
            raise TypeError(f"set_(): source must be a Tensor (loom has no separate Storage type), not "
                            f"{type(source).__name__}")
        if source.dtype != self.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.dtype.name.replace('float64', 'double')} to a "
                               f"tensor of type {self.dtype.name.replace('float32', 'float')}")
        if size is None:
            self.data = source.detach()
        else:
            size = _sizes("set_", (size,))
            stride = _contiguous_strides(size) if stride is None else [builtins.int(s) for s in stride]
            self.data = source.detach().as_strided(size, stride, storage_offset)
    _bump_version(self)
    return self


class UntypedStorage:
    """The bytes under a tensor (torch.UntypedStorage, read-only here): where they start, how many there
    are, on which device. Views of one tensor share it: their ``untyped_storage().data_ptr()`` is equal."""

    def __init__(self, tensor):
        self._tensor = tensor

    def data_ptr(self):
        t = self._tensor
        return t.data_ptr() - t.storage_offset() * t.element_size()

    def nbytes(self):
        return self._tensor._storage_nbytes()

    def size(self):
        return self.nbytes()

    def __len__(self):
        return self.nbytes()

    def element_size(self):
        return 1

    @property
    def device(self):
        return self._tensor.device

    def __repr__(self):
        return f"loom.UntypedStorage(nbytes={self.nbytes()}, device='{self.device}')"


class TypedStorage(UntypedStorage):
    """The storage counted in elements of the tensor's dtype (torch.TypedStorage, read-only here)."""

    @property
    def dtype(self):
        return self._tensor.dtype

    def element_size(self):
        return self._tensor.element_size()

    def size(self):
        return self.nbytes() // self.element_size()

    def __len__(self):
        return self.size()

    def untyped(self):
        return UntypedStorage(self._tensor)

    def __repr__(self):
        return f"loom.TypedStorage(dtype={self.dtype}, size={self.size()}, device='{self.device}')"


def _is_set_to(self, tensor):
    """True when both tensors are the same view of one storage (offset, sizes and strides)."""
    return (isinstance(tensor, Tensor) and self.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr()
            and self.storage_offset() == tensor.storage_offset() and tuple(self.shape) == tuple(tensor.shape)
            and self.stride() == tensor.stride() and self.device == tensor.device)


def install(ns):
    from ._factories import strided
    for name in _FALSE_PROPERTIES:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, property(_false))
    if not hasattr(Tensor, "layout"):
        Tensor.layout = property(lambda self: strided)
    methods = {
        "is_pinned": lambda self, device=None: False,
        "is_shared": lambda self: False,
        "to_dense": _to_dense,
        "const_data_ptr": lambda self: self.data_ptr(),
        "dim_order": _dim_order,
        "new_empty_strided": _new_empty_strided,
        "unsafe_chunk": lambda self, chunks, dim=0: self.chunk(chunks, dim),
        "unsafe_split": lambda self, split_size, dim=0: self.split(split_size, dim),
        "unsafe_split_with_sizes": lambda self, split_sizes, dim=0: self.split(list(split_sizes), dim),
        "untyped_storage": lambda self: UntypedStorage(self),
        "storage": lambda self: TypedStorage(self),
        "is_set_to": _is_set_to,
        "resize_": _resize_,
        "resize_as_": _resize_as_,
        "set_": _set_,
    }
    for name in ("to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc"):
        methods[name] = _no_sparse(name)
    for name, fn in methods.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name in ("unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes"):
        ns.setdefault(name, _function_form(name, getattr(Tensor, name)))
    ns.setdefault("empty_strided", empty_strided)
    ns.setdefault("as_strided", as_strided)
    ns.setdefault("UntypedStorage", UntypedStorage)
    ns.setdefault("TypedStorage", TypedStorage)
