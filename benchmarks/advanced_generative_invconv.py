"""Glow's invertible 1x1 convolution: the LU parametrisation (log|det W| = sum log|s|, O(C))
against a plain weight with torch.linalg.slogdet (O(C^3)), forward + backward of the layer
(batch 64, 14 x 14), and the inverse's error. One thread, median of 20 runs.

    python benchmarks/advanced_generative_invconv.py
"""

from __future__ import annotations

import statistics
import time

import torch

from dl_roadmap.pipelines.advanced_generative.flows import Invertible1x1Conv


def median_ms(run, repeats: int = 20) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    torch.set_num_threads(1)
    print("channels  lu_ms  plain_slogdet_ms  lu_inverse_max_error")
    for channels in (4, 16, 64, 256):
        x = torch.randn(64, channels, 14, 14)
        timings = {}
        for lu in (True, False):
            layer = Invertible1x1Conv(channels, lu=lu, seed=0)

            def step(layer: Invertible1x1Conv = layer) -> None:
                y, logdet = layer(x)
                (y.square().mean() - logdet.mean()).backward()

            timings[lu] = median_ms(step)
        layer = Invertible1x1Conv(channels, lu=True, seed=0)
        with torch.no_grad():
            error = float((layer.inverse(layer(x)[0]) - x).abs().max())
        print(f"{channels:8d}  {timings[True]:5.2f}  {timings[False]:16.2f}  {error:.1e}")


if __name__ == "__main__":
    main()
