"""loom.multimodal evaluation functions (multimodal/metrics.h): top-k search against NumPy, the retrieval
report with several captions per image (worked out by hand), zero-shot classification, VQA accuracy per
question type, the confusion matrix, grouped accuracy, and the Python exception types of bad input."""
import numpy as np
import pytest

import loom
from loom import multimodal as mm


def t(rows, dtype=None):
    return loom.tensor(rows, dtype=dtype or loom.float32)


def ids(values):
    return loom.tensor(values, dtype=loom.int64)


def test_topk_search_matches_numpy_both_ways(rng):
    q = rng.standard_normal((7, 5)).astype(np.float32)
    d = rng.standard_normal((40, 5)).astype(np.float32)
    scores, idx = mm.topk_search(loom.tensor(q), loom.tensor(d), 6)
    assert list(scores.shape) == [7, 6] and idx.dtype == loom.int64
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dn = d / np.linalg.norm(d, axis=1, keepdims=True)
    sim = qn @ dn.T
    ref = np.argsort(-sim, axis=1, kind="stable")[:, :6]
    np.testing.assert_array_equal(idx.numpy(), ref)
    np.testing.assert_allclose(scores.numpy(), np.take_along_axis(sim, ref, 1), atol=1e-5)

    _, dot_idx = mm.topk_search(loom.tensor(q), loom.tensor(d), 3, normalize=False)
    np.testing.assert_array_equal(dot_idx.numpy(), np.argsort(-(q @ d.T), axis=1, kind="stable")[:, :3])

    img, txt = loom.tensor(d[:4]), loom.tensor(q)
    np.testing.assert_array_equal(mm.search_text_to_image(img, txt, 2)[1].numpy(),
                                  mm.topk_search(txt, img, 2)[1].numpy())
    np.testing.assert_array_equal(mm.search_image_to_text(img, txt, 2)[1].numpy(),
                                  mm.topk_search(img, txt, 2)[1].numpy())
    with pytest.raises(ValueError, match="k must be in"):
        mm.topk_search(txt, img, 5)


def test_retrieval_report_with_several_captions_per_image():
    # The case of tests/multimodal/test_metrics.cpp: caption ranks (1, 3, 1, 2, 1); image ranks (1, 2, 1),
    # image average precisions (0.7, 0.5, 1).
    img = t([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    txt = t([[1, 0, 0], [0, 1, 0], [0.5, 1, 0], [1, 0, 0.5], [0, 0, 1]])
    m = mm.retrieval_report(img, txt, ids([0, 0, 1, 2, 2]))
    assert m.text_to_image.recall == pytest.approx([0.6, 1.0, 1.0])
    assert m.text_to_image.median_rank == 1.0
    assert m.text_to_image.mean_reciprocal_rank == pytest.approx((1 + 1 / 3 + 1 + 0.5 + 1) / 5)
    assert m.image_to_text.recall_at(1) == pytest.approx(2 / 3)
    assert m.image_to_text.mean_average_precision == pytest.approx((0.7 + 0.5 + 1) / 3)
    s = mm.retrieval_summary(m)
    assert s["t2i_R@1"] == pytest.approx(0.6) and s["i2t_queries"] == 3
    assert set(s) >= {"i2t_R@5", "t2i_R@10", "i2t_median_rank", "t2i_mAP", "i2t_MRR"}

    with pytest.raises(IndexError, match="belongs to image 3"):
        mm.retrieval_report(img, txt, ids([0, 0, 1, 2, 3]))
    with pytest.raises(TypeError, match="integer text_image_ids"):
        mm.retrieval_report(img, txt, t([0, 0, 1, 2, 2]))


def test_zero_shot():
    prompts = t([[1, 0], [0, 1]])
    images = t([[1, 0], [0, 1], [1, 1.1], [1, 1]])
    assert mm.zero_shot_classify(images, prompts).tolist() == [0, 1, 1, 0]  # a tie goes to class 0
    assert mm.zero_shot_accuracy(images, prompts, ids([0, 1, 0, 0])) == pytest.approx(0.75)
    assert list(mm.zero_shot_logits(images, prompts).shape) == [4, 2]
    ensemble = t([[[1, 0], [0, 3]], [[-1, 0], [0, -1]]])  # [C=2, P=2, D=2]
    assert mm.zero_shot_classify(t([[2, 1], [-1, -3]]), ensemble).tolist() == [0, 1]
    with pytest.raises(IndexError):
        mm.zero_shot_accuracy(images, prompts, ids([0, 1, 2, 0]))


def test_vqa_accuracy_per_type():
    a = mm.vqa_accuracy(["red", "2", "yes", "circle", "no"], ["red", "3", "yes", "square", "no"],
                        ["color", "count", "exist", "shape", "exist"])
    assert a.overall == pytest.approx(0.6) and a.count == 5
    assert a.per_type == {"color": 1.0, "count": 0.0, "exist": 1.0, "shape": 0.0}
    assert a.type_counts["exist"] == 2
    assert mm.vqa_accuracy(["a"], ["a"]).per_type == {}
    b = mm.vqa_accuracy(t([[0.9, 0.1], [0.2, 0.3], [0.1, 0.8]]), ids([0, 0, 1]), ["a", "b", "b"])
    assert b.overall == pytest.approx(2 / 3) and b.per_type == {"a": 1.0, "b": 0.5}
    assert "VqaAccuracy(overall=" in repr(b)
    with pytest.raises(TypeError, match="question_types must be a list of str"):
        mm.vqa_accuracy(["a"], ["a"], "color")
    with pytest.raises(TypeError, match="predicted must hold only str"):
        mm.vqa_accuracy(["a", 1], ["a", "b"])
    with pytest.raises(RuntimeError, match="1 predicted answers for 2 questions"):
        mm.vqa_accuracy(["a"], ["a", "b"])


def test_confusion_matrix_and_grouped_accuracy():
    pred, target = ids([0, 1, 1, 2, 2, 0]), ids([0, 1, 2, 2, 1, 0])
    cm = mm.confusion_matrix(pred, target, 3)
    assert cm.dtype == loom.int64
    assert cm.tolist() == [[2, 0, 0], [0, 1, 1], [0, 1, 1]]
    assert mm.confusion_matrix(pred, target).tolist() == cm.tolist()
    with pytest.raises(IndexError):
        mm.confusion_matrix(pred, target, 2)

    g = mm.grouped_accuracy(ids([0, 1, 1, 0, 1, 1]), ids([0, 1, 0, 0, 0, 1]), ids([0, 0, 0, 0, 7, 7]))
    assert g.overall == pytest.approx(4 / 6)
    assert g.per_group == {0: 0.75, 7: 0.5} and g.group_counts == {0: 4, 7: 2}
    assert g.mean_over_groups == pytest.approx(0.625) and g.harmonic_mean == pytest.approx(0.6)
    scores = t([[0.9, 0.1], [0.2, 0.8]])
    assert mm.grouped_accuracy(scores, ids([0, 0]), ids([1, 2])).per_group == {1: 1.0, 2: 0.0}
