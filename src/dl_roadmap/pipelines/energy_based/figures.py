"""Figures of energy_based (matplotlib Figures the catalog saves and MLflow keeps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.plotting import image_grid
from dl_roadmap.pipelines.energy_based.rbm import RBM


def filters_figure(models: dict[str, RBM], params: dict[str, Any]) -> Figure:
    """The first ``count`` hidden units' weights W_:j of the generator RBM, as 28x28 images."""
    w = models[params["model"]].W.T[: params["count"]].numpy()
    cols = 10
    rows = -(-len(w) // cols)
    figure = Figure(figsize=(cols * 0.9, rows * 0.9 + 0.5), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax, i in zip(axes.flat, range(rows * cols)):
        ax.set_xticks([]), ax.set_yticks([])
        if i < len(w):
            limit = np.abs(w[i]).max()
            ax.imshow(w[i].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
    figure.suptitle(f"RBM filters ({params['model']}): weights into hidden units (red +, blue -)")
    return figure


def likelihood_figure(history: pd.DataFrame, likelihoods: pd.DataFrame) -> Figure:
    """Pseudo-log-likelihood per epoch (validation rows), and the AIS test log-likelihood
    with its band beside the published figures."""
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    for method, group in history.groupby("method", sort=False):
        left.plot(group["epoch"], group["pseudo_log_likelihood"], marker="o", label=method)
    left.set(xlabel="epoch", ylabel="pseudo-log-likelihood (nats)", title="training: validation pseudo-LL")
    left.legend(), left.grid(alpha=0.3)
    x = np.arange(len(likelihoods))
    err = np.vstack([likelihoods["test_ll"] - likelihoods["test_ll_low"].clip(lower=-1e4),
                     likelihoods["test_ll_high"] - likelihoods["test_ll"]])
    right.bar(x, likelihoods["test_ll"], yerr=err, color="tab:blue", label="ours (AIS, +- 3 s.e. of Z)")
    published = likelihoods["published_test_ll_500h"]
    right.scatter(x[published.notna()], published[published.notna()], color="tab:red", zorder=3, marker="_", s=600,
                  label="Salakhutdinov & Murray 2008, 500 hidden")
    right.set_xticks(x, likelihoods["method"])
    right.set(ylabel="test log-likelihood (nats)", title="AIS log-likelihood of the test images")
    right.legend(fontsize=8), right.grid(alpha=0.3, axis="y")
    return figure


def chains_figure(chains: dict[str, np.ndarray]) -> Figure:
    """One row per snapshot step of the Gibbs chains from random pixels."""
    return image_grid({f"step {s}": images for s, images in zip(chains["steps"], chains["images"])},
                      title="Gibbs chains from uniformly random pixels: p(v | h)")


def inpainting_figure(images: dict[str, np.ndarray]) -> Figure:
    """Truth, the occluded input (grey = hidden) and each RBM's completion."""
    return image_grid(images, title="Inpainting: the bottom half hidden, filled by Gibbs sampling")


def hopfield_figure(capacity: pd.DataFrame, trace: pd.DataFrame, pictures: dict[str, np.ndarray]) -> Figure:
    """Recall rate and overlap against the load P/N (0.138 marked), the energy during the
    asynchronous updates of the recall demo, and the demo's patterns."""
    figure = Figure(figsize=(14, 4.2), layout="constrained")
    left, middle, right = figure.subfigures(1, 3, width_ratios=[1.1, 1.1, 1])
    ax = left.subplots()
    ax.plot(capacity["load"], capacity["recall_rate"], marker="o", label="recall rate (overlap >= threshold)")
    ax.plot(capacity["load"], capacity["mean_overlap"], marker="s", label="mean final overlap")
    ax.axvline(0.138, color="gray", linestyle="--", label="alpha_c = 0.138 (AGS 1985)")
    ax.set(xlabel="load P / N", ylabel="", title="capacity (random patterns)")
    ax.legend(fontsize=8), ax.grid(alpha=0.3)
    ax = middle.subplots()
    for column in trace.columns[1:]:
        ax.plot(trace["update"], trace[column], lw=1)
    ax.set(xlabel="single-neuron update", ylabel="E(s) = -1/2 s'Ws", title="energy never increases")
    ax.grid(alpha=0.3)
    axes = right.subplots(3, len(pictures["stored"]), squeeze=False)
    for r, key in enumerate(("stored", "corrupted", "recalled")):
        for c, image in enumerate(pictures[key]):
            axes[r, c].imshow(image, cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(key, fontsize=8)
    right.suptitle("associative recall", fontsize=10)
    return figure


def dbn_figure(runs: pd.DataFrame) -> Figure:
    """Test accuracy per seed, DBN-pretrained against from scratch."""
    figure = Figure(figsize=(5.5, 4), layout="constrained")
    ax = figure.subplots()
    for i, (start, group) in enumerate(runs.groupby("start", sort=False)):
        ax.scatter(np.full(len(group), i), 100 * group["test_acc"], s=40)
        ax.errorbar(i + 0.15, 100 * group["test_acc"].mean(), yerr=100 * group["test_acc"].std(ddof=1) if len(group) > 1
                    else 0, fmt="o", color="black", capsize=4)
    ax.set_xticks(range(runs["start"].nunique()), list(dict.fromkeys(runs["start"])))
    ax.set(ylabel="test accuracy (%)", title=f"{int(runs['labels'].iloc[0])} labels: DBN pretraining vs scratch")
    ax.grid(alpha=0.3, axis="y")
    return figure


def yardstick_figure(table: pd.DataFrame) -> Figure:
    from dl_roadmap.image.yardstick import plot_yardstick

    return plot_yardstick(table)
