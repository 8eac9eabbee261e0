"""Zero-shot classification by a dual encoder of images and class descriptions, and the
generalized zero-shot protocol (Xian et al. 2018).

Each class c has a description a_c in {0, 1}^A (an attribute table). An image encoder f and
an attribute encoder g map both into one d-dimensional space, and a class scores by cosine
similarity (the dual-encoder form of DeViSE, Frome et al. 2013, and CLIP, Radford et al. 2021)::

    s(x, c) = tau cos(f(x), g(a_c)),      p(y = c | x) = softmax_{c in C} s(x, c)

Training sees images of the seen classes S only, and the softmax runs over S::

    L = - 1/n sum_i log [ exp s(x_i, y_i) / sum_{c in S} exp s(x_i, c) ]

so g must learn what each *attribute* looks like: an unseen class u is recognised from g(a_u)
alone. Generalized zero-shot testing searches all classes C = S + U for every test image,
and reports the mean per-class accuracy on the seen classes' test images (acc_S), on the
unseen ones' (acc_U) and their harmonic mean (Xian et al. 2018, eq. 6)::

    acc_C = 1/|C| sum_{c in C} (correct predictions of class c) / (test images of class c)
    H = 2 acc_S acc_U / (acc_S + acc_U)

Scores trained on S favour S. Calibrated stacking (Chao et al. 2016) subtracts gamma from
every seen class's score, s(x, c) - gamma 1[c in S]; sweeping gamma traces the seen-unseen
accuracy curve, whose area (AUSUC) does not depend on one gamma.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.cnn import SmallCNN


class DualEncoder(nn.Module):
    """Images (N, 1, 28, 28) in [0, 1] -> class scores s(x, c) (N, classes) over every class
    whose attribute row is in ``attributes`` (classes, A); ``seen`` marks the training classes."""

    def __init__(self, attributes: np.ndarray, seen: list[int], dim: int = 64, channels: tuple[int, ...] = (32, 64),
                 hidden: int = 128, attribute_hidden: int = 64, temperature: float = 10.0) -> None:
        super().__init__()
        self.image_encoder = SmallCNN(channels=channels, hidden=hidden, classes=dim)
        self.attribute_encoder = nn.Sequential(nn.Linear(attributes.shape[1], attribute_hidden), nn.ReLU(),
                                               nn.Linear(attribute_hidden, dim))
        self.register_buffer("attributes", torch.as_tensor(attributes, dtype=torch.float32))
        mask = torch.zeros(len(attributes), dtype=torch.bool)
        mask[list(seen)] = True
        self.register_buffer("seen", mask)
        self.temperature = temperature

    def class_embeddings(self) -> torch.Tensor:
        """g(a_c) / ||g(a_c)|| for every class, (classes, dim)."""
        return F.normalize(self.attribute_encoder(self.attributes), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temperature * F.normalize(self.image_encoder(x), dim=-1) @ self.class_embeddings().T


def seen_only_step(model: DualEncoder, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The training loss L: cross-entropy with the softmax over the seen classes only (unseen
    scores masked to -inf), and the accuracy among seen classes."""
    images, labels = batch
    logits = model(images).masked_fill(~model.seen, float("-inf"))
    return {"loss": F.cross_entropy(logits, labels), "acc": (logits.argmax(1) == labels).float().mean()}


def per_class_accuracy(predicted: np.ndarray, labels: np.ndarray, classes: list[int]) -> float:
    """acc_C: the mean over ``classes`` of each class's share of correct predictions."""
    return float(np.mean([(predicted[labels == c] == c).mean() for c in classes]))


def harmonic_mean(seen: float, unseen: float) -> float:
    return 0.0 if seen + unseen == 0 else 2 * seen * unseen / (seen + unseen)


def gzsl_scores(scores: np.ndarray, labels: np.ndarray, seen: list[int], unseen: list[int],
                gamma: float = 0.0) -> dict[str, float]:
    """acc_S, acc_U and H over all classes, seen scores lowered by ``gamma`` (calibrated stacking);
    and the conventional zero-shot accuracy (unseen images among unseen classes only)."""
    calibrated = scores.copy()
    calibrated[:, seen] -= gamma
    predicted = calibrated.argmax(1)
    acc_s = per_class_accuracy(predicted[np.isin(labels, seen)], labels[np.isin(labels, seen)], seen)
    acc_u = per_class_accuracy(predicted[np.isin(labels, unseen)], labels[np.isin(labels, unseen)], unseen)
    among_unseen = np.array(unseen)[scores[np.isin(labels, unseen)][:, unseen].argmax(1)]
    zsl = per_class_accuracy(among_unseen, labels[np.isin(labels, unseen)], unseen)
    return {"acc_seen": acc_s, "acc_unseen": acc_u, "harmonic_mean": harmonic_mean(acc_s, acc_u), "zsl_unseen": zsl}


def seen_unseen_curve(scores: np.ndarray, labels: np.ndarray, seen: list[int], unseen: list[int],
                      points: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gamma, acc_S, acc_U) as gamma sweeps from "never unseen" to "always unseen" (Chao et al. 2016)."""
    gap = scores[:, seen].max(1) - scores[:, unseen].max(1)
    gammas = np.linspace(gap.min() - 1e-6, gap.max() + 1e-6, points)
    pairs = [gzsl_scores(scores, labels, seen, unseen, g) for g in gammas]
    return gammas, np.array([p["acc_seen"] for p in pairs]), np.array([p["acc_unseen"] for p in pairs])


def ausuc(acc_seen: np.ndarray, acc_unseen: np.ndarray) -> float:
    """Area under the seen-unseen accuracy curve (acc_S against acc_U, trapezoids)."""
    order = np.argsort(acc_unseen)
    return float(np.trapezoid(acc_seen[order], acc_unseen[order]))
