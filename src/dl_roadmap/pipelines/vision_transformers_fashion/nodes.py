"""Nodes of vision_transformers_fashion: split Fashion-MNIST, run the data-hunger sweep (image/vit_study.py),
draw it, draw the attention of the ViT trained on all images, log that ViT. Plain functions
of plain values: call them from a notebook as the pipeline does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image import vit_study
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.vit import VisionTransformer

DATASET = "fashion_mnist"


def ingest(raw: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of Fashion-MNIST (the image library's split_mnist) and a
    summary of what was read, with the class names."""
    splits, summary = split_mnist(raw, data)
    return splits, {**summary, "class_names": list(raw.get("class_names") or [])}


def data_hunger(splits: dict[str, np.ndarray], vit: dict[str, Any], cnn: dict[str, Any], hunger: dict[str, Any],
                trainer: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, torch.nn.Module, dict[str, Any]]:
    """ViT against a CNN of the same size at each training-set size (vit_study.train_on_subsets).

    Returns:
        The results table (one row per model and size), every epoch of every fit, the ViT
        trained on all images, and the test accuracies as MLflow metrics.
    """
    results, histories, model = vit_study.train_on_subsets(splits, DATASET, vit, cnn, hunger, trainer)
    return results, histories, model, metrics_for_mlflow(vit_study.hunger_metrics(results))


def hunger_figure(results: pd.DataFrame) -> Figure:
    """Test accuracy against training images, ViT against CNN."""
    return vit_study.hunger_figure(results)


def attention_figures(model: VisionTransformer, splits: dict[str, np.ndarray], params: dict[str, Any]
                      ) -> tuple[Figure, Figure]:
    """Per-layer class-token attention, and attention rollout, on one test image per class."""
    return (vit_study.attention_figure(model, splits, params, "Fashion-MNIST"),
            vit_study.rollout_figure(model, splits, params, "Fashion-MNIST"))


def log_model(model: torch.nn.Module) -> torch.nn.Module:
    """The ViT trained on all Fashion-MNIST training images, handed to MLflow as a PyTorch model:
    input float images (N, 1, 28, 28) in [0, 1], output class logits (N, 10)."""
    return model.eval()
