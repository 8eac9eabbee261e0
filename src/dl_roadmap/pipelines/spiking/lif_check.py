"""Our LIF layer against snntorch's ``Leaky`` on the same input currents: the membrane and
spike traces (equal to 1e-6 is the test's bar), the gradient through the surrogate, and
the time of a forward + backward pass of each (snntorch steps one time step per call;
ours runs the same recursion inside one layer call)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from dl_roadmap.image.snn import LIF


def snntorch_trace(currents: torch.Tensor, beta: float, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """snntorch ``Leaky`` (defaults: reset by subtraction, atan surrogate) over (T, ...) currents:
    (spikes, membrane), each (T, ...)."""
    import snntorch

    neuron = snntorch.Leaky(beta=beta, threshold=threshold)
    mem = neuron.init_leaky()
    spikes, trace = [], []
    for current in currents:
        spk, mem = neuron(current, mem)
        spikes.append(spk)
        trace.append(mem)
    return torch.stack(spikes), torch.stack(trace)


def our_trace(currents: torch.Tensor, beta: float, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Our ``LIF`` layer over the same currents: (spikes, membrane)."""
    layer = LIF(beta, threshold)
    layer.record = True
    spikes = layer(currents)
    return spikes, layer.mem


def example_currents(steps: int, batch: int, neurons: int, seed: int) -> torch.Tensor:
    """Random input currents (T, N, neurons), strong enough for the neurons to fire often."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(steps, batch, neurons, generator=generator) * 0.6


def _seconds(fn, currents: torch.Tensor, repeats: int) -> float:
    times = []
    for _ in range(repeats + 1):
        x = currents.clone().requires_grad_(True)
        start = time.perf_counter()
        spikes, mem = fn(x)
        (spikes.sum() + mem.sum()).backward()
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def compare(params: dict[str, Any]) -> pd.DataFrame:
    """One row: the largest membrane and spike differences, the largest gradient difference,
    and ms per forward + backward of each implementation (median of ``repeats``)."""
    torch.set_num_threads(int(params.get("threads", 1)))
    beta, threshold = float(params["beta"]), float(params["threshold"])
    currents = example_currents(int(params["steps"]), int(params["batch"]), int(params["neurons"]), int(params.get("seed", 0)))
    results = {}
    for name, fn in (("ours", our_trace), ("snntorch", snntorch_trace)):
        x = currents.clone().requires_grad_(True)
        spikes, mem = fn(x, beta, threshold)
        (spikes * torch.linspace(0, 1, spikes.shape[-1])).sum().backward()
        results[name] = (spikes.detach(), mem.detach(), x.grad)
    (s1, m1, g1), (s2, m2, g2) = results["ours"], results["snntorch"]
    timing = {name: _seconds(lambda x, f=fn: f(x, beta, threshold), currents, int(params["repeats"]))
              for name, fn in (("ours", our_trace), ("snntorch", snntorch_trace))}
    return pd.DataFrame([{
        "steps": int(params["steps"]), "batch": int(params["batch"]), "neurons": int(params["neurons"]),
        "max_membrane_diff": float((m1 - m2).abs().max()), "max_spike_diff": float((s1 - s2).abs().max()),
        "max_grad_diff": float((g1 - g2).abs().max()), "spike_rate": float(s1.mean()),
        "ours_ms": 1000 * timing["ours"], "snntorch_ms": 1000 * timing["snntorch"],
        "speed_ratio": timing["snntorch"] / timing["ours"], "threads": int(params.get("threads", 1)),
    }])
