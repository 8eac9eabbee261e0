"""The models of the sequence studies.

- ``SequenceModel``: one recurrent layer (RNN, LSTM or GRU) read at its last step by a
  linear head: y = W h_T + b. ``impl: torch`` uses torch's fused layers (the experiments:
  speed), ``impl: ours`` the cells of cells.py (the same maths, a Python loop over steps).
- The four baselines of the MNIST-1D paper (Greydanus 2020, its ``notebooks/models.py``),
  with their sizes: logistic regression (40 -> 10), an MLP 40 -> 100 -> 100 -> 10 with a
  residual second layer, a CNN of three strided 1-D convolutions (25 channels, kernels
  5, 3, 3, stride 2: 40 -> 19 -> 10 -> 5 steps) and a linear layer, and a bidirectional
  GRU (hidden 6) whose outputs at all 40 steps feed a linear layer. ``recurrent_1d`` builds
  the last one with any cell kind, so RNN and LSTM run under the same recipe.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dl_roadmap.pipelines.architectures_recurrent.cells import CELLS, Recurrent, torch_layer


class SequenceModel(nn.Module):
    """(N, T, D) -> (N, outputs) from the last hidden state h_T (``outputs=1`` is squeezed:
    a regressor)."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, outputs: int, impl: str = "torch"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell: unknown cell {cell!r}; choose from {sorted(CELLS)}")
        if impl not in ("torch", "ours"):
            raise ValueError(f"impl: 'torch' (fused layers) or 'ours' (cells.py), got {impl!r}")
        self.cell, self.outputs = cell, int(outputs)
        self.rnn = torch_layer(cell, input_size, hidden_size) if impl == "torch" else Recurrent(
            cell, input_size, hidden_size)
        self.head = nn.Linear(hidden_size, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.rnn(x)[0][:, -1])
        return out.squeeze(1) if self.outputs == 1 else out


class Logistic1d(nn.Module):
    def __init__(self, length: int = 40, classes: int = 10):
        super().__init__()
        self.linear = nn.Linear(length, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class Mlp1d(nn.Module):
    """h1 = relu(W1 x); h2 = h1 + relu(W2 h1); logits = W3 h2."""

    def __init__(self, length: int = 40, classes: int = 10, hidden: int = 100):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(length, hidden), nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear1(x).relu()
        return self.linear3(h + self.linear2(h).relu())


class Cnn1d(nn.Module):
    """Three strided convolutions with ReLU, flattened into a linear classifier."""

    def __init__(self, length: int = 40, classes: int = 10, channels: int = 25):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv1d(1, channels, 5, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
        )
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, 1, length)).numel()
        self.linear = nn.Linear(flat, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(x.unsqueeze(1)).flatten(1))


class Recurrent1d(nn.Module):
    """A bidirectional recurrent layer over the 40 scalar steps; all outputs -> linear."""

    def __init__(self, cell: str = "gru", length: int = 40, classes: int = 10, hidden: int = 6):
        super().__init__()
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = layer(1, hidden, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(2 * hidden * length, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.rnn(x.unsqueeze(-1))[0].flatten(1))


MNIST1D_MODELS = ("logistic", "mlp", "cnn", "rnn", "lstm", "gru")


def mnist1d_model(name: str, seed: int, length: int = 40) -> nn.Module:
    """One of MNIST1D_MODELS, its weights drawn from ``seed``."""
    torch.manual_seed(int(seed))
    if name == "logistic":
        return Logistic1d(length)
    if name == "mlp":
        return Mlp1d(length)
    if name == "cnn":
        return Cnn1d(length)
    if name in ("rnn", "lstm", "gru"):
        return Recurrent1d(name, length)
    raise ValueError(f"mnist1d.models: unknown model {name!r}; choose from {MNIST1D_MODELS}")


def sequence_model(config: dict[str, Any], cell: str, input_size: int, outputs: int) -> SequenceModel:
    """A SequenceModel of ``cell`` from a study's config (hidden_size, impl), seeded by its fit seed."""
    torch.manual_seed(int(config["fit"].get("seed", 0)))
    return SequenceModel(cell, input_size, int(config["hidden_size"]), outputs, config.get("impl", "torch"))
