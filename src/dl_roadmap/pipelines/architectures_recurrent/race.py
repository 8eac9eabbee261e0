"""Our cells against torch's fused layers: the time of one forward + backward pass.

Both sides get the same weights (``copy_from_torch``), the same batch and the same loss;
the figure is the median over ``repeats`` timed passes after ``warmup`` untimed ones, with
a fixed number of CPU threads. torch's CPU layers run the whole sequence in one ATen call
with a hand-written backward; ours runs a Python loop over the steps and autograd records
every gate operation (chunk, sigmoid, products) for the backward pass, so ours pays Python
and graph overhead per step and keeps more intermediate tensors.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import torch

from dl_roadmap.pipelines.architectures_recurrent.cells import Recurrent, copy_from_torch, torch_layer


def pass_seconds(model: torch.nn.Module, x: torch.Tensor, repeats: int, warmup: int) -> float:
    """Median seconds of forward + backward of sum(outputs) through ``model``."""
    times = []
    for i in range(warmup + repeats):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        model(x)[0].sum().backward()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return float(sorted(times)[len(times) // 2])


def race(
    kinds: list[str], batch_size: int, steps: int, input_size: int, hidden_size: int,
    repeats: int = 10, warmup: int = 2, threads: int = 1, seed: int = 0,
) -> pd.DataFrame:
    """One row per cell kind: our and torch's forward+backward seconds and their ratio."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        rows: list[dict[str, Any]] = []
        for kind in kinds:
            torch.manual_seed(seed)
            reference = torch_layer(kind, input_size, hidden_size)
            ours = copy_from_torch(Recurrent(kind, input_size, hidden_size), reference)
            x = torch.randn(batch_size, steps, input_size)
            ours_s = pass_seconds(ours, x, repeats, warmup)
            torch_s = pass_seconds(reference, x, repeats, warmup)
            rows.append({"cell": kind, "batch_size": batch_size, "steps": steps, "input_size": input_size,
                         "hidden_size": hidden_size, "threads": threads, "ours_ms": 1e3 * ours_s,
                         "torch_ms": 1e3 * torch_s, "ratio": ours_s / torch_s})
        return pd.DataFrame(rows)
    finally:
        torch.set_num_threads(previous)
