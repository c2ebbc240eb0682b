"""loom.utils: data loading (loom.utils.data), as torch.utils."""
from . import data, hooks

__all__ = ["data", "hooks"]
