"""Figures of few_shot_maml, each a matplotlib Figure the catalog saves (and MLflow keeps)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.image.fewshot_plots import accuracy_bars, training_curves


def accuracy_figure(results: pd.DataFrame) -> Figure:
    """Test-episode accuracy with 95% intervals per setting, second- against first-order;
    the published figures (trained on ~9x more characters) as black ticks."""
    methods = list(dict.fromkeys(results["method"]))
    return accuracy_bars(results, methods, "MAML on Omniglot, alphabets unseen in training", "published", colour=3)


def inner_loop_figure(curves: pd.DataFrame) -> Figure:
    """Mean query accuracy after each inner gradient step on the support set (step 0: the
    zero head, chance level), one panel per setting."""
    settings = sorted({(w, s) for w, s in zip(curves["way"], curves["shot"])})
    fig = Figure(figsize=(3.2 * len(settings), 3.4), layout="constrained")
    axes = fig.subplots(1, len(settings), squeeze=False)[0]
    for ax, (way, shot) in zip(axes, settings):
        for i, (method, rows) in enumerate(curves[(curves["way"] == way) & (curves["shot"] == shot)].groupby(
                "method", sort=False)):
            ax.plot(rows["step"], rows["accuracy"], marker="o", color=f"C{i + 3}", label=method)
        ax.axhline(100 / way, color="grey", linestyle=":", label="chance")
        ax.set(title=f"{way}-way {shot}-shot", xlabel="inner steps", ylabel="query accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return fig


def training_figure(history: pd.DataFrame) -> Figure:
    """Meta-training query loss and accuracy (after adaptation) against outer iteration."""
    return training_curves(history, "outer iteration", "queries after adaptation", colour=3)
