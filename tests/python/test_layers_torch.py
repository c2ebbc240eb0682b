"""RMSNorm, InstanceNorm1d/2d, LocalResponseNorm, PReLU, Softmax2d, PixelShuffle / PixelUnshuffle,
ChannelShuffle, EmbeddingBag, RNN, RNNCell and BatchNorm3d against PyTorch: tests/data/torch_layers.json holds, per case,
PyTorch 2.15's state dict, inputs, outputs, buffers after the call and the gradients of sum(output * weights)
to the float inputs and every parameter, in float64 (made by tests/data/make_layer_fixtures.py). Also channel
dropout, which PyTorch's random stream cannot check, by its properties; and the errors."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom import nn

from _helpers import arr, close, load_fixture

FIXTURE = load_fixture("torch_layers.json")
CASES = {c["name"]: c for c in FIXTURE["cases"]}


def tensor(j, requires_grad=False):
    return loom.tensor(arr(j), requires_grad=requires_grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    case = CASES[name]
    kwargs = dict(case["kwargs"])
    if "normalized_shape" in kwargs and isinstance(kwargs["normalized_shape"], list):
        kwargs["normalized_shape"] = tuple(kwargs["normalized_shape"])
    mod = getattr(nn, case["module"])(**kwargs, **({} if case["module"] in ("LocalResponseNorm", "Softmax2d",
                                                                              "PixelShuffle", "PixelUnshuffle",
                                                                              "ChannelShuffle")
                                                    else {"dtype": loom.float64}))
    sd = {k: tensor(v) for k, v in case["state_dict"].items()}
    assert sorted(mod.state_dict().keys()) == sorted(sd.keys())
    mod.load_state_dict(sd)
    mod.train(case["train"])
    inputs = [tensor(j, requires_grad=j["dtype"] == "float64") for j in case["inputs"]]
    kw = {k: tensor(v) if isinstance(v, dict) else v for k, v in case["call_kwargs"].items()}
    out = mod(*inputs, **kw)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    assert len(outs) == len(case["outputs"])
    for o, want in zip(outs, case["outputs"]):
        assert list(o.shape) == want["shape"]
        close(o, arr(want), rtol=1e-9, atol=1e-10)
    for k, want in case["buffers_after"].items():
        close(dict(mod.named_buffers())[k], arr(want), rtol=1e-9, atol=1e-10)
    sum((o * tensor(w)).sum() for o, w in zip(outs, case["out_weights"])).backward()
    for x, want in zip([x for x in inputs if x.requires_grad], case["input_grads"]):
        close(x.grad, arr(want), rtol=1e-8, atol=1e-10)
    params = dict(mod.named_parameters())
    for k, want in case["param_grads"].items():
        close(params[k].grad, arr(want), rtol=1e-8, atol=1e-10)


def test_instance_norm_eval_uses_running_stats():
    m = nn.InstanceNorm2d(3, track_running_stats=True, momentum=1.0)
    x = loom.randn(4, 3, 5, 5)
    m(x)  # train: running stats := this batch's
    m.eval()
    y = m(x)
    mean = x.mean((2, 3)).mean(0).reshape(1, 3, 1, 1)
    var = (x.var((2, 3), unbiased=True)).mean(0).reshape(1, 3, 1, 1)
    close(y, (x - mean) / (var + 1e-5).sqrt(), rtol=1e-5, atol=1e-5)
    assert int(m.num_batches_tracked) == 0  # as PyTorch: instance norm does not count batches


@pytest.mark.parametrize("fn,shape,batched", [(F.dropout1d, (8, 16, 5), True), (F.dropout2d, (8, 16, 3, 4), True),
                                              (F.dropout3d, (4, 16, 2, 3, 2), True), (F.dropout2d, (16, 3, 4), False)])
def test_channel_dropout(fn, shape, batched):
    loom.manual_seed(5)
    x = loom.rand(*shape) + 1.0
    y = fn(x, 0.4, True).numpy()
    channels = shape[0] * shape[1] if batched else shape[0]
    per_channel, ref = y.reshape(channels, -1), x.numpy().reshape(channels, -1) / 0.6
    zero = (per_channel == 0).all(-1)
    kept = np.isclose(per_channel, ref, rtol=1e-6).all(-1)
    assert (zero | kept).all()  # every channel all zero, or all of it scaled by 1 / (1 - p)
    assert 0.2 < zero.mean() < 0.6
    np.testing.assert_array_equal(fn(x, 0.4, False).numpy(), x.numpy())  # eval: the input
    assert (fn(x, 1.0, True).numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        fn(x, 1.5)
    m = nn.Dropout2d(0.5)
    m.eval()
    assert m(loom.ones(2, 3, 4, 4)).sum().item() == 96


def test_embedding_bag_matches_embedding_and_from_pretrained():
    w = loom.randn(12, 5)
    idx = loom.tensor([[1, 4, 7], [2, 2, 11]])
    close(F.embedding_bag(idx, w, mode="mean"), F.embedding(idx, w).mean(1))
    close(F.embedding_bag(idx, w, mode="max"), F.embedding(idx, w).amax(1))
    bag = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not bag.weight.requires_grad
    close(bag(idx), F.embedding(idx, w).sum(1))
    # empty bags give zeros in every mode
    for mode in ("sum", "mean", "max"):
        r = F.embedding_bag(loom.tensor([3, 4]), w, loom.tensor([0, 0, 2]), mode=mode)
        assert r.shape == (3, 5) and (r[0] == 0).all() and (r[2] == 0).all()


def test_bad_inputs():
    x = loom.randn(2, 6, 3, 4)
    with pytest.raises(RuntimeError, match="rms_norm: given normalized_shape"):
        F.rms_norm(x, (5,))
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(x, 4)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(x, 4)
    with pytest.raises(RuntimeError, match="divisible by groups"):
        F.channel_shuffle(x, 4)
    with pytest.raises(RuntimeError, match="mismatch of parameter numbers"):
        F.prelu(x, loom.ones(5))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(6)(loom.randn(2, 6))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(loom.tensor([[1, 2]]), loom.randn(4, 2), loom.tensor([0]))
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(loom.tensor([1, 2]), loom.randn(4, 2), loom.tensor([1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(loom.tensor([[1, 2]]), loom.randn(4, 2), per_sample_weights=loom.ones(1, 2))
    with pytest.raises(IndexError):
        F.embedding_bag(loom.tensor([[1, 7]]), loom.randn(4, 2))
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="input_size"):
        nn.RNN(3, 4)(loom.randn(5, 2, 4))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.RNN(3, 4)(loom.randn(5, 2, 3), loom.randn(1, 3, 4))
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.RNNCell(3, 4)(loom.randn(2, 5))
    with pytest.raises(ValueError, match="Softmax2d"):
        nn.Softmax2d()(loom.randn(2, 3))


def test_inplace_activations():
    x = loom.randn(3, 4)
    for name, ref in (("relu_", F.relu), ("elu_", F.elu), ("celu_", F.celu), ("selu_", F.selu),
                      ("leaky_relu_", F.leaky_relu), ("hardtanh_", F.hardtanh)):
        y = x.clone()
        out = getattr(F, name)(y)
        close(y, ref(x))
        close(out, ref(x))
    y = x.clone()
    F.threshold_(y, 0.1, -5.0)
    close(y, F.threshold(x, 0.1, -5.0))
    y = x.clone()
    F.rrelu_(y)
    close(y, F.rrelu(x))


def test_random_activations_and_dropouts():
    loom.manual_seed(3)
    x = -loom.rand(1000) - 0.5  # all negative
    slope = (F.rrelu(x, 0.1, 0.3, training=True) / x).numpy()
    assert slope.min() >= 0.1 - 1e-6 and slope.max() <= 0.3 + 1e-6 and slope.std() > 0.03
    close(nn.RReLU(0.1, 0.3).eval()(x), x * 0.2)
    # gumbel_softmax: rows sum to 1; hard gives one-hot rows with the soft gradient
    logits = loom.randn(64, 5, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    close(soft.sum(-1), np.ones(64), rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    h = hard.detach().numpy()
    assert ((h == 0) | (h == 1)).all() and (h.sum(-1) == 1).all()
    (hard * loom.randn(64, 5)).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0
    # alpha dropout keeps (about) zero mean and unit variance; eval is the identity
    z = loom.randn(200000)
    a = F.alpha_dropout(z, 0.3, training=True).numpy()
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02
    np.testing.assert_array_equal(nn.AlphaDropout(0.3).eval()(z).numpy(), z.numpy())
    f = F.feature_alpha_dropout(loom.randn(64, 16, 10), 0.5, training=True).numpy()
    dropped = np.isclose(f, f[..., :1]).all(-1)  # a dropped channel holds one constant value
    assert 0.3 < dropped.mean() < 0.7


def test_parameter_dict():
    d = nn.ParameterDict({"a": loom.randn(2), "b": nn.Parameter(loom.ones(3))})
    d["c"] = loom.zeros(1)
    assert list(d.keys()) == ["a", "b", "c"] and len(d) == 3 and "b" in d
    assert isinstance(d["c"], nn.Parameter) and d["c"].requires_grad
    assert [n for n, _ in d.named_parameters()] == ["a", "b", "c"]
    d.pop("a")
    assert list(d) == ["b", "c"]
    assert sorted(d.state_dict().keys()) == ["b", "c"]
    assert isinstance(nn.LSTM(2, 3), nn.RNNBase) and isinstance(nn.GRUCell(2, 3), nn.RNNCellBase)
