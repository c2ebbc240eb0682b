"""Neural-network layers (modules arrive later); functional ops live in loom.nn.functional."""
from . import functional  # noqa: F401
from . import utils  # noqa: F401
