#!/usr/bin/env python3
"""loom's main multimodal demo: on the procedural Shapes dataset (loom.multimodal.Shapes), trains a dual encoder
(caption <-> image retrieval, CLIP-style) and a VQA model (question answering with cross-attention fusion) that
share one image encoder, scores them against oracle ceilings and bag-of-words baselines, and writes pictures,
logs and checkpoints under runs/<name>/.

    PYTHONPATH=python python3 examples/shapes_demo.py [--device auto|cpu|cuda] [--out runs/shapes] [--seed 0]
        [--epochs 12] [--steps-per-epoch 80] [--batch-size 128] [--image-size 48] [--check] [--quick]

Models (loom.multimodal's C++ modules): one VGGEncoder [16, M, 32, M, 64, M, 128] with BatchNorm and a global
max-pool; captions go through a bidirectional GRU (RNNTextEncoder) into a DualEncoder with that image encoder;
questions go through another bidirectional GRU into a VQAModel whose question tokens attend over the encoder's
6x6 feature map (fusion="cross_attention"). Each step renders a batch of fresh scenes and adds the contrastive
loss over all their captions (a caption's positive is its image; an image's positives are all its captions) to
the cross-entropy of their questions, computing the image features once for both.

Evaluation on 1,000 held-out test images. The caption grammar gives the truth of any caption on any image, so each
retrieval score comes with that of an oracle that knows which images a query is true of (see docs/multimodal.md,
"The main job: Shapes"): text->image retrieval with each image's whole set of captions as the query, image->text
over those sets, single-caption retrieval, and word-order probes (a caption against the same words reordered);
zero-shot classification of the shape and colour of single-object images and of the number of objects from
prompts ("a star", "a red shape", "three shapes"); VQA accuracy overall and by question type, on the test split
and on the compositional split (colour-shape pairs never seen in training). Baselines: the same retrieval with a
bag-of-words caption encoder, and a question-only bag-of-words VQA model.

Writes metrics.jsonl (one line per epoch), summary.json, dual_encoder.safetensors, vqa.safetensors,
tokenizer.txt, curves.png, retrieval_sheet.png, attention.png and vqa_confusion.png. With --check, exits 1
when a threshold (printed PASS / FAIL) is missed.
"""
import argparse
import json
import math
import os
import random
import sys
import textwrap
import time

import numpy as np

import loom
import loom.nn as nn
import loom.nn.functional as F
import loom.optim
import loom.optim.lr_scheduler
from loom import multimodal as mm
from loom.multimodal import Shapes
from loom.training import Callback, JSONLLogger, LRSchedulerCallback, Trainer
from loom.utils.data import DataLoader, Dataset

ANSWERS = list(Shapes.answer_vocab)  # yes, no, 0-6, the colours, the shapes
QUESTION_TYPES = list(Shapes.question_types)  # color, shape, count, exist, relation
IMAGE_SPEC = [16, "M", 32, "M", 64, "M", 128]  # 48 px -> a 6x6 map of 128 channels
EMBED_DIM = 128  # the joint space: the image encoder's projection and the caption encoder's output
TEXT_HIDDEN = 96  # each direction of the GRUs; also the VQA model's width
MAX_LEN = 20  # tokens with <bos> / <eos>; the longest question has 15 words, batches are cut to their longest
EVAL_BATCH = 500

# Pass marks (fractions) with the default options; see docs/multimodal.md for how they were chosen.
THRESHOLDS = {
    "text->image R@1, scene queries": ("retrieval.scene.text_to_image.R@1", 0.45),
    "text->image R@10, scene queries": ("retrieval.scene.text_to_image.R@10", 0.90),
    "word order, binding probe": ("retrieval.word_order.binding", 0.65),
    "zero-shot shape accuracy": ("zero_shot.shape", 0.90),
    "VQA accuracy (test)": ("vqa.test.overall", 0.80),
    "VQA accuracy (compositional)": ("vqa.compositional.overall", 0.60),
    "R@1 above the bag-of-words captions by": ("gaps.retrieval_r1_over_bow", 0.05),
    "VQA above the question-only baseline by": ("gaps.vqa_over_question_only", 0.30),
}


# ---------------------------------------------------------------- what a caption means

# The caption grammar of multimodal/shapes.cpp, read back: a caption is one noun phrase ("a small red circle",
# "a red shape"), two joined by "and" (two distinct objects) or by a relation (centres at least S/8 apart along
# that axis), or an exact count ("two triangles", "one red shape", "three shapes"). truth() evaluates any caption
# on any scene, which gives the oracle: how many test images a query is true of.
SHAPES, COLORS, SIZES = list(Shapes.shapes), list(Shapes.colors), list(Shapes.sizes)
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six"]
PLURALS = {s + ("es" if s.endswith("ss") else "s"): s for s in SHAPES}
RELATIONS = {"to the left of": (0, 1), "to the right of": (0, -1), "above": (1, 1), "below": (1, -1)}
ONE, AND, RELATION, COUNT = range(4)
_compiled = {}


def _noun_phrase(words):
    """(size, colour, shape) ids, -1 for unspecified, and the number of words read."""
    if words[0] not in ("a", "an"):
        raise ValueError("not a noun phrase: " + " ".join(words))
    i, size, color = 1, -1, -1
    if words[i] in SIZES:
        size, i = SIZES.index(words[i]), i + 1
    if words[i] in COLORS:
        color, i = COLORS.index(words[i]), i + 1
    shape = -1 if words[i] == "shape" else SHAPES.index(words[i])
    return (size, color, shape), i + 1


def compile_caption(text):
    """(kind, count, phrase a, phrase b, axis, sign) of a caption of the Shapes grammar."""
    if text in _compiled:
        return _compiled[text]
    words, anything = text.split(), (-1, -1, -1)
    if words[0] in NUMBERS:
        rest, color = words[1:], -1
        if rest[0] in COLORS:
            color, rest = COLORS.index(rest[0]), rest[1:]
        shape = -1 if rest[0] in ("shape", "shapes") else SHAPES.index(PLURALS.get(rest[0], rest[0]))
        out = (COUNT, NUMBERS.index(words[0]), (-1, color, shape), anything, 0, 0)
    else:
        a, i = _noun_phrase(words)
        rest = " ".join(words[i:])
        if not rest:
            out = (ONE, 0, a, anything, 0, 0)
        elif rest.startswith("and "):
            out = (AND, 0, a, _noun_phrase(words[i + 1:])[0], 0, 0)
        else:
            for phrase, (axis, sign) in RELATIONS.items():
                if rest.startswith(phrase + " "):
                    out = (RELATION, 0, a, _noun_phrase(rest[len(phrase) + 1:].split())[0], axis, sign)
                    break
            else:
                raise ValueError("not a caption of the Shapes grammar: " + text)
    _compiled[text] = out
    return out


def scene_arrays(objects_per_image):
    """The scenes as arrays [5, N, K] (size, colour, shape, x, y) and a validity mask [N, K]."""
    n, k = len(objects_per_image), max(len(o) for o in objects_per_image)
    a = np.full((5, n, k), -1.0)
    valid = np.zeros((n, k), bool)
    for i, objs in enumerate(objects_per_image):
        for j, o in enumerate(objs):
            a[:, i, j] = SIZES.index(o["size"]), COLORS.index(o["color"]), SHAPES.index(o["shape"]), o["x"], o["y"]
            valid[i, j] = True
    return a, valid


def truth(captions, scenes, image_size):
    """bool [T, N]: caption t is true of scene n (scenes: scene_arrays(...))."""
    a, valid = scenes
    c = [compile_caption(t) for t in captions]
    kind, count = np.array([x[0] for x in c]), np.array([x[1] for x in c])
    pa, pb = np.array([x[2] for x in c]), np.array([x[3] for x in c])
    axis, sign = np.array([x[4] for x in c]), np.array([x[5] for x in c])

    def matches(p):  # [T, N, K]: object k of scene n fits phrase p of caption t
        m = valid[None]
        for f in range(3):
            want = p[:, f][:, None, None]
            m = m & ((want < 0) | (a[f][None] == want))
        return m

    ma, mb = matches(pa), matches(pb)
    out = ((kind == ONE)[:, None] & ma.any(-1)) | ((kind == COUNT)[:, None] & (ma.sum(-1) == count[:, None]))
    distinct = ~np.eye(a.shape[2], dtype=bool)
    rows = np.nonzero(kind == AND)[0]
    if len(rows):
        out[rows] = (ma[rows][:, :, :, None] & mb[rows][:, :, None, :] & distinct).any((-1, -2))
    rows = np.nonzero(kind == RELATION)[0]
    if len(rows):
        pair = ma[rows][:, :, :, None] & mb[rows][:, :, None, :] & distinct
        pos = np.where(axis[rows][:, None, None] == 0, a[3][None], a[4][None])  # [R, N, K]
        ahead = (pos[:, :, None, :] - pos[:, :, :, None]) * sign[rows][:, None, None, None]  # b - a, signed
        out[rows] = (pair & (ahead >= image_size / 8.0)).any((-1, -2))
    return out


# ---------------------------------------------------------------- data

def encode(tokenizer, texts, device):
    """int64 [len(texts), L] with L the longest text of the batch (right-padded with <pad> = 0)."""
    ids = tokenizer.encode_batch(texts, MAX_LEN)
    longest = int(ids.ne(0).sum(1).max().item())
    return ids[:, :longest].contiguous().to(device)


class SceneBatches(Dataset):
    """Item b is a whole training batch (the DataLoader runs with batch_size=None): the images of scenes
    [start, start + batch_size) of the training split, all their captions and `questions` of their questions.
    Each epoch takes the next scenes (set_epoch), so no image is seen twice."""

    def __init__(self, shapes, tokenizer, batch_size, steps, questions, seed):
        self.shapes, self.tokenizer = shapes, tokenizer
        self.batch_size, self.steps, self.questions, self.seed = batch_size, steps, questions, seed
        self.epoch = 0

    def __len__(self):
        return self.steps

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __getitem__(self, b):
        start = (self.epoch * self.steps + b) * self.batch_size
        idx = list(range(start, start + self.batch_size))
        rng = random.Random(self.seed * 1000003 + self.epoch * 10007 + b)
        captions, owner = [], []
        for i, cs in enumerate(self.shapes.captions(idx)):
            captions += cs
            owner += [i] * len(cs)
        questions, answers, asker = [], [], []
        for i, index in enumerate(idx):
            item = self.shapes[index]
            for k in rng.sample(range(len(item["questions"])), min(self.questions, len(item["questions"]))):
                questions.append(item["questions"][k])
                answers.append(ANSWERS.index(item["answers"][k]))
                asker.append(i)
        cpu = loom.device("cpu")
        return {"images": self.shapes.images(idx), "captions": encode(self.tokenizer, captions, cpu),
                "caption_owner": loom.tensor(owner, dtype=loom.int64),
                "questions": encode(self.tokenizer, questions, cpu),
                "question_owner": loom.tensor(asker, dtype=loom.int64),
                "answers": loom.tensor(answers, dtype=loom.int64)}


def questions_of(shapes, n):
    """The questions, answer ids, types and image indices of the first n scenes."""
    qs, ans, types, owner = [], [], [], []
    for i in range(n):
        item = shapes[i]
        qs += item["questions"]
        ans += [ANSWERS.index(a) for a in item["answers"]]
        types += item["question_types"]
        owner += [i] * len(item["questions"])
    return qs, np.array(ans), np.array(types), np.array(owner)


# ---------------------------------------------------------------- models

def build_models(vocab):
    """The shared image encoder, the dual encoder and the VQA model (loom.multimodal's C++ modules)."""
    img = mm.VGGEncoder(IMAGE_SPEC, in_channels=3, dim=EMBED_DIM, norm="batch", pool="max")
    captions = mm.RNNTextEncoder(vocab, embed_dim=64, hidden=TEXT_HIDDEN, cell="gru", bidirectional=True,
                                 dim=EMBED_DIM)
    # embed_dim=0: no projections, the embeddings are the encoders' outputs (both EMBED_DIM wide), so
    # encode_image(x) == normalize(img.project(img.forward_features(x))) and the VQA model can reuse the map.
    dual = mm.DualEncoder(img, captions, embed_dim=0, temperature=0.07)
    questions = mm.RNNTextEncoder(vocab, embed_dim=64, hidden=TEXT_HIDDEN, cell="gru", bidirectional=True,
                                  dim=TEXT_HIDDEN)
    vqa = mm.VQAModel(img, questions, fusion="cross_attention", hidden=TEXT_HIDDEN, num_answers=len(ANSWERS),
                      heads=4)
    return img, dual, vqa


class SharedTraining(nn.Module):
    """Both models for the Trainer. The image encoder's parameters belong to both C++ models; unique_parameters()
    lists each tensor once (parameters() would list the shared ones twice, as two wrappers)."""

    def __init__(self, vqa, dual):
        super().__init__()
        self.vqa = vqa  # first: .to() moves the shared encoder with the VQA model, then the rest of dual
        self.dual = dual

    def unique_parameters(self):
        seen, out = set(), []
        for p in self.parameters():
            if p.data_ptr() not in seen:
                seen.add(p.data_ptr())
                out.append(p)
        return out


def scene_contrastive_loss(logits, owner):
    """logits [B, T] between B images and their T captions (caption t belongs to image owner[t]): cross-entropy
    of each caption over the images, plus, for each image, -log of the softmax mass on its own captions."""
    b = logits.shape[0]
    text_to_image = F.cross_entropy(logits.t(), owner)
    mine = owner.view(1, -1).eq(loom.arange(b, device=logits.device).view(-1, 1))
    image_to_text = (logits.logsumexp(1) - logits.masked_fill(mine.logical_not(), float("-inf")).logsumexp(1))
    return (text_to_image + image_to_text.mean()) / 2


class TrainStep:
    """forward(model, batch) for the Trainer: one image forward feeds the contrastive loss and the VQA loss. Keeps
    the per-step parts (as tensors, read once per epoch) for the curves."""

    def __init__(self, img, dual, vqa, vqa_weight):
        self.img, self.dual, self.vqa, self.vqa_weight = img, dual, vqa, vqa_weight
        self.pending, self.steps = [], []

    def __call__(self, model, batch):
        feats = self.img.forward_features(batch["images"])  # [B, 128, 6, 6]
        image_emb = F.normalize(self.img.project(feats))
        text_emb = self.dual.encode_text(batch["captions"])
        logits = self.dual.logit_scale().exp() * (image_emb @ text_emb.t())
        clip = scene_contrastive_loss(logits, batch["caption_owner"])
        states, pad = self.vqa.txt.forward_sequence(batch["questions"])
        answers = self.vqa.classify(feats.index_select(0, batch["question_owner"]), states, pad)
        qa = F.cross_entropy(answers, batch["answers"])
        correct = (answers.argmax(1) == batch["answers"]).float().mean()
        self.pending.append(loom.stack([clip.detach(), qa.detach(), correct.detach()]))
        return clip + self.vqa_weight * qa, batch["answers"]

    def flush(self):
        if self.pending:
            for row in loom.stack(self.pending).cpu().tolist():
                self.steps.append({"contrastive": row[0], "vqa": row[1], "vqa_acc": row[2]})
            self.pending = []


# ---------------------------------------------------------------- evaluation

def image_features(img, images, device):
    """(feature maps, normalised embeddings) of images [N, 3, S, S], EVAL_BATCH at a time."""
    maps, embs = [], []
    with loom.no_grad():
        for s in range(0, images.shape[0], EVAL_BATCH):
            f = img.forward_features(images[s:s + EVAL_BATCH].to(device))
            maps.append(f)
            embs.append(F.normalize(img.project(f)))
    return loom.cat(maps), loom.cat(embs)


def text_embeddings(encode_text, tokenizer, texts, device):
    with loom.no_grad():
        return loom.cat([encode_text(encode(tokenizer, texts[s:s + 2000], device))
                         for s in range(0, len(texts), 2000)])


def answer_questions(vqa, maps, tokenizer, questions, owner, device):
    """Predicted answer ids for questions about the images whose feature maps are given."""
    preds = []
    with loom.no_grad():
        for s in range(0, len(questions), 2000):
            states, pad = vqa.txt.forward_sequence(encode(tokenizer, questions[s:s + 2000], device))
            rows = loom.tensor(owner[s:s + 2000], dtype=loom.int64, device=device)
            preds += vqa.classify(maps.index_select(0, rows), states, pad).argmax(1).cpu().tolist()
    return np.array(preds)


def oracle_recall(fits, k):
    """Expected R@k of the truth oracle when each query fits `fits` documents, ranked first in random order."""
    return float(np.mean(np.minimum(1.0, k / np.maximum(fits, 1))))


def oracle_recall_by_specificity(fit, k):
    """Expected R@k of image queries over caption sets (fit [sets, images], set i is image i's own): the oracle
    ranks the sets that fit the image by how few images they fit (the own set is the likelier the fewer images
    it fits), ties in random order."""
    specificity = fit.sum(1)  # images each set fits
    out = []
    for n in range(fit.shape[1]):
        k_own = specificity[n]
        keys = specificity[fit[:, n]]
        ahead, tied = np.sum(keys < k_own), np.sum(keys == k_own)
        out.append(min(1.0, max(0.0, (k - ahead) / tied)))
    return float(np.mean(out))


class Retrieval:
    """Retrieval over held-out scenes. A scene query is the whole set of an image's captions; the score of image n
    for it is the mean over its captions c of log p(n | c), the softmax of the dual encoder's logits over the
    images (so text->image ranks by the product of the captions' likelihoods). image->text ranks the N caption
    sets for an image by the same score. truth() gives the oracle: the images each query fits."""

    def __init__(self, shapes, n, tokenizer):
        self.n, self.tokenizer, self.image_size = n, tokenizer, shapes.image_size
        self.captions = shapes.captions(range(n))
        self.texts = [c for cs in self.captions for c in cs]
        self.owner = np.array([i for i, cs in enumerate(self.captions) for _ in cs])
        self.scenes = scene_arrays([shapes.objects(i) for i in range(n)])
        self.truth = truth(self.texts, self.scenes, shapes.image_size)  # [T, N]
        member = np.zeros((n, len(self.texts)), np.float32)
        member[self.owner, np.arange(len(self.texts))] = 1
        self.member = member / member.sum(1, keepdims=True)  # row i: the mean over image i's captions
        # Caption set i fits image j when every caption of the set is true of j.
        self.scene_truth = self.member @ self.truth.astype(np.float32) > 1 - 1e-4  # [N sets, N images]

    def ceilings(self, ks=(1, 5, 10)):
        return {
            "scene": {"text_to_image": {f"R@{k}": oracle_recall(self.scene_truth.sum(1), k) for k in ks},
                      "image_to_text": {f"R@{k}": oracle_recall_by_specificity(self.scene_truth, k) for k in ks},
                      "images_per_query": float(self.scene_truth.sum(1).mean())},
            "caption": {"text_to_image": {f"R@{k}": oracle_recall(self.truth.sum(1), k) for k in ks},
                        "images_per_query": float(self.truth.sum(1).mean())},
        }

    def score(self, image_emb, text_emb, scale, ks=(1, 5, 10)):
        """Recalls (fractions) of image embeddings [N, E] and caption embeddings [T, E]; returns them, the scene
        scores [N sets, N images] and the caption logits [T, N]."""
        device = image_emb.device
        with loom.no_grad():
            logits = scale * (text_emb @ image_emb.t())  # [T, N]
            log_p = logits - logits.logsumexp(1, keepdim=True)
            scene = loom.tensor(self.member, device=device) @ log_p
            per_caption = mm.retrieval_metrics(image_emb, text_emb, loom.arange(self.n, device=device),
                                               loom.tensor(self.owner, dtype=loom.int64, device=device), list(ks))
        scene_t = scene.t().contiguous()
        top_image = scene.argmax(1).cpu().numpy()
        top_set = scene_t.argmax(1).cpu().numpy()
        top_caption = logits.argmax(1).cpu().numpy()
        rows = np.arange(self.n)
        out = {
            "scene": {"text_to_image": {f"R@{k}": mm.recall_at_k(scene, k) for k in ks},
                      "image_to_text": {f"R@{k}": mm.recall_at_k(scene_t, k) for k in ks}},
            "caption": {"text_to_image": {f"R@{k}": per_caption.text_to_image.recall_at(k) for k in ks}},
        }
        out["scene"]["text_to_image"]["median_rank"] = mm.median_rank(scene)
        out["scene"]["image_to_text"]["median_rank"] = mm.median_rank(scene_t)
        # Whether the top document fits the query, whichever it is (the oracle: 100 %).
        out["scene"]["text_to_image"]["top1_fits"] = float(self.scene_truth[rows, top_image].mean())
        out["scene"]["image_to_text"]["top1_fits"] = float(self.scene_truth[top_set, rows].mean())
        out["caption"]["text_to_image"]["top1_fits"] = float(self.truth[np.arange(len(self.texts)),
                                                                        top_caption].mean())
        return out, scene.cpu().numpy(), logits.cpu().numpy()


def render_phrase(p):
    """The noun phrase of (size, colour, shape) ids: (-1, 4, 2) -> "a purple triangle"."""
    size, color, shape = p
    words = [SIZES[size]] * (size >= 0) + [COLORS[color]] * (color >= 0) + [SHAPES[shape] if shape >= 0 else "shape"]
    return ("an " if words[0][0] in "aeiou" else "a ") + " ".join(words)


def order_probes(ret):
    """Captions of two objects paired with a rewording of the same words that is false of the image:
    "binding" swaps the size and colour words of the two noun phrases ("a red circle and a blue square" ->
    "a blue circle and a red square"); "relation" swaps the noun phrases around the relation ("a circle above a
    square" -> "a square above a circle"). A bag of words cannot tell either pair apart."""
    probes = {"binding": [], "relation": []}
    for t, text in enumerate(ret.texts):
        kind, _, a, b, axis, sign = compile_caption(text)
        if kind == ONE or kind == COUNT:
            continue
        joint = " and " if kind == AND else " " + next(w for w, r in RELATIONS.items() if r == (axis, sign)) + " "
        swapped = (b[0], b[1], a[2]), (a[0], a[1], b[2])
        probes["binding"].append((t, render_phrase(swapped[0]) + joint + render_phrase(swapped[1])))
        if kind == RELATION:
            probes["relation"].append((t, render_phrase(b) + joint + render_phrase(a)))
    out = {}
    for name, pairs in probes.items():
        pairs = [(t, alt) for t, alt in pairs if alt != ret.texts[t]]
        false = ~truth([alt for _, alt in pairs], ret.scenes, ret.image_size)[
            np.arange(len(pairs)), ret.owner[[t for t, _ in pairs]]]
        out[name] = [pair for pair, f in zip(pairs, false) if f]
    return out


def order_probe_accuracy(probes, ret, image_emb, text_emb, encode_text, tokenizer, device):
    """The fraction of probes where the image is closer to its true caption than to the rewording (ties: 1/2)."""
    out = {}
    for name, pairs in probes.items():
        if not pairs:
            continue
        rows = loom.tensor([t for t, _ in pairs], dtype=loom.int64, device=device)
        images = loom.tensor(ret.owner[[t for t, _ in pairs]], dtype=loom.int64, device=device)
        with loom.no_grad():
            img = image_emb.index_select(0, images)
            right = (img * text_emb.index_select(0, rows)).sum(1)
            wrong = (img * text_embeddings(encode_text, tokenizer, [alt for _, alt in pairs], device)).sum(1)
        diff = (right - wrong).cpu().numpy()
        out[name] = float(np.mean((diff > 1e-6) + 0.5 * (np.abs(diff) <= 1e-6)))
        out[name + "_probes"] = len(pairs)
    return out


def zero_shot(img, encode_text, tokenizer, single, counted, device):
    """Accuracy of the nearest prompt (loom.multimodal.zero_shot_accuracy): the shape ("a star") and colour
    ("an orange shape") of single-object images, and the number of objects ("three shapes") of any image."""
    out = {}
    _, emb = image_features(img, single.images(range(len(single))), device)
    objects = [single.objects(i)[0] for i in range(len(single))]
    for attr, names, noun in (("shape", SHAPES, ""), ("color", COLORS, " shape")):
        prompts = text_embeddings(encode_text, tokenizer, [("an " if n[0] in "aeiou" else "a ") + n + noun
                                                           for n in names], device)
        labels = loom.tensor([names.index(o[attr]) for o in objects], dtype=loom.int64, device=device)
        out[attr] = mm.zero_shot_accuracy(emb, prompts, labels)
    _, emb = image_features(img, counted.images(range(len(counted))), device)
    prompts = text_embeddings(encode_text, tokenizer, ["one shape", "two shapes", "three shapes", "four shapes"],
                              device)
    labels = loom.tensor([len(counted.objects(i)) - 1 for i in range(len(counted))], dtype=loom.int64, device=device)
    out["count"] = mm.zero_shot_accuracy(emb, prompts, labels)
    return out


def vqa_scores(pred, answers, types):
    """Exact-match accuracy overall and per question type (loom.multimodal.vqa_accuracy)."""
    acc = mm.vqa_accuracy(loom.tensor(pred, dtype=loom.int64), loom.tensor(answers, dtype=loom.int64), list(types))
    return {"overall": acc.overall, **{t: acc.per_type[t] for t in QUESTION_TYPES if t in acc.per_type}}


# ---------------------------------------------------------------- baselines

class BagOfWords(nn.Module):
    """Caption -> [B, EMBED_DIM]: the mean of the word embeddings (order ignored), then Linear."""

    def __init__(self, vocab):
        super().__init__()
        self.emb = nn.Embedding(vocab, EMBED_DIM, padding_idx=0)
        self.proj = nn.Linear(EMBED_DIM, EMBED_DIM)

    def forward(self, tokens):
        mask = tokens.ne(0).float().unsqueeze(2)
        return self.proj((self.emb(tokens) * mask).sum(1) / mask.sum(1))


def bow_retrieval_baseline(img, scale, shapes, tokenizer, images, steps, batch, device, seed):
    """A bag-of-words caption encoder fitted by the same contrastive loss to the trained image encoder (frozen):
    what the images support when word order (who is red, who is left of whom) is thrown away."""
    loom.manual_seed(seed)
    idx = list(range(images))
    _, image_emb = image_features(img, shapes.images(idx), device)
    caps = shapes.captions(idx)
    model = BagOfWords(tokenizer.vocab_size()).to(device)
    opt = loom.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    sched = loom.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    rng = random.Random(seed)
    for step in range(steps):
        rows = rng.sample(idx, batch)
        texts, owner = [], []
        for i, r in enumerate(rows):
            texts += caps[r]
            owner += [i] * len(caps[r])
        emb_i = image_emb.index_select(0, loom.tensor(rows, dtype=loom.int64, device=device))
        emb_t = F.normalize(model(encode(tokenizer, texts, device)))
        loss = scene_contrastive_loss(scale * (emb_i @ emb_t.t()), loom.tensor(owner, dtype=loom.int64,
                                                                               device=device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    return lambda tokens: F.normalize(model(tokens))


def question_only_baseline(tokenizer, train_q, test_sets, epochs, device, seed):
    """Answers from the question alone: word counts -> MLP. What priors and wording give away."""
    loom.manual_seed(seed)
    vocab = tokenizer.vocab_size()

    def bags(questions):
        ids = tokenizer.encode_batch(questions, MAX_LEN).numpy()
        out = np.zeros((len(questions), vocab), np.float32)
        for r in range(ids.shape[0]):
            np.add.at(out[r], ids[r][ids[r] > 3], 1.0)  # skip <pad>, <unk>, <bos>, <eos>
        return loom.tensor(out, device=device)

    x, y = bags(train_q[0]), loom.tensor(train_q[1], dtype=loom.int64, device=device)
    model = nn.Sequential(nn.Linear(vocab, 128), nn.ReLU(), nn.Linear(128, len(ANSWERS))).to(device)
    opt = loom.optim.AdamW(model.parameters(), lr=3e-3)
    n = x.shape[0]
    for _ in range(epochs):
        perm = loom.randperm(n).to(device)
        for s in range(0, n, 256):
            rows = perm[s:s + 256]
            loss = F.cross_entropy(model(x.index_select(0, rows)), y.index_select(0, rows))
            opt.zero_grad()
            loss.backward()
            opt.step()
    out = {}
    with loom.no_grad():
        for name, (qs, ans, types) in test_sets.items():
            pred = model(bags(qs)).argmax(1).cpu().numpy()
            out[name] = vqa_scores(pred, ans, types)
    return out


# ---------------------------------------------------------------- pictures

def to_rgb(image):
    """[3, S, S] tensor -> [S, S, 3] numpy."""
    return np.clip(image.cpu().numpy().transpose(1, 2, 0), 0, 1)


def plot_curves(plt, path, steps, epochs, ceiling, val_images):
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    x = np.arange(1, len(steps) + 1)

    def smooth(v, w=10):
        v = np.asarray(v, float)
        return np.convolve(v, np.ones(w) / w, mode="valid") if len(v) > w else v

    for key, label in (("contrastive", "contrastive loss"), ("vqa", "VQA cross-entropy")):
        v = smooth([s[key] for s in steps])
        ax[0].plot(x[len(x) - len(v):], v, label=label)
    ax[0].set_xlabel("step")
    ax[0].set_title("training losses (10-step mean)")
    ax[0].legend()
    ends = [e["step"] for e in epochs]
    v = smooth([s["vqa_acc"] for s in steps])
    ax[1].plot(x[len(x) - len(v):], 100 * v, label="train (10-step mean)")
    ax[1].plot(ends, [100 * e["val_vqa_acc"] for e in epochs], "o-", label="validation")
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("%")
    ax[1].set_title("VQA accuracy")
    ax[1].legend()
    ax[2].plot(ends, [100 * e["val_scene_r1"] for e in epochs], "o-", label="text->image R@1 (scene queries)")
    ax[2].plot(ends, [100 * e["val_scene_r10"] for e in epochs], "o-", label="R@10")
    ax[2].axhline(100 * ceiling, color="gray", ls="--", label="R@1 of the truth oracle")
    ax[2].set_xlabel("step")
    ax[2].set_ylabel("%")
    ax[2].set_title(f"retrieval among {val_images} validation scenes")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_retrieval_sheet(plt, path, images, ret, scene, caption_logits, queries, image_queries):
    """Rows of scene queries with their top-5 images (green: the query's image; orange: another image that fits
    every caption), then images with their top-5 captions (ticked: true of the image; bold: the image's own)."""
    rows = len(queries) + len(image_queries)
    fig = plt.figure(figsize=(12, 2.1 * rows))
    grid = fig.add_gridspec(rows, 6, width_ratios=[2.3, 1, 1, 1, 1, 1])
    for r, q in enumerate(queries):
        text = fig.add_subplot(grid[r, 0])
        text.axis("off")
        text.text(0, 0.5, "query:\n" + "\n".join("· " + c for c in ret.captions[q]), va="center", fontsize=8)
        top = np.argsort(-scene[q])[:5]
        for j, n in enumerate(top):
            ax = fig.add_subplot(grid[r, 1 + j])
            ax.imshow(to_rgb(images[n]), interpolation="nearest")
            color = "limegreen" if n == q else ("orange" if ret.scene_truth[q, n] else "none")
            for s in ax.spines.values():
                s.set_edgecolor(color)
                s.set_linewidth(4)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"#{j + 1}", fontsize=8)
    for r, n in enumerate(image_queries, start=len(queries)):
        ax = fig.add_subplot(grid[r, 1])
        ax.imshow(to_rgb(images[n]), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("image query", fontsize=8)
        text = fig.add_subplot(grid[r, 2:6])
        text.axis("off")
        # Distinct caption texts, best first.
        order, seen, lines = np.argsort(-caption_logits[:, n]), set(), []
        for t in order:
            if ret.texts[t] in seen:
                continue
            seen.add(ret.texts[t])
            lines.append((ret.texts[t], bool(ret.truth[t, n]), ret.texts[t] in ret.captions[n]))
            if len(lines) == 5:
                break
        for j, (caption, ok, own) in enumerate(lines):
            mark = "\u2713" if ok else "\u2717"  # check mark, ballot x
            text.text(0, 0.9 - 0.2 * j, f"{j + 1}. {mark}  {caption}", fontsize=9,
                      color="green" if ok else "red", weight="bold" if own else "normal", va="center")
        left = fig.add_subplot(grid[r, 0])
        left.axis("off")
        left.text(0, 0.5, "its top-5 captions (of all test captions)\n\u2713 true of the image, \u2717 false;\n"
                          "bold: one of its own captions", va="center", fontsize=8)
    fig.suptitle("text->image: green = the query's image, orange = another image that fits every caption",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def grad_cam(vqa, maps, states, pad, answer):
    """Grad-CAM over the feature map: ReLU(sum_c mean_hw(d score / d map_c) * map_c), [h, w]."""
    m = maps.detach().requires_grad_()
    score = vqa.classify(m, states, pad)[0, answer]
    (g,) = loom.autograd.grad(score, m)
    cam = F.relu((g.mean((2, 3), keepdim=True) * m).sum(1))[0]
    return cam.detach().cpu().numpy()


def plot_attention(plt, path, vqa, img, tokenizer, shapes, examples, device):
    """For each (image, question): the image, the cross-attention weights of the question's tokens over the
    6x6 cells (mean over heads and tokens) and the Grad-CAM of the predicted answer."""
    fig, axes = plt.subplots(len(examples), 3, figsize=(7.2, 2.45 * len(examples)))
    vqa.eval()
    for r, (index, question, answer) in enumerate(examples):
        image = shapes.images([index]).to(device)
        with loom.no_grad():
            maps = img.forward_features(image)
        tokens = encode(tokenizer, [question], device)
        states, pad = vqa.txt.forward_sequence(tokens)
        with loom.no_grad():
            logits = vqa.classify(maps, states, pad)
            attn = vqa.last_attention()  # [1, heads, L, cells]
        pred = int(logits.argmax(1).item())
        valid = tokens.ne(0)[0].cpu().numpy()
        a = attn[0].mean(0).cpu().numpy()[valid].mean(0)
        side = int(round(math.sqrt(a.shape[0])))
        cam = grad_cam(vqa, maps, states, pad, pred)
        rgb = to_rgb(image[0])
        size = rgb.shape[0]
        for c, (title, heat) in enumerate((("image", None), ("cross-attention", a.reshape(side, side)),
                                           ("Grad-CAM of the answer", cam))):
            ax = axes[r, c]
            ax.imshow(rgb, interpolation="nearest")
            if heat is not None:
                ax.imshow(heat, cmap="jet", alpha=0.5, extent=(-0.5, size - 0.5, size - 0.5, -0.5),
                          interpolation="bilinear")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
        axes[r, 0].set_ylabel(textwrap.fill(question, 30) + f"\n-> {ANSWERS[pred]} (truth: {ANSWERS[answer]})",
                              fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def plot_confusion(plt, path, pred, answers):
    m = mm.confusion_matrix(loom.tensor(pred, dtype=loom.int64), loom.tensor(answers, dtype=loom.int64),
                            len(ANSWERS)).numpy().astype(float)  # [true, predicted]
    shown = np.nonzero(m.sum(1) + m.sum(0))[0]  # answers that occur
    m = m[np.ix_(shown, shown)]
    rows = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    names = [ANSWERS[i] for i in shown]
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true answer")
    ax.set_title("VQA confusion on the test questions (rows sum to 1)")
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


# ---------------------------------------------------------------- training

class Validation(Callback):
    """After each epoch: VQA accuracy and scene-query text->image R@1 / R@10 on validation scenes; the values
    join the epoch's logs (so metrics.jsonl has them) and one line is printed."""

    def __init__(self, step_fn, data, val, tokenizer, device):
        self.step_fn, self.data, self.val, self.tokenizer, self.device = step_fn, data, val, tokenizer, device
        self.images = val["shapes"].images(range(val["retrieval"].n))
        self.epochs = []

    def on_epoch_begin(self, trainer, epoch):
        self.data.set_epoch(epoch)

    def on_epoch_end(self, trainer, epoch, logs):
        fn = self.step_fn
        first = len(fn.steps)
        fn.flush()
        part = fn.steps[first:]
        for key in ("contrastive", "vqa", "vqa_acc"):
            logs["train_" + key] = float(np.mean([s[key] for s in part]))
        trainer.model.eval()
        maps, emb = image_features(fn.img, self.images, self.device)
        ret = self.val["retrieval"]
        text_emb = text_embeddings(fn.dual.encode_text, self.tokenizer, ret.texts, self.device)
        scores, _, _ = ret.score(emb, text_emb, fn.dual.logit_scale().exp(), ks=(1, 10))
        qs, ans, _, owner = self.val["questions"]
        pred = answer_questions(fn.vqa, maps, self.tokenizer, qs, owner, self.device)
        logs["val_scene_r1"] = scores["scene"]["text_to_image"]["R@1"]
        logs["val_scene_r10"] = scores["scene"]["text_to_image"]["R@10"]
        logs["val_vqa_acc"] = float(np.mean(pred == ans))
        logs["logit_scale"] = float(fn.dual.logit_scale().exp().item())
        self.epochs.append(dict(logs, epoch=epoch + 1, step=len(fn.steps)))
        print(f"  epoch {epoch + 1}: train contrastive {logs['train_contrastive']:.3f}  VQA loss "
              f"{logs['train_vqa']:.3f}  VQA acc {100 * logs['train_vqa_acc']:.1f}%  |  validation: text->image "
              f"R@1 {100 * logs['val_scene_r1']:.1f}%  R@10 {100 * logs['val_scene_r10']:.1f}%  VQA "
              f"{100 * logs['val_vqa_acc']:.1f}%", flush=True)
        trainer.model.train()


def lookup(tree, dotted):
    for key in dotted.split("."):
        tree = tree[key]
    return tree


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--out", default="runs/shapes", help="output folder (runs/<name>)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--steps-per-epoch", type=int, default=80)
    ap.add_argument("--batch-size", type=int, default=128, help="scenes per step (with all their captions)")
    ap.add_argument("--questions", type=int, default=4, help="questions per scene and step (at most 4)")
    ap.add_argument("--lr", type=float, default=5e-3, help="the peak of the one-cycle schedule")
    ap.add_argument("--vqa-weight", type=float, default=1.0, help="weight of the VQA loss (the contrastive: 1)")
    ap.add_argument("--image-size", type=int, default=48)
    ap.add_argument("--test-images", type=int, default=1000)
    ap.add_argument("--val-images", type=int, default=300)
    ap.add_argument("--workers", type=int, default=1, help="DataLoader threads rendering the next batches")
    ap.add_argument("--check", action="store_true", help="exit 1 when a threshold is missed")
    ap.add_argument("--quick", action="store_true", help="a tiny run (seconds) that exercises every output")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.steps_per_epoch, args.batch_size = 2, 3, 32
        args.test_images, args.val_images = 100, 40
    t_start = time.perf_counter()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    device = loom.device("cuda" if args.device == "cuda" or (args.device == "auto" and loom.cuda.is_available())
                         else "cpu")
    os.makedirs(args.out, exist_ok=True)
    loom.manual_seed(args.seed)
    random.seed(args.seed)
    size = args.image_size
    steps = args.epochs * args.steps_per_epoch

    tokenizer = mm.WordTokenizer()
    tokenizer.build(list(Shapes.vocabulary))  # every token that captions and questions can contain
    train = Shapes(steps * args.batch_size, "train", seed=args.seed, image_size=size)
    test = Shapes(args.test_images, "test", seed=args.seed, image_size=size)
    comp = Shapes(args.test_images, "compositional", seed=args.seed, image_size=size)
    val_shapes = Shapes(args.val_images, "test", seed=args.seed + 1, image_size=size)  # unseen, not the test set
    single = Shapes(args.test_images, "test", seed=args.seed + 2, image_size=size, min_objects=1, max_objects=1)

    img, dual, vqa = build_models(tokenizer.vocab_size())
    model = SharedTraining(vqa, dual)
    model.to(device)
    params = model.unique_parameters()
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]  # biases, norms and logit_scale
    opt = loom.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                           lr=args.lr)
    sched = loom.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.15)
    print(f"Shapes {size}x{size}, 1-4 objects: {steps} steps x {args.batch_size} scenes (all their captions, "
          f"{args.questions} questions each); {sum(p.numel() for p in params)} parameters "
          f"(image encoder {sum(p.numel() for p in img.parameters())}); device {device}, "
          f"{loom.get_num_threads()} threads", flush=True)

    data = SceneBatches(train, tokenizer, args.batch_size, args.steps_per_epoch, args.questions, args.seed)
    loader = DataLoader(data, batch_size=None, num_workers=args.workers)
    val = {"shapes": val_shapes, "retrieval": Retrieval(val_shapes, args.val_images, tokenizer),
           "questions": questions_of(val_shapes, args.val_images)}
    step_fn = TrainStep(img, dual, vqa, args.vqa_weight)
    validation = Validation(step_fn, data, val, tokenizer, device)
    trainer = Trainer(model, lambda loss, _: loss, opt, device=str(device), forward=step_fn)
    t0 = time.perf_counter()
    trainer.fit(loader, epochs=args.epochs, callbacks=[
        LRSchedulerCallback(sched, per_batch=True), validation,
        JSONLLogger(os.path.join(args.out, "metrics.jsonl"))])
    train_seconds = time.perf_counter() - t0

    # ---- evaluation
    t0 = time.perf_counter()
    model.eval()
    ret = Retrieval(test, args.test_images, tokenizer)
    ceilings = ret.ceilings()
    test_images = test.images(range(args.test_images))
    maps, image_emb = image_features(img, test_images, device)
    text_emb = text_embeddings(dual.encode_text, tokenizer, ret.texts, device)
    scale = dual.logit_scale().exp().detach()
    retrieval, scene, caption_logits = ret.score(image_emb, text_emb, scale)
    zs = zero_shot(img, dual.encode_text, tokenizer, single, test, device)
    probes = order_probes(ret)
    retrieval["word_order"] = order_probe_accuracy(probes, ret, image_emb, text_emb, dual.encode_text, tokenizer,
                                                   device)
    tq = questions_of(test, args.test_images)
    test_pred = answer_questions(vqa, maps, tokenizer, tq[0], tq[3], device)
    cq = questions_of(comp, args.test_images)
    comp_maps, _ = image_features(img, comp.images(range(args.test_images)), device)
    comp_pred = answer_questions(vqa, comp_maps, tokenizer, cq[0], cq[3], device)
    vqa_result = {"test": vqa_scores(test_pred, tq[1], tq[2]), "compositional": vqa_scores(comp_pred, cq[1], cq[2])}
    eval_seconds = time.perf_counter() - t0

    # ---- baselines
    t0 = time.perf_counter()
    bow_images = min(8192, steps * args.batch_size)
    bow_text = bow_retrieval_baseline(img, scale, train, tokenizer, bow_images, max(20, steps // 3),
                                      min(128, bow_images), device, args.seed)
    bow_emb = text_embeddings(bow_text, tokenizer, ret.texts, device)
    bow_scores, _, _ = ret.score(image_emb, bow_emb, scale)
    bow_scores["word_order"] = order_probe_accuracy(probes, ret, image_emb, bow_emb, bow_text, tokenizer, device)
    qtrain = questions_of(train, min(10000, steps * args.batch_size))
    qonly = question_only_baseline(tokenizer, qtrain, {"test": tq[:3], "compositional": cq[:3]},
                                   epochs=4 if not args.quick else 1, device=device, seed=args.seed)
    baseline_seconds = time.perf_counter() - t0

    # ---- outputs
    t0 = time.perf_counter()
    loom.save({k: v.detach().cpu().contiguous() for k, v in dual.state_dict().items()},
              os.path.join(args.out, "dual_encoder.safetensors"))
    loom.save({k: v.detach().cpu().contiguous() for k, v in vqa.state_dict().items()},
              os.path.join(args.out, "vqa.safetensors"))
    tokenizer.save(os.path.join(args.out, "tokenizer.txt"))
    ceiling_r1 = val["retrieval"].ceilings()["scene"]["text_to_image"]["R@1"]
    plot_curves(plt, os.path.join(args.out, "curves.png"), step_fn.steps, validation.epochs, ceiling_r1,
                args.val_images)
    plot_retrieval_sheet(plt, os.path.join(args.out, "retrieval_sheet.png"), test_images, ret, scene,
                         caption_logits, queries=[0, 1, 2], image_queries=[3, 4])
    examples = []
    for t in ("color", "shape", "count", "exist", "relation"):  # one question of each type, from the test split
        k = next((i for i, qt in enumerate(tq[2]) if qt == t and i // 4 not in [e[0] for e in examples]), None)
        if k is not None:
            examples.append((int(tq[3][k]), tq[0][k], int(tq[1][k])))
    plot_attention(plt, os.path.join(args.out, "attention.png"), vqa, img, tokenizer, test, examples, device)
    plot_confusion(plt, os.path.join(args.out, "vqa_confusion.png"), test_pred, tq[1])
    output_seconds = time.perf_counter() - t0

    summary = {
        "config": {"image_size": size, "objects": "1-4", "epochs": args.epochs, "steps": steps,
                   "batch_size": args.batch_size, "questions_per_scene": args.questions, "lr": args.lr,
                   "seed": args.seed, "device": str(device), "threads": loom.get_num_threads(),
                   "test_images": args.test_images, "quick": args.quick},
        "retrieval": retrieval, "ceilings": ceilings, "zero_shot": zs, "vqa": vqa_result,
        "baselines": {"bow_captions": bow_scores, "question_only_vqa": qonly},
        "gaps": {"retrieval_r1_over_bow": retrieval["scene"]["text_to_image"]["R@1"] -
                 bow_scores["scene"]["text_to_image"]["R@1"],
                 "vqa_over_question_only": vqa_result["test"]["overall"] - qonly["test"]["overall"]},
        "seconds": {"train": train_seconds, "evaluation": eval_seconds, "baselines": baseline_seconds,
                    "outputs": output_seconds},
    }

    # ---- report
    def pct(v):
        return f"{100 * v:5.1f}%"

    print(f"\n== Shapes: {args.test_images} held-out test images ==")
    sc = ceilings["scene"]
    per_caption = ceilings["caption"]["images_per_query"]
    print(f"retrieval (in brackets: the truth oracle; a scene query, all of an image's captions, fits "
          f"{sc['images_per_query']:.2f} of the images, a single caption {per_caption:.0f}):")
    for name, key in (("text->image, scene queries ", "scene.text_to_image"),
                      ("image->text, scene captions", "scene.image_to_text"),
                      ("text->image, single captions", "caption.text_to_image")):
        r, c = lookup(retrieval, key), lookup(ceilings, key)
        print(f"  {name}  " + "  ".join(f"R@{k} {pct(r[f'R@{k}'])} [{pct(c[f'R@{k}']).strip()}]" for k in (1, 5, 10))
              + f"  top-1 fits {pct(r['top1_fits'])}")
    bs = bow_scores["scene"]["text_to_image"]
    print(f"  bag-of-words caption encoder, text->image scene queries  R@1 {pct(bs['R@1'])}  R@5 {pct(bs['R@5'])}  "
          f"R@10 {pct(bs['R@10'])}")
    wo, bo = retrieval["word_order"], bow_scores["word_order"]
    print(f"  word order (the image prefers its caption to the same words reordered, false of it; bag of words in "
          f"brackets): binding {pct(wo['binding'])} [{pct(bo['binding']).strip()}] over {wo['binding_probes']}, "
          f"relation {pct(wo['relation'])} [{pct(bo['relation']).strip()}] over {wo['relation_probes']}")
    print(f"zero-shot: shape {pct(zs['shape'])} (6 prompts \"a circle\"...), colour {pct(zs['color'])} "
          f"(7 prompts \"a red shape\"...), number of objects {pct(zs['count'])} (\"one shape\"...\"four shapes\")")
    for split in ("test", "compositional"):
        v = vqa_result[split]
        print(f"VQA {split:13s} {pct(v['overall'])}  " + "  ".join(f"{t} {pct(v[t])}" for t in QUESTION_TYPES
                                                                   if t in v))
        q = qonly[split]
        print(f"    question only {pct(q['overall'])}  " + "  ".join(f"{t} {pct(q[t])}" for t in QUESTION_TYPES
                                                                      if t in q))
    failed = []
    print("thresholds:" + (" (they apply to the default run; --quick only exercises the code)" if args.quick else ""))
    for name, (key, mark) in THRESHOLDS.items():
        value = lookup(summary, key)
        ok = value >= mark
        failed += [] if ok else [name]
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {pct(value)} (>= {pct(mark).strip()})")
    total = time.perf_counter() - t_start
    summary["seconds"]["total"] = total
    summary["thresholds"] = {name: {"value": lookup(summary, key), "min": mark, "pass": lookup(summary, key) >= mark}
                             for name, (key, mark) in THRESHOLDS.items()}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"time: training {train_seconds:.0f}s, evaluation {eval_seconds:.0f}s, baselines {baseline_seconds:.0f}s, "
          f"pictures and checkpoints {output_seconds:.0f}s; total {total:.0f}s")
    print(f"wrote {args.out}/: metrics.jsonl summary.json dual_encoder.safetensors vqa.safetensors tokenizer.txt "
          f"curves.png retrieval_sheet.png attention.png vqa_confusion.png")
    if args.check and failed and not args.quick:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
