"""Figures of the continual-learning study: the accuracy matrices as heatmaps, accuracy on
task 1 as tasks arrive, and average accuracy per method beside the published figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

SCENARIO_TITLES = {"task": "Task-IL (task given)", "domain": "Domain-IL (one head)", "class": "Class-IL (infer task)"}


def matrices_figure(cells: pd.DataFrame, title: str) -> Figure:
    """One heatmap per (scenario, method): row 0 is the random network (b_j), row i the
    accuracy on every task after training task i (R[i, j], in %)."""
    scenarios, methods = list(dict.fromkeys(cells["scenario"])), list(dict.fromkeys(cells["method"]))
    # Fixed margins: the constrained layout of 21 annotated panels costs seconds per save.
    fig = Figure(figsize=(2.1 * len(methods) + 0.8, 2.2 * len(scenarios) + 0.6))
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.08, top=0.9, wspace=0.3, hspace=0.35)
    axes = fig.subplots(len(scenarios), len(methods), squeeze=False)
    image = None
    for r, scenario in enumerate(scenarios):
        for c, method in enumerate(methods):
            ax = axes[r][c]
            part = cells[(cells["scenario"] == scenario) & (cells["method"] == method)]
            grid = part.pivot(index="after_task", columns="task", values="acc").sort_index()
            image = ax.imshow(grid.to_numpy(), vmin=0, vmax=100, cmap="viridis", aspect="auto")
            ax.grid(False)
            n = grid.shape[1]
            ax.set_xticks(range(n), [str(j) for j in grid.columns], fontsize=6)
            ax.set_yticks(range(n + 1), ["init"] + [str(i) for i in grid.index[1:]], fontsize=6)
            if n <= 5:
                for (i, j), value in np.ndenumerate(grid.to_numpy()):
                    ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=5,
                            color="white" if value < 60 else "black")
            if r == 0:
                ax.set_title(method, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{SCENARIO_TITLES.get(scenario, scenario)}\nafter task", fontsize=7)
            if r == len(scenarios) - 1:
                ax.set_xlabel("test task", fontsize=7)
    fig.suptitle(f"{title}: accuracy matrix R[i, j] (%)", fontsize=10)
    if image is not None:
        fig.colorbar(image, cax=fig.add_axes((0.945, 0.2, 0.01, 0.6)))
    return fig


def task1_figure(curves: pd.DataFrame, title: str) -> Figure:
    """Test accuracy on task 1 after every iteration (seed mean), one panel per scenario;
    dotted lines mark where a new task starts."""
    scenarios = list(dict.fromkeys(curves["scenario"]))
    fig = Figure(figsize=(4.6 * len(scenarios), 3.6), layout="constrained")
    axes = fig.subplots(1, len(scenarios), squeeze=False, sharey=True)
    for ax, scenario in zip(axes[0], scenarios):
        part = curves[curves["scenario"] == scenario]
        for method, rows in part.groupby("method", sort=False):
            mean = rows.groupby("step")["task1_acc"].mean()
            ax.plot(mean.index, 100 * mean.to_numpy(), label=method, lw=1.4)
        chunk = part["step"].min()  # steps per iteration: a task's first point is one chunk after it starts
        for step in part.groupby("task")["step"].min().sort_index().to_numpy()[1:]:
            ax.axvline(step - chunk, color="grey", ls=":", lw=0.8)
        ax.set_title(SCENARIO_TITLES.get(scenario, scenario), fontsize=10)
        ax.set_xlabel("training steps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy on task 1 (%)")
    axes[0][-1].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{title}: accuracy on task 1 as tasks arrive", fontsize=11)
    return fig


def results_figure(results: pd.DataFrame, title: str) -> Figure:
    """Average accuracy after the last task per method and scenario (bars, ± std over seeds),
    with the published figure as a black tick where there is one."""
    scenarios = list(dict.fromkeys(results["scenario"]))
    methods = list(dict.fromkeys(results["method"]))
    fig = Figure(figsize=(1.5 * len(methods) + 1, 4.4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(scenarios)
    x = np.arange(len(methods))
    for k, scenario in enumerate(scenarios):
        part = results[results["scenario"] == scenario].set_index("method").reindex(methods)
        offset = x + (k - (len(scenarios) - 1) / 2) * width
        ax.bar(offset, part["acc_mean"], width, yerr=part["acc_std"], label=SCENARIO_TITLES.get(scenario, scenario))
        published = part["published_acc"].to_numpy(dtype=float)
        shown = ~np.isnan(published)
        ax.scatter(offset[shown], published[shown], marker="_", s=250, color="black", zorder=3,
                   label="published" if k == 0 else None)
    ax.set_xticks(x, methods)
    ax.set_ylabel("average accuracy after the last task (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    fig.legend(fontsize=8, loc="outside lower center", ncols=len(scenarios) + 1)
    ax.set_title(f"{title}: ours (bars, ± std over seeds) and published (ticks; sources in results.csv)", fontsize=10)
    return fig
