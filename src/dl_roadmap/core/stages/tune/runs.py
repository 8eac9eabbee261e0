"""One training of a config inside the tune stage, for either form of task.

- A supervised task (datasets + make_step) trains through ``StageTask.train``; a Lightning
  callback reports ``val_<metric>`` to the pruner after every epoch.
- A task with an ``objective`` trains however it likes (an agent's iterations, federated
  rounds, a sampler's chains) and calls ``report(value, step)`` after each epoch or
  iteration. In a trial, ``report`` hands the value to Optuna and raises
  ``optuna.TrialPruned`` when the pruner says stop; the objective needs no Optuna code.

The objective returns the value the study optimizes, or ``(value, model)``: the final
training with the best config must return the model, which the stage saves.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import pandas as pd
from torch import nn
from torch.utils.data import Subset

from dl_roadmap.core.stages.task import Report, StageTask
from dl_roadmap.core.stages.tune.study import PruningCallback
from dl_roadmap.core.tracking import log_metrics


class TrialOutcome:
    """What one trial's training gave: its value, where it was pruned, whether it resumed."""

    def __init__(self, value: float, pruned_at: int | None = None, resumed: bool = False):
        self.value, self.pruned_at, self.resumed = value, pruned_at, resumed


def limited_splits(task: StageTask, data: Any, train_limit: int | None) -> dict[str, Any] | None:
    """The supervised task's splits, the training split cut to ``train_limit`` items; None
    for an objective task (it receives the data as it is)."""
    if task.objective is not None:
        if train_limit:
            raise ValueError("tune.trial.train_limit: only for tasks trained on datasets; an objective sets its "
                             "trial budget through tune.trial.overrides")
        return None
    splits = task.splits(data)
    if train_limit:
        splits = {**splits, "train": Subset(splits["train"], range(min(int(train_limit), len(splits["train"]))))}
    return splits


def run_trial(
    task: StageTask, trial: optuna.Trial, config: dict[str, Any], data: Any, splits: dict[str, Any] | None,
    base: Any, trainer: dict[str, Any], checkpoint_dir: str,
) -> TrialOutcome:
    """Train ``config`` once for ``trial``, feeding the pruner as it goes."""
    if task.objective is None:
        pruning = PruningCallback(trial, task.monitor)
        result = task.train(config, splits, base, trainer, name="trial", callbacks=[pruning],
                            fit_overrides={"checkpoint_dir": checkpoint_dir})
        log_metrics({f"trial_{task.monitor}": result.best_score, "trial_epochs": len(result.history)})
        return TrialOutcome(float(result.best_score), pruning.pruned_at, result.resumed_from is not None)

    reported: list[int] = []

    def report(value: float, step: int) -> None:
        value, step = _checked(value, step)
        reported.append(step)
        trial.report(value, step=step)
        log_metrics({f"trial/{task.metric}": value}, step=step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step}")

    try:
        value, _ = unpack(task.objective(config, data, base, trainer, report))
    except optuna.TrialPruned:
        return TrialOutcome(math.nan, reported[-1] if reported else 0)
    log_metrics({f"trial_{task.metric}": value, "trial_steps": len(reported)})
    return TrialOutcome(value)


def run_final(
    task: StageTask, config: dict[str, Any], data: Any, base: Any, trainer: dict[str, Any],
) -> tuple[nn.Module, pd.DataFrame, dict[str, float]]:
    """The objective task's final training with ``config``: its model, the values it
    reported (history: step, <metric>) and ``tuned_<metric>``."""
    history: list[dict[str, float]] = []

    def report(value: float, step: int) -> None:
        value, step = _checked(value, step)
        history.append({"step": step, task.metric: value})
        log_metrics({f"tuned/{task.metric}": value}, step=step)

    value, model = unpack(task.objective(config, data, base, trainer, report))
    if not isinstance(model, nn.Module):
        raise ValueError("StageTask.objective: the final training with the best config must return "
                         f"(value, model) with an nn.Module, so the stage can save it; got {type(model).__name__}")
    return model, pd.DataFrame(history, columns=["step", task.metric]), {f"tuned_{task.metric}": value}


def unpack(result: Any) -> tuple[float, nn.Module | None]:
    """An objective's return value: ``value`` or ``(value, model)``."""
    value, model = (result[0], result[1]) if isinstance(result, (tuple, list)) else (result, None)
    try:
        return float(value), model
    except (TypeError, ValueError):
        raise TypeError(f"StageTask.objective must return a number or (number, model), got {result!r}") from None


def _checked(value: Any, step: Any) -> tuple[float, int]:
    try:
        return float(value), int(step)
    except (TypeError, ValueError):
        raise TypeError(f"report(value, step): a number and an integer step, got {value!r}, {step!r}") from None


__all__ = ["Report", "TrialOutcome", "limited_splits", "run_final", "run_trial", "unpack"]
