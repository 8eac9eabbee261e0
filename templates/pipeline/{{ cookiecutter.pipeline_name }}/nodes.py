"""Nodes of {{ cookiecutter.pipeline_name }}: train the model, score it, draw it. Plain functions
of plain values: call them from a notebook as the pipeline does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from dl_roadmap.core.inference import classification_scores, predict
from dl_roadmap.core.plotting import confusion_matrix_figure, training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }}.models import model_from_config


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of the raw images (the image library's split_mnist), and a
    summary of what was read, with the class names the plots use."""
    splits, summary = split_mnist(raw, params)
    summary["class_names"] = list(raw.get("class_names") or [str(label) for label in range(10)])
    return splits, summary


def train_model(
    splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any]
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train the model of ``config`` (``model`` and ``fit`` blocks) on the train split,
    keeping the epoch with the best validation accuracy.

    Returns:
        The trained model and its history (one row per epoch).
    """
    data = labelled_splits(splits)
    result = fit(
        model_from_config(config), data["train"], data["val"],
        step=classifier_step_for(config), name="{{ cookiecutter.pipeline_name }}",
        fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"}, trainer_params=trainer,
    )
    return result.model, result.history


def evaluate_model(
    model: torch.nn.Module, splits: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]], np.ndarray]:
    """Accuracy and cross-entropy on the validation and test splits.

    Returns:
        The results table (split, metric, value), the same figures for MLflow, and the
        test predictions (for the confusion matrix).
    """
    rows, metrics = [], {}
    for split in ("val", "test"):
        scores = classification_scores(model, image_tensor(splits, split), splits[f"{split}_labels"])
        for metric, value in scores.items():
            rows.append({"split": split, "metric": metric, "value": value})
            metrics[f"{split}_{metric}"] = value
    predicted = predict(model, image_tensor(splits, "test")).argmax(1)
    return pd.DataFrame(rows), metrics_for_mlflow(metrics), predicted


def curves_figure(history: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch, train against validation."""
    return training_curves({"{{ cookiecutter.pipeline_name }}": history})


def confusion_figure(predicted: np.ndarray, splits: dict[str, np.ndarray], summary: dict[str, Any]) -> Figure:
    """Test-set confusion matrix: which classes the model mistakes for which."""
    class_names = summary["class_names"]
    matrix = confusion_matrix(splits["test_labels"], predicted, labels=range(len(class_names)))
    return confusion_matrix_figure(matrix, class_names, title="{{ cookiecutter.pipeline_name }}: test set")


def log_model(model: torch.nn.Module) -> torch.nn.Module:
    """The trained model, handed to MLflow as a PyTorch model: input float images
    (N, 1, 28, 28) in [0, 1], output class logits (N, 10)."""
    return model.eval()
