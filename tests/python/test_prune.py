"""loom.nn.utils.prune against PyTorch (tests/data/torch_prune.json, made by tests/data/make_prune_fixtures.py):
the state dicts (<name>_orig, <name>_mask) and outputs after each sequence of pruning operations; then the
random methods by their counts, gradients through the mask, and the errors."""
import numpy as np
import pytest

import loom
from loom import nn
from loom.nn.utils import prune
from _helpers import arr, load_fixture

CASES = load_fixture("torch_prune.json")["cases"]
F64 = loom.float64


def dec(v):
    if isinstance(v, dict) and "shape" in v and "data" in v:
        return loom.tensor(arr(v))
    return v


def build(case):
    mods = {}
    for k, (cls, args) in case["modules"].items():
        m = getattr(nn, cls)(*args).to(F64)
        m.load_state_dict({n: loom.tensor(arr(t)) for n, t in case["init"][k].items()})
        mods[k] = m
    return mods


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch(case):
    mods = build(case)
    for op in case["ops"]:
        if op[0] == "global_unstructured":
            extra = dict(op[3])
            scores = None
            if "importance_scores" in extra:
                scores = {(mods[m], n): dec(s) for (m, n), s in extra.pop("importance_scores")}
            prune.global_unstructured([(mods[m], n) for m, n in op[1]], getattr(prune, op[2]),
                                      importance_scores=scores, **extra)
        elif op[0] == "remove":
            prune.remove(mods[op[1]], op[2])
        else:
            getattr(prune, op[0])(mods[op[1]], op[2], **{k: dec(v) for k, v in op[3].items()})
    for k, m in mods.items():
        sd = m.state_dict()
        want = case["state_dict"][k]
        assert sorted(sd) == sorted(want), (case["name"], k)
        for n, t in want.items():
            np.testing.assert_allclose(sd[n].numpy(), arr(t), rtol=1e-10, atol=1e-12, err_msg=f"{case['name']} {n}")
        out = m(loom.tensor(arr(case["inputs"][k])))
        np.testing.assert_allclose(out.detach().numpy(), arr(case["outputs"][k]), rtol=1e-9, atol=1e-10)


def test_random_methods_hooks_and_gradients():
    loom.manual_seed(0)
    m = nn.Linear(10, 8)
    prune.random_unstructured(m, "weight", amount=0.25)
    assert int((m.weight_mask == 0).sum()) == 20
    assert prune.is_pruned(m)
    prune.random_structured(m, "weight", amount=0.5, dim=0)  # 4 of the 8 rows, among those left
    rows = m.weight_mask.sum(1)
    assert int((rows == 0).sum()) == 4
    # the pre-hook recomputes weight from weight_orig before each call; gradients reach weight_orig masked
    with loom.no_grad():
        m.weight_orig.add_(1.0)
    x = loom.randn(3, 10)
    out = m(x)
    np.testing.assert_allclose(m.weight.detach().numpy(), (m.weight_orig * m.weight_mask).detach().numpy())
    out.sum().backward()
    assert np.all(m.weight_orig.grad.numpy()[m.weight_mask.numpy() == 0] == 0)
    prune.remove(m, "weight")
    assert not prune.is_pruned(m) and "weight" in dict(m.named_parameters())
    assert "weight_orig" not in dict(m.named_parameters()) and "weight_mask" not in dict(m.named_buffers())
    seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    prune.identity(seq[0], "bias")
    assert prune.is_pruned(seq) and float(seq[0].bias_mask.sum()) == 3.0


def test_errors():
    m = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="should either be a float in the range \\[0, 1\\] or a non-negative integer"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.l1_unstructured(m, "weight", amount="half")
    with pytest.raises(ValueError, match="should be smaller than the number of parameters to prune=12"):
        prune.l1_unstructured(m, "weight", amount=13)
    m = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidimensional tensors"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    m = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(m, "weight")], prune.LnStructured, amount=1, n=2, dim=0)
    with pytest.raises(AttributeError, match="does not exist"):
        prune.l1_unstructured(m, "nothing", amount=1)
