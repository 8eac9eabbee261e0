"""Nodes of spiking: our LIF neuron against snntorch's, then a convolutional SNN trained
through time on MNIST, its spike rates and an energy estimate. Plain functions of plain
values; the training goes through ``core.training.fit``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.image.snn import SpikingNet, energy_table, model_from_config, operation_counts, snn_step
from dl_roadmap.pipelines.spiking import lif_check

logger = logging.getLogger(__name__)


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of MNIST (the image library's split_mnist) and a summary."""
    return split_mnist(raw, params)


def check_lif(params: dict[str, Any]) -> pd.DataFrame:
    """Our LIF layer against snntorch's Leaky: trace differences and speed (lif_check.py)."""
    table = lif_check.compare(params)
    logger.info("LIF vs snntorch: %s", table.iloc[0].to_dict())
    return table


def train_snn(splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any]
              ) -> tuple[SpikingNet, pd.DataFrame]:
    """Train the SNN of ``config`` (``model``, ``fit``, ``threads``) with backpropagation
    through time, keeping the epoch with the best validation accuracy."""
    data = labelled_splits(splits)
    trainer = {**trainer, "num_threads": config.get("threads") or trainer.get("num_threads")}
    result = fit(model_from_config(config), data["train"], data["val"], step=snn_step, name="conv_snn",
                 fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"}, trainer_params=trainer)
    return result.model.eval(), result.history


def evaluate_snn(model: SpikingNet, splits: dict[str, np.ndarray], params: dict[str, Any]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validation and test accuracy; spike rates and operations per layer on ``ops_samples``
    test images, with the energy estimate.

    Returns:
        The results table (split, acc, loss) and the per-layer energy table.
    """
    rows = []
    for split in ("val", "test"):
        scores = classification_scores(model, image_tensor(splits, split), splits[f"{split}_labels"])
        rows.append({"split": split, "acc": scores["acc"], "loss": scores["loss"]})
    images = image_tensor(splits, "test")[: int(params["ops_samples"])]
    energy = energy_table(operation_counts(model, images), **params["energy"])
    logger.info("conv SNN test accuracy %.4f; energy ANN/SNN %.2f", rows[1]["acc"], energy["ann_over_snn"].iloc[-1])
    return pd.DataFrame(rows), energy


def summary_metrics(results: pd.DataFrame, energy: pd.DataFrame, check: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics."""
    values = {f"{row.split}_acc": row.acc for row in results.itertuples()}
    total = energy.iloc[-1]
    values.update(snn_energy_pj=total.snn_pj, ann_energy_pj=total.ann_pj, energy_ratio=total.ann_over_snn)
    for key in ("max_membrane_diff", "max_spike_diff", "max_grad_diff", "ours_ms", "snntorch_ms"):
        values[f"lif_{key}"] = check[key].iloc[0]
    return metrics_for_mlflow(values)


def log_model(model: SpikingNet) -> SpikingNet:
    """The conv SNN handed to MLflow: input float images (N, 1, 28, 28) in [0, 1]; output
    class logits (N, 10), the readout membrane averaged over the T steps. Direct coding
    has no randomness, so predict is deterministic."""
    return model.eval()
