"""ODE-Net and its ResNet counterpart (Chen et al. 2018, "Neural Ordinary Differential
Equations", Section 3 and Table 1), written from their equations.

A residual network updates its features block by block, each block with its own weights::

    h_{k+1} = h_k + f(h_k; theta_k)                k = 0 .. K-1

An ODE block replaces the K blocks by one continuous-depth transformation, the solution at
t = 1 of an initial value problem whose dynamics f has one set of weights and sees time::

    dh/dt = f(h(t), t; theta),   h(0) = features of the image
    h(1)  = h(0) + integral_0^1 f(h(t), t; theta) dt  = ODESolve(f, h(0), 0, 1)

torchdiffeq is the solver: adaptive Dormand-Prince (dopri5, error per step below
atol + rtol |h|) or fixed-step RK4. Gradients either flow back through the solver's
operations (memory grows with the steps) or come from the adjoint method, which solves
a(t) = dL/dh(t) backwards, da/dt = -a^T df/dh, with memory that does not grow with the steps.

f is Chen et al.'s: norm -> ReLU -> 3x3 conv over [h, t] -> norm -> ReLU -> 3x3 conv over
[h, t] -> norm, t entering as one constant extra channel (their ConcatConv2d). Both nets
share the downsampling (28x28 -> 7x7) and the head (norm, ReLU, average pool, linear).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(32, channels), channels)


class ConcatConv(nn.Module):
    """3x3 convolution over the features with time appended as a constant channel."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels + 1, channels, 3, padding=1)

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        time = torch.ones_like(h[:, :1]) * t
        return self.conv(torch.cat([time, h], 1))


class ConvDynamics(nn.Module):
    """f(t, h): the right-hand side of the ODE. ``nfe`` counts its evaluations: the cost
    an adaptive solver chooses, forward and (with the adjoint) backward."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(channels), ConcatConv(channels)
        self.norm2, self.conv2 = _norm(channels), ConcatConv(channels)
        self.norm3 = _norm(channels)
        self.nfe = 0

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        out = self.conv1(t, torch.relu(self.norm1(h)))
        out = self.conv2(t, torch.relu(self.norm2(out)))
        return self.norm3(out)


class ODEBlock(nn.Module):
    """h(0) -> h(1) by torchdiffeq: ``method`` dopri5 (adaptive, ``tol`` = rtol = atol) or a
    fixed-step method with ``steps`` steps; ``adjoint`` picks the gradient."""

    def __init__(self, dynamics: nn.Module, method: str = "dopri5", tol: float = 1e-3, steps: int = 4,
                 adjoint: bool = True):
        super().__init__()
        self.dynamics, self.method, self.tol, self.steps, self.adjoint = dynamics, method, tol, steps, adjoint

    def options(self) -> dict[str, Any]:
        if self.method in ("dopri5", "bosh3", "adaptive_heun", "dopri8"):
            return {"rtol": self.tol, "atol": self.tol}
        return {"options": {"step_size": 1.0 / self.steps}}

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        from torchdiffeq import odeint, odeint_adjoint

        t = torch.tensor([0.0, 1.0], dtype=h.dtype, device=h.device)
        if self.adjoint:
            out = odeint_adjoint(self.dynamics, h, t, method=self.method,
                                 adjoint_params=tuple(self.dynamics.parameters()), **self.options())
        else:
            out = odeint(self.dynamics, h, t, method=self.method, **self.options())
        return out[1]


class ResidualBlock(nn.Module):
    """h + f(h): one block of the ResNet, the same layers as ConvDynamics at a fixed t = 0."""

    def __init__(self, channels: int):
        super().__init__()
        self.f = ConvDynamics(channels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.f(torch.zeros((), dtype=h.dtype, device=h.device), h)


def downsampling(channels: int) -> nn.Sequential:
    """28x28x1 -> 7x7xC: a 3x3 convolution, then two strided 4x4 convolutions."""
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, 1), _norm(channels), nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 4, 2, 1), _norm(channels), nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 4, 2, 1),
    )


def head(channels: int, classes: int) -> nn.Sequential:
    return nn.Sequential(_norm(channels), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(channels, classes))


class ODENet(nn.Module):
    """Images (N, 1, 28, 28) in [0, 1] -> class logits (N, classes), through one ODE block."""

    def __init__(self, channels: int = 32, classes: int = 10, method: str = "dopri5", tol: float = 1e-3,
                 steps: int = 4, adjoint: bool = True):
        super().__init__()
        self.features = downsampling(channels)
        self.ode = ODEBlock(ConvDynamics(channels), method, tol, steps, adjoint)
        self.head = head(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ode(self.features(x)))


class ResNet(nn.Module):
    """The same downsampling and head with ``blocks`` residual blocks (Chen et al.: 6)."""

    def __init__(self, channels: int = 32, classes: int = 10, blocks: int = 6):
        super().__init__()
        self.features = downsampling(channels)
        self.blocks = nn.Sequential(*[ResidualBlock(channels) for _ in range(blocks)])
        self.head = head(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.features(x)))


def model_from_config(config: dict[str, Any], base: Any = None) -> nn.Module:
    """A fresh ODENet or ResNet from the config's ``model`` block (``kind``, ``channels``,
    ``classes``; an ODENet's ``method``, ``tol``, ``steps``, ``adjoint``; a ResNet's
    ``blocks``), its weights drawn from the fit seed (the builder the shared stages call;
    ``base`` is unused)."""
    del base
    torch.manual_seed(int(config["fit"]["seed"]))
    block = config["model"]
    common = {"channels": int(block.get("channels", 32)), "classes": int(block.get("classes", 10))}
    if block["kind"] == "odenet":
        return ODENet(**common, method=block.get("method", "dopri5"), tol=float(block.get("tol", 1e-3)),
                      steps=int(block.get("steps", 4)), adjoint=bool(block.get("adjoint", True)))
    if block["kind"] == "resnet":
        return ResNet(**common, blocks=int(block.get("blocks", 6)))
    raise ValueError(f"model.kind: odenet or resnet, got {block['kind']!r}")
