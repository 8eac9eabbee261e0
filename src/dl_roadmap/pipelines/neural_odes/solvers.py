"""Fixed-step solvers of dh/dt = f(t, h), written from their update equations.

With N steps of size dt = (t1 - t0) / N from h_0 = h(t0):

Euler (order 1), which is a weight-tied residual network with N blocks of the same f::

    h_{k+1} = h_k + dt f(t_k, h_k)

Classical Runge-Kutta (order 4)::

    k1 = f(t_k, h_k)
    k2 = f(t_k + dt/2, h_k + dt/2 k1)
    k3 = f(t_k + dt/2, h_k + dt/2 k2)
    k4 = f(t_k + dt,   h_k + dt k3)
    h_{k+1} = h_k + dt/6 (k1 + 2 k2 + 2 k3 + k4)

Kutta's 3/8 rule (order 4; what torchdiffeq's ``method="rk4"`` uses)::

    k1 = f(t_k, h_k)
    k2 = f(t_k + dt/3,  h_k + dt/3 k1)
    k3 = f(t_k + 2dt/3, h_k + dt (k2 - k1/3))
    k4 = f(t_k + dt,    h_k + dt (k1 - k2 + k3))
    h_{k+1} = h_k + dt/8 (k1 + 3 k2 + 3 k3 + k4)

The global error after N steps falls like dt^order: halving dt divides Euler's error by 2
and RK4's by 16 (the continuous-depth plot shows both slopes). tests/pipelines/neural_odes
checks all three against torchdiffeq to 1e-6.
"""

from __future__ import annotations

from typing import Callable

import torch

Dynamics = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # f(t, h) -> dh/dt


def euler_step(f: Dynamics, t: torch.Tensor, h: torch.Tensor, dt: float) -> torch.Tensor:
    return h + dt * f(t, h)


def rk4_step(f: Dynamics, t: torch.Tensor, h: torch.Tensor, dt: float) -> torch.Tensor:
    k1 = f(t, h)
    k2 = f(t + dt / 2, h + dt / 2 * k1)
    k3 = f(t + dt / 2, h + dt / 2 * k2)
    k4 = f(t + dt, h + dt * k3)
    return h + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_38_step(f: Dynamics, t: torch.Tensor, h: torch.Tensor, dt: float) -> torch.Tensor:
    k1 = f(t, h)
    k2 = f(t + dt / 3, h + dt / 3 * k1)
    k3 = f(t + 2 * dt / 3, h + dt * (k2 - k1 / 3))
    k4 = f(t + dt, h + dt * (k1 - k2 + k3))
    return h + dt / 8 * (k1 + 3 * (k2 + k3) + k4)


STEPS = {"euler": euler_step, "rk4": rk4_step, "rk4_38": rk4_38_step}
EVALUATIONS_PER_STEP = {"euler": 1, "rk4": 4, "rk4_38": 4}


def solve(f: Dynamics, h0: torch.Tensor, steps: int, method: str = "euler", t0: float = 0.0,
          t1: float = 1.0) -> torch.Tensor:
    """h(t1) from h(t0) = h0 in ``steps`` equal steps of ``method`` (euler | rk4 | rk4_38)."""
    if method not in STEPS:
        raise ValueError(f"method: one of {sorted(STEPS)}, got {method!r}")
    if steps < 1:
        raise ValueError(f"steps: at least 1, got {steps}")
    step, dt, h = STEPS[method], (t1 - t0) / steps, h0
    for k in range(steps):
        # t_k computed from k (not accumulated) so the grid is the one torchdiffeq builds
        h = step(f, torch.tensor(t0 + k * dt, dtype=h0.dtype, device=h0.device), h, dt)
    return h
