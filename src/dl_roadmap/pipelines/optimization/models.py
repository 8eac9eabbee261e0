"""The networks of the gradient experiments: a deep plain MLP (with or without batch norm)
for vanishing gradients, and a vanilla RNN on long sequences for exploding ones.

The optimizer comparison itself uses the image library's DeepMLP.
"""

from __future__ import annotations

import torch
from torch import nn

from dl_roadmap.image.blocks import Standardize, init_linear_, make_activation


class PlainDeepNet(nn.Module):
    """Images -> logits through ``depth`` blocks ``Linear -> [BatchNorm] -> activation``.

    No residual connections, no dropout: the only things that change between variants
    are the activation, its initialisation and whether batch norm re-standardises each
    pre-activation (which keeps the signal, and so the gradient, at a usable scale
    whatever the weights do to it). ``linear_layers()`` names the layers whose gradient
    norms the experiment records, input side first.
    """

    def __init__(self, activation: str = "sigmoid", init: str = "xavier", depth: int = 10, width: int = 128,
                 batch_norm: bool = False, in_features: int = 784, classes: int = 10, seed: int = 0):
        super().__init__()
        if int(depth) < 1 or int(width) < 1:
            raise ValueError(f"depth and width must be positive integers, got depth={depth!r}, width={width!r}")
        generator = torch.Generator().manual_seed(int(seed))
        self.standardize = Standardize()
        blocks, n_in = [], in_features
        for _ in range(int(depth)):
            linear = nn.Linear(n_in, int(width))
            init_linear_(linear, init, activation, generator=generator)
            norm = [nn.BatchNorm1d(int(width))] if batch_norm else []
            blocks.append(nn.Sequential(linear, *norm, make_activation(activation)))
            n_in = int(width)
        self.hidden = nn.Sequential(*blocks)
        self.head = nn.Linear(n_in, classes)
        init_linear_(self.head, "lecun", "linear", generator=generator)

    def linear_layers(self) -> list[nn.Linear]:
        """Every Linear layer, the first hidden one to the head."""
        return [block[0] for block in self.hidden] + [self.head]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(self.standardize(x).flatten(1)))


class SequenceRNN(nn.Module):
    """(N, T, features) -> class logits from the last hidden state of a vanilla RNN,
    h_t = tanh(W_x x_t + W_h h_{t-1} + b).

    The gradient reaching step 1 from step T is a product of T-1 Jacobians
    diag(tanh') W_h: it explodes when W_h's largest singular value is well above 1 (and
    the units are not saturated), vanishes when it is below 1 (Pascanu et al. 2013).
    ``recurrent_gain`` scales an orthogonal W_h, so every singular value equals it.
    """

    def __init__(self, features: int, hidden: int = 64, classes: int = 4, recurrent_gain: float = 1.0,
                 nonlinearity: str = "tanh", seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(int(seed))
        self.rnn = nn.RNN(features, int(hidden), nonlinearity=nonlinearity, batch_first=True)
        self.head = nn.Linear(int(hidden), classes)
        bound = float(hidden) ** -0.5  # nn.RNN's own uniform range, drawn from our generator
        with torch.no_grad():
            for weight in (self.rnn.weight_ih_l0, self.head.weight):
                nn.init.uniform_(weight, -bound, bound, generator=generator)
            for bias in (self.rnn.bias_ih_l0, self.rnn.bias_hh_l0, self.head.bias):
                nn.init.zeros_(bias)
            nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=float(recurrent_gain), generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(x)
        return self.head(states[:, -1])
