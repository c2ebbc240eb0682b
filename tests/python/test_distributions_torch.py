"""loom.distributions against torch.distributions: tests/data/torch_distributions.json (made by
tests/data/make_distribution_fixtures.py). Each case evaluates the same expression with D =
loom.distributions and compares the results and the gradients of sum(result * weights) to every input."""
import numpy as np
import pytest

import loom
from loom import distributions as D
from _helpers import arr, check_fixture_grads, load_fixture

CASES = load_fixture("torch_distributions.json")["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['expr'][:60]}" for i, c in enumerate(CASES)])
def test_matches_torch(case):
    ins = {}
    for k, v in case["inputs"].items():
        t = loom.from_numpy(arr(v).copy())
        ins[k] = t.requires_grad_(True) if t.is_floating_point() and k not in case["nograd"] else t
    out = eval(case["expr"], {"D": D, "torch": loom, **ins})
    outs = out if isinstance(out, (tuple, list)) else (out,)
    assert len(outs) == len(case["outputs"])
    for o, want in zip(outs, case["outputs"]):
        w = arr(want)
        assert tuple(o.shape) == w.shape, (case["expr"], tuple(o.shape), w.shape)
        np.testing.assert_allclose(o.detach().numpy(), w, rtol=case.get("rtol", 1e-7), atol=1e-9, err_msg=case["expr"])
    if "grads" not in case:
        return
    check_fixture_grads(outs, case["weights"], ins, case["grads"], case["expr"], rtol=case.get("rtol", 1e-7))
