"""Per-feature attributions and deletion curves for items that are not images.

Kinds and what one attribution covers (``F`` features, names from the task):

- ``tabular``, ``observation``: items (N, F), one score per feature;
- ``sequence``: items (N, T, F) (or (N, T), one feature), one score per time step and
  feature; the figure also sums them over time;
- ``nodes``: one graph's node features (V, F) and a model returning one row per node; node
  ``i`` is explained over the whole graph and its scores are summed over nodes, giving one
  score per feature (and, summed over features, one per node: which nodes matter).

Methods: SHAP's expected gradients (attributions.shap_maps: GradientExplainer, for any
item shape), gradient x input ((x - baseline) * df/dx, the first-order picture that
integrated gradients refine), and LIME's tabular explainer for ``tabular`` and
``observation`` (it perturbs features around the item with the background's statistics).

Deletion: for each item the features (sequences: time-feature elements; nodes: feature
columns of the whole graph) are set to the baseline in order of attribution, most
positive first, and the explained output is read as for images (faithfulness.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.core.stages.explain.attributions import shap_maps
from dl_roadmap.core.stages.explain.faithfulness import deletion_order
from dl_roadmap.core.stages.explain.target import VALUE, NodeView, readouts

BATCHED = ("tabular", "observation", "sequence")
LIME_KINDS = ("tabular", "observation")


def _scored(model: nn.Module, inputs: torch.Tensor, classes: np.ndarray) -> torch.Tensor:
    """The explained output of each row, differentiable: (N,)."""
    out = model(inputs)
    return out[torch.arange(len(out)), torch.as_tensor(classes, dtype=torch.long)]


def gradient_x_input(model: nn.Module, inputs: np.ndarray, classes: np.ndarray, baseline: float) -> np.ndarray:
    """(x - baseline) * d output_c / d x for each item of a batched model, shaped like ``inputs``."""
    model.eval()
    x = torch.as_tensor(inputs, dtype=torch.float32).clone().requires_grad_(True)
    with torch.enable_grad():
        gradient, = torch.autograd.grad(_scored(model, x, classes).sum(), x)
    return ((x.detach() - baseline) * gradient).numpy().astype(np.float32)


def node_maps(
    method: str, model: nn.Module, graph: np.ndarray, nodes: np.ndarray, classes: np.ndarray, *,
    background: np.ndarray, baseline: float, n_samples: int = 0, batch_size: int = 1, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``shap`` or ``gradient_x_input`` of each node's explained output over the graph.

    Returns:
        Per-feature scores (N, F) (summed over the graph's nodes) and per-node scores
        (N, V) (summed over features).
    """
    features, per_node = [], []
    for node, label in zip(nodes, classes):
        view = NodeView(model, int(node)).eval()
        if method == "shap":
            full = shap_maps(view, graph[None], background, np.array([label]), n_samples=n_samples,
                             batch_size=batch_size, seed=seed)[0]
        else:
            full = gradient_x_input(view, graph[None], np.array([label]), baseline)[0]
        features.append(full.sum(axis=0))
        per_node.append(full.sum(axis=1))
    return np.asarray(features, dtype=np.float32), np.asarray(per_node, dtype=np.float32)


def lime_feature_maps(
    model: nn.Module, inputs: np.ndarray, background: np.ndarray, classes: np.ndarray, names: list[str], *,
    num_samples: int, num_features: int | None, seed: int,
) -> np.ndarray:
    """LIME tabular weights of each item's explained output, (N, F).

    A classifier's class probability is explained in classification mode, a chosen value
    in regression mode. Features are perturbed around the item (``sample_around_instance``)
    with the background's standard deviations, so the weights are local slopes.
    """
    from lime.lime_tabular import LimeTabularExplainer

    model.eval()
    readouts(model, inputs[:1])  # a ChosenOutput learns its readout (value or class) on its first call
    values = getattr(model, "readout", None) == VALUE
    maps = np.zeros(inputs.shape, dtype=np.float32)
    for i, (item, label) in enumerate(zip(inputs, classes)):
        explainer = LimeTabularExplainer(
            background, mode="regression" if values else "classification", feature_names=names,
            discretize_continuous=False, sample_around_instance=True,
            random_state=np.random.RandomState([seed, i]),
        )
        predict = (lambda rows: readouts(model, rows.astype(np.float32))[:, 0]) if values else \
            (lambda rows: readouts(model, rows.astype(np.float32)))
        explanation = explainer.explain_instance(
            item, predict, labels=(int(label),), num_features=num_features or len(names), num_samples=num_samples,
        )
        # Regression explanations keep their signed weights under label 1.
        for feature, weight in explanation.local_exp[1 if values else int(label)]:
            maps[i, feature] = weight
    return maps


def unit_deletion_curves(
    model: nn.Module, items: list[np.ndarray], units: np.ndarray, scores: dict[str, np.ndarray], classes: np.ndarray,
    *, steps: int, baseline: float, random_orders: int, seed: int, views: list[nn.Module] | None = None,
) -> pd.DataFrame:
    """Deletion curves per item over ``units``: the unit id of each element of an item
    (tabular: arange(F); sequence: arange(T*F); nodes: the feature column of every element
    of the graph), each method's order from its unit scores and ``random_orders`` random ones.

    Args:
        model: the explained model (batched kinds).
        items: each item's input, the array its elements are removed from.
        units: unit id per element, shaped like an item.
        scores: method -> (N, U) unit scores.
        classes: the explained class per item.
        views: per-item models (nodes: ``NodeView``), instead of ``model``.
    Returns:
        Long table: method, example, repeat, step, fraction, probability (the readout).
    """
    count = int(units.max()) + 1
    fractions = np.linspace(0.0, 1.0, steps + 1)
    removed = np.rint(np.linspace(0, count, steps + 1)).astype(int)
    rows = []
    for i, (item, label) in enumerate(zip(items, classes)):
        rng = np.random.default_rng([seed, i])  # one stream per item: same draws whatever the methods
        orders = [(name, 0, deletion_order(score[i], rng)) for name, score in scores.items()]
        orders += [("random", r, rng.permutation(count)) for r in range(random_orders)]
        reader = views[i] if views is not None else model
        for method, repeat, order in orders:
            rank = np.empty(count, dtype=int)
            rank[order] = np.arange(count)
            hidden = rank[units][None] < removed.reshape(-1, *[1] * units.ndim)  # (steps + 1, *item)
            batch = np.where(hidden, np.float32(baseline), np.asarray(item, dtype=np.float32)[None])
            curve = readouts(reader, batch)[:, int(label)]
            rows.append(pd.DataFrame({"method": method, "example": i, "repeat": repeat, "step": np.arange(steps + 1),
                                      "fraction": fractions, "probability": curve}))
    return pd.concat(rows, ignore_index=True)


def units_of(kind: str, item_shape: tuple[int, ...]) -> np.ndarray:
    """The deletion unit of each element of an item (see unit_deletion_curves)."""
    if kind == "nodes":  # (V, F): a feature is removed from every node at once
        return np.broadcast_to(np.arange(item_shape[-1]), item_shape)
    return np.arange(int(np.prod(item_shape))).reshape(item_shape)
