"""Nodes of continual_learning_permuted (permuted MNIST, ten tasks, three scenarios, seven
methods): thin wrappers of the image library's continual-learning study, with the published
figures they are read beside."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.image import continual_plots, continual_study

TITLE = "Permuted MNIST"
V18 = "van de Ven & Tolias 2018 (arXiv:1809.10635), Table 4"
_ROWS = {  # method: (task-IL, domain-IL, class-IL) average accuracy in %; their network: 2 x 1000 units
    "naive": (81.79, 78.51, 17.26),   # "None - lower bound"
    "ewc": (94.74, 94.31, 25.04),
    "si": (94.75, 95.33, 29.31),
    "lwf": (69.84, 72.64, 22.64),
    "joint": (97.68, 97.59, 97.59),   # "Offline - upper bound"
}
ANCHORS: continual_study.Anchors = {
    ("permuted", scenario, method): (values[k], V18)
    for method, values in _ROWS.items() for k, scenario in enumerate(("task", "domain", "class"))
}


def train_task_il(splits: dict[str, Any], study: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """Every method with a ten-unit head per permutation, the permutation given at test time."""
    return continual_study.train_scenario(splits, study, trainer, "task")


def train_domain_il(splits: dict[str, Any], study: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """Every method with one ten-unit head shared by all permutations."""
    return continual_study.train_scenario(splits, study, trainer, "domain")


def train_class_il(splits: dict[str, Any], study: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """Every method with one head growing by ten units (digit x permutation) per task."""
    return continual_study.train_scenario(splits, study, trainer, "class")


def summarise(task: dict[str, Any], domain: dict[str, Any], class_: dict[str, Any]
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """Results beside the published figures, accuracy matrices, task-1 curves, MLflow metrics."""
    return continual_study.summarise({"task": task, "domain": domain, "class": class_}, "permuted", ANCHORS)


def permutations(splits: dict[str, Any], sequence: dict[str, Any]) -> dict[str, Any]:
    """The pixel order of every task (task 1: the identity), for whoever uses the logged model
    on task k: ``x.reshape(N, 784)[:, order[k]]``."""
    seq = continual_study.make_sequence(splits, sequence)
    return {"tasks": seq.n_tasks, "order": seq.permutations.tolist()}


def pick_model(task: dict[str, Any], domain: dict[str, Any], class_: dict[str, Any], choice: dict[str, str]) -> nn.Module:
    """The network of ``choice`` (default: domain-IL replay), seed 0."""
    runs = {"task": task, "domain": domain, "class": class_}[choice["scenario"]]
    return continual_study.pick_model(runs, choice["method"])


def log_model(model: nn.Module) -> nn.Module:
    """The network for MLflow: input float images (N, 1, 28, 28) in [0, 1] (or (N, 784)), plain
    MNIST for task 1, pixels reordered by the task's permutation (permutations.json) for the
    others; output (domain-IL, the default) logits (N, 10) over the digits."""
    return model.eval()


def matrices_figure(cells: pd.DataFrame) -> Figure:
    return continual_plots.matrices_figure(cells, TITLE)


def task1_figure(curves: pd.DataFrame) -> Figure:
    return continual_plots.task1_figure(curves, TITLE)


def results_figure(results: pd.DataFrame) -> Figure:
    return continual_plots.results_figure(results, TITLE)
