"""The global random number generator, as ``torch.random``: seeding, its state, and ``fork_rng``.

loom's random ops draw from a counter-based Philox state per device, a (seed, offset) pair whose
offset advances with every draw. ``get_rng_state()`` returns that pair as an int64 tensor of two
elements (the format of ``loom.Generator.get_state()``), ``set_rng_state()`` puts one back: the
draws that follow repeat exactly. ``manual_seed`` seeds every device at once.
"""
import contextlib
import secrets

import numpy as np

from . import _C
from ._C import Tensor, manual_seed, initial_seed  # noqa: F401

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]


def _state_tensor(device):
    seed_, offset = _C._get_rng_state(device)
    to_i64 = lambda u: u - (1 << 64) if u >= 1 << 63 else u  # noqa: E731  (the uint64 bit pattern)
    return _C._from_numpy_copy(np.array([to_i64(seed_), to_i64(offset)], dtype=np.int64), None, None)


def _put_state(device, new_state, op):
    if not isinstance(new_state, Tensor):
        raise TypeError(f"{op}(): new_state must be a loom.Tensor, not {type(new_state).__name__}")
    if new_state.dtype != _C.int64 or new_state.dim() != 1 or new_state.numel() != 2:
        raise ValueError(f"{op}(): expected the int64 tensor of shape [2] that get_rng_state() returns, got "
                         f"{new_state.dtype} of shape {list(new_state.shape)}")
    s, o = (int(v) % (1 << 64) for v in new_state.cpu().tolist())
    _C._set_rng_state(device, s, o)


def get_rng_state():
    """The CPU generator's state: an int64 tensor ``[seed, offset]`` for ``set_rng_state``."""
    return _state_tensor("cpu")


def set_rng_state(new_state):
    """Restores the CPU generator's state from ``get_rng_state()``."""
    _put_state("cpu", new_state, "set_rng_state")


def seed():
    """Seeds every device's generator with a non-deterministic random number and returns it."""
    s = secrets.randbits(64)
    manual_seed(s)
    return s


def _cuda_devices():
    from . import cuda
    return ["cuda"] if cuda.is_available() else []


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Within the block, random draws come from a copy of the generators' states: on leaving, the CPU
    generator (and those of ``devices``, all CUDA devices when None) are put back as they were."""
    if not enabled:
        yield
        return
    if device_type not in ("cuda", "cpu"):
        raise RuntimeError(f"{_caller}(): device_type must be 'cuda' or 'cpu', got {device_type!r}")
    devs = ["cpu"] + (_cuda_devices() if devices is None else ["cuda"] * bool(list(devices)))
    saved = {d: _C._get_rng_state(d) for d in dict.fromkeys(devs)}
    try:
        yield
    finally:
        for d, (s, o) in saved.items():
            _C._set_rng_state(d, s, o)
