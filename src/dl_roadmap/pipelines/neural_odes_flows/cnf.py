"""A continuous normalizing flow (Chen et al. 2018, Section 4; FFJORD, Grathwohl et al. 2019).

A point x of the data at t = 0 flows to a point of the base distribution N(0, I) at t = 1::

    dz/dt = f(z(t), t; theta),   z(0) = x

and its log-density changes by the instantaneous change of variables (Chen et al., Thm. 1)::

    d log p(z(t)) / dt = -tr( df/dz (z(t), t) )

so, integrating the pair [z, a] with da/dt = tr(df/dz), a(0) = 0, from 0 to 1::

    log p(x) = log N(z(1); 0, I) + a(1)

The trace costs D backward passes exactly (fine for D = 2, the check used here); FFJORD's
Hutchinson estimator costs one, unbiased for noise e with E[e] = 0, E[e e^T] = I
(Rademacher here), the same e held through one solve::

    tr(J) = E_e[ e^T J e ],   e^T J computed as one vector-Jacobian product

Sampling runs the flow backwards: z(1) ~ N(0, I), x = z(0). torchdiffeq solves both.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class CNFDynamics(nn.Module):
    """f(z, t): an MLP over [z, t] with tanh units (smooth, so the trace is well behaved)."""

    def __init__(self, dim: int = 2, hidden: int = 64, layers: int = 3):
        super().__init__()
        sizes = [dim + 1] + [hidden] * (layers - 1)
        self.hidden = nn.ModuleList(nn.Linear(a + (1 if i else 0), hidden) for i, a in enumerate(sizes))
        self.out = nn.Linear(hidden + 1, dim)
        self.nfe = 0

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        time = torch.ones_like(z[:, :1]) * t
        h = z
        for layer in self.hidden:
            h = torch.tanh(layer(torch.cat([h, time], 1)))  # t enters every layer
        return self.out(torch.cat([h, time], 1))


def exact_trace(f: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """tr(df/dz) per row, one backward pass per dimension."""
    trace = torch.zeros(len(z), dtype=z.dtype, device=z.device)
    for i in range(z.shape[1]):
        trace = trace + torch.autograd.grad(f[:, i].sum(), z, create_graph=True)[0][:, i]
    return trace


def hutchinson_trace(f: torch.Tensor, z: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """e^T (df/dz) e per row: one vector-Jacobian product."""
    vjp = torch.autograd.grad(f, z, noise, create_graph=True)[0]
    return (vjp * noise).sum(1)


class Augmented(nn.Module):
    """The pair [z, a]: dz/dt = f, da/dt = tr(df/dz), exact or estimated."""

    def __init__(self, dynamics: CNFDynamics, trace: str, noise: torch.Tensor | None = None):
        super().__init__()
        self.dynamics, self.trace, self.noise = dynamics, trace, noise

    def forward(self, t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        z = state[0]
        with torch.enable_grad():
            z = z if z.requires_grad else z.requires_grad_(True)
            f = self.dynamics(t, z)
            trace = exact_trace(f, z) if self.trace == "exact" else hutchinson_trace(f, z, self.noise)
        return f, trace


def standard_normal_log_density(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * (z**2).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


def log_density(dynamics: CNFDynamics, x: torch.Tensor, trace: str = "exact", method: str = "dopri5",
                tol: float = 1e-5, steps: int = 8) -> torch.Tensor:
    """log p(x) per row by the formula above; ``trace`` exact | hutchinson (new noise per call)."""
    from torchdiffeq import odeint

    if trace not in ("exact", "hutchinson"):
        raise ValueError(f"trace: exact or hutchinson, got {trace!r}")
    noise = torch.randint(0, 2, x.shape, dtype=x.dtype, device=x.device) * 2 - 1 if trace == "hutchinson" else None
    t = torch.tensor([0.0, 1.0], dtype=x.dtype, device=x.device)
    options = {"rtol": tol, "atol": tol} if method == "dopri5" else {"options": {"step_size": 1.0 / steps}}
    z, a = odeint(Augmented(dynamics, trace, noise), (x, torch.zeros(len(x), dtype=x.dtype)), t,
                  method=method, **options)
    return standard_normal_log_density(z[1]) + a[1]


@torch.no_grad()
def sample(dynamics: CNFDynamics, n: int, generator: torch.Generator | None = None, tol: float = 1e-5) -> torch.Tensor:
    """x = z(0) from z(1) ~ N(0, I), the flow run from t = 1 back to t = 0."""
    from torchdiffeq import odeint

    z1 = torch.randn(n, 2, generator=generator)
    return odeint(dynamics, z1, torch.tensor([1.0, 0.0]), rtol=tol, atol=tol)[1]


class DensityModel(nn.Module):
    """The trained flow as a density: points (N, 2) float -> log p(x) (N,), exact trace."""

    def __init__(self, dynamics: CNFDynamics, tol: float = 1e-5):
        super().__init__()
        self.dynamics, self.tol = dynamics, tol

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            return log_density(self.dynamics, x, "exact", tol=self.tol).detach()


def grid_log_density(model: DensityModel, limit: float, points: int, chunk: int = 2500) -> tuple[np.ndarray, float]:
    """log p on a points x points grid over [-limit, limit]^2 and the probability mass the
    grid holds (sum of p times the cell area: close to 1 when the flow's density is right)."""
    axis = torch.linspace(-limit, limit, points)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    grid = torch.stack([xx.flatten(), yy.flatten()], 1)
    values = torch.cat([model(grid[i: i + chunk]) for i in range(0, len(grid), chunk)])
    cell = (2 * limit / (points - 1)) ** 2
    return values.reshape(points, points).numpy(), float(values.exp().sum() * cell)
