"""Nodes of neural_odes: ODE-Nets (dopri5 with the adjoint, fixed-step RK4) and a ResNet
on MNIST, the cost of the adaptive solver (NFE), the memory of the two gradients, and
continuous depth. Plain functions of plain values: call them from a notebook as the
pipeline does."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.stages.compress.measure import parameter_count
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.pipelines.neural_odes.depth import convergence_order, depth_study
from dl_roadmap.pipelines.neural_odes.memory import memory_study
from dl_roadmap.pipelines.neural_odes.models import ODENet, ResNet, model_from_config
from dl_roadmap.pipelines.neural_odes.nfe import NFECounter

AREA = "neural_odes"


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of MNIST (the image library's split_mnist) and a summary."""
    return split_mnist(raw, params)


def tuning_splits(splits: dict[str, np.ndarray], train_limit: int) -> dict[str, np.ndarray]:
    """The splits with the first ``train_limit`` training images: the tune stage's final
    model trains on these (an adaptive solver makes every training image costly)."""
    return {**splits, "train_images": splits["train_images"][:train_limit],
            "train_labels": splits["train_labels"][:train_limit]}


def train_classifiers(
    splits: dict[str, np.ndarray], models: dict[str, dict[str, Any]], trainer: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame, torch.nn.Module]:
    """Train every model of ``models`` (name -> ``model`` and ``fit`` blocks) through the
    training core, counting ODE function evaluations per batch, and score each on the test split.

    Returns:
        Results (one row per model: parameters, test accuracy and error, seconds, NFE),
        the training histories, the NFE per training batch of every ODE model, and the
        first ODE-Net (the one logged as the MLflow model and explained).
    """
    data = labelled_splits(splits)
    test_images = image_tensor(splits, "test")
    rows, histories, nfe_tables, first_odenet = [], {}, [], None
    for name, config in models.items():
        model = model_from_config(config)
        counter = NFECounter(f"{AREA}_{name}")
        start = time.perf_counter()
        result = fit(model, data["train"], data["val"], step=classifier_step_for(config), name=f"{AREA}_{name}",
                     fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"}, trainer_params=trainer,
                     callbacks=[counter])
        seconds = time.perf_counter() - start
        model = result.model.eval()
        scores = classification_scores(model, test_images, splits["test_labels"])
        nfe = counter.table()
        row = {"model": name, "kind": config["model"]["kind"], "parameters": parameter_count(model),
               "epochs": len(result.history), "train_images": len(data["train"]),
               "test_acc": scores["acc"], "test_error_pct": 100 * (1 - scores["acc"]), "train_seconds": seconds,
               "nfe_forward_last_epoch": np.nan, "nfe_backward_last_epoch": np.nan}
        if isinstance(model, ODENet):
            last = nfe[nfe["epoch"] == nfe["epoch"].max()]
            row["nfe_forward_last_epoch"] = last["nfe_forward"].mean()
            row["nfe_backward_last_epoch"] = last["nfe_backward"].mean()
            nfe_tables.append(nfe.assign(model=name))
            if first_odenet is None:
                first_odenet = model
        rows.append(row)
        histories[name] = result.history
    if first_odenet is None:
        raise ValueError(f"{AREA}.models: at least one model of kind 'odenet' is needed")
    return pd.DataFrame(rows), histories, pd.concat(nfe_tables, ignore_index=True), first_odenet


def paper_width_parameters(widths: list[int], blocks: int) -> pd.DataFrame:
    """Parameter counts of ODE-Net and ResNet at each width (Chen et al. use 64 channels)."""
    rows = []
    for width in widths:
        rows.append({"channels": width, "odenet": parameter_count(ODENet(width)),
                     "resnet": parameter_count(ResNet(width, blocks=blocks))})
    return pd.DataFrame(rows)


def measure_memory(settings: dict[str, Any]) -> pd.DataFrame:
    """Peak saved-for-backward memory of backprop through the solver against the adjoint."""
    return memory_study(settings)


def continuous_depth(model: torch.nn.Module, splits: dict[str, np.ndarray], settings: dict[str, Any]) -> pd.DataFrame:
    """Own Euler (the weight-tied ResNet) and RK4 against the dopri5 reference, on the first
    ``images`` test images."""
    n = int(settings["images"])
    images = image_tensor(splits, "test")[:n]
    labels = torch.from_numpy(splits["test_labels"][:n]).long()
    return depth_study(model, images, labels, [int(s) for s in settings["steps"]])


def summary_metrics(results: pd.DataFrame, memory: pd.DataFrame, depth: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures for MLflow: test accuracy per model, memory growth, orders."""
    values: dict[str, float] = {}
    for row in results.itertuples():
        values[f"{row.model}.test_acc"] = row.test_acc
        values[f"{row.model}.parameters"] = row.parameters
    for method, group in memory.groupby("method"):
        group = group.sort_values("steps")
        values[f"memory.{method}.peak_mib_max_steps"] = group["peak_mib"].iloc[-1]
        values[f"memory.{method}.peak_mib_min_steps"] = group["peak_mib"].iloc[0]
    for method in ("euler", "rk4"):
        values[f"depth.{method}.observed_order"] = convergence_order(depth, method)
    return metrics_for_mlflow(values)


def log_model(model: torch.nn.Module) -> torch.nn.Module:
    """The trained ODE-Net for MLflow: input float images (N, 1, 28, 28) in [0, 1], output
    class logits (N, 10); torchdiffeq must be installed where it is loaded."""
    return model.eval()
