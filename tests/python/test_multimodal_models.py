"""loom.multimodal's configurable models (multimodal/models.h) from Python:
construction with PyTorch-style keywords, shapes, training with loom.optim,
state_dict round trips and errors."""
import math

import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom import multimodal as mm

FUSIONS = ["concat", "gated", "film", "bilinear", "cross_attention", "late"]
SMALL_IMAGE = dict(spec=[8, "M", 16, "M"], dim=16)
SMALL_TEXT = dict(type="lstm", vocab=50, embed_dim=8, hidden=12, dim=16)


def npy(t):
    return t.detach().numpy()


def questions():
    return loom.tensor([[3, 4, 5, 0], [6, 7, 0, 0], [3, 4, 5, 0], [6, 7, 0, 0]], dtype=loom.int64)


def test_vgg_encoder_shapes_and_spec():
    enc = mm.VGGEncoder([8, 8, "M", 16, "M"], in_channels=1, dim=24, norm="none", act="gelu", pool="max")
    x = loom.randn(2, 1, 16, 12)
    assert enc.forward_features(x).shape == (2, 16, 4, 3)
    assert enc(x).shape == (2, 24)
    assert enc.spec == [8, 8, "M", 16, "M"] and enc.channels == 16 and enc.dim == 24
    assert "features.0.bias" in enc.state_dict()
    with pytest.raises(ValueError, match="VGGEncoder.*entry 1.*-3"):
        mm.VGGEncoder([8, -3])
    with pytest.raises(ValueError, match='VGGEncoder.*"P"'):
        mm.VGGEncoder([8, "P"])
    with pytest.raises(ValueError, match="VGGEncoder.*norm.*layer"):
        mm.VGGEncoder([8], norm="layer")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_rnn_text_encoder_padding(cell):
    enc = mm.RNNTextEncoder(vocab=20, embed_dim=6, hidden=5, layers=2, cell=cell, bidirectional=True, dim=7,
                            pool="mean")
    padded = loom.tensor([[5, 7, 9, 0, 0, 0]], dtype=loom.int64)
    np.testing.assert_allclose(npy(enc(padded)), npy(enc(padded[:, :3])), atol=1e-5)
    states, mask = enc.forward_sequence(padded)
    assert states.shape == (1, 6, 10) and enc.sequence_dim == 10 and enc.dim == 7
    assert mask.tolist() == [[False, False, False, True, True, True]]
    with pytest.raises(ValueError, match="RNNTextEncoder.*cell.*rnn"):
        mm.RNNTextEncoder(cell="rnn")


@pytest.mark.parametrize("fusion", FUSIONS)
def test_vqa_model_shapes_and_grads(fusion):
    loom.manual_seed(0)
    model = mm.VQAModel(SMALL_IMAGE, SMALL_TEXT, fusion=fusion, hidden=16, num_answers=5, heads=2)
    logits = model(loom.randn(4, 3, 8, 8), questions())
    assert logits.shape == (4, 5)
    F.cross_entropy(logits, loom.tensor([0, 1, 2, 3], dtype=loom.int64)).backward()
    grads = {k: p.grad for k, p in model.named_parameters()}
    assert any(g is not None and g.abs().sum().item() > 0 for k, g in grads.items() if k.startswith("img."))
    assert any(g is not None and g.abs().sum().item() > 0 for k, g in grads.items() if k.startswith("txt."))
    assert (model.last_attention() is not None) == (fusion == "cross_attention")


def test_vqa_model_trains_and_attention_maps():
    loom.manual_seed(1)
    model = mm.VQAModel(mm.VGGEncoder([8, "M", 16, "M"], dim=16),
                        mm.TransformerTextEncoder(vocab=50, dim=16, layers=1, heads=2, max_len=8, mask_padding=True),
                        fusion="cross_attention", hidden=32, num_answers=4, heads=2)
    pics = loom.randn(2, 3, 8, 8)
    images = loom.stack([pics[0], pics[0], pics[1], pics[1]])
    answers = loom.tensor([0, 1, 2, 3], dtype=loom.int64)
    opt = loom.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(images, questions()), answers)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    att = model.last_attention()
    assert att.shape == (4, 2, 4, 4)  # [B, heads, L, h*w]
    np.testing.assert_allclose(npy(att.sum(-1)), np.ones((4, 2, 4)), atol=1e-5)


def test_vqa_model_modality_dropout_and_bad_config():
    model = mm.VQAModel(SMALL_IMAGE, SMALL_TEXT, hidden=16, num_answers=3, modality_dropout=1.0)
    image, text, mask = model.encode(loom.randn(4, 3, 8, 8), questions())
    assert mask is None
    zi = (image.abs().sum(1) == 0).tolist()
    zt = (text.abs().sum(1) == 0).tolist()
    assert all(a != b for a, b in zip(zi, zt))
    model.eval()
    image, text, _ = model.encode(loom.randn(4, 3, 8, 8), questions())
    assert image.abs().sum(1).min().item() > 0 and text.abs().sum(1).min().item() > 0
    keep_image, keep_text = mm.modality_dropout_masks(1000, 0.0)
    assert keep_image.min().item() == 1 and keep_text.min().item() == 1
    with pytest.raises(ValueError, match='VQAModel.*"sum"'):
        mm.VQAModel(SMALL_IMAGE, SMALL_TEXT, fusion="sum")
    with pytest.raises(TypeError, match="VQAModel.*VGGEncoder"):
        mm.VQAModel(mm.ImageEncoder(16), SMALL_TEXT)
    assert mm.JointModel is mm.VQAModel


def test_vqa_model_state_dict_round_trip():
    loom.manual_seed(2)
    a = mm.VQAModel(SMALL_IMAGE, SMALL_TEXT, fusion="film", hidden=16, num_answers=3)
    b = mm.VQAModel(SMALL_IMAGE, SMALL_TEXT, fusion="film", hidden=16, num_answers=3)
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    images, toks = loom.randn(4, 3, 8, 8), questions()
    np.testing.assert_allclose(npy(a(images, toks)), npy(b(images, toks)), atol=1e-6)
    assert "img.features.1.running_mean" in a.state_dict()  # BatchNorm buffers travel too


def test_dual_encoder_trains_and_round_trips():
    loom.manual_seed(3)
    model = mm.DualEncoder(SMALL_IMAGE, dict(type="gru", vocab=50, embed_dim=8, hidden=12, dim=20), embed_dim=16)
    images, toks = loom.randn(6, 3, 8, 8), loom.randint(1, 50, (6, 5))
    a, b = model.encode_image(images), model.encode_text(toks)
    assert a.shape == (6, 16)
    np.testing.assert_allclose(npy(a.norm(dim=1)), np.ones(6), atol=1e-5)
    assert math.isclose(model.logit_scale().item(), math.log(1 / 0.07), rel_tol=1e-6)
    assert model.logits(images, toks).shape == (6, 6)
    opt = loom.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = model(images, toks)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    copy = mm.DualEncoder(SMALL_IMAGE, dict(type="gru", vocab=50, embed_dim=8, hidden=12, dim=20), embed_dim=16)
    copy.load_state_dict(model.state_dict())
    model.eval()
    copy.eval()
    assert abs(copy(images, toks).item() - model(images, toks).item()) < 1e-6


def test_dual_encoder_as_clip():
    clip = mm.CLIP("transformer")
    dual = mm.DualEncoder(mm.ImageEncoder(256), mm.TransformerTextEncoder(), embed_dim=0)
    assert list(dual.state_dict().keys()) == list(clip.state_dict().keys())
    dual.load_state_dict(clip.state_dict())
    images, toks = loom.randn(2, 3, 8, 8), loom.randint(0, 1000, (2, 32))
    assert abs(dual(images, toks).item() - clip(images, toks).item()) < 1e-6


def test_multimodal_loss():
    loom.manual_seed(4)
    crit = mm.MultimodalLoss(task=1.0, inter=0.5, intra=0.0)
    logits, targets = loom.randn(5, 3), loom.tensor([0, 1, 2, 1, 0], dtype=loom.int64)
    image, text = loom.randn(5, 8), loom.randn(5, 8)
    total, parts = crit(logits=logits, targets=targets, image=image, text=text)
    assert parts["intra"].item() == 0
    assert abs(parts["task"].item() - F.cross_entropy(logits, targets).item()) < 1e-5
    assert abs(total.item() - (parts["task"].item() + 0.5 * parts["inter"].item())) < 1e-5
    with pytest.raises(RuntimeError, match="MultimodalLoss.*inter.*image and text"):
        crit(logits=logits, targets=targets)
    with pytest.raises(ValueError, match="MultimodalLoss"):
        mm.MultimodalLoss(task=0, inter=0, intra=0)
