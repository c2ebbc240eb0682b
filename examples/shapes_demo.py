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
import os
import random
import sys
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

import shapes_plots as plots  # examples/shapes_plots.py

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


SHAPES, COLORS = list(Shapes.shapes), list(Shapes.colors)


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
    """Both models for the Trainer. The image encoder belongs to both; parameters() lists each tensor once."""

    def __init__(self, vqa, dual):
        super().__init__()
        self.vqa = vqa  # first: the shared encoder is named vqa.img.*
        self.dual = dual


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


def retrieval_protocol(shapes, n):
    """The Shapes retrieval protocol over the first n images (loom.multimodal.ShapesRetrieval, C++): scene queries
    (all of an image's captions), single captions and word-order probes, scored against the caption oracle (the
    grammar gives the truth of any caption on any image; docs/multimodal.md, "The main job: Shapes")."""
    return mm.ShapesRetrieval(shapes, n)


def order_probe_accuracy(probes, ret, image_emb, text_emb, encode_text, tokenizer, device):
    """The fraction of probes where the image is closer to its true caption than to the rewording (ties: 1/2)."""
    out = {}
    for name, pairs in probes.items():
        if pairs:
            alt = text_embeddings(encode_text, tokenizer, [alt for _, alt in pairs], device)
            out[name] = ret.probe_accuracy(pairs, image_emb, text_emb, alt)
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
    params = list(model.parameters())
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
    val = {"shapes": val_shapes, "retrieval": retrieval_protocol(val_shapes, args.val_images),
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
    ret = retrieval_protocol(test, args.test_images)
    ceilings = ret.ceilings()
    test_images = test.images(range(args.test_images))
    maps, image_emb = image_features(img, test_images, device)
    text_emb = text_embeddings(dual.encode_text, tokenizer, ret.texts, device)
    scale = dual.logit_scale().exp().detach()
    retrieval, scene, caption_logits = ret.score(image_emb, text_emb, scale)
    zs = zero_shot(img, dual.encode_text, tokenizer, single, test, device)
    probes = ret.order_probes()
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
    plots.plot_curves(plt, os.path.join(args.out, "curves.png"), step_fn.steps, validation.epochs, ceiling_r1,
                      args.val_images)
    plots.plot_retrieval_sheet(plt, os.path.join(args.out, "retrieval_sheet.png"), test_images, ret,
                               scene.numpy(), caption_logits.numpy(), queries=[0, 1, 2], image_queries=[3, 4])
    examples = []
    for t in ("color", "shape", "count", "exist", "relation"):  # one question of each type, from the test split
        k = next((i for i, qt in enumerate(tq[2]) if qt == t and i // 4 not in [e[0] for e in examples]), None)
        if k is not None:
            examples.append((int(tq[3][k]), tq[0][k], int(tq[1][k])))
    plots.plot_attention(plt, os.path.join(args.out, "attention.png"), vqa, img,
                         lambda texts: encode(tokenizer, texts, device), test, examples, ANSWERS, device)
    plots.plot_confusion(plt, os.path.join(args.out, "vqa_confusion.png"), test_pred, tq[1], ANSWERS)
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
