"""Figures of optimization (matplotlib Figure objects, no pyplot state)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure


def _colours(names: list[str]) -> dict[str, str]:
    return {name: f"C{i}" for i, name in enumerate(names)}


def optimizer_curves_figure(histories: pd.DataFrame) -> Figure:
    """Training loss and validation accuracy per optimizer against epochs (left) and
    against wall time (right); epochs on a log axis because full-batch GD runs many more."""
    figure = Figure(figsize=(12, 8), layout="constrained")
    axes = figure.subplots(2, 2)
    colours = _colours(list(histories["variant"].unique()))
    for variant, run in histories.groupby("variant", sort=False):
        for row, metric in enumerate(("train_loss", "val_acc")):
            for col, x in enumerate((run["epoch"] + 1, run["wall_seconds"])):
                axes[row, col].plot(x, run[metric], marker="o", markersize=2.5, color=colours[variant], label=variant)
    for row, label in enumerate(("training loss", "validation accuracy")):
        axes[row, 0].set(ylabel=label, xscale="log")
        if row == 0:
            for ax in axes[0]:
                ax.set_yscale("log")
    axes[1, 0].set(xlabel="epoch (log scale)")
    axes[1, 1].set(xlabel="wall time, seconds")
    for ax in axes.flat:
        ax.grid(alpha=0.3, which="both")
    axes[0, 1].legend(fontsize=8)
    figure.suptitle("same MLP, same data: optimizers against epochs and against wall time")
    return figure


def lr_sweep_figure(sweep: pd.DataFrame) -> Figure:
    """Final training loss and best validation accuracy against the learning rate, one
    line per optimizer (diverged runs: crosses at the top of the loss panel)."""
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    loss_ax, acc_ax = figure.subplots(1, 2)
    colours = _colours(list(sweep["variant"].unique()))
    finite_max = sweep["final_train_loss"].max()
    ceiling = float(finite_max) * 1.5 if np.isfinite(finite_max) else 3.0
    for variant, run in sweep.groupby("variant", sort=False):
        run = run.sort_values("lr")
        ok = ~run["diverged"].astype(bool)
        loss_ax.plot(run.loc[ok, "lr"], run.loc[ok, "final_train_loss"], marker="o", color=colours[variant], label=variant)
        loss_ax.scatter(run.loc[~ok, "lr"], [ceiling] * int((~ok).sum()), marker="x", s=60, color=colours[variant])
        acc_ax.plot(run["lr"], run["best_val_acc"], marker="o", color=colours[variant], label=variant)
    loss_ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final training loss",
                title="training loss after the sweep budget (x = diverged)")
    acc_ax.set(xscale="log", xlabel="learning rate", ylabel="best validation accuracy",
               title="sensitivity to the learning rate")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3, which="both")
    acc_ax.legend(fontsize=8)
    return figure


def weight_ema_figure(averages: pd.DataFrame, scores: pd.DataFrame) -> Figure:
    """Validation accuracy of the raw weights (solid) and of their EMA (dashed) per epoch,
    and the test accuracy of both per optimizer."""
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    curve_ax, bar_ax = figure.subplots(1, 2)
    colours = _colours(list(averages["variant"].unique()))
    for variant, run in averages.groupby("variant", sort=False):
        curve_ax.plot(run["epoch"] + 1, run["raw_acc"], "-", color=colours[variant], label=f"{variant} raw")
        curve_ax.plot(run["epoch"] + 1, run["ema_acc"], "--", color=colours[variant], label=f"{variant} EMA")
    curve_ax.set(xscale="log", xlabel="epoch (log scale)", ylabel="validation accuracy",
                 title="raw weights (solid) vs their EMA (dashed)")
    curve_ax.legend(fontsize=6, ncol=2)
    positions = np.arange(len(scores))
    bar_ax.bar(positions - 0.2, scores["test_acc"], 0.4, label="last weights")
    bar_ax.bar(positions + 0.2, scores["test_acc_weight_ema"], 0.4, label="EMA of the weights")
    low = float(min(scores["test_acc"].min(), scores["test_acc_weight_ema"].min()))
    bar_ax.set(xticks=positions, ylim=(max(0.0, low - 0.05), 1.0), ylabel="test accuracy",
               title="Polyak (EMA) averaging of the weights")
    bar_ax.set_xticklabels(scores["variant"], rotation=30)
    bar_ax.legend(fontsize=8)
    for ax in (curve_ax, bar_ax):
        ax.grid(alpha=0.3)
    return figure


def loss_smoothing_figure(smoothed: pd.DataFrame, smoothing: dict, early_steps: int = 150) -> Figure:
    """The noisy per-step loss with its SMA, plain EMA and bias-corrected EMA: the whole run
    (left) and its first steps (right), where the plain EMA starts near 0."""
    variant = smoothing.get("variant", "")
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, frame in zip(axes, (smoothed, smoothed.head(early_steps))):
        ax.plot(frame["step"], frame["loss"], color="lightgrey", linewidth=0.8, label="loss per step")
        ax.plot(frame["step"], frame["sma"], color="C0", label="simple moving average")
        ax.plot(frame["step"], frame["ema"], color="C3", linestyle="--", label="EMA, no bias correction")
        ax.plot(frame["step"], frame["ema_corrected"], color="C2", label="EMA, bias-corrected")
        ax.set(xlabel="optimizer step", ylabel="training loss")
        ax.grid(alpha=0.3)
    axes[0].set(yscale="log", title=f"{variant}: the whole run")
    axes[1].set(title=f"first {min(early_steps, len(smoothed))} steps: the plain EMA starts at 0")
    axes[1].legend(fontsize=8)
    return figure


def depth_gradients_figure(norms: pd.DataFrame) -> Figure:
    """Top: gradient norm per layer (1 = next to the input) at the first step and as a
    median over training, one line per network. Bottom: each network's per-layer
    gradient norms over the steps (dark = input side, light = output layer)."""
    variants = list(norms["variant"].unique())
    figure = Figure(figsize=(3.6 * max(len(variants), 2), 8), layout="constrained")
    grid = figure.add_gridspec(2, max(len(variants), 2))
    half = max(len(variants), 2) // 2
    first_ax = figure.add_subplot(grid[0, :half])
    median_ax = figure.add_subplot(grid[0, half:], sharey=first_ax)
    colours = _colours(variants)
    first_step = norms["step"].min()
    for variant, run in norms.groupby("variant", sort=False):
        at_start = run[run["step"] == first_step].sort_values("layer")
        first_ax.plot(at_start["layer"], at_start["grad_norm"], marker="o", color=colours[variant], label=variant)
        median = run.groupby("layer")["grad_norm"].median()
        median_ax.plot(median.index, median.to_numpy(), marker="o", color=colours[variant], label=variant)
    first_ax.set(yscale="log", xlabel="layer (1 = input side, last = output)", ylabel="‖∂L/∂W‖",
                 title="gradient norm through depth, first step")
    median_ax.set(xlabel="layer", title="median over training")
    median_ax.legend(fontsize=8)
    layers = sorted(norms["layer"].unique())
    shades = colormaps["viridis"](np.linspace(0, 0.9, len(layers)))
    for index, variant in enumerate(variants):
        ax = figure.add_subplot(grid[1, index], sharey=first_ax)
        run = norms[norms["variant"] == variant]
        for layer, shade in zip(layers, shades):
            own = run[run["layer"] == layer].sort_values("step")
            ax.plot(own["step"], own["grad_norm"], color=shade, linewidth=0.8,
                    label=f"layer {layer}" if layer in (layers[0], layers[-1]) else None)
        ax.set(yscale="log", xlabel="step", title=variant)
        ax.legend(fontsize=7)
    for ax in figure.axes:
        ax.grid(alpha=0.3)
    return figure


def clipping_figure(steps: pd.DataFrame, histories: pd.DataFrame) -> Figure:
    """The RNN's gradient norm before clipping at every step (log scale), its training
    loss per step, and its validation accuracy per epoch, one colour per clipping setting."""
    figure = Figure(figsize=(15, 4.8), layout="constrained")
    norm_ax, loss_ax, acc_ax = figure.subplots(1, 3)
    colours = _colours(list(steps["variant"].unique()))
    for variant, run in steps.groupby("variant", sort=False):
        norm_ax.plot(run["step"], run["grad_norm"], color=colours[variant], linewidth=0.7, alpha=0.8, label=variant)
        loss_ax.plot(run["step"], run["loss"], color=colours[variant], linewidth=0.7, alpha=0.8, label=variant)
    for variant, run in histories.groupby("variant", sort=False):
        acc_ax.plot(run["epoch"] + 1, run["val_acc"], marker="o", color=colours[variant], label=variant)
    norm_ax.set(yscale="log", xlabel="step", ylabel="‖g‖ before clipping", title="gradient norm per step")
    loss_ax.set(xlabel="step", ylabel="training loss", title="loss per step")
    acc_ax.set(xlabel="epoch", ylabel="validation accuracy", title="what the RNN learned")
    acc_ax.legend(fontsize=8)
    for ax in (norm_ax, loss_ax, acc_ax):
        ax.grid(alpha=0.3)
    figure.suptitle("vanilla RNN on long sequences: no clipping vs clipping by norm and by value")
    return figure
