"""PackedSequence (pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence, unpad_sequence)
and RNN / LSTM / GRU on packed batches, against PyTorch: tests/data/torch_packed.json holds PyTorch 2.15's
padded outputs, lengths, final states and gradients (input and every parameter) in float64 for unsorted
batches, two layers, both directions, initial states (made by tests/data/make_packed_fixtures.py)."""
import numpy as np
import pytest

import loom
from loom import nn
from loom.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence,
                               pad_sequence, unpack_sequence, unpad_sequence)

from _helpers import arr, close, load_fixture

FIXTURE = load_fixture("torch_packed.json")


def tensor(j, requires_grad=False):
    return loom.tensor(arr(j), requires_grad=requires_grad)


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_matches_pytorch(case):
    mod = getattr(nn, case["module"])(**case["kwargs"], dtype=loom.float64)
    mod.load_state_dict({k: tensor(v) for k, v in case["state_dict"].items()})
    mod.eval()
    bf = case["kwargs"].get("batch_first", False)
    x = tensor(case["input"], requires_grad=True)
    hx = [tensor(h) for h in case["hx"]]
    hx = None if not hx else (tuple(hx) if case["module"] == "LSTM" else hx[0])
    packed = pack_padded_sequence(x, loom.tensor(case["lengths"]), batch_first=bf, enforce_sorted=False)
    out, state = mod(packed, hx)
    assert isinstance(out, PackedSequence)
    padded, lengths = pad_packed_sequence(out, batch_first=bf, total_length=x.shape[1 if bf else 0])
    close(padded, arr(case["padded"]), rtol=1e-9, atol=1e-10)
    assert lengths.tolist() == arr(case["out_lengths"]).tolist()
    states = list(state) if isinstance(state, tuple) else [state]
    for s, want in zip(states, case["states"]):
        close(s, arr(want), rtol=1e-9, atol=1e-10)
    loss = (padded * tensor(case["w"])).sum() + sum((s * tensor(v)).sum() for s, v in zip(states, case["vs"]))
    loss.backward()
    close(x.grad, arr(case["input_grad"]), rtol=1e-8, atol=1e-10)
    params = dict(mod.named_parameters())
    for k, want in case["param_grads"].items():
        close(params[k].grad, arr(want), rtol=1e-8, atol=1e-10)


def test_packing_round_trips():
    seqs = [loom.randn(n, 2) for n in (3, 5, 1, 4)]
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [4, 3, 3, 2, 1]
    assert packed.data.shape == (13, 2)
    for a, b in zip(unpack_sequence(packed), seqs):
        close(a, b)
    padded = pad_sequence(seqs, batch_first=True)
    for a, b in zip(unpad_sequence(padded, [3, 5, 1, 4], batch_first=True), seqs):
        close(a, b)
    sorted_seqs = sorted(seqs, key=lambda s: -s.shape[0])
    p2 = pack_sequence(sorted_seqs)  # already sorted: no permutation kept
    assert p2.sorted_indices is None and p2.unsorted_indices is None
    y, lens = pad_packed_sequence(p2, padding_value=-1.0)
    assert lens.tolist() == [5, 4, 3, 1] and y.shape == (5, 4, 2) and (y[1:, 3] == -1).all()


def test_packed_matches_unpacked_on_full_length():
    # Every sequence full length: the packed path and the fused kernels compute the same thing.
    loom.manual_seed(2)
    for mod in (nn.LSTM(3, 4, 2, bidirectional=True), nn.GRU(3, 4), nn.RNN(3, 4, nonlinearity="relu")):
        mod = mod.double()
        x = loom.randn(5, 3, 3, dtype=loom.float64)
        full, state_full = mod(x)
        packed, state_packed = mod(pack_padded_sequence(x, [5, 5, 5]))
        close(pad_packed_sequence(packed)[0], full, rtol=1e-10, atol=1e-12)
        sf = state_full if isinstance(state_full, tuple) else (state_full,)
        sp = state_packed if isinstance(state_packed, tuple) else (state_packed,)
        for a, b in zip(sp, sf):
            close(a, b, rtol=1e-10, atol=1e-12)


def test_packed_layers_with_dropout_match_the_layer_stack():
    # Training with dropout runs the fused kernels layer by layer (dropout between them); with p -> 0 the
    # result is the stacked call's, and the elements a dropout mask zeroes differ run to run.
    loom.manual_seed(3)
    for cls in (nn.LSTM, nn.GRU):
        mod = cls(3, 4, 3, bidirectional=True).double()
        x = loom.randn(6, 4, 3, dtype=loom.float64)
        packed = pack_padded_sequence(x, [6, 2, 5, 1], enforce_sorted=False)
        mod.eval()
        want, _ = mod(packed)
        mod.train()
        mod.dropout = 1e-300
        got, _ = mod(packed)
        close(pad_packed_sequence(got)[0], pad_packed_sequence(want)[0], rtol=1e-12, atol=1e-14)
        mod.dropout = 0.5
        a, _ = mod(packed)
        assert a.data.shape == want.data.shape and not np.allclose(a.data.detach().numpy(), want.data.detach().numpy())


def test_bad_inputs():
    x = loom.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 3])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(x, [4, 0, 3], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="B = len\\(lengths\\)"):
        pack_padded_sequence(x, [4, 3])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(pack_padded_sequence(x, [4, 3, 2]), total_length=3)
    with pytest.raises(TypeError, match="PackedSequence"):
        pad_packed_sequence(x)
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRU(2, 5)(pack_padded_sequence(x, [4, 3, 2]), loom.zeros(1, 2, 5))
