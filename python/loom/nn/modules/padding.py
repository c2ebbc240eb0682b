"""Padding modules: F.pad with a fixed padding and mode, as PyTorch's ConstantPad*d, ZeroPad*d,
ReflectionPad*d, ReplicationPad*d and CircularPad*d (an int pads every side of the padded dims)."""
from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _Pad(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.dims)
        padding = tuple(padding)
        if len(padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self.dims} ints, "
                             f"got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self.mode == "constant" else "")


def _make(name, mode, dims, zero=False):
    body = {"mode": mode, "dims": dims}
    if zero:
        body["__init__"] = lambda self, padding: _Pad.__init__(self, padding, 0.0)
        body["extra_repr"] = lambda self: f"{self.padding}"
    cls = type(name, (_Pad,), body)
    cls.__module__ = __name__
    return cls


ConstantPad1d = _make("ConstantPad1d", "constant", 1)
ConstantPad2d = _make("ConstantPad2d", "constant", 2)
ConstantPad3d = _make("ConstantPad3d", "constant", 3)
ZeroPad1d = _make("ZeroPad1d", "constant", 1, zero=True)
ZeroPad2d = _make("ZeroPad2d", "constant", 2, zero=True)
ZeroPad3d = _make("ZeroPad3d", "constant", 3, zero=True)
ReflectionPad1d = _make("ReflectionPad1d", "reflect", 1)
ReflectionPad2d = _make("ReflectionPad2d", "reflect", 2)
ReflectionPad3d = _make("ReflectionPad3d", "reflect", 3)
ReplicationPad1d = _make("ReplicationPad1d", "replicate", 1)
ReplicationPad2d = _make("ReplicationPad2d", "replicate", 2)
ReplicationPad3d = _make("ReplicationPad3d", "replicate", 3)
CircularPad1d = _make("CircularPad1d", "circular", 1)
CircularPad2d = _make("CircularPad2d", "circular", 2)
CircularPad3d = _make("CircularPad3d", "circular", 3)
