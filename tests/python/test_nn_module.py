"""loom.nn.Module and the modules: PyTorch's state_dict keys, load_state_dict errors, init statistics,
modules against their functional composition, and a model mixing Python and C++ modules."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.nn import init

from _helpers import close

HAS_CPP = nn.modules.cpp.cpp is not None
requires_cpp = pytest.mark.skipif(not HAS_CPP, reason="loom._C built without python/src/nn_module.cpp")


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.norm = nn.LayerNorm(8)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.norm(self.fc(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([Block(), Block()])
        self.scale = nn.Parameter(loom.ones(1))
        self.register_buffer("steps", loom.zeros((), dtype=loom.int64))
        self.register_buffer("cache", loom.zeros(2), persistent=False)
        self.head = nn.Linear(8, 2, bias=False)

    def forward(self, x):
        return self.head(self.layers[0](x)) * self.scale


# Printed by torch for the same model: parameters, then persistent buffers of each module, in registration order.
NET_KEYS = [
    "scale", "steps",
    "layers.0.fc.weight", "layers.0.fc.bias", "layers.0.norm.weight", "layers.0.norm.bias", "layers.0.bn.weight",
    "layers.0.bn.bias", "layers.0.bn.running_mean", "layers.0.bn.running_var", "layers.0.bn.num_batches_tracked",
    "layers.1.fc.weight", "layers.1.fc.bias", "layers.1.norm.weight", "layers.1.norm.bias", "layers.1.bn.weight",
    "layers.1.bn.bias", "layers.1.bn.running_mean", "layers.1.bn.running_var", "layers.1.bn.num_batches_tracked",
    "head.weight",
]

TRANSFORMER_KEYS = [
    "layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias", "layers.0.self_attn.out_proj.weight",
    "layers.0.self_attn.out_proj.bias", "layers.0.linear1.weight", "layers.0.linear1.bias", "layers.0.linear2.weight",
    "layers.0.linear2.bias", "layers.0.norm1.weight", "layers.0.norm1.bias", "layers.0.norm2.weight",
    "layers.0.norm2.bias",
]

LSTM_KEYS = [
    "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
    "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
    "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
    "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
]


def test_state_dict_keys_match_torch():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == NET_KEYS
    assert [k for k, _ in net.named_parameters()] == [k for k in NET_KEYS if "running" not in k and "steps" not in k
                                                     and "num_batches" not in k]
    assert len(list(net.buffers())) == 8  # non-persistent buffers are buffers, not state
    assert [n for n, _ in net.named_modules()][:4] == ["", "layers", "layers.0", "layers.0.fc"]
    assert [n for n, _ in net.named_children()] == ["layers", "head"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf for p in net.parameters())
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
    assert list(enc.state_dict())[:12] == TRANSFORMER_KEYS
    assert len(enc.state_dict()) == 24
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert list(lstm.state_dict()) == LSTM_KEYS
    shapes = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    assert shapes["weight_ih_l0"] == (16, 3) and shapes["weight_ih_l1"] == (16, 8) and shapes["bias_hh_l1"] == (16,)
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                      "1.num_batches_tracked", "4.weight", "4.bias"]


def test_load_state_dict_roundtrip_and_errors():
    a, b = Net(), Net()
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        close(vb, va, rtol=1e-4, atol=1e-5)
    sd = a.state_dict()
    del sd["layers.0.fc.weight"]
    sd["layers.0.fc.extra"] = loom.zeros(1)
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "layers.0.fc.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "layers.0.fc.extra".' in msg
    missing, unexpected = b.load_state_dict(sd, strict=False)
    assert missing == ["layers.0.fc.weight"] and unexpected == ["layers.0.fc.extra"]
    sd = a.state_dict()
    sd["scale"] = loom.ones(2)
    with pytest.raises(RuntimeError, match=r"size mismatch for scale: copying a param with shape"):
        b.load_state_dict(sd, strict=False)


def test_train_eval_zero_grad_to_apply_repr():
    net = Net()
    assert net.training
    net.eval()
    assert not net.layers[1].bn.training
    net.train()
    x = loom.randn(3, 4)
    net(x).sum().backward()
    w = net.layers[0].fc.weight
    assert w.grad is not None
    net.zero_grad(set_to_none=False)
    assert float(w.grad.abs().sum()) == 0.0
    net.zero_grad()
    assert w.grad is None
    names = []
    net.apply(lambda m: names.append(type(m).__name__))
    assert names.count("Linear") == 3 and names[-1] == "Net"
    net.to(loom.float64)
    assert all(p.dtype == loom.float64 and isinstance(p, nn.Parameter) for p in net.parameters())
    assert net.steps.dtype == loom.int64
    assert net(loom.randn(3, 4, dtype=loom.float64)).dtype == loom.float64
    seq = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2, bias=False))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=5, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=5, out_features=2, bias=False)\n"
        ")")
    assert seq.summary().endswith("# parameters: 30")
    with pytest.raises(TypeError):
        net.scale = loom.ones(1)  # a parameter slot takes a Parameter or None
    with pytest.raises(NotImplementedError):
        nn.Module()(x)


def test_init_statistics():
    w = loom.empty(256, 512)
    init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(512)
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert float(w.std()) == pytest.approx(math.sqrt(2.0 / 256), rel=0.02)
    init.xavier_uniform_(w)
    assert float(w.std()) == pytest.approx(math.sqrt(2.0 / 768), rel=0.02)
    init.xavier_normal_(w, gain=2.0)
    assert float(w.std()) == pytest.approx(2 * math.sqrt(2.0 / 768), rel=0.02)
    init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert float(w.abs().max()) <= 0.5
    assert float(w.std()) == pytest.approx(0.2838, rel=0.03)
    init.normal_(w, 1.0, 0.5)
    assert float(w.mean()) == pytest.approx(1.0, abs=0.01)
    init.constant_(w, 0.25)
    assert float(w.sum()) == pytest.approx(0.25 * 256 * 512)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    for shape in [(6, 10), (10, 6), (4, 2, 3)]:
        q = loom.empty(*shape, dtype=loom.float64)
        init.orthogonal_(q, gain=1.5)
        m = np.asarray(q).reshape(shape[0], -1)
        g = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(g, 2.25 * np.eye(min(m.shape)), atol=1e-10)
    lin = nn.Linear(64, 32)
    assert float(lin.weight.abs().max()) <= 1 / 8 and float(lin.bias.abs().max()) <= 1 / 8
    emb = nn.Embedding(1000, 64, padding_idx=0)
    assert float(emb.weight[0].abs().sum()) == 0.0
    assert float(emb.weight.std()) == pytest.approx(1.0, rel=0.03)
    mha = nn.MultiheadAttention(16, 4)
    assert float(mha.in_proj_bias.abs().sum()) == 0.0 and float(mha.out_proj.bias.abs().sum()) == 0.0
    assert float(mha.in_proj_weight.abs().max()) <= math.sqrt(6 / (16 + 48))


def test_modules_match_functional():
    x = loom.randn(2, 3, 8, 8)
    conv = nn.Conv2d(3, 4, 3, padding=1, groups=1)
    close(conv(x), F.conv2d(x, conv.weight, conv.bias, 1, 1), rtol=1e-4, atol=1e-5)
    assert tuple(nn.Conv2d(3, 4, 3, padding="same")(x).shape) == (2, 4, 8, 8)
    c1 = nn.Conv1d(3, 2, 3, stride=2)
    x1 = loom.randn(2, 3, 9)
    close(c1(x1), F.conv1d(x1, c1.weight, c1.bias, 2), rtol=1e-4, atol=1e-5)
    close(nn.MaxPool2d(2)(x), F.max_pool2d(x, 2), rtol=1e-4, atol=1e-5)
    close(nn.AvgPool2d(3, 1, 1)(x), F.avg_pool2d(x, 3, 1, 1), rtol=1e-4, atol=1e-5)
    close(nn.AdaptiveAvgPool2d(1)(x).flatten(1), x.mean((2, 3)), rtol=1e-4, atol=1e-5)
    ln = nn.LayerNorm(8)
    close(ln(x), F.layer_norm(x, (8,), ln.weight, ln.bias), rtol=1e-4, atol=1e-5)
    bn = nn.BatchNorm2d(3)
    y = bn(x)
    mu = x.mean((0, 2, 3), keepdim=True)
    var = ((x - mu) ** 2).mean((0, 2, 3), keepdim=True)
    close(y, (x - mu) / (var + 1e-5).sqrt(), atol=1e-4, rtol=1e-4)
    assert int(bn.num_batches_tracked) == 1
    close(bn.running_mean, mu.flatten() * 0.1, atol=1e-6, rtol=1e-4)
    bn.eval()
    close(bn(x), (x - bn.running_mean.reshape(1, 3, 1, 1)) / (bn.running_var.reshape(1, 3, 1, 1) + 1e-5).sqrt(),
          atol=1e-5, rtol=1e-4)
    z = loom.randn(4, 5)
    close(nn.GELU("tanh")(z), F.gelu(z, approximate="tanh"), rtol=1e-4, atol=1e-5)
    close(nn.Softmax(dim=1)(z), F.softmax(z, 1), rtol=1e-4, atol=1e-5)
    close(nn.SiLU()(z), F.silu(z), rtol=1e-4, atol=1e-5)
    close(nn.Tanh()(z), z.tanh(), rtol=1e-4, atol=1e-5)
    close(nn.Sigmoid()(z), z.sigmoid(), rtol=1e-4, atol=1e-5)
    assert nn.Identity()(z) is z
    d = nn.Dropout(0.5)
    out = d(loom.ones(1000))
    assert 400 < int((out != 0).sum()) < 600
    d.eval()
    close(d(z), z, rtol=1e-4, atol=1e-5)
    bl = nn.Bilinear(3, 4, 2)
    a, b = loom.randn(5, 3), loom.randn(5, 4)
    ref = np.einsum("ni,oij,nj->no", np.asarray(a), np.asarray(bl.weight.detach()), np.asarray(b)) + np.asarray(
        bl.bias.detach())
    close(bl(a, b), ref, rtol=1e-4, atol=1e-5)
    emb = nn.Embedding(10, 3)
    idx = loom.tensor([[1, 2], [3, 9]])
    close(emb(idx), F.embedding(idx, emb.weight), rtol=1e-4, atol=1e-5)


def test_rnn_modules():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = loom.randn(2, 5, 3)
    out, (h, c) = lstm(x)
    assert tuple(out.shape) == (2, 5, 8) and tuple(h.shape) == (4, 2, 4) and tuple(c.shape) == (4, 2, 4)
    # The last forward-direction step of the top layer is h_n[2].
    close(out[:, -1, :4], h[2], rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None for p in lstm.parameters())
    cell = nn.LSTMCell(3, 4)
    cell.weight_ih.data if False else None
    h1, c1 = cell(x[:, 0])
    single = nn.LSTM(3, 4, batch_first=True)
    with loom.no_grad():
        single.weight_ih_l0.copy_(cell.weight_ih)
        single.weight_hh_l0.copy_(cell.weight_hh)
        single.bias_ih_l0.copy_(cell.bias_ih)
        single.bias_hh_l0.copy_(cell.bias_hh)
    o, (hn, cn) = single(x[:, :1])
    close(hn[0], h1, rtol=1e-4, atol=1e-5)
    close(cn[0], c1, rtol=1e-4, atol=1e-5)
    gru = nn.GRU(3, 4)
    o, hn = gru(loom.randn(5, 2, 3))
    assert tuple(o.shape) == (5, 2, 4) and tuple(hn.shape) == (1, 2, 4)
    stdv = 1 / 2
    assert all(float(p.abs().max()) <= stdv for p in gru.parameters())
    drop = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    o, (hn, cn) = drop(loom.randn(5, 2, 3))
    assert tuple(hn.shape) == (2, 2, 4)


def test_multihead_attention_and_transformer():
    E, H = 8, 2
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    x = loom.randn(2, 5, E)
    kpm = loom.tensor([[False] * 5, [False, False, False, True, True]])
    out_w, w = mha(x, x, x, key_padding_mask=kpm)
    out_f, none = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
    assert none is None and tuple(w.shape) == (2, 5, 5)
    close(out_w, out_f, atol=1e-5, rtol=1e-4)
    assert float(w[1, :, 3:].abs().sum()) == 0.0
    close(w.sum(-1), np.ones((2, 5)), atol=1e-6, rtol=1e-4)
    # Reference composition for one head layout.
    Wq, Wk, Wv = (mha.in_proj_weight[i * E:(i + 1) * E] for i in range(3))
    bq, bk, bv = (mha.in_proj_bias[i * E:(i + 1) * E] for i in range(3))
    q = F.linear(x, Wq, bq).reshape(2, 5, H, 4).permute(0, 2, 1, 3)
    k = F.linear(x, Wk, bk).reshape(2, 5, H, 4).permute(0, 2, 1, 3)
    v = F.linear(x, Wv, bv).reshape(2, 5, H, 4).permute(0, 2, 1, 3)
    causal = loom.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))
    s = q.matmul(k.transpose(-2, -1)) / 2.0 + loom.zeros(5, 5).masked_fill(causal, float("-inf"))
    ref = s.softmax(-1).matmul(v).permute(0, 2, 1, 3).reshape(2, 5, E)
    ref = F.linear(ref, mha.out_proj.weight, mha.out_proj.bias)
    got, _ = mha(x, x, x, attn_mask=causal, need_weights=False)
    close(got, ref, atol=1e-5, rtol=1e-4)
    seq_first = nn.MultiheadAttention(E, H)
    seq_first.load_state_dict(mha.state_dict())
    got2, _ = seq_first(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), attn_mask=causal)
    close(got2.transpose(0, 1), ref, atol=1e-5, rtol=1e-4)

    for norm_first in (False, True):
        layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=norm_first)
        y = layer(x, src_key_padding_mask=kpm)
        sa = layer.self_attn(*(3 * [layer.norm1(x) if norm_first else x]), key_padding_mask=kpm)[0]
        if norm_first:
            h = x + sa
            ref = h + layer.linear2(F.gelu(layer.linear1(layer.norm2(h))))
        else:
            h = layer.norm1(x + sa)
            ref = layer.norm2(h + layer.linear2(F.gelu(layer.linear1(h))))
        close(y, ref, atol=1e-5, rtol=1e-4)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E))
    assert enc.layers[0] is not enc.layers[1]
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    y = enc(x, mask=causal)
    y.sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


class PyHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 3)
        self.gain = nn.Parameter(loom.ones(3))

    def forward(self, x):
        return self.proj(x).relu() * self.gain


@requires_cpp
def test_mixed_python_and_cpp_modules():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.CppModule.create("Linear", 4, 8)  # loom::nn::Linear built in C++
            self.head = PyHead()

        def forward(self, x):
            return self.head(self.body(x))

    m = Mixed()
    assert list(m.state_dict()) == ["body.weight", "body.bias", "head.gain", "head.proj.weight", "head.proj.bias"]
    names = [n for n, _ in m.named_parameters()]
    assert names == ["body.weight", "body.bias", "head.gain", "head.proj.weight", "head.proj.bias"]
    assert sum(p.numel() for p in m.parameters()) == 8 * 4 + 8 + 3 + 24 + 3
    x = loom.randn(5, 4)
    y = m(x)
    w, b = m.body.cpp.named_parameters()[0][1], m.body.cpp.named_parameters()[1][1]
    close(y, m.head(F.linear(x, w, b)), rtol=1e-4, atol=1e-5)
    y.sum().backward()
    grads = {n: p.grad for n, p in m.named_parameters()}
    assert all(g is not None for g in grads.values())  # the C++ leaves got gradients through the Python model
    # Optimizer-style in-place update through parameters() reaches the C++ module.
    with loom.no_grad():
        for p in m.parameters():
            p.sub_(p.grad * 0.1)
    close(m.body.cpp.state_dict()[0][1], m.state_dict()["body.weight"], rtol=1e-4, atol=1e-5)
    # load_state_dict copies into the C++ tensors.
    other = Mixed()
    other.load_state_dict(m.state_dict())
    close(other(x), m(x), rtol=1e-4, atol=1e-5)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.eval()
    assert not m.body.cpp.training
    assert "Linear(in_features=4, out_features=8, bias=True)" in repr(m)
    with pytest.raises(RuntimeError, match="Missing key"):
        other.load_state_dict({"head.gain": loom.ones(3)})
    m.to(loom.float64)
    assert m.body.cpp.named_parameters()[0][1].dtype == loom.float64
    assert m(x.to(loom.float64)).dtype == loom.float64
    assert nn.modules.cpp.cpp.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))


def test_gradcheck_modules():
    from loom.autograd import gradcheck

    cases = [
        (nn.Linear(3, 2).double(), (2, 3)),
        (nn.Conv2d(2, 3, 2, padding=1).double(), (1, 2, 3, 3)),
        (nn.Conv1d(2, 2, 3).double(), (1, 2, 5)),
        (nn.LayerNorm(4).double(), (2, 4)),
        (nn.MultiheadAttention(4, 2, batch_first=True).double(), (1, 3, 4)),
    ]
    for module, shape in cases:
        x = loom.randn(*shape, dtype=loom.float64, requires_grad=True)
        if isinstance(module, nn.MultiheadAttention):
            fn = lambda x, m=module: m(x, x, x, need_weights=False)[0]  # noqa: E731
        else:
            fn = module
        assert gradcheck(fn, (x,))
        params = list(module.parameters())
        assert all(p.dtype == loom.float64 for p in params)


@requires_cpp
def test_cpp_module_parameters_match_python_linear():
    cpp_lin = nn.CppModule.create("Linear", 5, 3)
    py_lin = nn.Linear(5, 3)
    py_lin.load_state_dict(cpp_lin.state_dict())
    x = loom.randn(4, 5)
    close(cpp_lin(x), py_lin(x), rtol=1e-4, atol=1e-5)
    assert isinstance(nn.CppModule.create("LayerNorm", [5]), nn.Module)
    conv = nn.CppModule.create("Conv2d", 1, 2, 3)
    assert list(conv.state_dict()) == ["weight", "bias"] and tuple(conv.state_dict()["weight"].shape) == (2, 1, 3, 3)
