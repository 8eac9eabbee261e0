"""A deep belief net (Hinton, Osindero & Teh 2006) as a classifier's pretraining.

Greedy layer-wise training: RBM 1 models the pixels v; its hidden probabilities
p(h1 | v) = sigmoid(c1 + v'W1) are the data of RBM 2, and so on. Each added layer improves a
variational bound on log p(v). Then the stack becomes a feed-forward net with the same
weights, a softmax layer on top, and is fine-tuned by backpropagation on the labels::

    x_{l+1} = sigmoid(x_l W_l + c_l),     logits = x_L A + a

The comparison is the same network from a random start, at a small label budget.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dl_roadmap.pipelines.energy_based.rbm import RBM


class DBNClassifier(nn.Module):
    """Images (N, 1, 28, 28) or (N, 784) in [0, 1] -> class logits (N, classes): sigmoid
    layers of sizes ``layers`` (784 -> ...), then a linear softmax layer."""

    def __init__(self, layers: list[int], classes: int = 10, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        sizes = [784, *[int(n) for n in layers]]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.out(x)

    def load_rbms(self, rbms: list[RBM]) -> DBNClassifier:
        """Layer l's weights and biases from RBM l's W and c (the recognition direction)."""
        if len(rbms) != len(self.hidden):
            raise ValueError(f"dbn: {len(self.hidden)} layers but {len(rbms)} RBMs")
        with torch.no_grad():
            for layer, rbm in zip(self.hidden, rbms):
                layer.weight.copy_(rbm.W.T)
                layer.bias.copy_(rbm.c)
        return self


@torch.no_grad()
def propagate_up(rbm: RBM, data: torch.Tensor) -> torch.Tensor:
    """The next layer's training data: p(h = 1 | v) for every row (kept as probabilities,
    the usual practice for upper layers)."""
    return rbm.p_h(data)


def model_from_config(config: dict[str, Any], base: Any = None) -> DBNClassifier:
    """A DBN classifier from the config's ``model`` block, pretrained from ``base`` (a list
    of RBMs) when ``config["pretrained"]`` and ``base`` is given; seeded by the fit seed."""
    model = DBNClassifier(config["model"]["layers"], seed=int(config["fit"]["seed"]))
    if config.get("pretrained", True) and base is not None:
        model.load_rbms(base)
    return model
