#!/usr/bin/env python3
"""Trains a CLIP-style dual encoder on Fashion-MNIST (Debian's dataset-fashion-mnist) paired with generated
captions ("a photo of a sneaker", "a pair of trousers on a plain background", ...), written with loom's Python API
as it would be with PyTorch. The Python twin of examples/train_clip_fashion_mnist.cpp (its LSTM text encoder).

A small CNN embeds the 1x28x28 images, an LSTM embeds the captions, and the symmetric contrastive loss pulls each
image towards its own caption and away from the other captions of the batch (in-batch negatives); AdamW with a
per-step cosine schedule. Evaluation on the test split, each test image paired with a freshly drawn caption:
image->text and text->image R@1, R@5 and median rank, where a match is any caption of the image's class, and
zero-shot accuracy, where each image gets the class of the nearest of ten prompts "a photo of <class>".

    PYTHONPATH=python .venv/bin/python examples/train_clip_fashion_mnist.py [--epochs 3] [--batch-size 256] [--lr 2e-3]
        [--train-limit N] [--test-limit N] [--seed 0] [--data-dir DIR] [--min-zero-shot X]

Exit status 77 when the data set is not installed; 1 when --min-zero-shot is given and the final zero-shot
accuracy is below it.
"""
import argparse
import math
import os
import sys
import time

import loom
import loom.nn as nn
import loom.nn.functional as F
import loom.optim
import loom.optim.lr_scheduler
from loom.multimodal import (WordTokenizer, fashion_mnist_captions, fashion_mnist_classes, load_fashion_mnist,
                             retrieval_metrics)

DATA = "/usr/share/datasets/fashion-mnist"
EMBED_DIM = 128  # the joint embedding space
TEXT_DIM = 64  # token embeddings and the LSTM's width
# The longest caption, "a black-and-white picture of a pair of trousers", is 12 tokens; with <bos> and <eos> it
# fits in 16.
MAX_LEN = 16
PAD = 0  # WordTokenizer's <pad> id: encode_batch right-pads with it
EVAL_BATCH = 1000


class ImageEncoder(nn.Module):
    """images [B, 1, 28, 28] -> [B, EMBED_DIM]: three conv 3x3 + ReLU + 2x2 max-pool blocks (28 -> 14 -> 7 -> 3),
    then a Linear on the flattened map. Flattening instead of averaging keeps where on the image a feature is,
    which separates shapes such as sandals and sneakers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.proj = nn.Linear(64 * 3 * 3, EMBED_DIM)

    def forward(self, images):
        h = self.pool(F.relu(self.conv1(images)))
        h = self.pool(F.relu(self.conv2(h)))
        h = self.pool(F.relu(self.conv3(h)))
        return self.proj(h.flatten(1))


class LSTMTextEncoder(nn.Module):
    """tokens [B, L] int64, right-padded with <pad> -> [B, EMBED_DIM]: token embedding, one batch-first LSTM layer,
    its output at the last real token (the <eos>), Linear."""

    def __init__(self, vocab):
        super().__init__()
        self.emb = nn.Embedding(vocab, TEXT_DIM, padding_idx=PAD)
        self.lstm = nn.LSTM(TEXT_DIM, TEXT_DIM, batch_first=True)
        self.proj = nn.Linear(TEXT_DIM, EMBED_DIM)

    def forward(self, tokens):
        out, _ = self.lstm(self.emb(tokens))  # [B, L, TEXT_DIM]
        # The LSTM is causal, so its output at the <eos> has not seen the trailing pads: taking it instead of h_n
        # (which has) keeps a caption's embedding independent of the batch's padding. This is what the C++
        # example gets by passing the lengths to loom::lstm.
        last = tokens.ne(PAD).sum(1) - 1  # [B]
        index = last.view(-1, 1, 1).expand(-1, 1, out.shape[2])
        return self.proj(out.gather(1, index).squeeze(1))


def contrastive_loss(img, txt, logit_scale):
    """Symmetric CLIP / InfoNCE loss of L2-normalised img, txt [N, E]: pair i is the positive of row and column i.
    The fused F.clip_loss computes the same in one autograd node; this is the fallback for builds without it."""
    if hasattr(F, "clip_loss"):
        return F.clip_loss(img, txt, logit_scale)
    logits = logit_scale.exp() * (img @ txt.t())
    targets = loom.arange(img.shape[0])
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets)) / 2


class DualEncoder(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        # The log of the inverse temperature, learned from ln(1 / 0.07) as in CLIP.
        self.logit_scale = nn.Parameter(loom.tensor(math.log(1 / 0.07)))
        self.img = ImageEncoder()
        self.txt = LSTMTextEncoder(vocab)

    def encode_image(self, images):
        return F.normalize(self.img(images))

    def encode_text(self, tokens):
        return F.normalize(self.txt(tokens))

    def forward(self, images, tokens):
        return contrastive_loss(self.encode_image(images), self.encode_text(tokens), self.logit_scale)


def dataset_installed(data_dir):
    # load_fashion_mnist reads the .gz files or, where those are absent, the uncompressed ones; anything else
    # present but unreadable is an error, not a skip.
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        path = os.path.join(data_dir, name)
        if not os.path.isfile(path + ".gz") and not os.path.isfile(path):
            return False
    return True


def load_split(split, data_dir, limit):
    images, labels = load_fashion_mnist(split, data_dir)  # float32 [N, 1, 28, 28] in [0, 1], int64 [N]
    if 0 < limit < labels.shape[0]:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def zero_shot_prompts(captions, labels):
    """The prompt of each class is "a photo of " + the class's noun phrase as the captions spell it ("a pair of
    trousers", "an ankle boot"), taken from a training caption of that template: the class names themselves
    ("Trouser", "T-shirt/top") hold words the tokenizer has never seen. A class without such a caption (tiny
    --train-limit) falls back to its lower-cased name."""
    prefix = "a photo of "
    classes = fashion_mnist_classes()
    prompts = [None] * len(classes)
    for caption, label in zip(captions, labels.tolist()):
        if prompts[label] is None and caption.startswith(prefix):
            prompts[label] = caption
    return [p if p is not None else prefix + "a " + c.lower() for p, c in zip(prompts, classes)]


def embed_all(inputs, encode):
    """Embeddings of a whole split, EVAL_BATCH rows at a time, without a graph."""
    with loom.no_grad():
        return loom.cat([encode(inputs[s:s + EVAL_BATCH]) for s in range(0, inputs.shape[0], EVAL_BATCH)])


def print_scores(direction, s):
    print(f"{direction}  R@1 {100 * s.recall_at(1):.2f}%  R@5 {100 * s.recall_at(5):.2f}%  "
          f"median rank {s.median_rank:.1f}  ({s.queries} queries)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--train-limit", type=int, default=0, help="use the first N training pairs (0: all)")
    ap.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=DATA)
    ap.add_argument("--min-zero-shot", type=float, default=None, help="exit 1 below this zero-shot accuracy")
    args = ap.parse_args()
    if args.epochs < 1 or args.batch_size < 2:
        ap.error("--epochs must be >= 1 and --batch-size >= 2 (the other pairs are the negatives)")

    if not dataset_installed(args.data_dir):
        print(f"Fashion-MNIST not found in {args.data_dir} (apt-get install dataset-fashion-mnist): skipping")
        return 77
    loom.manual_seed(args.seed)

    train_images, train_labels = load_split("train", args.data_dir, args.train_limit)
    test_images, test_labels = load_split("test", args.data_dir, args.test_limit)
    # The test captions are drawn with another seed, so their templates are independent of the training draws.
    train_captions = fashion_mnist_captions(train_labels, args.seed)
    test_captions = fashion_mnist_captions(test_labels, args.seed + 1)
    tokenizer = WordTokenizer()
    tokenizer.build(train_captions)
    # The captions are tokenized once; each batch then indexes images and tokens with the same rows.
    train_tokens = tokenizer.encode_batch(train_captions, MAX_LEN)  # int64 [N, MAX_LEN]

    n = train_labels.shape[0]
    # The short last batch is dropped: it would have fewer negatives than the rest.
    steps_per_epoch = n // args.batch_size
    if steps_per_epoch == 0:
        print(f"error: --train-limit leaves fewer examples than one batch of {args.batch_size}", file=sys.stderr)
        return 2

    model = DualEncoder(tokenizer.vocab_size())
    # No weight decay on biases and logit_scale: decaying the log-temperature towards 0 would blur the softmax
    # over the batch.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = loom.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    sched = loom.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)  # stepped per batch

    n_params = sum(p.numel() for p in model.parameters())
    print(f"Fashion-MNIST: {n} training pairs, {test_labels.shape[0]} test images; vocabulary "
          f"{tokenizer.vocab_size()}; text encoder lstm; {n_params} parameters; {loom.get_num_threads()} threads")

    train_seconds = 0.0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = loom.randperm(n)
        loss_sum = 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch_size:(step + 1) * args.batch_size]
            loss = model(train_images[idx], train_tokens[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()  # free on the CPU: nothing to synchronise
        secs = time.perf_counter() - t0
        train_seconds += secs
        print(f"epoch {epoch + 1}/{args.epochs}  loss {loss_sum / steps_per_epoch:.4f}  "
              f"logit scale {math.exp(model.logit_scale.item()):.1f}  {secs:.1f}s  "
              f"{steps_per_epoch * args.batch_size / secs:.0f} samples/s", flush=True)

    t0 = time.perf_counter()
    model.eval()
    img_emb = embed_all(test_images, model.encode_image)
    txt_emb = embed_all(tokenizer.encode_batch(test_captions, MAX_LEN), model.encode_text)
    metrics = retrieval_metrics(img_emb, txt_emb, test_labels, test_labels, [1, 5])

    prompts = zero_shot_prompts(train_captions, train_labels)
    prompt_emb = embed_all(tokenizer.encode_batch(prompts, MAX_LEN), model.encode_text)
    predicted = (img_emb @ prompt_emb.t()).argmax(1)
    zero_shot = (predicted == test_labels).sum().item() / test_labels.shape[0]
    eval_seconds = time.perf_counter() - t0

    print("zero-shot prompts: " + " ".join(f'"{p}"' for p in prompts))
    print_scores("image->text", metrics.image_to_text)
    print_scores("text->image", metrics.text_to_image)
    print(f"zero-shot accuracy {100 * zero_shot:.2f}%  (training {train_seconds:.1f}s, evaluation "
          f"{eval_seconds:.1f}s)")
    if args.min_zero_shot is not None and zero_shot < args.min_zero_shot:
        print(f"below the required {100 * args.min_zero_shot:.2f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
