"""Figures of few_shot_zero_shot, each a matplotlib Figure the catalog saves (and MLflow keeps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from dl_roadmap.core.plotting import confusion_matrix_figure


def confusion_figure(predicted: np.ndarray, data: dict[str, Any]) -> Figure:
    """Test confusion over all ten classes (γ = 0); unseen classes are starred."""
    names = [f"*{n}" if i in data["unseen"] else n for i, n in enumerate(data["class_names"])]
    matrix = confusion_matrix(data["test_labels"], predicted, labels=range(len(names)))
    return confusion_matrix_figure(matrix, names, title="generalized zero-shot, test (* = unseen in training)")


def curve_figure(curve: pd.DataFrame, results: pd.DataFrame) -> Figure:
    """The seen-unseen accuracy curve of calibrated stacking (Chao et al. 2016), γ = 0 marked."""
    fig = Figure(figsize=(5, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(curve["acc_unseen"], curve["acc_seen"], color="C0", label=f"sweep of gamma (AUSUC {results['ausuc'].iloc[0]:.1f})")
    plain, best = results.iloc[0], results.iloc[1]
    ax.scatter([plain["acc_unseen"]], [plain["acc_seen"]], color="C3", zorder=3, label=f"gamma = 0 (H {plain['harmonic_mean']:.1f})")
    ax.scatter([best["acc_unseen"]], [best["acc_seen"]], color="C2", zorder=3,
               label=f"best H on test {best['harmonic_mean']:.1f} (upper bound)")
    ax.set(xlabel="unseen-class accuracy (%)", ylabel="seen-class accuracy (%)", xlim=(0, 100), ylim=(0, 100),
           title="seen against unseen accuracy")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def attributes_figure(data: dict[str, Any]) -> Figure:
    """The attribute table: the only thing the model knows about an unseen class."""
    matrix = data["attributes"]
    fig = Figure(figsize=(0.45 * matrix.shape[1] + 2.5, 4), layout="constrained")
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Greys", vmin=0, vmax=1.5)
    names = [f"*{n}" if i in data["unseen"] else n for i, n in enumerate(data["class_names"])]
    ax.set(xticks=range(matrix.shape[1]), yticks=range(len(names)), yticklabels=names,
           title="class descriptions (* = unseen in training)")
    ax.set_xticklabels(data["attribute_names"], rotation=60, ha="right", fontsize=8)
    return fig
