"""One table of every generator on the shared yardstick (image/yardstick.py), joined from the
``yardstick.csv`` that each generative pipeline's default run writes.

    .venv/bin/python benchmarks/generators_yardstick.py [--data-root data] > yardstick.md

Each pipeline scores its own reference rows (real images, shuffled pixels) at its own sample
count, since FID depends on n; one pair per data set and n is kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

# (pipeline, data set when the CSV has no dataset column)
PIPELINES = [
    ("generative", "mnist"), ("generative_gans", None), ("advanced_generative", "mnist"),
    ("advanced_generative_gans", "fashion_mnist"), ("energy_based", "mnist"), ("energy_based_langevin", "fashion_mnist"),
]


def joined(data_root: Path) -> pd.DataFrame:
    tables = []
    for area, dataset in PIPELINES:
        path = data_root / "08_reporting" / area / "yardstick.csv"
        if not path.is_file():
            print(f"<!-- {path}: missing (run kedro run --pipeline={area}) -->")
            continue
        table = pd.read_csv(path)
        if "dataset" not in table:
            table["dataset"] = dataset
        table.insert(0, "pipeline", area)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    reference = table["model"].str.startswith("reference")
    table.loc[reference, "pipeline"] = "(scale)"
    table = table.drop_duplicates(subset=["pipeline", "dataset", "model", "n"])
    return table.sort_values(["dataset", "pipeline"], kind="stable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", type=Path, default=Path("data"))
    args = parser.parse_args()
    table = joined(args.data_root)
    # Likelihoods are left out: binarized (VAE, RBM) and dequantized (flows) NLLs are not comparable.
    columns = ["dataset", "pipeline", "model", "n", "fid", "precision", "recall", "classes_covered"]
    table = table[[c for c in columns if c in table]]
    print(table.to_markdown(index=False, floatfmt=".4g"))


if __name__ == "__main__":
    main()
