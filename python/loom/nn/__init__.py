"""Neural-network layers (loom.nn.Module and the modules); functional ops live in loom.nn.functional."""
from . import functional  # noqa: F401
from . import utils  # noqa: F401
from . import init  # noqa: F401,E402
from .modules import *  # noqa: F401,F403,E402
from .modules import Module, Parameter  # noqa: F401,E402
