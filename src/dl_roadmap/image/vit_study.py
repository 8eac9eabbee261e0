"""The data-hunger study of a ViT (vit.py) and its figures: the sweep trains a ViT and a CNN
of the same parameter count on the first n training images for each n, with the same
budget, and scores both on the whole test set; then the curve, attention maps and rollout.

A CNN builds in two priors a ViT has to learn from data: locality (a 3x3 kernel sees a
neighbourhood) and translation equivariance (one kernel slides over the image). A ViT sees
every patch from every other through attention, with only the position embeddings to say
where a patch is. Dosovitskiy et al. (2021) found ViTs behind ResNets when trained on
ImageNet alone and ahead after JFT-300M: the fewer the images, the more the priors are worth.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.inference import classification_scores
from dl_roadmap.core.params import deep_merge
from dl_roadmap.core.stages.compress.measure import width_for_parameter_count
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.cnn import SmallCNN
from dl_roadmap.image.data import image_tensor, labelled_split
from dl_roadmap.image.vit import VisionTransformer, attention_rollout, count_parameters


def matched_cnn(cnn: dict[str, Any], target: int, seed: int) -> SmallCNN:
    """A SmallCNN with ``cnn``'s channels whose hidden width brings its parameter count
    nearest ``target`` (a count is linear in the hidden width, so two probes solve it)."""
    cnn = {key: value for key, value in cnn.items() if key != "hidden"}
    hidden = width_for_parameter_count(target, lambda width: SmallCNN(**cnn, hidden=width))
    return SmallCNN(**cnn, hidden=hidden, seed=seed)


def _size_label(size: int | None, available: int) -> str:
    return "all" if size is None or size >= available else str(size)


def train_on_subsets(
    splits: dict[str, np.ndarray], dataset: str, vit: dict[str, Any], cnn: dict[str, Any],
    hunger: dict[str, Any], trainer: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, nn.Module]:
    """Train both models on each training-set size of ``hunger.runs`` (each run: ``size``,
    null = all, and ``fit`` overrides over ``hunger.fit``), keeping the best validation epoch.
    Both use the classification step with ``hunger``'s ``augment`` and ``label_smoothing``.

    Returns:
        One row per (model, size) with test accuracy, parameters and seconds; every
        epoch of every fit; and the ViT trained on the most images (the pipeline's model).
    """
    rows, histories, largest = [], [], None
    trainer = {**trainer, "num_threads": hunger.get("threads") or trainer.get("num_threads")}
    n_train = len(splits["train_labels"])
    seed = int(hunger["fit"]["seed"])
    step = classifier_step_for(hunger)
    test_images, test_labels = image_tensor(splits, "test"), splits["test_labels"]
    for run in hunger["runs"]:
        size = n_train if run["size"] is None else min(int(run["size"]), n_train)
        subset = {**splits, "train_images": splits["train_images"][:size], "train_labels": splits["train_labels"][:size]}
        fit_params = {**deep_merge(hunger["fit"], run.get("fit") or {}), "monitor": "val_acc", "mode": "max"}
        vit_model = VisionTransformer(**vit, seed=seed)
        models = {"vit": vit_model, "cnn": matched_cnn(cnn, count_parameters(vit_model), seed)}
        for kind, model in models.items():
            name = f"{dataset}/{kind}_{_size_label(run['size'], n_train)}"
            start = time.perf_counter()
            result = fit(model, labelled_split(subset, "train"), labelled_split(subset, "val"),
                         step=step, name=name, fit_params=fit_params, trainer_params=trainer)
            seconds = time.perf_counter() - start
            scores = classification_scores(result.model, test_images, test_labels)
            rows.append({"dataset": dataset, "model": kind, "train_size": size, "parameters": count_parameters(model),
                         "epochs": len(result.history), "best_val_acc": result.best_score,
                         "test_acc": scores["acc"], "test_loss": scores["loss"], "train_seconds": round(seconds, 1)})
            histories.append(result.history.assign(dataset=dataset, model=kind, train_size=size))
            if kind == "vit" and size == max(r["train_size"] for r in rows if r["model"] == "vit"):
                largest = result.model
    return pd.DataFrame(rows), pd.concat(histories, ignore_index=True), largest.eval()


def hunger_metrics(results: pd.DataFrame) -> dict[str, float]:
    """``<dataset>_<model>_<size>_test_acc`` for MLflow (size ``all`` for the whole training set)."""
    metrics = {}
    for dataset, table in results.groupby("dataset"):
        largest = table["train_size"].max()
        for row in table.itertuples():
            size = "all" if row.train_size == largest else str(row.train_size)
            metrics[f"{dataset}_{row.model}_{size}_test_acc"] = float(row.test_acc)
    return metrics


NAMES = {"vit": "ViT", "cnn": "CNN (same parameter count)"}


def hunger_figure(results: pd.DataFrame) -> Figure:
    """Test accuracy against training-set size (log scale), ViT against CNN, one panel per set."""
    datasets = list(dict.fromkeys(results["dataset"]))
    figure = Figure(figsize=(5.2 * len(datasets), 4))
    axes = figure.subplots(1, len(datasets), squeeze=False)
    for axis, dataset in zip(axes[0], datasets):
        table = results[results["dataset"] == dataset]
        for kind, marker in (("vit", "o"), ("cnn", "s")):
            rows = table[table["model"] == kind].sort_values("train_size")
            axis.plot(rows["train_size"], 100 * rows["test_acc"], marker=marker, label=NAMES[kind])
            for row in rows.itertuples():
                axis.annotate(f"{100 * row.test_acc:.1f}", (row.train_size, 100 * row.test_acc),
                              textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        axis.set_xscale("log")
        axis.set_xlabel("training images")
        axis.set_ylabel("test accuracy (%)")
        axis.set_title(dataset)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right")
    figure.suptitle("Data hunger: a ViT against a CNN of the same size", fontsize=10)
    figure.tight_layout()
    return figure


def example_images(splits: dict[str, np.ndarray], count: int) -> tuple[torch.Tensor, np.ndarray]:
    """The first test image of each class, up to ``count``, as float (n, 1, 28, 28) in [0, 1]."""
    labels = splits["test_labels"]
    chosen = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)][:count]
    images = torch.from_numpy(splits["test_images"][chosen]).float().div(255).unsqueeze(1)
    return images, labels[chosen]


def _patch_map(weights: torch.Tensor, grid: int, size: int) -> np.ndarray:
    """Per-patch weights (N,) -> an image-sized map (each patch's weight over its pixels)."""
    block = weights.reshape(grid, grid).numpy()
    return np.kron(block / max(block.max(), 1e-12), np.ones((size // grid, size // grid)))


def attention_figure(model: VisionTransformer, splits: dict[str, np.ndarray], params: dict[str, Any],
                     title: str) -> Figure:
    """Per layer, where the class token looks: row 0 of each layer's attention (mean of heads)
    over the patches, beside the image."""
    images, labels = example_images(splits, int(params["images"]))
    attentions = model.attention_maps(images)  # (L, B, h, T, T)
    layers = attentions.shape[0]
    figure = Figure(figsize=(1.6 * (layers + 1), 1.6 * len(images)))
    axes = figure.subplots(len(images), layers + 1, squeeze=False)
    size = images.shape[-1]
    for i, image in enumerate(images):
        axes[i, 0].imshow(image[0], cmap="gray")
        axes[i, 0].set_ylabel(str(labels[i]), rotation=0, labelpad=12)
        for layer in range(layers):
            cls_row = attentions[layer, i].mean(0)[0, 1:]
            axes[i, layer + 1].imshow(image[0], cmap="gray")
            axes[i, layer + 1].imshow(_patch_map(cls_row, model.grid, size), cmap="inferno", alpha=0.6)
            if i == 0:
                axes[i, layer + 1].set_title(f"layer {layer + 1}", fontsize=9)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0, 0].set_title("image", fontsize=9)
    figure.suptitle(f"{title}: class-token attention per layer (mean of heads)", fontsize=10)
    figure.tight_layout()
    return figure


def rollout_figure(model: VisionTransformer, splits: dict[str, np.ndarray], params: dict[str, Any],
                   title: str) -> Figure:
    """Attention rollout (Abnar & Zuidema 2020) of each example: the class token's row of
    R = Â_L ... Â_1 over the patches, against the last layer's raw attention."""
    images, labels = example_images(splits, int(params["images"]))
    attentions = model.attention_maps(images)
    rollout = attention_rollout(attentions, float(params["residual"]))
    size = images.shape[-1]
    figure = Figure(figsize=(1.6 * len(images), 5.0))
    axes = figure.subplots(3, len(images), squeeze=False)
    for i, image in enumerate(images):
        maps = (None, attentions[-1, i].mean(0)[0, 1:], rollout[i, 0, 1:])
        for row, weights in enumerate(maps):
            axes[row, i].imshow(image[0], cmap="gray")
            if weights is not None:
                axes[row, i].imshow(_patch_map(weights, model.grid, size), cmap="inferno", alpha=0.6)
            axes[row, i].set_xticks([])
            axes[row, i].set_yticks([])
        axes[0, i].set_title(str(labels[i]), fontsize=9)
    for row, name in enumerate(("image", "last layer", "rollout")):
        axes[row, 0].set_ylabel(name, fontsize=9)
    figure.suptitle(f"{title}: attention rollout (Abnar & Zuidema 2020)", fontsize=10)
    figure.tight_layout()
    return figure
