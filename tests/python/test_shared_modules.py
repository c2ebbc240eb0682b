"""A C++ submodule shared by two wrapped models (one image encoder in a dual encoder and a VQA model): the enclosing
module lists each tensor once, and .to() moves everything even when part of it has moved already."""
import loom
import loom.nn as nn
from loom import multimodal as mm


def _models():
    img = mm.VGGEncoder([8, "M", 16], in_channels=3, dim=16, norm="batch", pool="max")
    captions = mm.RNNTextEncoder(30, embed_dim=8, hidden=8, cell="gru", dim=16)
    dual = mm.DualEncoder(img, captions, embed_dim=0)
    questions = mm.RNNTextEncoder(30, embed_dim=8, hidden=8, cell="gru", dim=8)
    vqa = mm.VQAModel(img, questions, fusion="cross_attention", hidden=8, num_answers=5, heads=2)
    return img, dual, vqa


class Both(nn.Module):
    def __init__(self, vqa, dual):
        super().__init__()
        self.vqa = vqa
        self.dual = dual


def test_shared_encoder_parameters_listed_once():
    img, dual, vqa = _models()
    model = Both(vqa, dual)
    params = list(model.parameters())
    ptrs = [p.data_ptr() for p in params]
    assert len(ptrs) == len(set(ptrs))
    n_img = len(list(img.parameters()))
    assert len(params) == len(list(vqa.parameters())) + len(list(dual.parameters())) - n_img
    named = dict(model.named_parameters())
    assert len(named) == len(params)
    assert all(not k.startswith("dual.img.") for k in named)  # the encoder is named where first reached: vqa.img
    # remove_duplicate=False still lists every path, as in PyTorch.
    assert len(list(model.named_parameters(remove_duplicate=False))) == len(list(vqa.parameters())) + len(
        list(dual.parameters()))
    # The optimizer sees each tensor once, so a step updates the encoder once.
    opt = loom.optim.SGD(model.parameters(), lr=0.1)
    w = img.cpp.named_parameters()[0][1]
    before = w.detach().clone()
    for p in model.parameters():
        p.grad = loom.ones_like(p)
    opt.step()
    assert (w.detach() - (before - 0.1)).abs().max().item() < 1e-6


def test_to_converts_a_partly_converted_module():
    img, dual, vqa = _models()
    img.double()  # the shared encoder converted first, through one of its owners
    dual.double()
    dtypes = {p.dtype for p in dual.parameters() if p.is_floating_point()}
    assert dtypes == {loom.float64}
    vqa.double()
    assert {p.dtype for p in vqa.parameters() if p.is_floating_point()} == {loom.float64}
    vqa.float()
    assert {p.dtype for p in vqa.parameters() if p.is_floating_point()} == {loom.float32}
    assert {p.dtype for p in img.parameters() if p.is_floating_point()} == {loom.float32}


def test_vqa_fourier_positions():
    img = mm.VGGEncoder([8, "M", 16], in_channels=3, dim=16)
    q = mm.RNNTextEncoder(30, embed_dim=8, hidden=8, cell="gru", dim=8)
    vqa = mm.VQAModel(img, q, fusion="cross_attention", hidden=8, num_answers=5, heads=2, position="fourier")
    assert vqa.cpp.position == "fourier" and "pos_proj.weight" in dict(vqa.named_parameters())
    out = vqa(loom.randn(2, 3, 12, 12), loom.tensor([[3, 4, 0], [5, 6, 7]], dtype=loom.int64))
    assert tuple(out.shape) == (2, 5)
    import pytest
    with pytest.raises(ValueError, match="position"):
        mm.VQAModel(img, q, fusion="concat", hidden=8, num_answers=5, position="fourier")
