"""Nodes of the explain stage: pick test items -> SHAP -> LIME -> deletion curves -> report.

Parameters (under ``<area>.explain`` in the area's parameters file; every key of a block
may be left out, and then takes the default shown; the six entries themselves must exist,
``{}`` being enough for a block)::

    explain:
      seed: 0                  # item choice, SHAP/LIME sampling, deletion tie-breaks, random orders
      baseline: 0.0            # value of a removed pixel (LIME's hidden segments, deletion)
      examples:
        split: test            # train | val | test
        per_class: 2           # items per true class (fewer where a class has fewer)
        count: 20              # items drawn at random where there are no class targets
      shap:
        background: 100        # training items the expected gradients integrate from
        n_samples: 200         # interpolation points per item
        batch_size: 50         # gradients per forward/backward pass
      lime:
        num_samples: 1000      # perturbed images per item
        cell: 4                # grid segmentation: square cell x cell patches
        num_features: null     # segments LIME keeps weights for (null = all)
        batch_size: 200        # perturbed images per forward pass
      deletion:
        steps: 20              # the curve is sampled at 0, 1/steps, ..., 100% removed
        random_orders: 3       # random pixel orders per item, the reference curve

These are the nodes of image items (any image-like shape whose last two axes are (H, W));
feature_nodes.py has those of the other kinds, on the same blocks. The model returns class
logits (N, classes), or the task's ``explain_output`` chooses what to explain (target.py;
``choose_output`` then wraps the model first). Work runs on CPU: a few dozen items take
seconds to a minute.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.stages.explain.attributions import attribution_figure, lime_maps, shap_maps
from dl_roadmap.core.stages.explain.examples import background_items, pick_items, predict_items
from dl_roadmap.core.stages.explain.faithfulness import deletion_curves, deletion_figure, faithfulness_table
from dl_roadmap.core.stages.explain.target import VALUE, explained_model
from dl_roadmap.core.stages.task import StageTask

DEFAULTS: dict[str, dict[str, Any]] = {
    "examples": {"split": "test", "per_class": 2, "count": 20},
    "shap": {"background": 100, "n_samples": 200, "batch_size": 50},
    "lime": {"num_samples": 1000, "cell": 4, "num_features": None, "batch_size": 200},
    "deletion": {"steps": 20, "random_orders": 3},
}
METHODS = ("shap", "lime")


# --- parameters -------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_value(key: str, value: Any, where: str) -> None:
    if key == "split":
        if value not in ("train", "val", "test"):
            raise ValueError(f"{where}: must be train, val or test, got {value!r}")
    elif key == "num_features" and value is None:
        return
    elif not (_is_int(value) and value > 0):
        raise ValueError(f"{where}: must be a positive integer, got {value!r}")


def settings(params: Mapping[str, Any] | None, block: str, area: str) -> dict[str, Any]:
    """The block's parameters over its defaults, checked; errors name the full key."""
    where = f"{area}.explain.{block}"
    params = {} if params is None else params
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}: expected a mapping of settings, got {params!r}")
    merged = over_defaults(params, DEFAULTS[block], where)
    for key, value in merged.items():
        _check_value(key, value, f"{where}.{key}")
    return merged


def checked_seed(seed: Any, area: str) -> int:
    if not (_is_int(seed) and seed >= 0):
        raise ValueError(f"{area}.explain.seed: must be a non-negative integer, got {seed!r}")
    return int(seed)


def checked_baseline(baseline: Any, area: str) -> float:
    if isinstance(baseline, bool) or not isinstance(baseline, (int, float)) or not math.isfinite(baseline):
        raise ValueError(f"{area}.explain.baseline: must be a finite number, got {baseline!r}")
    return float(baseline)


# --- nodes ------------------------------------------------------------------------------


def choose_output(task: StageTask, model: nn.Module) -> nn.Module:
    """The model with the task's ``explain_output`` applied (target.ChosenOutput).

    Args:
        task: the area's StageTask.
        model: the area's trained model.
    Returns:
        The model as the other nodes explain it.
    """
    return explained_model(model, task.explain_output)


def select_examples(
    task: StageTask, area: str, data: Any, model: nn.Module, params: dict[str, Any] | None, seed: int,
) -> dict[str, np.ndarray]:
    """Draw ``per_class`` items of each true class from the split (``count`` items where
    there are no class targets) and predict them.

    Args:
        task: the area's StageTask (turns ``data`` into splits or example inputs).
        area: the area's name, for error messages.
        data: the area's catalog data.
        model: trained classifier returning logits (or choose_output's model).
        params: the ``examples`` block.
        seed: the stage's seed.
    Returns:
        inputs (N, *item_shape) float32, labels (-1: unknown), indices (into the split),
        the explained class per item (``predicted``) and its probability (or value), and
        the ``readout`` (softmax or value), grouped by class.
    """
    config, seed = settings(params, "examples", area), checked_seed(seed, area)
    items = pick_items(task, data, config, seed, f"{area}.explain")
    if items["inputs"].ndim < 3:
        raise ValueError(f"{area}.explain: items must be image-like (..., H, W), got shape {items['inputs'].shape[1:]}"
                         "; set StageTask.input_kind for other inputs")
    return predict_items(explained_model(model, None), items)


def explain_with_shap(
    task: StageTask, area: str, model: nn.Module, data: Any, examples: dict[str, np.ndarray],
    params: dict[str, Any] | None, seed: int,
) -> np.ndarray:
    """SHAP (expected gradients) maps of each item's explained class (or value).

    Args:
        task: the area's StageTask (the background comes from its train split).
        area: the area's name, for error messages.
        model: trained classifier returning logits (or choose_output's model).
        data: the area's catalog data.
        examples: select_examples' output.
        params: the ``shap`` block.
        seed: the stage's seed.
    Returns:
        Attributions shaped like ``examples["inputs"]``.
    """
    config, seed = settings(params, "shap", area), checked_seed(seed, area)
    background = background_items(task, data, config["background"], seed, f"{area}.explain")
    return shap_maps(model, examples["inputs"], background, examples["predicted"], n_samples=config["n_samples"],
                     batch_size=config["batch_size"], seed=seed)


def explain_with_lime(
    area: str, model: nn.Module, examples: dict[str, np.ndarray], params: dict[str, Any] | None,
    baseline: float, seed: int,
) -> np.ndarray:
    """LIME maps of each item's predicted class on a grid segmentation.

    Args:
        area: the area's name, for error messages.
        model: trained classifier returning logits.
        examples: select_examples' output.
        params: the ``lime`` block.
        baseline: value of a hidden segment.
        seed: the stage's seed.
    Returns:
        Attributions shaped like ``examples["inputs"]``.
    """
    config, seed, baseline = settings(params, "lime", area), checked_seed(seed, area), checked_baseline(baseline, area)
    return lime_maps(model, examples["inputs"], examples["predicted"], num_samples=config["num_samples"],
                     cell=config["cell"], num_features=config["num_features"], batch_size=config["batch_size"],
                     baseline=baseline, seed=seed)


def collect_attributions(
    examples: dict[str, np.ndarray], shap: np.ndarray, lime: np.ndarray,
) -> dict[str, np.ndarray]:
    """The explained items with both maps, saved together.

    Args:
        examples: select_examples' output.
        shap: explain_with_shap's maps.
        lime: explain_with_lime's maps.
    Returns:
        ``examples`` plus ``shap`` and ``lime`` arrays.
    """
    return {**examples, "shap": shap, "lime": lime}


def measure_deletion(
    area: str, model: nn.Module, attributions: dict[str, np.ndarray], params: dict[str, Any] | None,
    baseline: float, seed: int,
) -> pd.DataFrame:
    """Deletion curves for SHAP, LIME and random pixel orders.

    Args:
        area: the area's name, for error messages.
        model: trained classifier returning logits.
        attributions: collect_attributions' output.
        params: the ``deletion`` block.
        baseline: value of a removed pixel.
        seed: the stage's seed.
    Returns:
        Long table: method, example, repeat, step, fraction, probability (with a ``readout``
        column saying ``value`` where the curve reads a chosen value, not a probability).
    """
    config, seed, baseline = settings(params, "deletion", area), checked_seed(seed, area), checked_baseline(baseline, area)
    curves = deletion_curves(model, attributions["inputs"], attributions["predicted"],
                             {m: attributions[m] for m in METHODS}, steps=config["steps"], baseline=baseline,
                             random_orders=config["random_orders"], seed=seed)
    return curves.assign(readout=VALUE) if attributions.get("readout") == VALUE else curves


def summarize_faithfulness(curves: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Deletion AUCs per method (lower = more faithful) as a table and MLflow metrics.

    Args:
        curves: measure_deletion's output.
    Returns:
        The table (method, auc, auc_sem, random_auc, auc_gap, win_rate, ...) and
        ``explain.<method>.deletion_auc`` metrics for shap, lime and random.
    """
    table = faithfulness_table(curves)
    metrics = {f"explain.{row.method}.deletion_auc": {"value": float(row.auc), "step": 0}
               for row in table.itertuples()}
    return table, metrics


def plot_attributions(attributions: dict[str, np.ndarray]) -> Figure:
    """The first item of each class: image, SHAP map and LIME map of the predicted class.

    Args:
        attributions: collect_attributions' output.
    Returns:
        The figure.
    """
    labels, predicted, output = attributions["labels"], attributions["predicted"], attributions["probability"]
    maps = {"SHAP": attributions["shap"], "LIME": attributions["lime"]}
    if attributions.get("readout") != VALUE and (labels >= 0).all():
        columns = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
        return attribution_figure(attributions["inputs"], maps, labels, predicted, output, columns)
    # No classes to show one of each: the first ten items, titled with what was explained.
    columns = list(range(min(10, len(labels))))
    if attributions.get("readout") == VALUE:
        titles = [f"#{i}: {value:.3g}" for i, value in zip(attributions["indices"], output)]
    else:
        titles = [f"#{i} -> {c} ({p:.2f})" for i, c, p in zip(attributions["indices"], predicted, output)]
    return attribution_figure(attributions["inputs"], maps, labels, predicted, output, columns, titles)


def plot_deletion(curves: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """Mean deletion curves per method.

    Args:
        curves: measure_deletion's output.
        table: summarize_faithfulness' table.
    Returns:
        The figure.
    """
    values = "readout" in curves and (curves["readout"] == VALUE).any()
    return deletion_figure(curves, table, unit="pixels", quantity=None if values else "probability of the predicted class")
