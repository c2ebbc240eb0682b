"""loom.multimodal.Shapes: the procedural image-caption-question dataset
(multimodal/shapes.h) from Python: items, determinism, batches equal to the
single images, answers in the fixed vocabulary, the splits and bad input."""
import time

import numpy as np
import pytest

import loom
from loom.multimodal import Shapes


def test_item_layout():
    ds = Shapes(100, "train", seed=1)
    assert len(ds) == 100
    item = ds[0]
    assert set(item) == {"image", "captions", "questions", "answers", "question_types", "objects", "index"}
    img = item["image"]
    assert isinstance(img, loom.Tensor)
    assert tuple(img.shape) == (3, 64, 64)
    assert img.dtype == loom.float32
    a = img.numpy()
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert 3 <= len(item["captions"]) <= 5
    assert len(set(item["captions"])) == len(item["captions"])
    assert len(item["questions"]) == len(item["answers"]) == len(item["question_types"]) == 4
    assert 1 <= len(item["objects"]) <= 4
    for o in item["objects"]:
        assert o["shape"] in Shapes.shapes
        assert o["color"] in Shapes.colors
        assert o["size"] in ("small", "large")
        assert 0 < o["x"] < 64 and 0 < o["y"] < 64 and o["radius"] > 0
    assert ds[-1]["index"] == 99  # negative indices count from the end
    assert "Shapes(100, split='train', seed=1" in repr(ds)


def test_determinism_and_batches():
    a = Shapes(64, seed=5)
    b = Shapes(64, seed=5)
    order = list(range(63, -1, -1))
    first = {i: a[i] for i in range(64)}
    for i in order:
        item = b[i]
        assert np.array_equal(item["image"].numpy(), first[i]["image"].numpy())
        for key in ("captions", "questions", "answers", "question_types", "objects"):
            assert item[key] == first[i][key]
    batch = a.images(order)
    assert tuple(batch.shape) == (64, 3, 64, 64)
    for k, i in enumerate(order):
        assert np.array_equal(batch[k].numpy(), first[i]["image"].numpy())
    # The same from a range, a NumPy array and a loom tensor of indices.
    assert np.array_equal(a.images(range(3)).numpy(), np.stack([first[i]["image"].numpy() for i in range(3)]))
    assert np.array_equal(a.images(np.array([5, 6])).numpy(), a.images(loom.tensor([5, 6])).numpy())
    assert a.captions([3, 4]) == [first[3]["captions"], first[4]["captions"]]
    # Thread count does not change the pixels.
    threads = loom.get_num_threads()
    try:
        loom.set_num_threads(1)
        assert np.array_equal(a.images(order).numpy(), batch.numpy())
    finally:
        loom.set_num_threads(threads)
    other = Shapes(64, seed=6)
    assert not np.array_equal(other.images(range(8)).numpy(), a.images(range(8)).numpy())
    test = Shapes(64, "test", seed=5)
    assert not np.array_equal(test.images(range(8)).numpy(), a.images(range(8)).numpy())


def test_answers_and_vocabulary():
    ds = Shapes(300, "train", seed=2)
    vocab = set(Shapes.vocabulary)
    answers = set(ds.answer_vocab)
    assert {"yes", "no", "0", "4", "red", "circle"} <= answers
    assert Shapes.question_types == ["color", "shape", "count", "exist", "relation"]
    tok = loom.multimodal.WordTokenizer()
    seen_types = set()
    yes = no = 0
    for i in range(len(ds)):
        item = ds[i]
        for q, a, t in zip(item["questions"], item["answers"], item["question_types"]):
            assert a in answers
            assert t in Shapes.question_types
            seen_types.add(t)
            yes += a == "yes"
            no += a == "no"
            assert set(tok.split(q)) <= vocab
            if t == "count":
                assert a.isdigit() and int(a) <= len(item["objects"])
            if t == "color":
                assert a in [o["color"] for o in item["objects"]]
            if t == "shape":
                assert a in [o["shape"] for o in item["objects"]]
        for c in item["captions"]:
            assert set(tok.split(c)) <= vocab
    assert seen_types == set(Shapes.question_types)
    assert 0.3 <= yes / (yes + no) <= 0.7


def test_compositional_split():
    comp = Shapes(200, "compositional")
    train = Shapes(500, "train")
    held = {("red", "triangle"), ("blue", "circle"), ("green", "square")}
    assert set(map(tuple, comp.holdout)) == held
    for i in range(len(train)):
        assert not any((o["color"], o["shape"]) in held for o in train.objects(i))
    for i in range(len(comp)):
        assert sum((o["color"], o["shape"]) in held for o in comp.objects(i)) == 1
    assert comp.held_out("red", "triangle") and not comp.held_out("red", "circle")
    custom = Shapes(50, "compositional", holdout=[("yellow", "star")])
    for i in range(len(custom)):
        assert sum((o["color"], o["shape"]) == ("yellow", "star") for o in custom.objects(i)) == 1


def test_options():
    ds = Shapes(20, "test", seed=3, image_size=32, min_objects=2, max_objects=3, noise=0.0, texture=False,
                captions_per_image=4, questions_per_image=2, holdout=[])
    for i in range(len(ds)):
        item = ds[i]
        assert tuple(item["image"].shape) == (3, 32, 32)
        assert 2 <= len(item["objects"]) <= 3
        assert len(item["captions"]) == 4
        assert len(item["questions"]) == 2
    assert len(Shapes(0)) == 0
    assert tuple(Shapes(0).images([]).shape) == (0, 3, 64, 64)


def test_bad_input():
    with pytest.raises(ValueError, match="size must be >= 0, got -1"):
        Shapes(-1)
    with pytest.raises(ValueError, match='"val"'):
        Shapes(10, "val")
    with pytest.raises(ValueError, match=r"min_objects \(3\) must be <= max_objects \(2\)"):
        Shapes(10, min_objects=3, max_objects=2)
    with pytest.raises(ValueError, match="image_size"):
        Shapes(10, image_size=8)
    with pytest.raises(ValueError, match='"pink"'):
        Shapes(10, holdout=[("pink", "circle")])
    with pytest.raises(ValueError, match="captions_per_image"):
        Shapes(10, captions_per_image=(3, 4, 5))
    with pytest.raises(TypeError):
        Shapes(10, holdout=["red"])
    with pytest.raises(TypeError):
        Shapes(10, 0)  # seed is keyword-only
    ds = Shapes(10)
    with pytest.raises(IndexError, match="index 10 is out of range"):
        ds[10]
    with pytest.raises(IndexError, match="index -11"):
        ds[-11]
    with pytest.raises(IndexError):
        ds.images([0, 10])
    with pytest.raises(TypeError):
        ds["0"]
    with pytest.raises(TypeError):
        ds.images(loom.tensor([0.5]))
    with pytest.raises(ValueError, match="unknown"):
        ds.held_out("red", "hexagon")
    assert len(list(ds)) == 10  # iteration stops at the IndexError


def test_speed():
    ds = Shapes(100000)
    ds.images(range(100))
    t0 = time.perf_counter()
    batch = ds.images(range(2000))
    seconds = time.perf_counter() - t0
    print(f"Shapes.images: 2000 images in {seconds:.3f} s ({2000 / seconds:.0f} images/s)")
    assert tuple(batch.shape) == (2000, 3, 64, 64)
    assert seconds < 2.0
