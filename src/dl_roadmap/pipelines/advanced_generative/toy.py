"""2-D toy densities for the flows: two moons and a checkerboard, and a RealNVP over points.

A point (x1, x2) is held as a (N, 2, 1, 1) "image", so the image flow's layers apply as they
are: ActNorm per coordinate, and a channel-mask affine coupling that keeps one coordinate and
scales and shifts the other with an MLP of the kept one (alternating which one is kept).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dl_roadmap.pipelines.advanced_generative.flows import ActNorm, AffineCoupling, Flow

DENSITIES = ("two_moons", "checkerboard")


def sample_density(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (n, 2) float32: two moons (scikit-learn's make_moons, noise 0.05, scaled to
    about [-2, 2]) or FFJORD's checkerboard (uniform on 8 of the 16 squares of [-2, 2]^2)."""
    if name == "two_moons":
        from sklearn.datasets import make_moons

        points, _ = make_moons(n, noise=0.05, random_state=int(rng.integers(2**31)))
        return ((points - [0.5, 0.25]) * 1.5).astype(np.float32)
    if name == "checkerboard":
        x1 = rng.uniform(-2, 2, n)
        x2 = rng.uniform(0, 1, n) - rng.integers(0, 2, n) * 2.0 + np.floor(x1) % 2
        return np.stack([x1, x2 + 0.0], 1).astype(np.float32)
    raise ValueError(f"toy density: one of {DENSITIES}, got {name!r}")


class PointNet(nn.Module):
    """s and t of a 2-D coupling: an MLP of the kept coordinate, last layer at zero."""

    def __init__(self, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(kept.flatten(1)).chunk(2, dim=1)
        return raw_s.view(-1, 1, 1, 1), t.view(-1, 1, 1, 1)


def point_flow(hidden: int = 64, couplings: int = 8) -> Flow:
    """RealNVP on points: ``couplings`` x (ActNorm, coupling), alternating the kept coordinate."""
    layers: list[nn.Module] = []
    for i in range(couplings):
        layers += [ActNorm(2), AffineCoupling(2, 1, 1, hidden, "channel", parity=i % 2, net=PointNet(hidden))]
    return Flow(layers, (2, 1, 1))


def as_points(points: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, 2) -> (N, 2, 1, 1) float."""
    return torch.as_tensor(points, dtype=torch.float32).view(-1, 2, 1, 1)


@torch.no_grad()
def grid_log_density(flow: Flow, limit: float, points: int) -> tuple[np.ndarray, float]:
    """log p on a points x points grid over [-limit, limit]^2 (rows = x2), and the probability
    mass the grid holds (about 1 when the density lives inside it)."""
    axis = torch.linspace(-limit, limit, points)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([x1.flatten(), x2.flatten()], 1)
    log_p = flow.log_prob(as_points(grid)).view(points, points)
    cell = (2 * limit / (points - 1)) ** 2
    return log_p.numpy(), float(log_p.exp().sum() * cell)
