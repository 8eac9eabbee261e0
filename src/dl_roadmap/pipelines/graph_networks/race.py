"""Our layers against PyG's GCNConv / GATConv: the time of one training epoch.

Both networks are the same ``NodeClassifier`` with the same weights (``copy_into_pyg``),
the same sparse input and the same dropout; only the graph layers differ. An epoch is a
full-batch forward, the training nodes' cross-entropy, backward and an Adam step; the figure
is the median of ``repeats`` epochs after ``warmup`` untimed ones, with fixed CPU threads,
ours and PyG's alternating so that a busy machine slows both alike. ``speed_ratio`` is
PyG's time over ours (1.0 = as fast, above 1 = ours faster).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F

from dl_roadmap.pipelines.graph_networks.models import copy_into_pyg, model_from_config


def epoch_seconds(models: dict[str, torch.nn.Module], x: torch.Tensor, y: torch.Tensor, train: torch.Tensor,
                  repeats: int, warmup: int) -> dict[str, float]:
    """Median seconds of one training epoch of each model, timed in alternation."""
    optimizers = {k: torch.optim.Adam(m.parameters(), lr=0.01) for k, m in models.items()}
    times: dict[str, list[float]] = {k: [] for k in models}
    for i in range(warmup + repeats):
        for key, model in models.items():
            model.train()
            start = time.perf_counter()
            optimizers[key].zero_grad(set_to_none=True)
            F.cross_entropy(model(x)[train], y[train]).backward()
            optimizers[key].step()
            if i >= warmup:
                times[key].append(time.perf_counter() - start)
    return {k: float(sorted(v)[len(v) // 2]) for k, v in times.items()}


def race(graph: dict[str, Any], configs: dict[str, dict[str, Any]], repeats: int = 20, warmup: int = 3,
         threads: int = 1, seed: int = 0) -> pd.DataFrame:
    """One row per layer kind (``configs``: name -> training config): ours and PyG's ms per epoch."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        x, y = torch.as_tensor(graph["x"]), torch.as_tensor(graph["y"])
        train = torch.as_tensor(graph["train_index"])
        rows = []
        for name, config in configs.items():
            torch.manual_seed(seed)
            ours = model_from_config(config, graph)
            seconds = epoch_seconds({"ours": ours, "pyg": copy_into_pyg(ours)}, x, y, train, repeats, warmup)
            rows.append({"layer": name, "dataset": graph["name"], "threads": threads, "ours_ms": 1e3 * seconds["ours"],
                         "pyg_ms": 1e3 * seconds["pyg"], "speed_ratio": seconds["pyg"] / seconds["ours"]})
        return pd.DataFrame(rows)
    finally:
        torch.set_num_threads(previous)
