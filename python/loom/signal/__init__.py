"""loom.signal: signal processing helpers, as torch.signal (the window functions in ``windows``)."""
from . import windows

__all__ = ["windows"]
