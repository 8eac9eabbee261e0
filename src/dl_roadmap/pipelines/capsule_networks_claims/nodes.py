"""Nodes of capsule_networks_claims: CapsNets trained with 1 and 3 routing iterations and a
CNN of the same parameter count, on the same data and budget, then measured on clean,
shifted and affNIST-style test images, with what routing does to the coupling coefficients.
Plain functions of plain values: call them from a notebook as the pipeline does."""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.inference import predict
from dl_roadmap.core.plotting import training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.affnist import robustness_test_sets
from dl_roadmap.image.capsule_training import (
    BaselineCNN, capsnet_from_config, capsule_step_for, cnn_step, matched_hidden,
)
from dl_roadmap.image.capsules import CapsNet, parameter_count
from dl_roadmap.image.data import image_tensor, labelled_splits


def train_capsnets(
    splits: dict[str, np.ndarray], config: dict[str, Any], iterations: list[int], trainer: dict[str, Any]
) -> tuple[dict[str, CapsNet], pd.DataFrame]:
    """One CapsNet per number of routing iterations, same seed, data and budget.

    Returns:
        The models by name (``routing_<r>``) and their histories (a ``model`` column)."""
    data = labelled_splits(splits)
    models, histories = {}, []
    for r in iterations:
        run = copy.deepcopy(config)
        run["model"]["routing_iterations"] = int(r)
        name = f"routing_{r}"
        result = fit(capsnet_from_config(run), data["train"], data["val"], step=capsule_step_for(run),
                     name=f"capsnet_{name}", fit_params=run["fit"], trainer_params=trainer)
        models[name] = result.model
        histories.append(result.history.assign(model=f"capsnet_{name}"))
    return models, pd.concat(histories, ignore_index=True)


def train_cnn(
    splits: dict[str, np.ndarray], config: dict[str, Any], capsnets: dict[str, CapsNet], trainer: dict[str, Any]
) -> tuple[BaselineCNN, pd.DataFrame]:
    """The baseline CNN, its hidden width chosen to match the CapsNets' parameter count
    (decoder included), trained with cross-entropy on the same shifted images."""
    target = parameter_count(next(iter(capsnets.values())))
    model_args = dict(config["model"])
    model_args["hidden"] = matched_hidden(target, model_args["channels"], image_size=28)
    torch.manual_seed(int(config["fit"]["seed"]))
    data = labelled_splits(splits)
    shift = int(config.get("shift", 2))
    result = fit(BaselineCNN(**model_args), data["train"], data["val"],
                 step=partial(cnn_step, shift=shift),
                 name="cnn", fit_params=config["fit"], trainer_params=trainer)
    return result.model, result.history.assign(model="cnn")


def compare(
    capsnets: dict[str, CapsNet], cnn: BaselineCNN, splits: dict[str, np.ndarray], affine: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Accuracy of every model on the clean, shifted and affNIST-style test images.

    Returns:
        The table (model, parameters, clean_acc, shifted_acc, affine_acc) and its figures
        for MLflow (``<model>.<set>_acc``)."""
    sets = robustness_test_sets(image_tensor(splits, "test"), affine)
    labels = np.asarray(splits["test_labels"])
    rows, metrics = [], {}
    for name, model in {**{f"capsnet_{k}": m for k, m in capsnets.items()}, "cnn": cnn}.items():
        row = {"model": name, "parameters": parameter_count(model)}
        for set_name, images in sets.items():
            row[f"{set_name}_acc"] = float((predict(model, images, batch_size=500).argmax(1) == labels).mean())
            metrics[f"{name}.{set_name}_acc"] = row[f"{set_name}_acc"]
        metrics[f"{name}.parameters"] = row["parameters"]
        rows.append(row)
    return pd.DataFrame(rows), metrics_for_mlflow(metrics)


@torch.no_grad()
def routing_statistics(capsnets: dict[str, CapsNet], splits: dict[str, np.ndarray], count: int) -> pd.DataFrame:
    """What routing does: on ``count`` test images, the coupling coefficients c_ij of every
    primary capsule i. With 1 iteration c_ij = 1/10 for all; agreement should concentrate
    each child's output on few parents. Columns: model, mean largest c_ij per child, mean
    entropy of c_i. (nats; uniform over 10 parents = ln 10 = 2.30), and the mean c_ij sent
    to the predicted class."""
    images = image_tensor(splits, "test")[:count]
    rows = []
    for name, model in capsnets.items():
        model.eval()
        v, c = model.capsules(images)
        predicted = v.norm(dim=-1).argmax(1)
        entropy = -(c * c.clamp_min(1e-12).log()).sum(-1)
        to_predicted = c.gather(2, predicted.view(-1, 1, 1).expand(-1, c.shape[1], 1)).squeeze(-1)
        rows.append({"model": f"capsnet_{name}", "mean_max_coupling": float(c.max(-1).values.mean()),
                     "mean_coupling_entropy": float(entropy.mean()),
                     "mean_coupling_to_predicted": float(to_predicted.mean())})
    return pd.DataFrame(rows)


def comparison_figure(table: pd.DataFrame) -> Figure:
    """Grouped bars: accuracy of each model on each test set."""
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.subplots()
    sets = [c for c in table.columns if c.endswith("_acc")]
    width = 0.8 / len(table)
    for k, row in enumerate(table.itertuples(index=False)):
        values = [100 * getattr(row, s) for s in sets]
        bars = ax.bar(np.arange(len(sets)) + k * width, values, width, label=f"{row.model} ({row.parameters:,} params)")
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(np.arange(len(sets)) + width * (len(table) - 1) / 2, [s.removesuffix("_acc") for s in sets])
    ax.set(ylabel="test accuracy (%)", title="Clean, shifted as in training, and unseen affine transformations")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, loc="lower left")
    return figure


def curves_figure(capsnet_history: pd.DataFrame, cnn_history: pd.DataFrame) -> Figure:
    """Validation accuracy per epoch of every model."""
    history = pd.concat([capsnet_history, cnn_history], ignore_index=True)
    return training_curves({name: group.drop(columns="model") for name, group in history.groupby("model")})


def log_model(cnn: BaselineCNN) -> BaselineCNN:
    """The baseline CNN, handed to MLflow as a PyTorch model: input float images
    (N, 1, 28, 28) in [0, 1], output class logits (N, 10)."""
    return cnn.eval()
