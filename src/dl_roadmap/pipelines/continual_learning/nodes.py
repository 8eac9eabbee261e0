"""Nodes of continual_learning (split MNIST, three scenarios, seven methods): thin wrappers of
the image library's continual-learning study, with the published figures they are read beside."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.image import continual_plots, continual_study

TITLE = "Split MNIST"
V19 = "van de Ven & Tolias 2019 (arXiv:1904.07734v1), split MNIST table"
V18 = "van de Ven & Tolias 2018 (arXiv:1809.10635), Table 3"
HSU = "Hsu et al. 2018 (arXiv:1810.12488v4), split MNIST table, naive rehearsal"
_ROWS = {  # method: (task-IL, domain-IL, class-IL) average accuracy in %, source
    "naive": ((85.15, 57.33, 19.90), V18),   # "None - lower bound"
    "ewc": ((98.64, 63.95, 20.01), V19),
    "si": ((99.14, 63.77, 20.04), V18),
    "lwf": ((99.60, 71.02, 24.17), V18),
    "replay": ((99.40, 95.16, 90.78), HSU),
    "joint": ((99.64, 98.41, 97.93), V18),   # "Offline - upper bound"
}
ANCHORS: continual_study.Anchors = {
    ("split", scenario, method): (values[k], source)
    for method, (values, source) in _ROWS.items() for k, scenario in enumerate(("task", "domain", "class"))
}


def train_task_il(splits: dict[str, Any], study: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """Every method with a head per task, the task given at test time."""
    return continual_study.train_scenario(splits, study, trainer, "task")


def train_domain_il(splits: dict[str, Any], study: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """Every method with one shared head ("first or second digit of the pair")."""
    return continual_study.train_scenario(splits, study, trainer, "domain")


def train_class_il(splits: dict[str, Any], study: dict[str, Any], trainer: dict[str, Any]) -> dict[str, Any]:
    """Every method with one growing head over all digits seen so far."""
    return continual_study.train_scenario(splits, study, trainer, "class")


def summarise(task: dict[str, Any], domain: dict[str, Any], class_: dict[str, Any]
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """Results beside the published figures, accuracy matrices, task-1 curves, MLflow metrics."""
    return continual_study.summarise({"task": task, "domain": domain, "class": class_}, "split", ANCHORS)


def pick_model(task: dict[str, Any], domain: dict[str, Any], class_: dict[str, Any], choice: dict[str, str]) -> nn.Module:
    """The network of ``choice`` (default: class-IL replay), seed 0."""
    runs = {"task": task, "domain": domain, "class": class_}[choice["scenario"]]
    return continual_study.pick_model(runs, choice["method"])


def log_model(model: nn.Module) -> nn.Module:
    """The network for MLflow: input float images (N, 1, 28, 28) in [0, 1] (or (N, 784)); output
    logits (N, 10) over the digits 0-9 in class-IL (task-IL: 5 heads of 2 units, digits again;
    domain-IL: 2 units, first or second digit of the pair)."""
    return model.eval()


def matrices_figure(cells: pd.DataFrame) -> Figure:
    return continual_plots.matrices_figure(cells, TITLE)


def task1_figure(curves: pd.DataFrame) -> Figure:
    return continual_plots.task1_figure(curves, TITLE)


def results_figure(results: pd.DataFrame) -> Figure:
    return continual_plots.results_figure(results, TITLE)
