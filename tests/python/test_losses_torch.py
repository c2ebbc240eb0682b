"""The distance and margin losses against PyTorch: tests/data/torch_losses.json holds, per case, a
torch.nn.functional call's arguments, PyTorch 2.15's output in float64 and the gradients of
sum(output * weights) to the listed arguments (made by tests/data/make_loss_fixtures.py); loom's function of
the same name must give the same numbers. Also the modules and the errors."""
import math

import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom import nn

from _helpers import arr, close, load_fixture

FIXTURE = load_fixture("torch_losses.json")
# As in the generator: ctc_loss of logits, through log_softmax.
FUNCTIONS = {"ctc_loss_of_logits": lambda x, *a, **k: F.ctc_loss(F.log_softmax(x, -1), *a, **k),
             "mha_forward_out": lambda *a, **k: F.multi_head_attention_forward(*a, **k)[0],
             "mha_forward_weights": lambda *a, **k: F.multi_head_attention_forward(*a, **k)[1]}


def case_id(c):
    return c["fn"] + "-" + "-".join(f"{k}={v}" for k, v in sorted(c["kwargs"].items()) if k != "weight") + \
        (f"-{c['distance']}" if c["distance"] else "")


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[f"{i}-{case_id(c)}" for i, c in enumerate(FIXTURE["cases"])])
def test_matches_pytorch(case):
    args = []
    for i, a in enumerate(case["args"]):
        if isinstance(a, dict):
            a = loom.tensor(arr(a), requires_grad=i in case["grad"])
        args.append(a)
    kwargs = {k: loom.tensor(arr(v)) if isinstance(v, dict) and "data" in v else v for k, v in case["kwargs"].items()}
    if case["distance"] == "cosine":
        kwargs["distance_function"] = lambda x, y: 1.0 - F.cosine_similarity(x, y)
    out = FUNCTIONS[case["fn"]](*args, **kwargs) if case["fn"] in FUNCTIONS else getattr(F, case["fn"])(*args,
                                                                                                      **kwargs)
    want = arr(case["output"])
    assert list(out.shape) == case["output"]["shape"]
    close(out, want, rtol=1e-9, atol=1e-10)
    if case["grad"]:
        (out * loom.tensor(arr(case["out_weight"]))).sum().backward()
        for i, g in zip(case["grad"], case["grads"]):
            close(args[i].grad, arr(g), rtol=1e-8, atol=1e-10)


def test_modules_match_functions():
    loom.manual_seed(0)
    a, p, n = loom.randn(4, 6), loom.randn(4, 6), loom.randn(4, 6)
    close(nn.PairwiseDistance(p=1.0, keepdim=True)(a, p), F.pairwise_distance(a, p, 1.0, keepdim=True))
    close(nn.CosineSimilarity(dim=0)(a, p), F.cosine_similarity(a, p, dim=0))
    close(nn.TripletMarginLoss(margin=0.5, swap=True)(a, p, n), F.triplet_margin_loss(a, p, n, margin=0.5, swap=True))
    dist = nn.PairwiseDistance()
    close(nn.TripletMarginWithDistanceLoss(distance_function=dist)(a, p, n), F.triplet_margin_loss(a, p, n))
    y = loom.tensor([1.0, -1.0, 1.0, -1.0])
    close(nn.MarginRankingLoss(0.2, reduction="sum")(a[:, 0], p[:, 0], y),
          F.margin_ranking_loss(a[:, 0], p[:, 0], y, margin=0.2, reduction="sum"))
    close(nn.HingeEmbeddingLoss(0.5)(a[:, 0], y), F.hinge_embedding_loss(a[:, 0], y, margin=0.5))
    close(nn.SoftMarginLoss()(a[:, 0], y), F.soft_margin_loss(a[:, 0], y))
    t01 = (p > 0).float()
    w = loom.rand(6)
    m = nn.MultiLabelSoftMarginLoss(weight=w)
    assert "weight" in m.state_dict()
    close(m(a, t01), F.multilabel_soft_margin_loss(a, t01, weight=w))
    cls = loom.tensor([0, 5, 2, 2])
    close(nn.MultiMarginLoss(p=2, margin=0.5)(a, cls), F.multi_margin_loss(a, cls, p=2, margin=0.5))
    close(nn.PoissonNLLLoss(full=True)(a, t01 * 3), F.poisson_nll_loss(a, t01 * 3, full=True))
    var = loom.rand(4, 6) + 0.1
    close(nn.GaussianNLLLoss(full=True)(a, p, var), F.gaussian_nll_loss(a, p, var, full=True))
    close(nn.GaussianNLLLoss()(a, p, 0.5), F.gaussian_nll_loss(a, p, loom.full((4, 6), 0.5)))
    # Legacy size_average / reduce, as PyTorch.
    close(nn.MarginRankingLoss(reduce=False)(a[:, 0], p[:, 0], y), F.margin_ranking_loss(a[:, 0], p[:, 0], y,
                                                                                         reduction="none"))


def test_soft_margin_losses_do_not_overflow():
    x = loom.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = loom.tensor([1.0, 1.0, 1.0])
    loss = F.soft_margin_loss(x, y, reduction="none")
    close(loss, [1000.0, math.log(2.0), 0.0])
    loss.sum().backward()
    close(x.grad, [-1.0, -0.5, 0.0])
    m = F.multilabel_soft_margin_loss(x.detach().reshape(1, 3), loom.tensor([[0.0, 1.0, 1.0]]), reduction="none")
    close(m, [(0.0 + math.log(2.0) + 0.0) / 3])


def test_bad_inputs():
    a, p = loom.randn(4, 6), loom.randn(4, 6)
    with pytest.raises(RuntimeError, match="triplet_margin_loss.*same number of dimensions"):
        F.triplet_margin_loss(a, p, loom.randn(6))
    with pytest.raises(RuntimeError, match="margin_ranking_loss.*same number of dimensions"):
        F.margin_ranking_loss(a[:, 0], p[:, 0], loom.tensor(1.0))
    with pytest.raises(RuntimeError, match="pairwise_distance.*not broadcastable"):
        F.pairwise_distance(a, loom.randn(3, 6))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(a, loom.tensor([0, 1, 2, 3]), p=3)
    with pytest.raises(IndexError, match="out of bounds for 6 classes"):
        F.multi_margin_loss(a, loom.tensor([0, 1, 2, 6]))
    with pytest.raises(TypeError, match="int64"):
        F.multi_margin_loss(a, loom.tensor([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="expected input \\[N, C\\] with target \\[N\\]"):
        F.multi_margin_loss(a, loom.tensor([0, 1]))
    with pytest.raises(ValueError, match="var has negative entries"):
        F.gaussian_nll_loss(a, p, -loom.rand(4, 6))
    with pytest.raises(ValueError, match="var has negative entries"):
        F.gaussian_nll_loss(a, p, -1.0)
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(a, p, loom.rand(4, 5))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.soft_margin_loss(a, p, reduction="avg")
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0"):
        F.triplet_margin_loss(a, p, p, margin=0.0)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginLoss(margin=-0.5)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="greater than 0"):
        F.triplet_margin_with_distance_loss(a, p, p, margin=-1.0)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)


def test_ctc_loss_gradcheck_module_and_errors():
    rng = np.random.default_rng(4)
    x = loom.tensor(rng.standard_normal((7, 2, 4)), requires_grad=True)
    targets, il, tl = loom.tensor([[1, 1, 2], [3, 0, 0]]), [7, 5], [3, 1]
    # the gradient with respect to the log-probabilities themselves
    assert loom.autograd.gradcheck(lambda t: F.ctc_loss(t.log_softmax(-1), targets, il, tl, reduction="sum"), (x,))
    m = nn.CTCLoss(blank=0, reduction="none", zero_infinity=True)
    lp = x.detach().log_softmax(-1)
    close(m(lp, targets, loom.tensor(il), loom.tensor(tl)), F.ctc_loss(lp, targets, il, tl, reduction="none"))
    # a target that cannot fit its input: inf, or 0 with zero_infinity
    short = F.ctc_loss(lp, targets, [2, 5], tl, reduction="none")
    assert np.isinf(short.numpy()[0]) and np.isfinite(short.numpy()[1])
    assert F.ctc_loss(lp, targets, [2, 5], tl, reduction="none", zero_infinity=True).numpy()[0] == 0
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, targets, il, tl, blank=4)
    with pytest.raises(RuntimeError, match="differ from blank"):
        F.ctc_loss(lp, loom.tensor([[1, 0, 2], [3, 0, 0]]), il, tl)
    with pytest.raises(RuntimeError, match="input_lengths must be in"):
        F.ctc_loss(lp, targets, [8, 5], tl)
    with pytest.raises(RuntimeError, match="expected 2 input_lengths"):
        F.ctc_loss(lp, targets, [7], tl)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.ctc_loss(lp, targets, il, tl, reduction="avg")
