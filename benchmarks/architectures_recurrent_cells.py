"""Our RNN/LSTM/GRU cells (written from their gate equations) against torch.nn.RNN/LSTM/GRU.

One forward + backward pass of a one-layer, batch-first layer with copied weights, the
median of ``--repeats`` timed passes, at a fixed number of threads, over a grid of hidden
sizes. Prints one row per (cell, hidden size): our ms, torch's ms and the ratio ours/torch.

    .venv/bin/python benchmarks/architectures_recurrent_cells.py --threads 1 --out race.csv
"""

from __future__ import annotations

import argparse

import pandas as pd

from dl_roadmap.pipelines.architectures_recurrent.race import race


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--input-size", type=int, default=28)
    parser.add_argument("--hidden-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the table as CSV too")
    args = parser.parse_args()
    table = pd.concat([race(["rnn", "lstm", "gru"], args.batch_size, args.steps, args.input_size, hidden,
                            repeats=args.repeats, threads=args.threads) for hidden in args.hidden_sizes])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
