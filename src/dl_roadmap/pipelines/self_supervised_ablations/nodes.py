"""Nodes of self_supervised_ablations: SimCLR with one ingredient changed at a time, as in
the paper's ablations (Chen et al. 2020): the batch size (2N - 2 negatives per view), the
temperature tau of NT-Xent, and the projection head g (none, linear, MLP). Every run sees
the same number of images; each encoder is judged by a linear probe on the features h
before the head and on z = g(h) after it."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.inference import predict
from dl_roadmap.core.params import deep_merge, with_overrides
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.image.ssl_eval import features, knn_accuracy, linear_probe
from dl_roadmap.image.ssl_train import pretrain_model

logger = logging.getLogger(__name__)


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """The seeded split of Fashion-MNIST (the self_supervised pipeline's ``data`` block)."""
    return split_mnist(raw, params)[0]


def run_ablations(
    splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]
) -> pd.DataFrame:
    """Every value of every study, each a SimCLR pretraining of ``images_seen`` images
    (steps = images_seen / batch size / epochs per epoch), then probes before and after the
    head. A configuration shared by several studies (the base) trains once.

    Returns:
        One row per (study, value): linear probe on h and on g(h), kNN on h, final loss, seconds.
    """
    evaluation = params["evaluation"]
    n = int(evaluation["probe_train"])
    train_images, test_images = image_tensor(splits, "train")[:n], image_tensor(splits, "test")
    train_y, test_y = splits["train_labels"][:n], splits["test_labels"]
    done: dict[str, dict[str, Any]] = {}
    rows = []
    for study, spec in params["studies"].items():
        for value in spec["values"]:
            config = with_overrides(params["base"], {spec["path"]: value})
            batch = int(config.get("fit", {}).get("batch_size", params["pretrain"]["fit"]["batch_size"]))
            epochs = int(params["pretrain"]["fit"]["max_epochs"])
            steps = max(1, math.ceil(int(params["images_seen"]) / batch / epochs))
            config = deep_merge(config, {"fit": {"steps_per_epoch": steps, "batch_size": batch}})
            key = json.dumps(config, sort_keys=True)   # the base config, reached by several studies, trains once
            if key not in done:
                done[key] = _train_and_probe(config, splits, params, trainer, (train_images, train_y, test_images, test_y),
                                             evaluation, f"ablations/{study}_{value}")
            rows.append({"study": study, "value": str(value), **done[key]})
            logger.info("ablation: %s", rows[-1])
    return pd.DataFrame(rows)


def _train_and_probe(config: dict[str, Any], splits: dict[str, np.ndarray], params: dict[str, Any],
                     trainer: dict[str, Any], data: tuple, evaluation: dict[str, Any], name: str) -> dict[str, Any]:
    model, history = pretrain_model("simclr", config, splits, params["pretrain"], trainer, name)
    train_images, train_y, test_images, test_y = data
    h_train, h_test = features(model.encoder, train_images), features(model.encoder, test_images)
    z_train = predict(model.projector, torch.from_numpy(h_train))
    z_test = predict(model.projector, torch.from_numpy(h_test))
    c, iters = evaluation["probe_c"], evaluation["probe_max_iter"]
    batch, steps = int(config["fit"]["batch_size"]), int(config["fit"]["steps_per_epoch"])
    return {"batch_size": batch, "negatives": 2 * batch - 2, "temperature": config.get("temperature"),
            "head_layers": config.get("head", {}).get("layers", 2), "steps": steps * int(params["pretrain"]["fit"]["max_epochs"]),
            "probe_before_head": linear_probe(h_train, train_y, h_test, test_y, c, iters),
            "probe_after_head": linear_probe(z_train, train_y, z_test, test_y, c, iters),
            "knn_before_head": knn_accuracy(h_train, train_y, h_test, test_y, int(evaluation["knn_k"])),
            "final_loss": float(history["train_loss"].iloc[-1]), "seconds": float(history["seconds"].iloc[-1])}


def ablation_metrics(runs: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The probes of every (study, value) as MLflow metrics."""
    values = {}
    for _, row in runs.iterrows():
        for column in ("probe_before_head", "probe_after_head", "knn_before_head"):
            values[f"{row['study']}.{row['value']}.{column}"] = row[column]
    return metrics_for_mlflow(values)


def ablation_figure(runs: pd.DataFrame) -> Figure:
    """One panel per study: linear-probe accuracy before and after the head for each value."""
    studies = list(dict.fromkeys(runs["study"]))
    figure = Figure(figsize=(4.5 * len(studies), 4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(studies), sharey=True))
    low = 100 * runs[["probe_before_head", "probe_after_head"]].min().min()
    for ax, study in zip(axes, studies):
        rows = runs[runs["study"] == study]
        x = np.arange(len(rows))
        ax.bar(x - 0.2, 100 * rows["probe_before_head"], 0.4, label="h (before the head)")
        ax.bar(x + 0.2, 100 * rows["probe_after_head"], 0.4, label="z = g(h) (after)")
        ax.set(xticks=x, xticklabels=rows["value"], title=study, ylim=(max(0, low - 5), 100))
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("linear probe, test accuracy (%)")
    axes[-1].legend(fontsize=8)
    return figure
