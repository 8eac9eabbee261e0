"""Generated 2-D densities for the continuous normalizing flow.

Two moons: two interleaved half circles (scikit-learn's make_moons), Gaussian noise, scaled
to about [-2, 2]. Rings: four concentric circles of radii 0.5, 1.2, 1.9, 2.6 (FFJORD's
toy density), points uniform in angle, radius noise 0.08.
"""

from __future__ import annotations

import numpy as np

DENSITIES = ("two_moons", "rings")


def sample_density(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (n, 2) float32 of a named 2-D density."""
    if name == "two_moons":
        from sklearn.datasets import make_moons

        points, _ = make_moons(n, noise=0.08, random_state=int(rng.integers(2**31)))
        return ((points - [0.5, 0.25]) * 1.5).astype(np.float32)
    if name == "rings":
        radii = np.array([0.5, 1.2, 1.9, 2.6])
        ring = rng.choice(len(radii), n, p=radii / radii.sum())  # uniform along the total length
        angle = rng.uniform(0, 2 * np.pi, n)
        radius = radii[ring] + rng.normal(0, 0.08, n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(np.float32)
    raise ValueError(f"density: one of {DENSITIES}, got {name!r}")
