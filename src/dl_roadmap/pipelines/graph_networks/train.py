"""Full-batch training of a node classifier through the core loop (``core.loop.run_loop``).

Every epoch is one iteration: the whole graph goes forward, the cross-entropy of the
training nodes goes backward, Adam steps. The loop evaluates every epoch (validation loss
and accuracy, test accuracy) and keeps the epoch with the best monitored validation figure,
so the test accuracy reported is the one at the best validation epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.loop import run_loop


@dataclass
class Trainee:
    """The state the loop checkpoints: the model and its optimizer."""

    model: nn.Module
    optimizer: torch.optim.Optimizer

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])


def tensors(graph: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The graph's arrays as tensors (features, labels, split indices)."""
    return {"x": torch.as_tensor(graph["x"]), "y": torch.as_tensor(graph["y"]),
            **{s: torch.as_tensor(graph[f"{s}_index"]) for s in ("train", "val", "test")}}


def accuracy(logits: torch.Tensor, y: torch.Tensor, index: torch.Tensor) -> float:
    return float((logits[index].argmax(1) == y[index]).float().mean())


def train_node_classifier(
    build: Callable[[], nn.Module], graph: dict[str, Any], config: dict[str, Any], trainer: dict[str, Any],
    name: str, seed: int, report: Callable[[float, int], None] | None = None,
) -> tuple[nn.Module, pd.DataFrame, dict[str, float]]:
    """Train ``build()`` (built after seeding) on ``graph`` with ``config``'s ``optimizer`` and
    ``loop`` blocks; ``report(val_acc, epoch)`` is called every epoch when given (Optuna's pruner).

    Returns:
        The model at the best validation epoch, its history, and its val/test accuracy.
    """
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = build()
    data = tensors(graph)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["optimizer"]["lr"],
                                 weight_decay=config["optimizer"]["weight_decay"])

    def step(state: Trainee, context: Any) -> dict[str, float]:
        state.model.train()
        state.optimizer.zero_grad(set_to_none=True)
        logits = state.model(data["x"])
        loss = F.cross_entropy(logits[data["train"]], data["y"][data["train"]])
        loss.backward()
        state.optimizer.step()
        return {"loss": float(loss.detach()), "acc": accuracy(logits, data["y"], data["train"])}

    def evaluate(state: Trainee, context: Any) -> dict[str, float]:
        state.model.eval()
        with torch.no_grad():
            logits = state.model(data["x"])
        scores = {"val_loss": float(F.cross_entropy(logits[data["val"]], data["y"][data["val"]])),
                  "val_acc": accuracy(logits, data["y"], data["val"]),
                  "test_acc": accuracy(logits, data["y"], data["test"])}
        if report is not None:
            report(scores["val_acc"], context.iteration)
        return scores

    loop = {"checkpoint_every": None, "resume": False, "monitor": "val_acc", "mode": "max",
            **config["loop"], "seed": seed}
    result = run_loop(Trainee(model, optimizer), step, name=name, loop_params=loop, trainer_params=trainer,
                      evaluate=evaluate)
    trained = result.state.model.eval()
    with torch.no_grad():
        logits = trained(data["x"])
    scores = {"val_acc": accuracy(logits, data["y"], data["val"]),
              "test_acc": accuracy(logits, data["y"], data["test"]),
              "epochs": result.iterations, "best_epoch": result.best_iteration, "seconds": result.seconds}
    return trained, result.history, scores
