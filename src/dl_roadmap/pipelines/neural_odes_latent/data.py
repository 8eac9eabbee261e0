"""Generated data: irregularly sampled spirals for the latent ODE.

Spirals (Chen et al. 2018, Section 5.1; sizes of torchdiffeq's latent_ode example): an
Archimedean spiral r = a + b theta, theta over [0, 6 pi], clockwise or counter-clockwise at
random, sampled on a regular grid of ``grid`` times. Each spiral starts at a random grid
index; of its next ``window`` grid times, ``observed`` are drawn at random (irregular
sampling), with Gaussian noise; the ``extrapolate`` grid times after the window are the
targets of extrapolation (compared with the noiseless spiral).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def spirals(settings: dict[str, Any], n: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """``n`` spirals: ``obs`` (n, observed, 2) noisy observations at ``obs_index`` (n, observed)
    grid indices (relative to the spiral's first window time, increasing), ``truth`` (n,
    window + extrapolate, 2) noiseless values on the grid, and ``times`` (window + extrapolate,)."""
    grid, window, extrapolate = int(settings["grid"]), int(settings["window"]), int(settings["extrapolate"])
    observed = int(settings["observed"])
    if window + extrapolate > grid or observed > window:
        raise ValueError("spirals: need observed <= window and window + extrapolate <= grid")
    theta = np.linspace(0, 6 * np.pi, grid)
    dt = theta[1] - theta[0]
    radius = float(settings["a"]) + float(settings["b"]) * theta
    # counter-clockwise spirals run inwards (time reversed), as in the paper's figure
    ccw = np.stack([radius * np.cos(theta), radius * np.sin(theta)], 1)[::-1]
    cw = np.stack([radius * np.cos(theta), -radius * np.sin(theta)], 1)
    span = window + extrapolate
    starts = rng.integers(0, grid - span + 1, n)
    clockwise = rng.random(n) < 0.5
    truth = np.stack([(cw if c else ccw)[s: s + span] for s, c in zip(starts, clockwise)])
    index = np.sort(np.stack([rng.choice(window, observed, replace=False) for _ in range(n)]), 1)
    obs = np.take_along_axis(truth, index[..., None], 1) + rng.normal(0, float(settings["noise_std"]),
                                                                      (n, observed, 2))
    return {"obs": torch.tensor(obs, dtype=torch.float32), "obs_index": torch.tensor(index),
            "truth": torch.tensor(truth.copy(), dtype=torch.float32),
            "times": torch.arange(span, dtype=torch.float32) * float(dt)}


def make_spirals(settings: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
    """Train and test spirals from one seed."""
    rng = np.random.default_rng(int(settings["seed"]))
    return {"train": spirals(settings, int(settings["train"]), rng),
            "test": spirals(settings, int(settings["test"]), rng)}
