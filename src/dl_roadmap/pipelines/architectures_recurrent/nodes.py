"""Nodes of architectures_recurrent: the cell race, MNIST-1D and Fashion-MNIST row by row.
Plain functions of plain values; every training goes through ``core.training.fit``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classification_step
from dl_roadmap.pipelines.architectures_recurrent.data import mnist1d_splits, row_sequences
from dl_roadmap.pipelines.architectures_recurrent.models import mnist1d_model, sequence_model
from dl_roadmap.pipelines.architectures_recurrent.race import race

logger = logging.getLogger(__name__)

# Test accuracy of each model in the MNIST-1D README's table (Greydanus 2020).
MNIST1D_PAPER = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91}


def with_threads(trainer: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The trainer block with the study's ``threads`` (small recurrent models run fastest on
    one thread: their time goes to the sequential steps, not to wide matrix products)."""
    return {**trainer, "num_threads": params.get("threads") or trainer.get("num_threads")}


def race_cells(params: dict[str, Any]) -> pd.DataFrame:
    """Forward + backward time of our cells against torch's fused layers (race.py)."""
    return race(["rnn", "lstm", "gru"], **params)


def mnist1d_benchmark(
    data: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Train each model of ``params["models"]`` with the paper's recipe (``params["fit"]``;
    ``params["epochs"]`` may give a model its own number of epochs) and score it on the 1,000 test sequences.

    Returns:
        One row per model (test accuracy, the paper's figure, parameters, seconds) and the
        training histories.
    """
    splits, trainer = mnist1d_splits(data), with_threads(trainer, params)
    rows, histories = [], {}
    for name in params["models"]:
        model = mnist1d_model(name, params["fit"].get("seed", 0), data["x"].shape[1])
        epochs = (params.get("epochs") or {}).get(name, params["fit"]["max_epochs"])
        result = fit(model, splits["train"], splits["test"], step=classification_step, name=f"mnist1d/{name}",
                     fit_params={**params["fit"], "max_epochs": epochs}, trainer_params=trainer)
        scores = classification_scores(result.model, splits["test"].tensors[0], data["y_test"])
        rows.append({"model": name, "test_acc": scores["acc"], "paper_acc": MNIST1D_PAPER.get(name, np.nan),
                     "parameters": sum(p.numel() for p in model.parameters()),
                     "updates": epochs * -(-len(splits["train"]) // int(params["fit"]["batch_size"])),
                     "seconds": round(result.seconds, 1)})
        histories[name] = result.history
        logger.info("MNIST-1D %s: test accuracy %.3f", name, scores["acc"])
    return pd.DataFrame(rows), histories


def pixel_rows_study(
    splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], nn.Module]:
    """Fashion-MNIST as 28 steps of 28 pixels, one classifier per cell.

    Returns:
        One row per cell (val and test accuracy, seconds), the histories, and the most
        accurate model on the validation split (logged to MLflow).
    """
    data, trainer = row_sequences(splits), with_threads(trainer, params)
    rows, histories, best = [], {}, (-1.0, None)
    for cell in params["cells"]:
        model = sequence_model(params, cell, input_size=28, outputs=10)
        result = fit(model, data["train"], data["val"], step=classification_step, name=f"pixel_rows/{cell}",
                     fit_params=deep_merge(params["fit"], {"monitor": "val_acc", "mode": "max"}),
                     trainer_params=trainer)
        val = classification_scores(result.model, data["val"].tensors[0], splits["val_labels"])["acc"]
        test = classification_scores(result.model, data["test"].tensors[0], splits["test_labels"])["acc"]
        rows.append({"cell": cell, "val_acc": val, "test_acc": test, "seconds": result.seconds})
        histories[cell] = result.history
        if val > best[0]:
            best = (val, result.model)
    return pd.DataFrame(rows), histories, best[1].eval()


def summary_metrics(mnist1d: pd.DataFrame, rows: pd.DataFrame, speed: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    values: dict[str, float] = {}
    for row in mnist1d.itertuples():
        values[f"mnist1d_{row.model}_test_acc"] = row.test_acc
    for row in rows.itertuples():
        values[f"pixel_rows_{row.cell}_test_acc"] = row.test_acc
    for row in speed.itertuples():
        values[f"race_{row.cell}_ratio"] = row.ratio
    return metrics_for_mlflow(values)


def log_model(model: nn.Module) -> nn.Module:
    """The pixel-row classifier handed to MLflow: input float (N, 28, 28) in [0, 1], the
    image's 28 rows as 28 steps of 28 pixels; output class logits (N, 10)."""
    return model.eval()
