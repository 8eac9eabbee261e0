"""A tiny real task for stage tests: scikit-learn's 8x8 digits and a two-block CNN.

It trains to ~90% in a few seconds on CPU, so tune/compress/explain can be exercised on a
real model without MNIST-sized costs.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from dl_roadmap.core.stages.task import StageTask


class TinyCNN(nn.Module):
    def __init__(self, channels: int = 8, hidden: int = 32, dropout: float = 0.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * channels), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * channels * 16, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 10))

    def forward(self, x):
        return self.head(self.features(x))


def build_tiny(config: dict[str, Any], base: Any) -> TinyCNN:
    return TinyCNN(**config.get("model", {}))


def tiny_step(model: nn.Module, batch: Any, label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
    images, labels = batch
    logits = model(images)
    return {
        "loss": F.cross_entropy(logits, labels, label_smoothing=label_smoothing),
        "acc": (logits.argmax(1) == labels).float().mean(),
    }


def make_tiny_step(config: dict[str, Any]):
    return partial(tiny_step, label_smoothing=float(config.get("label_smoothing", 0.0)))


def digits_splits(data: dict[str, np.ndarray]) -> dict[str, TensorDataset]:
    return {
        split: TensorDataset(torch.from_numpy(data[f"{split}_x"]), torch.from_numpy(data[f"{split}_y"]))
        for split in ("train", "val", "test")
    }


def digits_data() -> dict[str, np.ndarray]:
    """scikit-learn digits as (N, 1, 8, 8) float32 in [0, 1]: 1200 train, 300 val, 297 test."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    cuts = {"train": slice(0, 1200), "val": slice(1200, 1500), "test": slice(1500, None)}
    return {f"{split}_{kind}": arr[cut] for split, cut in cuts.items() for kind, arr in (("x", x), ("y", y))}


TINY_TASK = StageTask(build_model=build_tiny, make_step=make_tiny_step, datasets=digits_splits, metric="acc",
                      direction="maximize")

TINY_CONFIG: dict[str, Any] = {
    "model": {"channels": 8, "hidden": 32, "dropout": 0.0},
    "label_smoothing": 0.0,
    "fit": {"max_epochs": 6, "batch_size": 64, "seed": 0, "optimizer": {"name": "AdamW", "lr": 0.01}},
}

CPU_TRAINER: dict[str, Any] = {"accelerator": "cpu", "devices": 1, "progress_bar": False}
