"""dtype utilities with PyTorch's names: finfo, iinfo, promote_types, result_type, can_cast, and the dtype
predicates as free functions (is_floating_point, is_complex, is_nonzero, is_same_size)."""
import numpy as np

from . import _C
from ._C import Tensor

_ORDER = {"bool": 0, "int32": 1, "int64": 1, "float32": 2, "float64": 2}


def _name(dt):
    if not isinstance(dt, _C.dtype):
        raise TypeError(f"expected a loom.dtype, got {type(dt).__name__}")
    return str(dt).replace("loom.", "")


class finfo:
    """Machine limits of a floating dtype (the default dtype, float32, when none is given): bits, eps, max, min, tiny
    (= smallest_normal), resolution, dtype."""

    def __init__(self, type=None):
        name = _C._default_dtype().name if type is None else _name(type)
        if name not in ("float32", "float64"):
            raise TypeError(f"finfo(): expected a floating point dtype, got loom.{name}")
        info = np.finfo(np.dtype(name))
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = float(info.tiny)
        self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(info.resolution)
        self.dtype = name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype: bits, max, min, dtype."""

    def __init__(self, type):
        name = _name(type)
        if name not in ("int32", "int64"):
            raise TypeError(f"iinfo(): expected an integer dtype, got loom.{name}")
        info = np.iinfo(np.dtype(name))
        self.bits = info.bits
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1, type2):
    """The smallest dtype both type1 and type2 convert to without losing category (bool < int < float)."""
    _name(type1)
    _name(type2)
    return (_C._zeros([1], type1, _cpu(), False) + _C._zeros([1], type2, _cpu(), False)).dtype


def _cpu():
    return _C.device("cpu")


def _probe(x):
    """A stand-in of x for promotion: a one-element tensor of x's dtype, 0-d if x is."""
    if isinstance(x, Tensor):
        return _C._zeros([] if x.dim() == 0 else [1], x.dtype, _cpu(), False)
    if isinstance(x, (bool, int, float)):
        return x
    raise TypeError(f"result_type(): expected a Tensor or a number, got {type(x).__name__}")


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on tensor1 and tensor2 (tensors or numbers) returns: PyTorch's rules
    (dimensioned tensors, then 0-d tensors, then numbers, by category)."""
    a, b = _probe(tensor1), _probe(tensor2)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        from ._factories import tensor
        a = tensor(a)
        b = tensor(b)
    return (a + b).dtype


def can_cast(from_, to):
    """True when from_ converts to to without going down a category (float to int, int to bool)."""
    return _ORDER[_name(from_)] <= _ORDER[_name(to)]


def is_floating_point(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input.is_floating_point()


def is_complex(input):
    """False: loom has no complex dtypes."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex(): argument 'input' must be Tensor, not {type(input).__name__}")
    return False


def is_nonzero(input):
    """The truth value of a one-element tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_nonzero(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(self, other):
    if not isinstance(self, Tensor):
        raise TypeError(f"is_same_size(): argument 'input' must be Tensor, not {type(self).__name__}")
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' must be Tensor, not {type(other).__name__}")
    return tuple(self.shape) == tuple(other.shape)


def install(namespace):
    Tensor.is_nonzero = is_nonzero
    Tensor.is_same_size = is_same_size
    Tensor.is_complex = is_complex
    for f in (finfo, iinfo, promote_types, result_type, can_cast, is_floating_point, is_complex, is_nonzero,
              is_same_size):
        namespace[f.__name__] = f
