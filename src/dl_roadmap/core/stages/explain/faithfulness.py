"""Deletion curves: does removing the most-attributed pixels first hurt the prediction fastest?

(Pixels of image items here; features.py removes the features of the other kinds, and
reads the explained value instead of a probability where the task chose a value. The
table and figure below serve both.)

For an item x with predicted class c and a pixel order o (most important first), step
k of K sets the first round(k * P / K) pixels of o (all channels) to a baseline value
and records p_c, the softmax probability of c. The curve runs from p_c(x) at 0 removed
to p_c(all baseline) at 100%, and its area

    AUC = integral_0^1 p_c(fraction removed) d fraction    (trapezoid rule)

is lower when the order front-loads the pixels the model relies on. A faithful map
beats the same curve for random orders; every method shares both endpoints, so only
the order between them differs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.stages.explain.attributions import pixel_scores, probabilities


def deletion_order(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat pixel indices by decreasing score. Ties (all pixels of a LIME segment share a
    weight) are broken by a random key from ``rng``, so the order is reproducible."""
    scores = np.asarray(scores, dtype=float).ravel()
    # lexsort sorts by its last key first: -score, then the random tie-breaker.
    return np.lexsort((rng.random(scores.size), -scores))


def deletion_curve(
    model: nn.Module, item: np.ndarray, order: np.ndarray, label: int, *, steps: int, baseline: float,
) -> np.ndarray:
    """p_label after removing 0, 1/steps, ..., all pixels in ``order``: shape (steps + 1,)."""
    item = np.asarray(item, dtype=np.float32)
    height, width = item.shape[-2:]
    planes = item.reshape(-1, height * width)
    removed = np.rint(np.linspace(0, height * width, steps + 1)).astype(int)
    rank = np.empty(height * width, dtype=int)
    rank[order] = np.arange(height * width)
    hidden = rank[None, :] < removed[:, None]  # (steps + 1, pixels): pixel gone at this step
    batch = np.where(hidden[:, None, :], np.float32(baseline), planes[None])
    return probabilities(model, batch.reshape(steps + 1, *item.shape))[:, label]


def deletion_curves(
    model: nn.Module,
    inputs: np.ndarray,
    classes: np.ndarray,
    maps: dict[str, np.ndarray],
    *,
    steps: int,
    baseline: float,
    random_orders: int,
    seed: int,
) -> pd.DataFrame:
    """Deletion curves per item for each method's order and ``random_orders`` random ones.

    Returns:
        Long table: method, example, repeat (random order number; 0 otherwise), step,
        fraction (of pixels removed), probability (of the item's predicted class).
    """
    inputs = np.asarray(inputs)
    scores = {name: pixel_scores(values) for name, values in maps.items()}
    pixels = int(np.prod(inputs.shape[-2:]))
    fractions = np.linspace(0.0, 1.0, steps + 1)
    rows = []
    for i, (item, label) in enumerate(zip(inputs, classes)):
        rng = np.random.default_rng([seed, i])  # one stream per item: same draws whatever the methods
        orders = [(name, 0, deletion_order(score[i], rng)) for name, score in scores.items()]
        orders += [("random", r, rng.permutation(pixels)) for r in range(random_orders)]
        for method, repeat, order in orders:
            curve = deletion_curve(model, item, order, int(label), steps=steps, baseline=baseline)
            rows.append(pd.DataFrame({"method": method, "example": i, "repeat": repeat, "step": np.arange(steps + 1),
                                      "fraction": fractions, "probability": curve}))
    return pd.concat(rows, ignore_index=True)


def curve_aucs(curves: pd.DataFrame) -> pd.DataFrame:
    """AUC per method and example (random orders averaged), columns method, example, auc."""
    mean = curves.pivot_table(index=["method", "example"], columns="fraction", values="probability",
                              aggfunc="mean")
    auc = np.trapezoid(mean.to_numpy(), mean.columns.to_numpy(dtype=float), axis=1)
    return mean.index.to_frame(index=False).assign(auc=auc)


def faithfulness_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Per method: mean deletion AUC (lower = more faithful), its standard error, the
    random-order AUC, their gap, the share of items where the method beats random, and
    the mean probability on the intact and the all-baseline items."""
    aucs = curve_aucs(curves).pivot(index="example", columns="method", values="auc")
    ends = curves.groupby("step")["probability"].mean()
    rows = []
    for method in curves["method"].unique():  # the methods in their order, random last
        auc = aucs[method]
        rows.append({
            "method": method,
            "auc": auc.mean(),
            "auc_sem": auc.std(ddof=1) / np.sqrt(len(auc)) if len(auc) > 1 else 0.0,
            "random_auc": aucs["random"].mean(),
            "auc_gap": (aucs["random"] - auc).mean(),
            "win_rate": (auc < aucs["random"]).mean(),
            "intact_probability": ends.iloc[0],
            "baseline_probability": ends.iloc[-1],
            "n_examples": len(auc),
        })
    return pd.DataFrame(rows)


def deletion_figure(
    curves: pd.DataFrame, table: pd.DataFrame, unit: str = "pixels",
    quantity: str | None = "probability of the predicted class",
) -> Figure:
    """Mean deletion curve per method with a +-1 standard-error band; AUCs in the legend.
    ``unit`` names what is removed; ``quantity`` what the curve reads (None: the explained
    value, on a free vertical scale)."""
    aucs = table.set_index("method")["auc"]
    figure = Figure(figsize=(6.0, 4.3), layout="constrained")
    ax = figure.subplots()
    per_item = curves.groupby(["method", "example", "fraction"], sort=False)["probability"].mean().reset_index()
    for method, group in per_item.groupby("method", sort=False):
        stats = group.groupby("fraction")["probability"].agg(["mean", "sem"]).fillna(0.0)
        style = "--" if method == "random" else "-"
        colour = "grey" if method == "random" else None
        line, = ax.plot(stats.index, stats["mean"], style, color=colour, label=f"{method} (AUC {aucs[method]:.3f})")
        ax.fill_between(stats.index, stats["mean"] - stats["sem"], stats["mean"] + stats["sem"],
                        color=line.get_color(), alpha=0.2)
    ax.set(xlabel=f"fraction of {unit} removed (set to the baseline)", ylabel=quantity or "explained value",
           title=f"deletion curves, mean over {curves['example'].nunique()} test items (lower = more faithful)",
           xlim=(0, 1))
    if quantity is not None:  # a probability
        ax.set_ylim(0, 1.02)
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.legend()
    return figure
