"""Generates tests/data/torch_pool.json, PyTorch's side of tests/python/test_pool_torch.py (and of the 3-D
pools in it).

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_pool_fixtures.py

For each case: a torch.nn.functional pooling call (input, keyword arguments), its outputs (values, and
indices where asked for) and the gradient of sum(values * weights) to the input, in float64.
"""

import torch
import torch.nn.functional as F
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)




cases = []


def case(fn, x, **kwargs):
    x = x.clone().requires_grad_(True)
    out = getattr(F, fn)(x, **kwargs)
    values, indices = (out if isinstance(out, tuple) else (out, None))
    w = torch.randn_like(values)
    (g,) = torch.autograd.grad((values * w).sum(), [x])
    kwargs = {k: t2j(v) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    cases.append({"fn": fn, "kwargs": kwargs, "input": t2j(x.detach()), "values": t2j(values.detach()),
                  "indices": t2j(indices) if indices is not None else None, "out_weight": t2j(w), "grad": t2j(g)})


x4 = torch.randn(1, 2, 7, 9)
ties = torch.randint(0, 3, (1, 2, 7, 9)).double()  # many equal values: the first maximum wins
for size in ((3, 4), (1, 1), (10, 12), (7, None), 5):
    case("adaptive_max_pool2d", x4, output_size=size, return_indices=True)
case("adaptive_max_pool2d", ties, output_size=(3, 4), return_indices=True)
case("adaptive_max_pool2d", ties, output_size=(9, 11), return_indices=True)
case("adaptive_max_pool2d", x4[0], output_size=(2, 5))
x3 = torch.randn(2, 2, 11)
for size in (4, 1, 15):
    case("adaptive_max_pool1d", x3, output_size=size, return_indices=True)
    case("adaptive_avg_pool1d", x3, output_size=size)
case("adaptive_max_pool1d", torch.randint(0, 3, (3, 11)).double(), output_size=4, return_indices=True)
for kw in (dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=1, dilation=3),
           dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)):
    case("max_pool1d", x3, return_indices=True, **kw)
case("max_pool1d", x3[0], kernel_size=(3,), stride=(2,))
for kw in (dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1),
           dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
           dict(kernel_size=4, stride=3, padding=2, ceil_mode=True),
           dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)):
    case("avg_pool1d", x3, **kw)

# 3-D pools and avg_pool2d's divisor_override
x5 = torch.randn(1, 1, 5, 5, 6)
for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(3, 2, 2), stride=(2, 1, 2),
           padding=(1, 0, 1), ceil_mode=True), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
           dict(kernel_size=(2, 3, 2), stride=2, padding=(1, 1, 0), ceil_mode=True, count_include_pad=False),
           dict(kernel_size=2, stride=1, divisor_override=3)):
    case("avg_pool3d", x5, **kw)
for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=1, dilation=2),
           dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True)):
    case("max_pool3d", x5, return_indices=True, **kw)
case("max_pool3d", torch.randint(0, 3, (1, 1, 5, 5, 6)).double(), kernel_size=3, stride=2, padding=1,
     return_indices=True)
for size in ((2, 3, 4), 1, (6, 6, 7), (None, 3, None)):
    case("adaptive_avg_pool3d", x5, output_size=size)
    case("adaptive_max_pool3d", x5, output_size=size, return_indices=True)
case("adaptive_max_pool3d", torch.randint(0, 3, (1, 1, 5, 5, 6)).double(), output_size=(2, 3, 4), return_indices=True)
case("avg_pool3d", x5[0], kernel_size=2)
case("avg_pool2d", torch.randn(1, 2, 7, 8), kernel_size=3, stride=2, padding=1, divisor_override=5)
case("avg_pool2d", torch.randn(1, 2, 7, 8), kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True,
     divisor_override=2)

# fractional max pooling: the windows fixed by _random_samples (binary fractions, exact in the fixture)
def samples(n, c, nd, dtype=torch.float64):
    return (torch.randint(0, 1024, (n, c, nd)) / 1024.0).to(dtype)


xf = torch.randn(2, 3, 11, 10)
for kw in (dict(kernel_size=3, output_size=(5, 4)), dict(kernel_size=(2, 3), output_ratio=(0.5, 0.7)),
           dict(kernel_size=2, output_size=(10, 9)), dict(kernel_size=4, output_size=1),
           dict(kernel_size=1, output_size=(11, 3))):
    case("fractional_max_pool2d", xf, return_indices=True, _random_samples=samples(2, 3, 2), **kw)
case("fractional_max_pool2d", torch.randint(0, 3, (1, 2, 9, 9)).double(), kernel_size=3, output_size=(4, 5),
     return_indices=True, _random_samples=samples(1, 2, 2))
case("fractional_max_pool2d", xf[0], kernel_size=2, output_size=(6, 7), _random_samples=samples(1, 3, 2))
case("fractional_max_pool2d", xf.float(), kernel_size=3, output_size=(7, 6), return_indices=True,
     _random_samples=samples(2, 3, 2, torch.float32))
xg = torch.randn(1, 2, 7, 8, 6)
for kw in (dict(kernel_size=2, output_size=(4, 5, 3)), dict(kernel_size=(3, 2, 2), output_ratio=(0.6, 0.5, 0.5)),
           dict(kernel_size=(1, 3, 2), output_size=(6, 2, 4))):
    case("fractional_max_pool3d", xg, return_indices=True, _random_samples=samples(1, 2, 3), **kw)
case("fractional_max_pool3d", xg.float(), kernel_size=2, output_size=(5, 4, 4), return_indices=True,
     _random_samples=samples(1, 2, 3, torch.float32))

write("torch_pool.json", {"torch_version": torch.__version__, "cases": cases})
