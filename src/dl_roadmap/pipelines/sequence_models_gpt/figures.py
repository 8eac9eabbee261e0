"""Figures of sequence_models_gpt: the loss curves and the sampling sweep."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def loss_curves_figure(history: pd.DataFrame, anchor: float) -> Figure:
    """Training loss (mean over each logging window) and the validation estimates, against
    iterations, with the published anchor as a line."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.plot(history["iteration"] + 1, history["loss"], label="train (window mean)")
    if "val_loss" in history:
        evaluated = history.dropna(subset=["val_loss"])
        ax.plot(evaluated["iteration"] + 1, evaluated["val_loss"], "o--", label="validation (estimate)")
    ax.axhline(anchor, color="grey", linestyle=":", label=f"nanoGPT CPU anchor {anchor}")
    ax.set(xlabel="iteration", ylabel="cross-entropy (nats per character)", title="character-level GPT on Shakespeare")
    ax.grid(alpha=0.3)
    ax.legend()
    return figure


def sampling_figure(sweep: pd.DataFrame) -> Figure:
    """Known-word share, distinct word pairs and the model's own loss on its samples,
    against temperature, one line per top-k."""
    figure = Figure(figsize=(12, 4), layout="constrained")
    axes = figure.subplots(1, 3)
    panels = [("known_word_share", "generated words found in the corpus"),
              ("distinct_pairs", "distinct word pairs / all pairs"),
              ("self_loss", "model's loss on its own sample (nats)")]
    for ax, (column, label) in zip(axes, panels):
        for top_k, group in sweep.groupby("top_k", sort=False):
            ax.plot(group["temperature"], group[column], marker="o", label=f"top-k {top_k}")
        ax.set(xlabel="temperature", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    figure.suptitle("sampling: temperature and top-k trade sense for variety")
    return figure
