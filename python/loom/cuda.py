"""loom.cuda: devices, synchronization, RNG seeding and caching-allocator statistics."""
from . import _C
from ._C import OutOfMemoryError  # noqa: F401

_cuda = _C._cuda


def is_available():
    """True when loom was built with CUDA and a usable GPU is present."""
    return _cuda.is_available()


def is_built():
    return _cuda.built_with_cuda()


def device_count():
    return _cuda.device_count()


def _index(device):
    if device is None:
        return -1
    if isinstance(device, int):
        return device
    d = device if isinstance(device, _C.device) else _C.device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return d.index or 0


def current_device():
    return _cuda.current_device()


def set_device(device):
    _cuda.set_device(_index(device))


def synchronize(device=None):
    _cuda.synchronize(_index(device))


def memory_stats(device=None):
    return dict(_cuda.memory_stats(_index(device)))


def memory_allocated(device=None):
    return memory_stats(device)["allocated_bytes.all.current"]


def max_memory_allocated(device=None):
    return memory_stats(device)["allocated_bytes.all.peak"]


def memory_reserved(device=None):
    return memory_stats(device)["reserved_bytes.all.current"]


def max_memory_reserved(device=None):
    return memory_stats(device)["reserved_bytes.all.peak"]


def empty_cache():
    """Returns cached, unused blocks to the driver (a no-op without CUDA)."""
    if is_built():
        _cuda.empty_cache()


def reset_peak_memory_stats(device=None):
    _cuda.reset_peak_memory_stats(_index(device))


def manual_seed(seed):
    """Seeds the generator. loom's counter-based RNG shares one seed across devices."""
    _C.manual_seed(seed)


def manual_seed_all(seed):
    _C.manual_seed(seed)


class device:
    """Context manager that makes ``index`` the current CUDA device."""

    def __init__(self, index):
        self.index = _index(index)

    def __enter__(self):
        self.prev = current_device()
        if self.index >= 0:
            set_device(self.index)

    def __exit__(self, *exc):
        set_device(self.prev)
        return False
