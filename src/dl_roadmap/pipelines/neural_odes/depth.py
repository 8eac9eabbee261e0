"""Continuous depth made visible: a weight-tied ResNet is Euler's method on the ODE block.

Take the trained ODE-Net's dynamics f and stack N residual blocks that all share f, each
scaled by 1/N and told its depth t_k = k/N::

    h_{k+1} = h_k + (1/N) f(h_k, k/N)          k = 0 .. N-1

That is Euler's method with step 1/N (solvers.py), so as N grows the N-block network's
output converges to the ODE's solution h(1), with error O(1/N); RK4 (4 evaluations a step)
converges like O(1/N^4) when f is smooth. The ODE-Net's f is not: its ReLUs are kinks, and
between kinks the local error bound of RK4 does not hold, so its observed order is lower
(``convergence_order`` measures it). The reference h(1) is an adaptive dopri5 solve at rtol = atol =
1e-8 in float64. The classifier's test accuracy with the N-block network in place of the
ODE block shows how few blocks the trained dynamics need.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from torch import nn

from dl_roadmap.pipelines.neural_odes.solvers import EVALUATIONS_PER_STEP, solve


@torch.no_grad()
def reference_solution(dynamics: nn.Module, h0: torch.Tensor, tol: float = 1e-8) -> torch.Tensor:
    from torchdiffeq import odeint

    t = torch.tensor([0.0, 1.0], dtype=h0.dtype)
    return odeint(dynamics, h0, t, method="dopri5", rtol=tol, atol=tol)[1]


@torch.no_grad()
def depth_study(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: list[int],
                methods: tuple[str, ...] = ("euler", "rk4")) -> pd.DataFrame:
    """For each method and number of steps N: relative error of h(1) against the reference,
    function evaluations, and test accuracy of the classifier with that solver.

    ``model`` is a trained ODENet (features, ode.dynamics, head)."""
    model = copy.deepcopy(model).eval().double()
    dynamics = model.ode.dynamics
    h0 = model.features(images.double())
    reference = reference_solution(dynamics, h0)
    scale = reference.norm().item()
    rows = []
    for method in methods:
        for n in steps:
            h1 = solve(dynamics, h0, int(n), method)
            accuracy = (model.head(h1).argmax(1) == labels).double().mean().item()
            rows.append({"method": method, "steps": int(n), "evaluations": int(n) * EVALUATIONS_PER_STEP[method],
                         "relative_error": (h1 - reference).norm().item() / scale, "test_acc": accuracy})
    accuracy = (model.head(reference).argmax(1) == labels).double().mean().item()
    rows.append({"method": "dopri5 reference", "steps": np.nan, "evaluations": np.nan,
                 "relative_error": 0.0, "test_acc": accuracy})
    return pd.DataFrame(rows)


def convergence_order(table: pd.DataFrame, method: str) -> float:
    """Slope of log(error) against log(1/N) over the method's points: the observed order."""
    rows = table[(table["method"] == method) & (table["relative_error"] > 1e-13)]
    slope = np.polyfit(np.log(rows["steps"].astype(float)), np.log(rows["relative_error"]), 1)[0]
    return float(-slope)
