"""Generates tests/data/torch_packed.json, PyTorch's side of tests/python/test_packed_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_packed_fixtures.py

For each case: an RNN / LSTM / GRU (constructor keyword arguments, state dict), a padded batch and its
lengths (packed with enforce_sorted=False), an initial state or none, the padded output and lengths of
pad_packed_sequence, h_n (and c_n), and the gradients of sum(padded output * w) + sum(h_n * v) to the padded
input and every parameter, in float64.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)




cases = []


def case(name, module, kwargs, T, B, lengths, with_hx=False):
    mod = getattr(nn, module)(**kwargs)
    mod.eval()
    bf = kwargs.get("batch_first", False)
    x = torch.randn(B, T, kwargs["input_size"]) if bf else torch.randn(T, B, kwargs["input_size"])
    xr = x.clone().requires_grad_(True)
    D = 2 if kwargs.get("bidirectional") else 1
    L = kwargs.get("num_layers", 1)
    hx = None
    if with_hx:
        h0 = torch.randn(L * D, B, kwargs["hidden_size"])
        hx = (h0, torch.randn(L * D, B, kwargs["hidden_size"])) if module == "LSTM" else h0
    packed = pack_padded_sequence(xr, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
    out, state = mod(packed, hx)
    padded, out_lengths = pad_packed_sequence(out, batch_first=bf, total_length=T)
    states = list(state) if isinstance(state, tuple) else [state]
    w = torch.randn_like(padded)
    vs = [torch.randn_like(s) for s in states]
    loss = (padded * w).sum() + sum((s * v).sum() for s, v in zip(states, vs))
    params = dict(mod.named_parameters())
    grads = torch.autograd.grad(loss, [xr] + list(params.values()))
    cases.append({
        "name": name, "module": module, "kwargs": kwargs, "lengths": lengths,
        "state_dict": {k: t2j(v) for k, v in mod.state_dict().items()}, "input": t2j(x),
        "hx": [t2j(h) for h in ((list(hx) if isinstance(hx, tuple) else [hx]) if hx is not None else [])],
        "padded": t2j(padded.detach()), "out_lengths": t2j(out_lengths), "states": [t2j(s.detach()) for s in states],
        "w": t2j(w), "vs": [t2j(v) for v in vs], "input_grad": t2j(grads[0]),
        "param_grads": {k: t2j(g) for k, g in zip(params, grads[1:])},
    })


case("lstm", "LSTM", dict(input_size=3, hidden_size=4), 6, 4, [3, 6, 1, 4])
case("lstm_2layer_bidir_bf_hx", "LSTM",
     dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True), 5, 3, [2, 5, 5],
     with_hx=True)
case("gru_bidir", "GRU", dict(input_size=3, hidden_size=4, bidirectional=True), 5, 4, [5, 2, 4, 1])
case("gru_2layer_hx_nobias", "GRU", dict(input_size=3, hidden_size=4, num_layers=2, bias=False), 4, 3, [4, 1, 3],
     with_hx=True)
case("rnn_relu_bidir", "RNN", dict(input_size=3, hidden_size=4, nonlinearity="relu", bidirectional=True), 5, 3,
     [1, 5, 3])

write("torch_packed.json", {"torch_version": torch.__version__, "cases": cases})
