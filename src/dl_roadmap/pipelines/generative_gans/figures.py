"""Figures of generative_gans: final samples, loss curves, the yardstick per epoch, mode
collapse on the ring against its fix, and the final yardstick table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.image.yardstick import plot_yardstick


def final_samples_figure(**frames: list[np.ndarray]) -> Figure:
    """The last epoch's grid of every run (fixed noise)."""
    figure = Figure(figsize=(3.2 * 3, 3.4 * 2), layout="constrained")
    axes = figure.subplots(2, 3).ravel()
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


def collapse_figure(snapshots: dict[str, list[dict[str, Any]]], ring: dict[str, Any]) -> Figure:
    """Each ring setting's samples at every snapshot (a row per setting) over the real points:
    the plain GAN hops from mode to mode, the packed one spreads over the ring."""
    from dl_roadmap.pipelines.generative_gans.ring import real_points

    real = real_points(ring)
    columns = max(len(s) for s in snapshots.values())
    figure = Figure(figsize=(2.6 * columns, 2.8 * len(snapshots)), layout="constrained")
    axes = figure.subplots(len(snapshots), columns, squeeze=False)
    limit = 1.5 * float(ring["radius"])
    for row, (name, snaps) in zip(axes, snapshots.items()):
        for ax, snap in zip(row, snaps):
            ax.scatter(real[:, 0], real[:, 1], s=2, c="0.75")
            ax.scatter(snap["points"][:, 0], snap["points"][:, 1], s=2, c="C3", alpha=0.4)
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[], aspect="equal")
            ax.set_title(f"{name}, step {snap['step']}\n{snap['modes_covered']} modes covered, "
                         f"{100 * snap['high_quality']:.0f}% high quality,\n"
                         f"{100 * snap['largest_share']:.0f}% nearest one mode", fontsize=8)
        for ax in row[len(snaps):]:
            ax.set_axis_off()
    packs = ", ".join(f"{name} = pack {setting['pack']}" for name, setting in ring["settings"].items())
    figure.suptitle(f"mode collapse on {ring['modes']} Gaussians (grey: data, red: samples); {packs}")
    return figure


def yardstick_figure(table: pd.DataFrame) -> Figure:
    named = table.assign(model=table["dataset"].str.replace("fashion_mnist", "fashion") + ": " + table["model"])
    return plot_yardstick(named, "GANs against the shared yardstick (MNIST and Fashion-MNIST)")
