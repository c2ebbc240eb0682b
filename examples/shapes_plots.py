"""The pictures of the Shapes demo (examples/shapes_demo.py), drawn with matplotlib: training curves, a retrieval
sheet, cross-attention and Grad-CAM maps over the image for a question, and the VQA confusion matrix."""
import math
import textwrap

import numpy as np

import loom
import loom.nn.functional as F
from loom import multimodal as mm

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
    every caption), then images with their top-5 captions (ticked: true of the image; bold: the image's own).
    ret: a loom.multimodal.ShapesRetrieval; scene [N, N] and caption_logits [T, N]: numpy, from ret.score."""
    captions = [[] for _ in range(ret.n)]
    for text, owner in zip(ret.texts, ret.owner):
        captions[owner].append(text)
    truth, scene_truth = ret.truth.numpy(), ret.scene_truth.numpy()
    rows = len(queries) + len(image_queries)
    fig = plt.figure(figsize=(12, 2.1 * rows))
    grid = fig.add_gridspec(rows, 6, width_ratios=[2.3, 1, 1, 1, 1, 1])
    for r, q in enumerate(queries):
        text = fig.add_subplot(grid[r, 0])
        text.axis("off")
        text.text(0, 0.5, "query:\n" + "\n".join("· " + c for c in captions[q]), va="center", fontsize=8)
        top = np.argsort(-scene[q])[:5]
        for j, n in enumerate(top):
            ax = fig.add_subplot(grid[r, 1 + j])
            ax.imshow(to_rgb(images[n]), interpolation="nearest")
            color = "limegreen" if n == q else ("orange" if scene_truth[q, n] else "none")
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
            lines.append((ret.texts[t], bool(truth[t, n]), ret.texts[t] in captions[n]))
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


def plot_attention(plt, path, vqa, img, encode, shapes, examples, answers, device):
    """For each (image index, question, answer id): the image, the cross-attention weights of the question's
    tokens over the 6x6 cells (mean over heads and tokens) and the Grad-CAM of the predicted answer. encode:
    list of texts -> tokens on the device; answers: the answer vocabulary."""
    fig, axes = plt.subplots(len(examples), 3, figsize=(7.2, 2.45 * len(examples)))
    vqa.eval()
    for r, (index, question, answer) in enumerate(examples):
        image = shapes.images([index]).to(device)
        with loom.no_grad():
            maps = img.forward_features(image)
        tokens = encode([question])
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
        axes[r, 0].set_ylabel(textwrap.fill(question, 30) + f"\n-> {answers[pred]} (truth: {answers[answer]})",
                              fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def plot_confusion(plt, path, pred, answers, names):
    """Row-normalised confusion of answer ids (pred, answers: numpy) over the answers that occur."""
    m = mm.confusion_matrix(loom.tensor(pred, dtype=loom.int64), loom.tensor(answers, dtype=loom.int64),
                            len(names)).numpy().astype(float)  # [true, predicted]
    shown = np.nonzero(m.sum(1) + m.sum(0))[0]  # answers that occur
    m = m[np.ix_(shown, shown)]
    rows = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    labels = [names[i] for i in shown]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true answer")
    ax.set_title("VQA confusion on the test questions (rows sum to 1)")
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
