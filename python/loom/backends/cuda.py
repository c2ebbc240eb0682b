"""loom.backends.cuda.matmul.allow_tf32: let matmul use TF32 tensor cores (off by default)."""
from .. import _C


class _MatmulSettings:
    @property
    def allow_tf32(self):
        return _C._allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._set_allow_tf32(bool(value))

    def __repr__(self):
        return f"matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulSettings()


def is_built():
    return _C._cuda.built_with_cuda()
