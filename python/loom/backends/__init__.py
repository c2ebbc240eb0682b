"""Backend switches.

    loom.backends.cuda.matmul.allow_tf32 = True   # TF32 tensor cores for matmul
    loom.backends.conv = "cudnn"                  # convolution: "hand" (default) or "cudnn"
"""
import sys
import types

from . import cuda  # noqa: F401


class _BackendsModule(types.ModuleType):
    @property
    def conv(self):
        from .. import _C
        return _C._functional.get_conv_backend()

    @conv.setter
    def conv(self, value):
        from .. import _C
        _C._functional.set_conv_backend(value)


sys.modules[__name__].__class__ = _BackendsModule
