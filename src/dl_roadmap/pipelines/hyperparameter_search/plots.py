"""Figures of hyperparameter_search: best-so-far curves and where each strategy sampled."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.stages.tune.search_space import check_search_space

STYLE = {"grid": "C0", "random": "C1", "tpe": "C2", "gp": "C3", "sklearn_grid": "C4", "sklearn_random": "C5"}


def best_so_far_figure(trials: pd.DataFrame) -> Figure:
    """Left: best validation accuracy so far against trial number, one line per strategy
    (seed 0; the other seeds are in ``seed_spread_figure``). Right: every trial's own
    value, to show where a sampler spends its trials."""
    trials = trials[trials["seed"] == 0]
    figure = Figure(figsize=(13, 5), layout="constrained")
    best_axes, value_axes = figure.subplots(1, 2)
    for index, (strategy, ran) in enumerate(trials.groupby("strategy", sort=False)):
        colour = STYLE.get(strategy, f"C{index}")
        # sklearn's copies of grid and random dash, so that equal curves stay visible.
        style = "--" if strategy.startswith("sklearn") else "-"
        # Strategies often share a curve (the Bayesian samplers start with the random
        # sampler's draws): each line is thinner than the one before, so all stay visible.
        width = max(4.5 - 0.7 * index, 1.0)
        best_axes.step(ran["trial"], ran["best_so_far"], style, where="post", color=colour, label=strategy, linewidth=width)
        value_axes.plot(ran["trial"], ran["value"], "o" + style, color=colour, label=strategy, markersize=4, alpha=0.7,
                        linewidth=0.8)
    low = np.nanpercentile(trials["best_so_far"], 5)
    best_axes.set(xlabel="trial", ylabel="best validation accuracy so far", title="best so far",
                  ylim=(low - 0.01, trials["best_so_far"].max() + 0.005))
    value_axes.set(xlabel="trial", ylabel="validation accuracy of the trial", title="each trial")
    for ax in (best_axes, value_axes):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return figure


def sampled_points_figure(trials: pd.DataFrame, search_space: dict[str, Any]) -> Figure:
    """Where each strategy sampled: one column per strategy, the first search-space
    parameter (the learning rate) across, each other parameter down; colour = validation
    accuracy, star = that strategy's best trial (seed 0 of each strategy)."""
    trials = trials[trials["seed"] == 0]
    space = check_search_space(search_space)
    x_path, *y_paths = list(space)
    strategies = list(dict.fromkeys(trials["strategy"]))
    rows = max(len(y_paths), 1)
    figure = Figure(figsize=(3.2 * len(strategies) + 1, 3.0 * rows), layout="constrained")
    axes = figure.subplots(rows, len(strategies), squeeze=False, sharex=True, sharey="row")
    values = trials["value"]
    vmin, vmax = np.nanpercentile(values, 10), np.nanmax(values)
    scatter = None
    for col, strategy in enumerate(strategies):
        ran = trials[trials["strategy"] == strategy]
        best = ran.loc[ran["value"].idxmax()] if ran["value"].notna().any() else None
        for row in range(rows):
            ax = axes[row, col]
            y_path = y_paths[row] if y_paths else None
            y = ran[y_path] if y_path else np.zeros(len(ran))
            scatter = ax.scatter(ran[x_path], y, c=ran["value"], cmap="viridis", vmin=vmin, vmax=vmax, s=30,
                                 edgecolors="k", linewidths=0.3)
            if best is not None:
                ax.scatter([best[x_path]], [best[y_path] if y_path else 0], marker="*", s=220, facecolors="none",
                           edgecolors="red", linewidths=1.5)
            if space[x_path].get("log"):
                ax.set_xscale("log")
            if y_path and space[y_path].get("log"):
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"{strategy} ({ran['value'].notna().sum()} trials)")
            if row == rows - 1:
                ax.set_xlabel(x_path)
            if col == 0 and y_path:
                ax.set_ylabel(y_path)
    if scatter is not None:
        figure.colorbar(scatter, ax=axes, label="validation accuracy (colours clipped below the 10th percentile)")
    return figure


def seed_spread_figure(trials: pd.DataFrame) -> Figure:
    """Best so far against trial number per sampler: the mean over its sampler seeds, a band
    from the worst to the best seed, and each seed as a thin line. A sampler whose band
    overlaps another's is not shown better by this budget."""
    figure = Figure(figsize=(8, 5), layout="constrained")
    ax = figure.subplots()
    for index, (sampler, ran) in enumerate(trials.groupby("sampler", sort=False)):
        colour = STYLE.get(sampler, f"C{index}")
        curves = ran.pivot_table(index="trial", columns="seed", values="best_so_far")
        seeds = curves.shape[1]
        style = "--" if sampler.startswith("sklearn") else "-"
        ax.step(curves.index, curves.mean(axis=1), style, where="post", color=colour, linewidth=2,
                label=f"{sampler} (mean of {seeds} seed{'s' if seeds > 1 else ''})")
        if seeds > 1:
            ax.fill_between(curves.index, curves.min(axis=1), curves.max(axis=1), step="post", color=colour, alpha=0.15)
            for seed in curves.columns:
                ax.step(curves.index, curves[seed], where="post", color=colour, linewidth=0.6, alpha=0.5)
    low = np.nanpercentile(trials["best_so_far"], 5)
    ax.set(xlabel="trial", ylabel="best validation accuracy so far", ylim=(low - 0.01, trials["best_so_far"].max() + 0.005),
           title="spread over sampler seeds (band: worst to best seed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure
