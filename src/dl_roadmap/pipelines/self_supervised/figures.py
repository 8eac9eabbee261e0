"""Figures of self_supervised: loss curves, frozen-feature accuracies, the alignment /
uniformity plane (Wang & Isola 2020, Figure 2's axes) and the t-SNE maps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def loss_curves(history: pd.DataFrame) -> Figure:
    """Training loss (and the pretext accuracy) per epoch, one panel per method: the losses
    live on different scales, so they are not drawn on one axis."""
    methods = list(dict.fromkeys(history["method"]))
    figure = Figure(figsize=(3.2 * len(methods), 3.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(methods)))
    for ax, method in zip(axes, methods):
        rows = history[history["method"] == method]
        ax.plot(rows["epoch"] + 1, rows["train_loss"], marker="o", color="C0")
        ax.set(title=method, xlabel="epoch", ylabel="training loss")
        metric = "train_acc" if "train_acc" in rows and rows["train_acc"].notna().any() else None
        if metric:
            twin = ax.twinx()
            twin.plot(rows["epoch"] + 1, rows[metric], marker=".", color="C1", alpha=0.7)
            twin.set_ylabel("pretext accuracy", color="C1")
        ax.grid(alpha=0.3)
    return figure


def frozen_accuracy(results: pd.DataFrame) -> Figure:
    """Linear-probe and kNN test accuracy of every frozen representation."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(results))
    ax.bar(x - 0.2, 100 * results["linear_probe"], 0.4, label="linear probe")
    ax.bar(x + 0.2, 100 * results["knn"], 0.4, label="kNN")
    low = 100 * min(results["linear_probe"].min(), results["knn"].min())
    ax.set(xticks=x, ylim=(max(0, low - 5), 100), ylabel="test accuracy (%)",
           title="frozen features on Fashion-MNIST")
    ax.set_xticklabels(results["representation"], rotation=20)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return figure


def alignment_uniformity(results: pd.DataFrame) -> Figure:
    """Each representation on the (alignment, uniformity) plane, coloured by linear-probe
    accuracy: lower-left is better on both."""
    figure = Figure(figsize=(6, 4.5), layout="constrained")
    ax = figure.subplots()
    dots = ax.scatter(results["alignment"], results["uniformity"], c=100 * results["linear_probe"], cmap="viridis", s=60)
    for _, row in results.iterrows():
        ax.annotate(row["representation"], (row["alignment"], row["uniformity"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    figure.colorbar(dots, ax=ax, label="linear probe (%)")
    ax.set(xlabel="alignment (lower: views agree)", ylabel="uniformity (lower: spread on the sphere)",
           title="alignment and uniformity (Wang & Isola 2020)")
    ax.grid(alpha=0.3)
    return figure


def tsne_maps(embedded: dict[str, Any], summary: dict[str, Any]) -> Figure:
    """The t-SNE maps side by side, coloured by the true class."""
    maps, labels = embedded["maps"], np.asarray(embedded["labels"])
    figure = Figure(figsize=(3.4 * len(maps), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(maps)))
    for ax, (name, points) in zip(axes, maps.items()):
        dots = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
        ax.set(title=name, xticks=[], yticks=[])
    names = summary.get("class_names") or [str(i) for i in range(10)]
    handles = dots.legend_elements()[0]
    figure.legend(handles, names[: len(handles)], loc="outside right center", fontsize=7, markerscale=0.8)
    return figure
