"""Tensor attributes PyTorch scripts query about layouts and backends loom does not have (every loom
tensor is dense and strided: is_sparse, is_quantized, ... are False, layout is loom.strided), and the
strided allocation forms: empty_strided, new_empty_strided, as_strided, the unsafe_ split aliases."""
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
