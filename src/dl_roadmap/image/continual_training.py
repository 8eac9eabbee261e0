"""One method trained over a task sequence through the core loop (``core.loop.run_loop``).

The loop's state is a ``Learner``: the network, its Adam optimizer and whatever the method
keeps between tasks (EWC's anchors and Fishers, SI's path integral, LwF's frozen copy, the
reservoir), plus the accuracy matrix being filled. One loop iteration is
``steps_per_iteration`` gradient steps inside a task; the iterations of task ``t`` are
``t·chunks ... (t+1)·chunks − 1``. After each iteration the loop logs the loss and the
accuracy on task 1 (the forgetting curve); after the last of a task the method consolidates
and row ``t`` of ``R`` is measured on every task.

Methods: ``naive`` (plain fine-tuning), ``ewc``, ``si``, ``lwf``, ``replay``, ``agem`` (see
continual_methods.py) and ``joint`` (each batch drawn from all tasks so far: the upper bound).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from dl_roadmap.core.loop import LoopContext, run_loop
from dl_roadmap.image.continual_methods import (
    PathIntegral, Reservoir, agem_project, distillation_loss, fisher_diagonal, flat_grad, quadratic_penalty,
    set_flat_grad)
from dl_roadmap.image.continual_tasks import (
    REF_BASE, ContinualMLP, TaskSequence, masked, n_outputs, targets, task_accuracy, train_mask)

METHODS = ("naive", "ewc", "si", "lwf", "replay", "agem", "joint")


class Learner(nn.Module):
    """The loop's state: network, optimizer, the method's memory and the accuracy matrix."""

    def __init__(self, seq: TaskSequence, scenario: str, method: str, training: dict[str, Any],
                 settings: dict[str, Any], seed: int = 0):
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method: unknown continual-learning method {method!r}; choose from {METHODS}")
        torch.manual_seed(seed)
        self.seq, self.scenario, self.method = seq, scenario, method
        self.training, self.settings = training, settings
        self.model = ContinualMLP(n_outputs(seq, scenario), training["hidden"])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=float(training["lr"]), betas=(0.9, 0.999))
        self.task = 0
        T = seq.n_tasks
        self.R = np.full((T, T), np.nan)
        self.eval_split = training.get("eval_split", "test")  # the tune stage measures on "val"
        self.baseline = np.array([task_accuracy(self.model, seq, scenario, j, self.eval_split, training["eval_limit"])
                                  for j in range(T)])
        self.curve: list[dict[str, float]] = []
        self.anchors: list[dict[str, torch.Tensor]] = []  # EWC: θ*_k
        self.fishers: list[dict[str, torch.Tensor]] = []  # EWC: F_k
        self.path = PathIntegral(self.model, settings.get("xi", 0.1)) if method == "si" else None
        self.buffer = Reservoir(settings["capacity"], seed) if method in ("replay", "agem") else None
        self.old_model: nn.Module | None = None  # LwF's frozen copy (not a submodule: never trained)

    # -- one gradient step ------------------------------------------------------------
    def step(self) -> float:
        seq, scenario, t = self.seq, self.scenario, self.task
        pool = (torch.cat([seq.refs("train", k) for k in range(t + 1)]) if self.method == "joint"
                else seq.refs("train", t))
        refs = pool[torch.randint(len(pool), (int(self.training["batch_size"]),))]
        device = next(self.model.parameters()).device
        x, tasks, within = seq.fetch("train", refs)
        x = x.to(device)
        y = targets(seq, scenario, tasks, within).to(device)
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(x)
        loss = F.cross_entropy(masked(logits, train_mask(seq, scenario, tasks, t)), y)
        if self.method == "lwf" and self.old_model is not None:
            loss = loss / (t + 1) + t / (t + 1) * self._distillation(x, logits)
        elif self.method == "ewc" and self.anchors:
            loss = loss + float(self.settings["lambda"]) / 2 * quadratic_penalty(self.model, self.anchors, self.fishers)
        elif self.method == "si" and t > 0:
            loss = loss + float(self.settings["c"]) * quadratic_penalty(self.model, [self.path.start], [self.path.omega])
        elif self.method == "replay" and t > 0 and self.buffer.items:
            # van de Ven & Tolias's weighting: 1/N current + (1 − 1/N) replayed, N = tasks so far
            loss = loss / (t + 1) + t / (t + 1) * self._memory_loss(self.buffer.sample(self.settings["batch_size"]))
        loss.backward()
        if self.method == "agem" and t > 0:
            memory = self.buffer.sample(self.settings["batch_size"], keep=lambda ref: ref // REF_BASE < t)
            if memory:
                g = flat_grad(self.model)
                self.optimizer.zero_grad(set_to_none=True)
                self._memory_loss(memory).backward()
                set_flat_grad(self.model, agem_project(g, flat_grad(self.model)))
        if self.path is not None:
            self.path.before_step(self.model)
        self.optimizer.step()
        if self.path is not None:
            self.path.after_step(self.model)
        if self.buffer is not None:
            self.buffer.extend(refs.tolist())
        return float(loss.detach())

    def _memory_loss(self, memory: list[int]) -> torch.Tensor:
        """Cross-entropy on stored items, each on the units its task trains (class-IL: all seen so far)."""
        x, tasks, within = self.seq.fetch("train", torch.tensor(memory))
        device = next(self.model.parameters()).device
        logits = self.model(x.to(device))
        mask = train_mask(self.seq, self.scenario, tasks, self.task)
        return F.cross_entropy(masked(logits, mask), targets(self.seq, self.scenario, tasks, within).to(device))

    def _distillation(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """LwF: the frozen network's soft outputs on the old units, for the current inputs.
        Task-IL distils each old head on its own; domain-IL the one head; class-IL the old classes."""
        with torch.no_grad():
            old = self.old_model(x)
        k, t = self.seq.per_task, self.task
        units = torch.arange(logits.shape[1], device=logits.device)
        if self.scenario == "task":
            heads = [(units // k == j).expand_as(logits) for j in range(t)]
            return sum(distillation_loss(logits, old, m, self.settings["temperature"]) for m in heads) / t
        mask = torch.ones_like(logits, dtype=torch.bool) if self.scenario == "domain" else (units < t * k).expand_as(logits)
        return distillation_loss(logits, old, mask, self.settings["temperature"])

    # -- task boundaries ---------------------------------------------------------------
    def begin_task(self, t: int) -> None:
        self.task = t
        if self.method == "lwf" and t > 0:
            self.old_model = copy.deepcopy(self.model).eval().requires_grad_(False)

    def end_task(self, t: int) -> None:
        """Consolidate (EWC: Fisher and anchor; SI: Ω), then measure row ``t`` of R."""
        seq = self.seq
        if self.method == "ewc":
            refs = seq.refs("train", t)
            refs = refs[torch.randperm(len(refs))[: int(self.settings["fisher_items"])]]
            x, tasks, _ = seq.fetch("train", refs)
            device = next(self.model.parameters()).device
            mask = train_mask(seq, self.scenario, tasks, t).to(device)
            self.fishers.append(fisher_diagonal(self.model, x.to(device), mask, batch_size=32))
            self.anchors.append({n: p.detach().clone() for n, p in self.model.named_parameters()})
        if self.path is not None:
            self.path.consolidate(self.model)
        self.R[t] = [task_accuracy(self.model, seq, self.scenario, j, self.eval_split, self.training["eval_limit"])
                     for j in range(seq.n_tasks)]

    # -- what the loop checkpoints -----------------------------------------------------
    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "task": self.task,
                "R": self.R.copy(), "curve": list(self.curve), "anchors": self.anchors, "fishers": self.fishers,
                "path": self.path.state_dict() if self.path else None,
                "buffer": self.buffer.state_dict() if self.buffer else None,
                "old_model": self.old_model.state_dict() if self.old_model is not None else None}

    def load_state_dict(self, state: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.task, self.R, self.curve = state["task"], state["R"], state["curve"]
        self.anchors, self.fishers = state["anchors"], state["fishers"]
        if self.path is not None:
            self.path.load_state_dict(state["path"])
        if self.buffer is not None:
            self.buffer.load_state_dict(state["buffer"])
        if state["old_model"] is not None:
            self.old_model = copy.deepcopy(self.model).eval().requires_grad_(False)
            self.old_model.load_state_dict(state["old_model"])


def train_sequence(seq: TaskSequence, scenario: str, method: str, training: dict[str, Any],
                   settings: dict[str, Any], trainer: dict[str, Any], name: str, seed: int = 0) -> dict[str, Any]:
    """Train ``method`` over the tasks of ``seq`` in ``scenario`` with ``run_loop``.

    Returns:
        ``R`` (T x T), ``baseline`` (T,), ``curve`` (one row per iteration: step, task1_acc),
        ``history`` (the loop's table), the trained ``model`` and ``seconds``.
    """
    steps, chunk = int(training["steps_per_task"]), int(training["steps_per_iteration"])
    if steps % chunk:
        raise ValueError(f"training.steps_per_task ({steps}) must be a multiple of steps_per_iteration ({chunk})")
    chunks = steps // chunk
    learner = Learner(seq, scenario, method, training, settings, seed)

    def iterate(state: Learner, context: LoopContext) -> dict[str, float]:
        t, position = divmod(context.iteration, chunks)
        if position == 0:
            state.begin_task(t)
        losses = [state.step() for _ in range(chunk)]
        task1 = task_accuracy(state.model, seq, scenario, 0, limit=training["curve_limit"])
        state.curve.append({"step": (context.iteration + 1) * chunk, "task": t + 1, "task1_acc": task1})
        if position == chunks - 1:
            state.end_task(t)
        return {"loss": float(np.mean(losses)), "task1_acc": task1}

    def evaluate(state: Learner, context: LoopContext) -> dict[str, float]:
        t = context.iteration // chunks
        return {"avg_acc_seen": float(np.mean(state.R[t, : t + 1]))}

    started = time.perf_counter()
    loop = {"max_iterations": seq.n_tasks * chunks, "seed": seed, "log_every": 1, "eval_every": chunks,
            "checkpoint_every": None}
    result = run_loop(learner, iterate, name=name, loop_params=loop, trainer_params=trainer, evaluate=evaluate)
    state: Learner = result.state
    return {"R": state.R, "baseline": state.baseline, "curve": pd.DataFrame(state.curve), "history": result.history,
            "model": state.model.eval(), "seconds": time.perf_counter() - started}
