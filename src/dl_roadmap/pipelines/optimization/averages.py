"""Moving averages: of a series (the training loss) and of the weights (Polyak averaging).

    SMA_t = (x_{t-k+1} + ... + x_t) / k                (the first k-1 steps average what exists)
    EMA:    s_0 = 0,   s_t = β s_{t-1} + (1 − β) x_t
    bias-corrected:    ŝ_t = s_t / (1 − β^t)

s_t weighs x_t, x_{t-1}, ... by (1 − β) β^j, weights that sum to 1 − β^t, not 1: started at
0, the plain EMA is pulled toward 0 for the first ~1/(1 − β) steps. Dividing by the sum of
the weights removes that start-up bias exactly; for a constant series ŝ_t = x from t = 1
(Adam, Kingma & Ba 2015, Sec. 3). The same update applied to the parameters after every
optimizer step gives an average of the recent weights, which is usually a better model
than the last, noisy iterate.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import torch
from torch import nn


def simple_moving_average(values: Iterable[float], window: int) -> np.ndarray:
    """Mean of the last ``window`` values at every step (fewer at the start)."""
    x = np.asarray(list(values), dtype=np.float64)
    if int(window) < 1:
        raise ValueError(f"window: a positive integer, got {window!r}")
    sums = np.cumsum(np.insert(x, 0, 0.0))
    ends = np.arange(1, len(x) + 1)
    starts = np.maximum(ends - int(window), 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def exponential_moving_average(values: Iterable[float], beta: float, bias_correction: bool = True) -> np.ndarray:
    """s_t = β s_{t-1} + (1 − β) x_t from s_0 = 0, divided by 1 − β^t when ``bias_correction``."""
    if not 0.0 <= float(beta) < 1.0:
        raise ValueError(f"beta: in [0, 1), got {beta!r}")
    x = np.asarray(list(values), dtype=np.float64)
    smoothed, state = np.empty_like(x), 0.0
    for t, value in enumerate(x, start=1):
        state = beta * state + (1 - beta) * value
        smoothed[t - 1] = state / (1 - beta**t) if bias_correction else state
    return smoothed


class WeightAverage:
    """A bias-corrected EMA of a module's parameters (and a copy of its buffers).

    ``update(model)`` after each optimizer step does s ← β s + (1 − β) θ; ``averaged()``
    returns ŝ = s / (1 − β^t) as a state dict, so the average never leans toward the
    initial weights or toward 0 (after one update it *is* the current weights).
    """

    def __init__(self, model: nn.Module, beta: float):
        if not 0.0 <= float(beta) < 1.0:
            raise ValueError(f"weight_ema.beta: in [0, 1), got {beta!r}")
        self.beta, self.steps = float(beta), 0
        self.sums = {name: torch.zeros_like(p, dtype=torch.float64) for name, p in model.named_parameters()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.steps += 1
        for name, p in model.named_parameters():
            self.sums[name].mul_(self.beta).add_(p.detach().double(), alpha=1 - self.beta)

    @torch.no_grad()
    def averaged(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """``model``'s state dict with every parameter replaced by its corrected average
        (buffers, e.g. batch-norm statistics, are the model's current ones)."""
        if self.steps == 0:
            raise RuntimeError("weight average: no update yet")
        state = {name: value.clone() for name, value in model.state_dict().items()}
        for name, total in self.sums.items():
            state[name] = (total / (1 - self.beta**self.steps)).to(state[name].dtype)
        return state
