"""Tiny tasks of other kinds than image classification, for the stage contract tests.

- an agent-like objective: a one-weight policy improved by gradient ascent on a reward,
  reporting its return every iteration (no dataset, nothing supervised);
- tabular items whose class depends on two of six features, and a regression on two others;
- sequences (12 steps x 2 features) whose class depends on the last four steps of feature 0;
- a ring graph whose node outputs read feature 0 of each node and its two neighbours;
- a policy over 4-d observations.

Each model is trained in well under a second with a plain loop, so the tests stay fast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.stages.task import StageTask

TABULAR_NAMES = [f"x{i}" for i in range(6)]


# --- an objective without a dataset ----------------------------------------------------------


class OneWeight(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.w


def agent_objective(config: dict[str, Any], data: Any, base: Any, trainer: dict[str, Any], report) -> Any:
    """Gradient ascent on reward -(w - 2)^2, the 'return' reported after every iteration."""
    policy = OneWeight()
    optimizer = torch.optim.SGD(policy.parameters(), lr=float(config["lr"]))
    reward = torch.tensor(-4.0)
    for iteration in range(int(config["iterations"])):
        reward = -((policy.w - 2.0) ** 2).sum()
        optimizer.zero_grad()
        (-reward).backward()
        optimizer.step()
        report(float(reward.detach()), iteration)
    return float(reward.detach()), policy


AGENT_TASK = StageTask(objective=agent_objective, metric="return", direction="maximize")
AGENT_CONFIG = {"lr": 0.1, "iterations": 12}


# --- tabular, sequence, graph and observation data and models ---------------------------------


def fit_plain(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 300, lr: float = 0.03,
              loss=F.cross_entropy) -> nn.Module:
    """A plain full-batch Adam loop; returns the model in eval mode."""
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()
    return model.eval()


def tabular_data(n: int = 600) -> dict[str, torch.Tensor]:
    """x ~ N(0, 1)^6; class = [x0 + 2 x1 > 0]; value = 3 x2 - 2 x4."""
    x = torch.randn(n, 6, generator=torch.Generator().manual_seed(0))
    return {"x": x, "y": (x[:, 0] + 2 * x[:, 1] > 0).long(), "value": 3 * x[:, 2] - 2 * x[:, 4]}


def tabular_splits(data: dict[str, torch.Tensor]) -> dict[str, torch.utils.data.TensorDataset]:
    cuts = {"train": slice(0, 400), "val": slice(400, 500), "test": slice(500, None)}
    return {split: torch.utils.data.TensorDataset(data["x"][cut], data["y"][cut]) for split, cut in cuts.items()}


def mlp(inputs: int = 6, hidden: int = 16, outputs: int = 2) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, outputs))


def sequence_data(n: int = 400) -> dict[str, torch.Tensor]:
    """x ~ N(0, 1)^(12 x 2); class = [mean of feature 0 over the last 4 steps > 0]."""
    x = torch.randn(n, 12, 2, generator=torch.Generator().manual_seed(1))
    return {"x": x, "y": (x[:, 8:, 0].mean(dim=1) > 0).long()}


class SequenceNet(nn.Module):
    """A small 1-D convolutional classifier over (N, T, F) sequences."""

    def __init__(self, features: int = 2, steps: int = 12, channels: int = 8):
        super().__init__()
        self.conv = nn.Conv1d(features, channels, kernel_size=3, padding=1)
        self.head = nn.Linear(channels * steps, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x.transpose(1, 2))).flatten(1))


class RingGraphNet(nn.Module):
    """One propagation over a ring of V nodes (self-loops), reading node feature 0 only:
    node i's output depends on feature 0 of nodes i-1, i and i+1."""

    def __init__(self, nodes: int = 12, features: int = 4):
        super().__init__()
        torch.manual_seed(0)
        adjacency = torch.eye(nodes) + torch.roll(torch.eye(nodes), 1, 0) + torch.roll(torch.eye(nodes), -1, 0)
        self.register_buffer("adjacency", adjacency / 3)
        self.lift = nn.Linear(features, 8)
        self.out = nn.Linear(8, 2)
        with torch.no_grad():
            self.lift.weight[:, 1:] = 0.0  # features 1.. are ignored

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.adjacency @ torch.tanh(self.lift(x)))


def graph_features(nodes: int = 12, features: int = 4) -> torch.Tensor:
    return torch.randn(nodes, features, generator=torch.Generator().manual_seed(2))


def observations(n: int = 300) -> torch.Tensor:
    return torch.randn(n, 4, generator=torch.Generator().manual_seed(3))
