"""The Python side of the op registry (core/ops.toml): every described op with a generated binding is a
Tensor method and a loom.<name> function, both carrying the registry's docstring; docs/ops.md is current."""
import os
import subprocess
import sys
import tomllib

import numpy as np
import pytest

import loom
from _helpers import T, close

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _described():
    with open(os.path.join(_REPO, "core", "ops.toml"), "rb") as f:
        return [op for op in tomllib.load(f)["op"] if "name" in op]


GENERATED = [op for op in _described() if op["binding"] == "generated"]


@pytest.mark.parametrize("op", GENERATED, ids=[op["name"] for op in GENERATED])
def test_generated_binding_has_the_registry_doc(op):
    meth = getattr(loom.Tensor, op["name"])
    assert op["doc"] in meth.__doc__
    assert op["torch"] in meth.__doc__
    fn = getattr(loom, op["name"])
    assert op["doc"] in fn.__doc__
    assert op["name"] in loom._C._registry_ops


def test_registry_ops_are_exported():
    names = set(loom._functions.__all__)
    for op in GENERATED:
        assert op["name"] in names, op["name"]


def test_hypot_against_numpy(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    close(loom.hypot(T(a), T(b)), np.hypot(a, b))
    close(T(a).hypot(T(b)), np.hypot(a, b))
    x = T(a.astype(np.float64)).requires_grad_(True)
    y = T(b.astype(np.float64)).requires_grad_(True)
    loom.hypot(x, y).sum().backward()
    h = np.hypot(a.astype(np.float64), b.astype(np.float64))
    close(x.grad, a / h, rtol=1e-6)
    close(y.grad, (b / h).sum(0), rtol=1e-6)
    with pytest.raises(TypeError, match="hypot"):
        loom.hypot(T(np.array([1, 2])), T(np.array([3, 4])))


def test_api_page_is_current():
    r = subprocess.run([sys.executable, os.path.join(_REPO, "tools", "gen_ops.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
