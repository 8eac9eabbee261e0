"""Race: our GCN and GAT layers (src/dl_roadmap/pipelines/graph_networks/layers.py) against
PyTorch Geometric's GCNConv and GATConv, one full-batch training epoch on Cora and CiteSeer
(the benchmark's networks, same weights, same input; pipelines/graph_networks/race.py).

    python benchmarks/graph_networks_race.py [--threads 1] [--repeats 30] [--out race.csv]

Prints one row per (data set, layer): ms per epoch of each and ``speed_ratio`` = PyG / ours
(goal >= 0.9: ours no more than ~10% slower). The pipeline's race node runs the same code
on Cora (data/08_reporting/graph_networks/race.csv, race.png).
"""

from __future__ import annotations

import argparse

import pandas as pd
import yaml

from dl_roadmap.pipelines.graph_networks.data import read_embedded, row_normalized
from dl_roadmap.pipelines.graph_networks.race import race


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--params", default="conf/base/parameters_graph_networks.yml")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    with open(args.params) as f:
        models = yaml.safe_load(f)["graph_networks"]["benchmark"]["models"]
    rows = []
    for name in args.datasets:
        graph = read_embedded(name)
        graph["x"] = row_normalized(graph["x"])
        rows.append(race(graph, {k: models[k] for k in ("gcn", "gat")}, repeats=args.repeats, warmup=args.warmup,
                         threads=args.threads))
    table = pd.concat(rows, ignore_index=True)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
