"""Backend switches and the autotuner's cache.

    loom.backends.cuda.matmul.allow_tf32 = True   # TF32 tensor cores for matmul and convolution
    loom.backends.conv = "auto"                   # convolution on CUDA: "auto" (default), "hand" or "cudnn"

"auto" times loom's kernel configurations and cuDNN the first time it sees a
convolution problem and keeps the fastest (like torch.backends.cudnn.benchmark);
"hand" forces loom's kernels (the heuristic's configuration), "cudnn" forces
cuDNN (its heuristics). The choices:

    print(loom.backends.conv_cache())      # one line per problem, with every candidate's time
    loom.backends.conv_cache().save("conv_cache.json")
    loom.backends.conv_cache().load("conv_cache.json")   # a later run skips the tuning
    loom.backends.conv_cache().clear()
"""
import sys
import types

from . import cuda  # noqa: F401


class AutotuneCache:
    """The autotuner's choices for one kernel family ("conv2d"), or all (family="")."""

    def __init__(self, family=""):
        self.family = family

    def entries(self):
        """A list of dicts: family, problem, choice, timings_ms (name -> ms, None = failed), tuning_s."""
        from .. import _C
        return _C._autotune_entries(self.family)

    def __len__(self):
        return len(self.entries())

    def __iter__(self):
        return iter(self.entries())

    def __str__(self):
        from .. import _C
        return _C._autotune_text(self.family) or "(empty)\n"

    def __repr__(self):
        return "AutotuneCache(family=%r, %d entries)" % (self.family, len(self))

    def to_json(self):
        from .. import _C
        return _C._autotune_json(self.family)

    def save(self, path):
        """Writes the entries as JSON (atomically: a temporary file, then rename)."""
        from .. import _C
        _C._autotune_save(str(path), self.family)

    def load(self, path):
        """Adds the entries of a file written by save (any family); returns how many were read."""
        from .. import _C
        return _C._autotune_load(str(path))

    def clear(self):
        from .. import _C
        if self.family == "conv2d":
            _C._functional.conv_cache_clear()
        else:
            _C._autotune_clear(self.family)


def conv_cache():
    """The convolution autotuner's cache (family "conv2d")."""
    return AutotuneCache("conv2d")


def autotune_cache(family=""):
    """The autotuner's cache for a kernel family, or for every family."""
    return AutotuneCache(family)


def autotune_seconds():
    """Seconds this process has spent tuning (all families)."""
    from .. import _C
    return _C._autotune_tuning_seconds()


def set_autotune_budget(seconds):
    """Tuning time allowed per new problem (default 2 s); the rest of its candidates are then skipped."""
    from .. import _C
    _C._autotune_set_budget(float(seconds))


def autotune_budget():
    from .. import _C
    return _C._autotune_budget()


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
