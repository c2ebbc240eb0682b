"""loom.utils: data loading (loom.utils.data), as torch.utils."""
from . import data

__all__ = ["data"]
