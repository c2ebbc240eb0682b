"""MultiheadAttention (kdim / vdim, add_bias_kv, add_zero_attn), TransformerDecoderLayer, TransformerDecoder and
Transformer against PyTorch: tests/data/torch_transformer.json holds, per case, PyTorch 2.15's state dict, inputs,
outputs in eval mode and the gradients of sum(output * weights) to the inputs and to every parameter (made by
tests/data/make_transformer_fixtures.py). loom loads the state dict by PyTorch's names and must give the same
numbers in float64."""
import numpy as np
import pytest

import loom
from loom import nn

from _helpers import arr, close, load_fixture

FIXTURE = load_fixture("torch_transformer.json")
CASES = {c["name"]: c for c in FIXTURE["cases"]}


def tensor(j, requires_grad=False):
    return loom.tensor(arr(j), requires_grad=requires_grad)


def build(case):
    kw = dict(case["kwargs"])
    if case["name"] == "decoder_stack":
        layer = nn.TransformerDecoderLayer(**kw["layer"], dtype=loom.float64)
        return nn.TransformerDecoder(layer, kw["num_layers"], norm=nn.LayerNorm(layer.linear1.in_features,
                                                                                dtype=loom.float64))
    return getattr(nn, case["module"])(**kw, dtype=loom.float64)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    case = CASES[name]
    mod = build(case)
    sd = {k: tensor(v) for k, v in case["state_dict"].items()}
    assert sorted(mod.state_dict().keys()) == sorted(sd.keys())
    mod.load_state_dict(sd)
    mod.eval()
    inputs = [tensor(j, requires_grad=j["dtype"] == "float64") for j in case["inputs"]]
    kwargs = {k: tensor(v) if isinstance(v, dict) else v for k, v in case["call_kwargs"].items()}
    out = mod(*inputs, **kwargs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    assert len(outs) == len(case["outputs"])
    for o, want in zip(outs, case["outputs"]):
        assert list(o.shape) == want["shape"]
        close(o, arr(want), rtol=1e-8, atol=1e-9)
    loss = sum((o * tensor(w)).sum() for o, w in zip(outs, case["out_weights"]))
    loss.backward()
    grads = [x.grad for x in inputs if x.requires_grad]
    for g, want in zip(grads, case["input_grads"]):
        close(g, arr(want), rtol=1e-7, atol=1e-9)
    params = dict(mod.named_parameters())
    assert set(case["param_grads"]) <= set(params)
    for k, want in case["param_grads"].items():
        close(params[k].grad, arr(want), rtol=1e-7, atol=1e-9)


def test_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(5, dtype=loom.float64)
    np.testing.assert_array_equal(m.numpy(), arr(FIXTURE["causal_mask_5"]))
    assert nn.Transformer.generate_square_subsequent_mask(3).dtype == loom.float32


def test_parameter_names_and_shapes():
    mha = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    shapes = {k: list(v.shape) for k, v in mha.named_parameters()}
    assert shapes == {"q_proj_weight": [8, 8], "k_proj_weight": [8, 3], "v_proj_weight": [8, 5],
                      "in_proj_bias": [24], "bias_k": [1, 1, 8], "bias_v": [1, 1, 8], "out_proj.weight": [8, 8],
                      "out_proj.bias": [8]}
    assert mha.in_proj_weight is None and not mha._qkv_same_embed_dim
    same = nn.MultiheadAttention(8, 2, kdim=8, vdim=8)
    assert same._qkv_same_embed_dim and same.q_proj_weight is None
    t = nn.Transformer(16, 4, 2, 3, 32, dropout=0.0)
    assert len(t.encoder.layers) == 2 and len(t.decoder.layers) == 3
    assert isinstance(t.encoder.norm, nn.LayerNorm) and isinstance(t.decoder.norm, nn.LayerNorm)
    assert "decoder.layers.2.multihead_attn.in_proj_weight" in t.state_dict()


def test_bad_inputs():
    mha = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    q, k, v = loom.randn(4, 2, 8), loom.randn(6, 2, 3), loom.randn(6, 2, 5)
    assert mha(q, k, v)[0].shape == (4, 2, 8)
    with pytest.raises(AssertionError, match="key of shape"):
        mha(q, loom.randn(6, 2, 8), v)
    with pytest.raises(AssertionError, match="value of shape"):
        mha(q, k, loom.randn(7, 2, 5))
    t = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        t(loom.randn(5, 2, 8), loom.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="feature number"):
        t(loom.randn(5, 2, 8), loom.randn(4, 2, 6))
    layer = nn.TransformerDecoderLayer(8, 2, 16)
    with pytest.raises(RuntimeError, match="tgt_is_causal=True needs tgt_mask"):
        layer(loom.randn(4, 2, 8), loom.randn(5, 2, 8), tgt_is_causal=True)


def test_decoder_is_causal():
    # With the causal mask, a target position's output does not depend on later target positions.
    loom.manual_seed(3)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2).double()
    tgt, mem = loom.randn(2, 6, 8, dtype=loom.float64), loom.randn(2, 4, 8, dtype=loom.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=loom.float64)
    a = dec(tgt, mem, tgt_mask=mask, tgt_is_causal=True)
    tgt2 = tgt.clone()
    tgt2[:, 4:] = 0.0
    b = dec(tgt2, mem, tgt_mask=mask)
    close(a[:, :4], b[:, :4], rtol=1e-12, atol=1e-12)
    assert not np.allclose(a[:, 4:].detach().numpy(), b[:, 4:].detach().numpy())
