"""Figures every area draws: training curves, confusion matrices, image grids, 2-D maps.

Functions return ``matplotlib.figure.Figure`` objects built without pyplot, so they
work headless and never touch a notebook's backend; the catalog saves them
(MatplotlibDataset) and kedro-mlflow logs them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def training_curves(histories: dict[str, pd.DataFrame]) -> Figure:
    """Per fitted model, a column of two panels against epochs: losses on top, the other
    train_*/val_* metrics below (train solid, validation dashed, same colour per metric)."""
    figure = Figure(figsize=(5.5 * len(histories), 6.5), layout="constrained")
    axes = figure.subplots(2, len(histories), squeeze=False, sharex="col")
    for col, (name, history) in enumerate(histories.items()):
        epochs = history["epoch"] + 1
        metrics = sorted({c.split("_", 1)[1] for c in history.columns if c.startswith(("train_", "val_"))})
        for metric in metrics:
            ax = axes[0, col] if metric == "loss" else axes[1, col]
            colour = f"C{metrics.index(metric)}"
            for stage, style in (("train", "-"), ("val", "--")):
                if f"{stage}_{metric}" in history:
                    ax.plot(epochs, history[f"{stage}_{metric}"], style, color=colour, marker="o",
                            markersize=3, label=f"{stage}_{metric}")
        axes[0, col].set(title=name, ylabel="loss")
        axes[1, col].set(xlabel="epoch", ylabel="metric")
        for ax in axes[:, col]:
            ax.grid(alpha=0.3)
            if ax.get_lines():
                ax.legend(fontsize=8)
    return figure


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """Counts with row-normalised colours (so rare classes are as readable as common ones)."""
    matrix = np.asarray(matrix)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=class_names, yticklabels=class_names,
           xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    for i, j in np.ndindex(matrix.shape):
        if matrix[i, j]:
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if rates[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=ax, label="fraction of the true class")
    return figure


def image_grid(rows: dict[str, np.ndarray], title: str = "", captions: Sequence[str] | None = None) -> Figure:
    """Rows of grey images, one row per entry (e.g. input / noisy / reconstruction)."""
    n_cols = max(len(images) for images in rows.values())
    figure = Figure(figsize=(1.1 * n_cols, 1.25 * len(rows) + 0.4), layout="constrained")
    axes = figure.subplots(len(rows), n_cols, squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            if c < len(images):
                ax.imshow(np.asarray(images[c]).squeeze(), cmap="gray", vmin=0, vmax=1)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            if captions is not None and r == len(rows) - 1 and c < len(captions):
                ax.set_xlabel(captions[c], fontsize=7)
    if title:
        figure.suptitle(title)
    return figure


def scatter_2d(points: np.ndarray, labels: np.ndarray, title: str = "") -> Figure:
    """A 2-D embedding coloured by integer class label."""
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = figure.subplots()
    cmap = "tab10" if labels.max() < 10 else "tab20"
    dots = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=cmap, s=4, alpha=0.8)
    ax.legend(*dots.legend_elements(), title="class", fontsize=8, loc="best", markerscale=0.8)
    ax.set(title=title, xticks=[], yticks=[])
    return figure


def line_plot(
    frame: pd.DataFrame, x: str, y: str, hue: str, title: str = "", logx: bool = False, ylabel: str = ""
) -> Figure:
    """One line per value of ``hue`` (e.g. accuracy against labels per class, per method)."""
    figure = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = figure.subplots()
    for key, group in frame.groupby(hue, sort=False):
        group = group.sort_values(x)
        ax.plot(group[x], group[y], marker="o", label=str(key))
    if logx:
        ax.set_xscale("log")
    ax.set(title=title, xlabel=x, ylabel=ylabel or y)
    ax.grid(alpha=0.3)
    ax.legend()
    return figure
