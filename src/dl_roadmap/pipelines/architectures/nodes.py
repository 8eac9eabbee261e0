"""Nodes of architectures: Fashion-MNIST in, LeNet-5 trained, both CNNs scored, and what a
CNN computes drawn (first-layer filters, feature maps of one image, receptive fields).
Plain functions of plain values: call them from a notebook as the pipeline does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix
from torch import nn

from dl_roadmap.core.inference import classification_scores, predict
from dl_roadmap.core.plotting import confusion_matrix_figure, training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.data import image_tensor, labelled_splits, split_mnist
from dl_roadmap.pipelines.architectures.models import fashion_step_for, lenet_from_config
from dl_roadmap.pipelines.architectures.receptive import effective_fields, spatial_layers, theoretical_fields


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of Fashion-MNIST (the image library's split_mnist) and a
    summary of what was read, with the class names the plots use."""
    splits, summary = split_mnist(raw, params)
    summary["class_names"] = list(raw.get("class_names") or [str(label) for label in range(10)])
    return splits, summary


def train_lenet(
    splits: dict[str, np.ndarray], config: dict[str, Any], trainer: dict[str, Any]
) -> tuple[nn.Module, pd.DataFrame]:
    """LeNet-5 trained by ``core.training.fit`` (best validation accuracy kept)."""
    data = labelled_splits(splits)
    trainer = {**trainer, "num_threads": config.get("threads") or trainer.get("num_threads")}
    result = fit(lenet_from_config(config), data["train"], data["val"], step=fashion_step_for(config),
                 name="lenet5", fit_params={**config["fit"], "monitor": "val_acc", "mode": "max"},
                 trainer_params=trainer)
    return result.model, result.history


def evaluate(
    lenet: nn.Module, modern: nn.Module, splits: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]], np.ndarray]:
    """Accuracy and cross-entropy of both CNNs on validation and test, with parameter counts.

    Returns:
        The results table (model, split, metric, value), the same figures for MLflow, and
        the modern CNN's test predictions (for the confusion matrix).
    """
    rows, metrics = [], {}
    for name, model in (("lenet5", lenet), ("modern_cnn", modern)):
        for split in ("val", "test"):
            scores = classification_scores(model, image_tensor(splits, split), splits[f"{split}_labels"])
            for metric, value in scores.items():
                rows.append({"model": name, "split": split, "metric": metric, "value": value})
                metrics[f"{name}_{split}_{metric}"] = value
        parameters = sum(p.numel() for p in model.parameters())
        rows.append({"model": name, "split": "-", "metric": "parameters", "value": parameters})
        metrics[f"{name}_parameters"] = parameters
    predicted = predict(modern, image_tensor(splits, "test")).argmax(1)
    return pd.DataFrame(rows), metrics_for_mlflow(metrics), predicted


def curves_figure(lenet_history: pd.DataFrame, modern_history: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch, train against validation, for both CNNs."""
    return training_curves({"LeNet-5": lenet_history, "modern CNN": modern_history})


def confusion_figure(predicted: np.ndarray, splits: dict[str, np.ndarray], summary: dict[str, Any]) -> Figure:
    """The modern CNN's test-set confusion matrix."""
    names = summary["class_names"]
    matrix = confusion_matrix(splits["test_labels"], predicted, labels=range(len(names)))
    return confusion_matrix_figure(matrix, names, title="modern CNN: Fashion-MNIST test set")


def filters_figure(lenet: nn.Module, modern: nn.Module) -> Figure:
    """The first-layer filters of both CNNs (LeNet's 5x5 C1, the modern CNN's 3x3), each
    scaled to its own range: what the first layer looks for (edges, blobs, bars)."""
    banks = {"LeNet-5 C1 (5x5)": _first_conv(lenet).weight, "modern CNN conv1 (3x3)": _first_conv(modern).weight}
    columns = max(len(w) for w in banks.values())
    columns = min(columns, 16)
    rows = sum(-(-len(w) // columns) for w in banks.values())
    figure = Figure(figsize=(columns * 0.7, rows * 0.8 + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    row = 0
    for title, weight in banks.items():
        weight = weight.detach()[:, 0].numpy()
        for k, w in enumerate(weight):
            ax = axes[row + k // columns, k % columns]
            ax.imshow(w, cmap="RdBu_r", vmin=-np.abs(w).max(), vmax=np.abs(w).max())
            if k == 0:
                ax.set_title(title, fontsize=8, loc="left")
        row += -(-len(weight) // columns)
    figure.suptitle("First-layer filters (red positive, blue negative)")
    return figure


def feature_maps_figure(lenet: nn.Module, modern: nn.Module, splits: dict[str, np.ndarray],
                        summary: dict[str, Any], index: int = 0, per_layer: int = 8) -> Figure:
    """One test image through both CNNs: the first ``per_layer`` maps of every
    convolution / subsampling layer, coarser and more abstract with depth."""
    image = image_tensor(splits, "test")[index:index + 1]
    label = summary["class_names"][int(splits["test_labels"][index])]
    panels: list[tuple[str, np.ndarray]] = []
    for family, model in (("LeNet-5", lenet), ("modern", modern)):
        maps: dict[str, torch.Tensor] = {}
        layers = spatial_layers(model.eval())
        hooks = [m.register_forward_hook(lambda _m, _i, o, n=name: maps.__setitem__(n, o.detach().clone()))
                 for name, m, _, _ in layers]
        with torch.no_grad():
            model(image)
        for hook in hooks:
            hook.remove()
        panels += [(f"{family} {name} {tuple(maps[name].shape[2:])}", maps[name][0].numpy()) for name, *_ in layers
                   if min(maps[name].shape[2:]) > 1]  # a 1x1 map (LeNet's C5) is a vector, not a picture
    figure = Figure(figsize=(per_layer * 0.9 + 1, (len(panels) + 1) * 0.95), layout="constrained")
    axes = figure.subplots(len(panels) + 1, per_layer, squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_frame_on(False)
    axes[0, 0].imshow(image[0, 0].numpy(), cmap="gray")
    axes[0, 0].set_title(f"input: {label}", fontsize=7, loc="left")
    for r, (title, fmap) in enumerate(panels, start=1):
        for c in range(min(per_layer, len(fmap))):
            axes[r, c].imshow(fmap[c], cmap="viridis")
        axes[r, 0].set_ylabel(title, fontsize=6, rotation=0, ha="right", va="center")
    figure.suptitle("Feature maps of one test image")
    return figure


def receptive_fields(lenet: nn.Module, modern: nn.Module, splits: dict[str, np.ndarray],
                     images: int = 64) -> tuple[pd.DataFrame, Figure]:
    """Theoretical receptive field per layer of both CNNs (table), and a figure with the
    effective fields (mean |gradient| of the centre unit over ``images`` test images) with
    the theoretical square drawn over each."""
    x = image_tensor(splits, "test")[:images]
    rows, panels = [], []
    for family, model in (("lenet5", lenet), ("modern_cnn", modern)):
        layers = spatial_layers(model)
        theory = theoretical_fields(layers)
        effective = effective_fields(model, x)
        for row in theory:
            rows.append({"model": family, **row})
            panels.append((family, row, effective[row["layer"]]))
    figure = Figure(figsize=(2.0 * len(panels) / 2 + 1, 4.8), layout="constrained")
    columns = -(-len(panels) // 2)
    axes = figure.subplots(2, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    counts = {"lenet5": 0, "modern_cnn": 0}
    for family, row, field in panels:
        r = 0 if family == "lenet5" else 1
        ax = axes[r, counts[family]]
        counts[family] += 1
        ax.imshow(field, cmap="magma")
        side = row["receptive_field"]
        # The theoretical square around the centre unit (LeNet's input is padded to 32x32).
        pad = 2 if family == "lenet5" else 0
        centre = (field.shape[0] + 2 * pad) / 2 - pad - 0.5
        ax.add_patch(_square(centre, side))
        ax.set_title(f"{'LeNet-5' if r == 0 else 'modern'} {row['layer']}\nRF {side}x{side}", fontsize=7)
    figure.suptitle("Receptive fields: effective (|gradient|, colour) inside the theoretical square")
    return pd.DataFrame(rows), figure


def _square(centre: float, side: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((centre - side / 2, centre - side / 2), side, side, fill=False, color="cyan", lw=1)


def _first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def log_model(model: nn.Module) -> nn.Module:
    """The modern CNN handed to MLflow: input float images (N, 1, 28, 28) in [0, 1], output
    class logits (N, 10)."""
    return model.eval()
