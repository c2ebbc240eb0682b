"""loom.linalg (and the torch.* / Tensor forms) against PyTorch: tests/data/torch_linalg.json, made by
tests/data/make_linalg_fixtures.py. Each case evaluates the same expression with lib = loom and compares the
results and the gradients of sum(result * weights) to every input (float64, about 1e-9 relative)."""
import numpy as np
import pytest

import loom
from _helpers import arr, check_fixture_grads, load_fixture

CASES = load_fixture("torch_linalg.json")["cases"]


def flat(out):
    if isinstance(out, (tuple, list)):
        return tuple(t for o in out for t in flat(o))
    return (out,)


def fix(V):
    return V * V.sum(-2, keepdim=True).sign()


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['expr'][:50]}" for i, c in enumerate(CASES)])
def test_linalg_matches_torch(case):
    grad = "grads" in case
    ins = {k: loom.from_numpy(arr(v).copy()).requires_grad_(grad) for k, v in case["inputs"].items()}
    out = eval(case["expr"], {"lib": loom, "fix": fix}, dict(ins))
    outs = flat(out)
    assert len(outs) == len(case["outputs"])
    for o, want in zip(outs, case["outputs"]):
        w = arr(want)
        assert tuple(o.shape) == w.shape, (case["expr"], tuple(o.shape), w.shape)
        assert str(o.dtype) == "loom." + want["dtype"], (case["expr"], o.dtype)
        np.testing.assert_allclose(o.detach().numpy(), w, rtol=1e-7, atol=1e-9, err_msg=case["expr"])
    if not grad:
        return
    check_fixture_grads(outs, case["weights"], ins, case["grads"], case["expr"])
