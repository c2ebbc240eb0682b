"""Makes `import loom` find the source tree (python/loom), which loads the extension of the build
named by $LOOM_BUILD_DIR, build/ by default (python/loom/_extension.py); the header says which."""
import os
import sys

import numpy as np
import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(_REPO, "python"))

import loom  # noqa: E402

requires_cuda = pytest.mark.skipif(not loom.cuda.is_available(), reason="CUDA is not available (no GPU or CPU-only build)")


def pytest_report_header(config):
    return f"loom: {loom._C.__file__}"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed():
    loom.manual_seed(0)
    yield
