"""Figures of architectures_recurrent (matplotlib Figures, no pyplot: the catalog saves them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.plotting import training_curves


def mnist1d_figure(results: pd.DataFrame) -> Figure:
    """Test accuracy per model, ours beside the MNIST-1D paper's."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(results))
    ax.bar(x - 0.2, results["test_acc"], 0.4, label="ours")
    ax.bar(x + 0.2, results["paper_acc"].fillna(0), 0.4, label="paper (Greydanus 2020)", alpha=0.7)
    for xi, value in zip(x, results["test_acc"]):
        ax.text(xi - 0.2, value + 0.01, f"{value:.0%}", ha="center", fontsize=8)
    ax.set(xticks=x, xticklabels=results["model"], ylim=(0, 1.05), ylabel="test accuracy",
           title="MNIST-1D: what each architecture can learn from 4,000 sequences")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return figure


def race_figure(race: pd.DataFrame) -> Figure:
    """Forward + backward milliseconds, ours against torch, per cell."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(race))
    ax.bar(x - 0.2, race["ours_ms"], 0.4, label="ours (cells.py, Python loop)")
    ax.bar(x + 0.2, race["torch_ms"], 0.4, label="torch.nn (fused)")
    for xi, row in zip(x, race.itertuples()):
        ax.text(xi, max(row.ours_ms, row.torch_ms) * 1.02, f"x{row.ratio:.1f}", ha="center", fontsize=9)
    first = race.iloc[0]
    ax.set(xticks=x, xticklabels=race["cell"], ylabel="ms per forward + backward",
           title=f"batch {first.batch_size}, {first.steps} steps, hidden {first.hidden_size}, {first.threads} thread(s)")
    ax.legend(fontsize=8)
    return figure


def curves_figure(histories: dict[str, pd.DataFrame]) -> Figure:
    """Training curves of each model (core.plotting)."""
    return training_curves(histories)
