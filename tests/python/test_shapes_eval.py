"""loom.multimodal.ShapesRetrieval and shapes_caption_truth: the Shapes evaluation protocol (multimodal/shapes_eval.h)
from Python: nested metric dicts, tensors, probes, and bad input."""
import numpy as np
import pytest

import loom
from loom import multimodal as mm
from loom.multimodal import Shapes


def test_truth_of_own_captions_and_hand_checks():
    ds = Shapes(40, "test", seed=3, image_size=48)
    caps = ds.captions(range(40))
    texts = [c for cs in caps for c in cs]
    owner = [i for i, cs in enumerate(caps) for _ in cs]
    t = mm.shapes_caption_truth(texts, ds, list(range(40)))
    assert t.dtype == loom.bool and tuple(t.shape) == (len(texts), 40)
    a = t.numpy()
    assert a[np.arange(len(texts)), owner].all()
    n_objects = [len(ds.objects(i)) for i in range(40)]
    counts = mm.shapes_caption_truth(["one shape", "two shapes", "three shapes", "four shapes"], ds, list(range(40)))
    assert (counts.numpy().argmax(0) + 1 == np.array(n_objects)).all()
    with pytest.raises(ValueError, match="not a caption of the Shapes grammar"):
        mm.shapes_caption_truth(["a red circle beside a square"], ds, [0])


def test_retrieval_protocol():
    ds = Shapes(60, "test", seed=1, image_size=48)
    r = mm.ShapesRetrieval(ds, 60)
    assert len(r) == r.n == 60 and len(r.texts) == len(r.owner)
    c = r.ceilings()
    assert set(c) == {"scene", "caption"}
    assert 0 < c["scene"]["text_to_image"]["R@1"] <= c["scene"]["text_to_image"]["R@10"] <= 1
    eye = loom.eye(60)
    text = eye.index_select(0, loom.tensor(r.owner, dtype=loom.int64))
    metrics, scene, logits = r.score(eye, text, loom.tensor(10.0))
    assert metrics["scene"]["text_to_image"]["R@1"] == 1.0
    assert metrics["caption"]["text_to_image"]["top1_fits"] == 1.0
    assert tuple(scene.shape) == (60, 60) and tuple(logits.shape) == (len(r.texts), 60)
    probes = r.order_probes()
    assert set(probes) == {"binding", "relation"}
    pairs = probes["binding"]
    assert pairs and all(isinstance(t, int) and isinstance(s, str) for t, s in pairs)
    assert r.probe_accuracy(pairs, eye, text, loom.zeros(len(pairs), 60)) == 1.0
    with pytest.raises(ValueError, match="ShapesRetrieval"):
        mm.ShapesRetrieval(ds, 61)
    with pytest.raises(ValueError, match=r"ShapesRetrieval::score"):
        r.score(eye[:59], text, 1.0)
