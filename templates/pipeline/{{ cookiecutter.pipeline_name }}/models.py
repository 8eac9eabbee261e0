"""The area's model, written from its equations beside the code (replace it with your topic).

A two-layer perceptron on flattened images x (784 pixels):

    h      = ReLU(W1 x + b1)                 hidden features, W1: (hidden, 784)
    logits = W2 dropout(h) + b2              one score per class, W2: (classes, hidden)
    loss   = -log softmax(logits)[y]         cross-entropy with the true class y
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class TwoLayerPerceptron(nn.Module):
    """784 -> hidden -> classes, ReLU between, dropout before the output layer."""

    def __init__(self, inputs: int = 784, hidden: int = 128, classes: int = 10, dropout: float = 0.1):
        super().__init__()
        self.hidden = nn.Linear(inputs, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(x.flatten(1)))
        return self.out(self.dropout(h))


def model_from_config(config: dict[str, Any], base: Any = None) -> TwoLayerPerceptron:
    """A fresh model from the config's ``model`` block, its weights drawn from the fit seed
    (the builder the shared stages call; ``base`` is unused: nothing is pretrained)."""
    del base
    torch.manual_seed(int(config["fit"]["seed"]))
    return TwoLayerPerceptron(**config["model"])
