"""Generates tests/data/torch_prune.json, PyTorch's side of tests/python/test_prune.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_prune_fixtures.py

Each case builds modules (Linear / Conv2d with seeded weights), applies a sequence of torch.nn.utils.prune
operations and records the state dicts after them and each module's output on a fixed input. Only the
deterministic methods (by magnitude or norm, custom masks): the random ones are checked by their counts.
"""
import torch
from torch import nn
from torch.nn.utils import prune
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

MAKERS = {"Linear": nn.Linear, "Conv2d": nn.Conv2d}
METHODS = {"L1Unstructured": prune.L1Unstructured}
cases = []


def enc(v):
    return t2j(v) if isinstance(v, torch.Tensor) else v


def case(name, modules, ops, inputs):
    mods = {k: MAKERS[c](*args) for k, (c, args) in modules.items()}
    init = {k: {n: t2j(t) for n, t in m.state_dict().items()} for k, m in mods.items()}
    for op in ops:
        kind = op[0]
        if kind == "global_unstructured":
            params = [(mods[m], n) for m, n in op[1]]
            scores = {(mods[m], n): s for (m, n), s in op[3].get("importance_scores", [])} or None
            kw = {k: v for k, v in op[3].items() if k != "importance_scores"}
            prune.global_unstructured(params, METHODS[op[2]], importance_scores=scores, **kw)
        elif kind == "remove":
            prune.remove(mods[op[1]], op[2])
        else:
            getattr(prune, kind)(mods[op[1]], op[2], **op[3])
    sd = {k: {n: t2j(t) for n, t in m.state_dict().items()} for k, m in mods.items()}
    outs = {k: t2j(mods[k](x).detach()) for k, x in inputs.items()}
    json_ops = []
    for op in ops:
        if op[0] == "global_unstructured":
            extra = dict(op[3])
            if "importance_scores" in extra:
                extra["importance_scores"] = [[list(mn), t2j(s)] for mn, s in extra["importance_scores"]]
            json_ops.append([op[0], [list(p) for p in op[1]], op[2], extra])
        elif op[0] == "remove":
            json_ops.append(list(op))
        else:
            json_ops.append([op[0], op[1], op[2], {k: enc(v) for k, v in op[3].items()}])
    cases.append({"name": name, "modules": modules, "init": init, "ops": json_ops, "state_dict": sd,
                  "inputs": {k: t2j(x) for k, x in inputs.items()}, "outputs": outs})


x_lin, x_conv = torch.randn(3, 5), torch.randn(2, 3, 6, 6)
LIN = {"a": ("Linear", [5, 4])}
CONV = {"c": ("Conv2d", [3, 6, 3])}
case("l1 fraction", LIN, [("l1_unstructured", "a", "weight", {"amount": 0.3})], {"a": x_lin})
case("l1 count, bias", LIN, [("l1_unstructured", "a", "bias", {"amount": 2})], {"a": x_lin})
case("l1 importance scores", LIN, [("l1_unstructured", "a", "weight",
                                    {"amount": 0.5, "importance_scores": torch.randn(4, 5)})], {"a": x_lin})
case("ln structured dim 0", CONV, [("ln_structured", "c", "weight", {"amount": 0.5, "n": 2, "dim": 0})],
     {"c": x_conv})
case("ln structured n=1 dim 1", LIN, [("ln_structured", "a", "weight", {"amount": 2, "n": 1, "dim": 1})],
     {"a": x_lin})
case("ln structured inf norm", CONV, [("ln_structured", "c", "weight", {"amount": 0.34, "n": float("inf"),
                                                                         "dim": 1})], {"c": x_conv})
case("iterative", CONV, [("l1_unstructured", "c", "weight", {"amount": 0.5}),
                         ("ln_structured", "c", "weight", {"amount": 0.5, "n": 2, "dim": 0}),
                         ("l1_unstructured", "c", "weight", {"amount": 10})], {"c": x_conv})
case("custom mask then l1", LIN, [("custom_from_mask", "a", "weight", {"mask": (torch.rand(4, 5) > 0.3).double()}),
                                  ("l1_unstructured", "a", "weight", {"amount": 0.25})], {"a": x_lin})
case("identity", LIN, [("identity", "a", "weight", {})], {"a": x_lin})
case("remove", LIN, [("l1_unstructured", "a", "weight", {"amount": 0.4}), ("remove", "a", "weight")], {"a": x_lin})
two = {"a": ("Linear", [5, 4]), "b": ("Linear", [4, 3])}
case("global", two, [("global_unstructured", [("a", "weight"), ("b", "weight"), ("a", "bias")], "L1Unstructured",
                      {"amount": 0.4})], {"a": x_lin, "b": torch.randn(3, 4)})
case("global after local", two, [("l1_unstructured", "a", "weight", {"amount": 0.5}),
                                 ("global_unstructured", [("a", "weight"), ("b", "weight")], "L1Unstructured",
                                  {"amount": 6})], {"a": x_lin, "b": torch.randn(3, 4)})

write("torch_prune.json", {"cases": cases})
