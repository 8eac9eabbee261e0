"""Our LIF layer against snntorch's Leaky: forward + backward time over a few sizes.

    .venv/bin/python benchmarks/spiking_lif.py [--threads 1]
"""

from __future__ import annotations

import argparse

import pandas as pd

from dl_roadmap.pipelines.spiking.lif_check import compare

SIZES = [(25, 128, 128), (100, 64, 256), (25, 128, 1024), (100, 128, 1024)]  # steps, batch, neurons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = [compare({"steps": s, "batch": b, "neurons": n, "beta": 0.9, "threshold": 1.0,
                     "repeats": args.repeats, "threads": args.threads}) for s, b, n in SIZES]
    table = pd.concat(rows, ignore_index=True)
    print(table[["steps", "batch", "neurons", "max_membrane_diff", "max_spike_diff", "ours_ms", "snntorch_ms",
                 "speed_ratio"]].to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
