"""Small CNN building blocks for small images (28x28 and the like), and a configurable
CNN classifier.

Every stage is a 3x3 convolution at the stage's resolution, then a strided 3x3 convolution
that halves it (28 -> 14 -> 7 -> 4 for three stages): a strided convolution learns its own
downsampling where max pooling fixes it. The autoencoder's encoder is built from the same
stages (autoencoder.py).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution -> BatchNorm -> ReLU; ``stride=2`` halves the resolution (rounding up).
    The convolution has no bias: the BatchNorm shift that follows would cancel it."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def downsampling_blocks(c_in: int, c_out: int) -> list[nn.Sequential]:
    """One stage: a conv block at the input resolution, then a strided one that halves it."""
    return [conv_block(c_in, c_out), conv_block(c_out, c_out, stride=2)]


def downsampled_size(size: int, stages: int) -> int:
    """Spatial size after ``stages`` halvings of a ``size`` x ``size`` image (28, 2 -> 7)."""
    for _ in range(stages):
        size = (size + 1) // 2
    return size


class SmallCNN(nn.Module):
    """Images (N, in_channels, image_size, image_size) -> class logits (N, classes).

    One downsampling stage per entry of ``channels``, then a head
    ``flatten -> Linear(hidden) -> ReLU -> Dropout -> Linear(classes)`` (``hidden=0``: a single
    linear layer). With ``seed`` the weights come from that seed whatever the global random
    state, so two models with the same arguments start identical.
    """

    def __init__(
        self,
        channels: tuple[int, ...] | list[int] = (32, 64),
        hidden: int = 128,
        dropout: float = 0.0,
        in_channels: int = 1,
        image_size: int = 28,
        classes: int = 10,
        seed: int | None = None,
    ):
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if not channels or min(channels) < 1:
            raise ValueError(f"model.channels: one positive channel count per stage, got {list(channels)!r}")
        if int(hidden) < 0 or int(classes) < 1:
            raise ValueError(f"model: hidden >= 0 and classes >= 1, got hidden={hidden!r}, classes={classes!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"model.dropout: a rate in [0, 1), got {dropout!r}")
        self.channels, self.image_size = channels, int(image_size)
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(int(seed))
            blocks, c_in = [], int(in_channels)
            for c_out in channels:
                blocks += downsampling_blocks(c_in, c_out)
                c_in = c_out
            self.features = nn.Sequential(*blocks)
            flat = c_in * downsampled_size(self.image_size, len(channels)) ** 2
            if int(hidden):
                self.head = nn.Sequential(nn.Flatten(), nn.Linear(flat, int(hidden)), nn.ReLU(),
                                          nn.Dropout(float(dropout)), nn.Linear(int(hidden), int(classes)))
            else:
                self.head = nn.Sequential(nn.Flatten(), nn.Dropout(float(dropout)), nn.Linear(flat, int(classes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def cnn_from_config(config: dict[str, Any], base: Any = None) -> SmallCNN:
    """StageTask builder: a SmallCNN from the config's ``model`` block, seeded with its fit seed."""
    del base  # nothing pretrained: every model starts from its seed
    return SmallCNN(**config.get("model", {}), seed=int(config.get("fit", {}).get("seed", 0)))
