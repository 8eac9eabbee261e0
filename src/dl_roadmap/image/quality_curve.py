"""Quality against diversity: a generator's samples on the shared yardstick as one knob moves.

Generators trade fidelity for diversity with one scalar: Glow's temperature T (z ~ N(0, T^2 I)),
StyleGAN's truncation psi (w = w_avg + psi (w - w_avg)), BigGAN's truncation threshold (z
resampled until |z_i| <= threshold). Each setting's samples are scored with the yardstick:
FID (both), precision (fidelity) and recall (diversity); the curve is the trade-off.

    curve = quality_curve(stick, lambda value, g: model.sample(n, g, psi=value), [0.5, 1.0], "psi", "StyleGAN")
    figure = quality_curve_figure(curve, "psi")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure

FIGURES = ("fid", "precision", "recall", "mean_confidence")


def quality_curve(stick: Any, sample: Callable[[float, torch.Generator], torch.Tensor], values: Sequence[float],
                  knob: str, model: str, seed: int = 0) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Score ``sample(value, generator)`` at each value (the same seed for every value).

    Returns:
        The curve (model, <knob>, fid, precision, recall, mean_confidence) and the yardstick
        rows, each named "<model> <knob>=<value>".
    """
    rows, curve = [], []
    for value in values:
        images = sample(float(value), torch.Generator().manual_seed(seed))
        row = stick.score(images, name=f"{model} {knob}={value:g}")
        rows.append(row)
        curve.append({"model": model, knob: float(value), **{key: row[key] for key in FIGURES}})
    return pd.DataFrame(curve), rows


def quality_curve_figure(curve: pd.DataFrame, knob: str, title: str = "") -> Figure:
    """FID, precision and recall against the knob, one line per model."""
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    for model, group in curve.groupby("model", sort=False):
        group = group.sort_values(knob)
        for ax, key in zip(axes, FIGURES):
            ax.plot(group[knob], group[key], marker="o", label=str(model))
    for ax, name in zip(axes, ("FID (lower is better)", "precision (fidelity)", "recall (diversity)")):
        ax.set(xlabel=knob, title=name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    return figure
