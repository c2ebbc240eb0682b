"""Backend switches (loom.backends.cuda.matmul.allow_tf32)."""
from . import cuda  # noqa: F401
