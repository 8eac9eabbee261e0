"""Nodes of spiking_coding: the same fully connected SNN fed MNIST and Fashion-MNIST under
rate and latency coding. Plain functions of plain values; training goes through
``core.training.fit``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.plotting import training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.image.snn import encode, model_from_config, snn_step

logger = logging.getLogger(__name__)


def ingest(mnist: dict[str, Any], fashion: dict[str, Any], params: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """Seeded splits of both sets (the image library's split_mnist, same parameters)."""
    return {"mnist": split_mnist(mnist, params)[0], "fashion_mnist": split_mnist(fashion, params)[0]}


def coding_study(data: dict[str, dict[str, np.ndarray]], params: dict[str, Any], trainer: dict[str, Any]
                 ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Train the SNN of ``params["train"]`` once per data set and coding.

    Returns:
        One row per (data set, coding): validation and test accuracy, input spikes per
        image, seconds; and the training histories.
    """
    trainer = {**trainer, "num_threads": params.get("threads") or trainer.get("num_threads")}
    rows, histories = [], {}
    for name in params["datasets"]:
        splits = data[name]
        sets = labelled_splits(splits)
        for coding in params["codings"]:
            config = deep_merge(params["train"], {"model": {"coding": coding}})
            result = fit(model_from_config(config), sets["train"], sets["val"], step=snn_step,
                         name=f"{name}/{coding}", fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"},
                         trainer_params=trainer)
            model = result.model.eval()
            scores = {split: classification_scores(model, image_tensor(splits, split), splits[f"{split}_labels"])["acc"]
                      for split in ("val", "test")}
            spikes = encode(image_tensor(splits, "test")[:1000], coding, int(config["model"]["steps"]))
            rows.append({"dataset": name, "coding": coding, "val_acc": scores["val"], "test_acc": scores["test"],
                         "input_spikes_per_image": float(spikes.sum() / spikes.shape[1]),
                         "steps": int(config["model"]["steps"]), "seconds": round(result.seconds, 1)})
            histories[f"{name}/{coding}"] = result.history
            logger.info("%s, %s coding: test accuracy %.4f", name, coding, scores["test"])
    return pd.DataFrame(rows), histories


def coding_figure(data: dict[str, dict[str, np.ndarray]], params: dict[str, Any]) -> Figure:
    """One digit and one garment as rate and latency spike trains: pixels (rows) against time."""
    steps = int(params["train"]["model"]["steps"])
    figure = Figure(figsize=(11, 6), layout="constrained")
    axes = figure.subplots(len(params["datasets"]), 3, squeeze=False)
    for row, name in zip(axes, params["datasets"]):
        image = image_tensor(data[name], "test")[:1]
        row[0].imshow(image[0, 0], cmap="gray")
        row[0].set(title=f"{name} test image 0", xticks=[], yticks=[])
        for ax, coding in zip(row[1:], ("rate", "latency")):
            train = encode(image, coding, steps, torch.Generator().manual_seed(0) if coding == "rate" else None)
            pixels = train[:, 0].flatten(1).T.numpy()  # (784, T)
            ax.eventplot([np.nonzero(p)[0] for p in pixels], linelengths=1, linewidths=0.6, colors="k")
            ax.set(title=f"{coding} coding: {int(pixels.sum())} spikes in {steps} steps",
                   xlabel="time step", ylabel="pixel", xlim=(-0.5, steps - 0.5))
    return figure


def accuracy_figure(results: pd.DataFrame) -> Figure:
    """Test accuracy per data set and coding."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    table = results.pivot(index="dataset", columns="coding", values="test_acc")
    x = np.arange(len(table))
    width = 0.8 / len(table.columns)
    for i, coding in enumerate(table.columns):
        ax.bar(x + i * width - 0.4 + width / 2, table[coding], width, label=coding)
        for xi, value in zip(x, table[coding]):
            ax.text(xi + i * width - 0.4 + width / 2, value + 0.005, f"{value:.1%}", ha="center", fontsize=8)
    ax.set(xticks=x, xticklabels=table.index, ylim=(0, 1.05), ylabel="test accuracy",
           title="fully connected SNN: rate against latency coding")
    ax.legend()
    return figure


def curves_figure(histories: dict[str, pd.DataFrame]) -> Figure:
    """Training curves of every (data set, coding)."""
    return training_curves(histories)


def summary_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Test accuracy of each (data set, coding) as MLflow metrics."""
    return metrics_for_mlflow({f"{row.dataset}_{row.coding}_test_acc": row.test_acc for row in results.itertuples()})
