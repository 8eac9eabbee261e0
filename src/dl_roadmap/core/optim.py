"""Optimizers and learning-rate schedules from parameters.

    optimizer: {name: AdamW, lr: 0.001, weight_decay: 0.0001}   # any torch.optim class
    optimizer: {name: AdamW, lr: 0.001, lr_scale: {encoder: 0.3}} # slower rate for a submodule
    optimizer: {name: my_package.optimizers.MyAdam, lr: 0.001}     # an Optimizer subclass by import path
    scheduler: {name: onecycle, pct_start: 0.2}                  # none | onecycle | cosine | step

``OptimizerParams`` and ``SchedulerParams`` are the schemas of these two blocks (checked
before a run starts; see core/schema.py).
"""

from __future__ import annotations

import importlib
import inspect
import math
from typing import Any, Literal

import torch
from pydantic import (
    ConfigDict, Field, NonNegativeFloat, PositiveFloat, field_validator, model_serializer, model_validator,
)
from torch import nn

from dl_roadmap.core.schema import Block

# Each schedule and the options it reads (build_scheduler has their defaults).
SCHEDULE_OPTIONS: dict[str, tuple[str, ...]] = {
    "none": (),
    "onecycle": ("pct_start", "div_factor", "final_div_factor"),
    "cosine": ("warmup_fraction", "min_lr_ratio"),
    "step": ("step_fraction", "gamma"),
}
SCHEDULERS = tuple(SCHEDULE_OPTIONS)


class _Options(Block):
    """A block whose unset options stay out of its dump: the code that reads the block has
    its own defaults for them (a dumped ``None`` would replace those)."""

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: Any) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class OptimizerParams(_Options):
    """Schema of an ``optimizer`` block: ``name``, ``lr``, ``lr_scale``; every other key is
    an argument of the optimizer class, checked against its constructor."""

    model_config = ConfigDict(extra="allow")

    name: str = "AdamW"
    lr: NonNegativeFloat  # as torch allows: 0 freezes the weights
    lr_scale: dict[str, PositiveFloat] | None = None  # submodule name -> factor of lr

    @field_validator("name")
    @classmethod
    def _known_optimizer(cls, name: str) -> str:
        try:
            _optimizer_class(name)
        except ValueError as error:
            raise ValueError(str(error).removeprefix("optimizer.name: ")) from None
        return name

    @model_validator(mode="after")
    def _known_arguments(self) -> OptimizerParams:
        optimizer_class = _optimizer_class(self.name)
        signature = list(inspect.signature(optimizer_class).parameters.values())[1:]  # after the parameters
        if any(argument.kind is argument.VAR_KEYWORD for argument in signature):
            return self
        accepted = sorted(argument.name for argument in signature if argument.kind is not argument.VAR_POSITIONAL)
        unknown = sorted(set(self.model_extra or {}) - set(accepted))
        if unknown:
            raise ValueError(
                f"unknown key(s) {unknown}: not arguments of {optimizer_class.__module__}."
                f"{optimizer_class.__qualname__}, which accepts {accepted} (besides name and lr_scale)"
            )
        return self


class SchedulerParams(_Options):
    """Schema of a ``scheduler`` block: the schedule's name and the options it reads."""

    # An option left out takes build_scheduler's default. Null is "left out" too, so that a
    # block deep-merged over another can drop an option of the schedule it replaces; the
    # options of the block's own schedule may not be null (build_scheduler reads them).
    name: Literal[SCHEDULERS] = "none"  # type: ignore[valid-type]
    pct_start: float | None = Field(default=None, gt=0, lt=1)
    div_factor: PositiveFloat | None = None
    final_div_factor: PositiveFloat | None = None
    warmup_fraction: float | None = Field(default=None, ge=0, lt=1)
    min_lr_ratio: float | None = Field(default=None, ge=0, le=1)
    step_fraction: float | None = Field(default=None, gt=0, le=1)
    gamma: PositiveFloat | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _any_case(cls, name: Any) -> Any:
        return name.lower() if isinstance(name, str) else name

    @model_validator(mode="after")
    def _options_of_this_schedule(self) -> SchedulerParams:
        reads = SCHEDULE_OPTIONS[self.name]
        given = {key for key in type(self).model_fields if key != "name" and getattr(self, key) is not None}
        foreign = sorted(given - set(reads))
        if foreign:
            raise ValueError(f"{foreign} not read by the {self.name!r} schedule; it reads {list(reads)}")
        nulls = [key for key in reads if key in self.model_fields_set and getattr(self, key) is None]
        if nulls:
            raise ValueError(f"{nulls} null, but the {self.name!r} schedule reads them: give a value or leave them out")
        return self


def build_optimizer(model: nn.Module, params: dict[str, Any]) -> torch.optim.Optimizer:
    """``torch.optim.<name>(model.parameters(), **rest)``; the name is case-insensitive.

    A dotted name (``package.module.Class``) is imported instead: an optimizer written
    elsewhere, as long as it subclasses ``torch.optim.Optimizer``.

    ``lr_scale`` maps a submodule name (``model.<name>``) to a factor of ``lr`` for its
    parameters: fine-tuning a pretrained part more gently than a fresh head.
    """
    params = dict(params)
    name = params.pop("name", "AdamW")
    lr_scale = dict(params.pop("lr_scale", None) or {})
    optimizer_class = _optimizer_class(name)
    if "lr" not in params:
        raise ValueError("optimizer.lr: missing learning rate")
    groups, claimed = [], set()
    for prefix, factor in lr_scale.items():
        if not isinstance(getattr(model, prefix, None), nn.Module):
            raise ValueError(f"optimizer.lr_scale: the model has no submodule {prefix!r}")
        group = [p for p in getattr(model, prefix).parameters() if p.requires_grad]
        claimed.update(map(id, group))
        groups.append({"params": group, "lr": params["lr"] * float(factor), "name": prefix})
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in claimed]
    groups.append({"params": rest, "name": "base"})
    return optimizer_class([g for g in groups if g["params"]], **params)


def _optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    if "." in name:
        module_name, _, class_name = name.rpartition(".")
        try:
            found = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"optimizer.name: cannot import {name!r} ({error})") from error
        if not (isinstance(found, type) and issubclass(found, torch.optim.Optimizer)):
            raise ValueError(f"optimizer.name: {name!r} is not a torch.optim.Optimizer subclass")
        return found
    by_lower = {
        key.lower(): value
        for key, value in vars(torch.optim).items()
        if isinstance(value, type) and issubclass(value, torch.optim.Optimizer)
    }
    if name.lower() not in by_lower:
        raise ValueError(f"optimizer.name: unknown optimizer {name!r}; try one of {sorted(by_lower)}")
    return by_lower[name.lower()]


def build_scheduler(
    optimizer: torch.optim.Optimizer, params: dict[str, Any] | None, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-step schedule over ``total_steps`` optimizer steps (None for a constant rate).

    - onecycle: warm up to the optimizer's lr then anneal (``pct_start``, ``div_factor``).
    - cosine: linear warm-up for ``warmup_fraction`` of the steps, then cosine to ``min_lr_ratio``.
    - step: multiply the lr by ``gamma`` every ``step_fraction`` of the run.
    """
    params = dict(params or {"name": "none"})
    name = str(params.pop("name", "none")).lower()
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler.name: unknown schedule {name!r}; choose from {SCHEDULERS}")
    total_steps = max(int(total_steps), 1)
    if name == "none":
        return None
    if name == "onecycle":
        max_lrs = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=max_lrs,
            total_steps=total_steps,
            pct_start=float(params.get("pct_start", 0.25)),
            div_factor=float(params.get("div_factor", 25.0)),
            final_div_factor=float(params.get("final_div_factor", 1e4)),
        )
    if name == "cosine":
        warmup = int(float(params.get("warmup_fraction", 0.0)) * total_steps)
        floor = float(params.get("min_lr_ratio", 0.0))

        def cosine_with_warmup(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(total_steps - warmup, 1)
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup)
    step_size = max(int(float(params.get("step_fraction", 0.3)) * total_steps), 1)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma=float(params.get("gamma", 0.1)))
