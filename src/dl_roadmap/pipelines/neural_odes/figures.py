"""Figures of neural_odes: NFE through training, memory against steps, continuous depth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.plotting import training_curves
from dl_roadmap.pipelines.neural_odes.depth import convergence_order


def curves_figure(histories: dict[str, pd.DataFrame]) -> Figure:
    """Loss and accuracy per epoch of every model, train against validation."""
    return training_curves(histories)


def nfe_figure(nfe: pd.DataFrame, window: int = 10) -> Figure:
    """Forward and backward NFE per training batch (running mean over ``window`` batches),
    one panel per ODE model; epoch means as dots."""
    models = list(dict.fromkeys(nfe["model"]))
    figure = Figure(figsize=(5.5 * len(models), 4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(models)))
    for ax, name in zip(axes, models):
        rows = nfe[nfe["model"] == name]
        for column, colour in (("nfe_forward", "C0"), ("nfe_backward", "C1")):
            ax.plot(rows["batch"], rows[column].rolling(window, min_periods=1).mean(), color=colour,
                    label=column.replace("nfe_", "") + f" (running mean of {window})")
            epochs = rows.groupby("epoch").agg(batch=("batch", "max"), value=(column, "mean"))
            ax.plot(epochs["batch"], epochs["value"], "o", color=colour)
        ax.set(title=f"{name}: function evaluations per batch", xlabel="training batch", ylabel="NFE")
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def memory_figure(memory: pd.DataFrame) -> Figure:
    """Peak saved-for-backward memory and time of one gradient against solver steps."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    for method, rows in memory.groupby("method", sort=False):
        left.plot(rows["steps"], rows["peak_mib"], "o-", label=method)
        right.plot(rows["steps"], rows["seconds"], "o-", label=method)
    left.set(title="peak memory held for backward", xlabel="RK4 steps", ylabel="MiB")
    right.set(title="time of forward + backward", xlabel="RK4 steps", ylabel="seconds")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def depth_figure(depth: pd.DataFrame) -> Figure:
    """Error of h(1) against steps (log-log, with the slopes 1 and 4 drawn) and test accuracy
    of the N-step network."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    solvers = depth[depth["method"] != "dopri5 reference"]
    for method, rows in solvers.groupby("method", sort=False):
        order = convergence_order(depth, method)
        left.loglog(rows["steps"], rows["relative_error"].clip(lower=1e-16), "o-",
                    label=f"{method} (observed order {order:.1f})")
        right.semilogx(rows["steps"], rows["test_acc"], "o-", label=f"{method} with N steps")
    steps = np.array(sorted(solvers["steps"].unique()), dtype=float)
    for order, style in ((1, "k:"), (4, "k--")):
        first = solvers[(solvers["method"] == ("euler" if order == 1 else "rk4"))]["relative_error"].iloc[0]
        left.loglog(steps, first * (steps[0] / steps) ** order, style, label=f"slope -{order} (smooth f)")
    reference = depth[depth["method"] == "dopri5 reference"]["test_acc"].iloc[0]
    right.axhline(reference, color="k", ls="--", label="dopri5 (1e-8)")
    left.set(title="weight-tied ResNet (Euler) and RK4 -> ODE solution", xlabel="steps N",
             ylabel="|h_N - h(1)| / |h(1)|")
    right.set(title="test accuracy with N steps", xlabel="steps N", ylabel="accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return figure
