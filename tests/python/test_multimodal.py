"""loom.multimodal: the C++ CLIP dual encoders and fusion modules from Python."""
import math

import pytest

import loom
import loom.nn.functional as F
from loom import multimodal as mm

from _helpers import close


def tokens(b, length, vocab=1000):
    return loom.randint(0, vocab, (b, length))


@pytest.mark.parametrize("text,params", [("transformer", 2_363_713), ("lstm", 1_302_337)])
def test_clip_parameters_and_state_dict(text, params):
    model = mm.CLIP(text)
    assert sum(p.numel() for p in model.parameters()) == params
    keys = list(model.state_dict().keys())
    assert keys[0] == "logit_scale"
    assert "img.convs.0.weight" in keys and "txt.proj.bias" in keys
    assert math.isclose(model.state_dict()["logit_scale"].item(), math.log(1 / 0.07), rel_tol=1e-6)


def test_clip_loss_matches_the_embeddings_and_trains():
    loom.manual_seed(0)
    model = mm.CLIP("lstm")
    images, toks = loom.randn(6, 3, 16, 16), tokens(6, 10)
    a = F.normalize(model.encode_image(images), dim=-1)
    b = F.normalize(model.encode_text(toks), dim=-1)
    logits = model.state_dict()["logit_scale"].exp() * a @ b.t()
    labels = loom.arange(6)
    ref = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
    loss = model(images, toks)
    assert abs(loss.item() - ref.item()) < 1e-5
    opt = loom.optim.AdamW(model.parameters(), lr=1e-3)
    first = None
    for _ in range(15):
        opt.zero_grad()
        loss = model(images, toks)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first


def test_clip_load_state_dict_round_trip():
    a, b = mm.CLIP("transformer"), mm.CLIP("transformer")
    b.load_state_dict(a.state_dict())
    images, toks = loom.randn(2, 3, 8, 8), tokens(2, 32)
    assert abs(a(images, toks).item() - b(images, toks).item()) < 1e-6


def test_fusion_modules_match_the_functional_ops():
    loom.manual_seed(1)
    a, b = loom.randn(5, 8), loom.randn(5, 8)
    g = mm.GatedFusion(8)
    sd = g.state_dict()
    gate = loom.sigmoid(loom.cat([a, b], 1) @ sd["weight"].t() + sd["bias"])
    close(g(a, b), gate * a + (1 - gate) * b, rtol=1e-7, atol=1e-5)
    film = mm.FiLM(8, 3)
    cond = loom.randn(5, 3)
    gb = cond @ film.state_dict()["weight"].t() + film.state_dict()["bias"]
    close(film(a, cond), gb[:, :8] * a + gb[:, 8:], rtol=1e-7, atol=1e-5)
    cat = mm.ConcatFusion(8, 8, 4)
    ref = F.linear(loom.cat([a, b], 1), cat.state_dict()["weight"], cat.state_dict()["bias"])
    close(cat(a, b), ref, rtol=1e-7, atol=1e-5)
    assert mm.BilinearPooling(8, 8, 6, 3)(a, b).shape == (5, 3)
    late = mm.LateFusion()
    close(late(a, b), (a + b) / 2, atol=1e-6, rtol=1e-7)
    x, ctx = loom.randn(2, 3, 8), loom.randn(2, 5, 8)
    xa = mm.CrossAttentionFusion(8, 2)
    mask = loom.zeros(2, 5, dtype=loom.bool)
    close(xa(x, ctx), xa(x, ctx, context_padding_mask=mask), atol=1e-6, rtol=1e-7)


def test_fusion_module_inside_a_python_model_trains():
    class Head(loom.nn.Module):
        def __init__(self):
            super().__init__()
            self.fuse = mm.GatedFusion(4)
            self.out = loom.nn.Linear(4, 1)

        def forward(self, a, b):
            return self.out(self.fuse(a, b))

    loom.manual_seed(2)
    model = Head()
    assert {"fuse.weight", "fuse.bias", "out.weight", "out.bias"} <= set(model.state_dict().keys())
    a, b, y = loom.randn(32, 4), loom.randn(32, 4), loom.randn(32, 1)
    opt = loom.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = F.mse_loss(model(a, b), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_bad_input_raises():
    with pytest.raises(RuntimeError, match="GatedFusion"):
        mm.GatedFusion(4)(loom.randn(2, 4), loom.randn(2, 3))
    with pytest.raises(Exception, match="ImageEncoder"):
        mm.CLIP("transformer")(loom.randn(2, 1, 8, 8), tokens(2, 32))
    with pytest.raises(Exception):
        mm.CLIP("gru")


def test_tokenizer_round_trip():
    tok = mm.WordTokenizer()
    tok.build(["a photo of a shirt", "a picture of a bag!"])
    ids = tok.encode_batch(["a photo of a bag", "unknown words here"], 8)
    assert ids.shape == (2, 8) and ids.dtype == loom.int64
    assert tok.decode(ids[0].tolist()) == "a photo of a bag"
    mask = mm.padding_mask(ids)
    assert mask.dtype == loom.bool and bool(mask[0, -1].item())


def test_retrieval_metrics_on_known_embeddings():
    e = loom.eye(4)
    m = mm.retrieval_metrics(e, e, ks=[1, 2])
    assert m.image_to_text.recall == [1.0, 1.0] and m.text_to_image.median_rank == 1.0
    shuffled = e[loom.tensor([1, 0, 2, 3])]
    assert mm.recall_at_k(e @ shuffled.t(), 1) == 0.5


def test_fashion_mnist_captions():
    labels = loom.tensor([0, 9, 7])
    caps = mm.fashion_mnist_captions(labels, 3)
    assert len(caps) == 3 and all(isinstance(c, str) and c for c in caps)
    assert mm.fashion_mnist_classes()[9] == "Ankle boot"


def test_tokenizer_load_rejects_binary_and_invalid_utf8(tmp_path):
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(RuntimeError, match=r"WordTokenizer::load: invalid UTF-8 in .*image\.png at byte 0 \(line 1\)"):
        mm.WordTokenizer.load(str(png))
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes("<pad>\n<unk>\n<bos>\n<eos>\ncafé\n".encode() + b"ok\xc0\xaf\n")
    with pytest.raises(RuntimeError, match=r"invalid UTF-8 in .*vocab\.txt at byte 32 \(line 6\)"):
        mm.WordTokenizer.load(vocab)
    vocab.write_bytes("<pad>\n<unk>\n<bos>\n<eos>\ncafé\n".encode())
    assert mm.WordTokenizer.load(vocab).token_to_id("café") == 4


def test_tokenizer_text_with_lone_surrogate_is_value_error(tmp_path):
    tok = mm.WordTokenizer()
    tok.build(["a photo"])
    with pytest.raises(ValueError, match=r"valid UTF-8 text \(lone surrogate U\+D800 at position 2\)"):
        tok.encode("a \ud800", 4)
    with pytest.raises(ValueError, match=r"lone surrogate U\+DFFF at position 0"):
        tok.build(["fine", "\udfff"])
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.encode_batch(["a", "b\ud800"], 4)
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.token_to_id("\ud800")
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.save(str(tmp_path / "v\ud800.txt"))
    with pytest.raises(ValueError, match="lone surrogate"):
        mm.CLIP("transformer\ud800")
    assert tok.encode("a photo", 4) == [2, 4, 5, 3]  # the tokenizer is unchanged


def test_mean_average_precision_needs_its_labels():
    sim = loom.eye(3)
    labels = loom.tensor([0, 1, 2])
    assert mm.mean_average_precision(sim, labels, labels) == 1.0
    assert mm.mean_average_precision(sim, query_labels=labels, doc_labels=labels) == 1.0
    with pytest.raises(TypeError, match=r"mean_average_precision\(\) missing 2 required positional arguments: "
                                        r"'query_labels' and 'doc_labels'"):
        mm.mean_average_precision(sim)
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'doc_labels'"):
        mm.mean_average_precision(sim, labels)
    with pytest.raises(TypeError, match=r"mean_average_precision\(\): query_labels must be a Tensor, not NoneType"):
        mm.mean_average_precision(sim, None, labels)


def test_word_tokenizer_load_on_an_instance_loads_into_it(tmp_path):
    tok = mm.WordTokenizer()
    tok.build(["a red circle", "a blue square"])
    path = tmp_path / "vocab.txt"
    tok.save(str(path))
    fresh = mm.WordTokenizer()
    assert fresh.vocab_size() == 4  # the special tokens only
    assert fresh.load(str(path)) is fresh
    assert fresh.vocab_size() == tok.vocab_size()
    assert fresh.encode("a red square", 6) == tok.encode("a red square", 6)
    loaded = mm.WordTokenizer.load(str(path))  # on the class: a new tokenizer
    assert loaded is not fresh and loaded.vocab_size() == tok.vocab_size()
    with pytest.raises(Exception, match="cannot open"):
        fresh.load(str(tmp_path / "missing.txt"))
