"""Stateless neural-network functions (torch.nn.functional subset)."""
from .. import _C


def relu(input, inplace=False):
    return input.relu_() if inplace else input.relu()


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return input.gelu(approximate=approximate)


def silu(input, inplace=False):
    return input.silu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _dim(dim, name):
    if dim is None:
        raise TypeError(f"{name}(): argument 'dim' is required (implicit dim choice is deprecated in PyTorch)")
    return dim


def softmax(input, dim=None, dtype=None):
    return input.softmax(_dim(dim, "softmax"), dtype=dtype)


def log_softmax(input, dim=None, dtype=None):
    return input.log_softmax(_dim(dim, "log_softmax"), dtype=dtype)


def one_hot(tensor, num_classes=-1):
    return _C.one_hot(tensor, num_classes)


# The registry's docstrings (core/ops.toml).
softmax.__doc__ = _C._registry_docs["softmax"]
log_softmax.__doc__ = _C._registry_docs["log_softmax"]
one_hot.__doc__ = _C._registry_docs["one_hot"]


# Ops implemented in C++ by each kernel family (conv2d, layer_norm, ...).
def _export_native():
    native = getattr(_C, "_functional", None)
    if native is None:
        return
    for name in dir(native):
        if not name.startswith("_") and name not in globals():
            globals()[name] = getattr(native, name)


_export_native()
