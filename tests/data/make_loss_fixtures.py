"""Generates tests/data/torch_losses.json, PyTorch's side of tests/python/test_losses_torch.py (the losses,
distances and other composed functions of nn.functional).

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_loss_fixtures.py

For each case: a torch.nn.functional function, its tensor arguments and keyword arguments, the output,
and the gradients of sum(output * weights) to the arguments listed in "grad" (weights: fixed random
tensors, also stored). Everything in float64.
"""
import math

import torch
import torch.nn.functional as F
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)




cases = []
# Cases whose function is not one of nn.functional's: ctc_loss of logits, through log_softmax (PyTorch's CTC
# kernel returns the gradient with respect to such logits, not to the log-probabilities themselves).
FUNCTIONS = {"ctc_loss_of_logits": lambda x, *a, **k: F.ctc_loss(F.log_softmax(x, -1), *a, **k),
             # the output of F.multi_head_attention_forward, and its head-averaged weights
             "mha_forward_out": lambda *a, **k: F.multi_head_attention_forward(*a, **k)[0],
             "mha_forward_weights": lambda *a, **k: F.multi_head_attention_forward(*a, **k)[1]}


def case(fn, args, grad=(), distance=None, **kwargs):
    args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    for i in grad:
        args[i].requires_grad_(True)
    call = dict(kwargs)
    if distance == "cosine":
        call["distance_function"] = lambda x, y: 1.0 - F.cosine_similarity(x, y)
    out = FUNCTIONS[fn](*args, **call) if fn in FUNCTIONS else getattr(F, fn)(*args, **call)
    w = torch.randn_like(out)
    grads = torch.autograd.grad((out * w).sum(), [args[i] for i in grad]) if grad else []
    cases.append({
        "fn": fn, "kwargs": {k: t2j(v) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()},
        "distance": distance,
        "args": [t2j(a.detach()) if isinstance(a, torch.Tensor) else a for a in args],
        "grad": list(grad), "output": t2j(out.detach()), "out_weight": t2j(w),
        "grads": [t2j(g) for g in grads],
    })


def signs(*shape):
    return torch.randint(0, 2, shape).double() * 2 - 1


x1, x2 = torch.randn(4, 5), torch.randn(4, 5)
x2[1] = x1[1]  # a zero distance: eps keeps the norm's gradient defined
for p in (1.0, 2.0, 3.0, math.inf):
    for keepdim in (False, True):
        case("pairwise_distance", [x1, x2], grad=(0, 1), p=p, keepdim=keepdim)
case("pairwise_distance", [x1, torch.randn(5)], grad=(0, 1), eps=0.01)
case("pairwise_distance", [torch.randn(5), torch.randn(5)], grad=(0, 1))
case("cosine_similarity", [x1, x2], grad=(0, 1), dim=1)
case("cosine_similarity", [torch.randn(3, 4, 2), torch.randn(3, 1, 2)], grad=(0, 1), dim=-1, eps=1e-6)

a, b, y = torch.randn(6), torch.randn(6), signs(6)
for margin in (0.0, 0.3):
    for red in ("none", "mean", "sum"):
        case("margin_ranking_loss", [a, b, y], grad=(0, 1), margin=margin, reduction=red)

anc, pos, neg = torch.randn(5, 4), torch.randn(5, 4), torch.randn(5, 4)
for margin, p, swap in ((1.0, 2.0, False), (0.5, 1.0, True), (2.0, 3.0, True)):
    for red in ("none", "mean"):
        case("triplet_margin_loss", [anc, pos, neg], grad=(0, 1, 2), margin=margin, p=p, swap=swap, reduction=red)
case("triplet_margin_loss", [anc[0], pos[0], neg[0]], grad=(0, 1, 2), reduction="sum")
for distance in (None, "cosine"):
    for swap in (False, True):
        case("triplet_margin_with_distance_loss", [anc, pos, neg], grad=(0, 1, 2), distance=distance, swap=swap,
             margin=0.7, reduction="none")

h, ht = torch.randn(3, 4), signs(3, 4)
ht[0, 0] = 0.0  # neither 1 nor -1: both terms, as PyTorch
for margin in (1.0, 0.5):
    for red in ("none", "mean"):
        case("hinge_embedding_loss", [h, ht], grad=(0,), margin=margin, reduction=red)

sm = torch.randn(3, 4) * 6
for red in ("none", "mean", "sum"):
    case("soft_margin_loss", [sm, signs(3, 4)], grad=(0,), reduction=red)

ml, mt = torch.randn(3, 5) * 3, torch.randint(0, 2, (3, 5)).double()
for weight in (None, torch.rand(5) + 0.5):
    for red in ("none", "mean", "sum"):
        case("multilabel_soft_margin_loss", [ml, mt], grad=(0,), weight=None, reduction=red) if weight is None \
            else case("multilabel_soft_margin_loss", [ml, mt, weight], grad=(0,), reduction=red)

mm, mmt = torch.randn(4, 5), torch.tensor([0, 3, 4, 3])
for p, margin in ((1, 1.0), (2, 0.7)):
    for red in ("none", "mean"):
        case("multi_margin_loss", [mm, mmt], grad=(0,), p=p, margin=margin, reduction=red)
case("multi_margin_loss", [mm, mmt, 1, 1.0, torch.rand(5) + 0.5], grad=(0,), reduction="sum")
case("multi_margin_loss", [mm[0], mmt[0]], grad=(0,), reduction="none")

pin, pt = torch.randn(2, 4), torch.tensor([[0.0, 1.0, 3.5, 2.0], [7.0, 0.5, 1.0, 12.0]])
for log_input in (True, False):
    for full in (False, True):
        xin = pin if log_input else pin.abs() + 0.1
        grad = (0,) if full else (0, 1)
        case("poisson_nll_loss", [xin, pt], grad=grad, log_input=log_input, full=full, reduction="none")
case("poisson_nll_loss", [pin, pt], grad=(0,), reduction="mean")

gi, gt = torch.randn(4, 3), torch.randn(4, 3)
gv = torch.rand(4, 3) + 0.1
gv[0, 0] = 1e-8  # below eps: clamped, the gradient passes
for full in (False, True):
    case("gaussian_nll_loss", [gi, gt, gv], grad=(0, 1, 2), full=full, reduction="none")
case("gaussian_nll_loss", [gi, gt, torch.rand(4) + 0.1], grad=(0, 1, 2), reduction="mean")
case("gaussian_nll_loss", [gi, gt, torch.rand(4, 1) + 0.1], grad=(0, 1, 2), reduction="sum")
case("gaussian_nll_loss", [gi, gt, torch.rand(1, 3) + 0.1], grad=(0, 1, 2), reduction="none", eps=0.01)

# Other composed functions (nn.functional): bilinear, pdist, lp pools, max_unpool, rrelu in eval.
case("bilinear", [torch.randn(4, 3), torch.randn(4, 5), torch.randn(2, 3, 5), torch.randn(2)], grad=(0, 1, 2, 3))
case("bilinear", [torch.randn(2, 3, 3), torch.randn(2, 3, 5), torch.randn(2, 3, 5)], grad=(0, 1, 2))
for p in (2.0, 1.0, 3.0):
    case("pdist", [torch.randn(5, 4)], grad=(0,), p=p)
lp = torch.randn(2, 3, 6, 7)
case("lp_pool2d", [lp.abs() + 0.1, 2.0, 2], grad=(0,))
case("lp_pool2d", [lp.abs() + 0.1, 3.0, (3, 2), (2, 1)], grad=(0,), ceil_mode=True)
case("lp_pool1d", [torch.randn(2, 3, 9).abs() + 0.1, 2.0, 3, 2], grad=(0,))
v2, i2 = F.max_pool2d(torch.randn(2, 3, 6, 8), 2, return_indices=True)
case("max_unpool2d", [v2, i2, 2], grad=(0,))
v2, i2 = F.max_pool2d(torch.randn(2, 3, 7, 9), 2, return_indices=True)
case("max_unpool2d", [v2, i2, 2], grad=(0,), output_size=[7, 9])
v1, i1 = F.max_pool1d(torch.randn(2, 3, 9), 3, 2, 1, return_indices=True)
case("max_unpool1d", [v1, i1, 3, 2, 1], grad=(0,))
case("rrelu", [torch.randn(3, 4)], grad=(0,), lower=0.1, upper=0.3, training=False)
mlm_t = torch.tensor([[3, 0, -1, 1], [2, -1, 0, 0], [0, 1, 2, 3]])
for red in ("none", "mean", "sum"):
    case("multilabel_margin_loss", [torch.randn(3, 4), mlm_t], grad=(0,), reduction=red)
case("multilabel_margin_loss", [torch.randn(4), torch.tensor([1, 2, -1, 0])], grad=(0,))

# CTC: padded and concatenated targets, repeats (a blank must separate them), unequal input lengths, an
# impossible alignment (zero_infinity), every reduction, a blank other than 0, unbatched.
ctc_x = torch.randn(12, 4, 6)
ctc_t = torch.tensor([[1, 2, 2, 3], [4, 4, 0, 0], [5, 0, 0, 0], [1, 3, 5, 2]])
for red in ("none", "mean", "sum"):
    case("ctc_loss_of_logits", [ctc_x, ctc_t, torch.tensor([12, 9, 5, 7]), torch.tensor([4, 2, 1, 4])], grad=(0,),
         reduction=red)
case("ctc_loss_of_logits", [ctc_x, torch.tensor([1, 2, 2, 3, 4, 4, 5, 1, 3, 5, 2]), [12, 9, 5, 7], [4, 2, 1, 4]],
     grad=(0,), reduction="none")
case("ctc_loss_of_logits", [ctc_x, ctc_t, [12, 9, 2, 7], [4, 2, 1, 4]], grad=(0,), reduction="none",
     zero_infinity=True)
case("ctc_loss_of_logits", [ctc_x, ctc_t.clamp(max=4), [12, 9, 5, 7], [4, 2, 1, 4]], grad=(0,), blank=5)
case("ctc_loss_of_logits", [ctc_x[:, 0], ctc_t[0], [12], [4]], grad=(0,), reduction="sum")

# F.multi_head_attention_forward as CLIP's attention pooling calls it: separate q / k / v projections, the
# query a pooled token; also the packed projection with bias_k / bias_v, a zero slot and masks.
E, H = 8, 2
tok = torch.randn(5, 3, E)
qw, kw, vw, ow = (torch.randn(E, E) * 0.3 for _ in range(4))
ib, ob = torch.randn(3 * E) * 0.1, torch.randn(E) * 0.1
for fn in ("mha_forward_out", "mha_forward_weights"):
    case(fn, [tok[:1], tok, tok, E, H, None, ib, None, None, False, 0.0, ow, ob],
         grad=(0, 1, 6) if fn.endswith("weights") else (0, 1, 6, 11),
         training=False, need_weights=fn.endswith("weights"), use_separate_proj_weight=True, q_proj_weight=qw,
         k_proj_weight=kw, v_proj_weight=vw)
kpm = torch.tensor([[False] * 5, [False, False, False, True, True], [True] + [False] * 4])
case("mha_forward_out", [tok[:4], tok, tok, E, H, torch.randn(3 * E, E) * 0.3, ib, torch.randn(1, 1, E),
                         torch.randn(1, 1, E), True, 0.0, ow, ob], grad=(0, 1, 5, 7), training=False,
     key_padding_mask=kpm, attn_mask=torch.randn(4, 5) * 0.3, need_weights=False)

write("torch_losses.json", {"torch_version": torch.__version__, "cases": cases})
