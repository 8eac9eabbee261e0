"""Optimizers and learning-rate schedules from parameters.

    optimizer: {name: AdamW, lr: 0.001, weight_decay: 0.0001}   # any torch.optim class
    optimizer: {name: AdamW, lr: 0.001, lr_scale: {encoder: 0.3}} # slower rate for a submodule
    optimizer: {name: my_package.optimizers.MyAdam, lr: 0.001}     # an Optimizer subclass by import path
    scheduler: {name: onecycle, pct_start: 0.2}                  # none | onecycle | cosine | step
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import torch
from torch import nn

SCHEDULERS = ("none", "onecycle", "cosine", "step")


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
