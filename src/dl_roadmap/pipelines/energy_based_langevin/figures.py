"""Figures of energy_based_langevin (matplotlib Figures the catalog saves and MLflow keeps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.plotting import image_grid


def training_figure(jem: pd.DataFrame, classifier: pd.DataFrame) -> Figure:
    """Cross-entropy of both trainings, and the energies of data and Langevin samples."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    for frame in (jem, classifier):
        left.plot(frame["iteration"], frame["ce"], label=frame["model"].iloc[0])
    left.set(xlabel="iteration", ylabel="training cross-entropy", title="classification")
    left.legend(), left.grid(alpha=0.3)
    right.plot(jem["iteration"], jem["e_data"], label="E(data)")
    right.plot(jem["iteration"], jem["e_sample"], label="E(Langevin samples)")
    right.set(xlabel="iteration", ylabel="energy", title="JEM: data pushed down, samples up")
    right.legend(), right.grid(alpha=0.3)
    return figure


def samples_figure(chain: dict[str, np.ndarray]) -> Figure:
    """Rows of the chain at a few steps (the first 10 chains), then the final grid."""
    picks = np.unique(np.linspace(0, len(chain["steps"]) - 1, 5).astype(int))
    rows = {f"step {chain['steps'][i]}": chain["frames"][i][:10] for i in picks}
    return image_grid(rows, title="Langevin chains from uniform noise (JEM energy)")


def histogram_figure(raw: dict[str, dict[str, dict[str, np.ndarray]]], table: pd.DataFrame) -> Figure:
    """Score histograms, Fashion-MNIST (in) against MNIST (out), per model and score."""
    figure = Figure(figsize=(11, 7), layout="constrained")
    axes = figure.subplots(2, 2)
    for r, model in enumerate(("jem", "classifier")):
        for c, score in enumerate(("energy", "msp")):
            ax = axes[r, c]
            s_in, s_out = raw[model]["in"][score], raw[model]["out"][score]
            bins = np.linspace(min(s_in.min(), s_out.min()), max(s_in.max(), s_out.max()), 60)
            ax.hist(s_in, bins=bins, alpha=0.6, density=True, label="Fashion-MNIST test (in)")
            ax.hist(s_out, bins=bins, alpha=0.6, density=True, label="MNIST test (out)")
            row = table[(table["model"] == model) & (table["score"] == score)].iloc[0]
            name = "-E(x) = logsumexp f(x)" if score == "energy" else "max softmax probability"
            ax.set(title=f"{model}: {name}\nAUROC {row.auroc:.3f}, FPR@95%TPR {row.fpr_at_95_tpr:.3f}", xlabel=score)
            ax.legend(fontsize=8)
    return figure


def yardstick_figure(table: pd.DataFrame) -> Figure:
    from dl_roadmap.image.yardstick import plot_yardstick

    return plot_yardstick(table, title="Yardstick (Fashion-MNIST classifier features)")
