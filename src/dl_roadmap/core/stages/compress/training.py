"""Training inside the compress stage, with the task's own training.

A supervised task (datasets + make_step) trains through ``StageTask.train`` (core ``fit``:
seed, device, MLflow curves, checkpoints). Any other task trains through its
``train_model(model, config, data, base, trainer)`` hook; the stage's fit overrides then
reach it as ``config["fit"]`` (merged over the config's own ``fit`` when it has one). Distillation of a task without
(input, target) pairs fits the student to the teacher's outputs on the task's inputs.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset

from dl_roadmap.core.params import with_overrides
from dl_roadmap.core.stages.compress.distill import (
    TeacherStudent, classifier_distill_loss, distillation_step, input_distillation_step,
)
from dl_roadmap.core.stages.compress.measure import as_inputs
from dl_roadmap.core.stages.compress.settings import fit_budget
from dl_roadmap.core.stages.task import StageTask
from dl_roadmap.core.training import FitResult, fit


def budget(config: dict[str, Any], *layers: dict[str, Any]) -> dict[str, Any] | None:
    """The fit budget of a training: ``config["fit"]`` with the layers deep-merged over it.
    A config without ``fit`` gets the layers alone, or None when they are all empty."""
    if "fit" in config:
        return fit_budget(config, *layers)
    return fit_budget({"fit": {}}, *layers) if any(layers) else None


def train_variant(
    task: StageTask, model: nn.Module, config: dict[str, Any], data: Any, base: Any, trainer: dict[str, Any], *,
    name: str, fit_params: dict[str, Any] | None,
) -> FitResult:
    """Train ``model`` further with the task's training under ``fit_params``."""
    if task.supervised:
        return task.train(config, task.splits(data), base, trainer, name=name, model=model, fit_overrides=fit_params)
    if task.train_model is None:
        raise ValueError("compress: training needs StageTask.train_model (or datasets with make_step)")
    trained_config = config if fit_params is None else {**config, "fit": fit_params}
    started = time.perf_counter()
    trained = task.train_model(model, trained_config, data, base, trainer)
    if not isinstance(trained, nn.Module):
        raise TypeError(f"StageTask.train_model must return the trained nn.Module, got {type(trained).__name__}")
    return FitResult(model=trained.cpu().eval(), history=pd.DataFrame(), best_score=None, stopped_early=False,
                     resumed_from=None, seconds=time.perf_counter() - started)


def student_setup(config: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The student's config and its fit budget (the area's, without lr_scale: nothing in a
    fresh student is pretrained)."""
    student_config = with_overrides(config, params["student"])
    fit_params = budget(student_config, params["fit"])
    if fit_params is not None and isinstance(fit_params.get("optimizer"), dict):
        fit_params["optimizer"] = {k: v for k, v in fit_params["optimizer"].items() if k != "lr_scale"}
    return student_config, fit_params


def fresh_student(task: StageTask, config: dict[str, Any], base: Any, fit_params: dict[str, Any] | None) -> nn.Module:
    """A new student, seeded so that both students start from the same weights."""
    torch.manual_seed(int((fit_params or {}).get("seed", 0)))
    return task.build_model(config, base)


def distill(
    task: StageTask, student: nn.Module, teacher: nn.Module, config: dict[str, Any], data: Any, base: Any,
    trainer: dict[str, Any], params: dict[str, Any], fit_params: dict[str, Any] | None,
) -> FitResult:
    """Train ``student`` against ``teacher``: the area's step mixed with the distillation
    loss (supervised tasks), or the distillation loss alone on the task's inputs."""
    pair = TeacherStudent(student, teacher)
    loss = task.distill_loss or classifier_distill_loss
    settings = {key: value for key, value in params.items() if key not in ("student", "fit")}
    if task.supervised:
        step = partial(distillation_step, hard_step=task.make_step(config), temperature=float(params["temperature"]),
                       alpha=float(params["alpha"]), loss=loss, settings=settings)
        return task.train(config, task.splits(data), base, trainer, name="compress/distilled", model=pair, step=step,
                          fit_overrides=fit_params)
    inputs = as_inputs(task.inputs(data, "train"))
    count = len(inputs[0])
    if count < 2:
        raise ValueError("compress: distilling on inputs needs at least two example inputs (train and validation)")
    held_out = max(1, count // 10)  # a tenth watches the fit, as a validation split would
    train = TensorDataset(*(tensor[held_out:] for tensor in inputs))
    val = TensorDataset(*(tensor[:held_out] for tensor in inputs))
    step = partial(input_distillation_step, loss=loss, settings=settings)
    checkpoints = Path(str(trainer.get("data_root") or "data")) / "06_models" / "checkpoints"
    fit_params = {"checkpoint_dir": str(checkpoints), **(fit_params or {}), "monitor": "val_loss", "mode": "min"}
    return fit(pair, train, val, step=step, name="compress/distilled", fit_params=fit_params, trainer_params=trainer)
