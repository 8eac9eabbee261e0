"""The figures of regularization (matplotlib Figures, no pyplot state)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def gap_figure(results: pd.DataFrame) -> Figure:
    """Train and test accuracy per variant (best test first), the gap written above."""
    figure = Figure(figsize=(1.3 * len(results) + 3, 4.8), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(results))
    ax.bar(x - 0.2, results["train_acc"], 0.4, label="train (whole small set)", color="C0")
    ax.bar(x + 0.2, results["test_acc"], 0.4, label="test", color="C1")
    for i, row in enumerate(results.itertuples()):
        ax.text(i, max(row.train_acc, row.test_acc) + 0.004, f"gap {row.gap:.3f}", ha="center", fontsize=8)
    low = max(0.0, float(results[["train_acc", "test_acc"]].min().min()) - 0.05)
    ax.set(xticks=x, xticklabels=results["variant"], ylim=(low, 1.02), ylabel="accuracy",
           title="train vs test accuracy on the small training set (gap = train - test)")
    ax.tick_params(axis="x", rotation=20)
    ax.grid(axis="y", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=2)
    return figure


def curves_figure(histories: pd.DataFrame) -> Figure:
    """One panel per variant: training accuracy (running mean over the epoch, with the
    regulariser active) and validation accuracy against epochs."""
    variants = list(dict.fromkeys(histories["variant"]))
    cols = min(4, len(variants))
    rows = math.ceil(len(variants) / cols)
    figure = Figure(figsize=(3.6 * cols, 2.9 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)).ravel()
    for ax, variant in zip(axes, variants):
        history = histories[histories["variant"] == variant]
        ax.plot(history["epoch"] + 1, history["train_acc"], label="train", color="C0")
        ax.plot(history["epoch"] + 1, history["val_acc"], "--", label="validation", color="C1")
        ax.set(title=variant)
        ax.grid(alpha=0.3)
    for ax in axes[len(variants):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    figure.supxlabel("epoch")
    figure.supylabel("accuracy")
    return figure


def validation_loss_figure(histories: pd.DataFrame) -> Figure:
    """Validation cross-entropy of every variant against epochs: where it turns up, the
    network has started to memorise the training set."""
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = figure.subplots()
    for index, (variant, history) in enumerate(histories.groupby("variant", sort=False)):
        ax.plot(history["epoch"] + 1, history["val_loss"], label=variant, color=f"C{index}")
    ax.set(xlabel="epoch", ylabel="validation cross-entropy", title="validation loss (no penalty terms)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return figure


def weight_decay_figure(sweep: pd.DataFrame) -> Figure:
    """Adam + L2 in the loss against AdamW over the same coefficients: test accuracy
    (left) and the norm of the weights (right)."""
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2, sharex=True)
    for method, group in sweep.groupby("method", sort=False):
        group = group.sort_values("coefficient")
        left.plot(group["coefficient"], group["test_acc"], marker="o", label=method)
        right.plot(group["coefficient"], group["weight_l2"], marker="o", label=method)
    left.set(xscale="log", xlabel="coefficient lambda", ylabel="test accuracy", title="test accuracy")
    right.set(xscale="log", xlabel="coefficient lambda", ylabel="||W||_2", yscale="log", title="weight norm after training")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle("same lambda, two meanings: L2 gradient through Adam vs decoupled decay (AdamW)")
    return figure


def fold_scores_figure(fold_scores: pd.DataFrame, summary: pd.DataFrame) -> Figure:
    """Every fold's held-out accuracy per candidate (dots), mean +- std (bars), the
    chosen candidate marked, and the retrained model's test accuracy."""
    figure = Figure(figsize=(6.8, 4.6), layout="constrained")
    ax = figure.subplots()
    candidates = list(summary["candidate"])
    x = np.arange(len(candidates))
    for i, candidate in enumerate(candidates):
        scores = fold_scores.loc[fold_scores["candidate"] == candidate, "held_out_acc"]
        ax.scatter(np.full(len(scores), i) + np.linspace(-0.08, 0.08, len(scores)), scores, color="grey", s=18,
                   zorder=3, label="one fold" if i == 0 else None)
    colours = ["C3" if chosen else "C0" for chosen in summary["chosen"]]
    for i, (mean, std, colour) in enumerate(zip(summary["mean"], summary["std"].fillna(0), colours)):
        ax.errorbar(i, mean, yerr=std, fmt="none", ecolor=colour, capsize=6, lw=2)
    ax.scatter(x, summary["mean"], c=colours, s=50, zorder=4, marker="D", label="mean +- std (red: chosen)")
    retrained = summary.loc[summary["chosen"], "retrained_test_acc"]
    if len(retrained):
        ax.scatter(x[summary["chosen"].to_numpy()], retrained, marker="*", s=160, color="C2", zorder=5,
                   label="chosen, retrained on all folds: test")
    ax.set(xticks=x, xticklabels=[str(c) for c in candidates], xlabel=str(summary["parameter"].iloc[0]),
           ylabel="accuracy", title=f"{fold_scores['fold'].nunique()}-fold cross-validation on the small training set")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def ensemble_figure(curve: pd.DataFrame) -> Figure:
    """Test accuracy against ensemble size: bagged and boosted MLPs against the single
    network (left), scikit-learn's gradient boosting against its iterations (right)."""
    figure = Figure(figsize=(11, 4.4), layout="constrained")
    left, right = figure.subplots(1, 2)
    single = curve.loc[curve["method"] == "single", "test_acc"]
    for method, label in (("bagging", "bagging (averaged probabilities)"), ("samme_mlp", "SAMME with small MLPs")):
        group = curve[curve["method"] == method]
        if len(group):
            left.plot(group["size"], group["test_acc"], marker="o", label=label)
            left.plot(group["size"], group["member_test_acc"], linestyle=":", marker=".", alpha=0.6,
                      color=left.lines[-1].get_color(), label=f"{method}: each member alone")
    if len(single):
        left.axhline(float(single.iloc[0]), color="black", linestyle="--", label="single network (whole set)")
    left.set(xlabel="ensemble size", ylabel="test accuracy", title="network ensembles")
    hgb = curve[curve["method"] == "hist_gradient_boosting"]
    right.plot(hgb["size"], hgb["test_acc"], label="test")
    right.plot(hgb["size"], hgb["train_acc"], "--", label="train")
    if len(single):
        right.axhline(float(single.iloc[0]), color="black", linestyle="--", label="single network")
    right.set(xlabel="boosting iterations (one tree per class each)", ylabel="accuracy",
              title="HistGradientBoosting on the pixels")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return figure
