"""Nodes of efficient_architectures_scaling: plan the five networks at equal MACs, train each
with one recipe, tabulate and draw accuracy against cost. Plain functions of plain values."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.data import image_tensor, labelled_splits
from dl_roadmap.image.efficient import build_model, count_macs, parameter_count
from dl_roadmap.pipelines.efficient_architectures_scaling.scaling import INPUT, model_of, scaling_plan

logger = logging.getLogger(__name__)


def plan(base: dict[str, Any], scaling: dict[str, Any]) -> pd.DataFrame:
    """The base network, compound-scaled, and each dimension alone at the compound MACs."""
    table = scaling_plan(base["model"], scaling)
    logger.info("scaling plan (MACs measured with FlopCounterMode):\n%s", table.to_string(index=False))
    return table


def train_variant(
    splits: dict[str, np.ndarray], plan_table: pd.DataFrame, base: dict[str, Any], trainer: dict[str, Any],
    threads: int | None, name: str,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train the plan's network ``name`` with the base's fit recipe; its row: the plan's
    multipliers and cost, validation and test accuracy, seconds of training."""
    import torch

    config = {**base, "model": model_of(plan_table, name, base["model"])}
    torch.manual_seed(int(config["fit"]["seed"]))
    data = labelled_splits(splits)
    if threads:
        trainer = {**trainer, "num_threads": int(threads)}
    result = fit(build_model(config["model"]), data["train"], data["val"], step=classifier_step_for(config),
                 name=name.replace(" ", "_"), fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"},
                 trainer_params=trainer)
    model = result.model.cpu().eval()
    row = {"network": name, **{k: config["model"][k] for k in ("depth", "width", "resolution")},
           "macs": count_macs(model, INPUT), "params": parameter_count(model),
           "train_seconds": float(result.history["epoch_seconds"].sum())}
    for split in ("val", "test"):
        row[f"{split}_acc"] = classification_scores(model, image_tensor(splits, split), splits[f"{split}_labels"])["acc"]
    logger.info("%s: %.2f%% test accuracy at %.2f M MACs", name, 100 * row["test_acc"], row["macs"] / 1e6)
    return model, row


def results(*rows: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """The five networks in one table, with each one's gain over the base in points."""
    table = pd.DataFrame(list(rows))
    base = table.set_index("network").loc["base", "test_acc"]
    table["gain_points"] = (100 * (table["test_acc"] - base)).round(2)
    metrics = {f"{r.network.replace(' ', '_')}/{k}": r[k] for _, r in table.iterrows()
               for k in ("test_acc", "val_acc", "macs", "params")}
    return table, metrics_for_mlflow(metrics)


def scaling_figure(table: pd.DataFrame) -> Figure:
    """Test accuracy against MACs: an arrow from the base to each scaled network."""
    figure = Figure(figsize=(7, 4.8), layout="constrained")
    ax = figure.subplots()
    base = table.set_index("network").loc["base"]
    for i, row in table.reset_index(drop=True).iterrows():
        ax.scatter(row["macs"] / 1e6, 100 * row["test_acc"], s=60, color=f"C{i}", zorder=3, label=row["network"])
        if row["network"] != "base":
            ax.annotate("", (row["macs"] / 1e6, 100 * row["test_acc"]), (base["macs"] / 1e6, 100 * base["test_acc"]),
                        arrowprops={"arrowstyle": "->", "color": f"C{i}", "alpha": 0.6})
    ax.set(xlabel="multiply-adds per image (millions)", ylabel="Fashion-MNIST test accuracy (%)",
           title="Scaling a small EfficientNet: one dimension vs compound, equal MACs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def log_model(model: nn.Module) -> nn.Module:
    """The compound-scaled network for MLflow: input float images (N, 1, 28, 28) in [0, 1]
    (resized inside to its resolution), output class logits (N, 10)."""
    return model.cpu().eval()
