"""The area's own Euler and RK4 (solvers.py) against torchdiffeq, to 1e-6, and their orders."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.pipelines.neural_odes.solvers import solve

TOLERANCE = 1e-6


class TimeDependentMLP(nn.Module):
    """A nonlinear f(t, h) that uses t, so a wrong time grid would show."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).double()

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([h, torch.ones_like(h[:, :1]) * t], 1))


@pytest.mark.parametrize("steps", [1, 3, 10])
@pytest.mark.parametrize("ours, theirs", [("euler", "euler"), ("rk4_38", "rk4")])
def test_own_solver_matches_torchdiffeq(ours: str, theirs: str, steps: int) -> None:
    from torchdiffeq import odeint

    f, h0 = TimeDependentMLP(), torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mine = solve(f, h0, steps, ours, t0=0.0, t1=1.5)
    reference = odeint(f, h0, torch.tensor([0.0, 1.5], dtype=torch.float64), method=theirs,
                       options={"step_size": 1.5 / steps})[1]
    assert (mine - reference).abs().max().item() < TOLERANCE


def test_classical_rk4_step_matches_torchdiffeq_step() -> None:
    # torchdiffeq keeps the classical tableau as a step function (its "rk4" method uses the 3/8 rule)
    from torchdiffeq._impl.rk_common import rk4_step_func

    f, h0 = TimeDependentMLP(), torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    t0, dt = torch.tensor(0.2, dtype=torch.float64), 0.3
    mine = solve(f, h0, 1, "rk4", t0=0.2, t1=0.5)
    def f_with_perturb(t, h, perturb=None):  # the step function passes torchdiffeq's perturb flag
        return f(t, h)

    reference = h0 + rk4_step_func(f_with_perturb, t0, torch.tensor(dt, dtype=torch.float64), t0 + dt, h0)
    assert (mine - reference).abs().max().item() < TOLERANCE


@pytest.mark.parametrize("method, order", [("euler", 1), ("rk4", 4), ("rk4_38", 4)])
def test_error_falls_with_the_order_of_the_method(method: str, order: int) -> None:
    """dh/dt = A h has h(1) = exp(A) h0: halving the step divides the error by 2^order."""
    a = torch.tensor([[0.0, 1.0], [-1.0, -0.1]], dtype=torch.float64)
    h0 = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    exact = h0 @ torch.linalg.matrix_exp(a).T
    errors = [(solve(lambda t, h: h @ a.T, h0, n, method) - exact).norm().item() for n in (8, 16)]
    assert errors[0] / errors[1] == pytest.approx(2**order, rel=0.15)


def test_bad_arguments_fail_naming_them() -> None:
    with pytest.raises(ValueError, match="method"):
        solve(lambda t, h: h, torch.zeros(1, 1), 2, "heun")
    with pytest.raises(ValueError, match="steps"):
        solve(lambda t, h: h, torch.zeros(1, 1), 0)
