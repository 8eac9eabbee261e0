"""The CNF's log-density formula (cnf.py): exact trace against torch's Jacobian, Hutchinson's
estimator unbiased, and log p against a flow whose density is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dl_roadmap.pipelines.neural_odes_flows import nodes
from dl_roadmap.pipelines.neural_odes_flows.cnf import (
    CNFDynamics, DensityModel, exact_trace, grid_log_density, hutchinson_trace, log_density,
    standard_normal_log_density,
)
from dl_roadmap.pipelines.neural_odes_flows.data import sample_density


def test_exact_trace_matches_torch_jacobian() -> None:
    torch.manual_seed(0)
    f, z = CNFDynamics(hidden=8), torch.randn(5, 2, requires_grad=True)
    t = torch.tensor(0.3)
    ours = exact_trace(f(t, z), z)
    for i in range(5):
        jacobian = torch.autograd.functional.jacobian(lambda x: f(t, x[None])[0], z[i].detach())
        assert ours[i].item() == pytest.approx(torch.trace(jacobian).item(), abs=1e-6)


def test_hutchinson_is_unbiased() -> None:
    torch.manual_seed(0)
    f, z = CNFDynamics(hidden=8), torch.randn(1, 2, requires_grad=True)
    value = f(torch.tensor(0.5), z)
    draws = torch.stack([hutchinson_trace(value, z, torch.randint(0, 2, (1, 2)).float() * 2 - 1)
                         for _ in range(4000)])
    exact = exact_trace(value, z)
    assert draws.mean().item() == pytest.approx(exact.item(), abs=4 * draws.std().item() / math.sqrt(4000))


class Linear(nn.Module):
    """f(z) = A z: z(1) = exp(A) x, so log p(x) = log N(exp(A) x) + tr(A) in closed form."""

    def __init__(self, a: torch.Tensor):
        super().__init__()
        self.a = nn.Parameter(a)
        self.nfe = 0

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return z @ self.a.T


@pytest.mark.parametrize("trace", ["exact", "hutchinson"])
def test_log_density_of_a_linear_flow_is_the_closed_form(trace: str) -> None:
    a = torch.tensor([[0.3, -0.5], [0.2, 0.1]])
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    ours = log_density(Linear(a), x, trace, tol=1e-7)
    expected = standard_normal_log_density(x @ torch.linalg.matrix_exp(a).T) + torch.trace(a)
    # with +-1 noise, e^T A e = tr(A) + (a01 + a10) e0 e1: each point is off by +-0.3 here,
    # and the error averages out over the points
    if trace == "exact":
        assert torch.allclose(ours, expected, atol=1e-4)
    else:
        assert (ours - expected).mean().abs().item() < 0.2


def test_a_flow_density_integrates_to_one() -> None:
    torch.manual_seed(0)
    _, mass = grid_log_density(DensityModel(CNFDynamics(hidden=8), tol=1e-4), limit=6.0, points=60)
    assert mass == pytest.approx(1.0, abs=0.02)


def test_densities_are_sampled_and_unknown_names_refused() -> None:
    rng = np.random.default_rng(0)
    for name in ("two_moons", "rings"):
        points = sample_density(name, 100, rng)
        assert points.shape == (100, 2) and np.abs(points).max() < 4
    with pytest.raises(ValueError, match="density"):
        sample_density("swiss_roll", 10, rng)


def test_log_model_refuses_an_untrained_density() -> None:
    with pytest.raises(ValueError, match="mlflow_model"):
        nodes.log_model({"rings": DensityModel(CNFDynamics(hidden=4))}, "two_moons")


def test_gaussian_baseline_is_the_gaussian_nll() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(20000, 2))
    assert nodes.gaussian_nll(points, points) == pytest.approx(math.log(2 * math.pi) + 1, abs=0.02)
