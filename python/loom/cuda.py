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


# ---- user kernels compiled at run time (NVRTC; core/rtc.h) ----

def _dim3(v, what):
    if isinstance(v, int):
        return v
    return tuple(v)


class Kernel:
    """A CUDA kernel compiled at run time: ``k(grid, block, args, shared_mem=0, stream=None)``.

    ``args`` are loom tensors (passed as device pointers; their device and dtype
    are checked against the kernel's parameters), ints and floats (passed with
    the width of the parameter). ``params`` lists the parameters as
    ``(type, name, kind)``; ``origin`` says where the binary came from
    ("nvrtc", "memory" or "disk")."""

    def __init__(self, kernel):
        self._k = kernel

    name = property(lambda self: self._k.name)
    lowered_name = property(lambda self: self._k.lowered_name)
    arch = property(lambda self: self._k.arch)
    log = property(lambda self: self._k.log)
    origin = property(lambda self: self._k.origin)
    params = property(lambda self: self._k.params)
    flops = property(lambda self: self._k.flops)
    bytes = property(lambda self: self._k.bytes)

    def set_cost(self, flops=0.0, bytes=0.0):
        """FLOPs and minimum DRAM bytes of one launch (for the profiler's roofline column)."""
        self._k.set_cost(float(flops), float(bytes))
        return self

    def __call__(self, grid, block, args, shared_mem=0, stream=None):
        handle = 0 if stream is None else int(getattr(stream, "cuda_stream", stream))
        self._k.launch(_dim3(grid, "grid"), _dim3(block, "block"), list(args), int(shared_mem), handle)

    def __repr__(self):
        sig = ", ".join(f"{t} {n}".strip() for t, n, _ in self.params)
        return f"loom.cuda.Kernel({self.name}({sig}), arch={self.arch})"


def compile_kernel(source, name, options=None, arch=None):
    """Compiles ``name`` — a ``__global__`` function of ``source``, or a template
    instantiation such as ``"scale<float>"`` — with NVRTC, for ``arch``
    ("sm_90"; default: the current GPU's, else sm_90, so it works without a
    GPU). Compile errors raise ValueError with NVRTC's log. Binaries are cached
    in memory and on disk (``kernel_cache_dir()``)."""
    return Kernel(_cuda.compile_kernel(source, name, [str(o) for o in (options or [])], arch or ""))


def kernel_cache_dir():
    """Where compiled user kernels are cached: $LOOM_CACHE_DIR/kernels, else ~/.cache/loom/kernels."""
    return _cuda.rtc_cache_dir()
