"""The MLP every regularization variant trains, and DropConnect as a layer.

One architecture for all variants, ``Linear -> [BatchNorm] -> ReLU -> [Dropout]`` per
hidden block and a linear head; a variant only switches a regularizer on, so any
difference in the results is that regularizer's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.image.blocks import Standardize, init_linear_


class DropConnectLinear(nn.Linear):
    """A Linear layer whose *weights* are dropped, not its outputs (Wan et al. 2013).

    Training: every forward pass draws a fresh mask M ~ Bernoulli(1 - p) over the weight
    matrix and uses W * M / (1 - p), so E[W * M / (1 - p)] = W: the layer is unbiased,
    exactly like inverted dropout, but each output unit sees a different random subset
    of its inputs. Evaluation: the expected weights W themselves (deterministic). Wan et
    al. approximate the inference-time distribution with a Gaussian per unit; the mean
    is the cheap version, the same one inverted dropout uses.

    The bias is never dropped. The gradient reaches only the kept weights (a dropped
    weight is multiplied by 0), scaled by 1 / (1 - p).
    """

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True):
        super().__init__(in_features, out_features, bias=bias)
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"dropconnect: a rate in [0, 1), got {p!r}")
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return F.linear(x, self.weight, self.bias)
        # One mask per forward pass, shared by the batch: the formulation of the paper's
        # efficient implementation (a mask per example costs a weight matrix per example).
        mask = torch.empty_like(self.weight).bernoulli_(1.0 - self.p)
        return F.linear(x, self.weight * mask / (1.0 - self.p), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}"


class RegularizedMLP(nn.Module):
    """Images (N, 1, 28, 28) or (N, 784) in [0, 1] -> class logits (N, classes).

    ``depth`` hidden blocks of ``width`` ReLU units. ``dropout``: rate of Dropout after
    each hidden activation; ``dropconnect``: rate of DropConnect on each hidden layer's
    weights (0 = plain Linear); ``batchnorm``: BatchNorm1d between each hidden Linear and
    its ReLU; ``input_dropout``: rate of Dropout on the pixels themselves (Srivastava et
    al. use 0.2 on MNIST: a cheap kind of data augmentation). He initialisation from a generator seeded with ``seed``, so two models with
    the same arguments start from the same weights.
    """

    def __init__(
        self,
        depth: int = 2,
        width: int = 256,
        dropout: float = 0.0,
        dropconnect: float = 0.0,
        batchnorm: bool = False,
        input_dropout: float = 0.0,
        in_features: int = 784,
        classes: int = 10,
        seed: int = 0,
    ):
        super().__init__()
        if int(depth) < 1 or int(width) < 1:
            raise ValueError(f"model: depth and width must be positive integers, got depth={depth!r}, width={width!r}")
        for key, rate in (("dropout", dropout), ("input_dropout", input_dropout)):
            if not 0.0 <= float(rate) < 1.0:
                raise ValueError(f"model.{key}: a rate in [0, 1), got {rate!r}")
        generator = torch.Generator().manual_seed(int(seed))
        self.standardize = Standardize()
        # Applied to raw pixels, before standardising: a dropped pixel becomes black (0).
        self.input_dropout = nn.Dropout(float(input_dropout)) if input_dropout else nn.Identity()
        blocks, n_in = [], int(in_features)
        for _ in range(int(depth)):
            linear = DropConnectLinear(n_in, int(width), p=float(dropconnect)) if dropconnect else nn.Linear(n_in, int(width))
            init_linear_(linear, "he", "relu", generator=generator)
            layers = [linear]
            if batchnorm:
                layers.append(nn.BatchNorm1d(int(width)))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(float(dropout)))
            blocks.append(nn.Sequential(*layers))
            n_in = int(width)
        self.hidden = nn.Sequential(*blocks)
        self.head = nn.Linear(n_in, int(classes))
        init_linear_(self.head, "lecun", "linear", generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(self.standardize(self.input_dropout(x)).flatten(1)))


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight matrices that L1/L2 penalties and their norms cover: every Linear's
    weight. Biases and BatchNorm's scale/shift are left out, as is usual: they do not
    multiply inputs, so shrinking them does not make the function smoother."""
    return [module.weight for module in model.modules() if isinstance(module, nn.Linear)]
