"""Figures the few-shot pipelines share: accuracy bars over (way, shot) settings with 95%
intervals and published ticks, and training curves per method."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def accuracy_bars(results: pd.DataFrame, methods: list[str], title: str, anchor: str, colour: int = 0) -> Figure:
    """Bars of ``accuracy`` ± ``ci95`` per (way, shot) and method; ``published`` as black ticks
    labelled ``anchor``."""
    settings = sorted({(w, s) for w, s in zip(results["way"], results["shot"])})
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        rows = results[results["method"] == method].set_index(["way", "shot"]).loc[settings]
        x = np.arange(len(settings)) + (i - (len(methods) - 1) / 2) * width
        ax.bar(x, rows["accuracy"], width, yerr=rows["ci95"], capsize=3, label=method, color=f"C{i + colour}")
        published = rows["published"].to_numpy(dtype=float)
        ax.scatter(x[np.isfinite(published)], published[np.isfinite(published)], marker="_", s=200, color="black",
                   zorder=3, label=anchor if i == len(methods) - 1 else None)
    ax.set(xticks=np.arange(len(settings)), xticklabels=[f"{w}-way {s}-shot" for w, s in settings],
           ylabel="accuracy (%) over test episodes, 95% CI",
           ylim=(max(0.0, float(results["accuracy"].min()) - 15), 100), title=title)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    return fig


def training_curves(history: pd.DataFrame, xlabel: str, what: str, colour: int = 0) -> Figure:
    """``loss`` and ``acc`` against ``iteration``, one line per ``method``."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    for i, (method, rows) in enumerate(history.groupby("method", sort=False)):
        for ax, column in ((ax_loss, "loss"), (ax_acc, "acc")):
            ax.plot(rows["iteration"] + 1, rows[column], marker="o", markersize=3, color=f"C{i + colour}", label=method)
    ax_loss.set(xlabel=xlabel, ylabel=f"training loss ({what})")
    ax_acc.set(xlabel=xlabel, ylabel=f"training accuracy ({what})")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig
