"""MLP building blocks: activations, variance-preserving initialisation, fixed input
standardisation, and one deep MLP whose activation, initialisation and dropout kind are
arguments.

``DeepMLP`` is the stack ``Linear -> activation -> dropout`` (``depth`` times, ``width``
units) with a linear head; only three things change with the activation, because each
activation needs its own to keep signals alive through depth:

- the **initialisation**: the weight variance that keeps the activation's variance from
  shrinking or exploding layer after layer (``INIT_FOR`` below, reasons in ``init_linear_``);
- the **dropout kind**: SELU gets AlphaDropout, which keeps the mean and variance that
  self-normalisation relies on, where plain Dropout (zeros, then a 1/(1-p) rescale) would
  shift them;
- nothing else: no batch norm anywhere, so what the activation does to the signal shows.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dl_roadmap.image.data import MNIST_PIXEL_MEAN, MNIST_PIXEL_STD

ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh")
INITS = ("he", "lecun", "xavier")
# The variance-preserving scheme of each activation (see init_linear_ for why).
INIT_FOR = {"relu": "he", "leaky_relu": "he", "elu": "he", "selu": "lecun", "sigmoid": "xavier", "tanh": "xavier"}


def make_activation(name: str, negative_slope: float = 0.01, elu_alpha: float = 1.0) -> nn.Module:
    """The activation module called ``name`` (one of ACTIVATIONS).

    relu(z) = max(0, z); leaky_relu(z) = z if z > 0 else a*z (a = negative_slope);
    elu(z) = z if z > 0 else alpha*(exp(z) - 1) (alpha = elu_alpha: the value it saturates
    to is -alpha); selu(z) = lambda * (z if z > 0 else alpha*(exp(z) - 1))
    with lambda ~ 1.0507, alpha ~ 1.6733; sigmoid(z) = 1 / (1 + exp(-z)); tanh(z).
    Not in-place: the fixed-batch statistics read both the input and the output.
    """
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "elu":
        return nn.ELU(elu_alpha)
    if name == "selu":
        return nn.SELU()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"activation: unknown activation {name!r}; choose from {ACTIVATIONS}")


def init_linear_(
    layer: nn.Linear, scheme: str, activation: str, negative_slope: float = 0.01, generator: torch.Generator | None = None
) -> None:
    """Initialise ``layer``'s weights with ``scheme`` for the ``activation`` that follows; biases 0.

    - **he** (Kaiming, fan-in): Var(W) = 2 / (fan_in * (1 + a^2)). ReLU zeroes the negative
      half of a zero-mean input, so E[relu(z)^2] = Var(z) / 2: the factor 2 puts back what
      each layer drops (a = the leaky slope, 0 for ReLU; ELU's negative part is small near
      0, so it takes ReLU's gain as well).
    - **lecun** (fan-in, linear gain): Var(W) = 1 / fan_in. With standardised inputs this makes
      each pre-activation mean 0, variance 1: exactly SELU's fixed point, which the SELU
      constants then hold through depth. (PyTorch's gain for 'selu' is 3/4, a different
      choice; self-normalising networks use the linear gain, as its documentation says.)
    - **xavier** (Glorot, uniform, gain 1): Var(W) = 2 / (fan_in + fan_out), a compromise
      that keeps the forward and the backward variance for activations that are linear
      with slope ~1 around 0, i.e. tanh. Sigmoid's slope at 0 is only 1/4, so even with it
      sigmoid signals and gradients shrink with depth: the vanishing-gradient baseline.
    """
    if scheme == "he":
        slope = negative_slope if activation == "leaky_relu" else 0.0
        nn.init.kaiming_normal_(layer.weight, a=slope, mode="fan_in", nonlinearity="leaky_relu", generator=generator)
    elif scheme == "lecun":
        nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="linear", generator=generator)
    elif scheme == "xavier":
        nn.init.xavier_uniform_(layer.weight, gain=1.0, generator=generator)
    else:
        raise ValueError(f"init: unknown scheme {scheme!r}; choose from {INITS}")
    nn.init.zeros_(layer.bias)


class Standardize(nn.Module):
    """(x - mean) / std with fixed constants, so the model takes raw [0, 1] pixels and a
    removed pixel (0, black) stays the same thing to the explain stage as to a person."""

    def __init__(self, mean: float = MNIST_PIXEL_MEAN, std: float = MNIST_PIXEL_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class DeepMLP(nn.Module):
    """Images (N, 1, 28, 28) or (N, 784) in [0, 1] -> class logits (N, classes).

    ``depth`` hidden blocks ``Linear(width) -> activation -> dropout``, then a linear head.
    ``negative_slope`` is Leaky ReLU's slope and ``elu_alpha`` ELU's alpha (each ignored
    by the other activations; SELU's constants are fixed by its derivation).
    ``init`` defaults to INIT_FOR[activation]; dropout is AlphaDropout for SELU and Dropout
    otherwise (``dropout`` is the rate of either; 0 = none). Weights come from a generator
    seeded with ``seed``, so two models with the same arguments start identical.
    """

    def __init__(
        self,
        activation: str = "relu",
        depth: int = 8,
        width: int = 256,
        dropout: float = 0.0,
        negative_slope: float = 0.01,
        elu_alpha: float = 1.0,
        init: str | None = None,
        in_features: int = 784,
        classes: int = 10,
        seed: int = 0,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation: unknown activation {activation!r}; choose from {ACTIVATIONS}")
        if int(depth) < 1 or int(width) < 1:
            raise ValueError(f"depth and width must be positive integers, got depth={depth!r}, width={width!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout: a rate in [0, 1), got {dropout!r}")
        self.activation, self.init = activation, init or INIT_FOR[activation]
        generator = torch.Generator().manual_seed(int(seed))
        self.standardize = Standardize()
        blocks, n_in = [], in_features
        for _ in range(int(depth)):
            linear = nn.Linear(n_in, int(width))
            init_linear_(linear, self.init, activation, negative_slope, generator)
            drop = (nn.AlphaDropout if activation == "selu" else nn.Dropout)(float(dropout))
            blocks.append(nn.Sequential(linear, make_activation(activation, negative_slope, elu_alpha), drop))
            n_in = int(width)
        self.hidden = nn.Sequential(*blocks)
        # No activation follows the head: every variant gives it the linear (LeCun) gain,
        # so the logits start on the same scale whatever the hidden activation.
        self.head = nn.Linear(n_in, classes)
        init_linear_(self.head, "lecun", "linear", generator=generator)

    def activation_layers(self) -> list[nn.Module]:
        """The activation module of each hidden block, first to last."""
        return [block[1] for block in self.hidden]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(self.standardize(x).flatten(1)))


def mlp_from_config(config: dict[str, Any], base: Any = None) -> DeepMLP:
    """StageTask builder: a DeepMLP from the config's ``model`` block, seeded with its fit seed."""
    del base  # nothing pretrained: every model starts from its seed
    return DeepMLP(**config["model"], seed=int(config.get("fit", {}).get("seed", 0)))
