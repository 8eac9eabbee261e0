"""``run_loop``: training without a dataset, one iteration at a time.

An agent acting in an environment, rounds of federated averaging, sweeps of a Gibbs
chain, a sequence of continual-learning tasks: none of them is "batches of a data set",
so ``core.training.fit`` does not fit them. ``run_loop`` gives them the same services:
seed, device from the ``trainer`` block, a progress bar, metrics to MLflow and to a
history table, checkpoints with resume after an interruption, early stopping and the
best state restored. The caller owns everything that changes in a *state* object and
writes one iteration as a function::

    class Bandit:                    # any object with state_dict() / load_state_dict()
        ...

    def pull(state, context):        # one iteration -> named scalars
        arm = state.choose(); reward = state.pull(arm); state.update(arm, reward)
        return {"reward": reward}

    def greedy_value(state, context):  # optional, every eval_every iterations
        return {"value": state.best_arm_value()}

    result = run_loop(Bandit(...), pull, name="bandit", evaluate=greedy_value,
                      loop_params=params["bandit"]["loop"], trainer_params=params["trainer"])
    result.state, result.history     # best (or last) state, one row per logged iteration

``loop_params`` (defaults in LOOP_DEFAULTS)::

    max_iterations: 100
    seed: 0
    log_every: 1               # a history row (and MLflow metrics) every n iterations
    eval_every: 1              # call evaluate and check the monitor every n iterations (and at the end)
    checkpoint_every: 10       # null = never
    monitor: null              # a name iterate or evaluate returns; null = no early stopping, no best state
    mode: min
    early_stopping_patience: null   # evaluations without improvement before stopping
    restore_best: true         # return the best monitored state (false: the last)
    checkpoint_dir: null       # null = <trainer.data_root>/06_models/checkpoints
    resume: true               # continue an interrupted run from its last checkpoint

A history row holds ``iteration`` (0-based, the last one of the row), the mean of each
iteration metric since the previous row, the evaluation's values when there was one, and
``seconds`` since the previous row; each goes to the active MLflow run as
``<name>/<metric>`` with step = iteration. A monitored iteration metric is its mean since
the previous evaluation.

The checkpoint holds ``state.state_dict()``, the iteration count, the history, the best
state and the random generators of Python, NumPy and torch, so a resumed run ends exactly
where an uninterrupted one would, provided everything that changes between iterations is
in the state (an environment's own generator too) or drawn from those global generators.
``context.device`` is the trainer block's device; a state that is an ``nn.Module`` is moved
there, and back to the CPU at the end. The loop runs in one process: the block's devices
and strategy do not apply.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd
import torch
from pydantic import Field, NonNegativeInt, PositiveInt, model_validator
from torch import nn

from dl_roadmap.core.devices import inference_device, trainer_config
from dl_roadmap.core.params import over_defaults
from dl_roadmap.core.schema import Block, schema_problems
from dl_roadmap.core.tracking import RunHandle

logger = logging.getLogger(__name__)

class LoopParams(Block):
    """Schema of a ``loop`` block (checked before a run starts; see core/schema.py)."""

    max_iterations: PositiveInt = 100
    seed: NonNegativeInt = 0
    log_every: PositiveInt = 1
    eval_every: PositiveInt = 1
    checkpoint_every: PositiveInt | None = 10
    monitor: str | None = Field(default=None, min_length=1)
    mode: Literal["min", "max"] = "min"
    early_stopping_patience: PositiveInt | None = None
    restore_best: bool = True
    checkpoint_dir: str | None = None
    resume: bool = True

    @model_validator(mode="after")
    def _patience_watches_a_monitor(self) -> LoopParams:
        if self.early_stopping_patience is not None and self.monitor is None:
            raise ValueError("early_stopping_patience needs a monitor (the metric to watch)")
        return self


LOOP_DEFAULTS: dict[str, Any] = LoopParams().model_dump()


@dataclass(frozen=True)
class LoopContext:
    """What an iteration (or an evaluation) knows about the run."""

    iteration: int  # 0-based index of the current iteration
    max_iterations: int
    device: torch.device


IterateFn = Callable[[Any, LoopContext], Mapping[str, float]]


@dataclass
class LoopResult:
    """What ``run_loop`` returns."""

    state: Any  # the best monitored state (restore_best) or the last; an nn.Module on CPU
    history: pd.DataFrame  # iteration, iteration metrics (means), evaluation values, seconds
    best_score: float | None  # best value of the monitored metric
    best_iteration: int | None
    stopped_early: bool
    iterations: int  # iterations completed, over all resumed attempts
    resumed_from: str | None  # checkpoint this run continued from, if any
    seconds: float  # wall time of this call


@dataclass
class _Progress:
    """Everything about the run besides the caller's state; saved in each checkpoint."""

    iteration: int = 0  # iterations completed
    rows: list[dict[str, float]] = field(default_factory=list)
    log_window: dict[str, list[float]] = field(default_factory=dict)  # name -> [sum, count]
    eval_window: dict[str, list[float]] = field(default_factory=dict)
    best_score: float | None = None
    best_iteration: int | None = None
    best_state: Any = None
    bad_evaluations: int = 0
    stopped_early: bool = False


class OptimizedModel(nn.Module):
    """A loop state for the common case: a model, its optimizer and its schedule (the
    ``optimizer`` / ``scheduler`` blocks of ``settings``, as ``core.optim`` builds them),
    checkpointed together.

    It is an ``nn.Module`` so that run_loop's checkpoint folder is keyed by the layers' repr
    too: a run with other layer sizes never resumes from this one's checkpoint.
    """

    def __init__(self, model: nn.Module, settings: Mapping[str, Any], iterations: int):
        from dl_roadmap.core.optim import build_optimizer, build_scheduler

        super().__init__()
        self.model = model
        self.optimizer = build_optimizer(model, settings["optimizer"])
        self.scheduler = build_scheduler(self.optimizer, settings.get("scheduler"), iterations)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None}

    def load_state_dict(self, state: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler and state["scheduler"]:
            self.scheduler.load_state_dict(state["scheduler"])


def run_loop(
    state: Any,
    iterate: IterateFn,
    *,
    name: str,
    loop_params: dict[str, Any] | None = None,
    trainer_params: dict[str, Any] | None = None,
    evaluate: IterateFn | None = None,
) -> LoopResult:
    """Run ``iterate(state, context)`` up to ``max_iterations`` times; see the module docstring."""
    config = loop_config(loop_params)
    for method in ("state_dict", "load_state_dict"):
        if not callable(getattr(state, method, None)):
            raise TypeError(f"run_loop {name!r}: the state ({type(state).__name__}) needs a {method}() method")
    trainer = trainer_config(trainer_params)
    if trainer["num_threads"]:
        torch.set_num_threads(int(trainer["num_threads"]))
    device = inference_device(trainer_params)
    if isinstance(state, nn.Module):
        state.to(device)
    root = Path(config["checkpoint_dir"] or Path(trainer["data_root"]) / "06_models" / "checkpoints")
    run_dir = root / f"{name}-{_fingerprint(state, config)}"
    last = run_dir / "last.pt"

    started = time.perf_counter()
    progress, resumed_from = _Progress(), None
    if config["resume"] and last.exists():
        # The loop's own file: it holds Python objects (history, generator states), not only tensors.
        saved = torch.load(last, map_location="cpu", weights_only=False)
        state.load_state_dict(saved["state"])
        progress = saved["progress"]
        _set_rng(saved["rng"])
        resumed_from = str(last)
        logger.info("Resuming %s from %s (iteration %d)", name, last, progress.iteration)
    else:
        _seed_all(int(config["seed"]))

    from tqdm import tqdm

    total = int(config["max_iterations"])
    run = RunHandle.current()
    bar = tqdm(total=total, initial=progress.iteration, desc=name, disable=not trainer["progress_bar"])
    row_started = time.perf_counter()
    try:
        while progress.iteration < total and not progress.stopped_early:
            index = progress.iteration
            context = LoopContext(index, total, device)
            metrics = _scalars(iterate(state, context), "iterate", index)
            for window in (progress.log_window, progress.eval_window):
                for key, value in metrics.items():
                    running = window.setdefault(key, [0.0, 0])
                    running[0] += value
                    running[1] += 1
            done = index + 1 == total
            values: dict[str, float] = {}
            if (index + 1) % config["eval_every"] == 0 or done:
                values = _evaluate(state, evaluate, context, metrics, progress, config)
            if (index + 1) % config["log_every"] == 0 or values or done or progress.stopped_early:
                row = {"iteration": index, **_means(progress.log_window), **values,
                       "seconds": time.perf_counter() - row_started}
                progress.rows.append(row)
                progress.log_window = {}
                row_started = time.perf_counter()
                if run is not None:
                    run.log_metrics({f"{name}/{k}": v for k, v in row.items() if k != "iteration"}, step=index)
                bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k not in ("iteration", "seconds")},
                                refresh=False)
            progress.iteration += 1
            bar.update(1)
            every = config["checkpoint_every"]
            if every and progress.iteration % every == 0 and progress.iteration < total and not progress.stopped_early:
                _save(run_dir, last, state, progress)
    finally:
        bar.close()

    if config["restore_best"] and progress.best_state is not None:
        state.load_state_dict(progress.best_state)
    if isinstance(state, nn.Module):
        state.cpu()
    # The run finished: its checkpoints only existed to survive an interruption.
    shutil.rmtree(run_dir, ignore_errors=True)
    return LoopResult(
        state=state,
        history=pd.DataFrame(progress.rows),
        best_score=progress.best_score,
        best_iteration=progress.best_iteration,
        stopped_early=progress.stopped_early,
        iterations=progress.iteration,
        resumed_from=resumed_from,
        seconds=time.perf_counter() - started,
    )


def loop_config(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params`` over LOOP_DEFAULTS, checked against LoopParams; an unknown key or a bad
    value is an error that names it."""
    config = over_defaults(params, LOOP_DEFAULTS, "loop parameters")
    problems = schema_problems(LoopParams, config, "loop")
    if problems:
        raise ValueError("loop parameters failed their schema:\n" + "\n".join(f"- {p}" for p in problems))
    return config


def _evaluate(state: Any, evaluate: IterateFn | None, context: LoopContext, metrics: dict[str, float],
              progress: _Progress, config: dict[str, Any]) -> dict[str, float]:
    """Evaluation values (if any), and the monitor checked: best state, early stopping."""
    values = _scalars(evaluate(state, context), "evaluate", context.iteration) if evaluate else {}
    clash = sorted(set(values) & set(metrics))
    if clash:
        raise ValueError(f"evaluate returned {clash}, which iterate also returns: rename one of them")
    monitor = config["monitor"]
    window, progress.eval_window = progress.eval_window, {}
    if monitor is None:
        return values
    if monitor in values:
        current = values[monitor]
    elif monitor in window:
        current = window[monitor][0] / window[monitor][1]
    else:
        raise KeyError(f"loop parameters: monitor {monitor!r} is not among the metrics {sorted({*metrics, *values})}")
    best = progress.best_score
    improved = not math.isnan(current) and (
        best is None or (current < best if config["mode"] == "min" else current > best))
    if improved:
        progress.best_score, progress.best_iteration, progress.bad_evaluations = current, context.iteration, 0
        if config["restore_best"]:
            progress.best_state = copy.deepcopy(state.state_dict())
    else:
        progress.bad_evaluations += 1
        patience = config["early_stopping_patience"]
        progress.stopped_early = bool(patience) and progress.bad_evaluations >= patience
    return values


def _scalars(values: Any, who: str, iteration: int) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{who} must return a mapping of name -> number, got {type(values).__name__} "
                        f"at iteration {iteration}")
    out = {}
    for key, value in values.items():
        if torch.is_tensor(value) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{who} returned {key}={value!r} at iteration {iteration}; metrics must be numbers")
        out[str(key)] = float(value)
    return out


def _means(window: dict[str, list[float]]) -> dict[str, float]:
    return {key: total / count for key, (total, count) in window.items()}


def _save(run_dir: Path, last: Path, state: Any, progress: _Progress) -> None:
    """Write the checkpoint beside the old one, then swap: a crash while writing leaves the
    previous checkpoint intact."""
    run_dir.mkdir(parents=True, exist_ok=True)
    partial = last.with_suffix(".tmp")
    torch.save({"state": state.state_dict(), "progress": progress, "rng": _get_rng()}, partial)
    os.replace(partial, last)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _get_rng() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def _set_rng(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if states["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _fingerprint(state: Any, config: dict[str, Any]) -> str:
    """Same kind of state and loop parameters -> same checkpoint folder, so only a matching
    run resumes from it. A module's repr names its layers; another state is known by its class."""
    kind = type(state)
    described = repr(state) if isinstance(state, nn.Module) else f"{kind.__module__}.{kind.__qualname__}"
    key = json.dumps([described, config], sort_keys=True, default=str)
    return hashlib.sha1(key.encode()).hexdigest()[:10]
