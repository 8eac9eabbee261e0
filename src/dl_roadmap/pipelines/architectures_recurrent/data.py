"""The sequence tasks: MNIST-1D and Fashion-MNIST read row by row.

- **MNIST-1D** (Greydanus 2020): ten 1-D digit templates of 12 points, padded, scaled,
  sheared, shifted and noised into sequences of 40 values; 4,000 train / 1,000 test. The
  ``mnist1d`` package generates it offline (``make_dataset`` with its default arguments;
  its ``get_dataset`` would download a pickle instead, so it is not used).
- **Pixel rows**: a 28x28 image as 28 steps of 28 pixels (row t is x_t), so a recurrent
  classifier sees the image top to bottom and must remember what it has seen.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

from dl_roadmap.image.data import split_mnist

logger = logging.getLogger(__name__)

def mnist1d(params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Generate MNIST-1D with the package's default arguments (seed included), overriding
    only what ``params["overrides"]`` names (an unknown name fails, naming it).

    Returns:
        x (4000, 40) float32, y (4000,) int64, x_test (1000, 40), y_test (1000,).
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args(as_dict=True)
    for key, value in (params.get("overrides") or {}).items():
        if key not in args or key == "url":
            raise ValueError(f"mnist1d.overrides.{key}: not an argument of mnist1d's make_dataset; "
                             f"choose from {sorted(k for k in args if k != 'url')}")
        args[key] = value
    from mnist1d.utils import ObjectView

    data = make_dataset(ObjectView(args))
    out = {"x": np.asarray(data["x"], np.float32), "y": np.asarray(data["y"], np.int64),
           "x_test": np.asarray(data["x_test"], np.float32), "y_test": np.asarray(data["y_test"], np.int64)}
    for split in ("x", "x_test"):
        if out[split].ndim != 2 or not np.isfinite(out[split]).all():
            raise ValueError(f"mnist1d: {split} should be a finite (N, length) array, got shape {out[split].shape}")
    logger.info("MNIST-1D: %d train, %d test sequences of %d steps", len(out["y"]), len(out["y_test"]), out["x"].shape[1])
    return out


def mnist1d_splits(data: dict[str, np.ndarray]) -> dict[str, TensorDataset]:
    """(sequence, label) datasets: ``train`` and ``test`` (the benchmark has no validation
    split; fit's validation curve reads the test set and nothing is selected on it)."""
    def pair(x: np.ndarray, y: np.ndarray) -> TensorDataset:
        return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    return {"train": pair(data["x"], data["y"]), "test": pair(data["x_test"], data["y_test"])}


def pixel_row_splits(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Seeded Fashion-MNIST splits (the image library's ``split_mnist``); each image is then
    read as 28 steps of 28 pixels by ``row_sequences``."""
    splits, _ = split_mnist(raw, params)
    return splits


def row_sequences(splits: dict[str, np.ndarray]) -> dict[str, TensorDataset]:
    """uint8 images (N, 28, 28) -> (rows as steps (N, 28, 28) float in [0, 1], label)."""
    return {split: TensorDataset(torch.from_numpy(splits[f"{split}_images"]).float().div_(255),
                                 torch.from_numpy(splits[f"{split}_labels"]).long())
            for split in ("train", "val", "test")}
