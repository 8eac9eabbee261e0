"""Speed of the project's fixed-step solvers (pipelines/neural_odes/solvers.py) against
torchdiffeq's on the same dynamics: the ODE-Net's ConvDynamics (32 channels, 7x7, batch 64),
forward only, one thread, median of 5 runs.

    python benchmarks/neural_odes_solvers.py
"""

from __future__ import annotations

import statistics
import time

import torch

from dl_roadmap.pipelines.neural_odes.models import ConvDynamics
from dl_roadmap.pipelines.neural_odes.solvers import solve


def median_seconds(run, repeats: int = 5) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from torchdiffeq import odeint

    torch.set_num_threads(1)
    torch.manual_seed(0)
    f, h0 = ConvDynamics(32).eval(), torch.randn(64, 32, 7, 7)
    t = torch.tensor([0.0, 1.0])
    print("method  steps  ours_ms  torchdiffeq_ms  max_abs_difference")
    with torch.no_grad():
        for ours, theirs in (("euler", "euler"), ("rk4_38", "rk4")):
            for steps in (4, 16):
                mine = solve(f, h0, steps, ours)
                reference = odeint(f, h0, t, method=theirs, options={"step_size": 1.0 / steps})[1]
                a = median_seconds(lambda: solve(f, h0, steps, ours))
                b = median_seconds(lambda: odeint(f, h0, t, method=theirs, options={"step_size": 1.0 / steps}))
                print(f"{ours:7s} {steps:5d} {1000 * a:8.1f} {1000 * b:15.1f} {(mine - reference).abs().max().item():19.2e}")


if __name__ == "__main__":
    main()
