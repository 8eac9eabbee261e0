"""Image data in the MNIST format: seeded splits of the raw dict, tensors, labelled datasets.

The raw dict is what ``datasets.mnist`` reads (MNIST, Fashion-MNIST: same IDX layout)::

    {"train_images": (60000, 28, 28) uint8, "train_labels": (60000,) int,
     "test_images": (10000, 28, 28) uint8, "test_labels": (10000,) int, "source": str}

The splits add a validation set held out from the training images; images stay uint8 on
disk and become float tensors in [0, 1] only when a model needs them.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
# Pixel mean and standard deviation of the 60,000 MNIST training images (pixels in [0, 1]);
# tests/image checks them against the data. Standardised inputs (mean 0, std 1) are where
# SELU's fixed point starts, and they help every other activation too.
MNIST_PIXEL_MEAN = 0.1307
MNIST_PIXEL_STD = 0.3081


def split_mnist(mnist_raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Hold out a seeded validation set from the training images and optionally shrink.

    Args:
        mnist_raw: train/test images (N, 28, 28) uint8 and labels, plus ``source``.
        params: ``val_size``, ``seed``, ``train_limit`` and ``test_limit`` (null = all).
    Returns:
        The splits (train/val/test images and labels) and a summary of what was read.
    """
    n_train = len(mnist_raw["train_labels"])
    val_size = int(params["val_size"])
    if not 0 < val_size < n_train:
        raise ValueError(f"data.val_size: must be between 1 and {n_train - 1}, got {val_size}")
    order = np.random.default_rng(params["seed"]).permutation(n_train)
    val_idx, train_idx = order[:val_size], order[val_size:]
    if params.get("train_limit"):
        train_idx = train_idx[: int(params["train_limit"])]
        val_idx = val_idx[: max(int(params["train_limit"]) // 5, 1)]
    test_end = int(params["test_limit"]) if params.get("test_limit") else None
    splits = {
        "train_images": mnist_raw["train_images"][train_idx],
        "train_labels": mnist_raw["train_labels"][train_idx],
        "val_images": mnist_raw["train_images"][val_idx],
        "val_labels": mnist_raw["train_labels"][val_idx],
        "test_images": mnist_raw["test_images"][:test_end],
        "test_labels": mnist_raw["test_labels"][:test_end],
    }
    summary = {
        "source": mnist_raw.get("source", "unknown"),
        **{f"{split}_size": int(len(splits[f"{split}_labels"])) for split in SPLITS},
        "train_label_counts": np.bincount(splits["train_labels"], minlength=10).tolist(),
    }
    logger.info("images from %s: %s", summary["source"], {k: v for k, v in summary.items() if k.endswith("size")})
    return splits, summary


def image_tensor(splits: dict[str, np.ndarray], split: str) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1]."""
    return torch.from_numpy(splits[f"{split}_images"]).float().div_(255).unsqueeze(1)


def labelled_split(splits: dict[str, np.ndarray], split: str) -> TensorDataset:
    """(image, label) pairs of one split: images as ``image_tensor``, labels as int64."""
    return TensorDataset(image_tensor(splits, split), torch.from_numpy(splits[f"{split}_labels"]).long())


def labelled_splits(splits: dict[str, np.ndarray]) -> dict[str, TensorDataset]:
    """(image, label) datasets of train, val and test: what a ``StageTask`` needs."""
    return {split: labelled_split(splits, split) for split in SPLITS}


def balanced_indices(labels: np.ndarray, per_class: int | str, seed: int,
                     key: str = "labels_per_class", unit: str = "class") -> np.ndarray:
    """``per_class`` seeded random indices of every label value, sorted (``"all"``: every
    index). Too few examples of a class fails naming ``key`` (the parameter) and the class."""
    if per_class == "all":
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        pool = np.flatnonzero(labels == label)
        if len(pool) < int(per_class):
            raise ValueError(f"{key}: {per_class} asked, {unit} {label} has only {len(pool)} images")
        chosen.append(rng.choice(pool, int(per_class), replace=False))
    return np.sort(np.concatenate(chosen))
