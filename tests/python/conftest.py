"""Makes `import loom` find the source tree (python/loom), which loads the extension of the build
named by $LOOM_BUILD_DIR, build/ by default (python/loom/_extension.py); the header says which.

Conventions of tests/python:
  - conftest.py holds set-up and fixtures only, and is never imported: a test asks for a fixture
    by naming it as an argument (`rng`: a seeded numpy Generator; every test runs after
    loom.manual_seed(0)).
  - Plain helpers shared by several files live in _helpers.py and are imported by name:
    `from _helpers import T, close, requires_cuda` (T: a loom tensor of an array-like; close:
    assert_allclose of tensors or arrays, rtol=1e-5 / atol=1e-6 unless given; requires_cuda:
    skips with the reason without a GPU). A file keeps only helpers of its own.
"""
import os
import sys

import numpy as np
import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(_REPO, "python"))

import loom  # noqa: E402


def pytest_report_header(config):
    return f"loom: {loom._C.__file__}"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed():
    loom.manual_seed(0)
    yield
