"""Figures of sequence_models: exact match against input length, attention maps, training curves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dl_roadmap.core.plotting import training_curves
from dl_roadmap.text.vocab import CharVocab


def accuracy_by_length_figure(by_length: pd.DataFrame) -> Figure:
    """Test exact match per input-length bin, one line per model, with the bins' sizes."""
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = figure.subplots()
    for name, group in by_length.groupby("model", sort=False):
        ax.plot(group["bin"], group["exact_match"], marker="o", label=name)
    counts = by_length.drop_duplicates("bin")
    ax.set_xticks(range(len(counts)), [f"{b}\n(n={c})" for b, c in zip(counts["bin"], counts["count"])], fontsize=8)
    ax.set(xlabel="input length (characters)", ylabel="test exact match",
           title="date normalisation: exact match against input length")
    ax.grid(alpha=0.3)
    ax.legend()
    return figure


def attention_figure(bundle: dict[str, Any], texts: list[str]) -> Figure:
    """Attention weights of every attention model (rows) on a few test inputs (columns):
    output character (y) against input character (x)."""
    from dl_roadmap.pipelines.sequence_models.nodes import decode_texts

    source, target = CharVocab(bundle["source_chars"]), CharVocab(bundle["target_chars"])
    names = [n for n, c in bundle["configs"].items() if c.get("attention") != "none"]
    widths = [max(len(t), 8) for t in texts]
    figure = Figure(figsize=(0.2 * sum(widths) + 2, 2.6 * max(len(names), 1) + 0.6), layout="constrained")
    axes = figure.subplots(max(len(names), 1), len(texts), squeeze=False, width_ratios=widths)
    for row, name in enumerate(names):
        outputs, maps = decode_texts(bundle["models"][name], texts, source, target)
        for col, (text, output, weights) in enumerate(zip(texts, outputs, maps)):
            ax = axes[row, col]
            ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(len(text)), list(text), fontsize=6)
            ax.set_yticks(range(len(output)), list(output), fontsize=7)
            if col == 0:
                ax.set_ylabel(name, fontsize=9)
    figure.suptitle("attention: output character (rows) reads input characters (columns)")
    return figure


def heatmap_examples(pairs: pd.DataFrame, count: int, seed: int) -> list[str]:
    """``count`` test inputs of different forms and lengths (the longest form among them)."""
    test = pairs[pairs["split"] == "test"]
    rng = np.random.default_rng(seed)
    picks = [str(group.iloc[int(rng.integers(len(group)))]["input"]) for _, group in test.groupby("form")]
    longest = str(test.loc[test["input"].str.len().idxmax(), "input"])
    return ([longest] + picks)[:count]


def curves_figure(histories: pd.DataFrame) -> Figure:
    """Loss (top) and accuracies (bottom) per epoch, one column per model."""
    return training_curves({name: group.drop(columns="model") for name, group in histories.groupby("model", sort=False)})


def attention_maps_figure(bundle: dict[str, Any], pairs: pd.DataFrame, heatmaps: dict[str, Any]) -> Figure:
    """The attention figure on ``heatmaps.examples`` test inputs drawn with ``heatmaps.seed``."""
    return attention_figure(bundle, heatmap_examples(pairs, int(heatmaps["examples"]), int(heatmaps["seed"])))
