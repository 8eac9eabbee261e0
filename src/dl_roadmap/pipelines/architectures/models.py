"""The CNN family: LeNet-5 as LeCun et al. (1998) published it, and a small modern CNN.

A convolution layer computes, for output channel k at position (i, j),

    y[k, i, j] = b_k + sum_c sum_{u, v} w[k, c, u, v] * x[c, i*s + u, j*s + v]

the same small filter w[k] slid over the whole image (weight sharing: a feature detector
that works anywhere), each output seeing only a window of the input (its receptive field,
which grows with depth: receptive.py).

**LeNet-5** ("Gradient-based learning applied to document recognition", Section II.B), on a
32x32 input (the 28x28 image padded by 2, as the paper centres its 28x28 digits in 32x32):

    C1  6 maps 28x28     5x5 convolution
    S2  6 maps 14x14     2x2 subsampling: sum of the 4 inputs * a trainable coefficient
                         + a trainable bias, per map, then the squashing function
    C3  16 maps 10x10    5x5 convolution; each C3 map reads only the S2 maps of Table I
                         (60 of the 96 pairs: breaks symmetry, fewer connections)
    S4  16 maps 5x5      subsampling as S2
    C5  120 maps 1x1     5x5 convolution over all 16 maps
    F6  84 units         full connection
    output 10            the paper's Euclidean RBF units against fixed 7x12 bitmaps

with the squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (Appendix A), which
follows C1, S2, C3, S4, C5 and F6. Two departures, said here and in the README: the output is
a linear layer trained with cross-entropy (the RBF bitmaps encode ASCII digit shapes, which
mean nothing for clothes), and training uses AdamW instead of the paper's stochastic
diagonal Levenberg-Marquardt.

**Modern CNN**: the image library's ``SmallCNN`` (3x3 conv -> BatchNorm -> ReLU, a strided
conv halving the resolution per stage, dropout head), trained with augmentation: a random
horizontal flip (clothes are left-right symmetric, digits are not) and small random affine
moves (``fashion_step``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.cnn import cnn_from_config

# Table I of the paper: column j lists the S2 maps that C3 map j reads.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class Squash(nn.Module):
    """f(a) = 1.7159 tanh(2a/3): f(1) = 1, f(-1) = -1, maximal gain around the targets."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(a * (2.0 / 3.0))


class Subsample(nn.Module):
    """S2/S4: per map, (sum of a 2x2 block) * coefficient + bias (then squashed by the caller)."""

    def __init__(self, maps: int):
        super().__init__()
        self.coefficient = nn.Parameter(torch.ones(maps))
        self.bias = nn.Parameter(torch.zeros(maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sum = 4.0 * F.avg_pool2d(x, 2)
        return block_sum * self.coefficient.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv(nn.Conv2d):
    """C3: a 5x5 convolution whose output map j reads only the input maps of C3_TABLE[j]
    (the other weights are held at zero by a fixed mask)."""

    def __init__(self, table: tuple[tuple[int, ...], ...] = C3_TABLE, in_maps: int = 6):
        super().__init__(in_maps, len(table), 5)
        mask = torch.zeros(len(table), in_maps, 1, 1)
        for j, inputs in enumerate(table):
            mask[j, list(inputs)] = 1.0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias)


class LeNet5(nn.Module):
    """Images (N, 1, 28, 28) in [0, 1] -> logits (N, classes). Inputs are scaled as in the
    paper: background -0.1, foreground 1.175 (mean about 0, variance about 1)."""

    def __init__(self, classes: int = 10, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.c1, self.s2 = nn.Conv2d(1, 6, 5), Subsample(6)
            self.c3, self.s4 = PartialConv(), Subsample(16)
            self.c5, self.f6 = nn.Conv2d(16, 120, 5), nn.Linear(120, 84)
            self.out = nn.Linear(84, classes)
        self.squash = Squash()

    def layers(self) -> list[tuple[str, nn.Module]]:
        """The feature layers in order, each followed by the squashing function."""
        return [("C1", self.c1), ("S2", self.s2), ("C3", self.c3), ("S4", self.s4), ("C5", self.c5)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.pad(x * 1.275 - 0.1, (2, 2, 2, 2), value=-0.1)  # 28x28 in [0, 1] -> 32x32 in [-0.1, 1.175]
        for _, layer in self.layers():
            h = self.squash(layer(h))
        return self.out(self.squash(self.f6(h.flatten(1))))


def lenet_from_config(config: dict[str, Any], base: Any = None) -> LeNet5:
    """LeNet-5 seeded by the config's fit seed."""
    del base
    return LeNet5(seed=int(config.get("fit", {}).get("seed", 0)), **config.get("model", {}))


def fashion_step(model: nn.Module, batch: Any, augment: dict | None = None, flip: float = 0.0,
                 label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
    """The image library's classification step, after a random horizontal flip of a share
    ``flip`` of the training images (the library's ``augment`` then moves them)."""
    images, labels = batch
    if model.training and flip > 0:
        flipped = torch.rand(images.shape[0], device=images.device) < flip
        images = torch.where(flipped.view(-1, 1, 1, 1), images.flip(3), images)
    return classification_step(model, (images, labels), augment=augment, label_smoothing=label_smoothing)


def fashion_step_for(config: dict[str, Any]) -> Any:
    """StageTask step factory: ``fashion_step`` with the config's augment, flip and smoothing."""
    return partial(fashion_step, augment=config.get("augment"), flip=float(config.get("flip", 0.0)),
                   label_smoothing=float(config.get("label_smoothing", 0.0)))


def model_from_config(config: dict[str, Any], base: Any = None) -> nn.Module:
    """The StageTask builder: the modern CNN (the library's SmallCNN from ``model``)."""
    return cnn_from_config(config, base)
