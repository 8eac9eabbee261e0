"""Compound scaling (Tan & Le, 2019, section 3.3) and its one-dimensional rivals at equal cost.

A ConvNet's multiply-adds grow about linearly in depth d and quadratically in width w and
resolution r, FLOPs ∝ d · w² · r². Compound scaling grows all three with one coefficient φ:

    d = d0 · α^φ,   w = w0 · β^φ,   r = r0 · γ^φ,    α · β² · γ² ≈ 2   (B0: α=1.2, β=1.1, γ=1.15)

so the cost grows by about 2^φ. The rivals (the paper's Figure 3/8 idea) spend the same
budget on one dimension: the depth, width or resolution multiplier whose network's
*measured* multiply-adds come closest to the compound network's. Channel counts round to
multiples of 8 and stage repeats round up, so equal cost is equal to within those steps; the
plan states each network's measured MACs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dl_roadmap.image.efficient import build_model, count_macs, parameter_count

INPUT = (1, 28, 28)
DIMENSIONS = ("depth", "width", "resolution")


def macs_of(model: dict[str, Any]) -> int:
    return count_macs(build_model(model), INPUT)


def compound(model: dict[str, Any], phi: float, alpha: float, beta: float, gamma: float) -> dict[str, Any]:
    """The base ``model`` block scaled by α^φ in depth, β^φ in width and γ^φ in resolution."""
    return {**model, "depth": model["depth"] * alpha ** phi, "width": model["width"] * beta ** phi,
            "resolution": int(round(model["resolution"] * gamma ** phi))}


def candidates(model: dict[str, Any], dimension: str, largest: float, steps: int) -> list[dict[str, Any]]:
    """The base scaled along one dimension by multipliers from 1 to ``largest``."""
    if dimension == "resolution":
        sizes = range(model["resolution"], int(np.ceil(model["resolution"] * largest)) + 1)
        return [{**model, "resolution": size} for size in sizes]
    return [{**model, dimension: model[dimension] * m} for m in np.linspace(1.0, largest, steps)]


def closest(options: list[dict[str, Any]], target: int) -> tuple[dict[str, Any], int]:
    """The option whose measured MACs are nearest ``target`` (the smaller one on a tie)."""
    costs = [macs_of(option) for option in options]
    best = min(range(len(options)), key=lambda i: (abs(costs[i] - target), costs[i]))
    return options[best], costs[best]


def scaling_plan(base: dict[str, Any], scaling: dict[str, Any]) -> pd.DataFrame:
    """Five networks: the base, compound-scaled, and depth-, width- and resolution-only at the
    compound network's MACs. One row each: the model block's multipliers and the measured cost."""
    base_macs = macs_of(base)
    scaled = compound(base, scaling["phi"], scaling["alpha"], scaling["beta"], scaling["gamma"])
    target = macs_of(scaled)
    plans = [("base", base, base_macs), ("compound", scaled, target)]
    for dimension in DIMENSIONS:
        options = candidates(base, dimension, scaling["search"]["largest"][dimension], scaling["search"]["steps"])
        model, cost = closest(options, target)
        plans.append((f"{dimension} only", model, cost))
    rows = []
    for name, model, cost in plans:
        rows.append({"network": name, "depth": model["depth"], "width": model["width"],
                     "resolution": model["resolution"], "macs": cost, "params": parameter_count(build_model(model)),
                     "macs_vs_base": cost / base_macs, "macs_vs_compound": cost / target})
    return pd.DataFrame(rows)


def model_of(plan: pd.DataFrame, name: str, base: dict[str, Any]) -> dict[str, Any]:
    """The model block of the plan's row ``name``."""
    row = plan.set_index("network").loc[name]
    return {**base, "depth": float(row["depth"]), "width": float(row["width"]), "resolution": int(row["resolution"])}
