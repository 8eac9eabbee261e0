"""ANN-to-SNN conversion by rate (Diehl et al. 2015, data-based weight normalisation).

Train an ordinary ReLU network without biases, then reuse its weights in a network of
integrate-and-fire neurons (beta = 1) fed Poisson-like spike trains. An IF neuron whose
input current is constant, I, fires at rate min(I / theta, 1) per step: a ReLU clipped at
one spike per step. So the rates reproduce the activations, provided no layer's activation
asks for more than one spike per step. Data-based normalisation rescales every layer so
that its largest activation on training data is exactly 1 (= theta):

    lambda_l = max over training images and units of a_l      (lambda_0 = 1, pixels)
    W_l     <- W_l lambda_{l-1} / lambda_l                      (Diehl's data-based norm)

The ReLU network computes the same classes after the rescaling (positive scale per layer,
no biases), and the spiking one no longer saturates. Rueckauer et al. 2017 replaced the
max by a high percentile (99.9%), robust to a few outliers that would otherwise shrink
every other rate. Simulation, for t = 1 .. T:

    S_0[t] ~ Bernoulli(x)                                     (rate-coded pixels)
    U_l[t] = U_l[t-1] + W_l S_{l-1}[t];  S_l[t] = H(U_l[t] - theta); reset U_l (to 0, or by - theta)
    prediction at T = argmax of the output spike counts up to T (ties: the membrane decides)

The accuracy approaches the ANN's as T grows: a rate read over T steps has a resolution
of 1/T.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class BiasFreeMLP(nn.Module):
    """784 -> hidden ... -> classes, ReLU, no biases (Diehl: zero biases convert cleanly)."""

    def __init__(self, hidden: list[int], classes: int = 10, inputs: int = 784, dropout: float = 0.0):
        super().__init__()
        sizes = [inputs, *hidden, classes]
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.layers[:-1]:
            h = self.dropout(torch.relu(layer(h)))
        return self.layers[-1](h)

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The ReLU outputs of every layer (the output layer's too), evaluation mode."""
        out, h = [], x.flatten(1)
        for layer in self.layers:
            h = torch.relu(layer(h))
            out.append(h)
        return out


def layer_scales(model: BiasFreeMLP, images: torch.Tensor, percentile: float) -> list[float]:
    """lambda_l per layer: the ``percentile`` (100 = the max) of its activations on ``images``."""
    with torch.no_grad():
        acts = model.eval().activations(images)
    return [float(np.percentile(a.numpy().ravel(), percentile)) if percentile < 100 else float(a.max())
            for a in acts]


def normalised_weights(model: BiasFreeMLP, scales: list[float] | None) -> list[torch.Tensor]:
    """W_l lambda_{l-1} / lambda_l for every layer (``scales`` None: the weights unchanged)."""
    weights = [layer.weight.detach().clone() for layer in model.layers]
    if scales is None:
        return weights
    previous = 1.0
    out = []
    for w, scale in zip(weights, scales):
        out.append(w * previous / scale)
        previous = scale
    return out


def simulate(weights: list[torch.Tensor], images: torch.Tensor, steps: int, reset: str = "zero",
             threshold: float = 1.0, seed: int = 0, batch_size: int = 1000) -> np.ndarray:
    """Run the IF network for ``steps`` steps; predictions after every step, (steps, N).

    Returns the prediction at every T = 1 .. steps from one simulation (the counts up to T),
    so one run gives the whole accuracy-against-T curve.
    """
    generator = torch.Generator().manual_seed(seed)
    predictions = np.empty((steps, len(images)), np.int64)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size].flatten(1).clamp(0, 1)
            mems = [torch.zeros(len(x), w.shape[0]) for w in weights]
            counts = torch.zeros(len(x), weights[-1].shape[0])
            for t in range(steps):
                s = torch.bernoulli(x, generator=generator)
                for layer, w in enumerate(weights):
                    mems[layer] += s @ w.T
                    s = (mems[layer] >= threshold).float()
                    mems[layer] = mems[layer] - s * threshold if reset == "subtract" else mems[layer] * (1 - s)
                counts += s
                score = counts + 1e-3 * mems[-1].clamp(max=threshold)   # the membrane breaks ties only
                predictions[t, start:start + len(x)] = score.argmax(1).numpy()
    return predictions
