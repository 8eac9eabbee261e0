"""Figures of few_shot, each a matplotlib Figure the catalog saves (and MLflow keeps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.image.fewshot_plots import accuracy_bars, training_curves

METHODS = ["baseline", "matching", "protonet"]


def accuracy_figure(results: pd.DataFrame) -> Figure:
    """Bars of test-episode accuracy with 95% intervals per (way, shot) and method; the
    published figure (trained on ~9x more characters) as a black tick."""
    methods = [m for m in METHODS if m in set(results["method"])]
    return accuracy_bars(results, methods, "Omniglot, alphabets unseen in training", "published")


def episode_figure(episode: dict[str, Any]) -> Figure:
    """The support set (one column per class) and the queries with ProtoNet's guess (green
    right, red wrong)."""
    way = int(episode["support_labels"].max()) + 1
    shot = len(episode["support_labels"]) // way
    per_class = len(episode["query_labels"]) // way
    show = min(per_class, 4)
    fig = Figure(figsize=(1.3 * way, 1.3 * (shot + show) + 0.6), layout="constrained")
    axes = fig.subplots(shot + show, way, squeeze=False)
    for k in range(way):
        for s in range(shot):
            ax = axes[s, k]
            ax.imshow(episode["support"][k * shot + s, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"class {k}" if s == 0 else "", fontsize=8)
        for q in range(show):
            i = k * per_class + q
            ax = axes[shot + q, k]
            ax.imshow(episode["query"][i, 0], cmap="gray_r", vmin=0, vmax=1)
            guess = int(episode["predicted"][i])
            ax.set_title(f"-> {guess} ({episode['probabilities'][i, guess]:.2f})", fontsize=7,
                         color="green" if guess == k else "red")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{way}-way {shot}-shot test episode: support (top), queries with ProtoNet's guess", fontsize=9)
    return fig


def training_figure(history: pd.DataFrame) -> Figure:
    """Training loss and accuracy against iteration (episodes; mini-batches for the baseline)."""
    return training_curves(history, "iteration (episode; mini-batch for the baseline)", "queries / batch")


def one_shot_figure(runs: pd.DataFrame) -> Figure:
    """Error rates on Lake et al.'s 20 one-shot runs: ours (with 95% CI over runs) and published."""
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(runs))
    ax.barh(y + 0.2, runs["error_rate"], 0.4, xerr=runs["ci95"].fillna(0), capsize=3, label="measured here")
    ax.barh(y - 0.2, runs["published_error_rate"], 0.4, color="grey", label="Lake et al. 2015")
    ax.set(yticks=y, yticklabels=runs["method"], xlabel="error rate (%), 20-way one-shot",
           title="Lake et al.'s 20 one-shot runs")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig
