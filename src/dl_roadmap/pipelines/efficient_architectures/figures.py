"""The area's figures (matplotlib, no pyplot: the catalog saves them, MLflow keeps them)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

_COSTS = (("macs", "multiply-adds per image (FlopCounterMode)"), ("params", "parameters"),
          ("latency_ms", "CPU latency, batch 1, 1 thread (ms)"))


def pareto_figure(table: pd.DataFrame) -> Figure:
    """Test accuracy against MACs, parameters and latency, one point per network; the
    accuracy/cost Pareto front joined by a line in each panel."""
    figure = Figure(figsize=(15, 4.6), layout="constrained")
    axes = figure.subplots(1, len(_COSTS), sharey=True)
    for ax, (column, label) in zip(axes, _COSTS):
        for i, row in table.reset_index(drop=True).iterrows():
            ax.scatter(row[column], 100 * row["test_acc"], s=60, color=f"C{i}", zorder=3)
            ax.annotate(row["network"], (row[column], 100 * row["test_acc"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")
        front = table.sort_values(column)
        front = front[front["test_acc"] >= front["test_acc"].cummax()]
        ax.step(front[column], 100 * front["test_acc"], where="post", color="grey", alpha=0.6)
        ax.scatter(front[column], 100 * front["test_acc"], s=220, facecolors="none", edgecolors="grey",
                   label="Pareto front (no network both cheaper and more accurate)")
        if column == "latency_ms":  # spans decades; counts do not
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1e6:g} M"))
        ax.set_xlabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("Fashion-MNIST test accuracy (%)")
    axes[0].legend(fontsize=8)
    figure.suptitle("Small efficient networks on 28x28 Fashion-MNIST: accuracy against cost")
    return figure


def curves_figure(**histories: pd.DataFrame) -> Figure:
    """Validation accuracy and training loss per epoch of every trained network."""
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    for name, history in histories.items():
        epochs = history["epoch"] + 1
        left.plot(epochs, 100 * history["val_acc"], marker="o", label=name)
        right.plot(epochs, history["train_loss"], marker="o", label=name)
    left.set(xlabel="epoch", ylabel="validation accuracy (%)", title="validation accuracy")
    right.set(xlabel="epoch", ylabel="cross-entropy", title="training loss")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return figure


def imagenet_figure(table: pd.DataFrame) -> Figure:
    """Our parameter count and MACs at 224 x 224 over the published ones (1 = equal)."""
    figure = Figure(figsize=(9, 4), layout="constrained")
    ax = figure.subplots()
    x = range(len(table))
    ax.bar([i - 0.2 for i in x], table["params"] / table["published_params"], 0.4, label="parameters / published")
    ax.bar([i + 0.2 for i in x], table["macs_ratio"], 0.4, label="MACs / published")
    for i, row in table.reset_index(drop=True).iterrows():
        ax.annotate(f"{row['params'] / 1e6:.3f} M\n{row['macs_millions']:.0f} M MACs", (i, 1.0), ha="center",
                    fontsize=7, xytext=(0, 6), textcoords="offset points")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set(xticks=list(x), xticklabels=table["network"], ylim=(0.9, 1.1), ylabel="ours / published",
           title="The networks built at 224x224, 1000 classes, against the published counts")
    ax.legend(fontsize=8, loc="lower right")
    return figure


def quantization_figure(accuracy: pd.DataFrame, layers: pd.DataFrame) -> Figure:
    """Left: test accuracy fp32 / int8 per tensor / int8 per channel. Right: each folded
    convolution's weight SQNR per tensor against per channel, by kind of convolution."""
    figure = Figure(figsize=(12, 4.4), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.6])
    left.bar(accuracy["scheme"], 100 * accuracy["test_acc"], color=["C7", "C3", "C2"][: len(accuracy)])
    for i, value in enumerate(accuracy["test_acc"]):
        left.annotate(f"{100 * value:.2f}%", (i, 100 * value), ha="center", xytext=(0, 3), textcoords="offset points")
    left.set(ylabel="test accuracy (%)", title="MobileNet V2, static int8", ylim=(0, 105))
    for kind, marker in (("depthwise", "o"), ("pointwise", "s"), ("full", "^")):
        group = layers[layers["kind"] == kind]
        if len(group):
            right.scatter(group["sqnr_per_channel_db"], group["sqnr_per_tensor_db"], marker=marker, label=kind, s=30)
    low = min(layers["sqnr_per_tensor_db"].min(), layers["sqnr_per_channel_db"].min()) - 2
    high = max(layers["sqnr_per_tensor_db"].max(), layers["sqnr_per_channel_db"].max()) + 2
    right.plot([low, high], [low, high], color="grey", linewidth=0.8, label="equal")
    right.set(xlabel="weight SQNR per channel (dB)", ylabel="weight SQNR per tensor (dB)",
              title="int8 weight error per layer (BatchNorm folded)")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    return figure
