"""Generates tests/data/torch_windows.json, PyTorch's side of tests/python/test_signal_windows.py: every
torch.signal.windows function in float64 for M = 1, 2, 7, 10, symmetric and periodic.

    /opt/torchpypi/bin/python tests/data/make_windows_fixtures.py
"""
import torch
import torch.signal.windows as W
from _fixtures import write  # noqa: E402  (tests/data/_fixtures.py)

CASES = [("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {}), ("gaussian", {"std": 1.5}),
         ("general_cosine", {"a": [0.46, 0.23, 0.31]}), ("general_hamming", {"alpha": 0.6}), ("hamming", {}),
         ("hann", {}), ("kaiser", {"beta": 5.0}), ("nuttall", {}),
         ("exponential", {"center": 2.0, "tau": 2.0, "sym": False})]
rows = []
for name, kwargs in CASES:
    for M in (1, 2, 7, 10):
        for sym in (True, False):
            if kwargs.get("sym", sym) != sym:
                continue
            args = dict(kwargs, sym=sym)
            rows.append({"name": name, "kwargs": args, "M": M,
                         "values": getattr(W, name)(M, dtype=torch.float64, **args).tolist()})
write("torch_windows.json", {"torch": torch.__version__, "cases": rows})
