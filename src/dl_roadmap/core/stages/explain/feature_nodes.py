"""Nodes of the explain stage for items that are not images: sequences, tabular features,
node features and agent observations (features.py says what each method computes).

Same parameter blocks as the image nodes (nodes.py); ``lime`` applies to ``tabular`` and
``observation`` only (its ``cell`` and ``batch_size`` are the image explainer's). The task
gives the kind (``StageTask.input_kind``), the feature names and, where the model is not a
classifier, the chosen output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.stages.explain.attributions import shap_maps
from dl_roadmap.core.stages.explain.examples import (
    background_items, pick_items, predict_items, real_valued, single_input,
)
from dl_roadmap.core.stages.explain.faithfulness import deletion_figure
from dl_roadmap.core.stages.explain.feature_plots import feature_figure
from dl_roadmap.core.stages.explain.features import (
    gradient_x_input, lime_feature_maps, node_maps, unit_deletion_curves, units_of,
)
from dl_roadmap.core.stages.explain.nodes import checked_baseline, checked_seed, settings
from dl_roadmap.core.stages.explain.target import VALUE, NodeView, chosen_classes, readouts
from dl_roadmap.core.stages.task import StageTask

UNITS = {"tabular": "features", "observation": "features", "sequence": "time-feature elements",
         "nodes": "features (on every node)"}


def methods_of(kind: str) -> tuple[str, ...]:
    """The attribution methods the stage runs for a kind, in table order."""
    return ("shap", "gradient_x_input", "lime") if kind in ("tabular", "observation") else ("shap", "gradient_x_input")


def select_feature_items(
    task: StageTask, area: str, data: Any, model: nn.Module, params: dict[str, Any] | None, seed: int,
) -> dict[str, Any]:
    """The items to explain with their explained class (or value) and feature names.

    Returns:
        select_examples' keys, plus ``names`` (one per feature) and, for ``nodes``,
        ``graph`` (V, F); there ``indices`` are the explained nodes and ``inputs`` their rows.
    """
    config, seed = settings(params, "examples", area), checked_seed(seed, area)
    where, kind = f"{area}.explain", task.input_kind
    if kind == "nodes":
        graph = torch.as_tensor(real_valued(single_input(task.inputs(data), where), where))
        if graph.dim() != 2:
            raise ValueError(f"{where}: input kind 'nodes' needs the node-feature matrix (V, F), "
                             f"got shape {tuple(graph.shape)}")
        outputs = readouts(model, graph, batch_size=len(graph))  # one call: the graph is one input
        classes = chosen_classes(model, graph, outputs)
        nodes = np.sort(np.random.default_rng(seed).choice(len(graph), size=min(config["count"], len(graph)),
                                                           replace=False))
        items = {"inputs": graph.numpy()[nodes], "labels": np.full(len(nodes), -1), "indices": nodes,
                 "predicted": classes[nodes], "probability": outputs[nodes, classes[nodes]],
                 "readout": getattr(model, "readout", "softmax"), "graph": graph.numpy()}
    else:
        items = predict_items(model, pick_items(task, data, config, seed, where))
        allowed, shape = ((2, 3), "(T, F) or (T,)") if kind == "sequence" else ((2,), "(F,)")
        if items["inputs"].ndim not in allowed:
            raise ValueError(f"{where}: input kind {kind!r} needs items shaped {shape}, got {items['inputs'].shape[1:]}")
    if kind == "nodes":
        features = items["graph"].shape[-1]
    else:  # a univariate sequence (N, T) has one feature
        features = 1 if kind == "sequence" and items["inputs"].ndim == 2 else items["inputs"].shape[-1]
    names = task.features(data)
    if names is None or len(names) != features:
        raise ValueError(f"{where}: StageTask.feature_names gives {None if names is None else len(names)} names; "
                         f"the inputs have {features} features")
    return {**items, "names": names}


def explain_features_with_shap(
    task: StageTask, area: str, model: nn.Module, data: Any, examples: dict[str, Any],
    params: dict[str, Any] | None, baseline: float, seed: int,
) -> dict[str, np.ndarray]:
    """SHAP (expected gradients) of each item's explained output: ``maps`` shaped like the
    items (nodes: (N, F)), and ``nodes`` (N, V) for the node kind."""
    config, seed, baseline = settings(params, "shap", area), checked_seed(seed, area), checked_baseline(baseline, area)
    if task.input_kind == "nodes":
        graph = examples["graph"]
        background = (background_items(task, data, config["background"], seed, f"{area}.explain")
                      if task.background_inputs is not None else np.full((1, *graph.shape), baseline, np.float32))
        maps, per_node = node_maps("shap", model, graph, examples["indices"], examples["predicted"],
                                   background=background, baseline=baseline, n_samples=config["n_samples"],
                                   batch_size=config["batch_size"], seed=seed)
        return {"maps": maps, "nodes": per_node}
    background = background_items(task, data, config["background"], seed, f"{area}.explain")
    return {"maps": shap_maps(model, examples["inputs"], background, examples["predicted"],
                              n_samples=config["n_samples"], batch_size=config["batch_size"], seed=seed)}


def explain_features_with_gradients(
    task: StageTask, area: str, model: nn.Module, examples: dict[str, Any], baseline: float,
) -> dict[str, np.ndarray]:
    """Gradient x input ((x - baseline) * gradient) of each item's explained output."""
    baseline = checked_baseline(baseline, area)
    if task.input_kind == "nodes":
        maps, per_node = node_maps("gradient_x_input", model, examples["graph"], examples["indices"],
                                   examples["predicted"], background=np.empty(0), baseline=baseline)
        return {"maps": maps, "nodes": per_node}
    return {"maps": gradient_x_input(model, examples["inputs"], examples["predicted"], baseline)}


def explain_features_with_lime(
    task: StageTask, area: str, model: nn.Module, data: Any, examples: dict[str, Any],
    params: dict[str, Any] | None, seed: int,
) -> dict[str, np.ndarray]:
    """LIME tabular weights of each item's explained output (tabular and observation items)."""
    config, seed = settings(params, "lime", area), checked_seed(seed, area)
    background = background_items(task, data, 1000, seed, f"{area}.explain")
    maps = lime_feature_maps(model, examples["inputs"], background, examples["predicted"], examples["names"],
                             num_samples=config["num_samples"], num_features=config["num_features"], seed=seed)
    return {"maps": maps}


def collect_feature_attributions(
    examples: dict[str, Any], shap: dict[str, np.ndarray], gradient_x_input: dict[str, np.ndarray],
    lime: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """The explained items with every method's maps (and per-node scores), saved together."""
    out = {**examples, "shap": shap["maps"], "gradient_x_input": gradient_x_input["maps"]}
    if lime is not None:
        out["lime"] = lime["maps"]
    for method, result in (("shap", shap), ("gradient_x_input", gradient_x_input)):
        if "nodes" in result:
            out[f"{method}_nodes"] = result["nodes"]
    return out


def measure_feature_deletion(
    task: StageTask, area: str, model: nn.Module, attributions: dict[str, Any], params: dict[str, Any] | None,
    baseline: float, seed: int,
) -> pd.DataFrame:
    """Deletion curves for each method's feature order and random orders (features.py)."""
    config, seed, baseline = settings(params, "deletion", area), checked_seed(seed, area), checked_baseline(baseline, area)
    kind, count = task.input_kind, len(attributions["indices"])
    scores = {m: attributions[m].reshape(count, -1) for m in methods_of(kind)}
    if kind == "nodes":
        graph = attributions["graph"]
        items, views = [graph] * count, [NodeView(model, node).eval() for node in attributions["indices"]]
        units = units_of(kind, graph.shape)
    else:
        items, views = list(attributions["inputs"]), None
        units = units_of(kind, attributions["inputs"].shape[1:])
    curves = unit_deletion_curves(model, items, units, scores, attributions["predicted"], steps=config["steps"],
                                  baseline=baseline, random_orders=config["random_orders"], seed=seed, views=views)
    return curves.assign(readout=attributions["readout"])


def plot_feature_attributions(task: StageTask, attributions: dict[str, Any]) -> Figure:
    """Mean |attribution| per feature for each method, the items' signed SHAP scores, and
    (sequences) time x feature or (nodes) per-node panels."""
    return feature_figure(task.input_kind, attributions, methods_of(task.input_kind))


def plot_feature_deletion(task: StageTask, curves: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """Mean deletion curves per method, over the kind's units."""
    values = "readout" in curves and (curves["readout"] == VALUE).any()
    return deletion_figure(curves, table, unit=UNITS[task.input_kind],
                           quantity=None if values else "probability of the explained class")
