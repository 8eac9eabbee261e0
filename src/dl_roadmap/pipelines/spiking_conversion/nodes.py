"""Nodes of spiking_conversion: a bias-free ReLU network trained on MNIST, converted to an
integrate-and-fire SNN with and without data-based weight normalisation, and its accuracy
against the number of time steps. Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.pipelines.spiking_conversion.conversion import (
    BiasFreeMLP,
    layer_scales,
    normalised_weights,
    simulate,
)

logger = logging.getLogger(__name__)


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Seeded MNIST splits (the image library's split_mnist)."""
    return split_mnist(raw, params)[0]


def train_ann(splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any]
              ) -> tuple[BiasFreeMLP, pd.DataFrame]:
    """The bias-free ReLU MLP of ``config`` trained by ``core.training.fit``."""
    torch.manual_seed(int(config["fit"]["seed"]))
    data = labelled_splits(splits)
    trainer = {**trainer, "num_threads": config.get("threads") or trainer.get("num_threads")}
    result = fit(BiasFreeMLP(**config["model"]), data["train"], data["val"], step=classification_step, name="ann",
                 fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"}, trainer_params=trainer)
    return result.model.eval(), result.history


def convert(model: BiasFreeMLP, splits: dict[str, np.ndarray], params: dict[str, Any]
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate every variant of ``params["variants"]`` (normalisation none / max /
    a percentile, reset zero / subtract) on the test images for ``steps`` steps.

    Returns:
        Accuracy at every T per variant (long table) and one row per variant with the layer
        scales and the accuracy at the ``report_steps``.
    """
    test = image_tensor(splits, "test")
    labels = splits["test_labels"]
    ann_acc = classification_scores(model, test, labels)["acc"]
    norm_images = image_tensor(splits, "train")[: int(params["norm_images"])]
    curves, rows = [], []
    for name, variant in params["variants"].items():
        norm = variant["normalisation"]
        scales = None if norm == "none" else layer_scales(model, norm_images, 100.0 if norm == "max" else float(norm))
        predictions = simulate(normalised_weights(model, scales), test, int(params["steps"]), variant["reset"],
                               seed=int(params["seed"]))
        accuracy = (predictions == labels[None]).mean(1)
        curves += [{"variant": name, "steps": t + 1, "acc": float(a)} for t, a in enumerate(accuracy)]
        row = {"variant": name, "normalisation": str(norm), "reset": variant["reset"], "ann_acc": ann_acc,
               "layer_scales": "" if scales is None else " ".join(f"{s:.3g}" for s in scales)}
        row.update({f"acc_T{t}": float(accuracy[t - 1]) for t in params["report_steps"] if t <= len(accuracy)})
        rows.append(row)
        logger.info("conversion %s: %s", name, {k: v for k, v in row.items() if k.startswith("acc_")})
    return pd.DataFrame(curves), pd.DataFrame(rows)


def accuracy_figure(curves: pd.DataFrame, summary: pd.DataFrame) -> Figure:
    """Test accuracy of the converted SNN against T, per variant, with the ANN's."""
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    ax = figure.subplots()
    for name, curve in curves.groupby("variant", sort=False):
        ax.plot(curve["steps"], curve["acc"], label=name)
    ax.axhline(summary["ann_acc"].iloc[0], color="k", ls="--", lw=1, label=f"ANN {summary['ann_acc'].iloc[0]:.2%}")
    ax.set(xscale="log", xlabel="time steps T", ylabel="test accuracy", ylim=(0, 1),
           title="ANN-to-SNN conversion (rate coding): accuracy against simulation length")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def summary_metrics(summary: pd.DataFrame) -> dict[str, dict[str, float]]:
    """ANN accuracy and each variant's accuracy at the report steps, for MLflow."""
    values = {"ann_test_acc": summary["ann_acc"].iloc[0]}
    for row in summary.to_dict("records"):
        values.update({f"{row['variant']}_{k}": v for k, v in row.items() if k.startswith("acc_T")})
    return metrics_for_mlflow(values)
