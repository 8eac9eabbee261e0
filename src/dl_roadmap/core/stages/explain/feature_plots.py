"""The attribution figure of non-image items, labelled with the task's feature names.

- left: mean |attribution| per feature for each method, each method's bars scaled to sum
  to 1 so methods of different units compare (the top 20 features by SHAP);
- middle: signed SHAP score of each explained item (rows) and feature (columns), red for
  the explained output, blue against; for sequences, mean |SHAP| over the items by time
  step (rows) and feature (columns) instead;
- right, nodes only: mean |SHAP| per node of the graph (the top 20 nodes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

TOP = 20


def _per_feature(maps: np.ndarray, kind: str) -> np.ndarray:
    """Mean |score| per feature over items (and time steps for a sequence)."""
    scores = np.abs(np.asarray(maps, dtype=float))
    if kind == "sequence" and scores.ndim == 2:  # univariate (N, T): one feature
        scores = scores[..., None]
    return scores.reshape(-1, scores.shape[-1]).mean(axis=0)


def feature_figure(kind: str, attributions: dict[str, Any], methods: tuple[str, ...]) -> Figure:
    """See the module docstring."""
    names = list(attributions["names"])
    importance = {m: _per_feature(attributions[m], kind) for m in methods}
    top = np.argsort(-importance["shap"])[:TOP]
    panels = 3 if kind == "nodes" else 2
    figure = Figure(figsize=(5.2 * panels, 0.28 * len(top) + 2.6), layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False)[0]

    height = 0.8 / len(methods)
    for j, method in enumerate(methods):
        share = importance[method] / (importance[method].sum() or 1.0)
        axes[0].barh(np.arange(len(top)) + j * height, share[top], height, label=method)
    axes[0].set_yticks(np.arange(len(top)) + height * (len(methods) - 1) / 2, [names[i] for i in top], fontsize=7)
    axes[0].invert_yaxis()
    axes[0].set(xlabel="share of mean |attribution|", title="features by importance (top: most)")
    axes[0].legend(fontsize=7)

    shap = np.asarray(attributions["shap"], dtype=float)
    if kind == "sequence":
        grid = np.abs(shap if shap.ndim == 3 else shap[..., None]).mean(axis=0)  # (T, F)
        image = axes[1].imshow(grid, aspect="auto", cmap="viridis")
        axes[1].set(xlabel="feature", ylabel="time step", title="mean |SHAP| by time step and feature")
        axes[1].set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    else:
        limit = float(np.abs(shap).max()) or 1.0
        image = axes[1].imshow(shap[:, top], aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1].set_xticks(range(len(top)), [names[i] for i in top], rotation=90, fontsize=7)
        axes[1].set(ylabel="explained item" if kind != "nodes" else "explained node",
                    title="SHAP per item (red = for, blue = against)")
        axes[1].set_yticks(range(len(shap)), [str(i) for i in attributions["indices"]], fontsize=6)
    figure.colorbar(image, ax=axes[1], shrink=0.8)

    if kind == "nodes":
        per_node = np.abs(attributions["shap_nodes"]).mean(axis=0)
        order = np.argsort(-per_node)[:TOP]
        axes[2].barh(range(len(order)), per_node[order], color="C2")
        axes[2].set_yticks(range(len(order)), [str(i) for i in order], fontsize=7)
        axes[2].invert_yaxis()
        axes[2].set(xlabel="mean |SHAP| over the explained nodes", ylabel="graph node",
                    title="nodes that matter most")
    what = "the explained value" if attributions.get("readout") == "value" else "the explained class"
    figure.suptitle(f"{kind} attributions of {what}, {len(attributions['indices'])} items", fontsize=9)
    return figure
