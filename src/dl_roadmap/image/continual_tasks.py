"""Task sequences from MNIST, the three scenarios of van de Ven & Tolias (2019), the
accuracy matrix and the metrics read from it.

**Protocols.** *Split MNIST*: five tasks of two digits, (0, 1), (2, 3), ..., (8, 9).
*Permuted MNIST*: ten tasks of all ten digits, each under its own fixed pixel permutation
(the first task unpermuted, as in van de Ven & Tolias 2018, fig. 6).

**Scenarios** (which output units a task uses, and what the label is). With ``k``
classes per task, an item of task ``t`` with within-task label ``c``:

| scenario | output units | target | units at training | units at test |
|---|---|---|---|---|
| task-IL (task given) | ``T·k`` (a head per task) | ``t·k + c`` | head ``t`` | head ``t`` |
| domain-IL (not given, not needed) | ``k`` | ``c`` | all | all |
| class-IL (must be inferred) | ``T·k`` (one growing head) | ``t·k + c`` | tasks ``≤`` current | all |

In split MNIST class-IL the target ``2t + c`` is the digit itself; domain-IL asks "first or
second digit of the pair" (even/odd).

**Accuracy matrix** (Lopez-Paz & Ranzato 2017, sec. 2): ``R[i, j]`` = test accuracy on task
``j`` after training task ``i``; ``b_j`` = accuracy of the randomly initialised network::

    ACC = 1/T Σ_j R[T-1, j]                          average accuracy at the end
    BWT = 1/(T-1) Σ_{j<T-1} (R[T-1, j] − R[j, j])    backward transfer (< 0: forgetting)
    FWT = 1/(T-1) Σ_{j≥1} (R[j-1, j] − b_j)          forward transfer (before training task j)
    F   = 1/(T-1) Σ_{j<T-1} max_{j≤l<T-1} (R[l, j] − R[T-1, j])   forgetting (Chaudhry et al. 2018)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

SCENARIOS = ("task", "domain", "class")
REF_BASE = 1_000_000  # an item reference is task * REF_BASE + index into the split's images


@dataclass
class TaskSequence:
    """The tasks of one protocol (images shared, tasks as index lists and permutations)."""

    protocol: str  # split | permuted
    n_tasks: int
    per_task: int  # classes per task
    images: dict[str, torch.Tensor]  # split -> (N, 784) float in [0, 1]
    labels: dict[str, torch.Tensor]  # split -> (N,) digits
    members: dict[str, list[torch.Tensor]]  # split -> per task, indices into images
    permutations: torch.Tensor | None  # (n_tasks, 784) pixel orders (permuted MNIST)

    def refs(self, split: str, task: int) -> torch.Tensor:
        """The items of ``task`` in ``split`` as references (task * REF_BASE + index)."""
        return task * REF_BASE + self.members[split][task]

    def fetch(self, split: str, refs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs (B, 784), task ids (B,) and within-task labels (B,) of item references."""
        refs = torch.as_tensor(refs, dtype=torch.long)
        tasks, index = refs // REF_BASE, refs % REF_BASE
        x = self.images[split][index]
        if self.permutations is not None:
            x = torch.gather(x, 1, self.permutations[tasks])
        digits = self.labels[split][index]
        within = digits - tasks * self.per_task if self.protocol == "split" else digits
        return x, tasks, within


def split_sequence(splits: dict[str, np.ndarray], n_tasks: int = 5) -> TaskSequence:
    """Split MNIST: task t holds digits 2t and 2t+1 (van de Ven & Tolias 2019)."""
    images, labels = _flat(splits)
    per_task = 10 // n_tasks
    members = {split: [torch.nonzero((labels[split] // per_task) == t).squeeze(1) for t in range(n_tasks)]
               for split in images}
    return TaskSequence("split", n_tasks, per_task, images, labels, members, None)


def permuted_sequence(splits: dict[str, np.ndarray], n_tasks: int = 10, seed: int = 0) -> TaskSequence:
    """Permuted MNIST: every task is all of MNIST under a fixed pixel permutation (task 1: none)."""
    images, labels = _flat(splits)
    generator = torch.Generator().manual_seed(int(seed))
    orders = [torch.arange(784)] + [torch.randperm(784, generator=generator) for _ in range(n_tasks - 1)]
    members = {split: [torch.arange(len(labels[split]))] * n_tasks for split in images}
    return TaskSequence("permuted", n_tasks, 10, images, labels, members, torch.stack(orders))


def _flat(splits: dict[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    images, labels = {}, {}
    for split in ("train", "val", "test"):
        images[split] = torch.from_numpy(splits[f"{split}_images"]).float().div_(255).reshape(-1, 784)
        labels[split] = torch.from_numpy(np.asarray(splits[f"{split}_labels"])).long()
    return images, labels


# ----------------------------------------------------------------------------- scenarios
def n_outputs(seq: TaskSequence, scenario: str) -> int:
    return seq.per_task if scenario == "domain" else seq.n_tasks * seq.per_task


def targets(seq: TaskSequence, scenario: str, tasks: torch.Tensor, within: torch.Tensor) -> torch.Tensor:
    return within if scenario == "domain" else tasks * seq.per_task + within


def train_mask(seq: TaskSequence, scenario: str, tasks: torch.Tensor, current: int) -> torch.Tensor:
    """(B, outputs) bool: the units each item's softmax runs over while training task ``current``."""
    units = torch.arange(n_outputs(seq, scenario))
    if scenario == "task":
        return (units // seq.per_task).unsqueeze(0) == tasks.unsqueeze(1)
    if scenario == "domain":
        return torch.ones(len(tasks), len(units), dtype=torch.bool)
    return (units < (current + 1) * seq.per_task).unsqueeze(0).expand(len(tasks), -1)


def eval_mask(seq: TaskSequence, scenario: str, tasks: torch.Tensor) -> torch.Tensor:
    """(B, outputs) bool: the units a test item is scored on (its head in task-IL, all otherwise)."""
    units = torch.arange(n_outputs(seq, scenario))
    if scenario == "task":
        return (units // seq.per_task).unsqueeze(0) == tasks.unsqueeze(1)
    return torch.ones(len(tasks), len(units), dtype=torch.bool)


def masked(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Logits with the inactive units at −inf (they take no probability and no gradient)."""
    return logits.masked_fill(~mask.to(logits.device), float("-inf"))


# ----------------------------------------------------------------------------- model
class ContinualMLP(nn.Module):
    """van de Ven & Tolias's network: flattened 28x28 inputs in [0, 1], fully connected
    ReLU layers (2 x 400 for split MNIST), a linear output layer of all the scenario's units.
    Input (N, 1, 28, 28) or (N, 784); output logits (N, outputs)."""

    def __init__(self, outputs: int, hidden: list[int] | tuple[int, ...] = (400, 400), in_features: int = 784):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, int(size)), nn.ReLU()]
            width = int(size)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, int(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x.reshape(len(x), -1)))


@torch.no_grad()
def task_accuracy(model: nn.Module, seq: TaskSequence, scenario: str, task: int, split: str = "test",
                  limit: int | None = None) -> float:
    """Accuracy on the first ``limit`` items of ``task`` in ``split``, scored as the scenario says."""
    refs = seq.refs(split, task)[:limit]
    x, tasks, within = seq.fetch(split, refs)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits = masked(model(x.to(device)), eval_mask(seq, scenario, tasks))
    model.train(was_training)
    return float((logits.argmax(1).cpu() == targets(seq, scenario, tasks, within)).float().mean())


# ----------------------------------------------------------------------------- metrics
def transfer_metrics(R: np.ndarray, baseline: np.ndarray) -> dict[str, float]:
    """ACC, BWT, FWT and forgetting of an accuracy matrix ``R`` (T x T) and the random-init
    accuracies ``b`` (T,), as defined in the module docstring."""
    R, baseline = np.asarray(R, dtype=float), np.asarray(baseline, dtype=float)
    T = len(R)
    if T < 2:
        return {"acc": float(R[-1].mean()), "bwt": float("nan"), "fwt": float("nan"), "forgetting": float("nan")}
    last = R[T - 1]
    return {
        "acc": float(last.mean()),
        "bwt": float(np.mean([last[j] - R[j, j] for j in range(T - 1)])),
        "fwt": float(np.mean([R[j - 1, j] - baseline[j] for j in range(1, T)])),
        "forgetting": float(np.mean([R[j: T - 1, j].max() - last[j] for j in range(T - 1)])),
    }


def describe(seq: TaskSequence) -> dict[str, Any]:
    """Sizes of the sequence, for the ingest summary."""
    return {"protocol": seq.protocol, "tasks": seq.n_tasks, "classes_per_task": seq.per_task,
            **{f"{split}_items_per_task": [int(len(m)) for m in members] for split, members in seq.members.items()}}
