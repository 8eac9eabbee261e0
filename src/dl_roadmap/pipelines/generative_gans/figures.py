"""Figures of generative_gans: final samples, loss curves, the yardstick per epoch, mode
collapse against its fix, and the final yardstick table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.image.yardstick import plot_yardstick


def final_samples_figure(**frames: list[np.ndarray]) -> Figure:
    """The last epoch's grid of every run (fixed noise)."""
    figure = Figure(figsize=(3.2 * 4, 3.4 * 2), layout="constrained")
    axes = figure.subplots(2, 4).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, (run, run_frames) in zip(axes, frames.items()):
        ax.imshow(run_frames[-1], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{run} (epoch {len(run_frames)})", fontsize=9)
    figure.suptitle("samples after the last epoch (conditional GANs: labels 0, 1, ..., 9 in turn)")
    return figure


def losses_figure(histories: pd.DataFrame) -> Figure:
    """Generator and discriminator (critic) losses per epoch, one panel per run."""
    runs = list(dict.fromkeys(histories["run"]))
    figure = Figure(figsize=(3.3 * len(runs), 3.2), layout="constrained")
    axes = figure.subplots(1, len(runs), squeeze=False)[0]
    for ax, run in zip(axes, runs):
        h = histories[histories["run"] == run]
        for column, label in (("train_loss_discriminator", "discriminator / critic"), ("train_loss_generator", "generator")):
            if column in h:
                ax.plot(h["epoch"] + 1, h[column], marker="o", ms=3, label=label)
        ax.set(title=run, xlabel="epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training loss (epoch mean)")
    axes[0].legend(fontsize=8)
    return figure


def yardstick_epochs_figure(histories: pd.DataFrame) -> Figure:
    """FID, recall and classes covered of each run's samples, per epoch."""
    figure = Figure(figsize=(15, 4), layout="constrained")
    axes = figure.subplots(1, 4)
    for run, h in histories.groupby("run", sort=False):
        for ax, key in zip(axes, ("fid", "precision", "recall", "classes_covered")):
            ax.plot(h["epoch"] + 1, h[f"val_{key}"], marker="o", ms=3, label=run,
                    ls="--" if "fashion" in run else "-")
    for ax, key in zip(axes, ("FID on classifier features (lower better)", "precision", "recall", "classes covered")):
        ax.set(title=key, xlabel="epoch")
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[-1].legend(fontsize=7)
    return figure


def collapse_figure(table: pd.DataFrame, histories: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Class shares of the collapsing setting against its fix, and recall per epoch."""
    collapsed, fixed = params["collapsed"], params["fixed"]
    figure = Figure(figsize=(12, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    classes = np.arange(10)
    for offset, run in ((-0.2, collapsed), (0.2, fixed)):
        row = table[table["model"] == run].iloc[0]
        shares = [float(s) for s in str(row["class_shares"]).split()]
        left.bar(classes + offset, shares, width=0.4,
                 label=f"{run}: {int(row['classes_covered'])} classes, recall {row['recall']:.2f}")
    left.axhline(0.1, color="grey", ls=":")
    left.set(xticks=classes, xlabel="class the yardstick's classifier assigns", ylabel="share of samples",
             title="mode collapse: class shares of the final samples")
    left.legend(fontsize=8)
    for run in (collapsed, fixed):
        h = histories[histories["run"] == run]
        right.plot(h["epoch"] + 1, h["val_recall"], marker="o", label=f"{run} recall")
        right.plot(h["epoch"] + 1, h["val_classes_covered"] / 10, marker="s", ls="--", label=f"{run} classes / 10")
    right.set(xlabel="epoch", ylim=(0, 1.05), title="recall and class coverage per epoch")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    return figure


def yardstick_figure(table: pd.DataFrame) -> Figure:
    named = table.assign(model=table["dataset"].str.replace("fashion_mnist", "fashion") + ": " + table["model"])
    return plot_yardstick(named, "GANs against the shared yardstick (MNIST and Fashion-MNIST)")
